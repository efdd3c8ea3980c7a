"""Ordering the models of one run: active first, by level (score) descending, then by a
per-model random key.

Each model's (active, level, key, tag) is packed into one unsigned integer, so the order
is a single integer comparison. Two interchangeable methods use the packed keys:
- `pairs`: all-pairs comparisons, O(M^2) per run but branch-free; on XLA:CPU this is much
  faster than sorting short rows (a sort of (100000, 32) keys takes ~40 ms, a count ~2 ms);
- `sort`: one sort of the packed keys, O(M log M), for large M;
- `network`: a bitonic sorting network over the packed keys (`network`), O(M log^2 M)
  compare-exchanges vectorized across the runs of a chunk.
For the same layout all give identical orders.

Key layouts (`KeyLayout`): a 64-bit word holds the whole 32-bit random key and so orders
exactly like the random keys themselves (which are distinct inside a run and round). A
32-bit word is half the work for `pairs`; it keeps the top `rand_bits` of the random key
and breaks the rare ties by `tag = model ^ mask`, `mask` a random word of the run and
round: whichever bit first tells two tagged models apart is flipped by the mask with
probability 1/2, so a single tie is a fair coin and the order stays uniform. Only two
ties in one run and round can share a mask bit; `choose_layout` takes 32 bits only where
that has probability below 1e-6.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from csd._src.gather import take
from csd._src.network import network_order

RANKINGS = ("pairs", "sort", "network")
PAIRS_MAX_MODELS = 192  # the most models `avoid_rematch` keeps met-bits for
# `auto`: `pairs` up to 32 models (32-bit keys), `network` up to 128 (P = 128 network
# slots), `sort` above (at P = 256 and more the network at best ties it); measured on
# XLA:CPU inside the engine by benchmarks/ordering.py.
NETWORK_MODELS = (33, 128)
_SLOT_SIZES = (8, 16)  # small tables: the fewest slots that still vectorize well
_BLOCK = 32  # XLA:CPU fuses a compare-and-sum only up to 32 terms: sum in blocks
_DOUBLE_TIE_BOUND = 1e-6


class KeyLayout(NamedTuple):
    """How (active, level, random key, tag) are packed into one word (static).

    Attributes:
      wide: uint64 words (exact order of the random keys) instead of uint32.
      level_bits: bits of the level field (levels 0 .. 2**level_bits - 1).
      rand_bits: top bits of the 32-bit random key that are kept.
      tag_bits: bits of the model tag (model index xor a random mask).
      method: a name from `RANKINGS`.
    """

    wide: bool
    level_bits: int
    rand_bits: int
    tag_bits: int
    method: str


class Order(NamedTuple):
    """Where each model stands; all fields (M,):

    rank: int32 position of the model (0 = first; active models hold 0 .. n_active - 1).
    order: int32 model at each position (the inverse permutation of `rank`).
    start: int32 position of the first member of the model's group (same activity and
      level); only meaningful for active models.
    size: int32 members of the model's group, or None unless asked for (`with_size`).
    group: uint32 code of the model's group (equal codes = same group).
    """

    rank: jnp.ndarray
    order: jnp.ndarray
    start: jnp.ndarray
    size: jnp.ndarray | None
    group: jnp.ndarray


def model_slots(n_models: int, method: str) -> int:
    """Model slots the engine plays with: `pairs` rounds up to 8, 16 or a multiple of 32
    (XLA:CPU vectorizes whole blocks of comparisons best; the extra slots never play);
    `sort` needs no padding."""
    if method != "pairs":
        return n_models
    small = [size for size in _SLOT_SIZES if n_models <= size]
    return small[0] if small else -(-n_models // _BLOCK) * _BLOCK


def choose_ranking(n_models: int) -> str:
    """The fastest ranking method for `n_models` on XLA:CPU (see `NETWORK_MODELS`)."""
    low, high = NETWORK_MODELS
    return "pairs" if n_models < low else "network" if n_models <= high else "sort"


def choose_layout(n_models: int, max_level: int, method: str, wide: bool | None = None) -> KeyLayout:
    """The packing for `n_models` and levels up to `max_level`.

    Args:
      wide: force 64-bit (True) or 32-bit (False) words; None picks 32 bits for `pairs`
        where two ties in one run and round have probability below 1e-6.
    """
    tag_bits = max(1, (n_models - 1).bit_length())
    level_bits = max(1, max_level.bit_length())
    narrow_rand_bits = 31 - level_bits - tag_bits
    ties_per_round = n_models * (n_models - 1) / 2 / 2.0 ** max(narrow_rand_bits, 0)
    if wide is None:
        wide = method == "sort" or narrow_rand_bits < 16 or ties_per_round**2 / 2 > _DOUBLE_TIE_BOUND
    if not wide and narrow_rand_bits < 1:
        raise ValueError(f"no room for random bits in 32-bit keys ({n_models} models, levels to {max_level})")
    if 1 + level_bits + 32 + tag_bits > 64:
        raise ValueError(f"levels up to {max_level} with {n_models} models do not fit a 64-bit key")
    if method == "pairs" and 3 * (n_models - 1).bit_length() > 31:
        raise ValueError(f"the pairs ranking counts at most 1023 models, got {n_models}")
    return KeyLayout(wide, level_bits, 32 if wide else narrow_rand_bits, tag_bits, method)


def order_models(layout: KeyLayout, level, rand, mask, with_size: bool = False) -> Order:
    """Orders models by (active, level, random key) descending.

    Args:
      layout: a static `KeyLayout`.
      level: (M,) int32 levels, -1 for an inactive model (levels < 2**layout.level_bits).
      rand: (M,) uint32 distinct random keys.
      mask: () uint32 random tag mask (only its low `tag_bits` bits are used).
      with_size: also count the size of each model's group.
    """
    return order_keys(layout, pack_keys(layout, level, rand, mask), mask, with_size)


def pack_keys(layout: KeyLayout, level, rand, mask):
    """(M,) uint32 or uint64 packed keys (arguments as `order_models`).

    On XLA:CPU, materialize the keys (e.g. carry them through a loop) before `order_keys`:
    otherwise the packing, and the hashing behind `rand`, is fused into the all-pairs
    comparison and recomputed M times.
    """
    with jax.enable_x64(layout.wide):
        word = jnp.uint64 if layout.wide else jnp.uint32
        active = (level >= 0).astype(word)
        tag = (jnp.arange(level.shape[0], dtype=jnp.uint32) ^ mask) & ((1 << layout.tag_bits) - 1)
        return (
            (active << _top_bit(layout))
            | (jnp.maximum(level, 0).astype(word) << _group_shift(layout))
            | ((rand >> (32 - layout.rand_bits)).astype(word) << layout.tag_bits)
            | tag.astype(word)
        )


def order_keys(layout: KeyLayout, keys, mask, with_size: bool = False) -> Order:
    """The `Order` of packed keys (M,) (see `pack_keys`); mask as given to `pack_keys`."""
    with jax.enable_x64(layout.wide):
        if layout.method == "pairs":
            return _pairs_order(keys, _group_shift(layout), with_size)
        if layout.method == "network":
            rank, order, start, *size = network_order(keys, mask, _group_shift(layout), layout.tag_bits, with_size)
            group = (keys >> _group_shift(layout)).astype(jnp.uint32)
            return Order(rank, order, start, size[0] if with_size else None, group)
        return _sort_order(keys, layout, mask, with_size)


def _top_bit(layout: KeyLayout) -> int:
    return layout.level_bits + layout.rand_bits + layout.tag_bits


def _group_shift(layout: KeyLayout) -> int:
    return layout.rand_bits + layout.tag_bits


def _pairs_order(keys, shift: int, with_size: bool) -> Order:
    n_models = keys.shape[0]
    group = keys >> shift
    rank, start, *below = _group_counts(keys, group, shift, with_size)
    order = _sum_blocks(  # order[p] = the model i with rank[i] == p
        lambda part, small: jnp.where(
            rank[part][None, :].astype(small) == jnp.arange(n_models, dtype=small)[:, None],
            jnp.arange(n_models, dtype=small)[part][None, :],
            0,
        ).sum(axis=1, dtype=small),
        n_models,
        1,
    )
    size = n_models - start - below[0] if with_size else None
    return Order(rank, order, start, size, group.astype(jnp.uint32))


def _sort_order(keys, layout: KeyLayout, mask, with_size: bool) -> Order:
    n_models = keys.shape[0]
    descending = ~jnp.sort(~keys)
    tag = (descending & ((1 << layout.tag_bits) - 1)).astype(jnp.uint32)
    order = (tag ^ (mask & ((1 << layout.tag_bits) - 1))).astype(jnp.int32)
    group = descending >> _group_shift(layout)  # per position
    positions = jnp.arange(n_models, dtype=jnp.int32)
    boundary = group[1:] != group[:-1]
    first = jnp.concatenate([jnp.ones(1, bool), boundary])
    group_start = lax.cummax(jnp.where(first, positions, 0))
    rank = jnp.zeros(n_models, jnp.int32).at[order].set(positions, unique_indices=True)
    size = None
    if with_size:
        last = jnp.concatenate([boundary, jnp.ones(1, bool)])
        group_end = lax.cummin(jnp.where(last, positions + 1, n_models), reverse=True)
        size = take(group_end - group_start, rank)
    return Order(rank, order, take(group_start, rank), size, (keys >> _group_shift(layout)).astype(jnp.uint32))


def _group_counts(keys, group, shift: int, with_size: bool) -> list[jnp.ndarray]:
    """[rank, start] (and `below` with_size), each (M,) int32, from one all-pairs pass:

    rank[i]: keys above keys[i]; start[i]: keys in groups above i's group; below[i]: keys
    in groups below it. Each count leaves i out, so it is at most M - 1. A pair adds one
    packed increment chosen by nested selects (a key above i's group counts in rank and
    start), summed in int16 where the bit fields fit: on XLA:CPU this is three times faster
    than adding one converted comparison per count.
    """
    n_models = keys.shape[0]
    width = (n_models - 1).bit_length()
    above_group = ((group + 1) << shift) - 1  # wraps to the maximum for the top group
    floor = group << shift
    n_fields = 3 if with_size else 2

    def term(part, small):
        other = keys[part][None, :]
        increment = jnp.where(
            other > above_group[:, None],
            small(1 + (1 << width)),
            jnp.where(other > keys[:, None], small(1), small(0)),
        )
        if with_size:
            increment = jnp.where(other < floor[:, None], small(1 << (2 * width)), increment)
        return increment.sum(axis=1, dtype=small)

    packed = _sum_blocks(term, n_models, n_fields)
    field = (1 << width) - 1
    return [(packed >> (f * width)) & field for f in range(n_fields)]


def _sum_blocks(term, n_models: int, n_fields: int) -> jnp.ndarray:
    """(M,) int32 sum of `term(part, dtype)` over slices `part` of at most 32 models.

    `dtype` is int16 when `n_fields` fields of width bit_length(M - 1) fit in 15 bits, else
    int32.
    """
    small = jnp.int16 if n_fields * (n_models - 1).bit_length() <= 15 else jnp.int32
    total = sum(term(slice(s, s + _BLOCK), small) for s in range(0, n_models, _BLOCK))
    return total.astype(jnp.int32)
