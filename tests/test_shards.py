"""One run split into shards (csd._src.shards): merged, the shards give the single job's
result bit for bit, through the library and through `csd-run shard.* ` + `mode=collect`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import csd
from csd._src import shards
from csd.testing.cli import run_cli_in_process as run_cli

TABLE = csd.ScoreTable(tuple(f"m{i}" for i in range(7)), tuple(f"b{k}" for k in range(5)),
                       np.random.default_rng(1).integers(0, 5, (7, 5)).astype(float))
CSV = "model,b1,b2,b3,b4\na,9,1,5,7\nb,8,2,6,3\nc,7,3,4,6\nd,6,4,3,5\ne,5,5,2,4\n"
# results.json keys that name where or when a run ran, or how it was merged
NOT_COMPARED = ("job", "shards")


def as_json(result) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


def played_in_shards(function, count: int, *args, tmp_path: Path, **options):
    """`function(TABLE, *args, **options)` played as `count` shards, each saved to and
    loaded from disk, and merged in reverse order."""
    paths = []
    for index in range(count):
        shard = shards.Shard(index, count)
        function(TABLE, *args, shard=shard, **options)
        paths.append(tmp_path / f"shard{index}.npz")
        shard.save(paths[-1])
    with shards.merged_shards([shards.Shard.load(path) for path in reversed(paths)]):
        return function(TABLE, *args, **options)


@pytest.mark.parametrize("estimator", ["plain", "cv"])
def test_simulate_shards_merge_to_the_single_job_bit_for_bit(tmp_path, estimator):
    options = dict(n_runs=1100, seed=3, elimination=1, estimator=estimator, chunk_size=256, order_sensitivity=2)
    single = csd.simulate(TABLE, **options)
    one_shard = csd.simulate(TABLE, shard=(1, 3), **options)
    assert one_shard.n_runs == 733 - 366 and not np.array_equal(one_shard.expected_score, single.expected_score)
    assert as_json(played_in_shards(csd.simulate, 3, tmp_path=tmp_path, **options)) == as_json(single)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["plain", "cv"])
def test_sweep_and_bootstrap_shards_merge_to_the_single_job_bit_for_bit(tmp_path, estimator):
    options = dict(n_runs=700, seed=5, estimator=estimator)
    assert as_json(played_in_shards(csd.sweep, 2, [0, 1, 2], tmp_path=tmp_path, **options)) == as_json(
        csd.sweep(TABLE, [0, 1, 2], **options))
    options = dict(n_runs=300, n_boot=4, seed=5, estimator=estimator)
    assert as_json(played_in_shards(csd.bootstrap, 3, tmp_path=tmp_path, **options)) == as_json(
        csd.bootstrap(TABLE, **options))


def test_shards_that_are_not_one_whole_run_are_refused(tmp_path):
    with pytest.raises(csd.InputError, match=r"shard\(s\) 1 of 3 missing"):
        shards.check_complete([(0, 3, "a"), (2, 3, "c")])
    with pytest.raises(csd.InputError, match=r"shard 0 \(a, b\)"):
        shards.check_complete([(0, 2, "a"), (0, 2, "b"), (1, 2, "c")])
    with pytest.raises(csd.InputError, match="target_se cannot be split"):
        csd.simulate(TABLE, n_runs=100, target_se=0.1, shard=(0, 2))
    with pytest.raises(csd.InputError, match="shard.index=3 must be < shard.count=3"):
        csd.simulate(TABLE, n_runs=100, shard=(3, 3))


def csd_run(*args: str, cwd: Path):
    proc = run_cli("data.path=my.csv", "n_runs=1500", "seed=2", "elimination.t=1", "order_sensitivity=2",
                   "plots.format=[svg]", *args, cwd=cwd)
    return proc


def comparable(folder: Path) -> dict:
    results = json.loads((folder / "results.json").read_text())
    return {key: value for key, value in results.items() if key not in NOT_COMPARED}


@pytest.mark.slow  # over 4 s on two cores: the fast tier stays quick
def test_csd_run_shards_a_lost_one_rerun_then_collect_equals_the_single_job(tmp_path):
    (tmp_path / "my.csv").write_text(CSV)
    parent = tmp_path / "parent"
    for index in (0, 2):  # shard 1's job was lost (killed, preempted)
        proc = csd_run(f"shard.index={index}", "shard.count=3", f"hydra.run.dir={parent}/{index}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert (parent / str(index) / shards.SIDECAR).is_file()
    proc = run_cli("mode=collect", f"dir={parent}", cwd=tmp_path)
    assert proc.returncode != 0 and "shard(s) 1 of 3 missing" in proc.stderr
    assert "shard.index=1 shard.count=3" in proc.stderr  # the command that completes it
    proc = csd_run("shard.index=1", "shard.count=3", f"hydra.run.dir={parent}/rerun", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("mode=collect", f"dir={parent}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    single = tmp_path / "single"
    proc = csd_run(f"hydra.run.dir={single}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merged = comparable(parent / "collect")
    assert merged == comparable(single)
    assert merged["estimator"] == "cv" and merged["n_runs"] == 1500 and "order_sensitivity" in merged
    assert (parent / "collect" / "report.md").read_text().count("merged 3 shards") == 1


@pytest.mark.slow  # over 4 s on two cores: the fast tier stays quick
def test_csd_run_collect_names_a_duplicated_shard(tmp_path):
    (tmp_path / "my.csv").write_text(CSV)
    for folder, index in (("a", 0), ("b", 0), ("c", 1)):
        proc = csd_run(f"shard.index={index}", "shard.count=2", "n_runs=200", "estimator=plain", "order_sensitivity=0",
                       f"hydra.run.dir={tmp_path}/parent/{folder}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli("mode=collect", f"dir={tmp_path}/parent", cwd=tmp_path)
    assert proc.returncode != 0 and "shard 0 (a, b)" in proc.stderr


@pytest.mark.slow
def test_a_killed_shard_rerun_in_its_own_folder_then_collect(tmp_path):
    """A shard's process killed mid-run (SIGKILL: no cleanup) leaves a stale lock and
    staging folder; the same command run again takes the folder over and collect completes."""
    (tmp_path / "my.csv").write_text(CSV)
    parent = tmp_path / "parent"
    args = ["data.path=my.csv", "n_runs=400000", "seed=2", "estimator=plain", "order_sensitivity=0",
            "plots.format=[svg]", "shard.count=2", "progress=false"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    killed = subprocess.Popen([sys.executable, "-m", "csd", *args, "shard.index=1", f"hydra.run.dir={parent}/1"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((parent / "1").glob(".staging-*")):
        assert killed.poll() is None and time.monotonic() < deadline, "the shard ended before it could be killed"
        time.sleep(0.05)
    killed.kill()
    killed.wait()
    assert not (parent / "1" / "results.json").exists()
    for index in (0, 1):
        proc = run_cli(*args, f"shard.index={index}", f"hydra.run.dir={parent}/{index}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli("mode=collect", f"dir={parent}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merged = json.loads((parent / "collect" / "results.json").read_text())
    assert merged["n_runs"] == 400000 and merged["shards"]["runs"] == ["0", "1"]
