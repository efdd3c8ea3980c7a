"""Static rankings of a score table (the methods CSD is compared against).

Each takes a `ScoreTable` and returns (M,) float scores, higher is better; see
`csd.compare` for all of them side by side. `benchmark_ranks` gives the (M, K)
per-benchmark ranks behind `mean_rank` and `borda`, `places` numbers models by a score
(1 = best, ties sharing the better place), and `kendall_tau` compares two rankings.
"""

from csd._src.baselines import *  # noqa: F403 (the names of `__all__`)
from csd._src.baselines import __all__  # noqa: F401
