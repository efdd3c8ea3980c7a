"""Score tables shipped inside the package (see csd/data/SOURCES.md for their origin)."""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from typing import TYPE_CHECKING

from csd._src.errors import check_choice

if TYPE_CHECKING:
    from csd._src.table import ScoreTable

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
    LiveBench lists them. `csd.load_table` already plays the shipped table tier by tier
    (`in_shipped_order`); the tiers are for `csd.bootstrap` and `csd.compare` to resample
    inside them (docs/data.md, "Round order").

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


def in_shipped_order(table: ScoreTable) -> ScoreTable:
    """`table` with its columns in the round order of the shipped table it was read from:
    for a table that ships tiers (LiveBench), tier by tier, the easiest tier first and the
    easiest benchmark first inside each (`csd.order_rounds(table, "easy-first",
    shipped_tiers(name), tier_order="easy-first")`), which is also `csd-run`'s default
    (`data.order=auto`); any other table is returned as it is.

    So `csd.load_table(csd.shipped_table("livebench"))` and `csd-run` play the same rounds
    in the same order: the paper plays its benchmarks from foundational to advanced, and
    the file's own order (alphabetical) carries no meaning. A copy of the file elsewhere is
    read in its column order, like any other file.
    """
    from csd._src.rounds import order_rounds

    name = shipped_name(table.source)
    tiers_file = None if name is None else shipped_tiers(name)
    if tiers_file is None:
        return table
    with open(tiers_file, encoding="utf-8") as handle:
        tiers = {tier: [b for b in names if b in table.benchmarks] for tier, names in json.load(handle).items()}
    ordered, tiers = order_rounds(table, "easy-first", tiers, tier_order="easy-first")
    note = (f"round order: the shipped {name} table's, as csd-run plays it: its {len(tiers)} categories "
            "(csd.shipped_tiers), the easiest first, and the easiest benchmark first inside each (by mean score)")
    return dataclasses.replace(ordered, notes=ordered.notes + (note,))


def shipped_name(source) -> str | None:
    """The name of the shipped table at path `source` (any spelling of the same file), or
    None for any other path or source."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = os.path.realpath(os.fspath(source))
    for name in SHIPPED_TABLES:
        if path == os.path.realpath(shipped_table(name)):
            return name
    return None
