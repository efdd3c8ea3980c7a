"""csd.order_rounds: the round order, tier by tier, and that csd-run's data options use it."""

from __future__ import annotations

import json

import numpy as np
import pytest

import csd
from csd._src.config import DataConfig, prepare_table

LIVEBENCH = csd.load_table(csd.shipped_table("livebench"))
CATEGORIES_FILE = csd.shipped_tiers("livebench")
with open(CATEGORIES_FILE, encoding="utf-8") as _handle:
    CATEGORIES = json.load(_handle)
# x is the easiest benchmark (mean 8), then z (5), then y (2); w is missing for model b.
SMALL = csd.ScoreTable(("a", "b"), ("w", "x", "y", "z"), np.array([[4.0, 9, 1, 5], [np.nan, 7, 3, 5]]))


def test_without_tiers_given_keeps_the_table_and_easy_first_sorts_by_mean_score():
    table, tiers = csd.order_rounds(SMALL)
    assert table is SMALL and tiers is None
    table, tiers = csd.order_rounds(SMALL, "easy-first")
    assert table.benchmarks == ("x", "z", "w", "y") and tiers is None  # w: its one present score, 4
    np.testing.assert_array_equal(table.scores[:, 0], [9.0, 7.0])  # the scores move with their columns


def test_rounds_go_tier_by_tier_and_easy_first_tiers_by_their_mean_score():
    tiers = {"hard": ["y", "w"], "easy": ["z", "x"]}  # means 3 and 6.5
    table, ordered = csd.order_rounds(SMALL, "easy-first", tiers)
    assert table.benchmarks == ("w", "y", "x", "z") and ordered == {"hard": ["w", "y"], "easy": ["x", "z"]}
    table, ordered = csd.order_rounds(SMALL, "given", tiers, tier_order="easy-first")
    assert table.benchmarks == ("z", "x", "y", "w") and list(ordered) == ["easy", "hard"]


def test_a_tiers_file_and_a_mapping_give_the_same_rounds(tmp_path):
    path = tmp_path / "tiers.json"
    path.write_text(json.dumps(CATEGORIES))
    from_file = csd.order_rounds(LIVEBENCH, "easy-first", path, tier_order="easy-first")
    from_mapping = csd.order_rounds(LIVEBENCH, "easy-first", CATEGORIES, tier_order="easy-first")
    assert from_file[0].benchmarks == from_mapping[0].benchmarks and from_file[1] == from_mapping[1]


@pytest.mark.parametrize("order", ["given", "easy-first", "random"])
@pytest.mark.parametrize("tier_order", ["given", "easy-first"])
def test_csd_run_data_options_give_the_same_rounds_as_order_rounds(order, tier_order):
    prepared = prepare_table(DataConfig(order=order, tiers="auto", tier_order=tier_order), seed=3)
    table, tiers = csd.order_rounds(LIVEBENCH, order, CATEGORIES_FILE, tier_order=tier_order, seed=3)
    assert prepared.table.benchmarks == table.benchmarks and prepared.tiers == tiers
    np.testing.assert_array_equal(prepared.table.scores, table.scores)


def test_random_order_depends_only_on_the_seed():
    rounds = {seed: csd.order_rounds(LIVEBENCH, "random", seed=seed)[0].benchmarks for seed in (1, 1, 2)}
    assert len(rounds) == 2 and sorted(rounds[1]) == sorted(LIVEBENCH.benchmarks)
    assert csd.order_rounds(LIVEBENCH, "random", seed=1)[0].benchmarks == rounds[1]


def test_tiers_skip_benchmarks_the_table_dropped(tmp_path):
    (tmp_path / "t.csv").write_text("model,x,y,z\na,1,,3\nb,3,2,1\n")
    table = csd.load_table(tmp_path / "t.csv", missing="drop-benchmark")
    assert csd.order_rounds(table, tiers={"one": ["y"], "two": ["z", "x"]})[1] == {"two": ["z", "x"]}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: csd.order_rounds(SMALL, "hardest"), "order='hardest' is not allowed; choose one of: given"),
        (lambda: csd.order_rounds(SMALL, tier_order="random"), "tier_order='random' is not allowed"),
        (lambda: csd.order_rounds(SMALL, seed=-1), "seed=-1 must be >= 0"),
        (lambda: csd.order_rounds(SMALL.scores), "order_rounds needs a ScoreTable, got ndarray"),
        (lambda: csd.order_rounds(SMALL, tiers={"a": ["w", "x"]}), r"tiers puts no tier on benchmark\(s\): y, z"),
        (lambda: csd.order_rounds(SMALL, tiers={"a": ["w", "x", "y", "z", "v"]}), r"lacks: v"),
        (lambda: csd.order_rounds(SMALL, tiers={"a": ["w", "x"], "b": ["x", "y", "z"]}),
         "benchmark 'x' is in tiers 'a' and 'b'"),
        (lambda: csd.order_rounds(SMALL, tiers={"a": "wxyz"}), "must be a JSON object"),
        (lambda: csd.order_rounds(SMALL, tiers=["w", "x", "y", "z"]), "tiers must be None, a mapping"),
        (lambda: csd.order_rounds(SMALL, tiers="/no/such/tiers.json"), "tiers='/no/such/tiers.json': cannot read"),
    ],
)
def test_bad_options_and_tiers_are_input_errors_naming_the_option(call, message):
    with pytest.raises(csd.InputError, match=message):
        call()


def test_shipped_tiers_cover_livebench_and_no_other_table():
    assert sorted(b for names in CATEGORIES.values() for b in names) == sorted(LIVEBENCH.benchmarks)
    assert csd.shipped_tiers("epoch_hub_small") is None
    with pytest.raises(csd.InputError, match="table='mmlu' is not allowed"):
        csd.shipped_tiers("mmlu")
