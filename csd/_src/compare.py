"""CSD next to the static rankings: rank tables, Kendall tau, and the outlier test."""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from csd._src import baselines, streams
from csd._src.bootstrap import _coverage, _tier_columns, _tier_positions, bootstrap, intervals, resampled_columns
from csd._src.errors import InputError, check_int
from csd._src.frozen import frozen_rounds, present, record, warns_frozen
from csd._src.results import Comparison, OutlierResult, SimulationResult
from csd._src.simulate import simulate
from csd._src.spec import Tournament, as_tournament
from csd._src.table import ScoreTable

METHODS = ("csd", *baselines.STATIC_METHODS)  # `csd` first, then the static baselines


@warns_frozen()
def compare(
    table: ScoreTable,
    methods: Sequence[str] | None = None,
    *,
    tournament: Tournament | None = None,
    csd_result: SimulationResult | None = None,
    n_runs: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    n_boot: int = 0,
    tiers: Sequence[Sequence[str]] | None = None,
    coverage: float = 0.95,
    boot_runs: int = 2_000,
    estimator: str | None = None,
    **rules,
) -> Comparison:
    """Ranks the models of `table` by CSD and by static methods, side by side.

    Args:
      table: the score table.
      methods: names from `csd` (E[S] of `csd.simulate`), `mean`, `normalized_mean`,
        `mean_rank`, `borda`, `bradley_terry`, `elo` (see `csd.baselines`); default all.
        `elo` plays K * M * (M - 1) / 2 games in sequence: leave it out for thousands of
        models.
      tournament, **rules: the rules of `csd`, as in `csd.simulate`.
      csd_result: a `SimulationResult` of this table to use for `csd` instead of simulating
        (its own tournament, N and seed are used; giving other ones is an error).
      n_runs, seed, chunk_size, progress: passed to `csd.simulate` for `csd` (default N =
        20,000, seed 0); `seed` also seeds the Elo game orders.
      n_boot: with n_boot > 0, every method gets bootstrap intervals of its score and rank
        (`Comparison.intervals`) from the same n_boot tables, resampled inside `tiers`:
        `csd` from `csd.bootstrap` (N = `boot_runs` per table), the others from
        `baseline_intervals`. 0 (the default): no intervals. `elo` replays its game
        orders on every table, the slow part (about 3 s per table for 65 models on a busy
        CPU; the other baselines together take milliseconds).
      tiers, coverage: as in `csd.bootstrap`.
      estimator: how `csd`'s E[S] is estimated, here and in its bootstrap, as in
        `csd.simulate`: `cv` (the default) or `plain`. With `csd_result`, its own.

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
    run = _csd_run(table, csd_result, tournament, rules, n_runs, seed, chunk_size, progress, estimator)
    comparison = _compare(table, names, run, csd_result)
    if check_int("n_boot", n_boot, 0) == 0:
        return comparison
    coverage = _coverage(coverage)
    static = [name for name in names if name != "csd"]
    bounds = baseline_intervals(table, static, n_boot, tiers=tiers, coverage=coverage, seed=run.seed) if static else {}
    if "csd" in names:
        boot = bootstrap(table, n_boot, boot_runs, tournament=run.tournament, tiers=tiers, coverage=coverage,
                         seed=run.seed, chunk_size=chunk_size, estimator=run.estimator)
        bounds["csd"] = {key: getattr(boot, key) for key in _BOUNDS}
    return dataclasses.replace(comparison, intervals={name: bounds[name] for name in names}, coverage=coverage)


_BOUNDS = ("ci_low", "ci_high", "rank_low", "rank_high")


def baseline_intervals(
    table: ScoreTable,
    methods: Sequence[str] | None = None,
    n_boot: int = 200,
    *,
    tiers: Sequence[Sequence[str]] | None = None,
    coverage: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Bootstrap intervals of the static methods' scores and ranks, from the resampling
    `csd.bootstrap(scheme="benchmarks")` uses: each of `n_boot` tables draws its
    benchmarks with replacement inside each tier, from the same random stream, so with
    the same `seed` and `tiers` the methods and CSD are judged on the very same tables.

    Args:
      table: the score table.
      methods: static methods of `compare` (not `csd`: `csd.bootstrap` gives its
        intervals); default all of them.
      n_boot: replicate tables, >= 2.
      tiers, coverage: as in `csd.bootstrap`.
      seed: the resampling's seed (and the Elo game orders').

    Returns:
      method -> {"ci_low", "ci_high": (M,) float, "rank_low", "rank_high": (M,) int}: the
      `expanded` intervals of `csd.bootstrap` (the replicates shifted to centre on the
      method's score on `table`, Hesterberg's widened tails), not clipped.

    Raises:
      InputError: for an unknown method, `csd`, or bad tiers, n_boot or coverage.

    Example:
      >>> import csd
      >>> table = csd.load_table(csd.shipped_table("livebench"))
      >>> bounds = csd.baseline_intervals(table, ["mean"], n_boot=50)["mean"]
      >>> bool((bounds["ci_low"] <= csd.baselines.mean_score(table)).all())
      True
    """
    names = _method_names(METHODS[1:] if methods is None else methods)
    if "csd" in names:
        raise InputError("baseline_intervals is for the static methods; csd.bootstrap gives csd's intervals", "methods")
    n_boot = check_int("n_boot", n_boot, 2)
    coverage = _coverage(coverage)
    tier_columns = _tier_columns(table, tiers)
    if len(tier_columns) == table.shape[1]:
        raise InputError("tiers: every tier has one benchmark, so resampling inside the tiers cannot change the table")
    ordered = np.concatenate(tier_columns)
    generator = streams.host_generator(seed, streams.BOOTSTRAP_RESAMPLE)
    columns = ordered[resampled_columns(_tier_positions(tier_columns), n_boot, generator)]  # (B, K)
    static = baselines.static_methods(seed)
    bounds = {}
    for name in names:
        replicates = np.stack([static[name](table.with_scores(table.scores[:, drawn])) for drawn in columns])
        found = intervals(static[name](table), replicates, coverage, "expanded", None, table.shape[1],
                          len(tier_columns))
        bounds[name] = {key: found[key] for key in _BOUNDS}
    return bounds


def _compare(table: ScoreTable, names: tuple[str, ...], run: _CsdRun, csd_result) -> Comparison:
    """`compare` on checked arguments: `csd` from `csd_result`, or simulated by `run`."""
    static = baselines.static_methods(run.seed)
    simulated = None
    if "csd" in names:
        simulated = run.simulate(table) if csd_result is None else csd_result
    scores = {name: simulated.expected_score if name == "csd" else static[name](table) for name in names}
    return comparison_of(table.models, scores, simulated)


@warns_frozen()
def outlier_test(
    table: ScoreTable,
    model: str,
    benchmarks: str | Sequence[str] | None = None,
    value: float = 0.0,
    methods: Sequence[str] | None = None,
    *,
    tournament: Tournament | None = None,
    csd_result: SimulationResult | None = None,
    n_runs: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    estimator: str | None = None,
    **rules,
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
      tournament, **rules: the rules of `csd`, as in `csd.simulate`.
      csd_result: a `csd.simulate` result of `table` (same models, same round order),
        used as the `csd` ranking before the change instead of simulating it again; the
        perturbed table is then simulated with that result's tournament, N, seed and
        estimator, so the two are directly comparable.
      n_runs, seed, chunk_size, progress: passed to `csd.simulate` for `csd` (default N =
        20,000, seed 0); both tables are simulated with the same seed, so the CSD shift
        is not blurred by fresh random numbers. `seed` also seeds the Elo game orders.
        With `csd_result`, a tournament, N, seed or estimator other than the result's is an
        error.
        Zeros in the first rounds can leave the
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
    if not isinstance(table, ScoreTable):
        raise InputError(f"outlier_test needs a ScoreTable, got {type(table).__name__}")
    row = _index_of("model", model, table.models)
    columns = _outlier_columns(table, row, benchmarks)
    value = _finite("value", value)
    scores = table.scores.copy()
    scores[row, columns] = value
    names = _method_names(methods)
    run = _csd_run(table, csd_result, tournament, rules, n_runs, seed, chunk_size, progress, estimator)
    before = _compare(table, names, run, csd_result)
    after = _compare(table.with_scores(scores), names, run, None)
    result = OutlierResult(
        model=table.models[row],
        benchmarks=tuple(table.benchmarks[k] for k in columns),
        value=value,
        rank_before={name: int(before.ranks[name][row]) for name in names},
        rank_after={name: int(after.ranks[name][row]) for name in names},
        shift={name: int(after.ranks[name][row] - before.ranks[name][row]) for name in names},
        score_before={name: float(before.scores[name][row]) for name in names},
        score_after={name: float(after.scores[name][row]) for name in names},
        tournament=run.tournament if "csd" in names else None,
    )
    if "csd" not in names:
        return result
    found = [frozen_rounds(before.csd, "on the table"),
             frozen_rounds(after.csd, f"on the perturbed table ({result.title()})")]
    return dataclasses.replace(result, frozen_rounds=record(present(found)))


@dataclasses.dataclass(frozen=True)
class _CsdRun:
    """How `csd` is simulated: the tournament, N, seed and estimator, and the
    result-neutral options."""

    tournament: Tournament
    n_runs: int
    seed: int
    chunk_size: int | None
    progress: Callable[[int, int], None] | None
    estimator: str

    def simulate(self, table: ScoreTable) -> SimulationResult:
        return simulate(table, tournament=self.tournament, n_runs=self.n_runs, seed=self.seed,
                        chunk_size=self.chunk_size, progress=self.progress, estimator=self.estimator)


def _csd_run(table: ScoreTable, csd_result, tournament, rules: dict, n_runs, seed, chunk_size, progress,
             estimator) -> _CsdRun:
    """How `compare` and `outlier_test` simulate `csd`: as asked (N = 20,000, seed 0 and
    cv by default), or as `csd_result` was (`_replay`)."""
    if csd_result is not None:
        return _replay(table, csd_result, tournament, rules, n_runs, seed, chunk_size, progress, estimator)
    n_runs, seed = 20_000 if n_runs is None else n_runs, 0 if seed is None else seed
    estimator = "cv" if estimator is None else estimator  # checked by `simulate`, as N and seed are
    return _CsdRun(as_tournament(tournament, rules), n_runs, seed, chunk_size, progress, estimator)


def _replay(table: ScoreTable, csd_result, tournament, rules: dict, n_runs, seed, chunk_size, progress,
            estimator) -> _CsdRun:
    """The `_CsdRun` that repeats `csd_result` on another table: its tournament, N (with
    target_se: the runs it took), seed and estimator. Giving other ones is an InputError
    (asking for cv where the result's rules made it fall back to plain is not)."""
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
    played = csd_result.tournament
    wanted = as_tournament(played if tournament is None else tournament, rules)
    if wanted != played:
        differ = [k for k, v in wanted.to_dict().items() if played.to_dict()[k] != v]
        raise InputError(
            f"{', '.join(f'{k}={getattr(wanted, k)!r}' for k in differ)} contradicts csd_result "
            f"({', '.join(f'{k}={getattr(played, k)!r}' for k in differ)}); with csd_result, the "
            "perturbed table is played under the result's own tournament"
        )
    for name, given, recorded in (("n_runs", n_runs, csd_result.n_runs), ("seed", seed, csd_result.seed)):
        if given is not None and given != recorded:
            raise InputError(f"{name}={given!r} contradicts csd_result ({name}={recorded!r})")
    fell_back = csd_result.estimator_note is not None  # cv was asked for; it ran plain
    if estimator is not None and estimator != csd_result.estimator and not (fell_back and estimator == "cv"):
        raise InputError(f"estimator={estimator!r} contradicts csd_result (estimator={csd_result.estimator!r})")
    return _CsdRun(played, csd_result.n_runs, csd_result.seed, chunk_size, progress, csd_result.estimator)


def _finite(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r} must be a number") from None
    if not np.isfinite(number):
        raise InputError(f"{name}={value!r} must be a finite number (a missing score is not an outlier)")
    return number


def _method_names(methods: Sequence[str] | None) -> tuple[str, ...]:
    names = METHODS if methods is None else (methods,) if isinstance(methods, str) else tuple(methods)
    if not names:
        raise InputError(f"methods is empty; choose from: {', '.join(METHODS)}", "methods")
    for name in names:
        if name not in METHODS:
            raise InputError(f"unknown method {name!r}; choose from: {', '.join(METHODS)}", "methods")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"method(s) {repeated} asked for more than once", "methods")
    return names


def comparison_of(models: tuple[str, ...], scores: dict[str, np.ndarray], simulated=None) -> Comparison:
    """The `Comparison` of (M,) `scores` by method (any names, e.g. CSD under several
    schedules next to the baselines): places and pairwise tau-b."""
    return Comparison(
        models=models,
        scores=scores,
        csd=simulated,
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


def _index_of(kind: str, name: str, names: tuple[str, ...]) -> int:
    if name not in names:
        raise InputError(f"unknown {kind} {name!r}; the table has: {', '.join(names)}")
    return names.index(name)
