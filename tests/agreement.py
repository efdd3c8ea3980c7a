"""The check every exact-agreement test makes: the engine's E[S] and survival against the
exact enumerator's, within `z_max` Monte Carlo standard errors."""

import numpy as np


def assert_agrees_with_exact(result, exact: dict, n_runs: int, z_max: float) -> None:
    """`result` (a SimulationResult of `n_runs` runs) against `exact_expectations`' dict."""
    expected = np.array([float(v) for v in exact["expected_score"]])
    n_rounds = len(exact["survival"][0])
    # Where no run saw a rare outcome the sample SE is 0: allow the K / N it can move E[S].
    allowance = z_max * result.stderr + n_rounds / n_runs
    assert np.all(np.abs(result.expected_score - expected) <= allowance), (result.expected_score, expected)
    survival = np.array([[float(v) for v in row] for row in exact["survival"]])
    binomial = np.sqrt(survival * (1 - survival) / n_runs)
    assert np.all(np.abs(result.survival - survival) <= z_max * binomial + 1 / n_runs)
