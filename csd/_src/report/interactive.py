"""The report's figures for report.html: Plotly figures as plain dicts
({"data": [...], "layout": {...}}), built without importing plotly, so they cost nothing
when no page is written. Every point's hover text names its model and gives its numbers.

The figures are bounded whatever the number of models M: the per-model rows of a heatmap
or an interval plot are the `top` best, the scatter has one point per model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TOP = 40  # rows of a per-model figure (plots.PLOT_TOP)
LINES = 15  # models drawn as lines in a bump chart or survival plot (plots.TOP_MODELS)
PROFILE_COLOURS = {"robust generalist": "#1a9850", "in between": "#9e9e9e", "aggressive specialist": "#d73027"}


def _num(values, digits: int = 4) -> list:
    """Floats rounded to `digits` decimals, NaN as None (JSON null)."""
    array = np.round(np.asarray(values, dtype=float), digits)
    return [None if np.isnan(x) else float(x) for x in array.ravel()] if array.ndim <= 1 else [_num(row, digits) for row in array]


def _best_first(values) -> list[int]:
    """Indices from the highest value down, ties by index."""
    values = np.asarray(values, dtype=float)
    return [int(m) for m in np.lexsort((np.arange(len(values)), -values))]


def _layout(title: str, xtitle: str, ytitle: str, height: int = 480, xaxis: dict | None = None,
            yaxis: dict | None = None) -> dict:
    """A figure's layout; the axes make room for their labels (long model names)."""
    return {"title": {"text": title}, "height": height, "hovermode": "closest", "margin": {"t": 50},
            "xaxis": {"title": {"text": xtitle}, "automargin": True, **(xaxis or {})},
            "yaxis": {"title": {"text": ytitle}, "automargin": True, **(yaxis or {})}}


def rank_distribution(models: Sequence[str], rank_probs, expected_score, top: int | None = TOP) -> dict:
    """Heatmap of P(final rank r) of the `top` best models by E[S], ranks 1..top."""
    top = TOP if top is None else top
    shown = _best_first(expected_score)[:top]
    places = min(top, len(models))
    names = [models[m] for m in shown]
    return {
        "data": [{"type": "heatmap", "z": _num(np.asarray(rank_probs)[shown, :places]), "x": list(range(1, places + 1)),
                  "y": names, "colorscale": "Blues", "reversescale": True, "colorbar": {"title": {"text": "P"}},
                  "hovertemplate": "%{y}<br>rank %{x}: P = %{z:.3f}<extra></extra>"}],
        "layout": _layout(f"P(final rank) of the top {len(shown)} of {len(models)} models", "final rank", "",
                          height=180 + 16 * len(shown), yaxis={"autorange": "reversed"}),
    }


def survival(models: Sequence[str], rounds: Sequence[str], active, shown: Sequence[int]) -> dict:
    """P(still active after round k) of the models `shown`, one line each."""
    x = list(range(1, len(rounds) + 1))
    data = [{"type": "scatter", "mode": "lines+markers", "name": models[m], "x": x, "y": _num(np.asarray(active)[m]),
             "customdata": list(rounds), "text": [_plain(models[m])] * len(x),
             "hovertemplate": "%{text}<br>after round %{x} (%{customdata}): P(active) = %{y:.3f}<extra></extra>"}
            for m in shown]
    return {"data": data, "layout": _layout("P(still active after round k)", "round", "P(active)",
                                            yaxis={"range": [0, 1.05], "title": {"text": "P(active)"}})}


def win_probabilities(models: Sequence[str], win_prob, of_models: int) -> dict:
    """Heatmap of P(row beats column) of the models given (the best by E[S], in order)."""
    return {
        "data": [{"type": "heatmap", "z": _num(win_prob, 3), "x": list(models), "y": list(models), "zmin": 0, "zmax": 1,
                  "colorscale": "RdBu", "hovertemplate": "%{y} beats %{x}: P = %{z:.3f}<extra></extra>"}],
        "layout": _layout(f"P(row beats column), the top {len(models)} of {of_models} models", "", "",
                          height=200 + 16 * len(models), yaxis={"autorange": "reversed"},
                          xaxis={"showticklabels": len(models) <= 40, "tickangle": -60}),
    }


def risk_profile(models: Sequence[str], base_score, drop, drop_stderr, profiles: Sequence[str] | None, trend,
                 schedule: str) -> dict:
    """The drop under `schedule` against E[S] without elimination, one point per model with
    ±1 SE, coloured by risk profile (`profiles` None: omitted, one colour), and the peers'
    trend as a line."""
    base, drop, se, trend = (np.asarray(v, dtype=float) for v in (base_score, drop, drop_stderr, trend))
    data = []
    groups = PROFILE_COLOURS if profiles is not None else {"model": PROFILE_COLOURS["in between"]}
    for profile, colour in groups.items():
        members = [m for m in range(len(models)) if profiles is None or profiles[m] == profile]
        if not members:
            continue
        data.append({
            "type": "scatter", "mode": "markers", "name": profile, "x": _num(base[members]), "y": _num(drop[members]),
            "error_y": {"type": "data", "array": _num(se[members]), "thickness": 0.8, "width": 0},
            "marker": {"color": colour, "size": 6},
            "customdata": [[_plain(models[m]), _num([se[m]])[0], _num([trend[m]])[0]] for m in members],
            "hovertemplate": "%{customdata[0]}<br>E[S] = %{x:.3f}<br>drop = %{y:+.3f} ± %{customdata[1]:.3f}"
                             "<br>peers' trend %{customdata[2]:+.3f}<extra>" + profile + "</extra>",
        })
    along = np.argsort(base, kind="stable")
    data.append({"type": "scatter", "mode": "lines", "name": "peers' trend", "x": _num(base[along]),
                 "y": _num(trend[along]), "line": {"color": "black", "width": 1}, "hoverinfo": "skip"})
    return {"data": data, "layout": _layout(f"Drop under {schedule} against E[S] without elimination",
                                            "E[S] without elimination", f"drop under {schedule}")}


def expected_scores(models: Sequence[str], labels: Sequence[str], expected, stderr, top: int | None = TOP) -> dict:
    """E[S] ± SE of the `top` best models (by the first schedule) under each schedule."""
    top = TOP if top is None else top
    expected, stderr = np.asarray(expected, dtype=float), np.asarray(stderr, dtype=float)
    shown = _best_first(expected[0])[:top]
    names = [models[m] for m in shown]
    data = [{"type": "scatter", "mode": "markers", "name": label, "x": _num(expected[i, shown]), "y": names,
             "error_x": {"type": "data", "array": _num(stderr[i, shown])},
             "hovertemplate": "%{y}<br>E[S | " + _plain(label) + "] = %{x:.3f} ± %{error_x.array:.3f}<extra></extra>"}
            for i, label in enumerate(labels)]
    return {"data": data, "layout": _layout(f"E[S] per schedule, the top {len(shown)} of {len(models)} models",
                                            "E[S]", "", height=180 + 16 * len(shown), yaxis={"autorange": "reversed"})}


def bootstrap(models: Sequence[str], expected, low, high, tiers, rank_low, rank_high, coverage: float,
              top: int | None = TOP) -> dict:
    """E[S] with its bootstrap interval of the `top` best models, coloured by tier."""
    top = TOP if top is None else top
    expected, low, high = (np.asarray(v, dtype=float) for v in (expected, low, high))
    shown = _best_first(expected)[:top]
    tiers = np.asarray(tiers)
    data = []
    for tier in sorted({int(tiers[m]) for m in shown}):
        members = [m for m in shown if tiers[m] == tier]
        data.append({
            "type": "scatter", "mode": "markers", "name": f"tier {tier}", "x": _num(expected[members]),
            "y": [models[m] for m in members],
            "error_x": {"type": "data", "symmetric": False, "array": _num(high[members] - expected[members]),
                        "arrayminus": _num(expected[members] - low[members])},
            "customdata": [[_num([low[m]])[0], _num([high[m]])[0], int(rank_low[m]), int(rank_high[m])] for m in members],
            "hovertemplate": "%{y}<br>E[S] = %{x:.3f}, " + f"{100 * coverage:g}%" + " interval [%{customdata[0]:.3f}, "
                             "%{customdata[1]:.3f}]<br>rank %{customdata[2]}-%{customdata[3]}<extra>tier " + str(tier) + "</extra>",
        })
    return {"data": data, "layout": _layout(f"E[S] and its {100 * coverage:g}% bootstrap interval, the top {len(shown)} "
                                            f"of {len(models)} models, by tier", "E[S]", "", height=180 + 16 * len(shown),
                                            yaxis={"autorange": "reversed", "categoryorder": "array",
                                                   "categoryarray": [models[m] for m in shown]})}


def bump(models: Sequence[str], ranks: dict, title: str, xtitle: str, lines: int = LINES) -> dict:
    """Each of the `lines` best models (by the first column's rank) as a line through its
    rank in each column of `ranks` ({column: (M,) ranks, 1 = best})."""
    columns = [name.replace("\n", " ") for name in ranks]
    values = np.array([np.asarray(r) for r in ranks.values()])  # (columns, M)
    shown = _best_first(-values[0])[:lines]
    data = [{"type": "scatter", "mode": "lines+markers", "name": models[m], "x": columns, "y": [int(v) for v in values[:, m]],
             "text": [_plain(models[m])] * len(columns), "hovertemplate": "%{text}<br>%{x}: rank %{y}<extra></extra>"}
            for m in shown]
    return {"data": data, "layout": _layout(title, xtitle, "rank", yaxis={"autorange": "reversed", "title": {"text": "rank"}})}


def _plain(name: str) -> str:
    """A model name as hover text (Plotly reads a few HTML tags there): shown as written."""
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
