"""csd: rank models from a multi-benchmark score table by simulating Swiss-system
tournaments (Competitive Swiss-System Dynamics, arXiv 2512.21010).

The public names are imported on first use (PEP 562), so `import csd` is instant and the
console script can catch Ctrl-C before JAX is imported (`csd._start`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Public name -> the module that defines it.
_HOMES = {
    "BootstrapResult": "csd._src.results",
    "Comparison": "csd._src.results",
    "FrozenRoundsWarning": "csd._src.errors",
    "InputError": "csd._src.errors",
    "OrderSensitivity": "csd._src.results",
    "OutlierResult": "csd._src.results",
    "Report": "csd._src.report.api",
    "ScoreTable": "csd._src.table",
    "Shard": "csd._src.shards",
    "SimulationResult": "csd._src.results",
    "SweepResult": "csd._src.results",
    "Tournament": "csd._src.spec",
    "baseline_intervals": "csd._src.compare",
    "bootstrap": "csd._src.bootstrap",
    "compare": "csd._src.compare",
    "load_table": "csd._src.table",
    "merged_shards": "csd._src.shards",
    "order_rounds": "csd._src.rounds",
    "order_sensitivity": "csd._src.simulate",
    "outlier_test": "csd._src.compare",
    "report": "csd._src.report.api",
    "shipped_table": "csd._src.datasets",
    "shipped_tiers": "csd._src.datasets",
    "simulate": "csd._src.simulate",
    "sweep": "csd._src.sweep",
    "win_probabilities": "csd._src.outcomes",
}
# Submodules reached as attributes: `csd.baselines`, `csd.plots` (matplotlib, on first use).
_SUBMODULES = ("baselines", "plots")

__all__ = sorted([*_HOMES, "baselines"])


def __getattr__(name: str):
    """Imports a public name's module on first use and keeps the name in `csd`."""
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"csd.{name}")
    else:
        raise AttributeError(f"module 'csd' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names and submodules only (not this module's own imports)."""
    return sorted({*__all__, *_SUBMODULES})


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from csd import baselines, plots
    from csd._src.bootstrap import bootstrap
    from csd._src.compare import baseline_intervals, compare, outlier_test
    from csd._src.datasets import shipped_table, shipped_tiers
    from csd._src.errors import FrozenRoundsWarning, InputError
    from csd._src.outcomes import win_probabilities
    from csd._src.report.api import Report, report
    from csd._src.results import (
        BootstrapResult,
        Comparison,
        OrderSensitivity,
        OutlierResult,
        SimulationResult,
        SweepResult,
    )
    from csd._src.rounds import order_rounds
    from csd._src.shards import Shard, merged_shards
    from csd._src.simulate import order_sensitivity, simulate
    from csd._src.spec import Tournament
    from csd._src.sweep import sweep
    from csd._src.table import ScoreTable, load_table
