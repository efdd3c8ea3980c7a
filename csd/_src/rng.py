"""Counter-based random numbers: every draw is a hash of (seed, stream, run, round, slot).

`jax.random` (threefry) costs about 25 ns a 32-bit word on XLA:CPU; these integer hashes
cost about 1 ns and need no key splitting. Because each draw is a pure function of its
coordinates, a run's random numbers do not depend on the chunk or device that computes it.

The mixers are bijections on uint32 (Chris Wellons' `lowbias32` and `triple32`, found by
his hash-prospector search), so distinct inputs give distinct outputs: in particular the
model keys of one run and round are distinct, and ordering by them has no ties.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

_GOLDEN = 0x9E3779B9
_STREAM_SALT = 0x85EBCA6B
_PAIR_SALT = 0xC2B2AE35
_ROUND_SALT = 0x27D4EB2F
_BYE_SALT = 0x165667B1
_ORDER_SALT = 0xD3A2646C  # the per-run round order of `Tournament(order="shuffle")`
_TIE_SALT = 0x5BD1E995  # the per-run order of models tied on the final score
UNIFORM_BITS = 24


def _u32(value) -> jnp.ndarray:
    return jnp.asarray(value, dtype=jnp.uint32)


def lowbias32(x: jnp.ndarray) -> jnp.ndarray:
    """A uint32 bijection with good avalanche (two multiplies). Shape is kept."""
    x = x ^ (x >> 16)
    x = x * _u32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * _u32(0x846CA68B)
    return x ^ (x >> 16)


def triple32(x: jnp.ndarray) -> jnp.ndarray:
    """A stronger uint32 bijection (three multiplies). Shape is kept."""
    x = x ^ (x >> 17)
    x = x * _u32(0xED5AD4BB)
    x = x ^ (x >> 11)
    x = x * _u32(0xAC4C1B51)
    x = x ^ (x >> 15)
    x = x * _u32(0x31848BAB)
    return x ^ (x >> 14)


def seed_words(seed: int) -> np.ndarray:
    """(2,) uint32: the low and high words of a seed in [0, 2**64)."""
    return np.array([seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF], dtype=np.uint32)


def run_keys(seed: jnp.ndarray, stream: jnp.ndarray, run_index: jnp.ndarray) -> jnp.ndarray:
    """(C, 2) uint32 keys of runs: column 0 keys the model draws, column 1 the pair draws.

    Args:
      seed: (2,) uint32 from `seed_words`.
      stream: () uint32; separate streams (e.g. bootstrap replicates) are independent.
      run_index: (C,) uint32 global run indices. For a fixed seed and stream each column is a
        bijection of the run index, so no two runs share a key.
    """
    base = triple32(seed[0] ^ triple32(seed[1] ^ _u32(_GOLDEN)))
    base = triple32(base ^ lowbias32(_u32(stream) + _u32(_STREAM_SALT)))
    model_key = triple32(base ^ run_index)
    pair_key = triple32(lowbias32(base + _u32(_PAIR_SALT)) ^ run_index)
    return jnp.stack([model_key, pair_key], axis=-1)


def round_keys(keys: jnp.ndarray, round_index) -> jnp.ndarray:
    """(..., 2) uint32 keys of one round, from run keys (..., 2)."""
    return triple32(keys ^ lowbias32(_u32(round_index) + _u32(_ROUND_SALT)))


def model_keys(round_key: jnp.ndarray, n_models: int) -> jnp.ndarray:
    """(M,) uint32 distinct keys of the models in one run and round (round_key: () uint32)."""
    salts = lowbias32(jnp.arange(n_models, dtype=jnp.uint32) + _u32(_GOLDEN))
    return triple32(round_key ^ salts)


def bye_keys(round_key: jnp.ndarray, n_models: int) -> jnp.ndarray:
    """(M,) uint32 keys of one run and round that choose random byes (round_key: () uint32,
    column 0 of `round_keys`); a separate hash of the round key, so they are independent of
    the model keys that order the groups."""
    return model_keys(lowbias32(round_key + _u32(_BYE_SALT)), n_models)


def tag_mask(round_key: jnp.ndarray) -> jnp.ndarray:
    """() uint32 random mask of one run and round (round_key: () uint32, column 0 of
    `round_keys`); it is the key of a model index that is never used, so it is independent
    of the model keys."""
    return triple32(round_key ^ lowbias32(_u32(0xFFFFFFFF) + _u32(_GOLDEN)))


def pair_uniforms(round_key: jnp.ndarray, low: jnp.ndarray, high: jnp.ndarray) -> jnp.ndarray:
    """Uniforms on [0, 1) (a 2**-24 grid) for the pairs {low, high} of one run and round.

    Args:
      round_key: () uint32, column 1 of `round_keys`.
      low, high: (M,) int32 model indices < 2**16 with low < high (any values where unused).
    Returns:
      (M,) float32; the same pair always gets the same number.
    """
    slot = (low.astype(jnp.uint32) << 16) | high.astype(jnp.uint32)
    bits = triple32(round_key ^ lowbias32(slot))
    return (bits >> (32 - UNIFORM_BITS)).astype(jnp.float32) * jnp.float32(2.0**-UNIFORM_BITS)


def round_order_keys(model_key: jnp.ndarray, n_rounds: int) -> jnp.ndarray:
    """(K,) uint32 distinct keys of the rounds of one run (model_key: () uint32, column 0
    of `run_keys`); sorting by them is a uniformly random round order (`Tournament(order=
    "shuffle")`). A separate hash of the run key, so independent of the round keys."""
    return model_keys(lowbias32(model_key + _u32(_ORDER_SALT)), n_rounds)


def tie_key(model_key: jnp.ndarray) -> jnp.ndarray:
    """() uint32 key of one run's final tie-break (model_key: () uint32, column 0 of
    `run_keys`): `model_keys` and `tag_mask` of it order the models tied on the final
    score. A separate hash of the run key, so independent of the round keys."""
    return lowbias32(model_key + _u32(_TIE_SALT))
