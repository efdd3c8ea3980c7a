"""Pairing rules: who plays whom in one round of one run.

Every rule has the same signature, `rule(order, n_active) -> opponent`:
  order: an `Order` of the models, active ones first, by score (descending) and, inside a
    score group, by the rule's key: random keys (`random`, `float`) or seeds (`fold`,
    `slide`, `adjacent`);
  n_active: () int32, the number of active models (they hold positions 0..n_active-1);
  opponent: (M,) int32, each model's opponent, or -1 for a bye or an eliminated model.
docs/rules.md states the rules; the random ones get their randomness from the key order.
"""

from __future__ import annotations

import jax.numpy as jnp

from csd._src.gather import take
from csd._src.ordering import Order

PAIRINGS = ("random", "float", "fold", "slide", "adjacent")
SEEDED_PAIRINGS = ("fold", "slide", "adjacent")


def pair_random(order: Order, n_active: jnp.ndarray) -> jnp.ndarray:
    """The paper's rule: consecutive members of each score group play; an odd group's last
    member (a uniformly random one, as the key order is random) gets a bye."""
    group_end = jnp.minimum(order.start + order.size, n_active)
    leads = ((order.rank - order.start) & 1) == 0
    partner = jnp.where(leads, order.rank + 1, order.rank - 1)
    plays = jnp.where(leads, partner < group_end, True) & (order.rank < n_active)
    return _opponent_at(order, partner, plays)


def pair_float(order: Order, n_active: jnp.ndarray) -> jnp.ndarray:
    """Positions (0, 1), (2, 3), ... play: an odd group's leftover floats down to a random
    member of the next group; only the last position can get a bye."""
    partner = order.rank ^ 1
    plays = (partner < n_active) & (order.rank < n_active)
    return _opponent_at(order, partner, plays)


def _seeded(pattern):
    """A seeded rule: cut the seed-ordered list into segments and pair by `pattern`."""

    def rule(order: Order, n_active: jnp.ndarray) -> jnp.ndarray:
        start, end = _segment(order, n_active)
        size = end - start
        within = order.rank - start
        bye = ((size & 1) == 1) & (within == size - 1)
        partner = start + pattern(within, size & ~1)
        plays = ~bye & (order.rank < n_active)
        return _opponent_at(order, partner, plays)

    rule.__doc__ = pattern.__doc__
    return rule


def _fold(within, size):
    """`fold`: inside a segment of even size g, member q plays g-1-q."""
    return size - 1 - within


def _slide(within, size):
    """`slide`: inside a segment of even size g, member q < g/2 plays q + g/2."""
    half = size // 2
    return jnp.where(within < half, within + half, within - half)


def _adjacent(within, size):
    """`adjacent`: inside a segment, members 0-1, 2-3, ... play."""
    del size
    return within ^ 1


pair_fold = _seeded(_fold)
pair_slide = _seeded(_slide)
pair_adjacent = _seeded(_adjacent)

PAIRING_RULES = {
    "random": pair_random,
    "float": pair_float,
    "fold": pair_fold,
    "slide": pair_slide,
    "adjacent": pair_adjacent,
}


def _segment(order: Order, n_active: jnp.ndarray):
    """(start, end) positions, each (M,) int32, of the segment each model is paired in.

    A group's segment runs from its start rounded down to even (taking in the floater from
    the group above) to its end rounded down to even (sending its own last member down);
    the lowest group's segment runs to n_active.
    """
    group_end = jnp.minimum(order.start + order.size, n_active)
    floats_down = (order.rank == group_end - 1) & ((group_end & 1) == 1) & (group_end < n_active)
    below = take(order.order, jnp.minimum(group_end, order.rank.shape[0] - 1))
    below_end = jnp.minimum(take(order.start, below) + take(order.size, below), n_active)
    start = jnp.where(floats_down, group_end - 1, order.start & ~1)
    end = _segment_end(jnp.where(floats_down, below_end, group_end), n_active)
    return start, end


def _segment_end(group_end, n_active):
    return jnp.where(group_end == n_active, n_active, group_end & ~1)


def _opponent_at(order: Order, position: jnp.ndarray, plays: jnp.ndarray) -> jnp.ndarray:
    n_models = order.rank.shape[0]
    opponent = take(order.order, jnp.clip(position, 0, n_models - 1))
    return jnp.where(plays, opponent, -1)
