"""Pairing rules: who plays whom in one round of one run.

`RULES` is the registry: one `PairingRule` per rule, holding its `pair` function and the
traits the engine, `rematch` and the option checks read (seeded or not, floats or not, the
partner pattern and the order rematch avoidance tries partners in). To add or change a
rule, change it here. Every `pair` has the same signature, `pair(order, n_active) -> opponent`:
  order: an `Order` of the models, active ones first, by score (descending) and, inside a
    score group, by the rule's key: random keys (`random`, `float`) or seeds (`fold`,
    `slide`, `adjacent`);
  n_active: () int32, the number of active models (they hold positions 0..n_active-1);
  opponent: (M,) int32, each model's opponent, or -1 for a bye or an eliminated model.
docs/rules.md states the rules; the random ones get their randomness from the key order.

The bye options act on the `Order` before a rule reads it (`move_byes_last`,
`seeded_bye_key`), and `avoid_rematch` pairs inside the segments `segments` names (see
`rematch`); with the options off none of this is traced.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax.numpy as jnp

from csd._src.gather import take
from csd._src.ordering import Order

BYES = ("random", "lowest")  # who of an odd group gets the bye: uniformly random, or the lowest seed


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


class Pattern(NamedTuple):
    """How a rule pairs the members of an even segment of `size`, by place `within` it
    (0 = the first), as functions of traced int32 arrays.

    Attributes:
      partner: (within, size) -> the partner's place.
      leads: (within, size) -> bool, whether the place is its pair's earlier one.
      stride: the distance between consecutive leaders' places.
      candidate: (index, remaining) -> the place, among the `remaining` unpaired members
        of a segment in order, of a leader's `index`-th candidate (1 .. remaining - 1):
        the order `avoid_rematch` tries partners in, which starts with the pattern's own.
    """

    partner: Callable
    leads: Callable
    stride: int
    candidate: Callable


def _slide_partner(within, size):
    half = size // 2
    return jnp.where(within < half, within + half, within - half)


def _slide_candidate(index, remaining):
    half = remaining // 2
    return jnp.where(index >= half, index - half, remaining - 1 - index)


def _upper_half(within, size):
    return within < size // 2


# `fold`: member q of g plays g-1-q; `slide`: q < g/2 plays q + g/2; `adjacent`: 0-1, 2-3, ...
FOLD = Pattern(lambda within, size: size - 1 - within, _upper_half, 1, lambda index, remaining: remaining - 1 - index)
SLIDE = Pattern(_slide_partner, _upper_half, 1, _slide_candidate)
ADJACENT = Pattern(lambda within, size: within ^ 1, lambda within, size: (within & 1) == 0, 2, lambda index, remaining: index)


class PairingRule(NamedTuple):
    """One pairing rule and its traits: the engine, `rematch` and the option checks read
    these, never the rule's name.

    Attributes:
      name: the rule's option value.
      pair: (order, n_active) -> (M,) int32 opponents (the module docstring's signature).
      seeded: members are ordered by seed (static mean score), not by random keys, and the
        bye goes to the lowest seed of the lowest group.
      floats: an odd group's last member plays in the group below, so only the lowest
        group gives a bye, and pairs form inside segments (`segments`), not score groups.
      pattern: how pairs form inside a segment (`random` and `float` pair neighbours in
        their random key order, as `ADJACENT` does).
    """

    name: str
    pair: Callable
    seeded: bool
    floats: bool
    pattern: Pattern

    @property
    def default_bye(self) -> str:
        """Who of an odd group gets the bye by default: `lowest` (seed) or `random`."""
        return "lowest" if self.seeded else "random"

    @property
    def random_in_groups(self) -> bool:
        """Pairs form inside each score group in random key order and every odd group gives
        a bye (the paper's `random`): what the cv estimator is derived for."""
        return not (self.seeded or self.floats)


def _seeded(pattern: Pattern):
    """A seeded rule's `pair`: cut the seed-ordered list into segments, pair by `pattern`."""

    def pair(order: Order, n_active: jnp.ndarray) -> jnp.ndarray:
        start, end = _segment(order, n_active)
        size = end - start
        within = order.rank - start
        bye = ((size & 1) == 1) & (within == size - 1)
        partner = start + pattern.partner(within, size & ~1)
        plays = ~bye & (order.rank < n_active)
        return _opponent_at(order, partner, plays)

    return pair


RULES = {
    rule.name: rule
    for rule in (
        PairingRule("random", pair_random, seeded=False, floats=False, pattern=ADJACENT),
        PairingRule("float", pair_float, seeded=False, floats=True, pattern=ADJACENT),
        PairingRule("fold", _seeded(FOLD), seeded=True, floats=True, pattern=FOLD),
        PairingRule("slide", _seeded(SLIDE), seeded=True, floats=True, pattern=SLIDE),
        PairingRule("adjacent", _seeded(ADJACENT), seeded=True, floats=True, pattern=ADJACENT),
    )
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


def segments(rule: PairingRule, order: Order, n_active: jnp.ndarray):
    """(start, end) positions, each (M,) int32, of the even run of positions each model is
    paired in: its score group, or for a rule that floats the segment of `_segment`.
    A model with a bye (the last member of an odd group or segment) has rank >= end; so do
    eliminated models, whose values are otherwise meaningless."""
    if rule.floats:
        start, end = _segment(order, n_active)
    else:
        start = order.start
        end = jnp.minimum(order.start + order.size, n_active)
    return start, start + ((end - start) & ~1)


def bye_priority(eligible: jnp.ndarray, key: jnp.ndarray) -> jnp.ndarray:
    """(M,) uint32 keys whose lowest member in each group is the one to get a bye: a member
    with no earlier bye (`eligible`) before any other, then the lowest `key` (a seed
    priority for the lowest seed, or a random key for a uniformly random member)."""
    return jnp.where(eligible, jnp.uint32(0), jnp.uint32(1 << 31)) | (key >> 1)


def move_byes_last(order: Order, n_active: jnp.ndarray, chooser: Order, lowest_group_only: bool) -> Order:
    """`order` with the bye of each group that has one swapped into the group's last place.

    Args:
      order: the rule's `Order` (with sizes), active models first.
      chooser: an `Order` of the same active models and levels by `bye_priority`: the last
        member of each of its groups is the one to get that group's bye.
      lowest_group_only: only the lowest group gives a bye (`float`, when n_active is odd);
        otherwise every odd group does (`random`).

    The chosen member and the one in the last place trade places; as the choice does not
    depend on the random key order, the others' order stays uniformly random.
    """
    n_models = order.rank.shape[0]
    models = jnp.arange(n_models, dtype=jnp.int32)
    group_end = jnp.minimum(order.start + order.size, n_active)
    last = jnp.clip(group_end - 1, 0, n_models - 1)
    if lowest_group_only:
        has_bye = (group_end == n_active) & ((n_active & 1) == 1)
    else:
        has_bye = ((group_end - order.start) & 1) == 1
    has_bye = has_bye & (order.rank < n_active)  # (M,) per model: its group gives a bye
    bye = take(chooser.order, last)  # (M,) per model: the member of its group to get it
    holder = take(order.order, last)  # (M,) per model: who holds its group's last place
    rank = jnp.where(
        has_bye & (models == bye), last, jnp.where(has_bye & (models == holder), take(order.rank, bye), order.rank)
    )
    at = order.order  # (P,) the model at each position
    positions = jnp.arange(n_models, dtype=jnp.int32)
    swap, bye_at, last_at = take(has_bye, at), take(bye, at), take(last, at)
    moved = jnp.where(
        swap & (positions == last_at), bye_at, jnp.where(swap & (at == bye_at), take(order.order, last_at), at)
    )
    return order._replace(rank=rank, order=moved)


def seeded_bye_key(level: jnp.ndarray, seed_key: jnp.ndarray, had_bye: jnp.ndarray, n_active: jnp.ndarray):
    """(M,) seed priorities for a seeded rule with `bye_once`: if n_active is odd, the
    lowest seed of the lowest score group among its members with no earlier bye (any
    member if all had one) gets priority 0, the last place of its group, so it takes the
    bye while the others keep their seed order.

    Args:
      level: (M,) int32 scores, -1 for an eliminated model; seed_key: (M,) uint32 (> 0);
      had_bye: (M,) bool.
    """
    active = level >= 0
    lowest = jnp.min(jnp.where(active, level, jnp.iinfo(jnp.int32).max))
    in_lowest = active & (level == lowest)
    fresh = in_lowest & ~had_bye
    pool = jnp.where(fresh.any(), fresh, in_lowest)
    bye = jnp.argmin(jnp.where(pool, seed_key, jnp.uint32(0xFFFFFFFF)))
    takes_bye = (jnp.arange(level.shape[0]) == bye) & ((n_active & 1) == 1)
    return jnp.where(takes_bye, jnp.uint32(0), seed_key)
