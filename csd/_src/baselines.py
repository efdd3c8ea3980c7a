"""Static rankings of a score table, the methods CSD is compared against.

Each method maps a `ScoreTable` to (M,) float scores, higher is better. Missing scores
(NaN, kept only under the `loss` policy) follow the engine's rule wherever models are
compared: a missing score loses to every present score and ties with another missing
one. The averaging methods (`mean_score`, `normalized_mean`) ignore missing cells
instead, and a model with no score at all gets -inf (it ranks last).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Callable

import numpy as np

from csd._src.errors import InputError, check_int
from csd._src.outcomes import score_levels
from csd._src.table import ScoreTable

ELO_SCALE = 400.0  # rating difference at which the expected score is 10 : 1


def mean_score(table: ScoreTable) -> np.ndarray:
    """(M,) each model's mean over its present scores (missing cells ignored).

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b"), ("x", "y"), np.array([[1.0, np.nan], [2.0, 4.0]]))
      >>> csd.baselines.mean_score(table).tolist()
      [1.0, 3.0]
    """
    return _present_mean(table.scores)


def normalized_mean(table: ScoreTable) -> np.ndarray:
    """(M,) each model's mean of min-max normalized scores over its present cells.

    A benchmark's present scores are mapped to [0, 1] (worst 0, best 1); a benchmark whose
    present scores are all equal maps them to 0.5. Missing cells are ignored.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array(
      ...     [[10.0, 0.2], [20.0, 0.4], [30.0, 0.3]]))
      >>> csd.baselines.normalized_mean(table).tolist()
      [0.0, 0.75, 0.75]
    """
    scores = table.scores  # (M, K)
    with warnings.catch_warnings():  # an all-missing benchmark has no min or max
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(scores, axis=0), np.nanmax(scores, axis=0)  # (K,)
    spread = high - low
    constant = spread == 0
    normalized = np.where(constant, 0.5, (scores - low) / np.where(constant, 1.0, spread))
    return _present_mean(normalized)


def mean_rank(table: ScoreTable) -> np.ndarray:
    """(M,) minus each model's mean per-benchmark rank (rank 1 is the best score).

    Tied scores share the average of their ranks; a missing score ranks below every
    present one (missing scores tie among themselves).

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array(
      ...     [[3.0, 1.0], [2.0, 2.0], [2.0, np.nan]]))
      >>> csd.baselines.mean_rank(table).tolist()
      [-1.5, -1.75, -2.75]
    """
    return -benchmark_ranks(table.scores).mean(axis=1)


def borda(table: ScoreTable) -> np.ndarray:
    """(M,) Borda count: over all benchmarks, the number of models each model beats, a tie
    counting 1/2 (a missing score loses to a present one and ties with a missing one).

    On each benchmark this equals M minus the model's average rank, so `borda` orders the
    models exactly as `mean_rank` does; both are kept because both are quoted.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array(
      ...     [[3.0, 1.0], [2.0, 2.0], [2.0, np.nan]]))
      >>> csd.baselines.borda(table).tolist()
      [3.0, 2.5, 0.5]
    """
    n_models = table.shape[0]
    return (n_models - benchmark_ranks(table.scores)).sum(axis=1)


def bradley_terry(
    table: ScoreTable, max_iter: int = 10_000, tol: float = 1e-10, prior: float = 1.0
) -> np.ndarray:
    """(M,) Bradley-Terry log-strengths from the pairwise results on every benchmark.

    Every benchmark is a game between every pair of models (a tie is half a win for each
    side; missing scores as in the engine). P(i beats j) = p_i / (p_i + p_j); the
    strengths p are fitted by Hunter's (2004) MM algorithm. So that the estimate exists
    when a model never wins or never loses, every pair also plays `prior` virtual drawn
    games (half a win to each side): a weak prior that pulls each pairwise odds ratio
    towards 1 by the weight of `prior` games against the K real ones.

    Every pair meets once on every benchmark, so the likelihood sees the results only
    through each model's total wins (its `borda` count): Bradley-Terry orders the models
    as `borda` does and adds a log-odds scale; equal totals get exactly equal strengths,
    and the MM iteration runs over the distinct totals.

    Args:
      table: the score table.
      max_iter: most MM iterations; a RuntimeWarning says if they did not converge.
      tol: stop when no centered log-strength moves by more than this in one iteration.
      prior: virtual drawn games per pair, > 0.

    Returns:
      (M,) log-strengths, centered to mean 0 over the models.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b"), ("x", "y", "z", "w"), np.array(
      ...     [[2.0, 2, 2, 1], [1.0, 1, 1, 2]]))
      >>> strength = csd.baselines.bradley_terry(table)  # 3 + 1/2 wins to 1 + 1/2
      >>> bool(np.isclose(strength[0] - strength[1], np.log(3.5 / 1.5)))
      True
    """
    check_int("max_iter", max_iter, 1)
    if not prior > 0:
        raise InputError(f"prior={prior!r} must be > 0 (it keeps the strengths finite)")
    n_models, n_benchmarks = table.shape
    games_per_pair = n_benchmarks + prior
    # G distinct win totals; group_of (M,) maps each model to its total's index.
    totals, group_of, group_size = np.unique(borda(table), return_inverse=True, return_counts=True)
    won = totals + prior / 2 * (n_models - 1)  # (G,) real and virtual wins of a model
    log_strength = np.zeros(totals.size)  # (G,)
    for _ in range(max_iter):
        strength = np.exp(log_strength)
        # A model meets every model of each group once, itself excepted.
        inverse_sums = group_size / (strength[:, None] + strength[None, :])  # (G, G)
        expected_rate = games_per_pair * (inverse_sums.sum(axis=1) - 0.5 / strength)
        updated = np.log(won / expected_rate)
        updated -= (group_size * updated).sum() / n_models  # the likelihood ignores a common factor
        converged = np.abs(updated - log_strength).max() <= tol
        log_strength = updated
        if converged:
            return log_strength[group_of]
    warnings.warn(
        f"bradley_terry: MM did not converge to tol={tol} in max_iter={max_iter} iterations",
        RuntimeWarning,
        stacklevel=2,
    )
    return log_strength[group_of]


def elo(
    table: ScoreTable,
    k_factor: float = 16.0,
    initial: float = 1500.0,
    n_orders: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """(M,) sequential Elo ratings, averaged over `n_orders` random game orders.

    One order: the benchmarks in a random order; inside each benchmark every pair (i, j)
    plays one game, in a random order, scoring 1, 1/2 or 0 by the comparison of their
    scores (missing scores as in the engine). After each game both ratings move by
    `k_factor` * (score - expected), expected = 1 / (1 + 10 ** ((R_j - R_i) / 400)); the
    sum of the ratings stays M * `initial`. The orders are drawn from
    `numpy.random.default_rng(seed)` and played side by side, so the cost is
    K * M * (M - 1) / 2 vectorized steps (about 1 s for M = 65, K = 21).

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b"), ("x",), np.array([[2.0], [1.0]]))
      >>> csd.baselines.elo(table, k_factor=16, initial=1500).tolist()
      [1508.0, 1492.0]
    """
    n_orders = check_int("n_orders", n_orders, 1)
    rng = np.random.default_rng(seed)
    n_models, n_benchmarks = table.shape
    first, second = np.triu_indices(n_models, k=1)  # (P,) the pairs, P = M (M - 1) / 2
    levels = score_levels(table.scores)  # (K, M)
    pair_result = 0.5 * (1.0 + np.sign(levels[:, first] - levels[:, second]))  # (K, P)
    ratings = np.full((n_orders, n_models), float(initial))  # (n_orders, M)
    orders = np.arange(n_orders)
    benchmark_order = rng.permuted(np.tile(np.arange(n_benchmarks), (n_orders, 1)), axis=1)
    for benchmark in benchmark_order.T:  # (n_orders,) the benchmark each order plays now
        pair_order = rng.permuted(np.tile(np.arange(first.size), (n_orders, 1)), axis=1)
        for pair in pair_order.T:  # (n_orders,) the game each order plays now
            i, j = first[pair], second[pair]
            expected = 1.0 / (1.0 + 10.0 ** ((ratings[orders, j] - ratings[orders, i]) / ELO_SCALE))
            change = k_factor * (pair_result[benchmark, pair] - expected)
            ratings[orders, i] += change
            ratings[orders, j] -= change
    return ratings.mean(axis=0)


# The static methods, by name, in the order `csd.compare`, the report and `csd-run
# mode=compare` show them: each maps a `ScoreTable` to (M,) scores, higher is better, and
# one with a `seed` parameter gets the run's seed (`static_methods`). A new baseline is its
# function above and its line here: `csd.baselines` exports it through `__all__`.
STATIC_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "mean": mean_score,
    "normalized_mean": normalized_mean,
    "mean_rank": mean_rank,
    "borda": borda,
    "bradley_terry": bradley_terry,
    "elo": elo,
}
__all__ = sorted([*(method.__name__ for method in STATIC_METHODS.values()), "benchmark_ranks", "kendall_tau", "places"])


def static_methods(seed: int) -> dict[str, Callable[[ScoreTable], np.ndarray]]:
    """`STATIC_METHODS`, each (table) -> (M,) scores, the seeded ones with `seed`."""
    return {
        name: functools.partial(method, seed=seed) if "seed" in inspect.signature(method).parameters else method
        for name, method in STATIC_METHODS.items()
    }


def kendall_tau(a, b) -> float:
    """Kendall's tau-b rank correlation of two score vectors (ties handled).

    tau-b = (concordant - discordant) / sqrt((pairs - ties in a) * (pairs - ties in b));
    NaN when either vector is constant. Scores may be +-inf, not NaN.

    Example:
      >>> import csd
      >>> csd.baselines.kendall_tau([1, 2, 3], [1, 3, 2])
      0.3333333333333333
    """
    a, b = _score_vector("a", a), _score_vector("b", b)
    if a.shape != b.shape:
        raise InputError(f"kendall_tau: a has {a.size} scores, b has {b.size}")
    order_a, order_b = _pair_signs(a), _pair_signs(b)  # (n, n) in {-1, 0, 1}
    n_pairs = a.size * (a.size - 1) // 2
    agreement = int((order_a * order_b).sum()) // 2  # concordant - discordant
    untied_a = int(np.count_nonzero(order_a)) // 2
    untied_b = int(np.count_nonzero(order_b)) // 2
    if n_pairs == 0 or untied_a == 0 or untied_b == 0:
        return float("nan")
    return agreement / float(np.sqrt(untied_a * untied_b))


def places(scores) -> np.ndarray:
    """(M,) int 1-based places by descending score, ties sharing the better place (how
    every ranking of this package is numbered).

    Example:
      >>> import csd
      >>> csd.baselines.places([2.0, 5.0, 2.0, 1.0]).tolist()
      [2, 1, 2, 4]
    """
    scores = np.asarray(scores, dtype=np.float64)
    return (scores[None, :] > scores[:, None]).sum(axis=1) + 1


def benchmark_ranks(table: ScoreTable | np.ndarray) -> np.ndarray:
    """(M, K) float rank of each model on each benchmark: 1 is the best, ties share the
    average of their ranks, a missing score (NaN) ranks below every present one (missing
    scores tie among themselves). `mean_rank` is minus its row means.

    Args:
      table: a `ScoreTable`, or its (M, K) scores.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array(
      ...     [[3.0, 1.0], [2.0, 2.0], [2.0, np.nan]]))
      >>> csd.baselines.benchmark_ranks(table).tolist()
      [[1.0, 2.0], [2.5, 1.0], [2.5, 3.0]]
    """
    scores = table.scores if isinstance(table, ScoreTable) else np.asarray(table, dtype=np.float64)
    if scores.ndim != 2:
        raise InputError(f"benchmark_ranks needs a ScoreTable or (M, K) scores, got shape {scores.shape}")
    levels = score_levels(scores)  # (K, M), higher is better, missing -1
    ranks = np.empty(levels.shape)
    for k, column in enumerate(levels):
        count = np.bincount(column + 1)  # (L + 1,) models at each level, missing first
        better = count[::-1].cumsum()[::-1] - count  # models strictly above each level
        ranks[k] = 1.0 + better[column + 1] + (count[column + 1] - 1) / 2.0
    return ranks.T


def _present_mean(values: np.ndarray) -> np.ndarray:
    """(M,) row means of (M, K) `values` over non-NaN cells; -inf for a row with none."""
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    total = np.where(present, values, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), -np.inf)


def _score_vector(name: str, values) -> np.ndarray:
    """`values` as a 1-D float array without NaN, or InputError naming `name`."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InputError(f"kendall_tau: {name} must be 1-D, got shape {array.shape}")
    if np.isnan(array).any():
        raise InputError(f"kendall_tau: {name}[{int(np.argmax(np.isnan(array)))}] is NaN")
    return array


def _pair_signs(values: np.ndarray) -> np.ndarray:
    """(n, n) int8: sign(values[i] - values[j]), computed by comparison so that inf works."""
    return (values[:, None] > values[None, :]).astype(np.int8) - (values[:, None] < values[None, :])
