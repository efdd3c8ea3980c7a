"""The Monte Carlo kernel: one chunk of runs under S elimination schedules.

One tournament is a `lax.scan` over the K rounds of a per-run step that is `vmap`ped over
the runs of a chunk; the schedules are played one after another (`lax.map`) on the same
random numbers (common random numbers). The chunk returns exact integer sums, so totals
over chunks do not depend on the chunk size or on how the runs are spread over devices.

Scores are integer ticks: a win is `win_ticks`, a draw `draw_ticks`, a bye `bye_ticks`
(the points times a common denominator), so equal scores are exactly equal.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from csd._src import control, rng
from csd._src.ordering import KeyLayout, Order, order_keys, order_models, pack_keys
from csd._src.outcomes import pair_probabilities
from csd._src.pairing import PairingRule, bye_priority, move_byes_last, seeded_bye_key
from csd._src.rematch import n_words, pair_runs_avoiding_rematches, record_games


class Rules(NamedTuple):
    """The static part of a tournament (hashable; a change recompiles).

    Attributes:
      n_models: M, the model slots (the real models, then padding that never plays).
      n_players: the real models.
      n_rounds: K.
      pairing: the `pairing.PairingRule` (from `pairing.RULES`).
      min_active: never eliminate below this many active models.
      win_ticks, draw_ticks, bye_ticks: points of a win, a draw and a bye, in ticks.
      random_games: whether any game outcome is random (else no game draws are made).
      draws: whether a game can end in a draw.
      layout: how the ordering packs its keys (see `ordering`).
      final_cut: whether any schedule eliminates after the last round (else the survival
        after it needs no ordering).
      bye: who of an odd group gets the bye under `random` and `float`: `random` or
        `lowest` (seed); the seeded rules always use `lowest`.
      bye_once: a bye goes to a member with no earlier bye when the group has one.
      avoid_rematch: pair without rematches where possible (`rematch`), searching at most
        `rematch_budget` steps per segment.
      shuffle_tiers: None (the rounds play in table order), or (K,) the tier of each
        position: every run plays its own random order of the rounds, shuffled inside each
        tier (`round_permutation`).
    """

    n_models: int
    n_players: int
    n_rounds: int
    pairing: PairingRule
    min_active: int
    win_ticks: int
    draw_ticks: int
    bye_ticks: int
    random_games: bool
    layout: KeyLayout
    draws: bool = True
    final_cut: bool = True
    bye: str = "random"
    bye_once: bool = False
    avoid_rematch: bool = False
    rematch_budget: int = 256
    shuffle_tiers: tuple[int, ...] | None = None


class State(NamedTuple):
    """One run's state before a round, all (M,):

    score: int32 ticks; active: bool;
    keys: the ordering keys of the coming round (`ordering.pack_keys` of the scores of
      the active models and the round's random keys). Carrying them through the scan makes
      XLA materialize them once instead of rehashing inside every comparison.
    byes: bool, had a bye (only with `Rules.bye_once`, else None).
    met: (M, W) uint32 bit rows of who has met whom (only with `Rules.avoid_rematch`).
    """

    score: jnp.ndarray
    active: jnp.ndarray
    keys: jnp.ndarray
    byes: jnp.ndarray | None = None
    met: jnp.ndarray | None = None


class ChunkStats(NamedTuple):
    """Integer sums over the valid runs of a chunk, per schedule (S of them).

    Attributes:
      n_runs: () int32 valid runs.
      score_sum: (S, M) sum of final scores (ticks).
      score_sq_sum: (S, M) sum of squared final scores.
      diff_sq_sum: (S, M) sum of (score under schedule s - score under schedule 0)^2.
      rank_count: (S, M, M) [s, m, r] = runs where model m finished at place r (0 =
        first); models tied on the final score take the places they span in a uniformly
        random order (the run's tie keys, `rng.tie_key`), so every run is a strict ranking.
      champion_count: (S, M) runs where model m finished with the top score, alone or tied.
      survival_count: (S, K, M) runs where the model was active after round k's elimination.
      round_score_sum: (S, K, M) sum of scores after round k.
      round_games_count: (S, K) runs in which round k had at least one game.
      control_score: None, or with control `Tables` (S, C, M) float32 per run: the
        control-variate score Z (ticks; 0 for padding runs), see `control`.
      champion_score: None, or with control `Tables` (S, C, M) float32 per run: the
        control-variate score of finishing first (alone or tied): P(first | everything
        before the last round's games) (`_champion_before_last_round`) less the champion
        control terms of the rounds (see `control`); 0 for padding runs.
    """

    n_runs: jnp.ndarray
    score_sum: jnp.ndarray
    score_sq_sum: jnp.ndarray
    diff_sq_sum: jnp.ndarray
    rank_count: jnp.ndarray
    champion_count: jnp.ndarray
    survival_count: jnp.ndarray
    round_score_sum: jnp.ndarray
    round_games_count: jnp.ndarray
    control_score: jnp.ndarray | None = None
    champion_score: jnp.ndarray | None = None


def chunk_stats(rules: Rules, outcomes, schedules, seed_key, seed, stream, run_index, valid, tables=None) -> ChunkStats:
    """Plays a chunk of C runs under S schedules and sums what the results need.

    Args:
      rules: static `Rules`.
      outcomes: `TensorOutcomes` or `ScoreOutcomes`.
      schedules: (S, K) int32; schedules[s, k] models are eliminated after round k.
      seed_key: (M,) uint32 distinct seed priorities (higher = better seed), used by
        the seeded pairing rules.
      seed: (2,) uint32 seed words; stream: () uint32.
      run_index: (C,) uint32 global run indices; valid: (C,) bool, False for padding.
      tables: None (plain), or `control.Tables` with (S, K, M, V, 2) fields: also return
        each run's control-variate score.
    """
    keys = rng.run_keys(seed, stream, run_index)  # (C, 2)
    # One schedule after another: on XLA:CPU a `vmap` over them measured 7-17% slower, and
    # this keeps a chunk's working memory that of one schedule.
    final, survival, round_score, round_games, control_score, champion_score = lax.map(
        lambda args: _play_tournament(rules, outcomes, args[0], seed_key, (keys, valid), args[1]), (schedules, tables)
    )
    summary = _summarize(rules, final, survival, round_score, round_games, keys, valid)
    return summary._replace(control_score=control_score, champion_score=champion_score)


def pilot_stats(rules: Rules, outcomes, schedules, seed_key, seed, stream, run_index, valid) -> jnp.ndarray:
    """(S, 2, 3, K, M, V) int32 `control.pilot_sums` of a chunk of runs under S schedules
    (arguments as `chunk_stats`), V = K * max(win, bye) + 1 score values."""
    keys = rng.run_keys(seed, stream, run_index)
    n_values = rules.n_rounds * max(rules.win_ticks, rules.bye_ticks) + 1

    def one_schedule(schedule):
        start = _start(rules, keys, valid)
        step = _round_step(rules)

        def body(state, round_and_cut):
            after, _, active, _ = step(rules, outcomes, seed_key, state, keys, *round_and_cut)
            return after, (active, after.score)

        final, (active, score_after) = lax.scan(body, start, _rounds_and_cuts(rules, schedule, keys))
        return control.pilot_sums(n_values, active, score_after, final.score)

    return lax.map(one_schedule, schedules)


def _play_tournament(rules, outcomes, schedule, seed_key, runs, tables=None):
    """One schedule, C runs: final State (C, M), survival (K, M), round score sums (K, M),
    runs with a game in each round (K,) and, with `control.Tables` (K, M, V, 2), the
    control-variate scores of the final score (C, M) and of finishing first (C, M) (see
    `ChunkStats`; else None, None)."""
    keys, valid = runs
    start = _start(rules, keys, valid)
    step = _round_step(rules)
    round_control = jax.vmap(control.round_control, in_axes=(None, None, None, 0, 0, 0, None, None))
    last_round = jax.vmap(_champion_before_last_round, in_axes=(None, None, None, 0, 0, 0))

    def body(carry, round_and_cut):
        before, rounds_active, correction, last = carry
        state, opponent, active, has_game = step(rules, outcomes, seed_key, before, keys, *round_and_cut)
        played = has_game.sum(dtype=jnp.int32)  # padding runs play no games
        if tables is not None:  # `estimator.resolve`: a fixed round order, so position k plays round k
            correction = correction + round_control(rules, outcomes, tables, before, active, state.score, *round_and_cut[:2])
            last = (before.score, active, opponent)  # after the scan: the last round's
        return (state, rounds_active + state.active, correction, last), (state.score.sum(0), played)

    # Elimination is final, so a model is active after the elimination that follows round
    # k exactly when it survived more than k eliminations: one count per run and model
    # replaces a reduction over the runs in every round.
    no_rounds = jnp.zeros_like(start.score, jnp.int8 if rules.n_rounds < 127 else jnp.int16)
    no_correction = None if tables is None else jnp.zeros(start.score.shape + (2,), jnp.float32)
    no_last = None if tables is None else (start.score, start.active, jnp.zeros_like(start.score))
    scanned = _rounds_and_cuts(rules, schedule, keys)
    (final, rounds_active, correction, last), (score_sum, round_games) = lax.scan(
        body, (start, no_rounds, no_correction, no_last), scanned
    )
    if rules.final_cut:
        last_active = jax.vmap(_final_cut, in_axes=(None, 0, 0, None))(rules, final, keys, schedule[-1])
    else:
        last_active = final.active
    # Round 0 has no elimination before it, so it counts one round for every real model.
    rounds_survived = rounds_active.astype(jnp.int32) - 1 + last_active  # (C, M), -1: padding
    control_score = champion = None
    if tables is not None:  # the table round of the last position: cv runs a fixed order
        control_score = final.score - correction[..., 0]
        first = last_round(rules, outcomes, rules.n_rounds - 1, *last) - correction[..., 1]
        champion = jnp.where(valid[:, None], first, 0.0)
    return final, _survival_counts(rounds_survived, rules.n_rounds), score_sum, round_games, control_score, champion


def _champion_before_last_round(rules: Rules, outcomes, played, score, active, opponent) -> jnp.ndarray:
    """(M,) float32 P(champion | before the last round's games), one run: averaged over
    the last round's pairing too where that is derived (`random` pairing without draws),
    else given it."""
    if not rules.draws:
        return champion_given_groups(rules, outcomes, played, score, active)
    return champion_given_last_pairing(rules, outcomes, played, score, active, opponent)


def champion_given_groups(rules: Rules, outcomes, played, score, active) -> jnp.ndarray:
    """(M,) float32: P(each model finishes first, alone or tied | the scores before the
    last round), exact over its pairing and games, for `random` pairing with a random bye
    and no draws (arguments as `champion_given_last_pairing`).

    Without draws every score group of two or more has a winner, so the best final score
    of a group is its score plus a win (a lone member: plus a bye), and the top final
    score is known before the round. A member of a group that reaches it is first when it
    wins (its partner is uniform over the other members, after a uniform bye in an odd
    group) or when it gets a bye worth a win; a lone member or an eliminated model is
    first exactly when its score reaches it.
    """
    real = jnp.arange(rules.n_models) < rules.n_players
    # Without draws the expected ticks against a group mate are a win times P(winning).
    against_mates, size = control.group_sums(rules, outcomes, score, active, played)
    p_bye = jnp.where(size % 2 == 1, 1.0 / jnp.maximum(size, 1), 0.0)
    p_wins = against_mates / rules.win_ticks * (1.0 - p_bye) / jnp.maximum(size - 1, 1)
    in_game_group = active & (size >= 2)
    best = jnp.where(in_game_group, score + rules.win_ticks, jnp.where(active, score + rules.bye_ticks, score))
    top = jnp.max(jnp.where(real, best, 0))
    from_group = (jnp.where(score + rules.win_ticks == top, p_wins, 0.0)
                  + jnp.where(score + rules.bye_ticks == top, p_bye, 0.0))
    first = jnp.where(in_game_group, from_group, (best == top).astype(jnp.float32))
    return jnp.where(real, first, 0.0)


def champion_given_last_pairing(rules: Rules, outcomes, played, score, active, opponent) -> jnp.ndarray:
    """(M,) float32: P(each model finishes first, alone or tied | the scores before the
    last round and its pairing), exact over the last round's games (wins, losses and
    draws), which are independent given the pairing. Averaged over runs it estimates
    P(champion) without bias and with less variance than counting the runs it won.

    Args (one run): `played` the table round of the last position (); `score` (M,) int32
    ticks before it; `active` (M,) bool the models that play it (after the elimination
    before it); `opponent` (M,) int32 their opponents (-1: a bye, or not playing).

    A final score is the score before plus what the last game gives, so model m is first
    when every other pairing unit's best final score is at most m's. Those units are
    independent, so P(all of them <= v) is a product over units, taken in logs with the
    zero factors counted apart so that m's own unit can be divided out. Only thresholds v
    from the top score before the round up to it plus the largest award can be met.
    """
    players = jnp.arange(rules.n_models, dtype=jnp.int32)
    real = players < rules.n_players
    has_game = active & (opponent >= 0)
    rival = jnp.where(has_game, opponent, players)
    p_win, p_loss = pair_probabilities(outcomes, played, players, rival)
    p_draw = jnp.clip(1.0 - p_win - p_loss, 0.0, 1.0)
    win, draw, bye = rules.win_ticks, rules.draw_ticks, rules.bye_ticks
    top = jnp.max(jnp.where(real, score, 0))
    thresholds = top + jnp.arange(max(win, draw, bye) + 1, dtype=jnp.int32)  # (W,)
    rival_score = score[rival]

    def at_most(values):  # (M,) -> (M, W) float32
        return (values[:, None] <= thresholds).astype(jnp.float32)

    in_pair = (p_win[:, None] * at_most(score + win) * at_most(rival_score)
               + p_loss[:, None] * at_most(score) * at_most(rival_score + win)
               + p_draw[:, None] * at_most(score + draw) * at_most(rival_score + draw))
    alone = at_most(jnp.where(active, score + bye, score))  # a bye, or out of the tournament
    factor = jnp.where(real[:, None], jnp.where(has_game[:, None], in_pair, alone), 1.0)  # (M, W)
    counted = (~has_game | (players < rival))[:, None]  # each pair once, by its lower index
    zero = factor <= 0.0
    log_factor = jnp.log(jnp.where(zero, 1.0, factor))
    zeros_all = jnp.sum(zero & counted, axis=0)
    log_all = jnp.sum(jnp.where(counted, log_factor, 0.0), axis=0)
    others = jnp.where(zeros_all - zero > 0, 0.0, jnp.exp(log_all - log_factor))  # (M, W) without m's unit

    def others_at_most(value):  # (M,) thresholds -> (M,) P(every other unit's best <= value)
        step = value - top
        picked = jnp.take_along_axis(others, jnp.clip(step, 0, thresholds.shape[0] - 1)[:, None], axis=1)[:, 0]
        return jnp.where(step >= 0, picked, 0.0)

    paired = (p_win * (rival_score <= score + win) * others_at_most(score + win)
              + p_loss * (rival_score + win <= score) * others_at_most(score)
              + p_draw * (rival_score <= score) * others_at_most(score + draw))
    single = others_at_most(jnp.where(active, score + bye, score))
    return jnp.where(real, jnp.where(has_game, paired, single), 0.0)


def _survival_counts(rounds_survived, n_rounds: int) -> jnp.ndarray:
    """(K, M) int32: [k, m] = runs whose model m survived the eliminations after rounds
    0..k; rounds_survived: (C, M) how many it survived (-1 for a model of a padding run)."""
    survived_exactly = _per_model_counts(rounds_survived + 1, n_rounds + 2)  # [m, j]: survived j - 1
    survived_at_least = jnp.cumsum(survived_exactly[:, ::-1], axis=1)[:, ::-1]  # [m, j]: >= j - 1
    return survived_at_least[:, 2:].T


def _start(rules: Rules, keys, valid) -> State:
    """The State (C, M) of C runs before round 0; keys: (C, 2) run keys, valid: (C,) bool."""
    n_runs = keys.shape[0]
    score = jnp.zeros((n_runs, rules.n_models), jnp.int32)
    # Padding runs have no active model, so they add nothing to any sum.
    active = (jnp.arange(rules.n_models) < rules.n_players)[None, :] & valid[:, None]
    byes = jnp.zeros((n_runs, rules.n_models), bool) if rules.bye_once else None
    met = jnp.zeros((n_runs, rules.n_models, n_words(rules.n_models)), jnp.uint32) if rules.avoid_rematch else None
    return jax.vmap(_with_keys, in_axes=(None, 0, 0, 0, None, 0, 0))(rules, score, active, keys, 0, byes, met)


def _rounds_and_cuts(rules: Rules, schedule, run_keys):
    """The scan's inputs: (K,) round indices, (K,) the cut before each round, which is
    the schedule's cut after the round before (none before round 0), and the table round
    each position plays: (K, C) per run under `shuffle_tiers`, else (K,) the position."""
    rounds = jnp.arange(rules.n_rounds, dtype=jnp.int32)
    if rules.shuffle_tiers is None:
        played = rounds
    else:
        played = jax.vmap(round_permutation, in_axes=(0, None))(run_keys, rules.shuffle_tiers).T
    return rounds, jnp.concatenate([jnp.zeros(1, jnp.int32), schedule[:-1]]), played


def round_permutation(run_key, tiers: tuple[int, ...]) -> jnp.ndarray:
    """(K,) int32: the table round each position of one run plays, a uniformly random
    order inside each tier (`tiers`: (K,) the tier of each position, non-decreasing), from
    the run's key ((2,) uint32): the rounds sorted by (tier, `rng.round_order_keys`)."""
    shuffled = rng.round_order_keys(run_key[0], len(tiers))
    return jnp.lexsort((shuffled, jnp.asarray(tiers, jnp.int32))).astype(jnp.int32)


def _round_step(rules: Rules):
    """A round of C runs, (rules, outcomes, seed_key, state, run_keys, round_index, cut,
    played) -> (State, opponent, active, has_game), each (C, M) but has_game (C,):
    `_pair_and_play` per run, or over all runs at once for `avoid_rematch`; `played`: the
    table round, () or (C,) per run."""
    if rules.avoid_rematch:
        return _rounds_avoiding_rematches
    return jax.vmap(_pair_and_play, in_axes=(None, None, None, 0, 0, None, None, _played_axis(rules)))


def _played_axis(rules: Rules):
    """The vmap axis of the table round a position plays: per run only when shuffled."""
    return None if rules.shuffle_tiers is None else 0


def _pair_and_play(rules: Rules, outcomes, seed_key, state: State, run_key, round_index, cut, played):
    """Round `round_index` of one run, playing table round `played`: the elimination of
    `cut` models left from the round before, then pairing and play. All arrays are (M,);
    run_key is (2,) uint32. Returns the State after it, the round's opponents (-1: no
    game), its active models and whether it had a game (`_has_game`)."""
    order, active, n_active, round_key = _arrange(rules, seed_key, state, run_key, round_index, cut)
    opponent = rules.pairing.pair(order, n_active)
    after = _play(rules, outcomes, state, active, opponent, round_key, run_key, round_index, played)
    return after, opponent, active, _has_game(rules, order, n_active)


def _has_game(rules: Rules, order: Order, n_active) -> jnp.ndarray:
    """() bool: the round pairs at least one game. A rule that floats pairs two models
    whenever two are active; `random` pairs inside score groups, so it needs a group with
    two active members. Read from the `Order`, not the opponents: counting the opponents
    made XLA keep them in memory and doubled the kernel's time."""
    if rules.pairing.floats:
        return n_active >= 2
    group_end = jnp.minimum(order.start + order.size, n_active)
    return jnp.any((group_end - order.start >= 2) & (order.rank < n_active))


def _rounds_avoiding_rematches(rules: Rules, outcomes, seed_key, state: State, run_keys, round_index, cut, played):
    """`_pair_and_play` of C runs at once ((C, ...) states and results), for
    `avoid_rematch`, whose search runs over all runs together (`rematch`)."""
    arrange = jax.vmap(_arrange, in_axes=(None, None, 0, 0, None, None))
    order, active, n_active, round_key = arrange(rules, seed_key, state, run_keys, round_index, cut)
    opponent = pair_runs_avoiding_rematches(rules.pairing, order, n_active, state.met, rules.rematch_budget)
    play = jax.vmap(_play, in_axes=(None, None, 0, 0, 0, 0, 0, None, _played_axis(rules)))
    after = play(rules, outcomes, state, active, opponent, round_key, run_keys, round_index, played)
    return after, opponent, active, jax.vmap(_has_game, in_axes=(None, 0, 0))(rules, order, n_active)


def _arrange(rules: Rules, seed_key, state: State, run_key, round_index, cut):
    """The elimination of `cut` models left from the round before, and the `Order` the
    rule pairs from (byes placed): (order, active (M,), n_active (), round_key (2,))."""
    round_key = rng.round_keys(run_key, round_index)
    with_size = not rules.pairing.floats or rules.avoid_rematch or _places_byes(rules)
    order = order_keys(rules.layout, state.keys, rng.tag_mask(round_key[0]), with_size=with_size)
    active, n_active = _eliminate(state.active, order.rank, cut, rules.min_active)
    if rules.pairing.seeded:
        level = _level(state.score, active)
        seeds = seeded_bye_key(level, seed_key, state.byes, n_active) if rules.bye_once else seed_key
        order = order_models(rules.layout, level, seeds, jnp.uint32(0), with_size=True)
    elif _places_byes(rules):
        order = _place_byes(rules, order, n_active, _level(state.score, active), state.byes, seed_key, round_key[0])
    return order, active, n_active, round_key


def _play(rules: Rules, outcomes, state: State, active, opponent, round_key, run_key, round_index, played) -> State:
    """The State after the games of table round `played` against `opponent` ((M,) int32,
    -1: none)."""
    points = _points(rules, outcomes, played, round_key[1], opponent)
    score = state.score + jnp.where(active, points, 0)
    byes = state.byes | (active & (opponent < 0)) if rules.bye_once else None
    met = record_games(state.met, opponent) if rules.avoid_rematch else None
    return _with_keys(rules, score, active, run_key, round_index + 1, byes, met)


def _places_byes(rules: Rules) -> bool:
    """Whether `random` or `float` choose their byes by a bye option (else by key order)."""
    return not rules.pairing.seeded and (rules.bye == "lowest" or rules.bye_once)


def _place_byes(rules: Rules, order: Order, n_active, level, had_bye, seed_key, round_key) -> Order:
    """`order` with each bye of `random`/`float` swapped to its group's last place: the
    lowest seed or a uniformly random member (by keys independent of the order), among the
    members with no earlier bye first if `bye_once`."""
    if rules.bye == "lowest":
        key, mask = seed_key, jnp.uint32(0)
    else:
        key, mask = rng.bye_keys(round_key, rules.n_models), rng.tag_mask(round_key)
    eligible = ~had_bye if rules.bye_once else jnp.ones(rules.n_models, bool)
    chooser = order_models(rules.layout, level, bye_priority(eligible, key), mask)
    return move_byes_last(order, n_active, chooser, lowest_group_only=rules.pairing.floats)


def _with_keys(rules: Rules, score, active, run_key, round_index, byes=None, met=None) -> State:
    """The State before round `round_index` (K for the elimination after the last round)."""
    round_key = rng.round_keys(run_key, round_index)[0]
    rand = rng.model_keys(round_key, rules.n_models)
    keys = pack_keys(rules.layout, _level(score, active), rand, rng.tag_mask(round_key))
    return State(score, active, keys, byes, met)


def trace_pairings(rules: Rules, outcomes, schedule, seed_key, seed, stream, run_index):
    """For tests and debugging, not the hot path: what each round of some runs looked like.

    Plays runs `run_index` ((C,) uint32) exactly as `chunk_stats` does under one schedule
    ((K,) int32), and returns (score, active, opponent), each (C, K, M): the scores before
    round k, the models that play it (after the elimination that precedes it), and their
    opponents (-1: a bye, or not playing).
    """
    keys = rng.run_keys(seed, stream, run_index)
    start = _start(rules, keys, jnp.ones(keys.shape[0], bool))
    step = _round_step(rules)

    def body(state, round_and_cut):
        after, opponent, active, _ = step(rules, outcomes, seed_key, state, keys, *round_and_cut)
        return after, (state.score, active, opponent)

    _, trace = lax.scan(body, start, _rounds_and_cuts(rules, schedule, keys))
    return tuple(jnp.swapaxes(x, 0, 1) for x in trace)


def _final_cut(rules: Rules, state: State, run_key, cut) -> jnp.ndarray:
    """(M,) bool active models after the elimination that follows the last round."""
    mask = rng.tag_mask(rng.round_keys(run_key, rules.n_rounds)[0])
    order = order_keys(rules.layout, state.keys, mask)
    return _eliminate(state.active, order.rank, cut, rules.min_active)[0]


def _level(score, active):
    """(M,) int32 ordering level: the score of an active model, -1 for an eliminated one."""
    return jnp.where(active, score, -1)


def _eliminate(active, rank, cut, min_active):
    """Drops the `cut` lowest-placed active models, keeping at least `min_active`.

    Args:
      active: (M,) bool; rank: (M,) int32 positions with the active models first;
      cut: () int32 models to eliminate.
    Returns:
      (active after the cut (M,) bool, number still active () int32).
    """
    n_active = active.sum(dtype=jnp.int32)
    n_cut = jnp.clip(jnp.minimum(cut, n_active - min_active), 0)
    n_kept = n_active - n_cut
    return active & (rank < n_kept), n_kept


def _points(rules: Rules, outcomes, round_index, pair_key, opponent) -> jnp.ndarray:
    """(M,) int32 ticks each model earns against `opponent` ((M,) int32, -1 = bye)."""
    players = jnp.arange(rules.n_models, dtype=jnp.int32)
    has_game = opponent >= 0
    opponents = jnp.where(has_game, opponent, players)
    p_win, p_loss = pair_probabilities(outcomes, round_index, players, opponents)
    low = jnp.minimum(players, opponents)
    high = jnp.maximum(players, opponents)
    if rules.random_games:
        u = rng.pair_uniforms(pair_key, low, high)
    else:
        u = jnp.zeros(rules.n_models, jnp.float32)
    win, loss = _game_result(u, p_win, p_loss, players == low)
    ticks = jnp.where(win, rules.win_ticks, jnp.where(loss, 0, rules.draw_ticks))
    return jnp.where(has_game, ticks, rules.bye_ticks).astype(jnp.int32)


def _game_result(u, p_win, p_loss, is_low):
    """(win, loss) (M,) bool for the player, from the pair's uniform u.

    The lower-indexed player of a pair wins if u < P(low wins); the higher-indexed one
    wins if u >= 1 - P(high wins) and the lower one did not; the rest is a draw.
    """
    low_wins = jnp.where(is_low, u < p_win, u < p_loss)
    high_wins = ~low_wins & (u >= 1 - jnp.where(is_low, p_loss, p_win))
    return jnp.where(is_low, low_wins, high_wins), jnp.where(is_low, high_wins, low_wins)


def _summarize(rules: Rules, final: State, survival, round_score, round_games, keys, valid) -> ChunkStats:
    """Sums over the runs of a chunk; final: State of (S, C, M) arrays; keys: (C, 2) run keys."""
    score = final.score  # padding runs score 0
    baseline_gap = score - score[:1]
    rank = jax.vmap(jax.vmap(_final_rank, in_axes=(None, 0, 0)), in_axes=(None, 0, None))(rules, score, keys)
    in_valid_runs = jnp.broadcast_to(valid[:, None], score.shape[1:]).astype(jnp.int32)  # (C, M)
    top = score == score.max(axis=-1, keepdims=True)  # padding slots score 0, never above a real model
    return ChunkStats(
        n_runs=valid.sum(dtype=jnp.int32),
        score_sum=score.sum(1),
        score_sq_sum=(score * score).sum(1),
        diff_sq_sum=(baseline_gap * baseline_gap).sum(1),
        rank_count=jax.vmap(_per_model_counts, in_axes=(0, None, None))(rank, rules.n_models, in_valid_runs),
        champion_count=(top & valid[:, None]).sum(1, dtype=jnp.int32),
        survival_count=survival,
        round_score_sum=round_score,
        round_games_count=round_games,
    )


def _final_rank(rules: Rules, score, run_key) -> jnp.ndarray:
    """(M,) int32: 0-based place by final score, one run; models with equal scores take
    the places they span in a uniformly random order (`rng.tie_key` of the run's key,
    (2,) uint32), as a coin decides a tied game, and padding slots come last.

    Every place goes to exactly one model, so over the runs a tie of g models gives each
    of them each place of its span with probability 1/g."""
    real = jnp.arange(rules.n_models) < rules.n_players
    tie_key = rng.tie_key(run_key[0])
    rand = rng.model_keys(tie_key, rules.n_models)
    return order_models(rules.layout, jnp.where(real, score, -1), rand, rng.tag_mask(tie_key)).rank


def _per_model_counts(values, n_bins: int, weight=1) -> jnp.ndarray:
    """(M, n_bins) int32: [m, v] = runs (each counted `weight`, a number or (C, M) int32)
    where values[:, m] == v; values: (C, M) int32 in [0, n_bins).

    A scatter-add: on XLA:CPU a one-hot sum over the runs materializes (C, M, n_bins)."""
    n_models = values.shape[1]
    cells = jnp.arange(n_models, dtype=jnp.int32) * n_bins + values  # (C, M)
    updates = weight if jnp.ndim(weight) == 0 else weight.reshape(-1)
    counts = jnp.zeros(n_models * n_bins, jnp.int32).at[cells.reshape(-1)].add(updates)
    return counts.reshape(n_models, n_bins)
