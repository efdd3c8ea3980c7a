"""`take`: values[index] that stays a cheap flat gather under (nested) `vmap`.

Batching a gather whose operand is batched makes JAX build (..., 2) index tuples, which
XLA:CPU materializes in a separate pass that costs more than the gather itself. This
version's batching rule instead offsets the indices into the flattened operand.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import custom_batching


@custom_batching.custom_vmap
def take(values: jnp.ndarray, index: jnp.ndarray) -> jnp.ndarray:
    """values[index] for a 1-D `values` and int32 `index` (in bounds) of any shape."""
    return values.at[index].get(mode="promise_in_bounds")


@take.def_vmap
def _take_batched(axis_size, in_batched, values, index):
    values_batched, index_batched = in_batched
    if not values_batched:
        return take(values, index), index_batched
    if not index_batched:
        index = jnp.broadcast_to(index, (axis_size,) + index.shape)
    offsets = jnp.arange(axis_size, dtype=index.dtype) * values.shape[1]
    flat_index = index + offsets.reshape((-1,) + (1,) * (index.ndim - 1))
    return take(values.reshape((-1,) + values.shape[2:]), flat_index), True
