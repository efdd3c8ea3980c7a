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
