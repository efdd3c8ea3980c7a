"""Ordering the models of one run: by score (descending), then by a per-model key.

Two interchangeable methods give identical results for the same inputs:
- `pairs`: all-pairs comparisons, O(M^2) per run but branch-free and fast for small M
  (XLA:CPU sorts short rows slowly, about 50x slower than this at M ~ 30);
- `sort`: one sort of packed 64-bit keys, O(M log M), for large M.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

RANKINGS = ("pairs", "sort")
PAIRS_MAX_MODELS = 192  # measured crossover on XLA:CPU (see benchmarks/)


class Order(NamedTuple):
    """Where each model stands when ordered by (level descending, key descending).

    All fields are (M,) int32:
      rank: position of the model (0 = first).
      order: the model at each position (the inverse permutation of `rank`).
      start: position of the first member of the model's group (equal level).
      size: number of members of the model's group.
    """

    rank: jnp.ndarray
    order: jnp.ndarray
    start: jnp.ndarray
    size: jnp.ndarray


def choose_ranking(n_models: int) -> str:
    """The faster ranking method for `n_models` on this backend."""
    return "pairs" if n_models <= PAIRS_MAX_MODELS else "sort"


def order_models(level: jnp.ndarray, key: jnp.ndarray, method: str) -> Order:
    """Orders models by level (descending), ties broken by key (descending).

    Args:
      level: (M,) int32, e.g. the score of active models and -1 for eliminated ones.
      key: (M,) uint32, distinct values.
      method: `pairs` or `sort`.
    """
    return _pairs_order(level, key) if method == "pairs" else _sort_order(level, key)


def _pairs_order(level: jnp.ndarray, key: jnp.ndarray) -> Order:
    higher = level[None, :] > level[:, None]  # (M, M): [i, j] = j is above i
    same = level[None, :] == level[:, None]
    ahead = higher | (same & (key[None, :] > key[:, None]))
    rank = ahead.sum(axis=1, dtype=jnp.int32)
    start = higher.sum(axis=1, dtype=jnp.int32)
    size = same.sum(axis=1, dtype=jnp.int32)
    return Order(rank, _inverse(rank), start, size)


def _sort_order(level: jnp.ndarray, key: jnp.ndarray) -> Order:
    n_models = level.shape[0]
    index_bits = max(1, (n_models - 1).bit_length())
    with jax.enable_x64(True):
        packed = (
            ((level + 1).astype(jnp.uint64) << (32 + index_bits))
            | (key.astype(jnp.uint64) << index_bits)
            | jnp.arange(n_models, dtype=jnp.uint64)
        )
        descending = ~jnp.sort(~packed)
        order = (descending & ((1 << index_bits) - 1)).astype(jnp.int32)
    sorted_level = level[order]
    positions = jnp.arange(n_models, dtype=jnp.int32)
    boundary = sorted_level[1:] != sorted_level[:-1]  # (M - 1,)
    first = jnp.concatenate([jnp.ones(1, bool), boundary])
    last = jnp.concatenate([boundary, jnp.ones(1, bool)])
    group_start = lax.cummax(jnp.where(first, positions, 0))
    group_end = lax.cummin(jnp.where(last, positions + 1, n_models), reverse=True)
    rank = _inverse(order)
    return Order(rank, order, group_start[rank], (group_end - group_start)[rank])


def _inverse(permutation: jnp.ndarray) -> jnp.ndarray:
    """(M,) int32 inverse of a permutation of 0..M-1."""
    n = permutation.shape[0]
    return jnp.zeros(n, jnp.int32).at[permutation].set(jnp.arange(n, dtype=jnp.int32))
