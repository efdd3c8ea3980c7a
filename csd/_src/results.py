"""Every result type, how it becomes plain data and back, and how it is shown as a table.

`SimulationResult` (`simulate`), `SweepResult` (`sweep`), `BootstrapResult` (`bootstrap`),
`Comparison` (`compare`) and `OutlierResult` (`outlier_test`) are frozen dataclasses of
NumPy arrays and names. Each has:
  - `to_dict()`: plain lists and numbers for JSON (NaN as None), with derived columns
    such as `rank` added; `from_dict(data)` reads it back (derived keys are ignored).
    `to_dict(arrays={})` moves the large arrays (`SIDECAR`: rank_probs, survival, ...)
    into the dict given and leaves references (`csd._src.sidecar`); `save(path)` writes
    results.json with those arrays in results.npz beside it, as csd-run does, and
    `load(path)` reads either form back (`csd-run mode=collect` does).
  - `table()`: a `ResultTable`, the one description of its rows that the terminal
    (`format_table`), Markdown (report.md) and CSV (results.csv) outputs are made from.
  - `to_dataframe()`: the same rows as a tidy pandas DataFrame (pandas is an optional
    extra, `pip install '.[pandas]'`, imported only here).

Example:
  >>> import numpy as np, csd
  >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array([[3.0, 3], [2, 2], [1, 1]]))
  >>> result = csd.simulate(table, n_runs=100)
  >>> again = csd.SimulationResult.from_dict(result.to_dict())
  >>> again.tournament == result.tournament and np.array_equal(again.rank_probs, result.rank_probs)
  True
  >>> arrays = {}
  >>> result.to_dict(arrays)["rank_probs"]
  {'sidecar': 'rank_probs', 'shape': [3, 3], 'dtype': '<f8'}
  >>> sorted(arrays)
  ['expected_score_by_round', 'rank_probs', 'survival', 'worst_rank_probs']
  >>> # a, alone in its score group in one of the two rounds, gets a bye worth 0 there and b ties
  >>> # it; both rounds play a game, so nothing froze (no csd.FrozenRoundsWarning)
  >>> print(result.table().text())
  rank  model   E[S]  SE  P(champion)  rank 90%
     1  a      1.000   0       1.0000       1-2
     2  b      1.000   0       1.0000       1-2
     3  c      0.000   0       0.0000         3
  P(champion): P(top final score, alone or tied); tied leaders all count, so the column can sum above 1.
  rank: place by E[S]; rank 90%: central 90% of the simulated final place, a tie counting as every place it spans.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from csd._src import sidecar
from csd._src.baselines import places
from csd._src.errors import check_int
from csd._src.outputs import markdown_table, markdown_top, stderr_text, text_table, to_csv, value_range, with_se
from csd._src.spec import Tournament

RANK_COVERAGE = 0.9  # the rank interval shown next to E[S]
ACTIVE_ROUND_SHARE = 0.01  # a round "matters" if it plays a game in this share of tournaments
CHAMPION_LEGEND = "P(champion): P(top final score, alone or tied); tied leaders all count, so the column can sum above 1"
RANK_LEGEND = (
    f"rank: place by E[S]; rank {RANK_COVERAGE:.0%}: central {RANK_COVERAGE:.0%} of the simulated final place, "
    "a tie counting as every place it spans"
)
PLACES_LEGEND = "tied scores share the better place"  # `baselines.places`


@dataclasses.dataclass(frozen=True)
class ResultTable:
    """A result's rows, in the two forms its outputs need.

    Attributes:
      columns: (C,) column names for people; align: C letters, `l` or `r`.
      shown: rows of C formatted cells (terminal and Markdown).
      header: the CSV column names; values: rows of raw values (CSV, full precision).
      legend: one or two lines that say what the columns count (how ties are counted,
        what an interval is), printed under the terminal table ("": none).
    """

    columns: tuple[str, ...]
    align: str
    shown: list[list[str]]
    header: tuple[str, ...]
    values: list[list]
    legend: str = ""

    def text(self, top: int | None = None) -> str:
        """Aligned text for the terminal, the first `top` rows (default all), then the legend.

        Raises:
          InputError: for a `top` below 1 (`top=-1` would drop the last row, 0 every row).
        """
        if top is not None:
            top = check_int("top", top, 1)
        table = text_table(self.columns, self.shown[:top], self.align)
        return f"{table}\n{self.legend}" if self.legend else table

    def markdown(self, top: int | None = None) -> str:
        """A GitHub Markdown table of the first `top` rows (default all), and a line that
        says how many more there are (every row is in the CSV, results.csv)."""
        if top is None:
            return markdown_table(self.columns, self.shown, self.align)
        return markdown_top(self.columns, self.shown, self.align, where="results.csv", top=top)

    def csv(self) -> str:
        """CSV text of every row's raw values."""
        return to_csv(self.header, self.values)

    def frame(self):
        """A pandas DataFrame of every row's raw values, one column per CSV column."""
        return _pandas().DataFrame(self.values, columns=list(self.header))


class _Plain:
    """`to_dict` / `from_dict` for a result dataclass, driven by its field annotations."""

    DERIVED: tuple[str, ...] = ()  # keys `to_dict` adds that `from_dict` ignores
    SIDECAR: tuple[str, ...] = ()  # array fields `to_dict(arrays=...)` moves into the sidecar

    def to_dict(self, arrays: dict | None = None, prefix: str = "") -> dict:
        """Plain lists and numbers, ready for JSON (NaN becomes None).

        Args:
          arrays: where given, the large array fields (`SIDECAR`, here and in the results
            inside) go into it, {name: array}, and the dict holds a reference in their
            place (`csd._src.sidecar`); `save` writes both. None: everything inline.
          prefix: put before the names in `arrays` (a result inside a larger document).
        """
        data = {}
        for field in dataclasses.fields(self):
            value, key = getattr(self, field.name), prefix + field.name
            stashed = arrays is not None and field.name in self.SIDECAR and value is not None
            data[field.name] = sidecar.stash(arrays, key, value) if stashed else _plain(value, arrays, key)
        data.update(self._derived())
        return data

    def _derived(self) -> dict:
        return {}

    @classmethod
    def from_dict(cls, data: dict, arrays: Mapping[str, np.ndarray] | None = None):
        """The result `to_dict` wrote (derived keys are ignored; a field with a default may
        be absent, as in files written before it existed). `arrays`: the sidecar's arrays,
        for the fields `to_dict(arrays=...)` left a reference in (`load` reads them).

        Raises:
          KeyError: for a missing field.
          ValueError: for a malformed field, or one in a sidecar that `arrays` lacks.
        """
        hints = typing.get_type_hints(cls)
        fields = [f for f in dataclasses.fields(cls) if f.name in data or not _has_default(f)]
        return cls(**{f.name: _typed(hints[f.name], data[f.name], arrays) for f in fields})

    def save(self, path: str | os.PathLike) -> tuple[Path, ...]:
        """Writes `to_dict()` to the JSON file `path` with the large arrays in a sidecar
        beside it, `path` with `.npz` (results.json: results.npz; `csd._src.sidecar`, the
        format csd-run writes); returns the paths written. `load` reads them back exactly."""
        arrays: dict = {}
        return sidecar.save(path, self.to_dict(arrays), arrays)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """The result in the JSON file `path` (as `save` or csd-run wrote it, or an older
        file with every array inline), with the arrays of the sidecar it names.

        Raises:
          OSError: when a file cannot be read.
          KeyError: when it is not a whole result (a field is missing).
          ValueError: when it is not a whole result (a field is malformed).
        """
        data, arrays = sidecar.load(path)
        return cls.from_dict(data, arrays)


class _Plotted(_Plain):
    """A result with figures: `plot(kind=..., ax=None, **options)`."""

    def plot(self, kind: str | None = None, ax=None, **options):
        """A figure of this result, as a matplotlib `Figure` (matplotlib is imported here).

        The kinds, the default first:
          - `SimulationResult`: `rank_heatmap` (P(rank) by model), `survival`,
            `expected_scores` (E[S] with ±1 SE).
          - `SweepResult`: `risk_profile` (the drop under the last schedule against
            E[S | T=0]), `expected_scores` (by schedule), `survival` (last schedule).
          - `BootstrapResult`: `intervals` (E[S], its interval, the rank interval, tiers).
          - `Comparison`: `bump` (each model's rank under each method).
          - `OutlierResult`: `bump` (the model's rank under each method, before and after).

        Args:
          kind: which figure; default the first of the type's kinds.
          ax: a matplotlib `Axes` to draw into, or None: a new Figure.
          **options: passed on to the `csd.plots` function, e.g. `top=20`, `title=...`,
            or `path="ranks.png"` to write the figure (then the paths are returned).

        Returns:
          The Figure (`ax.figure` when `ax` is given).

        Raises:
          InputError: for an unknown kind, naming the kinds there are.

        Example:
          >>> import numpy as np, csd
          >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array([[3.0, 3], [2, 2], [1, 1]]))
          >>> figure = csd.simulate(table, n_runs=100).plot("survival")
          >>> figure.axes[0].get_title()
          'Survival by round'
        """
        from csd._src import result_plots

        return result_plots.plot(self, kind, ax, options)


@dataclasses.dataclass(frozen=True)
class OrderSensitivity(_Plain):
    """The ranking under R random round orders against the reported one
    (`csd.order_sensitivity`).

    Attributes:
      orders: (R, K) the benchmarks of each order tried, in play order.
      expected_score: (R, M) E[S_m] under each order (models in table order).
      kendall_tau: (R,) Kendall tau-b of each order's E[S] against the reported E[S].
      leaders: (R,) the model with the highest E[S] under each order.
      reported_leader: the leader of the reported ranking.
      n_runs: tournaments per order.
      within_tiers: whether the orders were shuffled inside tiers (tier order kept).
    """

    orders: tuple[tuple[str, ...], ...]
    expected_score: np.ndarray
    kendall_tau: np.ndarray
    leaders: tuple[str, ...]
    reported_leader: str
    n_runs: int
    within_tiers: bool = False

    def leader_changes(self) -> int:
        """How many of the orders have another leader than the reported ranking."""
        return sum(leader != self.reported_leader for leader in self.leaders)

    def line(self, tried: str | None = None) -> str:
        """One line for the printed header: the orders `tried` (default "R random round
        orders"), the tau range and how often the leader changes."""
        if tried is None:
            tried = f"{len(self.orders)} random round orders" + (" within tiers" if self.within_tiers else "")
        others = sorted(set(self.leaders) - {self.reported_leader})
        changed = f" (to {', '.join(others)})" if others else ""
        return (
            f"order sensitivity: {tried}, Kendall tau "
            f"{value_range(self.kendall_tau.min(), self.kendall_tau.max(), '{:.2f}')} against the reported order; "
            "the leader "
            f"changes in {self.leader_changes()}/{len(self.orders)}{changed}"
        )

    def table(self) -> ResultTable:
        """One row per order: its number, Kendall tau, leader, first benchmarks played."""
        values = [
            [r + 1, float(tau), leader, " > ".join(order[:3]) + (" > ..." if len(order) > 3 else "")]
            for r, (tau, leader, order) in enumerate(zip(self.kendall_tau, self.leaders, self.orders))
        ]
        shown = [[str(v[0]), f"{v[1]:.3f}", v[2], v[3]] for v in values]
        return ResultTable(("order", "Kendall tau", "leader", "first rounds"), "rrll", shown,
                           ("order", "kendall_tau", "leader", "first_rounds"), values)


@dataclasses.dataclass(frozen=True)
class SimulationResult(_Plotted):
    """What N simulated tournaments say about each model.

    Attributes:
      models: (M,) names, in table order.
      rounds: (K,) benchmark names, in round order.
      expected_score: (M,) E[S_m], mean final score over the runs.
      stderr: (M,) Monte Carlo standard error of `expected_score`, sd(S_m) / sqrt(N).
      rank_probs: (M, M) [m, r] = P(model m's best place is r + 1), its best place being
        1 + the number of models with a strictly higher final score: models tied on the
        final score share the better place, so every row sums to 1 and a column can sum
        above 1 (column 0: the top score, alone or tied).
      champion_prob: (M,) P(top final score, alone or tied), so the column can sum to
        more than 1: with `cv`, the mean
        over the runs of P(top | everything before the last round's games), which the
        kernel computes exactly (`engine._champion_before_last_round`), less control
        terms, clipped to [0, 1] (docs/variance.md); with `plain`, rank_probs[:, 0], the
        share of runs with the top score.
      survival: (M, K) P(active after the elimination that follows round k).
      expected_score_by_round: (M, K) E[score after round k].
      n_runs: N.
      tournament: the `Tournament` played.
      seed: the seed; with `tournament` and `n_runs` it replays the result exactly.
      target_se: the standard error asked for (None: N was fixed).
      round_activity: (K,) the fraction of tournaments in which the round at position k
        played at least one game (None in results written before it existed); see
        `last_active_round`.
      order_sensitivity: the ranking under other round orders (`csd.order_sensitivity`),
        where asked for, else None.
      target_met: with target_se, whether every standard error reached it before max_runs
        (None: N was fixed).
      estimator: `cv` (expected_score and stderr from control-variate scores, see
        `csd._src.estimator`) or `plain` (averages of the final scores).
      estimator_note: why `plain` ran where `cv` was asked for, else None.
      variance_reduction: (M,) Var(plain final score) / Var(cv score) on the same runs
        (None for `plain`).
      champion_stderr: (M,) Monte Carlo standard error of `champion_prob` (None in
        results written before it existed).
      champion_variance_reduction: (M,) Var(won or not) / Var(P(won | before the last
        round)) on the same runs (None for `plain`; NaN where neither varies).
      pilot_runs: the runs that fitted the cv tables (not among the N; 0 for `plain`).
      worst_rank_probs: (M, M) [m, r] = P(model m's worst place is r + 1), its worst place
        being the number of models with a final score >= its own (itself included): tied
        models share the worse place. A tie block spans best .. worst place; None in
        results written before it existed.
    """

    SIDECAR = ("rank_probs", "worst_rank_probs", "survival", "expected_score_by_round")

    models: tuple[str, ...]
    rounds: tuple[str, ...]
    expected_score: np.ndarray
    stderr: np.ndarray
    rank_probs: np.ndarray
    champion_prob: np.ndarray
    survival: np.ndarray
    expected_score_by_round: np.ndarray
    n_runs: int
    tournament: Tournament
    seed: int
    target_se: float | None = None
    round_activity: np.ndarray | None = None
    order_sensitivity: OrderSensitivity | None = None

    target_met: bool | None = None
    estimator: str = "plain"
    estimator_note: str | None = None
    variance_reduction: np.ndarray | None = None
    pilot_runs: int = 0
    champion_stderr: np.ndarray | None = None
    champion_variance_reduction: np.ndarray | None = None
    worst_rank_probs: np.ndarray | None = None

    def last_active_round(self, share: float = ACTIVE_ROUND_SHARE) -> int | None:
        """The last round position (0-based) that played a game in at least `share` of the
        tournaments (-1 if none did); None without `round_activity`."""
        if self.round_activity is None:
            return None
        busy = np.flatnonzero(np.asarray(self.round_activity) >= share)
        return int(busy[-1]) if busy.size else -1

    def order(self) -> np.ndarray:
        """(M,) model indices from the highest expected score down (ties by table order)."""
        return _best_first(self.expected_score)

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

    def rank_interval(self, coverage: float = RANK_COVERAGE) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), each (M,) int: the central `coverage` interval of each model's
        simulated final place (1 = best), a tie counting as every place it spans: low is
        the lower quantile of the best place (`rank_probs`), high the upper quantile of the
        worst place (`worst_rank_probs`; `rank_probs` in results written without it)."""
        worst = self.rank_probs if self.worst_rank_probs is None else self.worst_rank_probs
        tail = (1.0 - coverage) / 2
        low = (np.cumsum(self.rank_probs, axis=1) < tail - 1e-12).sum(axis=1) + 1
        high = (np.cumsum(worst, axis=1) < 1.0 - tail - 1e-12).sum(axis=1) + 1
        return low, high

    def table(self) -> ResultTable:
        """Best first: rank, model, E[S], SE, P(champion), the 90% rank interval."""
        low, high = self.rank_interval()
        order = self.order()
        values = [
            [place, self.models[m], self.expected_score[m], self.stderr[m], self.champion_prob[m], low[m], high[m]]
            for place, m in enumerate(order, start=1)
        ]
        shown = [[str(v[0]), v[1], f"{v[2]:.3f}", stderr_text(v[3]), f"{v[4]:.4f}", value_range(v[5], v[6])]
                 for v in values]
        return ResultTable(
            ("rank", "model", "E[S]", "SE", "P(champion)", f"rank {RANK_COVERAGE:.0%}"),
            "rlrrrr",
            shown,
            ("rank", "model", "expected_score", "stderr", "champion_prob", "rank_low", "rank_high"),
            values,
            f"{CHAMPION_LEGEND}.\n{RANK_LEGEND}.",
        )

    def format_table(self, top: int | None = None) -> str:
        """The ranking as aligned text: rank, model, E[S], SE, P(champion), rank interval;
        then a legend: how tied leaders and tied places are counted."""
        return self.table().text(top)

    def to_dataframe(self):
        """One row per model, best first: rank, model, expected_score, stderr,
        champion_prob, rank_low, rank_high (the 90% rank interval)."""
        return self.table().frame()

    def _derived(self) -> dict:
        low, high = self.rank_interval()
        return {
            "rank": places(self.expected_score).tolist(),
            "schedule": self.tournament.label(),
            "rank_interval": {"coverage": RANK_COVERAGE, "low": low.tolist(), "high": high.tolist()},
        }


@dataclasses.dataclass(frozen=True)
class SweepResult(_Plotted):
    """E[S_m] under S elimination schedules and each model's drop against the first.

    Attributes:
      models: (M,) names; rounds: (K,) benchmark names.
      schedules: (S, K) int, schedule s eliminates schedules[s, k] models after round k.
      labels: (S,) short names of the schedules (`T=1`, or `T=[0,1,...]`).
      expected_score, stderr: (S, M) E[S_m | schedule s] and its Monte Carlo SE.
      drop: (S, M) E[S_m | s] - E[S_m | 0]; drop_stderr (S, M) its SE from the per-run
        differences (the schedules share their random numbers under `common` coupling).
      independent_drop_stderr: (S, M) the SE the drop would have with independent runs,
        sqrt(stderr[s]**2 + stderr[0]**2): the ratio to `drop_stderr` is the gain of
        the coupling.
      relative_drop, relative_drop_stderr: (S, M) drop / E[S_m | 0] and its SE (NaN where
        E[S_m | 0] = 0; the SE treats the denominator as known).
      risk_profile: (M,) `robust generalist`, `in between` or `aggressive specialist`, from
        the last schedule's drop (see `sweep.risk_profiles`).
      risk_residual: (M,) the last drop minus its peers' trend.
      results: one `SimulationResult` per schedule.
      coupling: `common` (paired drop SEs), `independent`, or `collected` (separate runs
        merged after the fact, `csd-run mode=collect`: independent SEs).
      risk_z, risk_spread: the risk-profile thresholds used.
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
    coupling: str
    risk_z: float
    risk_spread: float

    @property
    def n_runs(self) -> int:
        """Runs per schedule (of the first schedule, where collected runs differ)."""
        return self.results[0].n_runs

    @property
    def tournament(self) -> Tournament:
        """The first schedule's tournament (the others differ in `elimination` only)."""
        return self.results[0].tournament

    @property
    def risk_trend(self) -> np.ndarray:
        """(M,) the last schedule's drop that each model's peers predict for it
        (`sweep.peer_trend`): `risk_residual` is the drop minus this."""
        return self.drop[-1] - self.risk_residual

    def table(self) -> ResultTable:
        """By E[S | first schedule]: E[S] ± SE per schedule, each drop ± SE, the profile."""
        order = _best_first(self.expected_score[0])
        columns, header = ["rank", "model"], ["rank", "model"]
        for s, label in enumerate(self.labels):
            columns.append(f"E[S] {label}")
            header += [f"expected_score[{label}]", f"stderr[{label}]"]
            if s:
                columns.append(f"drop {label}")
                header += [f"drop[{label}]", f"relative_drop[{label}]", f"drop_stderr[{label}]"]
        values, shown = [], []
        for place, m in enumerate(order, start=1):
            row, cells = [place, self.models[m]], [str(place), self.models[m]]
            for s in range(len(self.labels)):
                row += [self.expected_score[s, m], self.stderr[s, m]]
                cells.append(with_se(self.expected_score[s, m], self.stderr[s, m]))
                if s:
                    row += [self.drop[s, m], self.relative_drop[s, m], self.drop_stderr[s, m]]
                    cells.append(with_se(self.drop[s, m], self.drop_stderr[s, m], signed=True))
            values.append(row + [self.risk_profile[m]])
            shown.append(cells + [self.risk_profile[m]])
        align = "rl" + "r" * (len(columns) - 2) + "l"
        return ResultTable(tuple(columns + ["profile"]), align, shown, tuple(header + ["risk_profile"]), values,
                           self._legend())

    def _legend(self) -> str:
        """What the sweep table's cells are: E[S] and drops with their SEs, the rank, the profile."""
        first, last = self.labels[0], self.labels[-1]
        paired = "paired over shared random numbers" if self.coupling == "common" else "as for independent runs"
        return (
            f"E[S] ± its Monte Carlo SE per schedule; drop: E[S | schedule] - E[S | {first}] ± its SE ({paired}).\n"
            f"rank: place by E[S | {first}]; profile: from the drop at {last} against the peers' trend."
        )

    def format_table(self, top: int | None = None) -> str:
        """Models by E[S | first schedule]: E[S] per schedule, the drops and the profile;
        then a legend."""
        return self.table().text(top)

    def to_dataframe(self):
        """One row per model and schedule (models by E[S | first schedule], then the
        schedules in order): model, schedule, rank (under that schedule), expected_score,
        stderr, drop, relative_drop, drop_stderr (NaN for the first schedule),
        risk_profile. The `table()` columns `name[label]` become rows of `schedule`."""
        wide = self.table().frame()
        ranks = {label: dict(zip(self.models, places(row))) for label, row in zip(self.labels, self.expected_score)}
        rows = []
        for _, model_row in wide.iterrows():
            for label in self.labels:
                cells = {"model": model_row["model"], "schedule": label,
                         "rank": int(ranks[label][model_row["model"]])}
                for name in ("expected_score", "stderr", "drop", "relative_drop", "drop_stderr"):
                    cells[name] = model_row.get(f"{name}[{label}]", np.nan)
                rows.append({**cells, "risk_profile": model_row["risk_profile"]})
        return _pandas().DataFrame(rows)

    def _derived(self) -> dict:
        return {"rank": [places(row).tolist() for row in self.expected_score]}


@dataclasses.dataclass(frozen=True)
class BootstrapResult(_Plotted):
    """Intervals for E[S_m] and each model's rank over B replicate tables.

    Attributes:
      models: (M,) names.
      expected_score, stderr: (M,) E[S_m] on the table itself and its Monte Carlo SE.
      ci_low, ci_high: (M,) the interval for E[S_m]: percentiles of
        `replicate_scores + shift` (see `interval`), kept inside the possible scores.
      rank_low, rank_high: (M,) int, the same for the model's rank (1 = best) by E[S] in
        each replicate (after the shift).
      tiers: (M,) int, 1 = top: see `bootstrap.rank_tiers`.
      replicate_scores: (B, M) E[S_m] in each replicate, as played (not shifted).
      shift: (M,) what was added to every replicate before taking percentiles: 0 for
        `percentile`, `expected_score - replicate_scores.mean(0)` for `shifted` and
        `expanded`.
      mc_stderr: (M,) root-mean-square Monte Carlo SE inside a replicate; it is part of
        the replicates' spread, so keep it well below the interval widths (raise n_runs).
      interval: `percentile`, `shifted` or `expanded` (see `bootstrap`).
      coverage, n_boot, n_runs: the settings.
      scheme: `benchmarks` or `noise`; tiers_used: the tiers resampled inside (None: one).
      n_items: for `noise`, the items per benchmark of a binomial SE (None: not used).
      point: the `SimulationResult` of the table itself (tournament and seed included).
      estimator: `cv` or `plain`, how each replicate's E[S_m] was estimated (see
        `bootstrap`); estimator_note: why `plain` ran where `cv` was asked for.
      variance_reduction: (M,) with `cv`, the replicates' mean Var(plain final score) /
        mean Var(cv score), on the same runs; None with `plain`.
      pilot_runs: the pilot runs, over all replicates, that fitted the cv tables (0 for
        `plain`).
    """

    SIDECAR = ("replicate_scores",)

    models: tuple[str, ...]
    expected_score: np.ndarray
    stderr: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    tiers: np.ndarray
    replicate_scores: np.ndarray
    shift: np.ndarray
    mc_stderr: np.ndarray
    interval: str
    coverage: float
    n_boot: int
    n_runs: int
    scheme: str
    tiers_used: list | None
    n_items: Any
    point: SimulationResult
    estimator: str = "plain"
    estimator_note: str | None = None
    variance_reduction: np.ndarray | None = None
    pilot_runs: int = 0

    @property
    def tournament(self) -> Tournament:
        """The `Tournament` every replicate played."""
        return self.point.tournament

    def table(self) -> ResultTable:
        """Models by E[S]: tier, E[S], its interval and the rank interval."""
        order = _best_first(self.expected_score)
        rank = places(self.expected_score)
        values = [
            [rank[m], self.models[m], self.expected_score[m], self.stderr[m], self.ci_low[m], self.ci_high[m],
             self.rank_low[m], self.rank_high[m], self.tiers[m]]
            for m in order
        ]
        shown = [
            [str(v[8]), v[1], f"{v[2]:.3f}", f"[{v[4]:.3f}, {v[5]:.3f}]", value_range(v[6], v[7])] for v in values
        ]
        percent = f"{100 * self.coverage:g}%"
        return ResultTable(
            ("tier", "model", "E[S]", f"{percent} interval", "rank"),
            "rlrrr",
            shown,
            ("rank", "model", "expected_score", "stderr", "ci_low", "ci_high", "rank_low", "rank_high", "tier"),
            values,
            f"{percent} interval: the {self.interval} bootstrap interval of E[S] over {self.n_boot} tables resampled "
            f"by {self.scheme}.\nrank: the same for the place by E[S], {PLACES_LEGEND}; tier: 1 = top, models whose "
            "rank intervals overlap its first's.",
        )

    def format_table(self, top: int | None = None) -> str:
        """Models by E[S]: tier, E[S], its interval and the rank interval; then a legend."""
        return self.table().text(top)

    def to_dataframe(self):
        """One row per model by E[S]: rank, model, expected_score, stderr, ci_low,
        ci_high, rank_low, rank_high, tier."""
        return self.table().frame()

    def _derived(self) -> dict:
        return {"rank": places(self.expected_score).tolist()}


@dataclasses.dataclass(frozen=True)
class Comparison(_Plotted):
    """Several rankings of the same models.

    Attributes:
      models: (M,) names, in table order.
      scores: method -> (M,) float scores, higher is better.
      ranks: method -> (M,) int places, 1 is the best, tied scores share the better place.
      kendall_tau: method -> method -> Kendall's tau-b of their scores (symmetric, 1 on
        the diagonal).
      csd: the `SimulationResult` behind the `csd` scores (None without `csd`).
      intervals: method -> {"ci_low", "ci_high", "rank_low", "rank_high": (M,) arrays},
        the bootstrap intervals of its score and rank over tables resampled inside the
        tiers (`compare(n_boot=...)`); empty without a bootstrap.
      coverage: the central probability of `intervals` (None without them).
    """

    models: tuple[str, ...]
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    kendall_tau: dict[str, dict[str, float]]
    csd: SimulationResult | None = None
    intervals: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)
    coverage: float | None = None

    @property
    def methods(self) -> tuple[str, ...]:
        """The method names, in the order they were asked for."""
        return tuple(self.scores)

    def order(self) -> np.ndarray:
        """(M,) model indices as `table()` lists them: by the `csd` rank (or the first
        method's), ties in table order."""
        key = "csd" if "csd" in self.ranks else self.methods[0]
        return np.lexsort((np.arange(len(self.models)), self.ranks[key]))

    def table(self) -> ResultTable:
        """One row per model, best `csd` rank (or first method's) first: each method's
        rank, with its rank interval where there is one (shown), and score and rank, with
        the score and rank intervals where there are any (CSV)."""
        order = self.order()
        bounds = ("ci_low", "ci_high", "rank_low", "rank_high")
        kinds = {method: ("score", "rank") + (bounds if method in self.intervals else ()) for method in self.methods}
        header = ["model"] + [f"{kind}[{method}]" for method in self.methods for kind in kinds[method]]
        columns = {"score": self.scores, "rank": self.ranks}
        values = [
            [self.models[m]] + [
                (columns[kind][method] if kind in columns else self.intervals[method][kind])[m]
                for method in self.methods for kind in kinds[method]
            ]
            for m in order
        ]
        shown = [[self.models[m], *(self._rank_cell(method, m) for method in self.methods)] for m in order]
        return ResultTable(("model", *self.methods), "l" + "r" * len(self.methods), shown, tuple(header), values,
                           self._legend())

    def _legend(self) -> str:
        """What a rank cell is: the place by the method's score (csd: E[S]) and its interval."""
        legend = f"Each method's place by its score (csd: by E[S]), 1 = best, {PLACES_LEGEND}"
        if self.intervals:
            legend += f"; [a-b]: its {100 * self.coverage:g}% bootstrap rank interval over resampled tables"
        return legend + "."

    def _rank_cell(self, method: str, m: int) -> str:
        """Model m's rank under `method`, with its rank interval (`3 [2-5]`) if known."""
        if method not in self.intervals:
            return str(self.ranks[method][m])
        low, high = self.intervals[method]["rank_low"][m], self.intervals[method]["rank_high"][m]
        return f"{self.ranks[method][m]} [{value_range(low, high)}]"

    def format_table(self, top: int | None = None) -> str:
        """One row per model, one rank column per method, sorted by the `csd` rank (or
        the first method's), ties in table order; then a legend."""
        return self.table().text(top)

    def to_dataframe(self):
        """One row per model (as `table()` sorts them): model, then per method
        `score[method]`, `rank[method]` and, with intervals, `ci_low[method]`,
        `ci_high[method]`, `rank_low[method]`, `rank_high[method]`."""
        return self.table().frame()

    def tau_table(self) -> ResultTable:
        """The Kendall tau-b matrix."""
        values = [[a, *(self.kendall_tau[a][b] for b in self.methods)] for a in self.methods]
        shown = [[row[0], *(f"{tau:.3f}" for tau in row[1:])] for row in values]
        return ResultTable(("", *self.methods), "l" + "r" * len(self.methods), shown, ("method", *self.methods), values)

    def format_tau(self) -> str:
        """The Kendall tau-b matrix as aligned text."""
        return self.tau_table().text()

    def _derived(self) -> dict:
        return {"methods": list(self.methods)}


@dataclasses.dataclass(frozen=True)
class OutlierResult(_Plotted):
    """How each method's rank and score of one model move when some of its scores are
    replaced.

    Attributes:
      model: the perturbed model.
      benchmarks: the benchmarks whose score was replaced.
      value: the score put there.
      rank_before, rank_after: method -> the model's place (1 is the best).
      shift: method -> rank_after - rank_before (positive: the model fell).
      score_before, score_after: method -> the model's score under that method (E[S] for
        `csd`; see `Comparison.scores`), on the table and on the perturbed table.
      tournament: the `Tournament` both tables were played under (None without `csd`).
      frozen_rounds: where the `csd` tournaments of the table or the perturbed table froze
        (`csd._src.frozen.record`: the message and one entry per table), else None.
    """

    model: str
    benchmarks: tuple[str, ...]
    value: float
    rank_before: dict[str, int]
    rank_after: dict[str, int]
    shift: dict[str, int]
    score_before: dict[str, float]
    score_after: dict[str, float]
    tournament: Tournament | None = None
    frozen_rounds: dict | None = None

    def table(self) -> ResultTable:
        """One row per method: rank before, after, the shift, score before and after."""
        values = [
            [name, self.rank_before[name], self.rank_after[name], shift, self.score_before[name], self.score_after[name]]
            for name, shift in self.shift.items()
        ]
        shown = [[v[0], str(v[1]), str(v[2]), f"{v[3]:+d}", f"{v[4]:.4g}", f"{v[5]:.4g}"] for v in values]
        return ResultTable(
            ("method", "before", "after", "shift", "score before", "score after"),
            "lrrrrr",
            shown,
            ("method", "rank_before", "rank_after", "shift", "score_before", "score_after"),
            values,
            f"before, after: {self.model}'s place under each method (1 = best, {PLACES_LEGEND}), on the table and "
            "on the changed one;\nshift: after - before (positive: it fell); score: the method's own score (csd: E[S]).",
        )

    def to_dataframe(self):
        """One row per method: method, rank_before, rank_after, shift, score_before,
        score_after."""
        return self.table().frame()

    def title(self) -> str:
        """What was changed: `model: x, y set to 0`."""
        return f"{self.model}: {', '.join(self.benchmarks)} set to {self.value:g}"

    def format_table(self, top: int | None = None) -> str:
        """A title line, then one row per method, then a legend."""
        return self.title() + "\n" + self.table().text(top)


def _has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _pandas():
    """The pandas module, imported on first use (an optional extra)."""
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "to_dataframe needs pandas: pip install pandas (or, from a checkout, pip install '.[pandas]')"
        ) from None
    return pandas


def _best_first(scores: np.ndarray) -> np.ndarray:
    """(M,) indices from the highest score down, ties in table order."""
    return np.lexsort((np.arange(len(scores)), -np.asarray(scores)))


def _plain(value, arrays: dict | None = None, key: str = ""):
    """A field as JSON-ready data; results inside it put their large arrays into `arrays`
    (if given) under names that start with `key`."""
    if isinstance(value, _Plain):
        return value.to_dict(arrays, f"{key}.")
    if isinstance(value, Tournament):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return np.where(np.isnan(value), None, value).tolist() if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, dict):
        return {name: _plain(item, arrays, f"{key}.{name}") for name, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item, arrays, f"{key}.{i}") for i, item in enumerate(value)]
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _typed(hint, value, arrays: Mapping[str, np.ndarray] | None = None):
    """`value` (from JSON) as the field type `hint` says; a sidecar reference is looked up
    in `arrays`."""
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _typed(next(a for a in args if a is not type(None)), value, arrays)
    if hint is np.ndarray:
        if sidecar.is_reference(value):
            return sidecar.fetch(arrays, value)
        array = np.asarray(value)
        return array.astype(float) if array.dtype == object else array
    if isinstance(hint, type) and issubclass(hint, _Plain):
        return hint.from_dict(value, arrays)
    if isinstance(hint, type) and issubclass(hint, Tournament):
        return hint.from_dict(value)
    if origin is tuple:
        if args[0] is str:  # names: thousands of them in a big table
            return tuple(value)
        return tuple(_typed(args[0], item, arrays) for item in value)
    if origin is dict:
        return {key: _typed(args[1], item, arrays) for key, item in value.items()}
    return value
