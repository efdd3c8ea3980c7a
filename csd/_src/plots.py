"""Figures of CSD results from plain arrays: each function returns a matplotlib `Figure`
(drawn into a given `ax=` or a new one), or writes PNG (SVG, PDF) files with `path=`.

Figures are built on `matplotlib.figure.Figure` directly, never through pyplot: no
backend is selected or changed, no window opens, and a figure is released as soon as the
function returns (pyplot never holds it). Every file is written to a temporary name in
its directory and then renamed, so a reader never sees a half-written figure.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from csd._src.errors import InputError, check_int
from csd._src.outputs import value_range

from matplotlib import colormaps, rc_context, rcParams
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator

DPI = 150
FORMATS = ("png", "pdf", "svg")  # the file formats a figure can be written in
PLOT_TOP = 40  # the most models a per-model figure draws by default, so its size is bounded
_INCHES_PER_MODEL = 0.22  # row height of a per-model axis: 65 models fit on one page
TOP_MODELS = 15  # models drawn in colour and named by default where M lines would not be readable
# The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"): eight colours that
# stay apart under the common colour-vision deficiencies. Lines beyond eight repeat them
# with the next line style and marker.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#F0E442")
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")
# Fonts with CJK glyphs, tried after the default font (matplotlib falls back glyph by
# glyph): whichever of these is installed draws CJK model names.
CJK_FONTS = (
    "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "Noto Sans SC", "Noto Sans JP",
    "Source Han Sans", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
    "IPAGothic", "IPAexGothic", "Microsoft YaHei", "SimHei", "MS Gothic", "PingFang SC", "Hiragino Sans",
    "Apple SD Gothic Neo", "Malgun Gothic", "Arial Unicode MS",
)
_MISSING_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")


def line_styles(n_lines: int) -> list[tuple[str, str, str]]:
    """(colour, line style, marker) for each of `n_lines` lines: the `OKABE_ITO` colours in
    turn, the first eight with solid lines and circles, the next eight dashed with squares,
    and so on, so no two of the first 32 lines look alike."""
    return [(OKABE_ITO[i % 8], LINE_STYLES[i // 8 % 4], MARKERS[i // 8 % 4]) for i in range(n_lines)]


@functools.cache
def _installed_cjk_fonts() -> tuple[str, ...]:
    """The `CJK_FONTS` that matplotlib finds on this machine."""
    installed = {font.name for font in fontManager.ttflist}
    return tuple(name for name in CJK_FONTS if name in installed)


def _fonts_and_glyphs(draw):
    """Draws with the installed CJK fonts as fallbacks of the default font, and turns
    matplotlib's missing-glyph warnings (one per character) into one warning that names
    the characters; other warnings pass through as they were."""

    @functools.wraps(draw)
    def drawing(*args, **kwargs):
        families = [*rcParams["font.family"], *_installed_cjk_fonts()]
        try:
            with warnings.catch_warnings(record=True) as caught, rc_context({"font.family": families}):
                warnings.simplefilter("always")
                return draw(*args, **kwargs)
        finally:
            _pass_on(caught)

    return drawing


def _pass_on(caught) -> None:
    """Warns again each of the `caught` warnings but the missing-glyph ones, and one
    warning for all of those."""
    missing: dict[str, None] = {}
    for warning in caught:
        found = _MISSING_GLYPH.search(str(warning.message))
        if found:
            missing[chr(int(found.group(1)))] = None
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if missing:
        characters = ", ".join(list(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        warnings.warn(f"{len(missing)} characters of the figure's text are in no installed font and are drawn as "
                      f"boxes ({characters}); install a font that has them (for CJK names: Noto Sans CJK)",
                      UserWarning, stacklevel=3)


@_fonts_and_glyphs
def plot_risk_profile(
    models: Sequence[str],
    base_score,
    drop,
    path=None,
    drop_stderr=None,
    labels: Sequence[str] | None = None,
    *,
    profiles: Sequence[str] | None = None,
    schedule: str = "T",
    trend=None,
    svg: bool = False,
    formats: Sequence[str] | None = None,
    ax=None,
) -> Figure | list[str]:
    """Failure sensitivity: each model's drop E[S | T] - E[S | T=0] against E[S | T=0].

    Args:
      models: (M,) names.
      base_score: (M,) E[S | T=0].
      drop: (M,) E[S | T] - E[S | T=0] (usually <= 0).
      path: the figure's file, or None (the default): nothing is written and the Figure
        is returned (`save` writes it later); its suffix is replaced by each format's
        (`.png`, ...).
      drop_stderr: (M,) standard errors of `drop`, drawn as error bars, or None.
      labels: the models to name next to their point; default all.
      profiles: (M,) a risk profile per model (`SweepResult.risk_profile`): the points
        are coloured by profile, with a legend that counts each; default one colour.
      schedule: how the compared schedule is called in the labels, e.g. "T=2".
      trend: (M,) the drop each model's peers predict for it (`SweepResult.risk_trend`,
        what the profiles are measured against), drawn as a smooth line (`_smoothed`:
        each model's peers give a line of their own, and joining those values zig-zags);
        default none.
      svg: also write an SVG.
      formats: the formats to write, from `FORMATS` (e.g. ["png", "pdf", "svg"]);
        default PNG (and SVG with `svg`).
      ax: a matplotlib `Axes` to draw into (its figure keeps its size and layout), or
        None: a new `Figure` of a size that fits the content.

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_risk_profile(["a", "b"], [9.0, 8.0], [-0.5, -2.0],
      ...                                         os.path.join(folder, "risk"), svg=True,
      ...                                         profiles=["in between", "aggressive specialist"])
      >>> [os.path.basename(p) for p in paths]
      ['risk.png', 'risk.svg']
    """
    names = _names(models)
    base_score = _array("base_score", base_score, (len(names),))
    drop = _array("drop", drop, (len(names),))
    error = None if drop_stderr is None else _array("drop_stderr", drop_stderr, (len(names),))
    named = set(names) if labels is None else set(labels)
    unknown = sorted(named - set(names))
    if unknown:
        raise InputError(f"labels {unknown} are not among the models: {', '.join(names)}")
    groups = _profile_groups(profiles, len(names))
    figure, axes = _canvas(ax, (10, 7))
    for profile, members, color in groups:
        label = "model" if profiles is None else f"{profile} ({len(members)})"
        if error is not None and profiles is None:
            label += " (±1 SE)"
        axes.errorbar(base_score[members], drop[members], yerr=None if error is None else error[members],
                      fmt="o", markersize=4, capsize=2, elinewidth=0.8, color=color, label=label,
                      zorder=2 if profile == _NEUTRAL_PROFILE else 3)
    handles = axes.get_legend_handles_labels()[0]
    if trend is not None:
        trend = _array("trend", trend, (len(names),))
        handles += axes.plot(*_smoothed(base_score, trend), color="black", linewidth=1.0, alpha=0.7, zorder=1,
                             label="peers' trend, smoothed" + ("" if profiles is None else
                                                               " (what the profiles are measured against)"))
    handles.append(axes.axhline(0.0, color="grey", linewidth=0.8, linestyle="--", label="no drop"))
    shown = [m for m, name in enumerate(names) if name in named]
    offsets = _label_offsets(axes, base_score, drop, shown, [names[m] for m in shown])
    for m, (dx, dy, ha) in zip(shown, offsets):
        axes.annotate(names[m], (base_score[m], drop[m]), xytext=(dx, dy), textcoords="offset points",
                      fontsize=6, zorder=4, ha=ha, va="center",
                      arrowprops=None if dy == 0 else dict(arrowstyle="-", color="0.5", linewidth=0.5))
    axes.set_xlabel("E[S | T=0] (expected win score without elimination)")
    ylabel = f"E[S | {schedule}] − E[S | T=0]"
    axes.set_ylabel(ylabel if error is None or profiles is None else ylabel + " (±1 SE)")
    axes.set_title(f"Failure sensitivity: score drop under {schedule}")
    axes.legend(handles=handles, loc="lower left")
    axes.grid(alpha=0.3)
    return _finish(figure, path, svg, formats)


def _smoothed(x: np.ndarray, y: np.ndarray, points: int = 200, share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """A LOWESS curve through (x, y) for drawing: at `points` x values across the range, a
    straight line fitted by weighted least squares to the `share` of the points nearest
    in x (at least 3), tricube weights by distance. Returns (xs, ys), each (points,);
    one point when every x is equal."""
    if np.ptp(x) == 0:
        return x[:1], np.array([y.mean()])
    xs = np.linspace(x.min(), x.max(), points)
    distance = np.abs(x[None, :] - xs[:, None])  # (points, M)
    nearest = min(len(x), max(3, int(np.ceil(share * len(x)))))
    reach = np.maximum(np.sort(distance, axis=1)[:, nearest - 1], 1e-12 * np.ptp(x))[:, None]
    weight = np.clip(1 - (distance / (1.0001 * reach)) ** 3, 0, None) ** 3  # (points, M)
    total = weight.sum(axis=1)
    mean_x, mean_y = (weight @ x) / total, (weight @ y) / total
    spread = (weight * (x[None, :] - mean_x[:, None]) ** 2).sum(axis=1)
    slope = np.divide((weight * (x[None, :] - mean_x[:, None]) * y[None, :]).sum(axis=1), spread,
                      out=np.zeros(points), where=spread > 0)
    return xs, mean_y + slope * (xs - mean_x)


def _label_offsets(axes, x, y, shown, texts, fontsize: float = 6.0) -> list[tuple[float, float, str]]:
    """(dx, dy, ha) in points for labels of the points `shown` among all (x, y), kept
    apart: each label goes right of its point, else left, else a line lower or higher, and
    so on, the topmost points first; a place that covers another label is skipped, and so
    is one that covers another point or leaves the axes while there is a better one.
    Positions come from the axes' size after the layout and its limits; a label's width is
    estimated from its length."""
    figure = axes.get_figure()
    figure.draw_without_rendering()  # the layout: the axes' final size
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    width, height = axes.get_position().size * figure.get_size_inches() * 72  # points
    px = (np.asarray(x) - x0) / (x1 - x0) * width  # (M,)
    py = (np.asarray(y) - y0) / (y1 - y0) * height
    line, gap, dot = 1.3 * fontsize, 4.0, 3.0
    placed: list[tuple[float, float, float]] = []  # (left, right, centre y) of the labels so far
    offsets: list[tuple[float, float, str]] = []
    candidates = [(step, side) for step in (0, *[s * k for k in range(1, 9) for s in (-1, 1)]) for side in (1, -1)]

    def free(m, left, right, centre, level):
        """Level 0: clear of labels, points and the axes' edges; 1: of labels and points;
        2: of labels."""
        if any(right >= a and left <= b and abs(centre - c) < line for a, b, c in placed):
            return False
        if level == 0 and (left < 0 or right > width or not line / 2 <= centre <= height - line / 2):
            return False  # (partly) outside the axes
        if level == 2:
            return True
        near = (px >= left - dot) & (px <= right + dot) & (np.abs(py - centre) < line / 2 + dot)
        near[m] = False
        return not near.any()

    chosen = {}
    for i in sorted(range(len(shown)), key=lambda i: (-py[shown[i]], px[shown[i]])):
        m, length = shown[i], 0.6 * fontsize * len(texts[i])
        place = (0, 1)  # no free place near: overlap, but beside the point
        for level in (0, 1, 2):
            found = next((c for c in candidates if free(m, *_span_of(px[m], gap, length, c[1]),
                                                         py[m] + c[0] * line, level)), None)
            if found is not None:
                place = found
                break
        step, side = place
        placed.append((*_span_of(px[m], gap, length, side), py[m] + step * line))
        chosen[i] = (side * gap, step * line, "left" if side > 0 else "right")
    offsets = [chosen[i] for i in range(len(shown))]
    return offsets


def _span_of(x: float, gap: float, length: float, side: int) -> tuple[float, float]:
    """(left, right) of a label `length` long, `gap` right (side 1) or left (-1) of x."""
    return (x + gap, x + gap + length) if side > 0 else (x - gap - length, x - gap)


# Colours of the risk profiles of `csd.sweep`; other labels get the next tab10 colours.
_PROFILE_COLORS = {
    "robust generalist": "#1b9e77",
    "in between": "#9a9a9a",
    "aggressive specialist": "#d95f02",
}
_NEUTRAL_PROFILE = "in between"


def _profile_groups(profiles, n_models: int) -> list[tuple[str | None, np.ndarray, object]]:
    """[(profile, member indices, colour)] in a fixed order (the sweep's profiles first,
    then others as they first appear); one group of everything without profiles."""
    if profiles is None:
        return [(None, np.arange(n_models), "C0")]
    labels = [str(p) for p in profiles]
    if len(labels) != n_models:
        raise InputError(f"profiles has {len(labels)} labels, expected {n_models} (one per model)")
    known = [p for p in _PROFILE_COLORS if p in labels]
    others = [p for p in dict.fromkeys(labels) if p not in _PROFILE_COLORS]
    spare = iter(colormaps["tab10"](np.arange(10)))
    groups = []
    for profile in known + others:
        color = _PROFILE_COLORS.get(profile) or next(spare, "black")
        groups.append((profile, np.flatnonzero([p == profile for p in labels]), color))
    return groups


@_fonts_and_glyphs
def plot_expected_scores(
    models: Sequence[str],
    schedule_names: Sequence[str],
    expected,
    stderr,
    path=None,
    *,
    top: int | None = None,
    svg: bool = False,
    formats: Sequence[str] | None = None,
    ax=None,
) -> Figure | list[str]:
    """Expected win score of each model under each schedule, with ±1 SE error bars,
    models sorted by the first schedule (best at the top). With more than `top` models,
    the `top` best are drawn and the title gives the range of the others, so the figure's
    size does not grow with M.

    Args:
      models: (M,) names.
      schedule_names: (S,) a label per schedule, e.g. ["T=0", "T=1", "T=2"].
      expected: (S, M) E[S] per schedule and model.
      stderr: (S, M) its Monte Carlo standard errors.
      top: the most models drawn (default `PLOT_TOP`).
      path, svg, formats, ax: as in `plot_risk_profile`.

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_expected_scores(["a", "b"], ["T=0", "T=1"],
      ...         [[2.0, 1.0], [1.5, 0.5]], [[0.01, 0.01], [0.02, 0.02]],
      ...         os.path.join(folder, "scores.png"))
      >>> [os.path.basename(p) for p in paths]
      ['scores.png']
    """
    names = _names(models)
    schedules = [str(s) for s in schedule_names]
    expected = _array("expected", expected, (len(schedules), len(names)))
    stderr = _array("stderr", stderr, (len(schedules), len(names)))
    order, scope = _top_rows(_best_first(expected[0]), top, expected[0], "E[S]")
    rows = np.arange(len(order))[::-1]  # the best model on the top row
    offsets = (np.arange(len(schedules)) - (len(schedules) - 1) / 2) * 0.6 / len(schedules)
    figure, axes = _canvas(ax, (9, _models_height(len(order))))
    for s, label in enumerate(schedules):
        axes.errorbar(expected[s, order], rows + offsets[s], xerr=stderr[s, order], fmt="o",
                      markersize=3.5, capsize=2, elinewidth=0.8, label=label)
    _model_ticks(axes.set_yticks, rows, [names[m] for m in order])
    axes.set_ylim(-1, len(order))
    axes.set_xlabel("expected win score E[S] (±1 SE)")
    axes.set_ylabel("model")
    axes.set_title(f"Expected win score by schedule (sorted by {schedules[0]}){scope}")
    axes.legend(title="schedule", loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return _finish(figure, path, svg, formats)


@_fonts_and_glyphs
def plot_rank_heatmap(
    models: Sequence[str], rank_probs, path=None, *, top: int | None = None, scores=None, svg: bool = False,
    formats: Sequence[str] | None = None, ax=None,
) -> Figure | list[str]:
    """Heatmap of P(model finishes at rank r), models sorted by `scores` (the ranking's
    order, as its table shows it) or else by expected rank. The rank axis is labelled at
    integer steps (about ten) and at the last column.

    With more than `top` models, only the `top` best by expected rank get a row and a
    rank column each; one last column holds P(rank > top), so the figure's size does not
    grow with the table.

    Args:
      models: (M,) names.
      rank_probs: (M, M) [m, r] = P(model m finishes at rank r + 1).
      scores: (M,) what the rows are sorted by, higher first, ties in input order (e.g.
        `SimulationResult.expected_score`); default the expected rank, lower first.
      path, svg, formats, ax: as in `plot_risk_profile`.
      top: the most models (rows) and ranks (columns) drawn (default `PLOT_TOP`).

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_rank_heatmap(["a", "b"], [[0.7, 0.3], [0.3, 0.7]],
      ...                                         os.path.join(folder, "ranks"))
      >>> [os.path.basename(p) for p in paths]
      ['ranks.png']
    """
    names = _names(models)
    n_models = len(names)
    rank_probs = _array("rank_probs", rank_probs, (n_models, n_models))
    top = min(n_models, PLOT_TOP if top is None else check_int("top", top, 1))
    if scores is None:
        expected_rank = rank_probs @ np.arange(1, n_models + 1)  # (M,)
        order = np.lexsort((np.arange(n_models), expected_rank))[:top]
    else:
        order = _best_first(_array("scores", scores, (n_models,)))[:top]
    shown = rank_probs[order, :top]  # (top, top)
    columns = top
    if top < n_models:  # the ranks beyond `top`, summed into one column
        shown = np.concatenate([shown, rank_probs[order, top:].sum(axis=1, keepdims=True)], axis=1)
        columns += 1
    figure, axes = _canvas(ax, (3 + 0.16 * columns, _models_height(top)))
    image = axes.imshow(shown, aspect="auto", cmap="viridis", interpolation="nearest",
                        extent=(0.5, columns + 0.5, top - 0.5, -0.5))
    _model_ticks(axes.set_yticks, np.arange(top), [names[m] for m in order])
    axes.set_xticks(*_rank_ticks(top, columns > top))
    axes.set_xlabel("final rank")
    axes.set_ylabel("model (by expected rank)" if scores is None else "model (as ranked)")
    scope = "" if top == n_models else f" (top {top} of {n_models} models)"
    axes.set_title("Distribution of the final rank" + scope)
    figure.colorbar(image, ax=axes, label="P(rank)")
    return _finish(figure, path, svg, formats)


def _rank_ticks(top: int, rest: bool) -> tuple[list[int], list[str]]:
    """The rank axis of the heatmap: integer ranks 1..`top` at about ten steps (always 1,
    and `top` unless `rest`; no two labels closer than half a step); with `rest` one more
    column after `top`, labelled `> top`, in place of `top`."""
    steps = MaxNLocator(nbins=10, integer=True, min_n_ticks=1).tick_values(1, top)
    step = max(1, int(steps[1] - steps[0])) if len(steps) > 1 else 1
    last = top + 1 if rest else top  # the last column's tick
    ticks = sorted({1, *(int(t) for t in steps if 1 + step / 2 <= t <= last - step / 2), last})
    return ticks, [str(t) for t in ticks[:-1]] + [f"> {top}" if rest else str(top)]


@_fonts_and_glyphs
def plot_survival(
    models: Sequence[str],
    rounds: Sequence[str],
    survival,
    path=None,
    top: int | None = None,
    *,
    models_shown: Sequence[str] | None = None,
    svg: bool = False,
    formats: Sequence[str] | None = None,
    ax=None,
) -> Figure | list[str]:
    """Survival curves: P(still active after round k) for each model.

    Args:
      models: (M,) names.
      rounds: (K,) the rounds' benchmark names.
      survival: (M, K) P(active after the elimination that follows round k).
      path: as in `plot_risk_profile`.
      top: draw only the `top` models that survive the most rounds on average (default
        all, at most `PLOT_TOP`).
      models_shown: draw only these models, in this order (the legend's); not with `top`.
      svg, formats, ax: as in `plot_risk_profile`.

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_survival(["a", "b", "c"], ["x", "y"], [[1, 1], [1, 0], [0, 0]],
      ...                                     os.path.join(folder, "survival"), models_shown=["c", "a"])
      >>> [os.path.basename(p) for p in paths]
      ['survival.png']
    """
    names = _names(models)
    round_names = [str(r) for r in rounds]
    survival = _array("survival", survival, (len(names), len(round_names)))
    if top is not None:
        check_int("top", top, 1)
    if models_shown is None:
        shown = _best_first(survival.sum(axis=1))[: min(PLOT_TOP, len(names)) if top is None else top]
        title = "" if len(shown) == len(names) else f" (top {len(shown)} of {len(names)} models)"
    elif top is not None:
        raise InputError("give top or models_shown, not both")
    else:
        shown = _chosen("models_shown", models_shown, names)
        title = f" ({len(shown)} chosen models)"
    figure, axes = _canvas(ax, (10 + 0.12 * len(round_names), 6))
    steps = np.arange(1, len(round_names) + 1)
    for (color, style, marker), m in zip(line_styles(len(shown)), shown):
        axes.plot(steps, survival[m], color=color, linestyle=style, marker=marker, markersize=3, linewidth=1.0,
                  label=names[m])
    axes.set_xticks(steps, round_names, rotation=60, ha="right", fontsize=7)
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("round (benchmark)")
    axes.set_ylabel("P(active after the round)")
    axes.set_title("Survival by round" + title)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=6,
                ncol=1 if len(shown) <= 30 else 2)
    axes.grid(alpha=0.3)
    return _finish(figure, path, svg, formats)


@_fonts_and_glyphs
def plot_bootstrap(
    models: Sequence[str],
    expected,
    ci_low,
    ci_high,
    path=None,
    tiers=None,
    *,
    rank_low=None,
    rank_high=None,
    xlabel: str = "expected win score E[S] (dot) and its bootstrap interval (bar)",
    title: str = "Bootstrap intervals",
    top: int | None = None,
    svg: bool = False,
    formats: Sequence[str] | None = None,
    ax=None,
) -> Figure | list[str]:
    """E[S] of each model with its bootstrap interval, best at the top; with tiers, the
    models go tier by tier, each tier in its own colour on a band of its own. With more
    than `top` models, the first `top` in that order are drawn and the title gives the
    range of the others, so the figure's size does not grow with M.

    Args:
      models: (M,) names.
      expected: (M,) E[S] (the dot), e.g. `BootstrapResult.expected_score`.
      ci_low, ci_high: (M,) the interval's ends (the bar).
      path: as in `plot_risk_profile`.
      tiers: (M,) int tiers (`BootstrapResult.tiers`, 1 = top), or None: the rows are
        sorted by tier, then by E[S].
      rank_low, rank_high: (M,) the rank interval, shown after each name, or None.
      xlabel, title: the axis label and the title.
      top: the most models drawn (default `PLOT_TOP`).
      svg, formats, ax: as in `plot_risk_profile`.

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_bootstrap(["a", "b", "c"], [3.0, 2.5, 1.0], [2.6, 2.0, 0.5],
      ...                                      [3.3, 2.9, 1.4], os.path.join(folder, "boot"),
      ...                                      tiers=[1, 1, 2], rank_low=[1, 1, 3], rank_high=[2, 2, 3])
      >>> [os.path.basename(p) for p in paths]
      ['boot.png']
    """
    names = _names(models)
    shape = (len(names),)
    expected = _array("expected", expected, shape)
    low, high = _array("ci_low", ci_low, shape), _array("ci_high", ci_high, shape)
    tier = None if tiers is None else _integers("tiers", tiers, shape)
    if (rank_low is None) != (rank_high is None):
        raise InputError("give both rank_low and rank_high, or neither")
    ranks = None if rank_low is None else (_integers("rank_low", rank_low, shape),
                                           _integers("rank_high", rank_high, shape))
    index = np.arange(len(names))
    order = np.lexsort((index, -expected) if tier is None else (index, -expected, tier))
    order, scope = _top_rows(order, top, expected, "E[S]")
    rows = np.arange(len(order))[::-1]  # the first model of `order` on the top row
    figure, axes = _canvas(ax, (10, _models_height(len(order))))
    palette = colormaps["tab10"]
    if tier is None:
        colors = ["C0"] * len(order)
    else:
        levels = list(np.unique(tier))
        colors = [palette(levels.index(tier[m]) % 10) for m in order]
        bands = np.flatnonzero(np.diff(tier[order])) + 1  # first position of each later tier
        for band, (first, stop) in enumerate(zip(np.r_[0, bands], np.r_[bands, len(order)])):
            top, bottom = rows[first] + 0.5, rows[stop - 1] - 0.5
            if band % 2 == 0:
                axes.axhspan(bottom, top, color="0.93", zorder=0, linewidth=0)
            axes.text(1.01, (top + bottom) / 2, f"tier {tier[order[first]]}", transform=axes.get_yaxis_transform(),
                      ha="left", va="center", fontsize=7, color=colors[first])
    axes.hlines(rows, low[order], high[order], colors=colors, linewidth=2.5, alpha=0.6, zorder=2)
    axes.scatter(expected[order], rows, c=colors, s=12, zorder=3)
    labels = [names[m] for m in order]
    if ranks is not None:
        labels = [f"{label}  (rank {value_range(ranks[0][m], ranks[1][m])})" for label, m in zip(labels, order)]
    _model_ticks(axes.set_yticks, rows, labels)
    axes.set_ylim(-0.5 if tier is not None else -1, len(order) - (0.5 if tier is not None else 0))
    axes.set_xlabel(xlabel)
    axes.set_ylabel("model" + (" (by tier, then E[S])" if tier is not None else " (by E[S])"))
    axes.set_title(title + scope)
    axes.grid(axis="x", alpha=0.3)
    return _finish(figure, path, svg, formats)


@_fonts_and_glyphs
def plot_bump(
    models: Sequence[str],
    ranks: Mapping[str, Sequence[int]],
    path=None,
    *,
    top: int | None = TOP_MODELS,
    title: str = "Rank of each model by method",
    xlabel: str = "method",
    svg: bool = False,
    formats: Sequence[str] | None = None,
    ax=None,
) -> Figure | list[str]:
    """Bump chart: each model's rank in each column, one line per model. The `top` models
    by the first column's rank are drawn in colour and named on the left by their
    first-column rank and on the right by their last-column rank (these names act as the
    legend; names that would overlap are moved apart, with a thin line to their rank);
    the others are thin grey lines. The named lines take the `OKABE_ITO` colours, with a
    new line style and marker every eight (`line_styles`), so neighbours stay apart for
    colour-blind readers too. The rank axis ends a little below the deepest rank of a
    named model in any column, so the named lines fill the plot, and stay apart in a table
    of thousands; the figure's height follows that depth, at most max(2 top, 30) rows.
    The rank scale is labelled on the left wherever no name stands. The width leaves room
    for the names on both sides, however long.

    Args:
      models: (M,) names.
      ranks: column -> (M,) ranks, 1 the best, in column order: methods (e.g.
        `Comparison.ranks`), schedules, round orders, ...
      top: how many models to draw in colour and name (None: all).
      path, svg, formats, ax: as in `plot_risk_profile`.
      title, xlabel: the title, and what the columns are.

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_bump(["a", "b"], {"csd": [1, 2], "mean": [2, 1]},
      ...                                 os.path.join(folder, "bump"))
      >>> [os.path.basename(p) for p in paths]
      ['bump.png']
    """
    names = _names(models)
    methods = list(ranks)
    if not methods:
        raise InputError("ranks is empty; give at least one method")
    table = np.stack([_array(f"ranks[{m!r}]", ranks[m], (len(names),)) for m in methods], axis=1)  # (M, R)
    columns = np.arange(len(methods))
    order = np.lexsort((np.arange(len(names)), table[:, 0]))
    shown = order if top is None else order[: check_int("top", top, 1)]
    # The axis ends just below the deepest rank of a named model, not at M: a few named
    # models over thousands of ranks would be a smear at the top.
    named_deepest = int(table[shown].max())
    deepest = int(min(table.max(), named_deepest + max(1, round(0.1 * named_deepest))))
    rows = min(deepest, max(2 * len(shown), 30))
    fontsize = 7 if len(shown) > 30 else 9
    shown_names = [names[m] for m in shown]
    # Room for the names on both sides, so the axes keep their width for any name length.
    names_inches = 2 * _text_inches([f"{name}  {deepest}" for name in shown_names], fontsize)
    width = max(5 + 1.6 * len(methods), names_inches + 1.0 + 1.5 * len(methods))  # axes: 1 in + 1.5 in a column
    figure, axes = _canvas(ax, (width, _models_height(rows)))
    for m in order[len(shown):]:
        axes.plot(columns, table[m], color="0.82", linewidth=0.6, zorder=1)
    styles = line_styles(len(shown))
    for (color, style, marker), m in zip(styles, shown):
        axes.plot(columns, table[m], color=color, linestyle=style, marker=marker, markersize=3.5, linewidth=1.4,
                  zorder=2)
    colors = [_text_color(color) for color, _, _ in styles]
    axes.set_ylim(deepest + 0.5, 0.5)  # rank 1 on top
    steps = MaxNLocator(integer=True).tick_values(1, deepest)
    axes.set_yticks(steps[(steps >= 1) & (steps <= deepest)])
    axes.tick_params(axis="y", labelsize=7, labelcolor="0.45")
    axes.set_xticks(columns, methods)
    axes.set_xlim(-0.2, columns[-1] + 0.2)
    axes.set_xlabel(xlabel)
    rest = "" if len(shown) == len(names) else f"; the top {len(shown)} of {len(names)} by {methods[0]} in colour"
    axes.set_title(title, pad=16)
    axes.annotate(f"rank 1 = best{rest}", (0.5, 1.0), xycoords="axes fraction", xytext=(0, 3),
                  textcoords="offset points", ha="center", va="bottom", fontsize=8, color="0.3")
    axes.grid(alpha=0.3)
    left = _name_ranks(axes, shown_names, table[shown, 0], columns[0], -1, colors, fontsize)
    _name_ranks(axes, shown_names, table[shown, -1], columns[-1], 1, colors, fontsize)
    _rank_scale_where_free(axes, left, 1.25 * fontsize)
    return _finish(figure, path, svg, formats)


def _rank_scale_where_free(axes, names_at: np.ndarray, line: float) -> None:
    """Labels the y ticks (the rank scale) on the left of the bump chart where no name
    stands: a tick less than a line (points) from one of the names at `names_at` (points,
    as `_name_ranks` placed them) is left unlabelled, so numbers and names never collide."""
    ticks = axes.get_yticks()
    scale = 72 / axes.get_figure().dpi
    at = axes.transData.transform(np.column_stack([np.zeros(len(ticks)), ticks]))[:, 1] * scale
    free = [names_at.size == 0 or np.abs(names_at - height).min() >= line for height in at]
    axes.set_yticks(ticks, [f"{tick:.0f}" if ok else "" for tick, ok in zip(ticks, free)])


def _text_color(color: str) -> str:
    """`color` for text on white: a light colour (the palette's yellow) darkened to half, so
    the name stays legible; others as they are."""
    from matplotlib.colors import to_hex, to_rgb

    rgb = np.array(to_rgb(color))
    return to_hex(rgb / 2) if rgb @ [0.2126, 0.7152, 0.0722] > 0.7 else color


def _text_inches(texts: Sequence[str], fontsize: float) -> float:
    """The width (inches) of the widest of `texts` in the default font at `fontsize`."""
    font, measure = FontProperties(size=fontsize), TextToPath()
    return max(measure.get_text_width_height_descent(text, font, ismath=False)[0] for text in texts) / 72


def _name_ranks(axes, names: list[str], ranks: np.ndarray, x: float, side: int, colors, fontsize: float) -> np.ndarray:
    """Names each model at its rank in column `x`, outside the axes on the left (side -1)
    or right (1), with the rank number; tied models share a label. Labels keep one line
    apart: from the best rank down, a label that would overlap the one above moves down,
    joined to its point by a thin line. Returns the labels' heights (points)."""
    figure = axes.get_figure()
    figure.draw_without_rendering()  # the layout: where each rank is drawn
    positions = np.unique(ranks)  # best first
    scale = 72 / figure.dpi  # points per pixel
    heights = axes.transData.transform(np.column_stack([np.full(len(positions), x), positions]))[:, 1] * scale
    line, placed = 1.25 * fontsize, []
    for height in heights:  # highest first: rank 1 is on top
        placed.append(min(height, placed[-1] - line) if placed else height)
    for rank, height, wanted in zip(positions, placed, heights):
        holders = [i for i, r in enumerate(ranks) if r == rank]
        who = " / ".join(names[i] for i in holders)
        text = f"{who}  {rank:.0f}" if side < 0 else f"{rank:.0f}  {who}"
        moved = wanted - height > 0.5
        axes.annotate(text, (x, rank), xytext=(0.5 + side * 0.51, height - wanted),  # just outside the axes
                      textcoords=("axes fraction", "offset points"), ha="right" if side < 0 else "left", va="center",
                      fontsize=fontsize, color=colors[holders[0]], annotation_clip=False,
                      arrowprops=dict(arrowstyle="-", color="0.6", linewidth=0.5) if moved else None)
    return np.array(placed)


@_fonts_and_glyphs
def plot_win_probabilities(
    models: Sequence[str],
    win_prob,
    path=None,
    *,
    scores=None,
    top: int | None = 30,
    of_models: int | None = None,
    svg: bool = False,
    formats: Sequence[str] | None = None,
    ax=None,
) -> Figure | list[str]:
    """Heatmap of P(row beats column): the pairwise win probabilities averaged over the
    benchmarks, the models sorted by `scores` (best at the top and on the left), the
    `top` best only so the cells stay readable; cells carry their value up to 20 models.

    Args:
      models: (M,) names.
      win_prob: (M, M) [i, j] = P(i beats j), e.g. `csd.win_probabilities(table).mean(2)`.
      scores: (M,) what to sort by, higher first (e.g. `SimulationResult.expected_score`);
        default the mean win probability of each row.
      top: how many models to show (None: all).
      of_models: how many models `models` were chosen from, for the title (default M):
        for a large table, pass the matrix of its best models only.
      path, svg, formats, ax: as in `plot_risk_profile`.

    Returns:
      The matplotlib `Figure` (the one of `ax`, if given); with `path`, the paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_win_probabilities(["a", "b"], [[0.0, 0.75], [0.25, 0.0]],
      ...                                              os.path.join(folder, "wins"))
      >>> [os.path.basename(p) for p in paths]
      ['wins.png']
    """
    names = _names(models)
    win_prob = _array("win_prob", win_prob, (len(names), len(names)))
    order_by = win_prob.mean(axis=1) if scores is None else _array("scores", scores, (len(names),))
    order = _best_first(order_by)
    shown = order if top is None else order[: check_int("top", top, 1)]
    cells = win_prob[np.ix_(shown, shown)]
    cells[np.arange(len(shown)), np.arange(len(shown))] = np.nan  # a model does not play itself
    size = 4.5 + 0.28 * len(shown)
    figure, axes = _canvas(ax, (max(size + 1.5, 8.0), size))
    image = axes.imshow(cells, cmap="RdBu", vmin=0.0, vmax=1.0, interpolation="nearest")
    labels = [names[m] for m in shown]
    _model_ticks(axes.set_yticks, np.arange(len(shown)), labels)
    _model_ticks(axes.set_xticks, np.arange(len(shown)), labels)
    axes.tick_params(axis="x", labelrotation=60)
    for label in axes.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    if len(shown) <= 20:
        for (i, j), value in np.ndenumerate(cells):
            if not np.isnan(value):
                axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                          color="white" if abs(value - 0.5) > 0.3 else "black")
    of_models = len(names) if of_models is None else check_int("of_models", of_models, len(names))
    rest = "" if len(shown) == of_models else f", top {len(shown)} of {of_models}"
    axes.set_title(f"P(row beats column), averaged over the benchmarks\n(models by score{rest})")
    axes.set_xlabel("opponent")
    axes.set_ylabel("model")
    figure.colorbar(image, ax=axes, label="P(row beats column)", shrink=0.8)
    return _finish(figure, path, svg, formats)


def _chosen(option: str, chosen: Sequence[str], names: list[str]) -> list[int]:
    """The indices of the `chosen` names, in their order; InputError for an unknown,
    repeated or empty choice."""
    chosen = [chosen] if isinstance(chosen, str) else [str(c) for c in chosen]
    if not chosen:
        raise InputError(f"{option} is empty; name at least one model")
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise InputError(f"{option} {unknown} are not among the models: {', '.join(names)}")
    repeated = sorted({c for c in chosen if chosen.count(c) > 1})
    if repeated:
        raise InputError(f"{option} names {repeated} more than once")
    return [names.index(c) for c in chosen]


def _integers(name: str, values, shape: tuple[int, ...]) -> np.ndarray:
    """`values` as an int array of `shape`, or InputError naming `name`."""
    array = _array(name, values, shape)
    if not np.all(array == np.round(array)):
        raise InputError(f"{name} must be integers")
    return array.astype(int)


def _names(models: Sequence[str]) -> list[str]:
    names = [str(m) for m in models]
    if not names:
        raise InputError("models is empty")
    return names


def _array(name: str, values, shape: tuple[int, ...]) -> np.ndarray:
    """`values` as a float array of `shape`, or InputError naming `name`."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers") from None
    if array.shape != shape:
        raise InputError(f"{name} has shape {array.shape}, expected {shape}")
    return array


def _top_rows(order: np.ndarray, top: int | None, values: np.ndarray, what: str) -> tuple[np.ndarray, str]:
    """The first `top` (default `PLOT_TOP`) of the (M,) model `order`, and a title note
    naming how many models are left out and the range of their (M,) `values` ("" if none)."""
    shown = order[: PLOT_TOP if top is None else check_int("top", top, 1)]
    rest = values[order[len(shown):]]
    if rest.size == 0:
        return shown, ""
    return shown, (f"\n(top {len(shown)} of {len(order)} models; the other {rest.size} have "
                   f"{what} {rest.min():.3g} to {rest.max():.3g})")


def _best_first(scores: np.ndarray) -> np.ndarray:
    """Indices of (M,) `scores` from the highest down, ties in input order."""
    return np.lexsort((np.arange(scores.size), -scores))


def _models_height(n_models: int) -> float:
    """Figure height (inches) for an axis with one row per model."""
    return 1.8 + _INCHES_PER_MODEL * n_models


def _model_ticks(set_ticks, positions, labels) -> None:
    set_ticks(positions, labels, fontsize=7 if len(labels) > 30 else 9)


def _canvas(ax, size: tuple[float, float]):
    """(figure, axes) to draw on: `ax` and its figure, or a new constrained-layout
    `Figure` of `size` inches with one axes."""
    if ax is not None:
        return ax.figure, ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _finish(figure: Figure, path, svg: bool, formats: Sequence[str] | None) -> Figure | list[str]:
    """`figure`, or with `path` the paths `save` wrote it to."""
    return figure if path is None else save(figure, path, svg=svg, formats=formats)


def save(figure: Figure, path, *, svg: bool = False, formats: Sequence[str] | None = None) -> list[str]:
    """Writes `figure` as `path` with the suffix of each of `formats` (default .png, and
    .svg with `svg`), each file atomically (`DPI` dots per inch); returns the paths.

    Example:
      >>> import os, tempfile, csd.plots
      >>> figure = csd.plots.plot_bump(["a", "b"], {"csd": [1, 2], "mean": [2, 1]})
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.save(figure, os.path.join(folder, "bump"), formats=["png", "pdf"])
      ...     [os.path.basename(p) for p in paths]
      ['bump.png', 'bump.pdf']
    """
    formats = (("png", "svg") if svg else ("png",)) if formats is None else figure_formats(formats)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        final = target.with_suffix(f".{fmt}")
        _write_atomically(figure, final, fmt)
        written.append(os.fspath(final))
    return written


def figure_formats(formats, option: str = "formats") -> tuple[str, ...]:
    """`formats` (a name or names from `FORMATS`, any case) as a tuple without repeats.

    Raises:
      InputError: for an empty list or an unknown format, naming `option`.
    """
    names = [formats] if isinstance(formats, str) else list(formats)
    chosen = tuple(dict.fromkeys(str(name).lower().lstrip(".") for name in names))
    if not chosen:
        raise InputError(f"{option} is empty; choose from: {', '.join(FORMATS)}", option)
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown:
        raise InputError(f"{option}: unknown figure format(s) {unknown}; choose from: {', '.join(FORMATS)}", option)
    return chosen


def _write_atomically(figure: Figure, final: Path, fmt: str) -> None:
    """Saves `figure` to a new file next to `final` (mode from the umask), then renames it."""
    temporary = final.parent / f".{final.name}.{secrets.token_hex(6)}.tmp"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            figure.savefig(stream, format=fmt, dpi=DPI)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
