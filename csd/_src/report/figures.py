"""The report's seven figures, drawn with `csd/_src/plots.py` from an `Analysis`.

matplotlib is imported only when a figure is drawn, so `import csd` stays light.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from csd._src.baselines import places
from csd._src.report.analysis import Analysis, merged_ranks, notable_models
from csd._src.sweep import MIN_PROFILE_MODELS


@dataclasses.dataclass(frozen=True)
class Figure:
    """A PNG of the report: its file name in the output folder and its title."""

    file: str
    title: str


def figures(a: Analysis) -> list[Figure]:
    """The report's figures, in report order."""
    return [
        Figure("risk_profile.png", "Failure sensitivity (the paper's drop plot)"),
        Figure("expected_scores.png", "Expected win score under each elimination schedule"),
        Figure("survival.png", f"Survival under {a.fsa.labels[-1]}"),
        Figure("rank_heatmap.png", "Distribution of the final rank (T=0)"),
        Figure("bootstrap.png", "Bootstrap intervals and tiers"),
        Figure("bump.png", "CSD next to the static rankings"),
        Figure("round_orders.png", "The ranking under other round orders (T=0)"),
    ]


def draw_figures(a: Analysis, out_dir: Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Writes every figure of `figures(a)` into `out_dir`, in each of `formats` (each file
    atomically); returns their paths."""
    from csd._src import plots

    fsa, ranking, boot = a.fsa, a.ranking, a.boot
    models = list(ranking.models)
    notable = notable_models(a)
    order_ranks = {"used": places(ranking.expected_score)}
    order_ranks.update({name: places(other.expected_score) for name, other in a.orders.items()})
    draw = {
        "risk_profile.png": lambda path: plots.plot_risk_profile(
            models, fsa.expected_score[0], fsa.drop[-1], path, formats=formats, drop_stderr=fsa.drop_stderr[-1],
            labels=notable,
            profiles=fsa.risk_profile if len(models) >= MIN_PROFILE_MODELS else None, schedule=fsa.labels[-1],
            trend=fsa.risk_trend),
        "expected_scores.png": lambda path: plots.plot_expected_scores(
            models, list(fsa.labels), fsa.expected_score, fsa.stderr, path, formats=formats),
        "survival.png": lambda path: plots.plot_survival(
            models, list(ranking.rounds), fsa.results[-1].survival, path, formats=formats, models_shown=notable),
        "rank_heatmap.png": lambda path: plots.plot_rank_heatmap(
            models, ranking.rank_probs, path, formats=formats, scores=ranking.expected_score),
        "bootstrap.png": lambda path: plots.plot_bootstrap(
            models, ranking.expected_score, boot.ci_low, boot.ci_high, path, formats=formats, tiers=boot.tiers,
            rank_low=boot.rank_low, rank_high=boot.rank_high,
            xlabel=f"E[S | T=0] (dot) and its {100 * boot.coverage:g}% bootstrap interval over "
                   f"{boot.n_boot} resampled tables (bar)",
            title="Bootstrap intervals (benchmarks resampled) and tiers"),
        "bump.png": lambda path: plots.plot_bump(
            models, merged_ranks(a.comparison.ranks), path, formats=formats,
            title="Rank of each model: CSD and the static methods"),
        "round_orders.png": lambda path: plots.plot_bump(
            models, order_ranks, path, formats=formats, xlabel="round order",
            title="Rank of each model (CSD, T = 0) under other round orders"),
    }
    return [Path(p) for figure in figures(a) for p in draw[figure.file](out_dir / figure.file)]


def interactive_figures(a: Analysis) -> dict[str, dict]:
    """{file: the Plotly figure of report.html} of the figures of `figures(a)`."""
    from csd._src.report import interactive

    fsa, ranking, boot = a.fsa, a.ranking, a.boot
    models = list(ranking.models)
    shown = [models.index(name) for name in notable_models(a)]
    order_ranks = {"used": places(ranking.expected_score)}
    order_ranks.update({name: places(other.expected_score) for name, other in a.orders.items()})
    return {
        "risk_profile.png": interactive.risk_profile(models, fsa.expected_score[0], fsa.drop[-1], fsa.drop_stderr[-1],
                                                     fsa.risk_profile if len(models) >= MIN_PROFILE_MODELS else None,
                                                     fsa.risk_trend, fsa.labels[-1]),
        "expected_scores.png": interactive.expected_scores(models, list(fsa.labels), fsa.expected_score, fsa.stderr),
        "survival.png": interactive.survival(models, list(ranking.rounds), fsa.results[-1].survival, shown),
        "rank_heatmap.png": interactive.rank_distribution(models, ranking.rank_probs, ranking.expected_score),
        "bootstrap.png": interactive.bootstrap(models, ranking.expected_score, boot.ci_low, boot.ci_high, boot.tiers,
                                               boot.rank_low, boot.rank_high, boot.coverage),
        "bump.png": interactive.bump(models, merged_ranks(a.comparison.ranks),
                                     "Rank of each model: CSD and the static methods", "method"),
        "round_orders.png": interactive.bump(models, order_ranks, "Rank of each model (CSD, T = 0) under other round orders",
                                             "round order"),
    }
