"""Static rankings of a score table (the methods CSD is compared against).

Each takes a `ScoreTable` and returns (M,) float scores, higher is better; see
`csd.compare` for all of them side by side.
"""

from csd._src.baselines import (
    borda,
    bradley_terry,
    elo,
    kendall_tau,
    mean_rank,
    mean_score,
    normalized_mean,
)

__all__ = [
    "borda",
    "bradley_terry",
    "elo",
    "kendall_tau",
    "mean_rank",
    "mean_score",
    "normalized_mean",
]
