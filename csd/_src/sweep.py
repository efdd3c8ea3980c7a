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
materially better: benchmarks/coupling/README.md has the study.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from csd._src.baselines import places
from csd._src.control import Tables
from csd._src.driver import Totals, build_tournament, elimination_schedules, run_engine, run_pilot
from csd._src.errors import InputError, check_choice, check_int
from csd._src.estimator import ControlTotals, control_drop_stderr, fit_tables, pilot_size, resolve
from csd._src.simulate import SimulationResult, _result, mean_stderr, pairing_options, with_estimator

COUPLINGS = ("common", "independent")
RISK_PROFILES = ("robust generalist", "in between", "aggressive specialist")


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """E[S_m] under S elimination schedules and each model's drop against the first.

    Attributes:
      models: (M,) names; rounds: (K,) benchmark names.
      schedules: (S, K) int, schedule s eliminates schedules[s, k] models after round k.
      labels: (S,) short names of the schedules (`T=1`, or `schedule 2`).
      expected_score, stderr: (S, M) E[S_m | schedule s] and its Monte Carlo SE.
      drop: (S, M) E[S_m | s] - E[S_m | 0]; drop_stderr (S, M) its SE from the per-run
        differences (the schedules share their random numbers under `common` coupling).
      independent_drop_stderr: (S, M) the SE the drop would have with independent runs,
        sqrt(stderr[s]**2 + stderr[0]**2): the ratio to `drop_stderr` is the gain of
        the coupling.
      relative_drop, relative_drop_stderr: (S, M) drop / E[S_m | 0] and its SE (NaN where
        E[S_m | 0] = 0; the SE treats the denominator as known).
      risk_profile: (M,) `robust generalist`, `in between` or `aggressive specialist`, from
        the last schedule's drop (see `risk_profiles`).
      risk_residual: (M,) the last drop minus its peers' trend (the models closest in
        E[S | 0]; see `risk_profiles`).
      results: one `SimulationResult` per schedule.
      n_runs: runs per schedule; config: the options.
    """

    models: tuple[str, ...]
    rounds: tuple[str, ...]
    schedules: np.ndarray
    labels: tuple[str, ...]
    expected_score: np.ndarray
    stderr: np.ndarray
    drop: np.ndarray
    drop_stderr: np.ndarray
    independent_drop_stderr: np.ndarray
    relative_drop: np.ndarray
    relative_drop_stderr: np.ndarray
    risk_profile: tuple[str, ...]
    risk_residual: np.ndarray
    results: tuple[SimulationResult, ...]
    n_runs: int
    config: dict

    def format_table(self, top: int | None = None) -> str:
        """Models by E[S | first schedule]: E[S] per schedule, the last drop and profile."""
        order = np.lexsort((np.arange(len(self.models)), -self.expected_score[0]))[:top]
        width = max(len("model"), *(len(self.models[m]) for m in order))
        header = f"{'model':<{width}}" + "".join(f"  {label:>15}" for label in self.labels)
        header += f"  {'drop (last)':>16}  profile"
        lines = [header]
        for m in order:
            cells = "".join(f"  {self.expected_score[s, m]:>7.3f} ± {self.stderr[s, m]:.3f}" for s in range(len(self.labels)))
            drop = f"{self.drop[-1, m]:>+8.3f} ± {self.drop_stderr[-1, m]:.3f}"
            lines.append(f"{self.models[m]:<{width}}{cells}  {drop:>16}  {self.risk_profile[m]}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON (NaN becomes None)."""
        arrays = (
            "expected_score stderr drop drop_stderr independent_drop_stderr relative_drop "
            "relative_drop_stderr risk_residual"
        ).split()
        return {
            "models": list(self.models),
            "rounds": list(self.rounds),
            "schedules": self.schedules.tolist(),
            "labels": list(self.labels),
            **{name: _json_array(getattr(self, name)) for name in arrays},
            "risk_profile": list(self.risk_profile),
            "rank": [places(row).tolist() for row in self.expected_score],
            "n_runs": self.n_runs,
            "config": self.config,
        }


def sweep(
    table_or_probs,
    schedules: Sequence = (0, 1, 2),
    *,
    n_runs: int = 100_000,
    coupling: str = "common",
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
    risk_z: float = 3.0,
    risk_spread: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    estimator: str = "cv",
) -> SweepResult:
    """Failure Sensitivity Analysis: E[S_m] under several elimination schedules at once.

    Args:
      table_or_probs: a `ScoreTable` or an (M, M, K) win-probability tensor.
      schedules: at least two schedules, each an int T (every round) or K ints; the
        first is the reference the drops are taken against (the paper: 0, 1, 2).
      coupling: `common` (one kernel call, shared random numbers: the drop's SE comes
        from per-run differences) or `independent` (separate random streams per schedule,
        for comparison).
      risk_z, risk_spread: the risk-profile rule's thresholds (see `risk_profiles`).
      estimator: as in `simulate`; with `cv` the drops, their SEs and the risk profiles
        come from the per-run control-variate scores (tables fitted per schedule).
      The other options are those of `simulate`.

    Returns:
      A `SweepResult`.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c", "d"), ("x", "y", "z"), np.array(
      ...     [[4.0, 4, 4], [3, 3, 3], [2, 2, 2], [1, 1, 1]]))
      >>> result = csd.sweep(table, schedules=[0, 1], n_runs=1000)
      >>> result.expected_score.tolist()
      [[2.0, 2.0, 1.0, 0.0], [2.0, 2.0, 1.0, 0.0]]
    """
    check_choice("coupling", coupling, COUPLINGS)
    if np.isscalar(schedules) or len(schedules) < 2:
        raise InputError(f"schedules={schedules!r}: a sweep needs at least two schedules")
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
    matrix = elimination_schedules(list(schedules), tournament.rules.n_rounds)
    used, note = resolve(estimator, tournament.rules)
    tables, n_pilot = None, 0
    if used == "cv":
        n_pilot = pilot_size(check_int("n_runs", n_runs, 1))
        tables = fit_tables(run_pilot(tournament, matrix, n_runs=n_pilot, seed=seed), tournament.rules)
    options = dict(n_runs=n_runs, seed=seed, chunk_size=chunk_size, progress=progress)
    if coupling == "common":
        totals = run_engine(tournament, matrix, tables=tables, **options)
    else:
        totals = _stack(
            [
                run_engine(tournament, row[None], stream=s, tables=_schedule_tables(tables, s), **options)
                for s, row in enumerate(matrix)
            ]
        )
    config = {
        "schedules": matrix.tolist(),
        "coupling": coupling,
        "pairing": pairing,
        "tie": tie,
        "bye_points": bye_points,
        "draw_points": draw_points,
        "min_active": min_active,
        **pairing_options(tournament),
        "seed": seed,
        "risk_z": risk_z,
        "risk_spread": risk_spread,
        "estimator": used,
    }
    results = tuple(
        with_estimator(_result(tournament, totals, s, {**config, "elimination": matrix[s].tolist()}), tournament, totals, s, note, n_pilot)
        for s in range(len(matrix))
    )
    return _sweep_result(tournament, totals, matrix, results, coupling, config, risk_z, risk_spread)


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

    Args:
      base, drop, drop_stderr: (M,) arrays.
    Returns:
      (profiles (M,) tuple of str, residuals (M,) float).
    """
    n_models = len(base)
    n_peers = min(n_models - 1, 50, max(8, n_models // 5))
    distance = np.abs(base[:, None] - base[None, :]) + np.where(np.eye(n_models, dtype=bool), np.inf, 0.0)
    peers = np.argsort(distance, axis=1, kind="stable")[:, :n_peers]  # (M, k)
    residual = drop - np.array([_line_at(base[p], drop[p], x) for p, x in zip(peers, base)])
    field_spread = 1.4826 * np.median(np.abs(residual - np.median(residual)))
    differs = (np.abs(residual) > z * drop_stderr) & (np.abs(residual) > spread * field_spread)
    labels = np.where(differs & (residual > 0), RISK_PROFILES[0], RISK_PROFILES[1])
    labels = np.where(differs & (residual < 0), RISK_PROFILES[2], labels)
    return tuple(labels.tolist()), residual


def _line_at(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """The Theil-Sen line through (x, y) evaluated at `at`: the median of the pairwise
    slopes, then the median intercept (0 slope where every x is equal)."""
    i, j = np.triu_indices(len(x), 1)
    steep = x[j] != x[i]
    slope = float(np.median((y[j] - y[i])[steep] / (x[j] - x[i])[steep])) if steep.any() else 0.0
    return float(np.median(y - slope * x) + slope * at)


def _sweep_result(tournament, totals: Totals, matrix, results, coupling, config, risk_z, risk_spread) -> SweepResult:
    expected = np.stack([r.expected_score for r in results])
    stderr = np.stack([r.stderr for r in results])
    drop = expected - expected[:1]
    independent = np.sqrt(stderr**2 + stderr[:1] ** 2)
    if coupling == "common" and totals.control is not None:
        drop_stderr = control_drop_stderr(totals.control, int(totals.n_runs), tournament.ticks_per_point)
    elif coupling == "common":
        gap_sum = totals.score_sum - totals.score_sum[:1]
        drop_stderr = mean_stderr(gap_sum, totals.diff_sq_sum, totals.n_runs) / tournament.ticks_per_point
    else:
        drop_stderr = independent
    drop_stderr[0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected[:1] != 0, drop / expected[:1], np.nan)
        relative_stderr = np.where(expected[:1] != 0, drop_stderr / np.abs(expected[:1]), np.nan)
    profiles, residual = risk_profiles(expected[0], drop[-1], drop_stderr[-1], risk_z, risk_spread)
    return SweepResult(
        models=tournament.models,
        rounds=tournament.rounds,
        schedules=matrix,
        labels=_labels(matrix),
        expected_score=expected,
        stderr=stderr,
        drop=drop,
        drop_stderr=drop_stderr,
        independent_drop_stderr=independent,
        relative_drop=relative,
        relative_drop_stderr=relative_stderr,
        risk_profile=profiles,
        risk_residual=residual,
        results=results,
        n_runs=results[0].n_runs,
        config=config,
    )


def _labels(matrix: np.ndarray) -> tuple[str, ...]:
    """`T=t` for constant schedules, `schedule s` otherwise."""
    return tuple(f"T={row[0]}" if (row == row[0]).all() else f"schedule {s}" for s, row in enumerate(matrix))


def _stack(parts: list[Totals]) -> Totals:
    """One Totals with the schedules of `parts` (one schedule each) side by side; its
    diff_sq_sum is zero (independent runs have no per-run differences)."""
    fields = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Totals) if f.name not in ("n_runs", "control")}
    control = None
    if parts[0].control is not None:
        control = ControlTotals(
            *(np.concatenate([getattr(p.control, f.name) for p in parts]) for f in dataclasses.fields(ControlTotals))
        )
        control.gap_sq_sum[:] = 0
    return Totals(n_runs=parts[0].n_runs, control=control, **fields)


def _schedule_tables(tables: Tables | None, schedule: int) -> Tables | None:
    """The tables of one schedule, as a one-schedule stack (None stays None)."""
    return None if tables is None else Tables(*(t[schedule : schedule + 1] for t in tables))


def _json_array(values: np.ndarray) -> list:
    return np.where(np.isnan(values), None, values).tolist()
