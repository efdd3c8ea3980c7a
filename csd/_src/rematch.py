"""`avoid_rematch`: pairing every segment without a rematch while that is possible.

The rule's own pairing (docs/rules.md) fixes the byes, the floaters and, inside each
segment (an even run of positions: a score group for `random`, the segment of a float or
seeded rule otherwise), an order of the members. The search then goes through the perfect
matchings of each segment in the rule's order of preference, depth first: the first
unpaired member (the leader) takes the first candidate, in the rule's candidate order, that
it has not met; when a leader has no such candidate left, the previous leader's choice is
undone and that leader moves on to its next candidate. The result is the first
rematch-free matching in that order, which is the rule's own pairing whenever that has no
rematch. If the segment has none (the search backs out of its first leader), or the
search has taken `budget` steps in the segment, the rest of it is paired greedily: each
leader takes its first candidate not met, else its first candidate.

Candidate order of a leader, with r unpaired members left in the segment, numbered
0 (the leader) .. r-1 in segment order: `random`, `float`, `adjacent`: 1, 2, ..., r-1;
`fold`: r-1, r-2, ..., 1; `slide`: r/2, ..., r-1, then r/2-1, ..., 1. Taking the first
candidate every time gives the rule's own pattern.

One run's search (`Search`) works on every segment at once, in position space, with the
decisions kept per position (a leader's partner and key, the key it must beat when it is
moved on), so it needs no stack. It starts from the rule's own pairs up to the first
rematch in leader order (where the first steps would lead anyway), and a pruning test backs
out as soon as some unpaired member has no unmet unpaired partner left in its segment;
neither changes the result, only the steps. Meetings are (M, W) uint32 bit rows,
W = ceil(M / 32).

Most runs need a few steps and a few need hundreds, and a `vmap`ped loop runs every run as
long as the slowest; `pair_runs_avoiding_rematches` therefore takes a first pass over all
runs, then finishes the open ones in small batches. Each run's result is its own, so it
does not depend on the batch.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from csd._src.gather import take
from csd._src.ordering import Order
from csd._src.pairing import PairingRule, segments

_PLACE_BITS = 8  # positions and candidate keys < 256
_START_SHIFT = 2 * _PLACE_BITS + 1  # ranked candidates: (start, met in greedy mode, key, position)
_NONE = jnp.iinfo(jnp.int32).max
_BLOCK = 8
# On LiveBench (65 x 21) a run needs about 8 steps a round, 1 in 1000 more than 100; of the
# schedules tried (also 8 steps, then 16 on an eighth of the runs, then the rest in 64ths),
# this one was the fastest.
FIRST_PASS = 16  # steps of the pass over every run
OPEN_BATCH = 64  # runs per batch that the open ones are finished in (at least)


def n_words(n_models: int) -> int:
    """Words of a meetings row: one bit per model slot."""
    return -(-n_models // 32)


def record_games(met: jnp.ndarray, opponent: jnp.ndarray) -> jnp.ndarray:
    """`met` (M, W) uint32 with this round's games added; opponent: (M,) int32, -1 = none."""
    played = opponent >= 0
    other = jnp.maximum(opponent, 0)
    bit = jnp.left_shift(jnp.uint32(1), (other & 31).astype(jnp.uint32))  # (M,)
    word = jnp.arange(met.shape[1], dtype=jnp.int32)[None, :] == (other >> 5)[:, None]  # (M, W)
    return met | jnp.where(word & played[:, None], bit[:, None], jnp.uint32(0))


class Search(NamedTuple):
    """One run's search, by position (P = M positions of the rule's order).

    Fixed: plays (P,) bool, in a segment; start, end (P,) int32, its segment's bounds;
    model (P,) int32, the model there; rows (P, W) uint32, its meetings.
    Per position: mate (P,) int32, -1 unpaired, p for a leader, the leader's place for its
    partner, P for no game; follower, key: a leader's partner and candidate key; floor:
    the key a leader must beat next; prev: the segment's leader before it (-1: none).
    Per segment (the same at each of its positions): top, its last leader (-1: none);
    free (P, W), the bits of its unpaired members; greedy, steps. count () int32.
    """

    plays: jnp.ndarray
    start: jnp.ndarray
    end: jnp.ndarray
    model: jnp.ndarray
    rows: jnp.ndarray
    mate: jnp.ndarray
    follower: jnp.ndarray
    key: jnp.ndarray
    floor: jnp.ndarray
    prev: jnp.ndarray
    top: jnp.ndarray
    free: jnp.ndarray
    greedy: jnp.ndarray
    steps: jnp.ndarray
    count: jnp.ndarray


def pair_runs_avoiding_rematches(rule: PairingRule, orders: Order, n_active, met: jnp.ndarray, budget: int) -> jnp.ndarray:
    """(C, M) int32 opponents (-1: bye or eliminated) of C runs under `rule` with
    `avoid_rematch`.

    Args:
      rule: the pairing rule; orders: its `Order`s (C, M) (with sizes, byes placed);
      n_active: (C,) int32; met: (C, M, W) uint32 meetings; budget: the most search steps
        per segment before the greedy completion.

    A first pass of `FIRST_PASS` steps goes over all runs, then the open runs are finished
    in batches of max(OPEN_BATCH, C / 32), so that the few runs that need many steps do not
    hold up all the others.
    """
    searches = jax.vmap(start_search, in_axes=(None, 0, 0, 0))(rule, orders, n_active, met)
    n_runs, n_models = orders.rank.shape
    limit = budget + n_models
    step = jax.vmap(lambda s: search_step(rule, budget, s))
    open_runs = jax.vmap(lambda s: searching(s, limit))

    def run(batch, steps):
        def body(carry):
            return step(carry[0]), carry[1] + 1

        return lax.while_loop(lambda c: jnp.any(open_runs(c[0])) & (c[1] < steps), body, (batch, 0))[0]

    searches = run(searches, FIRST_PASS)
    batch_size = min(n_runs, max(OPEN_BATCH, n_runs // 32))

    def finish_some(searches):
        index = jnp.nonzero(open_runs(searches), size=batch_size, fill_value=n_runs)[0]
        batch = jax.tree_util.tree_map(lambda x: x[jnp.minimum(index, n_runs - 1)], searches)
        batch = run(batch, limit)
        return jax.tree_util.tree_map(lambda x, y: x.at[index].set(y, mode="drop"), searches, batch)

    searches = lax.while_loop(lambda s: jnp.any(open_runs(s)), finish_some, searches)
    return jax.vmap(opponents)(searches, orders)


def start_search(rule: PairingRule, order: Order, n_active, met: jnp.ndarray) -> Search:
    """One run's `Search` before its first step (arguments as `pair_runs_avoiding_rematches`,
    for one run)."""
    n_models = order.rank.shape[0]
    if n_models > 1 << _PLACE_BITS:
        raise ValueError(f"avoid_rematch pairs at most {1 << _PLACE_BITS} model slots, got {n_models}")
    positions = jnp.arange(n_models, dtype=jnp.int32)
    start_of, end_of = segments(rule, order, n_active)
    model = order.order  # (P,) the model at each position
    plays = (positions < n_active) & (positions < take(end_of, model))
    start = jnp.where(plays, take(start_of, model), positions)
    end = jnp.where(plays, take(end_of, model), positions)
    words = met.shape[1]
    rows = take(met.reshape(-1), model[:, None] * words + jnp.arange(words, dtype=jnp.int32)[None, :])  # (P, W)
    # Where the first steps lead: the rule's own pairs up to the first rematch in leader order.
    within, size = positions - start, end - start
    partner, leads, stride = rule.pattern.partner(within, size), rule.pattern.leads(within, size), rule.pattern.stride
    partner = jnp.clip(start + partner, 0, n_models - 1)
    leader = jnp.where(leads, positions, partner)  # (P,) the leader of each pattern pair
    rematch = leads & plays & _met(rows, positions, take(model, partner))
    first_rematch = take(_suffix_min(jnp.where(rematch, positions, n_models)), start)
    kept = plays & (leader < first_rematch)
    mate = jnp.where(plays, jnp.where(kept, leader, -1), n_models)
    top = jnp.where(first_rematch - stride >= start, first_rematch - stride, -1)
    prev = jnp.where(positions - stride >= start, positions - stride, -1)
    free = _segment_bits(start, end, jnp.where((mate < 0)[:, None], _bits(model, words), jnp.uint32(0)))
    zeros = jnp.zeros(n_models, jnp.int32)
    return Search(
        plays, start, end, model, rows, mate, partner, zeros, zeros - 1, prev, top, free,
        zeros.astype(bool), zeros, jnp.int32(0),
    )


def searching(search: Search, limit) -> jnp.ndarray:
    """() bool: some member is still unpaired (and the step count is below `limit`)."""
    return jnp.any(search.mate < 0) & (search.count < limit)


def search_step(rule: PairingRule, budget: int, s: Search) -> Search:
    """One step of every open segment of one run: its leader takes its next candidate, or
    the previous leader's choice is undone, or the segment turns greedy.

    Values of a segment's leader are gathered once, several packed into one int32."""
    n_models, words = s.rows.shape
    positions = jnp.arange(n_models, dtype=jnp.int32)
    low = (1 << _PLACE_BITS) - 1
    unpaired = s.mate < 0
    before = _prefix_sum(unpaired.astype(jnp.int32))  # (P + 1,) unpaired before each place
    lead = take(_suffix_min(jnp.where(unpaired, positions, n_models)), s.start)  # first unpaired
    live = s.plays & (lead < s.end)  # the segment is not done
    lead_at = jnp.clip(lead, 0, n_models - 1)
    is_lead = positions == lead
    base = take(before, s.start)
    index = before[:-1] - base  # place among the unpaired members of the segment
    remaining = take(before, s.end) - base
    leader = take(((s.floor + 1) << _PLACE_BITS) | s.model, lead_at)  # (floor + 1, model) of the leader
    met_lead = _met(s.rows, lead_at, s.model)
    candidate = rule.pattern.candidate(index, remaining)
    valid = unpaired & live & ~is_lead
    valid &= s.greedy | (~met_lead & (candidate > (leader >> _PLACE_BITS) - 1))
    priority = jnp.where(s.greedy, (met_lead.astype(jnp.int32) << _PLACE_BITS) | candidate, candidate)
    segment = s.start << _START_SHIFT
    ranked = jnp.where(valid, segment | (priority << _PLACE_BITS) | positions, _NONE)
    # Pruning: a member with no unmet unpaired partner left in the segment dooms the branch;
    # it enters the ranking as the segment's smallest value (no candidate has low bits 0).
    own = _bits(s.model, words)
    stranded = unpaired & ~s.greedy & ~jnp.any((s.free & ~s.rows & ~own) != 0, axis=1)
    ranked = jnp.where(stranded, segment, ranked)
    best = take(_suffix_min(ranked), lead_at)  # the leader's first candidate
    found = (best >> _START_SHIFT) == s.start
    advance = live & found & (best != segment)
    back = live & ~advance
    chosen = best & low
    undo = jnp.where(back, s.top, -1)  # the segment's previous leader, if any
    undo_at = jnp.clip(undo, 0, n_models - 1)
    undone = take((s.follower << (2 * _PLACE_BITS)) | (s.key << _PLACE_BITS) | s.model, undo_at)
    undo_follower = undone >> (2 * _PLACE_BITS)
    popped = (undo >= 0) & ((positions == undo) | (positions == undo_follower))
    new_lead = advance & is_lead
    mate = jnp.where(popped, -1, s.mate)
    mate = jnp.where(new_lead, positions, jnp.where(advance & (positions == chosen), lead, mate))
    follower = jnp.where(new_lead, chosen, s.follower)
    key = jnp.where(new_lead, (best >> _PLACE_BITS) & low, s.key)
    floor = jnp.where(back & is_lead, -1, s.floor)  # a leader that found nothing starts afresh next time
    floor = jnp.where((undo >= 0) & (positions == undo), (undone >> _PLACE_BITS) & low, floor)
    prev = jnp.where(new_lead, s.top, s.prev)
    top = jnp.where(advance, lead, jnp.where(undo >= 0, take(s.prev, undo_at), s.top))
    pair_a = jnp.where(advance, leader & low, undone & low)  # the models leaving or rejoining
    pair_b = jnp.where(advance, take(s.model, chosen), take(s.model, jnp.clip(undo_follower, 0, n_models - 1)))
    moved = _bits(pair_a, words) | _bits(pair_b, words)
    free = jnp.where(advance[:, None], s.free & ~moved, jnp.where((undo >= 0)[:, None], s.free | moved, s.free))
    steps = s.steps + (live & ~s.greedy)
    greedy = s.greedy | (live & ((back & (undo < 0)) | (steps >= budget)))
    return s._replace(
        mate=mate, follower=follower, key=key, floor=floor, prev=prev, top=top, free=free,
        greedy=greedy, steps=steps, count=s.count + 1,
    )


def opponents(search: Search, order: Order) -> jnp.ndarray:
    """(M,) int32 opponent of each model (-1: none) from a finished search."""
    n_models = search.mate.shape[0]
    positions = jnp.arange(n_models, dtype=jnp.int32)
    mate = search.mate
    is_leader = mate == positions
    partner = jnp.where(is_leader, search.follower, jnp.where((mate >= 0) & (mate < n_models), mate, -1))  # (P,)
    opposite = take(partner, order.rank)
    return jnp.where(opposite >= 0, take(order.order, jnp.clip(opposite, 0, n_models - 1)), -1)


def _bits(model, words: int) -> jnp.ndarray:
    """(P, W) uint32 rows holding the bit of one model each."""
    bit = jnp.left_shift(jnp.uint32(1), (model & 31).astype(jnp.uint32))
    return jnp.where(jnp.arange(words, dtype=jnp.int32)[None, :] == (model >> 5)[:, None], bit[:, None], jnp.uint32(0))


def _segment_bits(start, end, bits) -> jnp.ndarray:
    """(P, W): the OR (here a sum of distinct bits) of `bits` over each position's segment."""
    total = _prefix_sum(bits)  # (P + 1, W)
    words = bits.shape[1]
    flat = total.reshape(-1)
    row = lambda i: take(flat, i[:, None] * words + jnp.arange(words, dtype=jnp.int32)[None, :])  # noqa: E731
    return row(end) - row(start)


def _blocks(values, fill):
    """values (P, ...) as (ceil(P / B), B, ...) blocks, padded with `fill`."""
    pad = (-values.shape[0]) % _BLOCK
    padded = jnp.concatenate([values, jnp.full((pad,) + values.shape[1:], fill, values.dtype)])
    return padded.reshape((-1, _BLOCK) + values.shape[1:])


def _prefix_sum(values) -> jnp.ndarray:
    """(P + 1, ...) exclusive prefix sums along the first axis of `values` (P, ...), in
    blocks (XLA:CPU lowers a plain cumsum to an O(P^2) window sum)."""
    blocks = _blocks(values, 0)
    inner = lax.cumsum(blocks, axis=1)
    totals = inner[:, -1]
    outer = lax.cumsum(totals, axis=0) - totals
    inclusive = (inner + outer[:, None]).reshape((-1,) + values.shape[1:])[: values.shape[0]]
    return jnp.concatenate([jnp.zeros((1,) + values.shape[1:], values.dtype), inclusive])


def _suffix_min(values) -> jnp.ndarray:
    """(P,) [p] = min(values[p:]) of (P,) int32 `values`, in blocks."""
    big = jnp.iinfo(values.dtype).max
    blocks = _blocks(values, big)
    inner = lax.cummin(blocks, axis=1, reverse=True)
    later = lax.cummin(inner[:, 0], reverse=True)
    later = jnp.concatenate([later[1:], jnp.full(1, big, values.dtype)])
    return jnp.minimum(inner, later[:, None]).reshape(-1)[: values.shape[0]]


def _met(rows, place, model) -> jnp.ndarray:
    """(P,) bool: the model at `place[p]` has met `model[p]`."""
    words = rows.shape[1]
    bit = jnp.left_shift(jnp.uint32(1), (model & 31).astype(jnp.uint32))
    return (take(rows.reshape(-1), place * words + (model >> 5)) & bit) != 0
