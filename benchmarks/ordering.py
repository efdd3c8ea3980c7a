"""The ordering methods (`pairs`, `sort`, `network`) inside the real engine, at every size.

    python benchmarks/ordering.py                  # the full grid and the two headline tables
    python benchmarks/ordering.py --sizes 16,65 --repeats 3 --no-headline

For each table size M (the shipped LiveBench table for M = 65, synthetic M x 21 tables
otherwise, T = 0) it times warm `driver.run_engine` calls, the whole kernel with its
chunking, for every method that applies (`pairs` counts at most 1023 models), in one
process. The methods' calls alternate, and each time is the median of `--repeats` calls,
so a load that changes over the minutes falls on every method alike; the ratios against
`network` are of those medians. Each method uses its own default key layout, as `auto`
would. Before timing, every size checks that all methods give identical totals at a fixed
seed under one layout (64-bit keys: the random keys have no ties, so the order is the same
whatever sorts it).

The headline rows time whole warm `csd.simulate` calls on the shipped LiveBench table
(65 x 21, N = 100k, T = 0) and the paper-scale synthetic table (29 x 38, N = 100k, T = 1)
with `auto`'s choice before this change (`pairs` up to 192 models, then `sort`) and after
it, and check their results are identical.

Prints a table and writes benchmarks/results/ordering_<date>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from run import ROOT, describe_machine, synthetic_table  # benchmarks/run.py, beside this script

import csd
from csd._src import driver, ordering
from csd._src.spec import elimination_schedules

SIZES = (16, 32, 48, 65, 128, 192, 450, 1024)
GRID_ROUNDS = 21
LIVEBENCH_MODELS = 65
CHECK_RUNS = 1_000
PAIRS_LIMIT = 1023


def grid_table(n_models: int) -> csd.ScoreTable:
    """The shipped LiveBench table for 65 models, else a synthetic n_models x 21 table."""
    if n_models == LIVEBENCH_MODELS:
        return csd.load_table(csd.shipped_table("livebench"))
    return synthetic_table(n_models, GRID_ROUNDS)


def grid_runs(n_models: int) -> int:
    """N per call (a call of a few seconds on 2 loaded cores): 10k runs up to 65 models,
    4k up to 192, 2k above."""
    return 10_000 if n_models <= 65 else 4_000 if n_models <= 192 else 2_000


def methods_for(n_models: int) -> list[str]:
    return [m for m in ordering.RANKINGS if m != "pairs" or n_models <= PAIRS_LIMIT]


def check_identical(totals: dict[str, driver.Totals], what: str) -> None:
    """Raises unless every method's totals equal the first's, field by field."""
    first, *others = totals
    for method in others:
        for field in dataclasses.fields(driver.Totals):
            a, b = getattr(totals[first], field.name), getattr(totals[method], field.name)
            if not np.array_equal(a, b):
                raise SystemExit(f"{what}: {method} and {first} differ in {field.name}")


def time_alternating(calls: dict, repeats: int) -> dict[str, list[float]]:
    """{name: seconds of each call}: one warm-up call each, then `repeats` rounds of one
    call of every name in turn."""
    for call in calls.values():
        call()
    seconds = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def measure_size(n_models: int, repeats: int) -> dict:
    """One row of the grid: warm run_engine seconds per method at T = 0."""
    table = grid_table(n_models)
    schedules = elimination_schedules([0], len(table.benchmarks))
    methods = methods_for(n_models)
    wide = {m: driver.prepare(table, csd.Tournament(), ranking=m, wide_keys=True) for m in methods}
    check_identical(
        {m: driver.run_engine(t, schedules, n_runs=CHECK_RUNS, seed=7) for m, t in wide.items()}, f"M={n_models}"
    )
    tournaments = {m: driver.prepare(table, csd.Tournament(), ranking=m) for m in methods}
    n_runs = grid_runs(n_models)
    calls = {m: (lambda t=t: driver.run_engine(t, schedules, n_runs=n_runs, seed=1)) for m, t in tournaments.items()}
    seconds = time_alternating(calls, repeats)
    median = {m: statistics.median(s) for m, s in seconds.items()}
    return {
        "n_models": n_models,
        "table": table.source or "livebench",
        "n_rounds": len(table.benchmarks),
        "n_runs": n_runs,
        "wide_keys": {m: t.rules.layout.wide for m, t in tournaments.items()},
        "seconds": seconds,
        "median_s": median,
        "ratio_to_network": {m: median[m] / median["network"] for m in methods},
        "fastest": min(median, key=median.get),
        "auto": ordering.choose_ranking(n_models),
    }


def old_auto(n_models: int) -> str:
    """`auto` before the network: `pairs` up to 192 models, then `sort`."""
    return "pairs" if n_models <= 192 else "sort"


def measure_headline(name: str, table: csd.ScoreTable, elimination: int, n_runs: int, repeats: int) -> dict:
    """Warm csd.simulate seconds with the old and the new `auto` choice, results checked equal."""
    choices = {"before": old_auto(len(table.models)), "after": ordering.choose_ranking(len(table.models))}
    results = {}

    def call(label: str):
        # simulate has no ranking option: pin the choice `auto` makes inside driver.prepare.
        chosen = choices[label]
        original, driver.choose_ranking = driver.choose_ranking, lambda n_models: chosen
        try:
            results[label] = csd.simulate(table, n_runs=n_runs, elimination=elimination, seed=3, estimator="plain")
        finally:
            driver.choose_ranking = original

    seconds = time_alternating({label: (lambda label=label: call(label)) for label in choices}, repeats)
    before, after = results["before"], results["after"]
    for field in ("expected_score", "rank_probs", "survival", "expected_score_by_round"):
        if not np.array_equal(getattr(before, field), getattr(after, field)):
            raise SystemExit(f"{name}: simulate results differ in {field} between {choices}")
    median = {label: statistics.median(s) for label, s in seconds.items()}
    return {
        "name": name,
        "shape": [len(table.models), len(table.benchmarks)],
        "elimination": elimination,
        "n_runs": n_runs,
        "methods": choices,
        "seconds": seconds,
        "median_s": median,
        "speedup": median["before"] / median["after"],
    }


def format_grid(rows: list[dict]) -> str:
    lines = [
        "warm run_engine seconds (median), T=0; ratio = method / network",
        f"{'M':>5} {'K':>3} {'N':>7}  {'pairs':>14} {'sort':>14} {'network':>8}  fastest  auto",
    ]
    for row in rows:
        cells = []
        for method in ("pairs", "sort"):
            if method in row["median_s"]:
                cells.append(f"{row['median_s'][method]:7.3f} ({row['ratio_to_network'][method]:4.2f}x)")
            else:
                cells.append(f"{'-':>14}")
        lines.append(
            f"{row['n_models']:5d} {row['n_rounds']:3d} {row['n_runs']:7,d}  {cells[0]:>14} {cells[1]:>14} "
            f"{row['median_s']['network']:8.3f}  {row['fastest']:<7}  {row['auto']}"
        )
    return "\n".join(lines)


def format_headline(rows: list[dict]) -> str:
    lines = ["warm csd.simulate seconds (median), auto before -> after"]
    for row in rows:
        m = row["methods"]
        lines.append(
            f"{row['name']:<28} {row['median_s']['before']:7.3f} ({m['before']}) -> "
            f"{row['median_s']['after']:7.3f} ({m['after']})  x{row['speedup']:.2f}"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated M")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per method")
    parser.add_argument("--no-headline", action="store_true", help="skip the LiveBench and paper rows")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    machine = describe_machine()
    rows = []
    for n_models in (int(m) for m in args.sizes.split(",")):
        rows.append(measure_size(n_models, args.repeats))
        print(format_grid(rows[-1:]).splitlines()[-1], flush=True)
    headline = []
    if not args.no_headline:
        livebench = csd.load_table(csd.shipped_table("livebench"))
        headline.append(measure_headline("livebench 65x21 T=0", livebench, 0, 100_000, args.repeats))
        headline.append(measure_headline("paper 29x38 T=1", synthetic_table(29, 38), 1, 100_000, args.repeats))
    print(format_grid(rows))
    if headline:
        print(format_headline(headline))
    machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ordering_{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps({"machine": machine, "grid": rows, "headline": headline}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
