"""Warm time of the paper-scale simulate and the T=0..4 sweep in whichever `csd` is importable.

Run it once per checkout, back to back, to compare two versions on the same machine:

    PYTHONPATH=/path/to/old python benchmarks/before_after.py --label before
    python benchmarks/before_after.py --label after

Prints one JSON line: the median of `--repeats` warm calls after one compile call, for the
synthetic 29 x 38 table of benchmarks/run.py (T=1, N=100k) and the T=0..4 sweep. With a
`csd` that has the control-variate estimator, the plain estimator is timed (the work the
old version did) and cv too.
"""

import argparse
import inspect
import json
import statistics
import time

import numpy as np

import csd


def forget_pilots() -> None:
    """Clears the in-process cache of cv's fitted tables, in a `csd` that has one."""
    try:
        from csd._src import pilot_cache
    except ImportError:
        return
    pilot_cache.clear()


def synthetic_table(n_models: int = 29, n_rounds: int = 38, seed: int = 0) -> csd.ScoreTable:
    """benchmarks/run.py's stand-in for the paper's private table."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(size=(n_models, 1))
    difficulty = rng.normal(size=(1, n_rounds))
    discrimination = rng.uniform(0.5, 2.0, size=(1, n_rounds))
    specialty = rng.normal(scale=0.5, size=(n_models, n_rounds))
    scores = 100 / (1 + np.exp(-(discrimination * (ability - difficulty) + specialty)))
    return csd.ScoreTable(tuple(f"m{m}" for m in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)


def warm(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        forget_pilots()  # each timed cv call plays its pilot, as a user's first call does
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    table = synthetic_table()
    estimators = ["plain", "cv"] if "estimator" in inspect.signature(csd.simulate).parameters else [None]
    row = {"label": args.label, "csd": csd.__file__}
    for estimator in estimators:
        extra = {} if estimator is None else {"estimator": estimator}
        suffix = "" if estimator in (None, "plain") else f"_{estimator}"
        row[f"paper_s{suffix}"] = warm(lambda: csd.simulate(table, n_runs=100_000, elimination=1, **extra), args.repeats)
        row[f"sweep_T0-4_s{suffix}"] = warm(
            lambda: csd.sweep(table, schedules=[0, 1, 2, 3, 4], n_runs=100_000, **extra), args.repeats)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
