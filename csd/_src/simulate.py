"""`simulate`: the Expected Win Score of every model, with Monte Carlo uncertainty."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Callable, NamedTuple

import numpy as np

from csd._src.control import Tables
from csd._src.driver import Prepared, Totals, prepare, run_engine
from csd._src.errors import InputError, check_int
from csd._src.estimator import (
    CHAMPION_SCALE,
    control_mean,
    control_stderr,
    mean_stderr,
    pilot_size,
    resolve,
    variance_reduction,
)
from csd._src.pilot_cache import fitted_tables
from csd._src.results import SimulationResult
from csd._src.spec import Tournament, as_tournament


class Estimation(NamedTuple):
    """How E[S] is estimated: `tables` (`control.Tables`, (S, K, M, V, 2)) for the cv
    estimator or None for plain averages, why plain runs where cv was asked for, and the
    pilot runs that fitted the tables (not among the N)."""

    tables: Tables | None = None
    note: str | None = None
    pilot_runs: int = 0


def estimation(prepared: Prepared, schedules: np.ndarray, estimator: str, n_runs: int, seed: int) -> Estimation:
    """The `Estimation` of `estimator` (`cv` or `plain`) for these schedules: cv fits its
    tables on a pilot of its own random stream (`streams.CV_PILOT`), where it applies
    (reused within the process where the same pilot was played: `pilot_cache`).

    Raises:
      InputError: for an unknown estimator.
    """
    used, note = resolve(estimator, prepared.rules)
    if used != "cv":
        return Estimation(note=note)
    n_pilot = pilot_size(check_int("n_runs", n_runs, 1))
    if prepared.n_replicates is not None:  # the same pilot runs for every replicate
        n_pilot = -(-n_pilot // prepared.n_replicates) * prepared.n_replicates
    return Estimation(fitted_tables(prepared, schedules, n_runs=n_pilot, seed=seed), None, n_pilot)


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
        probability and control terms of its own; rank_probs and survival are plain
        averages.
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
      >>> result.expected_score.tolist()
      [2.0, 2.0, 1.0, 0.0]
    """
    prepared = prepare(table_or_probs, as_tournament(tournament, rules))
    schedules = prepared.schedules()
    how = estimation(prepared, schedules, estimator, n_runs, seed)
    stop = None
    if target_se is not None:
        target = _positive("target_se", target_se)
        stop = lambda totals: bool(_estimate_stderr(totals, prepared)[0].max() <= target)  # noqa: E731
    elif max_runs is not None:
        raise InputError(
            f"max_runs={max_runs!r} is the cap for target_se; give target_se too, or leave it out", "max_runs"
        )
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
    if check_int("order_sensitivity", order_sensitivity, 0):
        from csd._src.orders import order_sensitivity as measure

        sensitivity = measure(table_or_probs, prepared.spec, n_orders=order_sensitivity, seed=seed,
                              reference=result, chunk_size=chunk_size)
        result = dataclasses.replace(result, order_sensitivity=sensitivity)
    return result


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
        champion_prob=control_mean(totals.champion, int(n), CHAMPION_SCALE)[schedule],
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
