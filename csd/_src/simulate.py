"""`simulate`: the Expected Win Score of every model, with Monte Carlo uncertainty."""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from csd._src.baselines import places
from csd._src.driver import Totals, Tournament, build_tournament, elimination_schedules, run_engine, run_pilot
from csd._src.errors import InputError, check_int
from csd._src.estimator import (
    control_mean,
    control_stderr,
    fit_tables,
    pilot_size,
    resolve,
    variance_reduction,
)


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """What N simulated tournaments say about each model.

    Attributes:
      models: (M,) names, in table order.
      rounds: (K,) benchmark names, in round order.
      expected_score: (M,) E[S_m], mean final score over the runs.
      stderr: (M,) Monte Carlo standard error of `expected_score`, sd(S_m) / sqrt(N).
      rank_probs: (M, M) [m, r] = P(model m finishes at rank r + 1); ties share the better
        rank, so a row sums to 1 and column 0 can sum to more than 1.
      champion_prob: (M,) P(rank 1), alone or tied.
      survival: (M, K) P(active after the elimination that follows round k).
      expected_score_by_round: (M, K) E[score after round k].
      n_runs: N.
      config: the options that produced it (seed, schedule, pairing, points, ...).
      estimator: `cv` (expected_score and stderr from control-variate scores, see
        `estimator`) or `plain` (averages of the final scores).
      estimator_note: why `plain` ran where `cv` was asked for, else None.
      variance_reduction: (M,) Var(plain final score) / Var(cv score) on the same runs
        (None for `plain`).
      pilot_runs: the runs that fitted the cv tables (not among the N; 0 for `plain`).
    """

    models: tuple[str, ...]
    rounds: tuple[str, ...]
    expected_score: np.ndarray
    stderr: np.ndarray
    rank_probs: np.ndarray
    champion_prob: np.ndarray
    survival: np.ndarray
    expected_score_by_round: np.ndarray
    n_runs: int
    config: dict
    estimator: str = "plain"
    estimator_note: str | None = None
    variance_reduction: np.ndarray | None = None
    pilot_runs: int = 0

    def order(self) -> np.ndarray:
        """(M,) model indices from the highest expected score down (ties by table order)."""
        return np.lexsort((np.arange(len(self.models)), -self.expected_score))

    def ranking(self) -> list[dict]:
        """One dict per model, best first: rank, model, expected_score, stderr, champion_prob."""
        return [
            {
                "rank": place,
                "model": self.models[m],
                "expected_score": float(self.expected_score[m]),
                "stderr": float(self.stderr[m]),
                "champion_prob": float(self.champion_prob[m]),
            }
            for place, m in enumerate(self.order(), start=1)
        ]

    def rank_interval(self, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), each (M,) int: the central `coverage` interval of each model's
        simulated final rank (1 = best)."""
        cumulative = np.cumsum(self.rank_probs, axis=1)
        tail = (1.0 - coverage) / 2
        low = (cumulative < tail - 1e-12).sum(axis=1) + 1
        high = (cumulative < 1.0 - tail - 1e-12).sum(axis=1) + 1
        return low, high

    def format_table(self, top: int | None = None) -> str:
        """The ranking as aligned text: rank, model, E[S], SE, P(champion)."""
        rows = self.ranking()[:top]
        width = max(len("model"), *(len(r["model"]) for r in rows))
        lines = [f"{'rank':>4}  {'model':<{width}}  {'E[S]':>8}  {'SE':>7}  {'P(champion)':>11}"]
        lines += [
            f"{r['rank']:>4}  {r['model']:<{width}}  {r['expected_score']:>8.3f}  "
            f"{r['stderr']:>7.4f}  {r['champion_prob']:>11.4f}"
            for r in rows
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON."""
        return {
            "models": list(self.models),
            "rounds": list(self.rounds),
            "expected_score": self.expected_score.tolist(),
            "stderr": self.stderr.tolist(),
            "rank": places(self.expected_score).tolist(),
            "rank_probs": self.rank_probs.tolist(),
            "champion_prob": self.champion_prob.tolist(),
            "survival": self.survival.tolist(),
            "expected_score_by_round": self.expected_score_by_round.tolist(),
            "n_runs": self.n_runs,
            "config": self.config,
            "estimator": self.estimator,
            "estimator_note": self.estimator_note,
            "variance_reduction": None if self.variance_reduction is None else _nan_to_none(self.variance_reduction),
            "pilot_runs": self.pilot_runs,
        }


def simulate(
    table_or_probs,
    *,
    n_runs: int = 100_000,
    elimination: int | Sequence[int] = 0,
    pairing: str = "random",
    tie: str = "coin",
    bye_points: float = 0.0,
    draw_points: float = 0.5,
    min_active: int = 1,
    bye: str | None = None,
    bye_once: bool = False,
    avoid_rematch: bool = False,
    seed: int = 0,
    chunk_size: int | None = None,
    target_se: float | None = None,
    max_runs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    estimator: str = "cv",
) -> SimulationResult:
    """Simulates `n_runs` Swiss-system tournaments and reports each model's Expected Win Score.

    Args:
      table_or_probs: a `ScoreTable` (round k is benchmark k) or an (M, M, K) tensor P of
        win probabilities (P[i, j, k] + P[j, i, k] <= 1, the rest a draw).
      n_runs: N, the number of tournaments.
      elimination: T, models eliminated after each round: an int, or one int per round.
      pairing: `random` (the paper), `float`, `fold`, `slide` or `adjacent` (docs/rules.md).
      tie: for a table, what an exact tie is: `coin` (fair coin) or `draw`.
      bye_points, draw_points: points of a bye and of a draw, in [0, 1].
      min_active: never eliminate below this many active models.
      bye: who of an odd group gets the bye: `random` (a uniformly random member) or
        `lowest` (the lowest seed); None: the rule's own (`random` for `random` and `float`,
        `lowest` for the seeded rules, which allow nothing else).
      bye_once: give the bye to a member with no earlier bye when the group has one.
      avoid_rematch: never repeat a game inside a group (segment) while a matching of it
        without one exists (a depth-first search in the rule's order; at most 192 models).
      seed: the seed; a run's random numbers depend only on it and the run's index.
      chunk_size: runs per kernel call; results do not depend on it.
      target_se: if given, keep adding chunks (after the first `n_runs` runs) until every
        model's standard error is at most this, or `max_runs` runs are done.
      max_runs: the cap for `target_se` (default 100 * n_runs).
      progress: called with (runs done, runs planned) after each chunk.
      estimator: `cv` (control variates: the same SE from several times fewer runs, after
        a pilot of `estimator.pilot_size(n_runs)` extra runs; `random` pairing with a
        random bye only, elsewhere `plain` runs and the result says why) or `plain`.
        Only E[S] and its SE use it.

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
    tournament = build_tournament(
        table_or_probs,
        pairing=pairing,
        tie=tie,
        bye_points=bye_points,
        draw_points=draw_points,
        min_active=min_active,
        bye=bye,
        bye_once=bye_once,
        avoid_rematch=avoid_rematch,
    )
    schedules = elimination_schedules([elimination], tournament.rules.n_rounds)
    used, note = resolve(estimator, tournament.rules)
    tables, n_pilot = None, 0
    if used == "cv":
        n_pilot = pilot_size(check_int("n_runs", n_runs, 1))
        tables = fit_tables(run_pilot(tournament, schedules, n_runs=n_pilot, seed=seed), tournament.rules)
    stop = None
    if target_se is not None:
        target = _positive("target_se", target_se)
        stop = lambda totals: bool(_estimate_stderr(totals, tournament)[0].max() <= target)  # noqa: E731
    totals = run_engine(
        tournament,
        schedules,
        n_runs=n_runs,
        seed=seed,
        chunk_size=chunk_size,
        progress=progress,
        stop=stop,
        max_runs=max_runs,
        tables=tables,
    )
    config = {
        "elimination": schedules[0].tolist(),
        "pairing": pairing,
        "tie": tie if not _is_tensor(table_or_probs) else None,
        "bye_points": bye_points,
        "draw_points": draw_points,
        "min_active": min_active,
        **pairing_options(tournament),
        "seed": seed,
        "target_se": target_se,
        "estimator": used,
    }
    return with_estimator(_result(tournament, totals, 0, config), tournament, totals, 0, note, n_pilot)


def with_estimator(result: SimulationResult, tournament: Tournament, totals: Totals, schedule: int, note, n_pilot: int):
    """`result` (plain) with the cv estimates of schedule `schedule` where the runs carry
    them (`Totals.control`), and the estimator's record."""
    if totals.control is None:
        return dataclasses.replace(result, estimator_note=note)
    n, tick = int(totals.n_runs), tournament.ticks_per_point
    stderr = control_stderr(totals.control, n, tick)[schedule]
    return dataclasses.replace(
        result,
        expected_score=control_mean(totals.control, n, tick)[schedule],
        stderr=stderr,
        estimator="cv",
        variance_reduction=variance_reduction(result.stderr, stderr),
        pilot_runs=n_pilot,
    )


def pairing_options(tournament: Tournament) -> dict:
    """The pairing options as played (`bye` resolved), for a result's config."""
    rules = tournament.rules
    return {"bye": rules.bye, "bye_once": rules.bye_once, "avoid_rematch": rules.avoid_rematch}


def _result(tournament: Tournament, totals: Totals, schedule: int, config: dict) -> SimulationResult:
    """The `SimulationResult` of schedule `schedule` in `totals`."""
    n = totals.n_runs
    tick = tournament.ticks_per_point
    rank_probs = totals.rank_count[schedule] / n
    return SimulationResult(
        models=tournament.models,
        rounds=tournament.rounds,
        expected_score=totals.score_sum[schedule] / n / tick,
        stderr=_stderr(totals, tournament)[schedule],
        rank_probs=rank_probs,
        champion_prob=rank_probs[:, 0].copy(),
        survival=(totals.survival_count[schedule] / n).T,
        expected_score_by_round=(totals.round_score_sum[schedule] / n / tick).T,
        n_runs=int(n),
        config=config,
    )


def _estimate_stderr(totals: Totals, tournament: Tournament) -> np.ndarray:
    """(S, M) standard errors of the estimate of E[S], in points: of the cv scores where
    the runs carry them, else of the final scores."""
    if totals.control is not None:
        return control_stderr(totals.control, int(totals.n_runs), tournament.ticks_per_point)
    return _stderr(totals, tournament)


def _stderr(totals: Totals, tournament: Tournament) -> np.ndarray:
    """(..., S, M) standard errors of the mean final score, in points."""
    return mean_stderr(totals.score_sum, totals.score_sq_sum, totals.n_runs) / tournament.ticks_per_point


def mean_stderr(total: np.ndarray, total_sq: np.ndarray, n_runs) -> np.ndarray:
    """Standard error of a mean, sd / sqrt(n) (ddof 1), from exact integer sums.

    Args:
      total, total_sq: int64 arrays (..., X): sums of the values and of their squares.
      n_runs: int or int array broadcasting against (..., 1): the number of values.
    """
    n = np.asarray(n_runs, dtype=object)[..., None] if np.ndim(n_runs) else int(n_runs)
    # n * (sum of squared deviations), exactly, in Python integers.
    scaled = n * total_sq.astype(object) - total.astype(object) ** 2
    n_float = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = scaled.astype(np.float64) / (n_float * (n_float - 1))
        return np.where(n_float >= 2, np.sqrt(variance / n_float), np.nan)


def _positive(option: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{option}={value!r} must be a positive number") from None
    if not number > 0:
        raise InputError(f"{option}={value!r} must be > 0")
    return number


def _nan_to_none(values: np.ndarray) -> list:
    return np.where(np.isnan(values), None, values).tolist()


def _is_tensor(table_or_probs) -> bool:
    from csd._src.table import ScoreTable

    return not isinstance(table_or_probs, ScoreTable)
