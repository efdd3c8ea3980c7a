"""`simulate`: the Expected Win Score of every model, with Monte Carlo uncertainty."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Callable, NamedTuple

import numpy as np

from csd._src import shards
from csd._src.control import Tables
from csd._src.driver import Prepared, Totals, check_run, prepare, run_engine
from csd._src.baselines import kendall_tau
from csd._src.errors import InputError, check_int
from csd._src.frozen import warns_frozen
from csd._src.estimator import (
    CHAMPION_SCALE,
    control_mean,
    control_probability,
    control_stderr,
    mean_stderr,
    pilot_size,
    resolve,
    variance_reduction,
)
from csd._src.orders import random_orders, rounds_in_order
from csd._src.pilot_cache import fitted_tables
from csd._src.results import OrderSensitivity, SimulationResult
from csd._src.spec import Tournament, as_tournament


class Estimation(NamedTuple):
    """How E[S] is estimated: `tables` (`control.Tables`, (S, K, M, V, 2)) for the cv
    estimator or None for plain averages, why plain runs where cv was asked for, and the
    pilot runs that fitted the tables (not among the N)."""

    tables: Tables | None = None
    note: str | None = None
    pilot_runs: int = 0


def estimation(
    prepared: Prepared, schedules: np.ndarray, estimator: str, n_runs: int, seed: int, **run_options
) -> Estimation:
    """The `Estimation` of `estimator` (`cv` or `plain`) for these schedules: cv fits its
    tables on a pilot of its own random stream (`streams.CV_PILOT`), where it applies
    (reused within the process where the same pilot was played: `pilot_cache`).

    Before the pilot, the runs to come are checked (`driver.check_run`: `n_runs` per
    schedule and replicate, `seed`, and `run_options` as `run_engine` takes them) with the
    memory they need, cv's tables included: a bad call is refused before any kernel runs.

    Raises:
      InputError: for an unknown estimator, a bad option, or a call that would not fit.
    """
    used, note = resolve(estimator, prepared.rules)
    n_runs, seed, _ = check_run(prepared, len(schedules), n_runs=n_runs, seed=seed, cv=used == "cv", **run_options)
    if used != "cv":
        return Estimation(note=note)
    n_pilot = pilot_size(n_runs * (prepared.n_replicates or 1))
    if prepared.n_replicates is not None:  # the same pilot runs for every replicate
        n_pilot = -(-n_pilot // prepared.n_replicates) * prepared.n_replicates
    return Estimation(fitted_tables(prepared, schedules, n_runs=n_pilot, seed=seed), None, n_pilot)


@warns_frozen()
@shards.shardable
def simulate(
    table_or_probs,
    *,
    tournament: Tournament | None = None,
    n_runs: int = 100_000,
    seed: int = 0,
    chunk_size: int | None = None,
    target_se: float | None = None,
    max_runs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    order_sensitivity: int = 0,
    estimator: str = "cv",
    **rules,
) -> SimulationResult:
    """Simulates `n_runs` Swiss-system tournaments and reports each model's Expected Win Score.

    Args:
      table_or_probs: a `ScoreTable` (round k is benchmark k) or an (M, M, K) tensor P of
        win probabilities (P[i, j, k] + P[j, i, k] <= 1, the rest a draw).
      tournament: the rules (`csd.Tournament`; default the paper's, T = 0).
      n_runs: N, the number of tournaments.
      seed: the seed; a run's random numbers depend only on it and the run's index.
      chunk_size: runs per kernel call; results do not depend on it.
      target_se: if given, keep adding chunks (after the first `n_runs` runs) until every
        model's standard error is at most this, or `max_runs` runs are done.
      max_runs: the cap for `target_se` (default 100 * n_runs); only with target_se. The
        rule is checked at n_runs, 2 n_runs, 4 n_runs, ... and max_runs, so where it stops
        does not depend on chunk_size; if max_runs comes first, a RuntimeWarning says so
        and the result's `target_met` is False.
      progress: called with (runs done, runs planned) after each chunk.
      order_sensitivity: R > 0 also plays R random round orders (`csd.order_sensitivity`,
        N / R runs each) into `result.order_sensitivity`; 0: not.
      estimator: `cv` (control variates, docs in `csd._src.estimator`: the same SE from
        several times fewer runs, after a pilot of `pilot_size(n_runs)` extra runs; for
        `random` pairing with a random bye and a fixed round order, elsewhere `plain` runs
        and `result.estimator_note` says why) or `plain` (the average final score). E[S]
        and its SE use it, and P(champion) takes the last round's exact conditional
        probability and control terms of its own, clipped to [0, 1] (its SE is the
        unclipped estimate's; docs/variance.md); rank_probs, worst_rank_probs and
        survival are plain averages.
      shard: (i, S) plays only shard i of S, the global runs [i N / S, (i + 1) N / S)
        (order sensitivity's too), and returns their result; a `csd.Shard(i, S)` also
        keeps their exact totals, which `csd.merged_shards` adds back into the single
        job's result bit for bit (`csd-run shard.index=i shard.count=S`, docs/cluster.md).
        Not with target_se.
      **rules: fields of `csd.Tournament` (`elimination=1`, `pairing="float"`, ...), put
        into `tournament`.

    Returns:
      A `SimulationResult`.

    Raises:
      InputError: for an invalid option or tensor, naming it.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c", "d"), ("x", "y", "z"), np.array(
      ...     [[4.0, 4, 4], [3, 3, 3], [2, 2, 2], [1, 1, 1]]))
      >>> result = csd.simulate(table, n_runs=1000, seed=0)
      >>> result.expected_score.tolist()  # a, alone on 2 points in round 3, sits out a 0-point bye: b ties it
      [2.0, 2.0, 1.0, 0.0]

      On six such benchmarks the tournament freezes: after round 4 every model is alone in
      its score group, nobody plays again, and a `csd.FrozenRoundsWarning` says so.

      >>> import warnings
      >>> longer = csd.ScoreTable(table.models, tuple("uvwxyz"), np.repeat(table.scores[:, :1], 6, axis=1))
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     frozen = csd.simulate(longer, n_runs=1000, seed=0)
      >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
      rounds 5-6 (y, z) played no game in every tournament: each of the 4 active models was
      alone in its score group, and `random` pairing pairs only inside a group; the byes,
      worth 0, changed no score, so these 2 of 6 benchmarks did not count. For every round to
      count, use pairing="float", which pairs a model alone in its score group with one from
      the next group down (bye_points does not help: every model waiting alone gets the same bye).
    """
    prepared = prepare(table_or_probs, as_tournament(tournament, rules))
    schedules = prepared.schedules()
    stop = None
    if target_se is not None:
        target = _positive("target_se", target_se)
        stop = lambda totals: bool(_estimate_stderr(totals, prepared)[0].max() <= target)  # noqa: E731
    elif max_runs is not None:
        raise InputError(
            f"max_runs={max_runs!r} is the cap for target_se; give target_se too, or leave it out", "max_runs"
        )
    n_orders = check_int("order_sensitivity", order_sensitivity, 0)
    how = estimation(prepared, schedules, estimator, n_runs, seed, chunk_size=chunk_size, progress=progress,
                     stopping=stop is not None, max_runs=max_runs)
    totals = run_engine(
        prepared,
        schedules,
        tables=how.tables,
        n_runs=n_runs,
        seed=seed,
        chunk_size=chunk_size,
        progress=progress,
        stop=stop,
        max_runs=max_runs,
    )
    met = None if stop is None else stop(totals)
    if met is False:
        warnings.warn(
            f"max_runs was reached after {int(totals.n_runs):,} runs before every standard error was at most "
            f"target_se={target_se}; raise max_runs or loosen target_se",
            RuntimeWarning,
            stacklevel=2,
        )
    result = schedule_result(prepared, totals, 0, how=how, seed=seed, target_se=target_se, target_met=met)
    return _with_order_sensitivity(result, table_or_probs, n_orders, chunk_size)


@warns_frozen()  # nothing to warn of (the other orders are alternatives), but its simulations stay quiet
def order_sensitivity(
    table_or_probs,
    tournament: Tournament | None = None,
    *,
    n_orders: int = 8,
    n_runs: int | None = None,
    seed: int = 0,
    reference: SimulationResult | None = None,
    chunk_size: int | None = None,
    **rules,
) -> OrderSensitivity:
    """The ranking under `n_orders` random round orders, against the reported one.

    Args:
      table_or_probs: a `ScoreTable` or an (M, M, K) tensor, as `csd.simulate` takes.
      tournament, **rules: the rules (as `csd.simulate`); each random order is played with
        them, in a fixed order. With `tournament.tiers` the rounds are shuffled inside each
        tier and the tiers keep their order.
      n_orders: R, the random orders, drawn from host stream `streams.ORDER_SENSITIVITY`.
      n_runs: tournaments per order (default: the reference's N / R, at least 200, so the
        R orders together cost about one main run). Each order uses the cv estimator
        where its pilot is no longer than the order's runs, else the plain one.
      seed: the seed of the orders and of their runs.
      reference: the reported result (default: `csd.simulate` of the tournament with
        `n_runs` or 10,000 runs).
      chunk_size: runs per kernel call.

    Returns:
      An `OrderSensitivity`.

    Raises:
      InputError: for an invalid option, as `csd.simulate`.
    """
    tournament = as_tournament(tournament, rules)
    n_orders = check_int("order_sensitivity", n_orders, 1)
    if reference is None:
        reference = simulate(table_or_probs, tournament=tournament, n_runs=n_runs or 10_000, seed=seed,
                             chunk_size=chunk_size)
    runs = n_runs or max(200, shards.whole_runs(reference.n_runs) // n_orders)
    fixed = tournament.replace(order="given", tiers=None)
    orders = random_orders(reference.rounds, tournament.tiers, n_orders, seed)
    # cv's pilot is at least 1,024 runs: below that many runs per order it would cost more
    # than the orders themselves, so plain runs.
    how = "cv" if pilot_size(runs) <= runs else "plain"
    scores = np.array([
        simulate(rounds_in_order(table_or_probs, order), tournament=fixed, n_runs=runs, seed=seed,
                 chunk_size=chunk_size, estimator=how).expected_score
        for order in orders
    ])
    leaders = tuple(reference.models[int(np.argmax(row))] for row in scores)
    return OrderSensitivity(
        orders=tuple(tuple(order) for order in orders),
        expected_score=scores,
        kendall_tau=np.array([kendall_tau(reference.expected_score, row) for row in scores]),
        leaders=leaders,
        reported_leader=reference.models[int(reference.order()[0])],
        n_runs=runs,
        within_tiers=tournament.tiers is not None and len(tournament.tiers) > 1,
    )


def _with_order_sensitivity(result: SimulationResult, table_or_probs, n_orders: int,
                            chunk_size: int | None) -> SimulationResult:
    """`result` with `order_sensitivity` over `n_orders` random round orders (0: as it is)."""
    if not n_orders:
        return result
    sensitivity = order_sensitivity(table_or_probs, result.tournament, n_orders=n_orders, seed=result.seed,
                                    reference=result, chunk_size=chunk_size)
    return dataclasses.replace(result, order_sensitivity=sensitivity)


def schedule_result(
    prepared: Prepared,
    totals: Totals,
    schedule: int,
    tournament: Tournament | None = None,
    how: Estimation = Estimation(),
    **settings,
) -> SimulationResult:
    """The `SimulationResult` of schedule `schedule` in `totals`, played under `tournament`
    (default `prepared.spec`), E[S] and its SE estimated as `how` says (cv where the runs
    carry control-variate scores); `settings`: its seed and target_se."""
    n = totals.n_runs
    tick = prepared.ticks_per_point
    rank_probs = totals.rank_count[schedule] / n
    result = SimulationResult(
        models=prepared.models,
        rounds=prepared.rounds,
        expected_score=totals.score_sum[schedule] / n / tick,
        stderr=_stderr(totals, prepared)[schedule],
        rank_probs=rank_probs,
        worst_rank_probs=totals.worst_rank_count[schedule] / n,
        champion_prob=rank_probs[:, 0].copy(),
        champion_stderr=mean_stderr(totals.rank_count[schedule, :, 0], totals.rank_count[schedule, :, 0], n),
        survival=(totals.survival_count[schedule] / n).T,
        expected_score_by_round=(totals.round_score_sum[schedule] / n / tick).T,
        n_runs=int(n),
        tournament=prepared.spec if tournament is None else tournament,
        round_activity=totals.round_games_count[schedule] / n,
        estimator_note=how.note,
        **settings,
    )
    if totals.control is None:
        return result
    stderr = control_stderr(totals.control, int(n), tick)[schedule]
    champion_stderr = control_stderr(totals.champion, int(n), CHAMPION_SCALE)[schedule]
    return dataclasses.replace(
        result,
        expected_score=control_mean(totals.control, int(n), tick)[schedule],
        stderr=stderr,
        champion_prob=control_probability(totals.champion, int(n))[schedule],
        champion_stderr=champion_stderr,
        estimator="cv",
        variance_reduction=variance_reduction(result.stderr, stderr),
        champion_variance_reduction=variance_reduction(result.champion_stderr, champion_stderr),
        pilot_runs=how.pilot_runs,
    )


def _estimate_stderr(totals: Totals, prepared: Prepared) -> np.ndarray:
    """(S, M) standard errors of the estimate of E[S], in points: of the cv scores where
    the runs carry them, else of the final scores."""
    if totals.control is not None:
        return control_stderr(totals.control, int(totals.n_runs), prepared.ticks_per_point)
    return _stderr(totals, prepared)


def _stderr(totals: Totals, prepared: Prepared) -> np.ndarray:
    """(..., S, M) standard errors of the mean final score, in points."""
    return mean_stderr(totals.score_sum, totals.score_sq_sum, totals.n_runs) / prepared.ticks_per_point


def _positive(option: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{option}={value!r} must be a positive number") from None
    if not number > 0:
        raise InputError(f"{option}={value!r} must be > 0")
    return number
