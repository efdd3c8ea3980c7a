"""mode=collect: simulate runs of a multirun read back and merged into one sweep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import csd
from csd._src import rundir
from csd._src.config import CollectConfig, EliminationConfig, RunConfig
from csd._src.runs import Context, run_collect


def _fake_run(folder: Path, t: int, num: int, models=("a", "b"), scores=(2.0, 1.0)):
    folder.mkdir(parents=True)
    result = csd.SimulationResult(
        models=tuple(models), rounds=("r1", "r2"), expected_score=np.array(scores), stderr=np.array([0.03, 0.04]),
        rank_probs=np.eye(2), champion_prob=np.array([1.0, 0.0]), survival=np.ones((2, 2)),
        expected_score_by_round=np.ones((2, 2)), n_runs=100, tournament=csd.Tournament(elimination=t), seed=0,
    )
    data = {
        "mode": "simulate",
        "config": RunConfig(elimination=EliminationConfig("constant", t)).to_dict(),
        "job": {"overrides": [f"elimination.t={t}"], "num": num},
        "table": {"name": "x", "source": "x.csv", "n_models": 2, "n_benchmarks": 2, "rounds": ["r1", "r2"],
                  "order": "given", "tier_order": "given", "tiers": None, "missing_report": "0 missing"},
        **result.to_dict(),
    }
    stage = rundir.staging_folder(folder)
    (stage / "results.json").write_text(json.dumps(data))
    rundir.publish(folder, stage)


def test_collect_orders_runs_by_job_number_and_takes_drops_against_the_first(tmp_path):
    _fake_run(tmp_path / "10", t=2, num=10, scores=(1.5, 0.5))
    _fake_run(tmp_path / "9", t=0, num=9)
    output = run_collect(RunConfig(mode="collect", dir=str(tmp_path)), Context(tmp_path / "collect"))
    assert output.results["labels"] == ["T=0", "T=2"] and output.results["coupling"] == "collected"
    np.testing.assert_allclose(output.results["drop"], [[0, 0], [-0.5, -0.5]])
    np.testing.assert_allclose(output.results["relative_drop"][1], [-0.25, -0.5])
    np.testing.assert_allclose(output.results["drop_stderr"][1], [0.03 * 2**0.5, 0.04 * 2**0.5])


@pytest.mark.parametrize(
    "second,message",
    [
        ({"t": 0, "num": 1}, "both ran T=0"),
        ({"t": 1, "num": 1, "models": ("a", "c")}, "its models or rounds differ"),
    ],
)
def test_collect_refuses_runs_it_cannot_merge(tmp_path, second, message):
    _fake_run(tmp_path / "0", t=0, num=0)
    _fake_run(tmp_path / "1", **second)
    with pytest.raises(csd.InputError, match=message):
        run_collect(RunConfig(mode="collect", dir=str(tmp_path)), Context(tmp_path / "collect"))


def test_collect_needs_simulate_runs(tmp_path):
    with pytest.raises(csd.InputError, match="no results.json of a mode=simulate run"):
        run_collect(RunConfig(mode="collect", dir=str(tmp_path)), Context(tmp_path / "collect"))


def _collect(root: Path, skip_broken: bool = False):
    config = RunConfig(mode="collect", dir=str(root), collect=CollectConfig(skip_broken=skip_broken))
    return run_collect(config, Context(root / "collect"))


def _rewrite(folder: Path, change) -> None:
    """Republishes the run in `folder` with its results.json data changed by `change`."""
    data = json.loads((folder / "results.json").read_text())
    change(data)
    stage = rundir.staging_folder(folder)
    (stage / "results.json").write_text(json.dumps(data))
    rundir.publish(folder, stage)


def _cut_short(data):
    data["expected_score"] = data["expected_score"][:1]


def _strings(data):
    data["expected_score"] = ["x", "y"]


def _no_stderr(data):
    del data["stderr"]


def _unmanifested(folder: Path):
    (folder / rundir.MANIFEST).unlink()


def _tampered(folder: Path):
    (folder / "results.json").write_text((folder / "results.json").read_text().replace('"seed": 0', '"seed": 1'))


def _publishing_left_over(folder: Path):
    (folder / rundir.PUBLISHING).mkdir()


def _json_list(folder: Path):
    (folder / "results.json").write_text("[1, 2]")


def _symlink_loop(folder: Path):
    (folder / "results.json").unlink()
    (folder / "results.json").symlink_to("results.json")


BROKEN_RUNS = {
    "cut short": (lambda f: _rewrite(f, _cut_short), r"expected_score has shape \(1,\), not \(2,\)"),
    "strings": (lambda f: _rewrite(f, _strings), r"expected_score holds <U1 values, not numbers"),
    "a field missing": (lambda f: _rewrite(f, _no_stderr), r"not a whole csd-run simulate result \(KeyError"),
    "no manifest": (_unmanifested, r"no manifest.json"),
    "a file not matching the manifest": (_tampered, r"results.json: does not match manifest.json"),
    ".publishing left over": (_publishing_left_over, r"a publish was interrupted \(.publishing left over\)"),
    "a JSON list": (_json_list, r"holds a JSON list, not a csd-run result"),
    "a symlink loop": (_symlink_loop, r"cannot read it as JSON: .*Too many levels of symbolic links"),
}


@pytest.mark.parametrize("case", BROKEN_RUNS)
def test_collect_names_each_broken_run_and_refuses_unless_told_to_skip(tmp_path, case):
    damage, reason = BROKEN_RUNS[case]
    _fake_run(tmp_path / "0", t=0, num=0)
    _fake_run(tmp_path / "1", t=1, num=1)
    _fake_run(tmp_path / "2", t=2, num=2)
    damage(tmp_path / "1")
    with pytest.raises(csd.InputError, match=r"1 run\(s\) cannot be merged: 1/results.json \(" + reason) as caught:
        _collect(tmp_path)
    assert "collect.skip_broken=true" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.warns(RuntimeWarning, match=r"collect: skipped 1/results.json \(" + reason):
        output = _collect(tmp_path, skip_broken=True)
    assert output.results["labels"] == ["T=0", "T=2"]
    assert [entry["run"] for entry in output.results["skipped"]] == ["1/results.json"]


def test_collect_passes_over_whole_runs_of_other_modes_in_silence(tmp_path):
    _fake_run(tmp_path / "0", t=0, num=0)
    _fake_run(tmp_path / "1", t=1, num=1)
    (tmp_path / "collect").mkdir()
    stage = rundir.staging_folder(tmp_path / "collect")
    (stage / "results.json").write_text(json.dumps({"mode": "collect"}))
    rundir.publish(tmp_path / "collect", stage)
    output = _collect(tmp_path)
    assert output.results["labels"] == ["T=0", "T=1"] and output.results["skipped"] == []
