"""Failure Sensitivity Analysis: one kernel call over several elimination schedules.

All schedules play the same runs with the same random numbers (common random numbers):
the model keys of a run and round, and the outcome of any pair that meets, are shared. The
elimination after a round removes the boundary group's lowest-key members, which sit at
the end of that group's pairing order, so the remaining pairs of the round are the same
pairs as with no elimination. The drop of a model, E[S|T] - E[S|T0], is then estimated
from per-run differences, with a standard error from their spread.

How much the shared numbers help depends on the length of the tournament: a model whose
score differs between two schedules sits in a different group and changes its opponents'
games, so the schedules drift apart round by round. On 16 models x 3 rounds the paired SE
is 1.75x smaller than independent runs'; from about 10 rounds on the gain is a few percent
(LiveBench, 21 rounds: 1.02x), and the drop's SE is about sqrt(2) x the SE of E[S]. No other
uniform pairing construction (trie, closest keys, minimal edits across schedules) does
materially better: studies/coupling/README.md has the study.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from csd._src import shards, streams
from csd._src.driver import PER_RUN_SUMS, Totals, prepare, run_engine
from csd._src.errors import InputError, check_choice
from csd._src.results import SimulationResult, SweepResult
from csd._src.control import Tables
from csd._src.estimator import ControlTotals, control_drop_stderr, mean_stderr
from csd._src.frozen import warns_frozen
from csd._src.simulate import estimation, schedule_result
from csd._src.spec import Tournament, as_tournament

COUPLINGS = ("common", "independent")
RISK_PROFILES = ("robust generalist", "in between", "aggressive specialist")
MIN_PROFILE_MODELS = 8  # fewer models have too few peers for a trend: nobody is flagged


@warns_frozen()
@shards.shardable
def sweep(
    table_or_probs,
    schedules: Sequence = (0, 1, 2),
    *,
    tournament: Tournament | None = None,
    n_runs: int = 100_000,
    coupling: str = "common",
    seed: int = 0,
    chunk_size: int | None = None,
    risk_z: float = 3.0,
    risk_spread: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    estimator: str = "cv",
    **rules,
) -> SweepResult:
    """Failure Sensitivity Analysis: E[S_m] under several elimination schedules at once.

    Args:
      table_or_probs: a `ScoreTable` or an (M, M, K) win-probability tensor.
      schedules: at least two schedules, each an int T (every round) or K ints; the
        first is the reference the drops are taken against (the paper: 0, 1, 2).
      coupling: `common` (one kernel call, shared random numbers: the drop's SE comes
        from per-run differences) or `independent` (separate random streams per schedule,
        for comparison).
      tournament, **rules: the rules, as in `simulate`; the schedules replace their
        `elimination`.
      risk_z, risk_spread: the risk-profile rule's thresholds (see `risk_profiles`): a
        number >= 0 each.
      estimator: as in `simulate`; with `cv` the drops, their SEs and the risk profiles
        come from the per-run control-variate scores (tables fitted per schedule).
      n_runs, seed, chunk_size, progress, shard: as in `simulate` (n_runs per schedule).

    Returns:
      A `SweepResult`.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c", "d"), ("x", "y", "z"), np.array(
      ...     [[4.0, 4, 4], [3, 3, 3], [2, 2, 2], [1, 1, 1]]))
      >>> import warnings
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     result = csd.sweep(table, schedules=[0, 1], n_runs=1000)
      >>> # the two models left after round 2 differ in score, so nobody plays round 3:
      >>> str(caught[0].message).split(":")[0]
      'under T=1, round 3 (z) played no game in every tournament'
      >>> result.labels, result.expected_score[0].tolist()
      (('T=0', 'T=1'), [2.0, 2.0, 1.0, 0.0])
      >>> result.expected_score[1].round(1).tolist()  # d is out after round 1; b and c split
      [2.0, 0.7, 0.3, 0.0]
    """
    check_choice("coupling", coupling, COUPLINGS)
    if np.isscalar(schedules) or len(schedules) < 2:
        raise InputError(f"schedules={schedules!r}: a sweep needs at least two schedules")
    risk_z, risk_spread = (_threshold(name, value) for name, value in (("risk_z", risk_z), ("risk_spread", risk_spread)))
    prepared = prepare(table_or_probs, as_tournament(tournament, rules))
    matrix = prepared.schedules(list(schedules))
    options = dict(n_runs=n_runs, seed=seed, chunk_size=chunk_size, progress=progress)
    how = estimation(prepared, matrix, estimator, **options)
    if coupling == "common":
        totals = run_engine(prepared, matrix, tables=how.tables, **options)
    else:
        totals = _stack([
            run_engine(prepared, row[None], stream=stream, tables=_schedule_tables(how.tables, s), **options)
            for s, (row, stream) in enumerate(zip(matrix, streams.schedule_streams(len(matrix))))
        ])
    results = tuple(
        schedule_result(prepared, totals, s, prepared.spec.replace(elimination=_as_schedule(schedule)), how, seed=seed)
        for s, schedule in enumerate(schedules)
    )
    drop_stderr = None
    if coupling == "common" and totals.control is not None:
        drop_stderr = control_drop_stderr(totals.control, int(totals.n_runs), prepared.ticks_per_point)
    elif coupling == "common":
        gap_sum = totals.score_sum - totals.score_sum[:1]
        drop_stderr = mean_stderr(gap_sum, totals.diff_sq_sum, totals.n_runs) / prepared.ticks_per_point
    return sweep_result(results, coupling, risk_z, risk_spread, drop_stderr)


def sweep_result(
    results: Sequence[SimulationResult],
    coupling: str,
    risk_z: float = 3.0,
    risk_spread: float = 1.0,
    drop_stderr: np.ndarray | None = None,
) -> SweepResult:
    """The `SweepResult` of one `SimulationResult` per schedule, the first the reference.

    Args:
      drop_stderr: (S, M) the drops' SEs from paired runs; None: independent runs,
        sqrt(SE_s^2 + SE_0^2) (separate runs, e.g. collected from a multirun).
    """
    expected = np.stack([r.expected_score for r in results])
    stderr = np.stack([r.stderr for r in results])
    drop = expected - expected[:1]
    independent = np.sqrt(stderr**2 + stderr[:1] ** 2)
    independent[0] = 0.0  # the reference against itself
    drop_stderr = independent.copy() if drop_stderr is None else drop_stderr
    drop_stderr[0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected[:1] != 0, drop / expected[:1], np.nan)
        relative_stderr = np.where(expected[:1] != 0, drop_stderr / np.abs(expected[:1]), np.nan)
    profiles, residual = risk_profiles(expected[0], drop[-1], drop_stderr[-1], risk_z, risk_spread)
    schedules = np.stack([r.tournament.schedule(len(r.rounds)) for r in results])
    return SweepResult(
        models=results[0].models,
        rounds=results[0].rounds,
        schedules=schedules,
        labels=tuple(r.tournament.label() for r in results),
        expected_score=expected,
        stderr=stderr,
        drop=drop,
        drop_stderr=drop_stderr,
        independent_drop_stderr=independent,
        relative_drop=relative,
        relative_drop_stderr=relative_stderr,
        risk_profile=profiles,
        risk_residual=residual,
        results=tuple(results),
        coupling=coupling,
        risk_z=risk_z,
        risk_spread=risk_spread,
    )


def risk_profiles(base: np.ndarray, drop: np.ndarray, drop_stderr: np.ndarray, z: float, spread: float):
    """Classifies each model's drop against its peers in the field.

    A model's peers are the k = min(M - 1, 50, max(8, M // 5)) other models closest to it in
    E[S | reference]: what a model can lose depends on what it has (a weak model has
    little to lose, a strong one is rarely eliminated), so a drop is only compared with
    the drops of similar models. The residual is the drop minus the peers' trend at the
    model's E[S | reference]: a Theil-Sen line through the peers (median slope, median
    intercept), which serves the weakest and strongest models too, whose peers all lie on
    one side, and which one odd peer cannot tilt. A
    model differs from its peers only if |residual| > z * its drop SE (not Monte Carlo
    noise) and |residual| > spread * the field's robust residual spread (1.4826 * MAD; not
    a negligible difference). A positive residual (it loses less than its peers) is a
    `robust generalist`, a negative one an `aggressive specialist`, the rest `in between`.
    With fewer than `MIN_PROFILE_MODELS` models every model is `in between`: a trend through
    a handful of peers says nothing about the field (the residuals are still returned).

    Args:
      base, drop, drop_stderr: (M,) arrays.
    Returns:
      (profiles (M,) tuple of str, residuals (M,) float).
    """
    residual = drop - peer_trend(base, drop)
    field_spread = 1.4826 * np.median(np.abs(residual - np.median(residual)))
    differs = (np.abs(residual) > z * drop_stderr) & (np.abs(residual) > spread * field_spread)
    differs &= len(base) >= MIN_PROFILE_MODELS
    labels = np.where(differs & (residual > 0), RISK_PROFILES[0], RISK_PROFILES[1])
    labels = np.where(differs & (residual < 0), RISK_PROFILES[2], labels)
    return tuple(labels.tolist()), residual


def peer_trend(base: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """(M,) the drop each model's peers predict for it (see `risk_profiles`): the Theil-Sen
    line through the drops of the k models closest in `base`, at the model's `base`."""
    n_models = len(base)
    n_peers = min(n_models - 1, 50, max(8, n_models // 5))
    distance = np.abs(base[:, None] - base[None, :]) + np.where(np.eye(n_models, dtype=bool), np.inf, 0.0)
    peers = np.argsort(distance, axis=1, kind="stable")[:, :n_peers]  # (M, k)
    return np.array([_line_at(base[p], drop[p], x) for p, x in zip(peers, base)])


def _line_at(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """The Theil-Sen line through (x, y) evaluated at `at`: the median of the pairwise
    slopes, then the median intercept (0 slope where every x is equal)."""
    i, j = np.triu_indices(len(x), 1)
    steep = x[j] != x[i]
    slope = float(np.median((y[j] - y[i])[steep] / (x[j] - x[i])[steep])) if steep.any() else 0.0
    return float(np.median(y - slope * x) + slope * at)


def _as_schedule(schedule):
    """A sweep's schedule as a `Tournament.elimination` (an int, or a tuple per round)."""
    return schedule if np.ndim(schedule) == 0 else tuple(np.asarray(schedule).tolist())


def _threshold(name: str, value) -> float:
    """A risk-profile threshold: a finite number >= 0, or InputError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r} must be a number >= 0") from None
    if not (np.isfinite(number) and number >= 0):
        raise InputError(f"{name}={value!r} must be a finite number >= 0")
    return number


def _stack(parts: list[Totals]) -> Totals:
    """One Totals with the schedules of `parts` (one schedule each) side by side; its
    diff_sq_sum is zero (independent runs have no per-run differences)."""
    fields = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in dataclasses.fields(Totals)
        if f.name not in ("n_runs", *PER_RUN_SUMS)
    }
    per_run = {name: _stack_control([getattr(p, name) for p in parts]) for name in PER_RUN_SUMS}
    return Totals(n_runs=parts[0].n_runs, **per_run, **fields)


def _stack_control(parts: list) -> ControlTotals | None:
    """The `ControlTotals` of `parts` side by side, with no per-run differences (None for none)."""
    if parts[0] is None:
        return None
    stacked = ControlTotals(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(ControlTotals)))
    stacked.gap_sq_sum[:] = 0
    return stacked


def _schedule_tables(tables: Tables | None, schedule: int) -> Tables | None:
    """The tables of one schedule, as a one-schedule stack (None stays None)."""
    return None if tables is None else Tables(*(t[schedule : schedule + 1] for t in tables))
