"""The Monte Carlo tolerance checks every agreement test makes: estimates against exact
values (Fractions or floats) within Z_MAX standard errors plus a stated slack."""

import numpy as np

Z_MAX = 4.5  # Monte Carlo tolerance, in standard errors


def as_float(values) -> np.ndarray:
    """Exact values (nested lists or object arrays of Fractions) as a float array."""
    return np.asarray(values, dtype=float)


def assert_scores_agree(estimate, stderr, exact, slack: float) -> None:
    """E[S] estimates within Z_MAX of their standard errors, plus `slack`, of `exact`.

    A slack of K / N covers a model whose rare outcomes (probability below a few / N)
    never showed up, which leaves a zero sample standard error."""
    error = np.abs(np.asarray(estimate) - as_float(exact))
    tolerance = Z_MAX * np.asarray(stderr) + slack
    assert (error <= tolerance).all(), (estimate, as_float(exact))


def assert_probs_agree(estimate, exact, n_runs: int, slack: float) -> None:
    """Frequencies over `n_runs` within Z_MAX binomial standard errors, plus `slack`, of
    the exact probabilities (with a tiny slack, probability 0 or 1 must be matched)."""
    p = as_float(exact)
    tolerance = Z_MAX * np.sqrt(p * (1 - p) / n_runs)
    error = np.abs(np.asarray(estimate) - p)
    assert (error <= tolerance + slack).all(), error / np.maximum(tolerance, 1e-300)


def assert_agrees_with_exact(result, exact: dict, n_runs: int) -> None:
    """A SimulationResult of `n_runs` runs against `exact_expectations`' E[S] and survival."""
    n_rounds = len(exact["survival"][0])
    assert_scores_agree(result.expected_score, result.stderr, exact["expected_score"], n_rounds / n_runs)
    assert_probs_agree(result.survival, exact["survival"], n_runs, 1 / n_runs)
