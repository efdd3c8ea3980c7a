"""Figures of CSD results, drawn with matplotlib.

Each function takes plain arrays (so any result can be drawn) and returns a matplotlib
`Figure`: a new one, or with `ax=` the figure of the axes it drew into, so figures
compose in a notebook (`fig, (a, b) = plt.subplots(1, 2)`, then `ax=a`, `ax=b`). With a
`path` it writes the figure instead, as a PNG (with `svg=True` also an SVG;
`formats=["png", "pdf", "svg"]` any of those), and returns the paths written; `save`
writes a Figure you have. The results' `.plot(kind=...)` methods call these functions.
`import csd` does not import this module until `csd.plots` is first used,
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
    save,
)

__all__ = [
    "plot_bootstrap",
    "plot_bump",
    "plot_expected_scores",
    "plot_rank_heatmap",
    "plot_risk_profile",
    "plot_survival",
    "plot_win_probabilities",
    "save",
]
