"""Bootstrap: how much E[S_m] and the ranking depend on the table itself.

B replicate tables (benchmarks resampled, or scores perturbed by their noise) are played
in one vmapped kernel call, N runs each, every replicate with its own random stream. What
each interval covers, and how well, is in `bootstrap`'s docstring, measured by
studies/bootstrap_coverage/bootstrap_coverage.py.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from csd._src import shards, streams
from csd._src.baselines import places
from csd._src.driver import check_run, prepare, replicate, run_engine
from csd._src.errors import InputError, check_choice, check_int
from csd._src.outcomes import ScoreOutcomes, has_ties, score_levels
from csd._src.results import BootstrapResult
from csd._src.rounds import fit_tiers
from csd._src.estimator import control_mean, control_stderr, mean_stderr, resolve, variance_reduction
from csd._src.frozen import warns_frozen
from csd._src.simulate import estimation, simulate
from csd._src.spec import Tournament, as_tournament
from csd._src.table import ScoreTable

SCHEMES = ("benchmarks", "noise")
_NORMAL = NormalDist()
INTERVALS = ("percentile", "shifted", "expanded")
DEFAULT_INTERVAL = {"benchmarks": "expanded", "noise": "shifted"}


@warns_frozen()
@shards.shardable
def bootstrap(
    table: ScoreTable,
    n_boot: int = 200,
    n_runs: int = 10_000,
    *,
    tournament: Tournament | None = None,
    scheme: str = "benchmarks",
    interval: str | None = None,
    tiers: Sequence[Sequence[str]] | None = None,
    score_stderr=None,
    n_items=None,
    coverage: float = 0.95,
    estimator: str = "cv",
    seed: int = 0,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    **rules,
) -> BootstrapResult:
    """Bootstrap intervals for E[S_m] and the ranks, and tiers of models.

    What the intervals cover, measured by studies/bootstrap_coverage/bootstrap_coverage.py
    (400 tables per setting from a known population, ability + N(0, 1) per cell; random
    pairing, T = 0, n_boot=200, n_runs=1000; every model's coverage pooled; Monte Carlo
    SE <= 0.009; numbers in studies/bootstrap_coverage/results/bootstrap_coverage.json):

    `benchmarks` targets the mean of E[S_m] over tables of the same shape whose benchmarks
    are drawn afresh from the population each tier stands for (as many per tier, tiers in
    order, in random order inside a tier). E[S_m] depends much on which benchmarks come
    first, and the replicates' mean averages over those orders, so it is nearer the
    target than the table's own E[S_m]: plain `percentile` intervals, centred there,
    over-cover (0.995 at nominal 0.90 with 6 models x 20 benchmarks), and with few
    benchmarks their spread is too small as well (0.861 with 12 x 8). The default
    `expanded` interval centres the replicates on the table's E[S_m] (as `shifted` does)
    and widens the tails for the K benchmarks resampled (Hesterberg's expanded
    percentile, see `expanded_tail`). Coverage at nominal 0.90 / 0.95:

      models x benchmarks    expanded        shifted         percentile
      6 x 8                  0.921 / 0.958   0.858 / 0.911   0.927 / 0.958
      12 x 8                 0.891 / 0.935   0.821 / 0.881   0.861 / 0.914
      6 x 20                 0.904 / 0.944   0.877 / 0.927   0.995 / 0.998

    `noise` targets E[S_m] averaged over re-measurements of the scores (each cell its true
    score plus N(0, se^2)), which is exactly E[S_m] under the win tensor
    P[i, j, k] = Phi((s_i - s_j) / sqrt(se_i^2 + se_j^2)) of the true scores s (the games of
    one run use disjoint cells), and which the table's own E[S_m] estimates without bias.
    A replicate adds the noise a second time, so the replicates centre on that tensor's
    E[S_m] for the observed scores, nearer the middle than the target; the default
    `shifted` interval moves them onto the table's E[S_m]. Coverage at 0.90 / 0.95:

      models x benchmarks, se    shifted         percentile
      6 x 8, se = 0.3            0.887 / 0.939   0.950 / 0.980
      6 x 8, se = 1.0            0.885 / 0.940   0.962 / 0.985
      12 x 8, se = 0.3           0.896 / 0.943   0.952 / 0.976

    (se = 1.0 is as large as the spread of true scores on a benchmark.) Neither interval
    is for E[S_m] of the noiseless table, which is not the target: shifted intervals
    cover it 0.815-0.851 of the time at 0.90, percentile ones 0.821-0.886.

    Rank intervals (of the target's rank) over-cover, being whole ranks: 0.93-0.98 at
    0.90 for the default intervals above.

    Args:
      table: a `ScoreTable`.
      n_boot: B, the replicate tables; n_runs: N, tournaments per replicate.
      scheme: `benchmarks` resamples benchmarks with replacement inside each tier, plays
        each tier's draws in random order and keeps the tiers in order; `noise` adds
        Gaussian noise of each cell's standard error to the scores.
      interval: `percentile`, the central `coverage` range of the replicates' E[S_m];
        `shifted`, that range moved by `expected_score - mean(replicates)`; `expanded`
        (`benchmarks` only), `shifted` with wider tails for resampling few benchmarks.
        Default: `expanded` for `benchmarks`, `shifted` for `noise` (see above). The rank
        intervals are taken from the same (shifted) replicates at the same tails; with
        `expanded` and few benchmarks the tails are small, so raise n_boot for 95%.
      tiers: groups of benchmark names in round order, covering every benchmark once
        (default: one tier of all, in column order). The rounds then follow the tiers, for
        the point estimate too; `benchmarks` resamples inside each tier.
      score_stderr: for `noise`, the score SEs: a number or an (M, K) array. Default: the
        table's own per-cell `stderr` (from a long table or lm-eval), if it has one.
      n_items: for `noise` without `score_stderr`: items per benchmark (an int or K ints),
        for the cells whose SE the table does not hold;
        the SE is then binomial, sqrt(p (1 - p) / n), with p the score as a fraction
        (scores on a 0-100 scale are read as percentages).
      coverage: the central probability of the intervals, in (0, 1).
      estimator: how each replicate's E[S_m] is estimated, as in `simulate`. With `cv` one
        set of weight tables is fitted on a pilot of `pilot_size(n_boot * n_runs)` runs
        spread over the replicates (each on a pilot stream of its own), and every
        replicate uses it with its own conditional means g_k: unbiased, as the tables are
        fixed before the replicates' runs, and one pilot instead of one per replicate.
        `result.variance_reduction` says what it gained; `mc_stderr` is then cv's.
      tournament, **rules: the rules every replicate plays, as in `simulate`.
      shard: (i, S) plays shard i of S of the runs of every replicate (and of the point
        estimate), as `simulate` does.
      n_runs, seed, chunk_size, progress: as in `simulate` (n_runs per replicate).

    Returns:
      A `BootstrapResult`.

    Raises:
      InputError: for a bad option, naming it.

    Example:
      >>> import csd
      >>> table = csd.load_table(csd.shipped_table("livebench"))
      >>> result = csd.bootstrap(table, n_boot=20, n_runs=500)
      >>> bool((result.ci_low <= result.ci_high).all())
      True
    """
    if not isinstance(table, ScoreTable):
        raise InputError(f"table: bootstrap needs a ScoreTable (it resamples or perturbs the scores), got {type(table).__name__}")
    check_choice("scheme", scheme, SCHEMES)
    interval = DEFAULT_INTERVAL[scheme] if interval is None else interval
    check_choice("interval", interval, INTERVALS)
    n_boot = check_int("n_boot", n_boot, 2)
    coverage = _coverage(coverage)
    tournament = as_tournament(tournament, rules)
    tier_columns = _tier_columns(table, tiers)
    if interval == "expanded" and scheme != "benchmarks":
        raise InputError("interval='expanded' is for scheme='benchmarks' (it corrects for resampling few benchmarks)")
    if scheme == "benchmarks" and len(tier_columns) == table.shape[1]:
        raise InputError(
            "scheme='benchmarks' needs a tier of at least 2 benchmarks (tiers: every tier has one, "
            "so resampling inside the tiers cannot change the table)"
        )
    round_order = np.concatenate(tier_columns)
    noise = _noise_stderr(table, score_stderr, n_items)[:, round_order] if scheme == "noise" else None
    table = table.with_benchmarks([table.benchmarks[k] for k in round_order])
    prepared = prepare(table, tournament)
    # The replicates' options and memory, checked before the point estimate runs a kernel.
    check_run(dataclasses.replace(prepared, n_replicates=n_boot), 1, n_runs=n_runs, seed=seed, chunk_size=chunk_size,
              progress=progress, cv=resolve(estimator, prepared.rules)[0] == "cv")
    point = simulate(table, tournament=tournament, n_runs=n_runs, seed=seed, chunk_size=chunk_size, estimator=estimator)
    generator = streams.host_generator(seed, streams.BOOTSTRAP_RESAMPLE)
    if scheme == "benchmarks":
        columns = resampled_columns(_tier_positions(tier_columns), n_boot, generator)
        replicate_scores = table.scores[:, columns].transpose(1, 0, 2)  # (B, M, K)
    else:
        replicate_scores = table.scores[None] + noise[None] * generator.standard_normal((n_boot,) + table.shape)
    schedules = prepared.schedules()
    outcomes, random_games = _replicate_outcomes(replicate_scores, tournament.tie, prepared.rules.n_models)
    replicated = replicate(prepared, outcomes, random_games or prepared.rules.random_games)
    how = estimation(replicated, schedules, estimator, n_runs, seed, chunk_size=chunk_size, progress=progress)
    totals = run_engine(
        replicated, schedules, n_runs=n_runs, seed=seed, stream=streams.replicate_streams(n_boot),
        chunk_size=chunk_size, progress=progress, tables=how.tables,
    )
    tick = prepared.ticks_per_point
    scores, mc, reduction = _replicate_estimates(totals, tick)
    max_score = prepared.rules.n_rounds * max(prepared.rules.win_ticks, prepared.rules.bye_ticks) / tick
    bounds = intervals(point.expected_score, scores, coverage, interval, max_score, table.shape[1], len(tier_columns))
    return BootstrapResult(
        models=table.models,
        expected_score=point.expected_score,
        stderr=point.stderr,
        **bounds,
        tiers=rank_tiers(point.expected_score, bounds["rank_low"], bounds["rank_high"]),
        replicate_scores=scores,
        mc_stderr=_root_mean_square(mc),
        interval=interval,
        coverage=coverage,
        n_boot=n_boot,
        n_runs=int(totals.n_runs[0]),
        scheme=scheme,
        tiers_used=_plain_tiers(tiers),
        n_items=_plain(n_items),
        point=point,
        estimator="plain" if how.tables is None else "cv",
        estimator_note=how.note,
        variance_reduction=reduction,
        pilot_runs=how.pilot_runs,
    )


def _replicate_estimates(totals, ticks_per_point: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each replicate's E[S_m] (B, M) and its Monte Carlo SE (B, M), from the cv scores
    where the runs carry them, and then the variance reduction (M,): the replicates' mean
    variance of the plain average over that of cv (else None)."""
    n_runs = totals.n_runs
    plain_stderr = mean_stderr(totals.score_sum[:, 0], totals.score_sq_sum[:, 0], n_runs) / ticks_per_point
    if totals.control is None:
        return totals.score_sum[:, 0] / n_runs[:, None] / ticks_per_point, plain_stderr, None
    stderr = control_stderr(totals.control, n_runs, ticks_per_point)[:, 0]
    reduction = variance_reduction(_root_mean_square(plain_stderr), _root_mean_square(stderr))
    return control_mean(totals.control, n_runs, ticks_per_point)[:, 0], stderr, reduction


def _root_mean_square(stderr: np.ndarray) -> np.ndarray:
    """(M,) the root-mean-square over the replicates of (B, M) standard errors."""
    return np.sqrt((stderr**2).mean(axis=0))


def intervals(
    expected_score: np.ndarray,
    replicate_scores: np.ndarray,
    coverage: float,
    interval: str,
    max_score: float | None,
    n_benchmarks: int | None = None,
    n_tiers: int = 1,
) -> dict:
    """The intervals of `bootstrap` from the point estimate (M,) and the replicates (B, M).

    Args:
      interval: `percentile`, `shifted` or `expanded` (as `bootstrap`); `expanded` needs
        `n_benchmarks` and `n_tiers` (see `expanded_tail`).
      max_score: the most points a model can score; intervals are kept inside [0, it]
        (None: not bounded, for scores of other methods).

    Returns:
      A dict of (M,) arrays: shift, ci_low, ci_high (float) and rank_low, rank_high (int):
      the central ranges of `replicate_scores + shift` and of the ranks in each shifted
      replicate, with shift 0 (`percentile`) or `expected_score - mean` (the others), and
      tails of (1 - coverage) / 2 each, or `expanded_tail` for `expanded`.
    """
    check_choice("interval", interval, INTERVALS)
    if interval == "percentile":
        shift = np.zeros_like(expected_score)
    else:
        shift = expected_score - replicate_scores.mean(axis=0)
    tail = expanded_tail(coverage, n_benchmarks, n_tiers) if interval == "expanded" else (1 - coverage) / 2
    moved = replicate_scores + shift
    ranks = np.stack([places(row) for row in moved])
    bounded = (lambda x: x) if max_score is None else (lambda x: np.clip(x, 0.0, max_score))
    return {
        "shift": shift,
        "ci_low": bounded(np.percentile(moved, 100 * tail, axis=0)),
        "ci_high": bounded(np.percentile(moved, 100 * (1 - tail), axis=0)),
        "rank_low": np.percentile(ranks, 100 * tail, axis=0, method="lower").astype(int),
        "rank_high": np.percentile(ranks, 100 * (1 - tail), axis=0, method="higher").astype(int),
    }


def resampled_columns(tiers: list[np.ndarray], n_boot: int, generator) -> np.ndarray:
    """(B, K) column indices: per replicate, each tier's columns drawn with replacement (in
    the order drawn, i.e. random), tiers in order."""
    return np.concatenate([generator.choice(tier, size=(n_boot, len(tier)), replace=True) for tier in tiers], axis=1)


def expanded_tail(coverage: float, n_benchmarks: int, n_tiers: int) -> float:
    """The tail probability `expanded` intervals use for each side: Hesterberg's expanded
    percentile, Phi(-sqrt(n / df) t_df(1 - alpha / 2)) with alpha = 1 - coverage, n the
    benchmarks and df = n - (tiers) their within-tier degrees of freedom. For the mean of
    one tier of n it turns the bootstrap's z-like interval with variance (n - 1) / n too
    small into the t interval; the tail shrinks as n grows towards (1 - coverage) / 2."""
    df = n_benchmarks - n_tiers
    tail = (1 - coverage) / 2
    return _NORMAL.cdf(-math.sqrt(n_benchmarks / df) * t_quantile(1 - tail, df))


def t_quantile(p: float, df: int) -> float:
    """The p quantile (p in (0.5, 1)) of Student's t with `df` >= 1 degrees of freedom:
    bisection on the exact CDF, or for df > 200 the Cornish-Fisher series in 1 / df
    (Abramowitz & Stegun 26.7.5; error far below 1e-9 there)."""
    if df > 200:
        z = _NORMAL.inv_cdf(p)
        terms = [(z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96,
                 (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
                 (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160]
        return z + sum(term / df ** (power + 1) for power, term in enumerate(terms))
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        low, high = high, 2 * high
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if _t_cdf(middle, df) < p else (low, middle)
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2


def _t_cdf(x: float, df: int) -> float:
    """P(T <= x) for x >= 0 and integer df >= 1 (Abramowitz & Stegun 26.7.3-4)."""
    angle = math.atan(x / math.sqrt(df))
    sin, cos2 = math.sin(angle), math.cos(angle) ** 2
    if df % 2:
        term, total = 1.0, 0.0
        for j in range(1, (df - 1) // 2 + 1):  # cos, (2/3) cos^3, (2*4)/(3*5) cos^5, ...
            total += term
            term *= cos2 * (2 * j) / (2 * j + 1)
        inside = (2 / math.pi) * (angle + sin * math.cos(angle) * total) if df > 1 else 2 * angle / math.pi
    else:
        term, total = 1.0, 0.0
        for j in range(1, df // 2 + 1):  # 1, (1/2) cos^2, (1*3)/(2*4) cos^4, ...
            total += term
            term *= cos2 * (2 * j - 1) / (2 * j)
        inside = sin * total
    return 0.5 + 0.5 * inside


def rank_tiers(expected_score: np.ndarray, rank_low: np.ndarray, rank_high: np.ndarray) -> np.ndarray:
    """(M,) int tiers, 1 = top: models in order of E[S]; the first model not yet placed
    opens a tier, which takes every later model whose rank interval overlaps the opener's
    (its best rank is at most the opener's worst rank). Tiers are contiguous in E[S] order."""
    order = np.lexsort((np.arange(len(expected_score)), -expected_score))
    tiers = np.zeros(len(order), dtype=int)
    tier, opener = 0, None
    for m in order:
        if opener is None or rank_low[m] > rank_high[opener]:
            tier, opener = tier + 1, m
        tiers[m] = tier
    return tiers


def _tier_columns(table: ScoreTable, tiers) -> list[np.ndarray]:
    """The column indices of each tier, checked to cover every benchmark exactly once
    (`rounds.fit_tiers`)."""
    if tiers is None:
        return [np.arange(table.shape[1])]
    index = {name: k for k, name in enumerate(table.benchmarks)}
    return [np.array([index[name] for name in names]) for names in fit_tiers(tiers, table).values()]


def _tier_positions(tier_columns: list[np.ndarray]) -> list[np.ndarray]:
    """The column positions of each tier once the columns are laid out tier by tier."""
    bounds = np.cumsum([0] + [len(tier) for tier in tier_columns])
    return [np.arange(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def _noise_stderr(table: ScoreTable, score_stderr, n_items) -> np.ndarray:
    """(M, K) standard errors of the scores for the `noise` scheme: `score_stderr`, else the
    table's own (`table.stderr`) with `n_items` filling the cells it does not know."""
    if score_stderr is not None:
        stderr = _broadcast("score_stderr", score_stderr, table.shape, "a number or an (M, K) array")
        if not np.all(np.isfinite(stderr[~np.isnan(table.scores)])) or (stderr < 0).any():
            raise InputError("score_stderr must be finite and >= 0")
        return stderr
    if table.stderr is not None:
        unknown = np.isnan(table.stderr) & ~np.isnan(table.scores)
        if not unknown.any():
            return np.nan_to_num(table.stderr)
        if n_items is None:
            m, k = np.argwhere(unknown)[0]
            raise InputError(
                f"scheme='noise': the table has no stderr for {int(unknown.sum())} cell(s), first model "
                f"{table.models[m]!r}, benchmark {table.benchmarks[k]!r}; give n_items or score_stderr"
            )
        return np.where(unknown, _binomial_stderr(table, n_items), np.nan_to_num(table.stderr))
    if n_items is None:
        raise InputError("scheme='noise' needs score_stderr (a number or an (M, K) array) or n_items (or a table with stderr)")
    return _binomial_stderr(table, n_items)


def _binomial_stderr(table: ScoreTable, n_items) -> np.ndarray:
    """(M, K) binomial standard errors sqrt(p (1 - p) / n) of the scores read as fractions."""
    items = _broadcast("n_items", n_items, (table.shape[1],), "an int or one int per benchmark")
    if not (np.isfinite(items) & (items >= 1)).all():
        raise InputError(f"n_items={_plain(n_items)!r} must be >= 1")
    scale = 100.0 if np.nanmax(table.scores) > 1 else 1.0
    p = np.clip(table.scores / scale, 0, 1)
    return scale * np.sqrt(p * (1 - p) / items[None, :])


def _broadcast(option: str, value, shape: tuple[int, ...], what: str) -> np.ndarray:
    """`value` as float64 broadcast to `shape`, or InputError naming `option`."""
    try:
        return np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
    except (TypeError, ValueError):
        given = np.shape(value) if not isinstance(value, str) else value
        raise InputError(f"{option}: expected {what} (shape {shape}), got {given!r}") from None


def _replicate_outcomes(scores: np.ndarray, tie: str, n_slots: int):
    """ScoreOutcomes with a leading replicate axis from (B, M, K) scores, padded to
    `n_slots` models, and whether any replicate has a coin-flip tie."""
    levels = np.full((scores.shape[0], scores.shape[2], n_slots), -1, dtype=np.int32)
    for b, replicate_scores in enumerate(scores):
        levels[b, :, : scores.shape[1]] = score_levels(replicate_scores)
    has_tie = any(has_ties(replicate[:, : scores.shape[1]]) for replicate in levels)
    tie_win = jnp.full(scores.shape[0], 0.5 if tie == "coin" else 0.0, jnp.float32)
    return ScoreOutcomes(jnp.asarray(levels), tie_win), has_tie and tie == "coin"


def _coverage(value) -> float:
    """`coverage` as a float in (0, 1), or InputError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"coverage={value!r} must be a number in (0, 1)") from None
    if not 0 < number < 1:
        raise InputError(f"coverage={value!r} must be in (0, 1)")
    return number


def _plain_tiers(tiers):
    """The tiers as lists of names (JSON-friendly), or None."""
    return None if tiers is None else [list(tier) for tier in tiers]


def _plain(value):
    """A JSON-friendly copy of an option value."""
    return np.asarray(value).tolist() if value is not None else None
