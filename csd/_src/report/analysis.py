"""The paper's analyses of one score table, as plain computations on `csd` results.

`run_analyses` runs every analysis of "LLM Swiss Round" (arXiv 2512.21010) on a table
whose columns are in round order: the Expected Win Score ranking at T = 0 (`csd.simulate`),
the Failure Sensitivity Analysis over T = 0, 1, 2 (`csd.sweep`), bootstrap intervals and
tiers (`csd.bootstrap`), CSD next to the static baselines (`csd.compare`), the outlier test
(`csd.outlier_test`, under the paper's pairing and under `float`), and beyond the paper the
ranking under other round orders and each model's spread of per-benchmark ranks. The
other functions pick what the text and figures name. Nothing here writes a file.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from csd._src import baselines
from csd._src.bootstrap import bootstrap
from csd._src.compare import compare, comparison_of, outlier_test
from csd._src.errors import InputError, check_int
from csd._src.frozen import FrozenRounds, frozen_rounds, present
from csd._src.orders import random_orders
from csd._src.results import BootstrapResult, Comparison, OrderSensitivity, OutlierResult, SimulationResult, SweepResult
from csd._src.rounds import order_rounds
from csd._src.simulate import simulate
from csd._src.spec import Tournament
from csd._src.sweep import sweep
from csd._src.table import ScoreTable

SCHEDULES = (0, 1, 2)  # the paper's elimination sweep
PROFILES = ("robust generalist", "in between", "aggressive specialist")
BASELINES = tuple(baselines.STATIC_METHODS)
Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Settings:
    """The Monte Carlo sizes and the seed of one report.

    Attributes:
      n_runs: N of the T = 0 ranking, and of the perturbed table of the outlier test (its
        "before" ranking is the headline ranking itself).
      fsa_runs: N per schedule of the sweep T = 0, 1, 2.
      n_boot, boot_runs: bootstrap replicate tables, and N in each.
      order_runs: N of each alternative round order.
      n_random_orders: random round orders tried.
      outlier_rank: the CSD place of the model whose scores the outlier test zeroes.
      outlier_count: how many of its best benchmarks are zeroed.
      seed: the seed of every simulation.
    """

    n_runs: int = 30_000
    fsa_runs: int = 20_000
    n_boot: int = 100
    boot_runs: int = 500
    order_runs: int = 5_000
    n_random_orders: int = 3
    outlier_rank: int = 7
    outlier_count: int = 3
    seed: int = 0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            minimum = {"n_random_orders": 0, "seed": 0, "outlier_rank": 1, "outlier_count": 1}.get(field.name, 2)
            check_int(field.name, getattr(self, field.name), minimum)

    @property
    def float_runs(self) -> int:
        """N of each table of the outlier test under `float` pairing."""
        return max(2, self.n_runs // 2)


QUICK = Settings(n_runs=2_000, fsa_runs=1_000, n_boot=10, boot_runs=200, order_runs=1_000, n_random_orders=1)


@dataclasses.dataclass(frozen=True)
class RoundOrder:
    """How the table's rounds were put in order (`csd.order_rounds`).

    Attributes:
      given: the table as passed, columns in its own (the "file") order.
      table: the same table, columns in round order.
      tiers: None, or {tier: [benchmarks in round order]} in round order.
      order, tier_order: the `csd.order_rounds` options that gave the round order.
    """

    given: ScoreTable
    table: ScoreTable
    tiers: dict[str, list[str]] | None
    order: str
    tier_order: str


@dataclasses.dataclass(frozen=True)
class OtherOrder:
    """The T = 0 ranking under another round order.

    Attributes:
      rounds: (K,) benchmark names in the order played.
      expected_score, stderr: (M,) E[S] and its Monte Carlo SE, models in table order.
    """

    rounds: list[str]
    expected_score: np.ndarray
    stderr: np.ndarray


@dataclasses.dataclass(frozen=True)
class RankSpread:
    """Each model's ranks over the benchmarks (1 = best, ties averaged, a missing score
    below every present one).

    Attributes:
      ranks: (M, K) rank of model m on the benchmark of round k.
      half: the number of rounds counted as "early" (the first half, at least 1).
      early: (M,) mean rank over the first `half` rounds minus mean rank over all rounds
        (positive: weaker than usual early in the tournament).
      mean, sd: (M,) mean and standard deviation (ddof 1; 0 with one round) of the ranks.
      worst: (M,) the worst rank; worst_benchmark: (M,) the benchmark it is on.
    """

    ranks: np.ndarray
    half: int
    early: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    worst: np.ndarray
    worst_benchmark: list[str]

    def to_dict(self) -> dict:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class Analysis:
    """Everything the report's text and figures are made from.

    Attributes:
      name: a short name of the table.
      rounds: how the rounds were ordered, and the table in round order.
      settings: the sizes and seed.
      tournament: the `Tournament` of every simulation (T = 0; the sweep's schedules replace it).
      ranking: the T = 0 ranking (`csd.simulate`).
      fsa: the sweep over T = 0, 1, 2 (`csd.sweep`).
      boot: the bootstrap over benchmarks, inside tiers (`csd.bootstrap`).
      comparison: CSD (T = 0 and T = 2) and the static baselines: scores, places and the
        Kendall tau matrix, methods `csd T=0`, `csd T=2`, then `BASELINES`.
      outlier: the outlier test, reusing `ranking` for the unperturbed table.
      outlier_float: the same test, CSD only, under `float` pairing.
      orders: {name of another round order: its ranking}, in the order tried.
      spread: each model's per-benchmark ranks.
      timings: {step: wall-clock seconds}.
    """

    name: str
    rounds: RoundOrder
    settings: Settings
    tournament: Tournament
    ranking: SimulationResult
    fsa: SweepResult
    boot: BootstrapResult
    comparison: Comparison
    outlier: OutlierResult
    outlier_float: OutlierResult
    orders: dict[str, OtherOrder]
    spread: RankSpread
    timings: dict[str, float]

    @property
    def table(self) -> ScoreTable:
        """The table, columns in round order."""
        return self.rounds.table

    @property
    def models(self) -> tuple[str, ...]:
        return self.ranking.models


def arrange_rounds(
    table: ScoreTable, order: str, tiers: Mapping[str, Sequence[str]] | str | None, tier_order: str, seed: int
) -> RoundOrder:
    """`table` with its rounds in order (`csd.order_rounds`), kept next to the table as given."""
    played, groups = order_rounds(table, order, tiers, tier_order=tier_order, seed=seed)
    return RoundOrder(table, played, groups, order, tier_order)


def run_analyses(
    name: str,
    rounds: RoundOrder,
    settings: Settings,
    outlier_model: str | None = None,
    tournament: Tournament | None = None,
    chunk_size: int | None = None,
    log: Log | None = None,
) -> Analysis:
    """Runs every analysis on `rounds.table` (columns in round order).

    Args:
      name: a short name of the table, for the report.
      rounds: the table and its round order (`arrange_rounds`).
      settings: the sizes and seed.
      outlier_model: the model of the outlier test (None: the one at CSD place
        `settings.outlier_rank`).
      tournament: the `Tournament` of every simulation (default the paper's); chunk_size:
        runs per kernel call.
      log: called with one line after each step: its name and wall time.

    Raises:
      InputError: for an unknown outlier model, or a tournament option the simulations reject.
    """
    table, seed = rounds.table, settings.seed
    if outlier_model is not None and outlier_model not in table.models:
        raise InputError(f"outlier_model={outlier_model!r} is not in the table")
    tournament = Tournament() if tournament is None else tournament
    options = dict(tournament=tournament, chunk_size=chunk_size)
    timings: dict[str, float] = {}

    def timed(step: str, function):
        start, cpu = time.perf_counter(), time.process_time()
        value = function()
        timings[step] = time.perf_counter() - start
        if log is not None:
            log(f"{step}: {timings[step]:.1f} s (CPU {time.process_time() - cpu:.1f} s)")
        return value

    tiers = None if rounds.tiers is None else list(rounds.tiers.values())
    ranking = timed("ranking (simulate, T=0)", lambda: simulate(table, n_runs=settings.n_runs, seed=seed, **options))
    fsa = timed("failure sensitivity (sweep, T=0,1,2)", lambda: sweep(
        table, schedules=list(SCHEDULES), n_runs=settings.fsa_runs, seed=seed, **options))
    boot = timed("bootstrap", lambda: bootstrap(
        table, n_boot=settings.n_boot, n_runs=settings.boot_runs, scheme="benchmarks", tiers=tiers, seed=seed,
        **options))
    static = timed("static baselines (compare)", lambda: compare(table, BASELINES, seed=seed))
    model, benchmarks = outlier_choice(table, ranking, outlier_model, settings.outlier_rank, settings.outlier_count)
    outlier = timed("outlier test", lambda: outlier_test(
        table, model, benchmarks, value=0.0, csd_result=ranking, chunk_size=chunk_size))
    floating = tournament.replace(pairing="float", bye=None if tournament.rule.seeded else tournament.bye)
    outlier_float = timed("outlier test, float pairing", lambda: outlier_test(
        table, model, benchmarks, value=0.0, methods=["csd"], n_runs=settings.float_runs, seed=seed,
        tournament=floating, chunk_size=chunk_size))
    orders = timed("round orders", lambda: order_sensitivity(
        rounds, settings.order_runs, settings.n_random_orders, seed, options))
    scores = {"csd T=0": ranking.expected_score, "csd T=2": fsa.expected_score[-1], **static.scores}
    comparison = comparison_of(table.models, scores)
    return Analysis(name, rounds, settings, tournament, ranking, fsa, boot, comparison, outlier, outlier_float,
                    orders, rank_spread(table), timings)


def frozen_in(a: Analysis) -> list[FrozenRounds]:
    """The rounds that played no game in (nearly) every tournament of the T = 0 ranking or
    of the sweep's other schedules (`csd._src.frozen`); the outlier test's perturbed tables
    and the other round orders are what-ifs, not looked at."""
    sweep = (frozen_rounds(r, f"in the sweep under {label}") for label, r in zip(a.fsa.labels[1:], a.fsa.results[1:]))
    return present([frozen_rounds(a.ranking, "in the ranking (T=0)"), *sweep])


def outlier_choice(
    table: ScoreTable, ranking: SimulationResult, model: str | None, rank: int, count: int
) -> tuple[str, list[str]]:
    """The model of the outlier test and the benchmarks whose scores it zeroes.

    Args:
      table: the table (columns in round order).
      ranking: its T = 0 ranking.
      model: the model, or None for the one at CSD place `rank` (the last if there are
        fewer models): the paper tests its 7th-ranked model (Qwen3-Max).
      rank: see `model`.
      count: how many benchmarks: the model's `count` highest raw scores (all its present
        scores if it has fewer, at least one), whose zeroing costs its mean score the most.

    Returns:
      (model, [benchmarks in round order]).

    Raises:
      InputError: if `model` is not in the table.
    """
    if model is None:
        order = ranking.order()
        model = ranking.models[order[min(rank, len(order)) - 1]]
    if model not in table.models:
        raise InputError(f"outlier_model={model!r} is not in the table")
    row = table.scores[table.models.index(model)]
    present = np.flatnonzero(~np.isnan(row))
    best = present[np.argsort(-row[present], kind="stable")[: max(1, min(count, present.size))]]
    return model, [table.benchmarks[k] for k in sorted(best)]


def order_sensitivity(
    rounds: RoundOrder, n_runs: int, n_random: int, seed: int, options: Mapping | None = None
) -> dict[str, OtherOrder]:
    """The T = 0 ranking under other round orders, without tiers (so any order is possible).

    The orders tried: the table's own column order ("file order"), every benchmark by mean
    score highest first ("easy-first (no tiers)") and lowest first ("hard-first"), and
    `n_random` uniform permutations ("random 1", ...; `orders.random_orders`, host stream
    `streams.ORDER_SENSITIVITY`, as `csd.order_sensitivity` draws them). An order equal to
    the one of `rounds.table` is skipped: it is the headline ranking.

    Args:
      rounds: the table as given and in round order.
      n_runs, seed, options: passed to `csd.simulate` for each order (`tournament=`, ...).
      n_random: how many random orders.

    Returns:
      {order name: its `OtherOrder`}, models in table order.
    """
    given = rounds.given
    easiest = list(order_rounds(given, "easy-first")[0].benchmarks)
    candidates = {"file order": list(given.benchmarks), "easy-first (no tiers)": easiest, "hard-first": easiest[::-1]}
    for r, order in enumerate(random_orders(given.benchmarks, None, n_random, seed)):
        candidates[f"random {r + 1}"] = order
    orders = {}
    for name, order in candidates.items():
        if order == list(rounds.table.benchmarks):
            continue
        result = simulate(given.with_benchmarks(order), n_runs=n_runs, seed=seed, **(options or {}))
        orders[name] = OtherOrder(order, result.expected_score, result.stderr)
    return orders


def rank_spread(table: ScoreTable) -> RankSpread:
    """Each model's ranks over the benchmarks of `table` and their summaries (`RankSpread`)."""
    ranks = baselines.benchmark_ranks(table)  # (M, K)
    half = max(1, ranks.shape[1] // 2)
    return RankSpread(
        ranks=ranks,
        half=half,
        early=ranks[:, :half].mean(axis=1) - ranks.mean(axis=1),
        mean=ranks.mean(axis=1),
        sd=ranks.std(axis=1, ddof=1) if ranks.shape[1] > 1 else np.zeros(len(ranks)),
        worst=ranks.max(axis=1),
        worst_benchmark=[table.benchmarks[k] for k in np.argmax(ranks, axis=1)],
    )


def order_leader(a: Analysis, name: str) -> str:
    """The model with the highest E[S] under the other round order `name`."""
    return a.models[int(np.argmax(a.orders[name].expected_score))]


def order_line(a: Analysis) -> str:
    """One line for the printed header: the Kendall tau range of the other round orders
    against the reported ranking and how often the leader changes."""
    names = list(a.orders)
    if not names:
        return "order sensitivity: no other round order was tried"
    sensitivity = OrderSensitivity(
        orders=tuple(tuple(a.orders[name].rounds) for name in names),
        expected_score=np.array([a.orders[name].expected_score for name in names]),
        kendall_tau=np.array([order_tau(a, name) for name in names]),
        leaders=tuple(order_leader(a, name) for name in names),
        reported_leader=a.models[int(a.ranking.order()[0])],
        n_runs=a.settings.order_runs,
    )
    return sensitivity.line(f"{len(names)} other round orders ({', '.join(names)})")


def order_tau(a: Analysis, name: str) -> float:
    """Kendall tau-b between the headline ranking and the one under the order `name`."""
    return baselines.kendall_tau(a.ranking.expected_score, a.orders[name].expected_score)


def extreme(a: Analysis, profile: str) -> int | None:
    """The model of risk `profile` with the largest |residual| (None if no model has it)."""
    fsa = a.fsa
    flagged = [m for m in range(len(fsa.models)) if fsa.risk_profile[m] == profile]
    return max(flagged, key=lambda m: abs(fsa.risk_residual[m])) if flagged else None


def flagged_models(a: Analysis, profile: str, count: int) -> list[int]:
    """Up to `count` models of risk `profile` (robust generalist or aggressive specialist),
    the most extreme residual first."""
    fsa = a.fsa
    sign = -1 if profile == "robust generalist" else 1
    return [m for m in np.argsort(sign * fsa.risk_residual, kind="stable") if fsa.risk_profile[m] == profile][:count]


def notable_models(a: Analysis, per_profile: int = 4) -> list[str]:
    """The models worth naming in the figures: the top 3, the outlier model, and up to
    `per_profile` of the most extreme robust generalists and aggressive specialists."""
    names = [a.models[m] for m in a.ranking.order()[:3]] + [a.outlier.model]
    for profile in ("robust generalist", "aggressive specialist"):
        names += [a.fsa.models[m] for m in flagged_models(a, profile, per_profile)]
    return list(dict.fromkeys(names))


def merged_ranks(ranks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`ranks` ({method: (M,) places}) with methods that rank identically merged into one
    column named `a\\n= b` (Borda, mean rank and Bradley-Terry always agree), in
    first-appearance order; the line breaks keep the bump chart's column labels apart."""
    merged: dict[str, np.ndarray] = {}
    for name, values in ranks.items():
        same = next((key for key, kept in merged.items() if np.array_equal(kept, values)), None)
        if same is None:
            merged[name] = np.asarray(values)
        else:
            merged = {(f"{key}\n= {name}" if key == same else key): kept for key, kept in merged.items()}
    return merged
