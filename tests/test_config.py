"""The typed run config: the shipped configs, the key-named errors of bad options, and table preparation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

import csd
from csd._src.config import DataConfig, EliminationConfig, RunConfig, is_list_key, prepare_table
from csd._src.runs import Context, run_mode

CATEGORIES = json.loads(Path(csd.shipped_tiers("livebench")).read_text())


def composed(*overrides: str) -> dict:
    with initialize_config_module(config_module="csd.configs", version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)


def test_shipped_yaml_defaults_equal_the_dataclass_defaults():
    assert RunConfig.from_dict(composed()) == RunConfig()


@pytest.mark.parametrize(
    "group,options",
    [
        ("data", ["livebench", "epoch_hub_small", "openllm_v2"]),
        ("pairing", ["random", "float", "fold", "slide", "adjacent"]),
        ("elimination", ["constant", "none"]),
        ("experiment", ["paper", "paper_fsa"]),
    ],
)
def test_every_shipped_config_file_validates(group, options):
    for option in options:
        config = RunConfig.from_dict(composed(f"{group}={option}"))
        if group == "pairing":
            assert config.pairing.rule == option
        if group == "data":
            assert config.data.table == option


def test_paper_experiments_have_the_papers_settings():
    paper = RunConfig.from_dict(composed("experiment=paper"))
    assert (paper.mode, paper.n_runs, paper.elimination.t, paper.pairing.bye_points) == (
        "simulate",
        100_000,
        0,
        0.0,
    )
    fsa = RunConfig.from_dict(composed("experiment=paper_fsa"))
    assert (fsa.mode, fsa.n_runs, fsa.sweep.schedules) == ("sweep", 100_000, [0, 1, 2])


def test_schedule_elimination_takes_one_t_per_round():
    config = RunConfig.from_dict(composed("elimination=schedule", "elimination.t=[0,1,2]"))
    assert config.elimination == EliminationConfig("schedule", [0, 1, 2], 1)
    assert config.tournament() == csd.Tournament(elimination=(0, 1, 2))
    assert config.tournament().label() == "T=[0,1,2]" and csd.Tournament(elimination=[2, 2]).label() == "T=2"


@pytest.mark.parametrize(
    "raw,message",
    [
        ({"n_runs": 0}, "n_runs=0 must be >= 1"),
        ({"seed": -1}, "seed=-1 must be >= 0"),
        ({"n_runs": "many"}, "n_runs: Value 'many' of type 'str' could not be converted to Integer"),
        ({"nruns": 5}, "unknown option nruns; allowed at the top level: mode, n_runs, seed"),
        (
            {"pairing": {"rule": "random", "byes": 1}},
            "unknown option pairing.byes; allowed in pairing: rule, tie, bye_points, draw_points",
        ),
        ({"pairing": {"tie": "flip"}}, "pairing.tie: tie='flip' is not allowed; choose one of: coin, draw"),
        ({"pairing": {"draw_points": 1.5}}, r"pairing.draw_points: draw_points=1.5 must be in \[0, 1\]"),
        ({"pairing": {"rule": "swiss"}}, "pairing.rule: pairing='swiss' is not allowed; choose one of: random, float"),
        (
            {"elimination": {"kind": "constant", "t": [1, 2]}},
            "must be one int >= 0 under elimination=constant",
        ),
        ({"elimination": {"kind": "schedule", "t": [1, -2]}}, r"elimination.t: elimination, round 2 \(T\)=-2 must be >= 0"),
        ({"elimination": {"kind": "schedule", "t": [1, 2]}}, "elimination.t: elimination: has 2 entries but the tournament has 21 rounds"),
        ({"elimination": {"kind": "schedule"}}, "elimination.t=0 must be a list of ints >= 0, one per round"),
        (
            {"elimination": {"kind": "sudden"}},
            "elimination.kind='sudden' is not allowed; choose one of: constant, schedule, none",
        ),
        ({"elimination": {"min_active": 0}}, "elimination.min_active: min_active=0 must be >= 1"),
        ({"data": {"table": None, "path": None}}, "give data.path=FILE"),
        (
            {"data": {"table": "mmlu"}},
            "data.table: table='mmlu' is not allowed; choose one of: livebench, epoch_hub_small, openllm_v2",
        ),
        (
            {"data": {"tier_order": "hard-first"}},
            "data.tier_order: tier_order='hard-first' is not allowed; choose one of: given, easy-first",
        ),
        ({"mode": "sweep", "sweep": {"schedules": [0]}}, "a sweep needs at least two schedules"),
        ({"mode": "sweep", "sweep": {"schedules": [0, [1, "x"]]}}, r"sweep.schedules: .*round 2 \(T\)='x' must be an integer"),
        (
            {"mode": "bootstrap", "bootstrap": {"scheme": "jackknife"}},
            "bootstrap.scheme: scheme='jackknife' is not allowed; choose one of: benchmarks, noise",
        ),
        (
            {"mode": "bootstrap", "bootstrap": {"interval": "bca"}},
            "bootstrap.interval: interval='bca' is not allowed; choose one of: percentile, shifted, expanded",
        ),
        ({"mode": "compare", "compare": {"methods": ["csd", "vibes"]}}, "compare.methods: unknown method 'vibes'"),
        ({"mode": "collect"}, "mode=collect needs dir=FOLDER"),
        ({"mode": "outlier"}, "mode=outlier needs outlier.model=NAME"),
        ({"mode": "rank"}, "mode='rank' is not allowed; choose one of: simulate, sweep"),
        ({"progress": "maybe"}, "progress: Value 'maybe' is not a valid bool"),
        ({"pairing": {"bye": "first"}}, "pairing.bye: bye='first' is not allowed; choose one of: random, lowest"),
        ({"pairing": {"bye_once": "often"}}, "pairing.bye_once: Value 'often' is not a valid bool"),
        (
            {"pairing": {"rule": "fold", "bye": "random"}},
            "pairing.bye: bye='random' does not apply to pairing='fold'",
        ),
        ({"target_se": -0.1}, "target_se=-0.1 must be > 0"),
        ({"mode": "bootstrap", "estimator": "fast"}, "estimator='fast' is not allowed; choose one of: cv, plain"),
    ],
)
def test_invalid_options_name_the_key_and_what_is_allowed(raw, message, tmp_path):
    with pytest.raises(csd.InputError, match=message):
        run_mode(RunConfig.from_dict({"n_runs": 10, **raw}), Context(tmp_path))
    assert not any(tmp_path.iterdir())


def test_pairing_options_reach_the_tournament():
    config = RunConfig.from_dict(
        composed("pairing=fold", "pairing.bye=lowest", "pairing.bye_once=true", "pairing.avoid_rematch=true")
    )
    assert config.tournament() == csd.Tournament(pairing="fold", bye="lowest", bye_once=True, avoid_rematch=True)
    assert RunConfig().tournament() == csd.Tournament()


def test_config_round_trips_through_its_dict():
    config = RunConfig.from_dict(
        {"elimination": {"kind": "schedule", "t": [0, 1]}, "sweep": {"schedules": [0, [1, 2]]}}
    )
    assert RunConfig.from_dict(config.to_dict()) == config
    assert json.loads(json.dumps(config.to_dict()))["sweep"]["schedules"] == [0, [1, 2]]
    assert config.tournament().elimination == (0, 1)


def test_livebench_rounds_go_tier_by_tier_in_the_tiers_order():
    prepared = prepare_table(DataConfig(order="given", tier_order="given"))
    assert list(prepared.tiers) == list(CATEGORIES)
    assert list(prepared.table.benchmarks) == [b for tier in CATEGORIES.values() for b in tier]
    plain = prepare_table(DataConfig(order="given", tiers=None))
    assert plain.tiers is None
    assert plain.table.benchmarks == csd.load_table(csd.shipped_table("livebench")).benchmarks


def test_easy_first_orders_by_mean_score_inside_each_tier():
    prepared = prepare_table(DataConfig(order="easy-first", tiers="auto", tier_order="given"))
    raw = csd.load_table(csd.shipped_table("livebench"))
    means = dict(zip(raw.benchmarks, np.nanmean(raw.scores, axis=0)))
    assert list(prepared.tiers) == list(CATEGORIES)
    for tier, benchmarks in prepared.tiers.items():
        assert sorted(benchmarks) == sorted(CATEGORIES[tier])
        assert [means[b] for b in benchmarks] == sorted((means[b] for b in benchmarks), reverse=True)
    flat = prepare_table(DataConfig(order="easy-first", tiers=None)).table.benchmarks
    assert [means[b] for b in flat] == sorted(means.values(), reverse=True)


def test_tier_order_easy_first_puts_the_easiest_category_first():
    config = RunConfig.from_dict(composed("data.tiers=auto", "data.tier_order=easy-first", "data.order=easy-first"))
    prepared = prepare_table(config.data)
    raw = csd.load_table(csd.shipped_table("livebench"))
    means = dict(zip(raw.benchmarks, np.nanmean(raw.scores, axis=0)))
    tier_means = [np.mean([means[b] for b in CATEGORIES[tier]]) for tier in prepared.tiers]
    assert sorted(prepared.tiers) == sorted(CATEGORIES) and list(prepared.tiers) != list(CATEGORIES)
    assert tier_means == sorted(tier_means, reverse=True)
    assert list(prepared.table.benchmarks) == [b for tier in prepared.tiers.values() for b in tier]
    for benchmarks in prepared.tiers.values():  # still easy-first inside each tier
        assert [means[b] for b in benchmarks] == sorted((means[b] for b in benchmarks), reverse=True)


def test_random_order_is_a_permutation_fixed_by_the_seed():
    def rounds(seed):
        return prepare_table(DataConfig(order="random", tiers=None), seed).table.benchmarks

    assert rounds(1) == rounds(1) != rounds(2)
    assert sorted(rounds(1)) == sorted(csd.load_table(csd.shipped_table("livebench")).benchmarks)
    tiered = prepare_table(DataConfig(order="random", tiers="auto", tier_order="given"), seed=1)
    assert list(tiered.tiers) == list(CATEGORIES)  # the tiers keep their order


def test_a_path_gets_no_shipped_tiers_but_can_name_a_tiers_file(tmp_path):
    (tmp_path / "t.csv").write_text("model,x,y,z\na,1,2,3\nb,3,2,1\n")
    assert prepare_table(DataConfig(path=str(tmp_path / "t.csv"))).tiers is None
    (tmp_path / "tiers.json").write_text('{"hard": ["z"], "easy": ["y", "x"]}')
    prepared = prepare_table(DataConfig(path=str(tmp_path / "t.csv"), tiers=str(tmp_path / "tiers.json")))
    assert prepared.tiers == {"hard": ["z"], "easy": ["y", "x"]}
    assert prepared.table.benchmarks == ("z", "y", "x")


@pytest.mark.parametrize(
    "tiers,message",
    [
        ('{"a": ["x", "y"]}', "puts no tier on benchmark\\(s\\): z"),
        ('{"a": ["x", "y", "z", "w"]}', "names benchmark\\(s\\) the table lacks: w"),
        ('{"a": ["x", "y"], "b": ["y", "z"]}', "benchmark 'y' is in tiers 'a' and 'b'"),
        ('["x", "y", "z"]', "must be a JSON object"),
        ('{"a": [', "is not valid JSON"),
    ],
)
def test_a_tiers_file_that_does_not_fit_the_table_is_an_input_error(tmp_path, tiers, message):
    (tmp_path / "t.csv").write_text("model,x,y,z\na,1,2,3\nb,3,2,1\n")
    (tmp_path / "tiers.json").write_text(tiers)
    with pytest.raises(csd.InputError, match=message):
        prepare_table(DataConfig(path=str(tmp_path / "t.csv"), tiers=str(tmp_path / "tiers.json")))


def test_tiers_skip_benchmarks_the_missing_policy_dropped(tmp_path):
    (tmp_path / "t.csv").write_text("model,x,y,z\na,1,,3\nb,3,2,1\n")
    (tmp_path / "tiers.json").write_text('{"one": ["x", "y"], "two": ["z"]}')
    prepared = prepare_table(
        DataConfig(path=str(tmp_path / "t.csv"), missing="drop-benchmark", tiers=str(tmp_path / "tiers.json"))
    )
    assert prepared.tiers == {"one": ["x"], "two": ["z"]}


@pytest.mark.parametrize("missing", ["loss", "drop-model"])
def test_load_table_gives_shipped_livebench_in_csd_runs_round_order(missing):
    table = csd.load_table(csd.shipped_table("livebench"), missing=missing)
    prepared = prepare_table(RunConfig.from_dict(composed(f"data.missing={missing}")).data)
    assert table.benchmarks == prepared.table.benchmarks
    assert table.benchmarks == tuple(b for names in prepared.tiers.values() for b in names)
    assert list(prepared.tiers) != list(CATEGORIES)  # the easiest category first, not the file's listing
    np.testing.assert_array_equal(table.scores, prepared.table.scores)
    assert any(note.startswith("round order: the shipped livebench table's") for note in table.notes)


def test_a_copy_of_a_shipped_table_and_tables_without_categories_keep_their_column_order(tmp_path):
    source = Path(csd.shipped_table("livebench"))
    header = source.read_text().splitlines()[0].split(",")[1:]
    (tmp_path / "copy.csv").write_text(source.read_text())
    assert list(csd.load_table(tmp_path / "copy.csv").benchmarks) == header
    epoch = Path(csd.shipped_table("epoch_hub_small"))
    assert list(csd.load_table(epoch).benchmarks) == epoch.read_text().splitlines()[0].split(",")[1:]


def test_is_list_key_follows_the_schema():
    assert is_list_key("data.lower_is_better") and is_list_key("sweep.schedules") and is_list_key("compare.methods")
    assert not any(map(is_list_key, ("elimination.t", "n_runs", "pairing", "data", "data.nope", "nope.x", "seed.x")))


def test_prepare_table_names_the_top_level_seed_and_refuses_an_empty_path():
    with pytest.raises(csd.InputError, match=r"^seed=-1 must be >= 0$"):
        prepare_table(DataConfig(), -1)
    with pytest.raises(csd.InputError, match=r"^data.path: path='' names no file"):
        prepare_table(DataConfig(path=""))
