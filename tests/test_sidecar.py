"""results.npz: the large arrays of a result beside its results.json (csd._src.sidecar), and
report.md tables that stay short on big tables."""

from __future__ import annotations

import dataclasses
import json
import numpy as np
import pytest

import csd
from csd._src import rundir, sidecar
from csd._src.config import EliminationConfig, RunConfig
from csd._src.runs import Context, RunOutput, run_collect, write_outputs
from csd._src.sweep import sweep_result
from csd._src.outputs import REPORT_ROWS, to_json
from csd.testing.cli import run_cli_in_process as run_cli


def fake_result(n_models: int = 5, n_rounds: int = 3, seed: int = 0) -> csd.SimulationResult:
    """A SimulationResult with a sparse rank distribution of shares k / N (as `simulate`'s),
    without running a simulation."""
    rng = np.random.default_rng(seed)
    n_runs = 1000
    counts = np.zeros((n_models, n_models), dtype=np.int64)
    for m in range(n_models):
        ranks = rng.integers(max(0, m - 2), min(n_models, m + 3), size=n_runs)
        counts[m] = np.bincount(ranks, minlength=n_models)
    rank_probs = counts / n_runs
    scores = np.sort(rng.uniform(0, n_rounds, n_models))[::-1].copy()
    return csd.SimulationResult(
        models=tuple(f"model-{m}" for m in range(n_models)), rounds=tuple(f"r{k}" for k in range(n_rounds)),
        expected_score=scores, stderr=np.full(n_models, 0.01), rank_probs=rank_probs,
        champion_prob=rank_probs[:, 0].copy(), survival=rng.uniform(size=(n_models, n_rounds)),
        worst_rank_probs=np.roll(rank_probs, 1, axis=1),  # any sparse (M, M) shares k / N
        expected_score_by_round=np.cumsum(rng.uniform(size=(n_models, n_rounds)), axis=1), n_runs=n_runs,
        tournament=csd.Tournament(), seed=seed, round_activity=np.ones(n_rounds), estimator="cv",
        variance_reduction=np.array([np.nan, *np.ones(n_models - 1)]),
    )


def assert_same(a: csd.SimulationResult, b: csd.SimulationResult) -> None:
    for field in ("models", "rounds", "n_runs", "tournament", "seed", "estimator"):
        assert getattr(a, field) == getattr(b, field), field
    for field in ("expected_score", "stderr", "rank_probs", "champion_prob", "survival", "expected_score_by_round",
                  "round_activity", "variance_reduction", "worst_rank_probs"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), field


def test_pack_gives_every_array_back_bit_for_bit():
    rank_probs = fake_result(40).rank_probs
    odd = np.array([[0.0, -0.0, np.nan], [np.inf, 0.0, 0.0], [0.0, 0.0, 1e-300]])  # sparse: -0.0 and NaN kept
    arrays = {"rank_probs": rank_probs, "odd": odd, "dense": np.arange(12.0).reshape(3, 4),
              "counts": np.eye(3, dtype=np.int32), "vector": np.array([1.5, np.nan])}
    again = sidecar.unpack(sidecar.pack(arrays))
    assert sorted(again) == sorted(arrays)
    for key, array in arrays.items():
        assert again[key].dtype == array.dtype and again[key].tobytes() == array.tobytes(), key
    assert sidecar.pack(arrays) == sidecar.pack(arrays)  # no time stamp: same arrays, same bytes


def test_save_and_load_round_trip_exactly_with_the_arrays_in_the_sidecar(tmp_path):
    result = fake_result(30)
    written = result.save(tmp_path / "results.json")
    assert [p.name for p in written] == ["results.npz", "results.json"]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["sidecar"] == {"file": "results.npz",
                               "arrays": ["expected_score_by_round", "rank_probs", "survival", "worst_rank_probs"]}
    assert data["rank_probs"] == {"sidecar": "rank_probs", "shape": [30, 30], "dtype": "<f8"}
    assert len(data["expected_score"]) == 30 and data["rank_interval"]["low"][0] == 1  # what a reader needs by eye
    assert_same(csd.SimulationResult.load(tmp_path / "results.json"), result)
    other = fake_result(seed=3)
    other.save(tmp_path / "other.json")  # its own sidecar, other.npz: results.npz is untouched
    assert_same(csd.SimulationResult.load(tmp_path / "other.json"), other)
    assert_same(csd.SimulationResult.load(tmp_path / "results.json"), result)


def test_a_reference_without_its_sidecar_is_refused_in_one_line(tmp_path):
    result = fake_result()
    arrays: dict = {}
    data = result.to_dict(arrays)
    with pytest.raises(ValueError, match="rank_probs is in the sidecar"):
        csd.SimulationResult.from_dict(data)
    with pytest.raises(ValueError, match="has shape \\[4, 4\\], the JSON says \\[5, 5\\]"):
        csd.SimulationResult.from_dict(data, {**arrays, "rank_probs": np.eye(4)})
    result.save(tmp_path / "results.json")
    (tmp_path / "results.npz").unlink()
    with pytest.raises(FileNotFoundError, match="results.npz: the sidecar that results.json names is missing"):
        csd.SimulationResult.load(tmp_path / "results.json")


def test_an_older_results_json_with_every_array_inline_still_loads(tmp_path):
    result = fake_result()
    (tmp_path / "results.json").write_text(to_json({"mode": "simulate", **result.to_dict()}))
    assert "sidecar" not in json.loads((tmp_path / "results.json").read_text())
    assert_same(csd.SimulationResult.load(tmp_path / "results.json"), result)


def test_results_inside_results_put_their_arrays_under_their_own_names(tmp_path):
    sweep = sweep_result([fake_result(seed=1), fake_result(seed=2)], "collected")
    arrays: dict = {}
    data = sweep.to_dict(arrays)
    assert data["results"][1]["rank_probs"]["sidecar"] == "results.1.rank_probs"
    assert len(arrays) == 8 and np.array_equal(arrays["results.1.rank_probs"], sweep.results[1].rank_probs)
    sweep.save(tmp_path / "results.json")
    again = csd.SweepResult.load(tmp_path / "results.json")
    for a, b in zip(again.results, sweep.results):
        assert_same(a, b)


def test_collect_reads_runs_with_a_sidecar_and_older_ones_inline(tmp_path):
    runs = {0: fake_result(seed=1), 1: fake_result(seed=2)}
    for t, result in runs.items():
        facts = {"mode": "simulate", "config": RunConfig(elimination=EliminationConfig("constant", t)).to_dict(),
                 "job": {"overrides": [], "num": t},
                 "table": {"name": "x", "source": "x.csv", "n_models": 5, "n_benchmarks": 3,
                           "rounds": ["r0", "r1", "r2"], "order": "given", "tier_order": "given", "tiers": None,
                           "missing_report": "0 missing"}}
        result = runs[t] = dataclasses.replace(result, tournament=csd.Tournament(elimination=t))
        (tmp_path / str(t)).mkdir()
        stage = rundir.staging_folder(tmp_path / str(t))
        arrays: dict = {} if t == 0 else None  # run 0 with a sidecar, run 1 as older files were
        data = {**facts, **result.to_dict(arrays)}
        if arrays is None:
            (stage / "results.json").write_text(to_json(data))
        else:
            sidecar.save(stage / "results.json", data, arrays)
        rundir.publish(tmp_path / str(t), stage)  # collect merges published sets only
    output = run_collect(RunConfig(mode="collect", dir=str(tmp_path)), Context(tmp_path / "collect"))
    assert output.results["labels"] == ["T=0", "T=1"]
    assert sorted(output.arrays) == [f"results.{s}.{name}" for s in (0, 1)
                                     for name in ("expected_score_by_round", "rank_probs", "survival",
                                                  "worst_rank_probs")]
    for s, result in runs.items():
        assert np.array_equal(output.arrays[f"results.{s}.rank_probs"], result.rank_probs)
    (tmp_path / "0" / "results.npz").write_bytes(b"not an npz")  # caught by the run's manifest
    with pytest.raises(csd.InputError, match=r"0/results.json \(.*results.npz: does not match manifest.json"):
        run_collect(RunConfig(mode="collect", dir=str(tmp_path)), Context(tmp_path / "collect"))


def test_report_table_shows_the_top_rows_and_says_where_the_rest_are():
    table = fake_result(REPORT_ROWS + 150).table()
    text = table.markdown(REPORT_ROWS)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + REPORT_ROWS  # header, rule, the top rows
    assert rows[2].startswith("| 1 | model-") and rows[-1].startswith(f"| {REPORT_ROWS} | ")
    assert text.endswith(f"*150 more rows not shown; results.csv has all {REPORT_ROWS + 150}.*")
    assert len(table.csv().splitlines()) == 1 + REPORT_ROWS + 150
    assert table.markdown(REPORT_ROWS + 150) == table.markdown()  # nothing left out: no line


def test_write_outputs_publishes_the_sidecar_with_the_results(tmp_path):
    result = fake_result()
    arrays: dict = {}
    output = RunOutput({"mode": "simulate", **result.to_dict(arrays)}, "csv\n", "t", [], "body", "terminal",
                       arrays=arrays)
    folder = tmp_path / "run"
    folder.mkdir()
    written = write_outputs(output, folder, rundir.staging_folder(folder))
    assert {p.name for p in written} == {"results.json", "results.npz", "results.csv", "report.md", "report.html"}
    assert {"results.npz", "report.html"} <= set(rundir.check_manifest(folder))
    assert_same(csd.SimulationResult.load(folder / "results.json"), result)


@pytest.mark.slow
def test_csd_run_on_a_few_hundred_models_writes_a_short_report_and_the_sidecar(tmp_path):
    n_models = 260
    rng = np.random.default_rng(0)
    lines = ["model,a,b,c"] + [f"m{m:03d},{','.join(f'{x:.3f}' for x in rng.uniform(size=3))}" for m in range(n_models)]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    proc = run_cli("data.path=big.csv", "n_runs=200", "estimator=plain", "order_sensitivity=0", f"hydra.run.dir={out}",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "results.npz" in rundir.check_manifest(out)  # one more file of the published set
    report = (out / "report.md").read_text()
    assert sum(line.startswith("| ") for line in report.splitlines()) == 2 + REPORT_ROWS
    assert f"*{n_models - REPORT_ROWS} more rows not shown; results.csv has all {n_models}.*" in report
    assert len((out / "results.csv").read_text().splitlines()) == 1 + n_models
    data = json.loads((out / "results.json").read_text())
    assert data["sidecar"]["file"] == "results.npz" and data["rank_probs"]["shape"] == [n_models, n_models]
    result = csd.SimulationResult.load(out / "results.json")
    np.testing.assert_allclose(result.rank_probs.sum(axis=1), 1.0)
    assert np.array_equal(result.rank_probs, sidecar.unpack((out / "results.npz").read_bytes())["rank_probs"])


@pytest.mark.slow
def test_results_json_of_the_4576_model_table_stays_under_10_mib(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("data=openllm_v2", "n_runs=200", "estimator=plain", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "results.json").stat().st_size <= 10 * 2**20
    assert (out / "report.md").stat().st_size <= 100_000
    result = csd.SimulationResult.load(out / "results.json")
    assert result.rank_probs.shape == (4576, 4576) and len(result.models) == 4576
