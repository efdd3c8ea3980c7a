"""The `network` ordering: a bitonic sorting network over the packed keys of a run.

Under `vmap` (the runs of a chunk) everything here works on (M, runs) arrays, runs on the
minor axis, a tile of runs at a time: every compare-exchange of the network is then an
elementwise max and min of two contiguous halves, which XLA:CPU vectorizes across the
runs, and so is every step that derives the `Order` from the sorted keys (group starts
and ends along the positions, the inverse permutation). A general `sort` of short rows,
or the same steps batched over (runs, M) arrays, vectorizes neither.

The network is the bitonic network of the power of two P >= M, with log2(P) (log2(P) + 1)
/ 2 stages of P/2 compare-exchanges each, pruned to the M real keys (`network_sort`).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jax import custom_batching, lax

_TILE_BYTES = 1 << 16  # a tile of (P, runs) keys: in the L1/L2 caches (measured best of 2**16..2**20)
_MIN_TILE, _MAX_TILE = 32, 512


def network_order(keys, mask, group_shift: int, tag_bits: int, with_size: bool):
    """(rank, order, start, size or None), each (M,) int32, of packed keys (M,) whose low
    `tag_bits` bits are the model index xor `mask` (() uint32); see `ordering.Order`."""
    return _order_function(group_shift, tag_bits, with_size)(keys, mask)


@functools.lru_cache(maxsize=None)
def _order_function(group_shift: int, tag_bits: int, with_size: bool):
    """`network_order` for one key layout, batched over runs by tiles of (M, runs)."""

    @custom_batching.custom_vmap
    def order(keys, mask):
        return tuple(x[:, 0] for x in _columns_order(keys[:, None], mask[None], group_shift, tag_bits, with_size))

    @order.def_vmap
    def _order_batched(axis_size, in_batched, keys, mask):
        keys = keys if in_batched[0] else jnp.broadcast_to(keys, (axis_size,) + keys.shape)
        mask = mask if in_batched[1] else jnp.broadcast_to(mask, (axis_size,))
        n_runs, n_models = keys.shape
        tile = _tile_runs(n_models, keys.dtype.itemsize)
        n_tiles = -(-n_runs // tile)
        padding = n_tiles * tile - n_runs
        keys = jnp.pad(keys, ((0, padding), (0, 0))).reshape(n_tiles, tile, n_models).transpose(0, 2, 1)
        mask = jnp.pad(mask, (0, padding)).reshape(n_tiles, tile)
        tiles = lax.map(lambda args: _columns_order(*args, group_shift, tag_bits, with_size), (keys, mask))
        result = tuple(x.transpose(0, 2, 1).reshape(n_tiles * tile, n_models)[:n_runs] for x in tiles)
        return result, (True,) * len(result)

    return order


def _tile_runs(n_models: int, key_bytes: int) -> int:
    """Runs per tile: a power of two with (P, runs) keys of about `_TILE_BYTES`."""
    size = 1 << max(0, (n_models - 1).bit_length())
    runs = _TILE_BYTES // (size * key_bytes)
    return min(_MAX_TILE, max(_MIN_TILE, 1 << (runs.bit_length() - 1)))


def _columns_order(keys, mask, group_shift: int, tag_bits: int, with_size: bool):
    """(rank, order, start[, size]), each (M, R) int32, of the packed keys (M, R) of R runs
    with tag masks (R,) (see `network_order`)."""
    n_models, n_runs = keys.shape
    descending = network_sort(keys)
    tag_mask = (1 << tag_bits) - 1
    order = ((descending & tag_mask).astype(jnp.uint32) ^ (mask[None, :] & tag_mask)).astype(jnp.int32)
    group = descending >> group_shift  # per position
    positions = jnp.broadcast_to(jnp.arange(n_models, dtype=jnp.int32)[:, None], keys.shape)
    boundary = group[1:] != group[:-1]
    first = jnp.concatenate([jnp.ones((1, n_runs), bool), boundary])
    group_start = _running(jnp.maximum, jnp.where(first, positions, 0), reverse=False)
    runs = jnp.arange(n_runs, dtype=jnp.int32)[None, :]
    rank = jnp.zeros(n_models * n_runs, jnp.int32).at[(order * n_runs + runs).ravel()].set(
        positions.ravel(), unique_indices=True
    )
    at_rank = (rank.reshape(n_models, n_runs) * n_runs + runs).ravel()  # flat (position, run) of each model
    result = (rank.reshape(n_models, n_runs), order, group_start.ravel()[at_rank].reshape(n_models, n_runs))
    if not with_size:
        return result
    last = jnp.concatenate([boundary, jnp.ones((1, n_runs), bool)])
    group_end = _running(jnp.minimum, jnp.where(last, positions + 1, n_models), reverse=True)
    return result + ((group_end - group_start).ravel()[at_rank].reshape(n_models, n_runs),)


def _running(combine, x: jnp.ndarray, reverse: bool) -> jnp.ndarray:
    """The running `combine` (max or min) of (M, R) `x` along the positions, from the last
    position if `reverse`: log2(M) shifted combines (`lax.cummax` is quadratic in M on
    XLA:CPU)."""
    n_rows = x.shape[0]
    shift = 1
    while shift < n_rows:
        if reverse:
            x = x.at[:-shift].set(combine(x[:-shift], x[shift:]))
        else:
            x = x.at[shift:].set(combine(x[shift:], x[:-shift]))
        shift *= 2
    return x


def network_sort(keys: jnp.ndarray) -> jnp.ndarray:
    """(M, R) unsigned keys, each column sorted in descending order.

    The bitonic network of P = 2**ceil(log2 M) keys, pruned to the M real ones: every
    compare-exchange puts the larger key at the lower position, so zero keys padded at
    positions M .. P - 1 would never move, and each compare-exchange that reaches past
    M - 1 is left out (at M = 65: 865 of the padded network's 1,792).
    """
    size = 1 << max(0, (keys.shape[0] - 1).bit_length())
    x = keys
    block = 2
    while block <= size:
        x = _merge_mirrored(x, block)
        half = block // 4
        while half >= 1:
            x = _half_clean(x, half)
            half //= 2
        block *= 2
    return x


def _merge_mirrored(x: jnp.ndarray, block: int) -> jnp.ndarray:
    """The first stage of merging the sorted halves of each `block`: key i of the block
    against key block-1-i, the larger to the front (each half is then bitonic, and every
    key of the front half is above every key of the back half). The last, partial block
    of L < block keys compares only its keys block - L .. block/2 - 1 with their mirrors."""
    whole = x.shape[0] // block * block
    front, back = _halves(x[:whole], block // 2)
    back = back[:, ::-1]
    parts = [_join(jnp.maximum(front, back), jnp.minimum(front, back)[:, ::-1], (whole,) + x.shape[1:])]
    tail = x[whole:]
    compared = tail.shape[0] - block // 2
    if compared > 0:
        front, back = tail[block - tail.shape[0] : block // 2], tail[block // 2 :][::-1]
        parts += [tail[: block - tail.shape[0]], jnp.maximum(front, back), jnp.minimum(front, back)[::-1]]
    else:
        parts.append(tail)
    return jnp.concatenate(parts)


def _half_clean(x: jnp.ndarray, half: int) -> jnp.ndarray:
    """Key i against key i + half inside each block of 2 half, the larger to the front;
    in the last, partial block only the keys whose partner is there."""
    whole = x.shape[0] // (2 * half) * 2 * half
    front, back = _halves(x[:whole], half)
    parts = [_join(jnp.maximum(front, back), jnp.minimum(front, back), (whole,) + x.shape[1:])]
    tail = x[whole:]
    compared = tail.shape[0] - half
    if compared > 0:
        front, back = tail[:compared], tail[half:]
        parts += [jnp.maximum(front, back), tail[compared:half], jnp.minimum(front, back)]
    else:
        parts.append(tail)
    return jnp.concatenate(parts)


def _halves(x: jnp.ndarray, half: int):
    """(front, back), each (blocks, half, R): the two halves of each block of 2 half."""
    blocks = x.reshape((x.shape[0] // (2 * half), 2, half) + x.shape[1:])
    return blocks[:, 0], blocks[:, 1]


def _join(front: jnp.ndarray, back: jnp.ndarray, shape) -> jnp.ndarray:
    """The halves put back in place, as `shape` (rows, R). (A select over reversed views
    instead of the stacking measured ~10x slower on XLA:CPU.)"""
    return jnp.stack([front, back], axis=1).reshape(shape)
