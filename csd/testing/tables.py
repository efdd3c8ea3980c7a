"""Score tables for tests, from a nested list of scores."""

import numpy as np

import csd


def score_table(scores, models=None, benchmarks=None) -> csd.ScoreTable:
    """A ScoreTable of `scores` (M, K), NaN for a missing cell; models m0, m1, ... and
    benchmarks b0, b1, ... unless named."""
    scores = np.asarray(scores, dtype=np.float64)
    n_models, n_benchmarks = scores.shape
    return csd.ScoreTable(
        models or tuple(f"m{i}" for i in range(n_models)),
        benchmarks or tuple(f"b{k}" for k in range(n_benchmarks)),
        scores,
    )
