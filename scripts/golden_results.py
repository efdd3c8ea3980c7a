"""The golden results: every number of a fixed set of API calls on tiny tables, kept in
tests/data/golden_results.npz so that a change of layout can be checked to leave every
result bit for bit as it was (tests/test_unchanged_results.py).

    python scripts/golden_results.py            # (re)writes tests/data/golden_results.npz

Run it again ONLY when a result is meant to change (a new stream, a new estimator rule),
and say so in the commit. The calls (`CASES`) cover simulate with both estimators under
several rules (pairing random, float, fold; elimination 0, 1 and a per-round schedule;
tie coin and draw; round orders), order sensitivity, sweep (common and independent
coupling), bootstrap (two schemes), compare (with intervals) and outlier_test. Every
array, number and flag of a result (E[S], SE, P(champion), rank distributions, survival,
...) is kept under `case/field`, nested results as `case/field/key`.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

import csd

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden_results.npz"
N = 400  # runs per simulation: small, so the whole set runs in seconds once compiled


def small_table() -> csd.ScoreTable:
    """5 models x 3 benchmarks, with tied scores (so `tie` matters) and one missing cell."""
    scores = np.array(
        [
            [0.9, 0.5, 0.7],
            [0.8, 0.5, 0.7],
            [0.8, 0.6, np.nan],
            [0.4, 0.9, 0.2],
            [0.3, 0.2, 0.7],
        ]
    )
    return csd.ScoreTable(("m0", "m1", "m2", "m3", "m4"), ("b0", "b1", "b2"), scores)


def wide_table() -> csd.ScoreTable:
    """4 models x 6 benchmarks, in two tiers of three (for bootstrap and compare)."""
    scores = np.array(
        [
            [0.9, 0.8, 0.7, 0.6, 0.5, 0.9],
            [0.7, 0.9, 0.6, 0.8, 0.4, 0.3],
            [0.5, 0.4, 0.9, 0.5, 0.9, 0.6],
            [0.2, 0.3, 0.4, 0.9, 0.6, 0.1],
        ]
    )
    return csd.ScoreTable(("w0", "w1", "w2", "w3"), tuple(f"c{k}" for k in range(6)), scores)


TIERS = (("c0", "c1", "c2"), ("c3", "c4", "c5"))


def _cases() -> dict:
    """Case name -> a function returning its result (a result object of `csd`)."""
    small, wide = small_table(), wide_table()
    simulate_rules = {
        "random_T0": dict(),
        "random_T1": dict(elimination=1),
        "random_schedule_draw": dict(elimination=(0, 1, 2), tie="draw"),
        "float_T1_draw": dict(pairing="float", elimination=1, tie="draw"),
        "fold_T0": dict(pairing="fold"),
        "fold_schedule": dict(pairing="fold", elimination=(1, 0, 1)),
        "random_easy_first": dict(order="easy-first", bye_points=0.5),
        "random_shuffle": dict(order="shuffle"),
    }
    cases = {}
    for name, rules in simulate_rules.items():
        for estimator in ("cv", "plain"):
            cases[f"simulate_{name}_{estimator}"] = (
                lambda rules=rules, estimator=estimator: csd.simulate(
                    small, n_runs=N, seed=3, estimator=estimator, **rules
                )
            )
    cases["simulate_order_sensitivity"] = lambda: csd.simulate(small, n_runs=N, seed=1, order_sensitivity=2)
    cases["simulate_tensor"] = lambda: csd.simulate(csd.win_probabilities(small), n_runs=N, seed=2)
    cases["sweep_common"] = lambda: csd.sweep(small, (0, 1, 2), n_runs=N, seed=4)
    cases["sweep_independent_plain"] = lambda: csd.sweep(
        small, (0, (0, 1, 1)), n_runs=N, seed=4, coupling="independent", estimator="plain", pairing="float"
    )
    cases["bootstrap_benchmarks"] = lambda: csd.bootstrap(wide, 4, N, tiers=TIERS, seed=5)
    cases["bootstrap_noise_plain"] = lambda: csd.bootstrap(
        small, 3, N, scheme="noise", score_stderr=0.05, seed=5, estimator="plain"
    )
    cases["compare"] = lambda: csd.compare(wide, n_runs=N, seed=6, n_boot=3, boot_runs=N, tiers=TIERS)
    cases["outlier_test"] = lambda: csd.outlier_test(small, "m0", n_runs=N, seed=7, elimination=1)
    return cases


def flatten(value, prefix: str, into: dict) -> None:
    """Every number of `value` (a result, dict, sequence or array) into `into`, under
    `prefix/...`; names, tournaments and None are left out."""
    if isinstance(value, csd.Tournament) or value is None or isinstance(value, str):
        return
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            flatten(getattr(value, field.name), f"{prefix}/{field.name}", into)
    elif isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}/{key}", into)
    elif isinstance(value, (tuple, list)) and value and not all(isinstance(v, str) for v in value):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}/{index}", into)
    elif isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            into[prefix] = array


def golden_results(names=None) -> dict[str, np.ndarray]:
    """`case/field` -> array for the cases `names` (default all)."""
    found = {}
    for name, call in _cases().items():
        if names is None or name in names:
            flatten(call(), name, found)
    return found


def case_names() -> tuple[str, ...]:
    return tuple(_cases())


def main() -> None:
    found = golden_results()
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN, **found)
    print(f"wrote {len(found)} arrays of {len(case_names())} cases to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
