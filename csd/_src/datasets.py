"""Score tables shipped inside the package (see csd/data/SOURCES.md for their origin)."""

from __future__ import annotations

from importlib import resources

from csd._src.errors import check_choice

SHIPPED_TABLES = {
    "livebench": "livebench_2025_12_23.csv",
    "epoch_hub_small": "epoch_hub_small.csv",
    "openllm_v2": "openllm_v2.csv",
}


def shipped_table(name: str) -> str:
    """The path of a table shipped with csd: `livebench` (65 x 21), `epoch_hub_small`
    (28 x 19, 41% missing) or `openllm_v2` (4576 x 6).

    Example:
      >>> import csd
      >>> csd.shipped_table("livebench").endswith("livebench_2025_12_23.csv")
      True
    """
    check_choice("table", name, SHIPPED_TABLES)
    return str(resources.files("csd") / "data" / SHIPPED_TABLES[name])


# Tiers that ship with a table: package data files next to it, {tier: [benchmarks]}.
SHIPPED_TIERS = {"livebench": "livebench_2025_12_23_categories.json"}


def shipped_tiers(name: str) -> str | None:
    """The path of the tiers file shipped with table `name` (a JSON object {tier:
    [benchmarks]}, for `csd.order_rounds` and `csd.bootstrap`), or None if the table ships
    none. Only `livebench` does: its 7 categories (Reasoning, Coding, ...), in the order
    LiveBench lists them.

    Example:
      >>> import csd
      >>> csd.shipped_tiers("livebench").endswith("livebench_2025_12_23_categories.json")
      True
      >>> csd.shipped_tiers("openllm_v2") is None
      True
    """
    check_choice("table", name, SHIPPED_TABLES)
    if name not in SHIPPED_TIERS:
        return None
    return str(resources.files("csd") / "data" / SHIPPED_TIERS[name])
