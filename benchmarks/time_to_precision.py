"""Runs and warm seconds until every model's SE <= a target: plain average against the
control-variate estimator (`csd.simulate(estimator=...)`), in one process.

    python benchmarks/time_to_precision.py                    # every table, T = 0, 1, 2
    python benchmarks/time_to_precision.py --only livebench   # one table
    python benchmarks/time_to_precision.py --extrapolate      # times scaled from N0 runs
    python benchmarks/time_to_precision.py --only livebench --bootstrap  # and bootstrap replicates

For each table, T and estimator: a warm-up call (compilation), a call of N0 runs (20,000;
2,000 for the full Open LLM table) whose
largest SE gives the runs needed, N = N0 * (max SE / target)^2, then a call of N runs
that compiles its chunk shape and a timed one (warm seconds; cv's include its pilot of `estimator.pilot_size(N)` runs, which the
runs column counts too). With --extrapolate (for a loaded machine) no call of N runs is
made: each estimator's time is its N0 call's scaled by the runs played (pilot included),
marked `*`. The floor
column is the time a cost-free estimator would take with cv's reductions: cv's runs (no
pilot) at plain's measured seconds per run; a goal above it needs a faster kernel. The
variance reduction (Var X / Var Z on the same runs, median [min-max] over models) comes
from cv's N0 call, next to the NumPy study's numbers (docs/variance.md, section 5), and
so does P(champion)'s (the exact last round and the champion tables against counting
the runs won).
Writes benchmarks/results/time_to_precision_<date>.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import csd
from csd._src import pilot_cache
from csd._src.estimator import pilot_size

N0 = 20_000
STUDY = {  # variance.md section 5: median [min, max] over models, per T
    "livebench": {0: (8.9, 1.8, 17), 1: (11.3, 4.6, 58), 2: (17.3, 8.6, 36)},
    "epoch_hub_small": {0: (9.1, 3.7, 17), 1: (21.8, 4.3, 62), 2: (25.8, 8.0, 54)},  # the study's slice was 50 x 21
}


def uniform_table(n_models: int = 29, n_rounds: int = 38, seed: int = 0) -> csd.ScoreTable:
    """The paper-scale synthetic table: uniform scores on [0, 100)."""
    scores = np.random.default_rng(seed).uniform(0, 100, (n_models, n_rounds))
    return csd.ScoreTable(tuple(f"model_{m}" for m in range(n_models)), tuple(f"bench_{k}" for k in range(n_rounds)), scores)


def openllm_top450() -> csd.ScoreTable:
    table = csd.load_table(csd.shipped_table("openllm_v2"))
    keep = np.sort(np.argsort(-table.mean_scores(), kind="stable")[:450])
    return csd.ScoreTable(tuple(table.models[m] for m in keep), table.benchmarks, table.scores[keep])


TABLES = {  # name: (loader, target SE, N0)
    "livebench": (lambda: csd.load_table(csd.shipped_table("livebench")), 0.005, N0),
    "epoch_hub_small": (lambda: csd.load_table(csd.shipped_table("epoch_hub_small")), 0.005, N0),
    "paper_29x38_uniform": (uniform_table, 0.005, N0),
    "openllm_top450": (openllm_top450, 0.01, N0),
    "openllm_full": (lambda: csd.load_table(csd.shipped_table("openllm_v2")), 0.01, 2_000),
}


def timed(table, **options):
    pilot_cache.clear()  # every timed cv call plays its pilot, as a user's first call does
    start = time.perf_counter()
    result = csd.simulate(table, **options)
    return result, time.perf_counter() - start


def measure(table, target: float, n0: int, elimination: int, estimator: str, extrapolate: bool) -> dict:
    options = dict(elimination=elimination, estimator=estimator, seed=1)
    timed(table, n_runs=n0, **options)  # compilation
    first, first_s = timed(table, n_runs=n0, **options)
    needed = max(1, math.ceil(n0 * (first.stderr.max() / target) ** 2))
    record = {"n0_max_se": float(first.stderr.max()), "n0_s": first_s, "runs_needed": needed}
    if extrapolate:
        played = n0 + (pilot_size(n0) if estimator == "cv" else 0)
        total = needed + (pilot_size(needed) if estimator == "cv" else 0)
        record.update(seconds=first_s * total / played, measured=False, max_se=None)
    else:
        timed(table, n_runs=needed, **dict(options, seed=3))  # compiles the chunk shape of N runs
        result, seconds = timed(table, n_runs=needed, **dict(options, seed=2))
        record.update(seconds=seconds, measured=True, max_se=float(result.stderr.max()))
    pilot = pilot_size(needed) if estimator == "cv" else 0
    record.update(pilot_runs=pilot, total_runs=needed + pilot)
    for field in ("variance_reduction", "champion_variance_reduction"):
        record[field] = factor_summary(getattr(first, field))
    return record


def free_estimator_seconds(plain: dict, cv: dict) -> float:
    """The seconds cv's runs would take at plain's cost per run, with no pilot: what no
    tuning of the estimator's cost can beat without a faster kernel or larger reductions."""
    return cv["runs_needed"] * plain["seconds"] / plain["total_runs"]


def factor_summary(values) -> list[float] | None:
    """[median, min, max] of the variance-reduction factors over the models whose plain
    estimate varied (a model never champion in the runs has a plain SE of 0: factor 0)."""
    if values is None:
        return None
    factors = values[np.isfinite(values) & (values > 0)]
    return [float(np.median(factors)), float(factors.min()), float(factors.max())] if factors.size else None


BOOTSTRAP = {"n_boot": 50, "n_runs": 2000}  # replicates of a typical size (replicates play 200-10,000 runs)


def measure_bootstrap(table, scheme: str) -> dict:
    """Warm seconds of `csd.bootstrap` with each estimator (a warm-up call first), the
    replicates' Monte Carlo SE (largest and median over models), cv's variance reduction,
    and cv's time to the same largest replicate SE against plain's."""
    options = dict(BOOTSTRAP, scheme=scheme, seed=3, **({"n_items": 500} if scheme == "noise" else {}))
    row = {"scheme": scheme, **BOOTSTRAP}
    for estimator in ("plain", "cv"):
        csd.bootstrap(table, estimator=estimator, **options)
        pilot_cache.clear()  # the timed call plays its pilot, as a user's first call does
        start = time.perf_counter()
        result = csd.bootstrap(table, estimator=estimator, **options)
        row[estimator] = {
            "seconds": time.perf_counter() - start,
            "mc_se_max": float(result.mc_stderr.max()),
            "mc_se_median": float(np.median(result.mc_stderr)),
            "variance_reduction": factor_summary(result.variance_reduction),
            "pilot_runs": result.pilot_runs,
        }
    plain, cv = row["plain"], row["cv"]
    row["time_ratio"] = plain["seconds"] * plain["mc_se_max"] ** 2 / (cv["seconds"] * cv["mc_se_max"] ** 2)
    row["time_ratio_median_model"] = plain["seconds"] * plain["mc_se_median"] ** 2 / (cv["seconds"] * cv["mc_se_median"] ** 2)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated table names: " + ",".join(TABLES))
    parser.add_argument("--elimination", default="0,1,2", help="comma-separated T values")
    parser.add_argument("--extrapolate", action="store_true", help="seconds scaled from the N0 calls")
    parser.add_argument("--bootstrap", action="store_true", help="also bootstrap replicates on LiveBench, plain against cv")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(TABLES)
    rows, bootstrap_rows = [], []
    for name in names:
        load, target, n0 = TABLES[name]
        table = load()
        for elimination in map(int, args.elimination.split(",")):
            row = {"table": name, "shape": list(table.shape), "T": elimination, "target_se": target, "n0": n0}
            for estimator in ("plain", "cv"):
                row[estimator] = measure(table, target, n0, elimination, estimator, args.extrapolate)
            row["time_ratio"] = row["plain"]["seconds"] / row["cv"]["seconds"]
            row["floor_seconds"] = free_estimator_seconds(row["plain"], row["cv"])
            row["study_variance_reduction"] = STUDY.get(name, {}).get(elimination)
            rows.append(row)
            print(format_row(row), flush=True)
    if args.bootstrap:
        table = TABLES["livebench"][0]()
        for scheme in ("benchmarks", "noise"):
            bootstrap_rows.append(measure_bootstrap(table, scheme))
            print(format_bootstrap_row(bootstrap_rows[-1]), flush=True)
    out = Path(args.out) / f"time_to_precision_{datetime.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "bootstrap": bootstrap_rows}, indent=1))
    print(f"wrote {out}")
    return 0


def format_row(row: dict) -> str:
    plain, cv = row["plain"], row["cv"]
    factors = "{:.1f} [{:.1f}-{:.1f}]".format(*cv["variance_reduction"])
    champion = "{:.2f} [{:.2f}-{:.2f}]".format(*cv["champion_variance_reduction"]) if cv.get("champion_variance_reduction") else "-"
    study = "{} [{}-{}]".format(*row["study_variance_reduction"]) if row["study_variance_reduction"] else "-"
    return (
        f"{row['table']:<20} T={row['T']}  SE<={row['target_se']}: plain {plain['total_runs']:>9} runs "
        f"{plain['seconds']:7.2f} s{'' if plain['measured'] else '*'} | cv {cv['total_runs']:>8} runs "
        f"{cv['seconds']:6.2f} s{'' if cv['measured'] else '*'} | time ratio {row['time_ratio']:5.1f}x "
        f"| floor {row['floor_seconds']:5.2f} s | Var X/Var Z {factors} (study {study})"
        f" | P(champion) {champion}"
    )


def format_bootstrap_row(row: dict) -> str:
    plain, cv = row["plain"], row["cv"]
    return (
        f"bootstrap livebench {row['scheme']:<10} B={row['n_boot']} N={row['n_runs']}: plain {plain['seconds']:5.2f} s, "
        f"replicate SE max {plain['mc_se_max']:.4f} median {plain['mc_se_median']:.4f} | cv {cv['seconds']:5.2f} s "
        f"(pilot {cv['pilot_runs']} runs), SE max {cv['mc_se_max']:.4f} median {cv['mc_se_median']:.4f}, "
        "Var X/Var Z {:.1f} [{:.1f}-{:.1f}]".format(*cv["variance_reduction"])
        + f" | time to the same SE: {row['time_ratio']:.1f}x (largest), {row['time_ratio_median_model']:.1f}x (median model)"
    )


if __name__ == "__main__":
    sys.exit(main())
