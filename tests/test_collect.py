"""mode=collect: simulate runs of a multirun read back and merged into one sweep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import csd
from csd._src.config import EliminationConfig, RunConfig
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
    (folder / "results.json").write_text(json.dumps(data))


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


def test_collect_names_a_results_file_it_cannot_read(tmp_path):
    _fake_run(tmp_path / "0", t=0, num=0)
    broken = json.loads((tmp_path / "0" / "results.json").read_text())
    del broken["stderr"]
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "results.json").write_text(json.dumps(broken))
    with pytest.raises(csd.InputError, match=r"1/results.json: not a whole csd-run simulate result"):
        run_collect(RunConfig(mode="collect", dir=str(tmp_path)), Context(tmp_path / "collect"))
