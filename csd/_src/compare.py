"""CSD next to the static rankings: rank tables, Kendall tau, and the outlier test."""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Sequence

import numpy as np

from csd._src import baselines
from csd._src.errors import InputError
from csd._src.simulate import SimulationResult, simulate
from csd._src.table import ScoreTable

METHODS = ("csd", "mean", "normalized_mean", "mean_rank", "borda", "bradley_terry", "elo")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Several rankings of the same models.

    Attributes:
      models: (M,) names, in table order.
      scores: method -> (M,) float scores, higher is better.
      ranks: method -> (M,) int places, 1 is the best, tied scores share the better place.
      kendall_tau: method -> method -> Kendall's tau-b of their scores (symmetric, 1 on
        the diagonal).
    """

    models: tuple[str, ...]
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    kendall_tau: dict[str, dict[str, float]]

    @property
    def methods(self) -> tuple[str, ...]:
        """The method names, in the order they were asked for."""
        return tuple(self.scores)

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON (a model with no score has -inf)."""
        return {
            "models": list(self.models),
            "methods": list(self.methods),
            "scores": {name: values.tolist() for name, values in self.scores.items()},
            "ranks": {name: values.tolist() for name, values in self.ranks.items()},
            "kendall_tau": {name: dict(row) for name, row in self.kendall_tau.items()},
        }

    def format_table(self) -> str:
        """One row per model, one rank column per method, sorted by the `csd` rank (or
        the first method's), ties in table order."""
        key = "csd" if "csd" in self.ranks else self.methods[0]
        order = np.lexsort((np.arange(len(self.models)), self.ranks[key]))
        rows = [[self.models[m], *(str(self.ranks[n][m]) for n in self.methods)] for m in order]
        return _aligned([["model", *self.methods], *rows])

    def format_tau(self) -> str:
        """The Kendall tau-b matrix as aligned text."""
        rows = [[a, *(f"{self.kendall_tau[a][b]:.3f}" for b in self.methods)] for a in self.methods]
        return _aligned([["", *self.methods], *rows])


@dataclasses.dataclass(frozen=True)
class OutlierResult:
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
    """

    model: str
    benchmarks: tuple[str, ...]
    value: float
    rank_before: dict[str, int]
    rank_after: dict[str, int]
    shift: dict[str, int]
    score_before: dict[str, float]
    score_after: dict[str, float]

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON."""
        return {
            "model": self.model,
            "benchmarks": list(self.benchmarks),
            "value": self.value,
            "rank_before": dict(self.rank_before),
            "rank_after": dict(self.rank_after),
            "shift": dict(self.shift),
            "score_before": dict(self.score_before),
            "score_after": dict(self.score_after),
        }

    def format_table(self) -> str:
        """A title line, then one row per method: rank before, after, the shift, and the
        score before and after."""
        title = f"{self.model}: {', '.join(self.benchmarks)} set to {self.value:g}"
        rows = [
            [
                name,
                str(self.rank_before[name]),
                str(self.rank_after[name]),
                f"{shift:+d}",
                f"{self.score_before[name]:.4g}",
                f"{self.score_after[name]:.4g}",
            ]
            for name, shift in self.shift.items()
        ]
        header = ["method", "before", "after", "shift", "score before", "score after"]
        return title + "\n" + _aligned([header, *rows])


def compare(
    table: ScoreTable,
    methods: Sequence[str] | None = None,
    *,
    csd_result: SimulationResult | None = None,
    n_runs: int = 20_000,
    seed: int = 0,
    **simulate_options,
) -> Comparison:
    """Ranks the models of `table` by CSD and by static methods, side by side.

    Args:
      table: the score table.
      methods: names from `csd` (E[S] of `csd.simulate`), `mean`, `normalized_mean`,
        `mean_rank`, `borda`, `bradley_terry`, `elo` (see `csd.baselines`); default all.
        `elo` plays K * M * (M - 1) / 2 games in sequence: leave it out for thousands of
        models.
      csd_result: a `SimulationResult` of this table to use for `csd` instead of simulating.
      n_runs, seed, simulate_options: passed to `csd.simulate` for `csd` (not allowed
        with `csd_result`); `seed` also seeds the Elo game orders.

    Returns:
      A `Comparison`.

    Raises:
      InputError: for an unknown or repeated method, or a `csd_result` of other models.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y", "z"), np.array(
      ...     [[3.0, 3, 1], [2.0, 2, 2], [1.0, 1, 3]]))
      >>> comparison = csd.compare(table, ["csd", "mean", "borda"], n_runs=1000)
      >>> comparison.ranks["borda"].tolist()
      [1, 2, 3]
      >>> comparison.kendall_tau["mean"]["borda"]
      1.0
    """
    names = _method_names(methods)
    if not isinstance(table, ScoreTable):
        raise InputError(f"compare needs a ScoreTable, got {type(table).__name__}")
    if csd_result is not None and simulate_options:
        raise InputError(
            f"csd_result is given, so simulate options {sorted(simulate_options)} would be ignored"
        )
    static = _static_methods(seed)
    scores = {
        name: (
            _csd_scores(table, csd_result, n_runs=n_runs, seed=seed, **simulate_options)
            if name == "csd"
            else static[name](table)
        )
        for name in names
    }
    return comparison_of(table.models, scores)


def outlier_test(
    table: ScoreTable,
    model: str,
    benchmarks: str | Sequence[str] | None = None,
    value: float = 0.0,
    methods: Sequence[str] | None = None,
    *,
    csd_result: SimulationResult | None = None,
    n_runs: int | None = None,
    seed: int | None = None,
    **simulate_options,
) -> OutlierResult:
    """Replaces some of `model`'s scores by `value` and reports each method's rank and
    score of it before and after (the paper's outlier-robustness test, which zeroes scores).

    Args:
      table: the score table.
      model: the model to perturb.
      benchmarks: one name or several; default the single benchmark on which `model`
        has its highest score (so the outlier costs its mean the most).
      value: the score put in those cells (the paper: 0).
      methods: as in `compare`.
      csd_result: a `csd.simulate` result of `table` (same models, same round order),
        used as the `csd` ranking before the change instead of simulating it again; the
        perturbed table is then simulated with that result's options (its N, seed,
        elimination, pairing and points), so the two are directly comparable.
      n_runs, seed, simulate_options: passed to `csd.simulate` for `csd` (default N =
        20,000, seed 0); both tables are simulated with the same seed, so the CSD shift
        is not blurred by fresh random numbers. `seed` also seeds the Elo game orders.
        With `csd_result`, only `progress` and `chunk_size` may be given, and `n_runs` and
        `seed` only if they equal the result's. Zeros in the first rounds can leave the
        model alone in the lowest score group, where the paper's `random` pairing gives it
        a bye every round; `pairing="float"` lets it play on.

    Returns:
      An `OutlierResult`.

    Raises:
      InputError: for an unknown model or benchmark (listing the choices), a model with
        no score to pick a default benchmark from, or a `csd_result` of another table or
        with other options than those given.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y", "z"), np.array(
      ...     [[9.0, 9, 9], [5.0, 5, 5], [4.0, 4, 4]]))
      >>> result = csd.outlier_test(table, "a", ["x", "y"], methods=["mean", "borda"])
      >>> result.shift, result.score_before["mean"], result.score_after["mean"]
      ({'mean': 2, 'borda': 1}, 9.0, 3.0)
      >>> ranking = csd.simulate(table, n_runs=1000, seed=3)
      >>> result = csd.outlier_test(table, "a", ["x", "y"], methods=["csd"], csd_result=ranking)
      >>> result.score_before["csd"] == float(ranking.expected_score[0]) > result.score_after["csd"]
      True
    """
    row = _index_of("model", model, table.models)
    columns = _outlier_columns(table, row, benchmarks)
    scores = table.scores.copy()
    scores[row, columns] = value
    names = _method_names(methods)
    if csd_result is None:
        options = dict(n_runs=20_000 if n_runs is None else n_runs, seed=0 if seed is None else seed,
                       **simulate_options)
        before = compare(table, names, **options)
    else:
        options = _replayed_options(table, csd_result, n_runs, seed, simulate_options)
        before = compare(table, names, csd_result=csd_result, seed=options["seed"])
    after = compare(table.with_scores(scores), names, **options)
    return OutlierResult(
        model=table.models[row],
        benchmarks=tuple(table.benchmarks[k] for k in columns),
        value=float(value),
        rank_before={name: int(before.ranks[name][row]) for name in names},
        rank_after={name: int(after.ranks[name][row]) for name in names},
        shift={name: int(after.ranks[name][row] - before.ranks[name][row]) for name in names},
        score_before={name: float(before.scores[name][row]) for name in names},
        score_after={name: float(after.scores[name][row]) for name in names},
    )


# Options of `csd.simulate` that do not change its result (a replay may set them).
_REPLAY_FREE = ("progress", "chunk_size")
# Options of `csd.simulate` a result records in its `config`.
_RECORDED = ("elimination", "pairing", "tie", "bye_points", "draw_points", "min_active", "seed")


def _replayed_options(
    table: ScoreTable, csd_result: SimulationResult, n_runs, seed, simulate_options: dict
) -> dict:
    """The `csd.simulate` options that repeat `csd_result` on another table: its N and the
    options it records, plus the result-neutral ones given (InputError on a conflict)."""
    if not isinstance(csd_result, SimulationResult):
        raise InputError(f"csd_result must be a csd.simulate result, got {type(csd_result).__name__}")
    if tuple(csd_result.models) != table.models:
        raise InputError(
            f"csd_result ranks models {list(csd_result.models)}, the table has {list(table.models)}"
        )
    if tuple(csd_result.rounds) != table.benchmarks:
        raise InputError(
            f"csd_result was played in the round order {list(csd_result.rounds)}, the table's is "
            f"{list(table.benchmarks)}"
        )
    options = {key: csd_result.config[key] for key in _RECORDED if key in csd_result.config}
    options["n_runs"] = csd_result.n_runs  # with target_se: the runs it took, so no target here
    given = {"n_runs": n_runs, "seed": seed, **simulate_options}
    for key, wanted in given.items():
        if wanted is None or key in _REPLAY_FREE:
            continue
        if key not in options or not _same(options[key], wanted):
            recorded = options.get(key, "not recorded")
            raise InputError(
                f"{key}={wanted!r} contradicts csd_result ({key}={recorded!r}); with csd_result, "
                "the perturbed table is simulated with the result's own options"
            )
    options.update({key: simulate_options[key] for key in _REPLAY_FREE if key in simulate_options})
    return options


def _same(recorded, wanted) -> bool:
    """Whether a recorded option equals a given one (an int T equals a constant schedule)."""
    if isinstance(recorded, (list, tuple, np.ndarray)):
        values = np.atleast_1d(np.asarray(wanted)) if not isinstance(wanted, str) else None
        return values is not None and bool(np.all(np.asarray(recorded) == values))
    return recorded == wanted


def _static_methods(seed: int) -> dict[str, Callable[[ScoreTable], np.ndarray]]:
    """Every method but `csd`, by name, each (table) -> (M,) scores."""
    return {
        "mean": baselines.mean_score,
        "normalized_mean": baselines.normalized_mean,
        "mean_rank": baselines.mean_rank,
        "borda": baselines.borda,
        "bradley_terry": baselines.bradley_terry,
        "elo": functools.partial(baselines.elo, seed=seed),
    }


def _method_names(methods: Sequence[str] | None) -> tuple[str, ...]:
    names = METHODS if methods is None else (methods,) if isinstance(methods, str) else tuple(methods)
    if not names:
        raise InputError(f"methods is empty; choose from: {', '.join(METHODS)}")
    for name in names:
        if name not in METHODS:
            raise InputError(f"unknown method {name!r}; choose from: {', '.join(METHODS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"method(s) {repeated} asked for more than once")
    return names


def _csd_scores(
    table: ScoreTable, csd_result: SimulationResult | None, **simulate_options
) -> np.ndarray:
    """(M,) E[S] of `table`: from `csd_result` if given, else from a new simulation."""
    if csd_result is None:
        return simulate(table, **simulate_options).expected_score
    if tuple(csd_result.models) != table.models:
        raise InputError(
            f"csd_result ranks models {list(csd_result.models)}, the table has {list(table.models)}"
        )
    return np.asarray(csd_result.expected_score, dtype=np.float64)


def comparison_of(models: tuple[str, ...], scores: dict[str, np.ndarray]) -> Comparison:
    """The `Comparison` of (M,) `scores` by method (any names, e.g. CSD under several
    schedules next to the baselines): places and pairwise tau-b."""
    return Comparison(
        models=models,
        scores=scores,
        ranks={name: baselines.places(values) for name, values in scores.items()},
        kendall_tau={
            a: {b: 1.0 if a == b else baselines.kendall_tau(scores[a], scores[b]) for b in scores}
            for a in scores
        },
    )


def _outlier_columns(table: ScoreTable, row: int, benchmarks) -> list[int]:
    """The benchmark columns to perturb for model `row` (see `outlier_test`)."""
    if benchmarks is None:
        present = ~np.isnan(table.scores[row])
        if not present.any():
            raise InputError(f"model {table.models[row]!r} has no score; name the benchmarks to perturb")
        return [int(np.argmax(np.where(present, table.scores[row], -np.inf)))]
    names = (benchmarks,) if isinstance(benchmarks, str) else tuple(benchmarks)
    if not names:
        raise InputError("benchmarks is empty; name at least one, or pass None for the default")
    return sorted({_index_of("benchmark", name, table.benchmarks) for name in names})


def _aligned(rows: list[list[str]]) -> str:
    """Text columns: the first left-aligned, the others right-aligned, two spaces apart."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join(
        "  ".join([row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:]))])
        for row in rows
    )


def _index_of(kind: str, name: str, names: tuple[str, ...]) -> int:
    if name not in names:
        raise InputError(f"unknown {kind} {name!r}; the table has: {', '.join(names)}")
    return names.index(name)
