"""Every result stays bit for bit as it was: the numbers of a fixed set of calls (simulate
with both estimators under several rules, order sensitivity, sweep, bootstrap, compare,
outlier_test) against tests/data/golden_results.npz, written by
scripts/golden_results.py. A layout change, a refactor or a new option must leave them
identical; where a result is meant to change, rerun the script and say why in the commit.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "golden_results.py"
_spec = importlib.util.spec_from_file_location("golden_results", SCRIPT)
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

FAST = ("simulate_random_T0_cv", "simulate_random_T0_plain", "simulate_float_T1_draw_cv")


@pytest.fixture(scope="module")
def recorded() -> dict[str, np.ndarray]:
    with np.load(golden.GOLDEN) as stored:
        return dict(stored)


def test_every_case_is_recorded(recorded):
    assert {key.split("/")[0] for key in recorded} == set(golden.case_names())


@pytest.mark.parametrize(
    "case", [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in golden.case_names()]
)
def test_results_are_unchanged(case, recorded):
    found = golden.golden_results([case])
    expected = {key: value for key, value in recorded.items() if key.split("/")[0] == case}
    assert sorted(found) == sorted(expected)
    changed = [
        key
        for key in expected
        if found[key].dtype != expected[key].dtype or not np.array_equal(found[key], expected[key], equal_nan=True)
    ]
    assert not changed, f"{case}: changed {changed}"
