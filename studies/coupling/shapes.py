"""The score tables of the experiments."""
import numpy as np
import csd


def synthetic(n_models, n_rounds, seed):
    """Model strength N(0,1) + benchmark noise N(0,1), on a 0-100 scale rounded to whole
    points (so about as many ties as LiveBench's coarse benchmarks)."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n_models, 1)) + rng.normal(size=(n_models, n_rounds))
    return np.round(50 + 10 * s)


def table(name):
    if name == "livebench":
        return csd.load_table(csd.shipped_table("livebench")).scores
    if name == "syn29x38":
        return synthetic(29, 38, 1)
    if name == "syn16x6":
        return synthetic(16, 6, 2)
    if name == "syn16x3":
        return synthetic(16, 3, 3)
    raise KeyError(name)


def score_table(name):
    s = table(name)
    return csd.ScoreTable(tuple(f"m{i}" for i in range(s.shape[0])), tuple(f"b{k}" for k in range(s.shape[1])), s)
