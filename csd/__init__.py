"""csd: rank models from a multi-benchmark score table by simulating Swiss-system
tournaments (Competitive Swiss-System Dynamics, arXiv 2512.21010)."""

from csd import baselines
from csd._src.bootstrap import bootstrap
from csd._src.compare import baseline_intervals, compare, outlier_test
from csd._src.datasets import shipped_table, shipped_tiers
from csd._src.errors import InputError
from csd._src.orders import order_sensitivity
from csd._src.outcomes import win_probabilities
from csd._src.report.api import Report, report
from csd._src.report.api import Report, report
from csd._src.rounds import order_rounds
from csd._src.results import (
    BootstrapResult,
    Comparison,
    OrderSensitivity,
    OutlierResult,
    SimulationResult,
    SweepResult,
)
from csd._src.simulate import simulate
from csd._src.spec import Tournament
from csd._src.sweep import sweep
from csd._src.table import ScoreTable, load_table

__all__ = [
    "BootstrapResult",
    "Comparison",
    "InputError",
    "OrderSensitivity",
    "OutlierResult",
    "Report",
    "Report",
    "ScoreTable",
    "SimulationResult",
    "SweepResult",
    "Tournament",
    "baseline_intervals",
    "baselines",
    "bootstrap",
    "compare",
    "load_table",
    "order_rounds",
    "order_sensitivity",
    "outlier_test",
    "report",
    "report",
    "shipped_table",
    "shipped_tiers",
    "simulate",
    "sweep",
    "win_probabilities",
]


def __getattr__(name: str):
    """`csd.plots`, imported on first use (it imports matplotlib, which `import csd` does not)."""
    if name == "plots":
        import importlib

        return importlib.import_module("csd.plots")
    raise AttributeError(f"module 'csd' has no attribute {name!r}")
