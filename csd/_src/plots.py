"""Figures of CSD results from plain arrays, written as PNG (and SVG on request).

Figures are built on `matplotlib.figure.Figure` directly, never through pyplot: no
backend is selected or changed, no window opens, and a figure is released as soon as the
function returns (pyplot never holds it). Every file is written to a temporary name in
its directory and then renamed, so a reader never sees a half-written figure.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from csd._src.errors import InputError, check_int

from matplotlib import colormaps
from matplotlib.figure import Figure

DPI = 150
_INCHES_PER_MODEL = 0.22  # row height of a per-model axis: 65 models fit on one page


def plot_risk_profile(
    models: Sequence[str],
    base_score,
    drop,
    path,
    drop_stderr=None,
    labels: Sequence[str] | None = None,
    *,
    schedule: str = "T",
    svg: bool = False,
) -> list[str]:
    """Failure sensitivity: each model's drop E[S | T] - E[S | T=0] against E[S | T=0].

    Args:
      models: (M,) names.
      base_score: (M,) E[S | T=0].
      drop: (M,) E[S | T] - E[S | T=0] (usually <= 0).
      path: the figure's file; its suffix is replaced by `.png` (and `.svg`).
      drop_stderr: (M,) standard errors of `drop`, drawn as error bars, or None.
      labels: the models to name next to their point; default all.
      schedule: how the compared schedule is called in the labels, e.g. "T=2".
      svg: also write an SVG.

    Returns:
      The paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_risk_profile(["a", "b"], [9.0, 8.0], [-0.5, -2.0],
      ...                                         os.path.join(folder, "risk"), svg=True)
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
    figure = Figure(figsize=(10, 7), layout="constrained")
    axes = figure.add_subplot()
    axes.errorbar(base_score, drop, yerr=error, fmt="o", markersize=4, capsize=2, elinewidth=0.8,
                  label="model" if error is None else "model (±1 SE)")
    axes.axhline(0.0, color="grey", linewidth=0.8, linestyle="--", label="no drop")
    for m, name in enumerate(names):
        if name in named:
            axes.annotate(name, (base_score[m], drop[m]), xytext=(4, 4 if m % 2 else -8),
                          textcoords="offset points", fontsize=6)
    axes.set_xlabel("E[S | T=0] (expected win score without elimination)")
    axes.set_ylabel(f"E[S | {schedule}] − E[S | T=0]")
    axes.set_title(f"Failure sensitivity: score drop under {schedule}")
    axes.legend(loc="lower left")
    axes.grid(alpha=0.3)
    return _save(figure, path, svg)


def plot_expected_scores(
    models: Sequence[str],
    schedule_names: Sequence[str],
    expected,
    stderr,
    path,
    *,
    svg: bool = False,
) -> list[str]:
    """Expected win score of every model under each schedule, with ±1 SE error bars,
    models sorted by the first schedule (best at the top).

    Args:
      models: (M,) names.
      schedule_names: (S,) a label per schedule, e.g. ["T=0", "T=1", "T=2"].
      expected: (S, M) E[S] per schedule and model.
      stderr: (S, M) its Monte Carlo standard errors.
      path, svg: as in `plot_risk_profile`.

    Returns:
      The paths written.

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
    order = _best_first(expected[0])
    rows = np.arange(len(names))[::-1]  # the best model on the top row
    offsets = (np.arange(len(schedules)) - (len(schedules) - 1) / 2) * 0.6 / len(schedules)
    figure = Figure(figsize=(9, _models_height(len(names))), layout="constrained")
    axes = figure.add_subplot()
    for s, label in enumerate(schedules):
        axes.errorbar(expected[s, order], rows + offsets[s], xerr=stderr[s, order], fmt="o",
                      markersize=3.5, capsize=2, elinewidth=0.8, label=label)
    _model_ticks(axes.set_yticks, rows, [names[m] for m in order])
    axes.set_ylim(-1, len(names))
    axes.set_xlabel("expected win score E[S] (±1 SE)")
    axes.set_ylabel("model")
    axes.set_title(f"Expected win score by schedule (sorted by {schedules[0]})")
    axes.legend(title="schedule", loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return _save(figure, path, svg)


def plot_rank_heatmap(models: Sequence[str], rank_probs, path, *, svg: bool = False) -> list[str]:
    """Heatmap of P(model finishes at rank r), models sorted by expected rank.

    Args:
      models: (M,) names.
      rank_probs: (M, M) [m, r] = P(model m finishes at rank r + 1).
      path, svg: as in `plot_risk_profile`.

    Returns:
      The paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_rank_heatmap(["a", "b"], [[0.7, 0.3], [0.3, 0.7]],
      ...                                         os.path.join(folder, "ranks"))
      >>> [os.path.basename(p) for p in paths]
      ['ranks.png']
    """
    names = _names(models)
    rank_probs = _array("rank_probs", rank_probs, (len(names), len(names)))
    expected_rank = rank_probs @ np.arange(1, len(names) + 1)  # (M,)
    order = np.lexsort((np.arange(len(names)), expected_rank))
    figure = Figure(figsize=(3 + 0.16 * len(names), _models_height(len(names))), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(rank_probs[order], aspect="auto", cmap="viridis", interpolation="nearest",
                        extent=(0.5, len(names) + 0.5, len(names) - 0.5, -0.5))
    _model_ticks(axes.set_yticks, np.arange(len(names)), [names[m] for m in order])
    axes.set_xlabel("final rank")
    axes.set_ylabel("model (by expected rank)")
    axes.set_title("Distribution of the final rank")
    figure.colorbar(image, ax=axes, label="P(rank)")
    return _save(figure, path, svg)


def plot_survival(
    models: Sequence[str],
    rounds: Sequence[str],
    survival,
    path,
    top: int | None = None,
    *,
    svg: bool = False,
) -> list[str]:
    """Survival curves: P(still active after round k) for each model.

    Args:
      models: (M,) names.
      rounds: (K,) the rounds' benchmark names.
      survival: (M, K) P(active after the elimination that follows round k).
      path: as in `plot_risk_profile`.
      top: draw only the `top` models that survive the most rounds on average (default
        all).
      svg: also write an SVG.

    Returns:
      The paths written.

    Example:
      >>> import os, tempfile, csd.plots
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     paths = csd.plots.plot_survival(["a", "b"], ["x", "y"], [[1, 1], [1, 0]],
      ...                                     os.path.join(folder, "survival"))
      >>> [os.path.basename(p) for p in paths]
      ['survival.png']
    """
    names = _names(models)
    round_names = [str(r) for r in rounds]
    survival = _array("survival", survival, (len(names), len(round_names)))
    if top is not None:
        check_int("top", top, 1)
    shown = _best_first(survival.sum(axis=1))[:top]
    colors = colormaps["turbo"](np.linspace(0.0, 1.0, len(shown)))
    figure = Figure(figsize=(10 + 0.12 * len(round_names), 6), layout="constrained")
    axes = figure.add_subplot()
    steps = np.arange(1, len(round_names) + 1)
    for place, m in enumerate(shown):
        axes.plot(steps, survival[m], color=colors[place], linestyle=("-", "--", ":")[place % 3],
                  marker=".", linewidth=1.0, label=names[m])
    axes.set_xticks(steps, round_names, rotation=60, ha="right", fontsize=7)
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("round (benchmark)")
    axes.set_ylabel("P(active after the round)")
    axes.set_title("Survival by round" + ("" if top is None else f" (top {len(shown)} models)"))
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=6,
                ncol=1 if len(shown) <= 30 else 2)
    axes.grid(alpha=0.3)
    return _save(figure, path, svg)


def plot_bump(models: Sequence[str], ranks: Mapping[str, Sequence[int]], path, *, svg: bool = False) -> list[str]:
    """Bump chart: each model's rank under each method, one line per model; the models
    are named on the left by their first-method rank and on the right by their
    last-method rank (these names act as the legend).

    Args:
      models: (M,) names.
      ranks: method -> (M,) ranks, 1 the best (e.g. `Comparison.ranks`), in column order.
      path, svg: as in `plot_risk_profile`.

    Returns:
      The paths written.

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
    colors = colormaps["turbo"](np.linspace(0.0, 1.0, len(names)))
    figure = Figure(figsize=(5 + 1.6 * len(methods), _models_height(len(names))), layout="constrained")
    left = figure.add_subplot()
    right = left.twinx()
    for place, m in enumerate(np.lexsort((np.arange(len(names)), table[:, 0]))):
        left.plot(columns, table[m], color=colors[place], marker="o", markersize=3, linewidth=1.0)
    for axes, column, side in ((left, 0, "left"), (right, -1, "right")):
        positions, labels = _rank_labels(names, table[:, column], side)
        _model_ticks(axes.set_yticks, positions, labels)
        axes.set_ylim(table.max() + 0.5, 0.5)  # rank 1 on top
        axes.set_ylabel(f"rank under {methods[column]} (1 = best)")
    left.set_xticks(columns, methods)
    left.set_xlim(-0.2, columns[-1] + 0.2)
    left.set_xlabel("method")
    left.set_title("Rank of each model by method")
    left.grid(axis="x", alpha=0.3)
    return _save(figure, path, svg)


def _rank_labels(names: list[str], ranks: np.ndarray, side: str) -> tuple[np.ndarray, list[str]]:
    """Tick positions (the distinct ranks) and labels naming the models at each (tied
    models share a label), the rank number on the plot's `side`."""
    positions = np.unique(ranks)
    labels = []
    for rank in positions:
        holders = " / ".join(name for name, r in zip(names, ranks) if r == rank)
        labels.append(f"{holders}  {rank:.0f}" if side == "left" else f"{rank:.0f}  {holders}")
    return positions, labels


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


def _best_first(scores: np.ndarray) -> np.ndarray:
    """Indices of (M,) `scores` from the highest down, ties in input order."""
    return np.lexsort((np.arange(scores.size), -scores))


def _models_height(n_models: int) -> float:
    """Figure height (inches) for an axis with one row per model."""
    return 1.8 + _INCHES_PER_MODEL * n_models


def _model_ticks(set_ticks, positions, labels) -> None:
    set_ticks(positions, labels, fontsize=7 if len(labels) > 30 else 9)


def _save(figure: Figure, path, svg: bool) -> list[str]:
    """Writes `figure` as `path` with suffix .png (and .svg); returns the paths."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    formats = ("png", "svg") if svg else ("png",)
    written = []
    for fmt in formats:
        final = target.with_suffix(f".{fmt}")
        _write_atomically(figure, final, fmt)
        written.append(os.fspath(final))
    return written


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
