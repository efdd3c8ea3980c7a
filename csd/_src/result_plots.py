"""The figures of each result type: what `SimulationResult.plot(kind=...)` and the other
results' `.plot` draw, through the `csd.plots` functions.

Each kind is a function (result, ax, options) -> Figure; the first kind of a result type
is its default. `options` go to the `csd.plots` function as they are (`top=`, `title=`,
`path=`, ...), overriding what the kind passes.
"""

from __future__ import annotations

from typing import Callable

from csd._src import plots
from csd._src.errors import InputError
from csd._src.sweep import MIN_PROFILE_MODELS


def _simulation_kinds() -> dict[str, Callable]:
    return {
        "rank_heatmap": lambda r, ax, o: plots.plot_rank_heatmap(
            r.models, r.rank_probs, **{"scores": r.expected_score, "ax": ax, **o}),
        "survival": lambda r, ax, o: plots.plot_survival(r.models, r.rounds, r.survival, **{"ax": ax, **o}),
        "expected_scores": lambda r, ax, o: plots.plot_expected_scores(
            r.models, [r.tournament.label()], r.expected_score[None], r.stderr[None], **{"ax": ax, **o}),
    }


def _sweep_kinds() -> dict[str, Callable]:
    return {
        "risk_profile": lambda r, ax, o: plots.plot_risk_profile(r.models, r.expected_score[0], r.drop[-1], **{
            "drop_stderr": r.drop_stderr[-1], "labels": _named(r.models, r.expected_score[0]),
            "profiles": r.risk_profile if len(r.models) >= MIN_PROFILE_MODELS else None,
            "schedule": r.labels[-1], "trend": r.risk_trend, "ax": ax, **o}),
        "expected_scores": lambda r, ax, o: plots.plot_expected_scores(
            r.models, r.labels, r.expected_score, r.stderr, **{"ax": ax, **o}),
        "survival": lambda r, ax, o: _simulation_kinds()["survival"](r.results[-1], ax, o),
    }


def _bootstrap_kinds() -> dict[str, Callable]:
    return {
        "intervals": lambda r, ax, o: plots.plot_bootstrap(r.models, r.expected_score, r.ci_low, r.ci_high, **{
            "tiers": r.tiers, "rank_low": r.rank_low, "rank_high": r.rank_high,
            "xlabel": f"E[S] (dot) and its {100 * r.coverage:g}% {r.interval} interval over {r.n_boot} "
                      f"resampled tables (bar)",
            "ax": ax, **o}),
    }


def _comparison_kinds() -> dict[str, Callable]:
    return {
        "bump": lambda r, ax, o: plots.plot_bump(r.models, r.ranks, **{"ax": ax, **o}),
    }


def _outlier_kinds() -> dict[str, Callable]:
    return {
        "bump": lambda r, ax, o: plots.plot_bump(list(r.rank_before), {
            "before": list(r.rank_before.values()), "after": [r.rank_after[m] for m in r.rank_before]}, **{
            "top": None, "title": f"{r.model}'s rank under each method, before and after\n({r.title()})",
            "xlabel": "table", "ax": ax, **o}),
    }


_KINDS = {
    "SimulationResult": _simulation_kinds,
    "SweepResult": _sweep_kinds,
    "BootstrapResult": _bootstrap_kinds,
    "Comparison": _comparison_kinds,
    "OutlierResult": _outlier_kinds,
}


def kinds(result) -> tuple[str, ...]:
    """The figures `result.plot` can draw, the default first."""
    return tuple(_KINDS[type(result).__name__]())


def plot(result, kind: str | None, ax, options: dict):
    """The Figure of `kind` (default: the result type's first kind) for `result`.

    Raises:
      InputError: for an unknown kind, naming the kinds there are.
    """
    drawings = _KINDS[type(result).__name__]()
    chosen = next(iter(drawings)) if kind is None else kind
    if chosen not in drawings:
        raise InputError(f"kind={chosen!r} is not a figure of {type(result).__name__}; choose from: "
                         f"{', '.join(drawings)}", "kind")
    return drawings[chosen](result, ax, options)


def _named(models, scores, most: int = plots.PLOT_TOP) -> list[str] | None:
    """The models a risk profile names: every one up to `most`, else the
    `plots.TOP_MODELS` best by (M,) `scores`, so the labels stay readable."""
    if len(models) <= most:
        return None
    return [models[m] for m in plots._best_first(scores)[: plots.TOP_MODELS]]
