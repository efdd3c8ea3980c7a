"""Coverage of `csd.bootstrap` intervals in simulation studies with a known truth.

Every study table is drawn from a known population, `csd.bootstrap` is run on it exactly
as a user would, and we count how often the interval holds the truth. Each setting
reports, per interval construction (`percentile`, `shifted`, `expanded`, all from the
same replicates) and nominal level (90%, 95%), the coverage pooled over all models with
its Monte Carlo SE (replicate tables are independent; the models of one table are not,
so the SE is that of the per-table mean), the per-model coverage, the mean width, and
the coverage of the rank intervals (of the truth's rank).

Populations (M models x K benchmarks, random pairing, T = 0):
  benchmarks: a table is ability_m + N(0, 1) per cell, ability = linspace(1.5, 0, M); the
    truth is the mean of E[S_m] over 20,000 fresh tables (--truth-tables) of the same
    shape (columns are exchangeable, so this averages over their order too). Because
    the games of one run use disjoint cells, it also equals E[S_m] under the tensor
    P = Phi((ability_i - ability_j) / sqrt 2), which tests/test_bootstrap.py uses.
  noise: true scores t = linspace(2, 0, M) + N(0, 1) per cell, drawn afresh for every
    replicate; observed = t + N(0, sigma^2); the truth is E[S_m] when every game is decided
    by re-measured scores, P = Phi((t_i - t_j) / (sigma sqrt 2)) (`re-measured`), and, for
    comparison, E[S_m] of the noiseless table t itself (`noiseless`).

Usage:
  python studies/bootstrap_coverage/bootstrap_coverage.py                 # every setting, ~1-2 h on 2 cores
  python studies/bootstrap_coverage/bootstrap_coverage.py --quick         # 20 replicates each, a smoke test
  python studies/bootstrap_coverage/bootstrap_coverage.py --settings noise-6x8-s0.3 --replicates 100

Writes studies/bootstrap_coverage/results/bootstrap_coverage.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import time

import numpy as np

import csd
from csd._src.bootstrap import INTERVALS, _replicate_outcomes, intervals
from csd._src.driver import prepare, replicate, run_engine

SETTINGS = {
    "benchmarks-6x8": dict(scheme="benchmarks", models=6, rounds=8),
    "benchmarks-12x8": dict(scheme="benchmarks", models=12, rounds=8),
    "benchmarks-6x20": dict(scheme="benchmarks", models=6, rounds=20),
    "noise-6x8-s0.3": dict(scheme="noise", models=6, rounds=8, sigma=0.3),
    "noise-6x8-s1.0": dict(scheme="noise", models=6, rounds=8, sigma=1.0),
    "noise-12x8-s0.3": dict(scheme="noise", models=12, rounds=8, sigma=0.3),
}
SCHEME_SEEDS = {"benchmarks": 1, "noise": 2}
LEVELS = (0.9, 0.95)


def names(n_models: int, n_rounds: int):
    return tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds))


def expected_scores(scores: np.ndarray, n_runs: int, seed: int, batch: int = 2000) -> np.ndarray:
    """(T, M) E[S] of T hard tables (T, M, K), played as replicates of one tournament."""
    n_tables, n_models, n_rounds = scores.shape
    out = []
    for start in range(0, n_tables, batch):
        part = scores[start : start + batch]
        tournament = prepare(csd.ScoreTable(*names(n_models, n_rounds), part[0]), csd.Tournament())
        outcomes, random_games = _replicate_outcomes(part, "coin", tournament.rules.n_models)
        totals = run_engine(
            replicate(tournament, outcomes, random_games), tournament.schedules(),
            n_runs=n_runs, seed=seed, stream=np.arange(start, start + len(part)),
        )
        out.append(totals.score_sum[:, 0] / totals.n_runs[:, None] / tournament.ticks_per_point)
    return np.concatenate(out)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def re_measured_probs(true: np.ndarray, sigma: float) -> np.ndarray:
    """(M, M, K) P[i, j, k] = Phi((t_ik - t_jk) / (sigma sqrt 2))."""
    probs = normal_cdf((true[:, None, :] - true[None, :, :]) / (sigma * math.sqrt(2)))
    probs[np.arange(len(true)), np.arange(len(true))] = 0.0
    return probs


def run_setting(name: str, replicates: int, n_boot: int, n_runs: int, truth_tables: int, log) -> dict:
    spec = SETTINGS[name]
    n_models, n_rounds, scheme = spec["models"], spec["rounds"], spec["scheme"]
    models, benchmarks = names(n_models, n_rounds)
    rng = np.random.default_rng([n_models, n_rounds, 2025, SCHEME_SEEDS[scheme], round(100 * spec.get("sigma", 0))])
    targets: dict[str, list] = {}
    if scheme == "benchmarks":
        ability = np.linspace(1.5, 0, n_models)
        population = ability[None, :, None] + rng.normal(size=(truth_tables, n_models, n_rounds))
        scores = expected_scores(population, 500, seed=7)
        truth = scores.mean(axis=0)
        log(f"{name}: truth {np.round(truth, 3).tolist()} (MC SE {scores.std(axis=0).max() / math.sqrt(truth_tables):.4f}), "
            f"sd of E[S] over tables {np.round(scores.std(axis=0), 3).tolist()}")
    hits = {(target, interval, level): [] for target in ("re-measured", "noiseless", "population")
            for interval in INTERVALS for level in LEVELS}
    rank_hits = {key: [] for key in hits}
    widths = {key: [] for key in hits}
    diagnostics = {"point_minus_truth": [], "replicate_sd": [], "mc_stderr": []}
    start = time.time()
    for r in range(replicates):
        if scheme == "benchmarks":
            observed = ability[:, None] + rng.normal(size=(n_models, n_rounds))
            truths = {"population": truth}
            options = dict(scheme="benchmarks")
        else:
            sigma = spec["sigma"]
            true = np.linspace(2, 0, n_models)[:, None] + rng.normal(size=(n_models, n_rounds))
            observed = true + sigma * rng.normal(size=(n_models, n_rounds))
            truths = {
                "re-measured": csd.simulate(re_measured_probs(true, sigma), n_runs=20_000, seed=10_000 + r).expected_score,
                "noiseless": csd.simulate(csd.ScoreTable(models, benchmarks, true), n_runs=20_000, seed=10_000 + r).expected_score,
            }
            options = dict(scheme="noise", score_stderr=sigma)
        result = csd.bootstrap(csd.ScoreTable(models, benchmarks, observed), n_boot=n_boot, n_runs=n_runs, seed=r, **options)
        main_truth = truths.get("population", truths.get("re-measured"))
        diagnostics["point_minus_truth"].append(result.expected_score - main_truth)
        diagnostics["replicate_sd"].append(result.replicate_scores.std(axis=0, ddof=1))
        diagnostics["mc_stderr"].append(result.mc_stderr)
        truth_places = {target: csd.baselines.places(value) for target, value in truths.items()}
        for interval in INTERVALS:
            if interval == "expanded" and scheme != "benchmarks":
                continue
            for level in LEVELS:
                bounds = intervals(result.expected_score, result.replicate_scores, level, interval, float(n_rounds), n_rounds, 1)
                for target, value in truths.items():
                    key = (target, interval, level)
                    hits[key].append((bounds["ci_low"] <= value) & (value <= bounds["ci_high"]))
                    rank = truth_places[target]
                    rank_hits[key].append((bounds["rank_low"] <= rank) & (rank <= bounds["rank_high"]))
                    widths[key].append(bounds["ci_high"] - bounds["ci_low"])
        if (r + 1) % 50 == 0:
            log(f"{name}: {r + 1}/{replicates} replicates, {time.time() - start:.0f} s")
    rows = []
    for key, values in hits.items():
        if not values:
            continue
        target, interval, level = key
        h = np.array(values)
        rows.append({
            "target": target, "interval": interval, "nominal": level,
            "coverage": float(h.mean()),
            "mc_se": float(h.mean(axis=1).std(ddof=1) / math.sqrt(len(h))),
            "per_model": np.round(h.mean(axis=0), 3).tolist(),
            "mean_width": float(np.mean(widths[key])),
            "rank_coverage": float(np.mean(rank_hits[key])),
        })
    point_error = np.array(diagnostics["point_minus_truth"])
    return {
        "setting": name, **spec, "replicates": replicates, "n_boot": n_boot, "n_runs": n_runs,
        "seconds": time.time() - start,
        "point_bias": np.round(point_error.mean(axis=0), 4).tolist(),
        "point_sd": np.round(point_error.std(axis=0, ddof=1), 4).tolist(),
        "replicate_sd": np.round(np.mean(diagnostics["replicate_sd"], axis=0), 4).tolist(),
        "mc_stderr": float(np.mean(diagnostics["mc_stderr"])),
        "rows": rows,
    }


def format_rows(setting: dict) -> str:
    lines = [f"{setting['setting']}  ({setting['replicates']} tables, B={setting['n_boot']}, N={setting['n_runs']}; "
             f"sd of E[S] - truth {setting['point_sd']}, mean replicate sd {setting['replicate_sd']})",
             f"  {'target':<12} {'interval':<10} {'nominal':>7} {'coverage':>15} {'ranks':>6} {'width':>6}  per model"]
    for row in setting["rows"]:
        lines.append(f"  {row['target']:<12} {row['interval']:<10} {row['nominal']:>7.2f} "
                     f"{row['coverage']:>8.3f} ± {row['mc_se']:.3f} {row['rank_coverage']:>6.3f} {row['mean_width']:>6.2f}  {row['per_model']}")
    return "\n".join(lines)


def _git_commit() -> str | None:
    """The checkout's commit, so a results file says which code produced it."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--n-runs", type=int, default=1000)
    parser.add_argument("--truth-tables", type=int, default=20_000, help="tables averaged for the benchmarks truth")
    parser.add_argument("--quick", action="store_true", help="20 replicates and 2000 truth tables per setting")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "bootstrap_coverage.json"))
    args = parser.parse_args()
    replicates = 20 if args.quick else args.replicates
    log = lambda message: print(message, flush=True)  # noqa: E731
    results = []
    for name in args.settings:
        truth_tables = 2000 if args.quick else args.truth_tables
        results.append(run_setting(name, replicates, args.n_boot, args.n_runs, truth_tables, log))
        print(format_rows(results[-1]), flush=True)
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({"git_commit": _git_commit(), "arguments": vars(args), "settings": results}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
