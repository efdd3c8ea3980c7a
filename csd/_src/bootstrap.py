"""Bootstrap: how much E[S_m] and the ranking depend on the table itself.

B replicate tables (benchmarks resampled, or scores perturbed by their noise) are played
in one vmapped kernel call, N runs each, every replicate with its own random stream.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from csd._src.driver import build_tournament, elimination_schedules, replicate, run_engine
from csd._src.errors import InputError, check_choice, check_int
from csd._src.outcomes import ScoreOutcomes, has_ties, score_levels
from csd._src.simulate import _places, mean_stderr, simulate
from csd._src.table import ScoreTable

SCHEMES = ("benchmarks", "noise")


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """Percentile intervals for E[S_m] and each model's rank over B replicate tables.

    Attributes:
      models: (M,) names.
      expected_score, stderr: (M,) E[S_m] on the table itself and its Monte Carlo SE.
      ci_low, ci_high: (M,) the central `coverage` percentile interval of E[S_m] over
        the replicates.
      rank_low, rank_high: (M,) int, the same for the model's rank (1 = best) by E[S].
      tiers: (M,) int, 1 = top: see `rank_tiers`.
      replicate_scores: (B, M) E[S_m] in each replicate.
      mc_stderr: (M,) root-mean-square Monte Carlo SE inside a replicate; it is part of
        the replicates' spread, so keep it well below the interval widths (raise n_runs).
      coverage, n_boot, n_runs, config: the settings.
    """

    models: tuple[str, ...]
    expected_score: np.ndarray
    stderr: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    tiers: np.ndarray
    replicate_scores: np.ndarray
    mc_stderr: np.ndarray
    coverage: float
    n_boot: int
    n_runs: int
    config: dict

    def format_table(self, top: int | None = None) -> str:
        """Models by E[S]: tier, E[S], its interval and the rank interval."""
        order = np.lexsort((np.arange(len(self.models)), -self.expected_score))[:top]
        width = max(len("model"), *(len(self.models[m]) for m in order))
        percent = f"{100 * self.coverage:g}%"
        lines = [f"{'tier':>4}  {'model':<{width}}  {'E[S]':>8}  {percent + ' interval':>19}  {'rank':>9}"]
        for m in order:
            interval = f"[{self.ci_low[m]:.3f}, {self.ci_high[m]:.3f}]"
            ranks = f"{self.rank_low[m]}-{self.rank_high[m]}"
            lines.append(f"{self.tiers[m]:>4}  {self.models[m]:<{width}}  {self.expected_score[m]:>8.3f}  {interval:>19}  {ranks:>9}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON."""
        arrays = "expected_score stderr ci_low ci_high rank_low rank_high tiers mc_stderr".split()
        return {
            "models": list(self.models),
            **{name: getattr(self, name).tolist() for name in arrays},
            "rank": _places(self.expected_score).tolist(),
            "replicate_scores": self.replicate_scores.tolist(),
            "coverage": self.coverage,
            "n_boot": self.n_boot,
            "n_runs": self.n_runs,
            "config": self.config,
        }


def bootstrap(
    table: ScoreTable,
    n_boot: int = 200,
    n_runs: int = 10_000,
    *,
    scheme: str = "benchmarks",
    tiers: Sequence[Sequence[str]] | None = None,
    score_stderr=None,
    n_items=None,
    coverage: float = 0.95,
    elimination=0,
    pairing: str = "random",
    tie: str = "coin",
    bye_points: float = 0.0,
    draw_points: float = 0.5,
    min_active: int = 1,
    bye: str | None = None,
    bye_once: bool = False,
    avoid_rematch: bool = False,
    seed: int = 0,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BootstrapResult:
    """Bootstrap intervals for E[S_m] and the ranks, and tiers of models.

    Args:
      table: a `ScoreTable`.
      n_boot: B, the replicate tables; n_runs: N, tournaments per replicate.
      scheme: `benchmarks` resamples benchmarks with replacement inside each tier and
        keeps the tiers in order (inside a tier the draws keep the table's column order);
        `noise` adds Gaussian noise of each cell's standard error to the scores.
      tiers: for `benchmarks`, groups of benchmark names in round order, covering every
        benchmark once (default: one tier of all, in column order). The rounds then follow
        the tiers, for the point estimate too.
      score_stderr: for `noise`, the score SEs: a number or an (M, K) array.
      n_items: for `noise` without `score_stderr`: items per benchmark (an int or K ints);
        the SE is then binomial, sqrt(p (1 - p) / n), with p the score as a fraction
        (scores on a 0-100 scale are read as percentages).
      coverage: the central probability of the percentile intervals.
      The other options are those of `simulate`.

    Returns:
      A `BootstrapResult`.

    Example:
      >>> import csd
      >>> table = csd.load_table(csd.shipped_table("livebench"))
      >>> result = csd.bootstrap(table, n_boot=20, n_runs=500)
      >>> bool((result.ci_low <= result.ci_high).all())
      True
    """
    if not isinstance(table, ScoreTable):
        raise InputError("bootstrap needs a ScoreTable (it resamples or perturbs the scores)")
    check_choice("scheme", scheme, SCHEMES)
    n_boot = check_int("n_boot", n_boot, 2)
    if not 0 < coverage < 1:
        raise InputError(f"coverage={coverage!r} must be in (0, 1)")
    options = dict(
        pairing=pairing,
        tie=tie,
        bye_points=bye_points,
        draw_points=draw_points,
        min_active=min_active,
        bye=bye,
        bye_once=bye_once,
        avoid_rematch=avoid_rematch,
    )
    tier_columns = _tier_columns(table, tiers)
    round_order = np.concatenate(tier_columns)
    noise = _noise_stderr(table, score_stderr, n_items)[:, round_order] if scheme == "noise" else None
    table = table.with_benchmarks([table.benchmarks[k] for k in round_order])
    point = simulate(table, n_runs=n_runs, elimination=elimination, seed=seed, chunk_size=chunk_size, **options)
    generator = np.random.default_rng([seed, 1])
    if scheme == "benchmarks":
        columns = resampled_columns(_tier_positions(tier_columns), n_boot, generator)
        replicate_scores = table.scores[:, columns].transpose(1, 0, 2)  # (B, M, K)
    else:
        replicate_scores = table.scores[None] + noise[None] * generator.standard_normal((n_boot,) + table.shape)
    tournament = build_tournament(table, **options)
    outcomes, random_games = _replicate_outcomes(replicate_scores, tie, tournament.rules.n_models)
    replicated = replicate(tournament, outcomes, random_games or tournament.rules.random_games)
    schedules = elimination_schedules([elimination], tournament.rules.n_rounds)
    totals = run_engine(
        replicated, schedules, n_runs=n_runs, seed=seed, stream=np.arange(1, n_boot + 1),
        chunk_size=chunk_size, progress=progress,
    )
    scores = totals.score_sum[:, 0] / totals.n_runs[:, None] / tournament.ticks_per_point  # (B, M)
    mc = mean_stderr(totals.score_sum[:, 0], totals.score_sq_sum[:, 0], totals.n_runs) / tournament.ticks_per_point
    ranks = np.stack([_places(row) for row in scores])
    tail = 100 * (1 - coverage) / 2
    rank_low = np.percentile(ranks, tail, axis=0, method="lower").astype(int)
    rank_high = np.percentile(ranks, 100 - tail, axis=0, method="higher").astype(int)
    config = {**point.config, "scheme": scheme, "tiers": tiers, "n_items": _plain(n_items), "coverage": coverage}
    return BootstrapResult(
        models=table.models,
        expected_score=point.expected_score,
        stderr=point.stderr,
        ci_low=np.percentile(scores, tail, axis=0),
        ci_high=np.percentile(scores, 100 - tail, axis=0),
        rank_low=rank_low,
        rank_high=rank_high,
        tiers=rank_tiers(point.expected_score, rank_low, rank_high),
        replicate_scores=scores,
        mc_stderr=np.sqrt((mc**2).mean(axis=0)),
        coverage=coverage,
        n_boot=n_boot,
        n_runs=int(totals.n_runs[0]),
        config=config,
    )


def resampled_columns(tiers: list[np.ndarray], n_boot: int, generator) -> np.ndarray:
    """(B, K) column indices: per replicate, each tier's columns drawn with replacement,
    sorted, tiers in order."""
    draws = [np.sort(generator.choice(tier, size=(n_boot, len(tier)), replace=True), axis=1) for tier in tiers]
    return np.concatenate(draws, axis=1)


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
    """The column indices of each tier, checked to cover every benchmark exactly once."""
    if tiers is None:
        return [np.arange(table.shape[1])]
    index = {name: k for k, name in enumerate(table.benchmarks)}
    named = [name for tier in tiers for name in tier]
    unknown = sorted(set(named) - set(index))
    if unknown:
        raise InputError(f"tiers: unknown benchmark(s) {unknown}; the table has {list(table.benchmarks)}")
    if sorted(named) != sorted(index):
        repeated = sorted({n for n in named if named.count(n) > 1})
        left_out = sorted(set(index) - set(named))
        raise InputError(f"tiers must name every benchmark once (repeated: {repeated}, left out: {left_out})")
    return [np.array([index[name] for name in tier]) for tier in tiers if len(tier)]


def _tier_positions(tier_columns: list[np.ndarray]) -> list[np.ndarray]:
    """The column positions of each tier once the columns are laid out tier by tier."""
    bounds = np.cumsum([0] + [len(tier) for tier in tier_columns])
    return [np.arange(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def _noise_stderr(table: ScoreTable, score_stderr, n_items) -> np.ndarray:
    """(M, K) standard errors of the scores for the `noise` scheme."""
    if score_stderr is not None:
        stderr = np.broadcast_to(np.asarray(score_stderr, dtype=float), table.shape)
    elif n_items is not None:
        items = np.broadcast_to(np.asarray(n_items, dtype=float), (table.shape[1],))
        if (items < 1).any():
            raise InputError(f"n_items={_plain(n_items)!r} must be >= 1")
        scale = 100.0 if np.nanmax(table.scores) > 1 else 1.0
        p = np.clip(table.scores / scale, 0, 1)
        stderr = scale * np.sqrt(p * (1 - p) / items[None, :])
    else:
        raise InputError("scheme='noise' needs score_stderr (a number or an (M, K) array) or n_items")
    if not np.all(np.isfinite(stderr[~np.isnan(table.scores)])) or (stderr < 0).any():
        raise InputError("score_stderr must be finite and >= 0")
    return stderr


def _replicate_outcomes(scores: np.ndarray, tie: str, n_slots: int):
    """ScoreOutcomes with a leading replicate axis from (B, M, K) scores, padded to
    `n_slots` models, and whether any replicate has a coin-flip tie."""
    levels = np.full((scores.shape[0], scores.shape[2], n_slots), -1, dtype=np.int32)
    for b, replicate_scores in enumerate(scores):
        levels[b, :, : scores.shape[1]] = score_levels(replicate_scores)
    has_tie = any(has_ties(replicate[:, : scores.shape[1]]) for replicate in levels)
    tie_win = jnp.full(scores.shape[0], 0.5 if tie == "coin" else 0.0, jnp.float32)
    return ScoreOutcomes(jnp.asarray(levels), tie_win), has_tie and tie == "coin"


def _plain(value):
    """A JSON-friendly copy of an option value."""
    return np.asarray(value).tolist() if value is not None else None
