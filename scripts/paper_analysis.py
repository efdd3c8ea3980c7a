#!/usr/bin/env python3
"""The paper's analysis of one score table, written up as a Markdown report with figures.

Runs every analysis of "LLM Swiss Round" (arXiv 2512.21010) on a shipped table or a CSV:
the Expected Win Score ranking with Monte Carlo standard errors (`csd.simulate`, T = 0),
the Failure Sensitivity Analysis over T = 0, 1, 2 with paired drop SEs and risk profiles
(`csd.sweep`), bootstrap intervals and tiers (`csd.bootstrap`), CSD next to the static
baselines with Kendall tau (`csd.compare`), and the outlier-robustness test
(`csd.outlier_test`). Beyond the paper: the distribution of each model's final rank,
survival curves under elimination, and how much the ranking depends on the round order.
It writes `report.md`, `results.json` and the PNG figures into one folder.

Usage (with `csd` importable: `pip install -e .` in the repository, or PYTHONPATH set to it):

    python scripts/paper_analysis.py                          # LiveBench -> reports/livebench/
    python scripts/paper_analysis.py --table epoch_hub_small
    python scripts/paper_analysis.py --table scores.csv --order given --out /tmp/report
    python scripts/paper_analysis.py --tier-order given       # LiveBench's categories in its own order
    python scripts/paper_analysis.py --quick                  # small N: a smoke test

The defaults fit in well under two minutes on two CPU cores; raise `--n-runs`, `--fsa-runs`,
`--n-boot` and `--boot-runs` for the paper's precision (N = 100,000).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

import csd
import csd.plots
from csd.baselines import places

TABLES = ("livebench", "epoch_hub_small")  # the shipped tables this script is sized for
ORDERS = ("easy-first", "given", "random")
TIER_ORDERS = ("easy-first", "given")
SCHEDULES = (0, 1, 2)  # the paper's elimination sweep
PROFILE_ORDER = ("robust generalist", "in between", "aggressive specialist")
BASELINES = ("mean", "normalized_mean", "mean_rank", "borda", "bradley_terry", "elo")


@dataclasses.dataclass(frozen=True)
class Settings:
    """The Monte Carlo sizes and the seed of one analysis.

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


QUICK = Settings(n_runs=2_000, fsa_runs=1_000, n_boot=10, boot_runs=200, order_runs=1_000, n_random_orders=1)


# ----------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run the CSD paper's analyses on a score table and write a Markdown report.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--table", default="livebench",
                        help=f"a shipped table ({', '.join(TABLES)}) or the path of a CSV "
                             "(first column the model, one column per benchmark, higher is better)")
    parser.add_argument("--out", default=None, help="output folder (default: reports/<table>/)")
    parser.add_argument("--order", choices=ORDERS, default="easy-first",
                        help="round order: benchmarks by mean score, highest first (a proxy for the "
                             "paper's foundational-to-advanced order), the file's column order, or random")
    parser.add_argument("--tiers", default="auto",
                        help="benchmark tiers: 'auto' (LiveBench's categories; none for other tables), "
                             "'none', or a JSON file {tier: [benchmarks]}; rounds go tier by tier and the "
                             "bootstrap resamples inside each tier")
    parser.add_argument("--tier-order", choices=TIER_ORDERS, default="easy-first",
                        help="order of the tiers: by the tier's mean score, highest first (the paper goes "
                             "from foundational to advanced abilities), or the tiers file's order")
    parser.add_argument("--missing", default="loss",
                        choices=("loss", "drop-model", "drop-benchmark", "error"),
                        help="missing-score policy (loss: a missing score loses to any present one)")
    parser.add_argument("--n-runs", type=int, help=f"N of the T=0 ranking and the outlier test [{Settings.n_runs}]")
    parser.add_argument("--fsa-runs", type=int, help=f"N per schedule of the T=0,1,2 sweep [{Settings.fsa_runs}]")
    parser.add_argument("--n-boot", type=int, help=f"bootstrap replicate tables [{Settings.n_boot}]")
    parser.add_argument("--boot-runs", type=int, help=f"N per bootstrap replicate [{Settings.boot_runs}]")
    parser.add_argument("--order-runs", type=int, help=f"N per alternative round order [{Settings.order_runs}]")
    parser.add_argument("--outlier-model", default=None,
                        help="model whose best scores are zeroed (default: the model at CSD rank --outlier-rank)")
    parser.add_argument("--outlier-rank", type=int, default=Settings.outlier_rank)
    parser.add_argument("--outlier-count", type=int, default=Settings.outlier_count,
                        help="how many of the model's highest scores are set to 0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="small N and B (a smoke test; the numbers are imprecise)")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    base = QUICK if args.quick else Settings()
    chosen = {
        "n_runs": args.n_runs, "fsa_runs": args.fsa_runs, "n_boot": args.n_boot,
        "boot_runs": args.boot_runs, "order_runs": args.order_runs,
    }
    for name, value in chosen.items():
        if value is not None and value < 2:
            raise csd.InputError(f"--{name.replace('_', '-')}={value} must be >= 2")
    return dataclasses.replace(
        base,
        **{k: v for k, v in chosen.items() if v is not None},
        outlier_rank=args.outlier_rank,
        outlier_count=args.outlier_count,
        seed=args.seed,
    )


@dataclasses.dataclass(frozen=True)
class Data:
    """The table as read and as played.

    Attributes:
      name: a short name (the shipped table's, or the CSV's stem).
      raw: the table in its file's column order.
      table: the same table, columns in round order.
      tiers: None, or {tier: [benchmarks in round order]} in round order.
      order, tier_order: the `csd.order_rounds` options that gave the round order.
    """

    name: str
    raw: csd.ScoreTable
    table: csd.ScoreTable
    tiers: dict | None
    order: str
    tier_order: str


def load_data(table: str, order: str, tiers: str, tier_order: str, missing: str, seed: int) -> Data:
    """Reads `--table` (a shipped table or a CSV), and puts its rounds in order."""
    if table in TABLES:
        path, name, shipped = csd.shipped_table(table), table, table
    elif os.path.isfile(table):
        path, name, shipped = table, Path(table).stem, None
    else:
        try:
            csd.shipped_table(table)
        except csd.InputError:
            raise csd.InputError(
                f"--table={table!r}: neither a shipped table ({', '.join(TABLES)}) nor a file") from None
        raise csd.InputError(f"--table={table}: too large for this script; pass a CSV of a subset")
    if tiers == "auto":
        tiers_source = None if shipped is None else csd.shipped_tiers(shipped)
    else:
        tiers_source = None if tiers == "none" else tiers
    raw = csd.load_table(path, missing=missing)
    played, groups = csd.order_rounds(raw, order, tiers_source, tier_order=tier_order, seed=seed)
    return Data(name, raw, played, groups, order, tier_order)


# ----------------------------------------------------------------------------- analyses


@dataclasses.dataclass
class Analysis:
    """Everything the report and the figures are made from."""

    prepared: Data
    settings: Settings
    ranking: csd.SimulationResult
    fsa: csd.SweepResult
    boot: csd.BootstrapResult
    comparison: csd.Comparison
    tau: dict  # method -> method -> Kendall tau, CSD under T=2 included
    ranks: dict  # method -> (M,) ranks, CSD under T=0 and T=2 first
    outlier: csd.OutlierResult  # reuses `ranking` for the unperturbed table
    outlier_float: csd.OutlierResult  # the same test, CSD only, under `float` pairing
    orders: dict  # another round order's name -> {"rounds": [...], "expected_score": (M,), "stderr": (M,)}
    spread: dict  # (M,) per-model statistics of its per-benchmark ranks
    timings: dict


def run_analyses(prepared: Data, settings: Settings, outlier_model: str | None, log=print) -> Analysis:
    """Runs every analysis on the table (columns already in round order)."""
    table = prepared.table
    timings: dict[str, float] = {}
    tiers = None if prepared.tiers is None else list(prepared.tiers.values())
    seed = settings.seed

    def timed(name, function):
        start, cpu = time.perf_counter(), time.process_time()
        value = function()
        timings[name] = time.perf_counter() - start
        log(f"  {name}: {timings[name]:.1f} s (CPU {time.process_time() - cpu:.1f} s)")
        return value

    ranking = timed("ranking (simulate, T=0)", lambda: csd.simulate(table, n_runs=settings.n_runs, seed=seed))
    fsa = timed("failure sensitivity (sweep, T=0,1,2)",
                lambda: csd.sweep(table, schedules=list(SCHEDULES), n_runs=settings.fsa_runs, seed=seed))
    boot = timed("bootstrap", lambda: csd.bootstrap(
        table, n_boot=settings.n_boot, n_runs=settings.boot_runs, scheme="benchmarks", tiers=tiers, seed=seed))
    comparison = timed("static baselines (compare)", lambda: csd.compare(table, csd_result=ranking, seed=seed))
    model, benchmarks = outlier_choice(table, ranking, outlier_model, settings)
    outlier = timed("outlier test", lambda: csd.outlier_test(table, model, benchmarks, value=0.0,
                                                             csd_result=ranking))
    outlier_float = timed("outlier test, float pairing", lambda: csd.outlier_test(
        table, model, benchmarks, value=0.0, methods=["csd"], n_runs=max(2, settings.n_runs // 2), seed=seed,
        pairing="float"))
    orders = timed("round orders", lambda: order_sensitivity(prepared, settings))
    ranks = {"csd T=0": comparison.ranks["csd"], "csd T=2": places(fsa.expected_score[-1])}
    ranks.update({name: comparison.ranks[name] for name in BASELINES})
    scores = {"csd T=0": ranking.expected_score, "csd T=2": fsa.expected_score[-1]}
    scores.update({name: comparison.scores[name] for name in BASELINES})
    tau = {a: {b: 1.0 if a == b else csd.baselines.kendall_tau(scores[a], scores[b]) for b in scores} for a in scores}
    return Analysis(prepared, settings, ranking, fsa, boot, comparison, tau, ranks, outlier, outlier_float,
                    orders, rank_spread(table), timings)


def outlier_choice(table: csd.ScoreTable, ranking: csd.SimulationResult, model: str | None,
                   settings: Settings) -> tuple[str, list[str]]:
    """The model of the outlier test (default: the one at CSD place `outlier_rank`) and its
    `outlier_count` highest raw scores: zeroing them costs its mean score the most, the
    paper's setting (Qwen3-Max, its 7th-ranked model)."""
    if model is None:
        order = ranking.order()
        model = ranking.models[order[min(settings.outlier_rank, len(order)) - 1]]
    if model not in table.models:
        raise csd.InputError(f"--outlier-model={model!r} is not in the table")
    row = table.scores[table.models.index(model)]
    present = np.flatnonzero(~np.isnan(row))
    count = max(1, min(settings.outlier_count, present.size))
    best = present[np.argsort(-row[present], kind="stable")[:count]]
    return model, [table.benchmarks[k] for k in sorted(best)]


def order_sensitivity(prepared: Data, settings: Settings) -> dict:
    """E[S | T=0] under other round orders: the file's column order, all benchmarks easiest
    first, hardest first, and random permutations (no tiers, so any order is possible)."""
    table, base = prepared.table, prepared.raw  # base: the file's column order
    easiest = list(csd.order_rounds(base, "easy-first")[0].benchmarks)
    candidates = {
        "file order": list(base.benchmarks),
        "easy-first (no tiers)": easiest,
        "hard-first": easiest[::-1],
    }
    rng = np.random.default_rng([settings.seed, 0x0DE5])
    for r in range(settings.n_random_orders):
        candidates[f"random {r + 1}"] = [base.benchmarks[k] for k in rng.permutation(len(base.benchmarks))]
    orders = {}  # the other orders; the one the analysis uses is section 1's ranking
    for name, rounds in candidates.items():
        if rounds == list(table.benchmarks):
            continue  # the order the analysis uses: nothing new
        result = csd.simulate(base.with_benchmarks(rounds), n_runs=settings.order_runs, seed=settings.seed)
        orders[name] = {"rounds": rounds, "expected_score": result.expected_score, "stderr": result.stderr}
    return orders


def rank_spread(table: csd.ScoreTable) -> dict:
    """Per model, from its rank on each benchmark (1 = best, ties averaged, a missing score
    below every present one): mean, standard deviation, worst, the benchmark of the worst,
    and `early`: its mean rank over the first half of the rounds minus its mean rank over
    all rounds (positive: it is weaker than usual early in the tournament)."""
    ranks = csd.baselines.benchmark_ranks(table)  # (M, K)
    worst = np.argmax(ranks, axis=1)
    half = max(1, ranks.shape[1] // 2)
    return {
        "ranks": ranks,
        "half": half,
        "early": ranks[:, :half].mean(axis=1) - ranks.mean(axis=1),
        "mean": ranks.mean(axis=1),
        "sd": ranks.std(axis=1, ddof=1) if ranks.shape[1] > 1 else np.zeros(len(ranks)),
        "worst": ranks.max(axis=1),
        "worst_benchmark": [table.benchmarks[k] for k in worst],
    }


# ----------------------------------------------------------------------------- figures


@dataclasses.dataclass(frozen=True)
class Figure:
    """A PNG of the report: its file name in the output folder and its title."""

    file: str
    title: str


def notable_models(a: Analysis, per_profile: int = 4) -> list[str]:
    """Models worth naming in the figures: the top 3, the outlier model, and the models that
    differ most from their peers under T=2 (robust generalists and aggressive specialists)."""
    fsa = a.fsa
    order = a.ranking.order()
    names = [a.ranking.models[m] for m in order[:3]] + [a.outlier.model]
    for profile, sign in (("robust generalist", -1), ("aggressive specialist", 1)):
        flagged = [m for m in np.argsort(sign * fsa.risk_residual, kind="stable") if fsa.risk_profile[m] == profile]
        names += [fsa.models[m] for m in flagged[:per_profile]]
    return list(dict.fromkeys(names))


def draw_figures(a: Analysis, out: Path) -> list[Figure]:
    """Writes every PNG into `out`; returns them in report order."""
    fsa, ranking = a.fsa, a.ranking
    models = list(ranking.models)
    notable = notable_models(a)
    figures = []

    csd.plots.plot_risk_profile(models, fsa.expected_score[0], fsa.drop[-1], out / "risk_profile.png",
                                drop_stderr=fsa.drop_stderr[-1], labels=notable, profiles=fsa.risk_profile,
                                schedule=fsa.labels[-1])
    figures.append(Figure("risk_profile.png", "Failure sensitivity (the paper's drop plot)"))

    csd.plots.plot_expected_scores(models, list(fsa.labels), fsa.expected_score, fsa.stderr,
                                   out / "expected_scores.png")
    figures.append(Figure("expected_scores.png", "Expected win score under each elimination schedule"))

    csd.plots.plot_survival(models, list(ranking.rounds), fsa.results[-1].survival, out / "survival.png",
                            models_shown=notable)
    figures.append(Figure("survival.png", f"Survival under {fsa.labels[-1]}"))

    csd.plots.plot_rank_heatmap(models, ranking.rank_probs, out / "rank_heatmap.png")
    figures.append(Figure("rank_heatmap.png", "Distribution of the final rank (T=0)"))

    boot = a.boot
    csd.plots.plot_bootstrap(models, ranking.expected_score, boot.ci_low, boot.ci_high, out / "bootstrap.png",
                             tiers=boot.tiers, rank_low=boot.rank_low, rank_high=boot.rank_high,
                             xlabel=f"E[S | T=0] (dot) and its {100 * boot.coverage:g}% bootstrap interval over "
                                    f"{boot.n_boot} resampled tables (bar)",
                             title="Bootstrap intervals (benchmarks resampled) and tiers")
    figures.append(Figure("bootstrap.png", "Bootstrap intervals and tiers"))

    csd.plots.plot_bump(models, merged_ranks(a.ranks), out / "bump.png",
                        title="Rank of each model: CSD and the static methods")
    figures.append(Figure("bump.png", "CSD next to the static rankings"))

    order_ranks = {"used": places(ranking.expected_score)}
    order_ranks.update({name: places(o["expected_score"]) for name, o in a.orders.items()})
    csd.plots.plot_bump(models, order_ranks, out / "round_orders.png", xlabel="round order",
                        title="Rank of each model (CSD, T = 0) under other round orders")
    figures.append(Figure("round_orders.png", "The ranking under other round orders (T=0)"))
    return figures


def merged_ranks(ranks: dict) -> dict:
    """`ranks` with methods that rank identically merged into one column named `a\n= b`
    (Borda, mean rank and Bradley-Terry always agree), in first-appearance order; the line
    breaks keep the bump chart's column labels apart."""
    merged: dict[str, np.ndarray] = {}
    for name, values in ranks.items():
        same = next((key for key, kept in merged.items() if np.array_equal(kept, values)), None)
        if same is None:
            merged[name] = np.asarray(values)
        else:
            merged = {(f"{key}\n= {name}" if key == same else key): kept for key, kept in merged.items()}
    return merged


# ----------------------------------------------------------------------------- report


def f3(x) -> str:
    return f"{x:.3f}"


def g4(x) -> str:
    return f"{x:.4g}"


def span(low, high) -> str:
    """A rank interval: `3-7`, or `3` when it is one place."""
    return f"{low}" if low == high else f"{low}-{high}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def pm(x, se, digits: int = 3) -> str:
    return f"{x:.{digits}f} ± {se:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence], align: str | None = None) -> str:
    """A GitHub Markdown table; `align` has one `l` or `r` per column (default: `l`, then `r`)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(a: Analysis, figures: list[Figure], command: str, elapsed: float) -> str:
    """The Markdown report (returned; `main` writes it)."""
    table, ranking, fsa, boot, s = a.prepared.table, a.ranking, a.fsa, a.boot, a.settings
    models = ranking.models
    M, K = table.shape
    order = ranking.order()
    rank = places(ranking.expected_score)
    low, high = ranking.rank_interval(0.9)
    mean_rank = a.comparison.ranks["mean"]
    caption = figure_captions(a)
    lines: list[str] = []
    add = lines.append

    add(f"# CSD analysis of `{a.prepared.name}`")
    add("")
    add(f"{M} models x {K} benchmarks ({table.missing_report()}). Competitive Swiss-System Dynamics "
        "(arXiv 2512.21010): every benchmark is one round of a Swiss tournament; models are paired "
        "at random inside groups of equal score, the better score on the round's benchmark wins, and "
        "after each round the T lowest-scoring models can be eliminated. A model's rank is its Expected "
        "Win Score E[S] over many simulated tournaments. Rules: pairing `random` (the paper's), exact "
        "ties a coin flip, byes worth 0.")
    add("")
    add(f"**Round order.** {round_order_text(a)}")
    add("")
    add(f"Generated by `{command}` in {elapsed:.0f} s (seed {s.seed}).")
    add("")

    # ---- headline
    add("## Headline")
    add("")
    for bullet in headline(a):
        add(f"- {bullet}")
    add("")

    # ---- ranking
    add("## 1. Ranking by Expected Win Score (T = 0)")
    add("")
    add(f"N = {ranking.n_runs:,} tournaments. SE is the Monte Carlo standard error of E[S]; the "
        "simulated rank interval is the central 90% of the model's final place over the tournaments "
        "(the randomness of the pairings); the bootstrap rank interval is the "
        f"{100 * boot.coverage:g}% interval over {boot.n_boot} resampled tables (which benchmarks were chosen). "
        "Models that finish a tournament on the same score share the better place, so P(champion) summed "
        "over the models exceeds 1.")
    add("")
    rows = []
    for m in order[:10]:
        rows.append([rank[m], models[m], pm(ranking.expected_score[m], ranking.stderr[m]),
                     f"{ranking.champion_prob[m]:.3f}", span(low[m], high[m]),
                     f"{span(boot.rank_low[m], boot.rank_high[m])}", boot.tiers[m], mean_rank[m]])
    add(markdown_table(["rank", "model", "E[S] ± SE", "P(champion)", "simulated rank (90%)",
                        f"bootstrap rank ({100 * boot.coverage:g}%)", "tier", "mean-score rank"], rows,
                       align="rlrrrrrr"))
    add("")
    add(figure_block(figures, "rank_heatmap.png", caption))

    # ---- FSA
    add("## 2. Failure Sensitivity Analysis (T = 0, 1, 2)")
    add("")
    add(f"N = {fsa.n_runs:,} tournaments per schedule; the three schedules share their random numbers, "
        "so the drop E[S|T] - E[S|T=0] is estimated from per-run differences and its SE is paired: "
        f"median {np.median(fsa.drop_stderr[-1]):.3f} under T=2, against "
        f"{np.median(fsa.independent_drop_stderr[-1]):.3f} had the schedules been run independently "
        "(elimination soon sends a tournament down another path, so the shared random numbers gain little "
        "here). "
        f"With T = 2, {2 * (K - 1)} of the {M} models are eliminated before the last round."
        if 2 * (K - 1) < M else
        f"N = {fsa.n_runs:,} tournaments per schedule, sharing their random numbers (paired drop SE).")
    add("")
    add(fsa_text(a))
    add("")
    rows = []
    for m in order[:10]:
        rows.append([rank[m], models[m], *(pm(fsa.expected_score[i, m], fsa.stderr[i, m]) for i in range(3)),
                     pm(fsa.drop[-1, m], fsa.drop_stderr[-1, m]),
                     f"{100 * fsa.relative_drop[-1, m]:.1f}%", fsa.risk_profile[m]])
    add(markdown_table(["rank", "model", *(f"E[S\\|{label}]" for label in fsa.labels), "drop T=2", "relative",
                        "profile"], rows, align="rlrrrrrl"))
    add("")
    add("### Risk profiles")
    add("")
    add(profiles_text(a))
    add("")
    add(profiles_table(a))
    add("")
    for name in ("risk_profile.png", "expected_scores.png", "survival.png"):
        add(figure_block(figures, name, caption))

    # ---- bootstrap
    add("## 3. Bootstrap intervals and tiers")
    add("")
    add(bootstrap_text(a))
    add("")
    add(tiers_table(a))
    add("")
    add(figure_block(figures, "bootstrap.png", caption))

    # ---- baselines
    add("## 4. CSD and the static rankings")
    add("")
    add(baselines_text(a))
    add("")
    methods = list(a.tau)
    add(markdown_table(["Kendall tau", *methods], [[x, *(f3(a.tau[x][y]) for y in methods)] for x in methods]))
    add("")
    rows = [[models[m], *(a.ranks[x][m] for x in methods)] for m in order[:15]]
    add(f"Ranks of the top {min(15, M)} by CSD (T = 0) under every method:\n\n"
        + markdown_table(["model", *methods], rows))
    add("")
    add(figure_block(figures, "bump.png", caption))

    # ---- outlier
    add("## 5. Outlier robustness")
    add("")
    add(outlier_text(a))
    add("")
    o = a.outlier
    f = a.outlier_float
    rows = [[x, o.rank_before[x], o.rank_after[x], f"{o.shift[x]:+d}", g4(o.score_before[x]), g4(o.score_after[x])]
            for x in o.shift]
    rows.insert(1, ["csd, float pairing", f.rank_before["csd"], f.rank_after["csd"], f"{f.shift['csd']:+d}",
                    g4(f.score_before["csd"]), g4(f.score_after["csd"])])
    add(markdown_table(["method", "rank before", "rank after", "shift", "score before", "score after"], rows))
    add("")
    add("A method's score is on its own scale (CSD: E[S]; mean score: points; Borda: wins; Elo and "
        "Bradley-Terry: ratings), so compare the shifts in rank across methods, and the scores only within one.")
    add("")

    # ---- order
    add("## 6. How much the ranking depends on the round order")
    add("")
    add(order_text(a))
    add("")
    add(order_table(a))
    add("")
    add(figure_block(figures, "round_orders.png", caption))

    # ---- precision
    add("## 7. Monte Carlo precision and run time")
    add("")
    add(precision_table(a))
    add("")
    add("Raise `--n-runs`, `--fsa-runs`, `--n-boot` and `--boot-runs` for more precision; the paper uses "
        "N = 100,000 tournaments.")
    add("")

    # ---- full tables
    add("## Appendix: every model")
    add("")
    add("<details><summary>E[S] under T = 0, 1, 2, drops, risk profiles, bootstrap intervals and per-benchmark "
        "rank spread, for all models</summary>")
    add("")
    add(full_table(a))
    add("")
    add("</details>")
    add("")
    return "\n".join(lines)


def figure_block(figures: list[Figure], name: str, caption: dict) -> str:
    figure = next(f for f in figures if f.file == name)
    return f"![{figure.title}]({figure.file})\n\n*{figure.title}.* {caption[name]}\n"


def round_order_text(a: Analysis) -> str:
    prepared = a.prepared
    how = {
        "easy-first": "benchmarks by mean score over the models, highest (easiest) first, a stand-in "
                      "for the paper's foundational-to-advanced order",
        "given": "the file's column order",
        "random": f"a random permutation (seed {a.settings.seed})",
    }[prepared.order]
    if prepared.tiers:
        tier_order = ("by the tier's mean score, easiest first" if prepared.tier_order == "easy-first"
                      else "in the order of the tiers file")
        text = (f"The rounds go tier by tier ({len(prepared.tiers)} tiers, {tier_order}: "
                f"{', '.join(prepared.tiers)}), and inside each tier {how}; the bootstrap resamples "
                "benchmarks inside each tier.")
    else:
        text = f"The rounds are {how}."
    text += (" Rounds played: " + ", ".join(f"{k + 1}. {b}" for k, b in enumerate(prepared.table.benchmarks)) + ". "
             "CSD depends on this order: who meets whom in a round depends on the scores built up in the "
             "earlier rounds, and under elimination a weak early benchmark removes a model before its strong "
             "ones are played (section 6 measures how much the ranking moves under other orders).")
    return text


def headline(a: Analysis) -> list[str]:
    ranking, fsa, boot = a.ranking, a.fsa, a.boot
    models = ranking.models
    order = ranking.order()
    first, second = order[0], order[1]
    gap = ranking.expected_score[first] - ranking.expected_score[second]
    bullets = [
        f"**{models[first]}** leads with E[S] = {pm(ranking.expected_score[first], ranking.stderr[first])} "
        f"(P(champion) = {ranking.champion_prob[first]:.2f}), {gap:.3f} ahead of {models[second]}; "
        f"the bootstrap over benchmarks puts it at rank {span(boot.rank_low[first], boot.rank_high[first])} "
        f"and the top tier holds {plural(int((boot.tiers == 1).sum()), 'model')}.",
    ]
    counts = {p: fsa.risk_profile.count(p) for p in PROFILE_ORDER}
    spec = extreme(a, "aggressive specialist")
    gen = extreme(a, "robust generalist")
    text = (f"Under T = 2 the mean drop is {fsa.drop[-1].mean():.2f} points; "
            f"the risk profiles flag {plural(counts['aggressive specialist'], 'aggressive specialist')} and "
            f"{plural(counts['robust generalist'], 'robust generalist')} (a model's drop against its peers').")
    if spec is not None:
        text += (f" The sharpest specialist is {models[spec]}: {pm(fsa.expected_score[0, spec], fsa.stderr[0, spec], 2)} "
                 f"at T=0 but {fsa.drop[-1, spec]:+.2f} under T=2.")
    if gen is not None:
        text += f" The clearest generalist is {models[gen]} ({fsa.drop[-1, gen]:+.2f})."
    bullets.append(text)
    taus = {x: a.tau["csd T=0"][x] for x in BASELINES}
    bullets.append(
        f"Kendall tau between CSD (T = 0) and the static baselines: {min(taus.values()):.2f}-"
        f"{max(taus.values()):.2f} (mean score {taus['mean']:.2f}, Elo {taus['elo']:.2f}); between CSD at T = 0 and "
        f"at T = 2: {a.tau['csd T=0']['csd T=2']:.2f}; among the static methods: "
        f"{min(a.tau[x][y] for x in BASELINES for y in BASELINES):.2f}-1.")
    o = a.outlier
    bullets.append(
        f"Zeroing {len(o.benchmarks)} of {o.model}'s best scores moves it {o.rank_before['csd']} -> "
        f"{o.rank_after['csd']} under CSD ({a.outlier_float.rank_before['csd']} -> "
        f"{a.outlier_float.rank_after['csd']} with `float` pairing) and {o.rank_before['mean']} -> "
        f"{o.rank_after['mean']} under the mean score (paper: 7 -> 10 and 7 -> 19).")
    taus_order = [order_tau(a, name) for name in a.orders]
    if taus_order:
        bullets.append(
            f"The round order matters{' as much as the choice of method' if min(taus_order) <= taus['mean'] else ''}: "
            "other orders of the same benchmarks give "
            f"Kendall tau {min(taus_order):.2f}-{max(taus_order):.2f} against this ranking at T = 0 (CSD against "
            f"the mean score: {taus['mean']:.2f}), and change the leader in "
            f"{sum(order_leader(a, n) != a.ranking.models[first] for n in a.orders if n != 'used')} of "
            f"{len(taus_order)} orders (section 6).")
    return bullets


def extreme(a: Analysis, profile: str) -> int | None:
    """The flagged model of `profile` with the largest |residual| (None if none)."""
    fsa = a.fsa
    flagged = [m for m in range(len(fsa.models)) if fsa.risk_profile[m] == profile]
    return max(flagged, key=lambda m: abs(fsa.risk_residual[m])) if flagged else None


def fsa_text(a: Analysis) -> str:
    fsa = a.fsa
    t2 = places(fsa.expected_score[-1])
    t0 = places(fsa.expected_score[0])
    move = t2 - t0
    fell, rose = int(np.argmax(move)), int(np.argmin(move))
    return (f"Elimination costs every model points (it plays fewer rounds), but not equally: under T = 2 the "
            f"drop ranges from {fsa.drop[-1].max():+.2f} to {fsa.drop[-1].min():+.2f} "
            f"(relative {100 * np.nanmax(fsa.relative_drop[-1]):.0f}% to {100 * np.nanmin(fsa.relative_drop[-1]):.0f}%). "
            f"The largest fall in rank is {fsa.models[fell]} ({t0[fell]} -> {t2[fell]}), the largest rise "
            f"{fsa.models[rose]} ({t0[rose]} -> {t2[rose]}); Kendall tau between the T = 0 and T = 2 rankings "
            f"is {csd.baselines.kendall_tau(fsa.expected_score[0], fsa.expected_score[-1]):.3f}.")


def profiles_text(a: Analysis) -> str:
    fsa, spread = a.fsa, a.spread
    residual = fsa.risk_residual
    tau_sd = csd.baselines.kendall_tau(residual, -spread["sd"])
    tau_worst = csd.baselines.kendall_tau(residual, -spread["worst"])
    tau_early = csd.baselines.kendall_tau(residual, -spread["early"])
    by = {p: [m for m in range(len(fsa.models)) if fsa.risk_profile[m] == p] for p in PROFILE_ORDER}

    def mean_of(key, profile):
        return float(np.mean(spread[key][by[profile]])) if by[profile] else float("nan")

    text = ("A model's risk profile compares its drop under T = 2 with the drops of its peers, the models "
            "closest to it in E[S | T=0] (`csd.sweep`'s risk profiles: a robust Theil-Sen trend through "
            "the peers; a model is flagged only when its residual exceeds both 3 drop SEs and the field's "
            "robust residual spread). Robust generalists lose less than their peers (positive residual), "
            "aggressive specialists more. ")
    measures = (f"Kendall tau between the residual and the model's front-loading (its mean rank over the first "
                f"{spread['half']} rounds minus its mean rank over all rounds, sign flipped): {tau_early:.2f}; "
                f"and the spread of its per-benchmark ranks (rank SD, sign flipped): {tau_sd:.2f}; and its worst "
                f"benchmark rank: {tau_worst:.2f}. ")
    if tau_early > max(tau_sd, tau_worst):
        text += ("Why: the residual follows *where* a model's weak benchmarks sit in the round order more than "
                 "how uneven its profile is. " + measures + "A model that is weak early falls into a low score "
                 "group, is cut, and never plays the benchmarks it is strong on; the same weakness late in the "
                 "order costs little. ")
    else:
        text += "What goes with the residual here: " + measures
    if by["aggressive specialist"] and by["robust generalist"]:
        text += (f"The aggressive specialists rank on average {mean_of('early', 'aggressive specialist'):+.1f} "
                 f"places worse than usual in the first {spread['half']} rounds, the robust generalists "
                 f"{mean_of('early', 'robust generalist'):+.1f}; their rank SDs are "
                 f"{mean_of('sd', 'aggressive specialist'):.1f} and {mean_of('sd', 'robust generalist'):.1f} "
                 f"places (all models {spread['sd'].mean():.1f}). A different round order would flag different "
                 "models (section 6).")
    scores = a.prepared.table.scores
    early = np.isnan(scores[:, : spread["half"]])  # (M, half)
    if by["aggressive specialist"] and early[by["aggressive specialist"]].mean() > early.mean():
        text += (f" Missing scores count as losses (policy `loss`), so a model not evaluated on the early "
                 f"benchmarks looks like a specialist: {100 * early[by['aggressive specialist']].mean():.0f}% of "
                 f"the specialists' scores in the first {spread['half']} rounds are missing, "
                 f"{100 * early.mean():.0f}% of all models'.")
    return text


def profiles_table(a: Analysis, per_profile: int = 6) -> str:
    fsa, spread = a.fsa, a.spread
    survival = fsa.results[-1].survival  # (M, K) under T=2
    rows = []
    for profile, sign in (("robust generalist", -1), ("aggressive specialist", 1)):
        flagged = [m for m in np.argsort(sign * fsa.risk_residual, kind="stable") if fsa.risk_profile[m] == profile]
        for m in flagged[:per_profile]:
            half = np.flatnonzero(survival[m] < 0.5)
            rows.append([fsa.models[m], profile, f3(fsa.expected_score[0, m]), pm(fsa.drop[-1, m], fsa.drop_stderr[-1, m], 2),
                         f"{fsa.risk_residual[m]:+.2f}", f"{spread['mean'][m]:.1f}", f"{spread['early'][m]:+.1f}",
                         f"{spread['sd'][m]:.1f}",
                         f"{spread['worst_benchmark'][m]} ({spread['worst'][m]:.0f})",
                         f"{half[0] + 1}" if half.size else "never"])
    if not rows:
        return "No model differs from its peers by more than the thresholds."
    return (f"The {per_profile} most extreme models of each profile. Rank statistics are over the "
            f"{len(fsa.rounds)} benchmarks, 1 = best; *early - mean*: its mean rank over the first "
            f"{spread['half']} rounds minus its mean rank overall (positive: weaker early); *half-life*: the "
            "first round after which the model is active in fewer than half of the T = 2 tournaments.\n\n"
            + markdown_table(["model", "profile", "E[S\\|T=0]", "drop T=2", "residual", "mean rank",
                              f"early (first {spread['half']}) - mean", "rank SD", "worst benchmark (rank)",
                              "half-life round"], rows, align="llrrrrrrlr"))


INTERVAL_KINDS = {  # BootstrapResult.interval -> how the report names it
    "percentile": "percentile intervals",
    "shifted": "percentile intervals of the replicates moved onto the table's E[S]",
    "expanded": (
        "expanded percentile intervals (the replicates moved onto the table's E[S], tails widened "
        "for resampling few benchmarks; in a simulation study with known truth they reach their "
        "nominal coverage, see `csd.bootstrap`)"
    ),
}


def bootstrap_text(a: Analysis) -> str:
    boot = a.boot
    widths = boot.rank_high - boot.rank_low
    top = a.ranking.order()[:10]
    n_tiers = int(boot.tiers.max())
    how = ("benchmarks resampled with replacement inside each tier, tiers kept in order"
           if a.prepared.tiers else "benchmarks resampled with replacement, kept in round order")
    return (f"{boot.n_boot} replicate tables ({how}), N = {boot.n_runs:,} tournaments each; intervals are "
            f"{100 * boot.coverage:g}% {INTERVAL_KINDS[boot.interval]}. The Monte Carlo SE inside a replicate is "
            f"{np.median(boot.mc_stderr):.3f} (median), small next to the median E[S] interval width of "
            f"{np.median(boot.ci_high - boot.ci_low):.2f}, so the intervals measure the choice of benchmarks, "
            f"not simulation noise. Rank intervals are wide: {np.median(widths[top]):.0f} places (median) for the "
            f"top {len(top)}, and {n_tiers} tiers of overlapping rank intervals cover the {len(widths)} models (a tier "
            "opens with the best model not yet placed and takes every later model whose best rank reaches "
            "the opener's worst)."
            + (" The leaders cannot be separated by this table alone." if (boot.tiers == 1).sum() > 1 else ""))


def tiers_table(a: Analysis, max_tiers: int = 5) -> str:
    boot, ranking = a.boot, a.ranking
    order = ranking.order()
    rows = []
    for tier in range(1, min(int(boot.tiers.max()), max_tiers) + 1):
        members = [m for m in order if boot.tiers[m] == tier]
        rows.append([tier, len(members), ", ".join(ranking.models[m] for m in members)])
    note = "" if boot.tiers.max() <= max_tiers else f"\n\n(The first {max_tiers} of {boot.tiers.max()} tiers.)"
    return markdown_table(["tier", "models", "members, by E[S]"], rows, align="rrl") + note


def baselines_text(a: Analysis) -> str:
    ranks = a.ranks
    csd_rank = ranks["csd T=0"]
    mean_rank = ranks["mean"]
    gap = csd_rank - mean_rank
    up, down = int(np.argmin(gap)), int(np.argmax(gap))
    models = a.ranking.models
    return ("The static rankings: mean score, min-max normalized mean, mean per-benchmark rank, Borda count, "
            "Bradley-Terry (fitted on every pairwise benchmark result) and Elo (averaged over 100 random game "
            "orders). Borda, mean rank and Bradley-Terry order the models identically (every pair meets once per "
            "benchmark, so all three see only the win totals). CSD is the only one where *who* a model beats "
            "matters: a win counts only against the opponent the Swiss pairing gives it. "
            f"Largest disagreement with the mean score: {models[up]} is {mean_rank[up]} by mean score but "
            f"{csd_rank[up]} by CSD; {models[down]} is {mean_rank[down]} by mean score but {csd_rank[down]} by CSD.")


def outlier_text(a: Analysis) -> str:
    o = a.outlier
    table = a.prepared.table
    row = table.models.index(o.model)
    columns = [table.benchmarks.index(b) for b in o.benchmarks]
    rounds = [c + 1 for c in columns]
    original = ", ".join(f"{b} {table.scores[row, c]:.4g} (round {c + 1})" for b, c in zip(o.benchmarks, columns))
    mean_before = np.nanmean(table.scores[row])
    changed = table.scores[row].copy()
    changed[columns] = 0.0
    worst = max((x for x in o.shift if x != "csd"), key=lambda x: o.shift[x])
    return (f"The paper zeroes some of the scores of its 7th-ranked model (Qwen3-Max) and compares how far each "
            f"method moves it: CSD 7 -> 10, mean score 7 -> 19. Here: {o.model}, CSD rank "
            f"{o.rank_before['csd']} at T = 0, loses its {len(o.benchmarks)} highest raw scores ({original}; "
            f"rounds {', '.join(map(str, rounds))}), which lowers its mean score from {mean_before:.2f} to "
            f"{np.nanmean(changed):.2f}. A zero is a loss in CSD and costs the model at most one point per round "
            "(plus what the lower score group changes), while a mean score loses the full size of the "
            f"outlier. Both tables are simulated with N = {a.settings.n_runs:,} and the same seed (the table as "
            "it is by the ranking of section 1), so the CSD shift is not Monte Carlo noise (SE of E[S] about "
            f"{np.median(a.ranking.stderr):.3f}). "
            f"CSD moves it {o.shift['csd']:+d}, the static methods {min(o.shift[x] for x in o.shift if x != 'csd'):+d} "
            f"to {o.shift[worst]:+d} (the most under {worst})." + bye_note(a))


def bye_note(a: Analysis) -> str:
    """Explains the gap between CSD under `random` and under `float` pairing, if there is one."""
    o, f = a.outlier, a.outlier_float
    text = (f" Under `float` pairing (an odd score group passes its leftover down instead of giving it a bye) "
            f"CSD moves it {f.rank_before['csd']} -> {f.rank_after['csd']} ({f.shift['csd']:+d}).")
    missing = (" (helped here by its missing scores, which count as losses)"
               if np.isnan(a.prepared.table.scores[a.prepared.table.models.index(o.model)]).any() else "")
    if o.shift["csd"] > f.shift["csd"] + 2:
        text += (" The paper's `random` pairing punishes it more because a model that sinks to the lowest score "
                 f"group{missing} can be alone "
                 "there and get a bye worth 0 round after round, so it cannot climb back: a property of the "
                 "paper's rules, not of the model.")
    return text


def order_leader(a: Analysis, name: str) -> str:
    return a.ranking.models[int(np.argmax(a.orders[name]["expected_score"]))]


def order_tau(a: Analysis, name: str) -> float:
    return csd.baselines.kendall_tau(a.ranking.expected_score, a.orders[name]["expected_score"])


def order_text(a: Analysis) -> str:
    names = list(a.orders)
    if not names:
        return "No other order was tried."
    rank = places(a.ranking.expected_score)
    shifts = {n: np.abs(places(a.orders[n]["expected_score"]) - rank) for n in names}
    biggest = max(names, key=lambda n: shifts[n].max())
    m = int(np.argmax(shifts[biggest]))
    se = max(np.median(a.orders[n]["stderr"]) for n in names)
    return (f"The same table, T = 0, N = {a.settings.order_runs:,} tournaments per order (SE of E[S] about "
            f"{se:.3f}), with the benchmarks played in other orders (without tiers). Kendall tau against the "
            f"ranking above and the largest change of place: the order alone moves {a.ranking.models[m]} by "
            f"{shifts[biggest][m]} places ({biggest}). CSD is a ranking *for a given sequence of benchmarks*: "
            "report the order with the ranking, and choose it on purpose (the paper goes from foundational to "
            "advanced abilities).")


def order_table(a: Analysis) -> str:
    rank = places(a.ranking.expected_score)
    top = a.ranking.order()[:5]
    rows = []
    for name, o in a.orders.items():
        other = places(o["expected_score"])
        leader = order_leader(a, name)
        rows.append([name, f3(order_tau(a, name)), int(np.abs(other - rank).max()),
                     f"{np.abs(other - rank).mean():.1f}", leader,
                     " / ".join(str(other[m]) for m in top)])
    header = ["order", "Kendall tau", "largest shift", "mean shift", "leader",
              "places of this ranking's top 5"]
    return markdown_table(header, rows, align="lrrrll")


def precision_table(a: Analysis) -> str:
    s, ranking, fsa, boot = a.settings, a.ranking, a.fsa, a.boot
    rows = [
        ["ranking, T = 0 (`simulate`)", f"N = {ranking.n_runs:,}",
         f"E[S]: median {np.median(ranking.stderr):.4f}, max {ranking.stderr.max():.4f}"],
        ["failure sensitivity (`sweep`)", f"N = {fsa.n_runs:,} x 3 schedules",
         f"E[S]: max {fsa.stderr.max():.4f}; drop T=2: median {np.median(fsa.drop_stderr[-1]):.4f}, "
         f"max {fsa.drop_stderr[-1].max():.4f}"],
        ["bootstrap (`bootstrap`)", f"B = {boot.n_boot} x N = {boot.n_runs:,}",
         f"inside a replicate: median {np.median(boot.mc_stderr):.4f}, max {boot.mc_stderr.max():.4f}"],
        ["baselines (`compare`)", "uses the T = 0 ranking", "Elo: mean over 100 game orders"],
        ["outlier test (`outlier_test`)", f"N = {s.n_runs:,} for the perturbed table, the ranking above "
         f"before it (float pairing: {max(2, s.n_runs // 2):,} x 2)", "same seed before and after"],
        ["round orders", f"N = {s.order_runs:,} x {len(a.orders)} orders", ""],
    ]
    text = markdown_table(["analysis", "size", "Monte Carlo SE"], rows, align="lll")
    timing = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in a.timings.items())
    return text + (f"\n\nTime per step on this machine (wall clock; it grows when other work shares the CPUs): "
                   f"{timing}; CPU time of the whole run {time.process_time():.0f} s.")


def full_table(a: Analysis) -> str:
    fsa, boot, spread, ranking = a.fsa, a.boot, a.spread, a.ranking
    rank = places(ranking.expected_score)
    rows = []
    for m in ranking.order():
        rows.append([rank[m], ranking.models[m], pm(ranking.expected_score[m], ranking.stderr[m]),
                     *(f3(fsa.expected_score[i, m]) for i in (1, 2)),
                     pm(fsa.drop[-1, m], fsa.drop_stderr[-1, m]), f"{fsa.risk_residual[m]:+.2f}", fsa.risk_profile[m],
                     f"[{boot.ci_low[m]:.2f}, {boot.ci_high[m]:.2f}]", f"{span(boot.rank_low[m], boot.rank_high[m])}",
                     boot.tiers[m], f"{spread['mean'][m]:.1f}", f"{spread['sd'][m]:.1f}", a.ranks["mean"][m]])
    return markdown_table(["rank", "model", "E[S\\|T=0] ± SE", "E[S\\|T=1]", "E[S\\|T=2]", "drop T=2", "residual",
                           "profile", "E[S] interval", "bootstrap rank", "tier", "mean bench. rank",
                           "bench. rank SD", "mean-score rank"], rows, align="rlrrrrrlrrrrrr")


def figure_captions(a: Analysis) -> dict:
    """What the reader should see in each figure, with the numbers that say it."""
    ranking, fsa, boot = a.ranking, a.fsa, a.boot
    order = ranking.order()
    first = order[0]
    spec, gen = extreme(a, "aggressive specialist"), extreme(a, "robust generalist")
    models = ranking.models
    label = fsa.labels[-1]
    thirds = np.array_split(order, 3)  # best third first
    by_third = " / ".join(f"{fsa.drop[-1, part].mean():+.2f}" for part in thirds)
    deepest = int(np.argmin(fsa.drop[-1]))
    risk = (f"Each point is a model: x its E[S] without elimination, y how much it loses when the two lowest "
            f"models are eliminated after every round ({label}), with ±1 paired SE, coloured by risk profile. What "
            "a model can lose depends on where it stands (a weak model has little to lose, a strong one is "
            "rarely cut), so compare a model with its neighbours on the x axis, not with the whole field: the "
            f"mean drop of the best, middle and worst third is {by_third}, and the deepest drop is "
            f"{models[deepest]}'s ({fsa.drop[-1, deepest]:+.2f} at x = {fsa.expected_score[0, deepest]:.2f}). "
            "Named: the top 3, the outlier model and the most extreme generalists and specialists.")
    if spec is not None:
        risk += (f" {models[spec]} (x = {fsa.expected_score[0, spec]:.2f}, y = {fsa.drop[-1, spec]:+.2f}) falls far "
                 "below its neighbours: an aggressive specialist.")
    if gen is not None:
        risk += (f" {models[gen]} (x = {fsa.expected_score[0, gen]:.2f}, y = {fsa.drop[-1, gen]:+.2f}) sits above "
                 "its neighbours: a robust generalist.")
    t2 = places(fsa.expected_score[-1])
    scores = ("E[S] of every model under T = 0, 1, 2 (±1 SE), sorted by T = 0. Specialists "
              f"stand out as rows whose {label} point falls far left of their neighbours'; the mean gap between "
              f"T = 0 and {label} is {by_third} for the best, middle and worst third. "
              + (f"{models[first]} stays first under {label} ({fsa.expected_score[-1, first]:.2f})."
                 if t2[first] == 1 else
                 f"Under {label} the leader is {models[int(np.argmax(fsa.expected_score[-1]))]} "
                 f"({fsa.expected_score[-1].max():.2f}); {models[first]} is {t2[first]}."))
    survival = fsa.results[-1].survival
    shown = [models.index(n) for n in notable_models(a)]
    early_out = min(shown, key=lambda m: survival[m].sum())
    k5 = min(4, survival.shape[1] - 1)

    def rounds_survived(profile):
        members = [m for m in shown if fsa.risk_profile[m] == profile]
        return f"{np.mean(survival[members].sum(axis=1)):.1f}" if members else "-"

    surv = (f"P(still playing after round k) under {label}, for the named models of the risk plot. A curve "
            "drops at the rounds where the model is weak while it is still near the cut. Expected rounds "
            f"survived (of {survival.shape[1]}): the named aggressive specialists "
            f"{rounds_survived('aggressive specialist')}, the named robust generalists "
            f"{rounds_survived('robust generalist')}. {models[early_out]} is still active after round {k5 + 1} in "
            f"{100 * survival[early_out, k5]:.0f}% of the tournaments.")
    if spec is not None:
        fall = -np.diff(np.concatenate([[1.0], survival[spec]]))  # (K,) share cut after each round
        k = int(np.argmax(fall))
        bench_rank = a.spread["ranks"][spec, k]
        surv += (f" The sharpest specialist, {models[spec]}, is cut most often after round {k + 1} "
                 f"({ranking.rounds[k]}, {100 * fall[k]:.0f}% of the tournaments), a benchmark on which it ranks "
                 f"{bench_rank:.0f} of {len(models)}.")
    low, high = ranking.rank_interval(0.9)
    mass = ranking.rank_probs.sum(axis=0)  # (M,) expected number of models at each place
    stripes = sorted(int(r) + 1 for r in np.argsort(-mass)[:8])
    heat = (f"Row m, column r: P(model m finishes at rank r) over the {ranking.n_runs:,} tournaments at T = 0, "
            "models by expected rank. The mass sits in vertical stripes (most often at places "
            f"{', '.join(map(str, stripes))}): a Swiss tournament leaves many models on the same final score, "
            "and tied models share the better place, so a row shows which score group the model tends to end "
            f"in. {models[first]} finishes first (alone or tied) in {100 * ranking.rank_probs[first, 0]:.0f}% of "
            f"the tournaments; the median 90% rank interval spans {np.median(high - low):.0f} places, so one "
            "tournament says little and the ranking rests on the average E[S].")
    boot_caption = (f"E[S | T=0] (dot) and its {100 * boot.coverage:g}% bootstrap interval (bar) over {boot.n_boot} "
                    "resampled tables; the models go tier by tier (coloured bands, the tier named on the right), "
                    "then by E[S], and the label gives the bootstrap rank interval. "
                    f"The top tier holds {plural(int((boot.tiers == 1).sum()), 'model')}; bars that overlap mean "
                    "that another choice of benchmarks could swap the models.")
    taus = {x: a.tau["csd T=0"][x] for x in BASELINES}
    merged = merged_ranks(a.ranks)
    columns = [name.replace("\n", " ") for name in merged]
    values = list(merged.values())
    moves = [np.abs(x - y) for x, y in zip(values, values[1:])]  # between adjacent columns
    steep = int(np.argmax([move.mean() for move in moves]))
    mover = int(np.argmax(moves[steep]))
    bump = ("Each line is a model: its rank (1 at the top) under CSD at T = 0, CSD at T = 2 and each static "
            f"method (identical rankings share a column); names on the left by {columns[0]} rank, on the right "
            f"by {columns[-1]} rank. Flat lines mean agreement. "
            f"Kendall tau of CSD (T = 0) with mean score {taus['mean']:.2f}, with Bradley-Terry "
            f"{taus['bradley_terry']:.2f}, with Elo {taus['elo']:.2f}. The lines are steepest between "
            f"{columns[steep]} and {columns[steep + 1]} (mean move {moves[steep].mean():.1f} places; "
            f"{models[mover]} {values[steep][mover]} -> {values[steep + 1][mover]}).")
    names = list(a.orders)
    orders = ("Each line is a model: its rank at T = 0 with the rounds in the order used here (left) and in "
              f"the other orders; names on the right by the last order. Kendall tau against the used order: "
              + ", ".join(f"{n} {order_tau(a, n):.2f}" for n in names) + ".") if names else ""
    return {"risk_profile.png": risk, "expected_scores.png": scores, "survival.png": surv,
            "rank_heatmap.png": heat, "bootstrap.png": boot_caption, "bump.png": bump, "round_orders.png": orders}


# ----------------------------------------------------------------------------- results.json


def results_json(a: Analysis) -> dict:
    ranking = a.ranking
    return {
        "table": a.prepared.name,
        "shape": list(a.prepared.table.shape),
        "rounds": list(ranking.rounds),
        "round_order": {"order": a.prepared.order, "tier_order": a.prepared.tier_order},
        "tiers": a.prepared.tiers,
        "settings": dataclasses.asdict(a.settings),
        "ranking": ranking.ranking(),
        "rank_interval_90": [list(map(int, x)) for x in zip(*ranking.rank_interval(0.9))],
        "sweep": a.fsa.to_dict(),
        "bootstrap": {k: v for k, v in a.boot.to_dict().items() if k != "replicate_scores"},
        "ranks_by_method": {k: v for k, v in a.ranks.items()},
        "kendall_tau": a.tau,
        "outlier": a.outlier.to_dict(),
        "outlier_float_pairing": a.outlier_float.to_dict(),
        "round_orders": {n: {"rounds": o["rounds"], "expected_score": o["expected_score"]}
                         for n, o in a.orders.items()},
        "timings_s": a.timings,
    }


# ----------------------------------------------------------------------------- main


def to_json(value) -> str:
    """Strict JSON of `value`: arrays as lists, NumPy numbers as Python numbers, NaN and
    infinities as null."""
    def plain(x):
        if isinstance(x, dict):
            return {str(k): plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple, np.ndarray)):
            return [plain(v) for v in x]
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, np.integer):
            return int(x)
        if isinstance(x, (float, np.floating)):
            return float(x) if math.isfinite(x) else None
        return x

    return json.dumps(plain(value), indent=1, allow_nan=False) + "\n"


def write_text(path: Path, text: str) -> None:
    """Writes `path` through a temporary file and a rename: never half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def main(argv: Sequence[str] | None = None) -> int:
    start = time.perf_counter()
    args = parse_args(argv)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    try:
        settings = settings_from(args)
        prepared = load_data(args.table, args.order, args.tiers, args.tier_order, args.missing, settings.seed)
        out = Path(args.out) if args.out else Path("reports") / prepared.name
        log(f"paper_analysis: {prepared.name}, {prepared.table.shape[0]} models x {prepared.table.shape[1]} "
            f"benchmarks -> {out}/")
        analysis = run_analyses(prepared, settings, args.outlier_model, log=log)
    except csd.InputError as err:
        print(f"paper_analysis: error: {err}", file=sys.stderr)
        return 2
    plot_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    figures = draw_figures(analysis, out)
    analysis.timings["figures"] = time.perf_counter() - plot_start
    log(f"  figures: {analysis.timings['figures']:.1f} s")
    command = "python scripts/paper_analysis.py " + " ".join(sys.argv[1:] if argv is None else argv)
    report = write_report(analysis, figures, command.strip(), time.perf_counter() - start)
    write_text(out / "results.json", to_json(results_json(analysis)))
    write_text(out / "report.md", report)
    log(f"paper_analysis: wrote {out / 'report.md'} and {len(figures)} figures in "
        f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
