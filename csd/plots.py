"""Figures of CSD results, drawn with matplotlib.

Each function takes plain arrays (so any result can be drawn), writes a PNG (with
`svg=True` also an SVG; `formats=["png", "pdf", "svg"]` any of those), and returns the
paths written. `import csd` does not import this module until `csd.plots` is first used,
so scripts that draw nothing do not pay for importing matplotlib.
"""

from csd._src.plots import (
    plot_bootstrap,
    plot_bump,
    plot_expected_scores,
    plot_rank_heatmap,
    plot_risk_profile,
    plot_survival,
    plot_win_probabilities,
)

__all__ = [
    "plot_bootstrap",
    "plot_bump",
    "plot_expected_scores",
    "plot_rank_heatmap",
    "plot_risk_profile",
    "plot_survival",
    "plot_win_probabilities",
]
