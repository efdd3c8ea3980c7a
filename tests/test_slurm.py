"""csd-run on a real Slurm: a one-node cluster started from the OS packages (tests/slurm_cluster.py).

The tests marked `slurm` skip, naming what is missing, where the Slurm and munge binaries
are not installed or the suite does not run as root (.ci/run installs them as root)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from csd.testing.cli import run_cli_in_process as run_cli
from slurm_cluster import SlurmCluster, missing

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A running one-node cluster (partition `debug`), stopped after the module's tests."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    yield cluster
    cluster.stop()


def csd_run(cluster: SlurmCluster, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m csd ARGS` (this interpreter, the working tree) with the cluster's SLURM_CONF."""
    env = dict(cluster.env, PYTHONPATH=str(REPO))
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", "csd", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def launcher(*overrides: str) -> list[str]:
    """hydra/launcher=slurm on the test cluster: small jobs, as the node has 2 CPUs."""
    return ["hydra/launcher=slurm", "hydra.launcher.partition=debug", "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=20", *overrides]


def test_cluster_runs_a_batch_job(slurm_cluster, tmp_path):
    output = tmp_path / "job.out"
    submitted = slurm_cluster.run("sbatch", "--parsable", f"--output={output}", "--wrap", "echo $SLURM_CONF on $(hostname -s)")
    job = submitted.stdout.strip()
    deadline = time.monotonic() + 60
    while slurm_cluster.run("squeue", "--noheader", f"--jobs={job}", check=False).stdout.strip():
        assert time.monotonic() < deadline, f"job {job} still queued after 60 s\n{slurm_cluster.logs()}"
        time.sleep(0.5)
    assert output.read_text().strip() == f"{slurm_cluster.conf} on {slurm_cluster.hostname}"


@pytest.mark.slow
def test_paper_experiment_through_the_slurm_launcher_then_collect(slurm_cluster, tmp_path):
    sweep_dir = tmp_path / "multirun"
    proc = csd_run(slurm_cluster, "-m", *launcher(), "experiment=paper", "n_runs=1000", "order_sensitivity=0",
                   f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert proc.returncode == 0, f"{proc.stderr}\n{slurm_cluster.logs()}"
    # submitit's sbatch file asked for the launcher's GPU (the test node advertises one)
    submissions = list((sweep_dir / ".submitit").rglob("*_submission.sh"))
    assert submissions and "#SBATCH --gpus-per-node=1" in submissions[0].read_text()
    assert f"{sys.executable} -u -m submitit.core._submit" in submissions[0].read_text()  # this venv's Python
    tasks = sorted(json.loads((sweep_dir / str(num) / "results.json").read_text())["tournament"]["elimination"] for num in range(3))
    assert tasks == [0, 1, 2]
    proc = csd_run(slurm_cluster, "mode=collect", f"dir={sweep_dir}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    collected = json.loads((sweep_dir / "collect" / "results.json").read_text())
    assert collected["labels"] == ["T=0", "T=1", "T=2"]
    single = json.loads((sweep_dir / "0" / "results.json").read_text())
    np.testing.assert_array_equal(collected["expected_score"][0], single["expected_score"])


CSV = "model,b1,b2,b3,b4\na,9,1,5,7\nb,8,2,6,3\nc,7,3,4,6\nd,6,4,3,5\ne,5,5,2,4\n"


@pytest.mark.slow
def test_shards_on_cpu_nodes_a_lost_one_rerun_alone_then_collect(slurm_cluster, tmp_path):
    (tmp_path / "my.csv").write_text(CSV)
    run = ["data.path=my.csv", "n_runs=1500", "seed=4", "elimination.t=1", "order_sensitivity=0", "plots.format=[svg]"]
    parent = tmp_path / "multirun"
    cpu_only = launcher("hydra.launcher.gpus_per_node=null")
    # shard 1 of 3 is left out, as if its task had been killed
    proc = csd_run(slurm_cluster, "-m", *cpu_only, *run, "shard.index=0,2", "shard.count=3",
                   f"hydra.sweep.dir={parent}", cwd=tmp_path)
    assert proc.returncode == 0, f"{proc.stderr}\n{slurm_cluster.logs()}"
    submission = next((parent / ".submitit").rglob("*_submission.sh")).read_text()
    assert "--gpus-per-node" not in submission and "#SBATCH --array=0-1" in submission
    proc = csd_run(slurm_cluster, "mode=collect", f"dir={parent}", cwd=tmp_path)
    assert proc.returncode != 0 and "shard(s) 1 of 3 missing" in proc.stderr
    proc = csd_run(slurm_cluster, "-m", *cpu_only, *run, "shard.index=1", "shard.count=3",
                   f"hydra.sweep.dir={parent}", "hydra.sweep.subdir=rerun1", cwd=tmp_path)
    assert proc.returncode == 0, f"{proc.stderr}\n{slurm_cluster.logs()}"
    proc = csd_run(slurm_cluster, "mode=collect", f"dir={parent}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merged = json.loads((parent / "collect" / "results.json").read_text())
    assert merged["shards"]["runs"] == ["0", "rerun1", "1"] and merged["n_runs"] == 1500
    single = run_cli(*run, f"hydra.run.dir={tmp_path / 'single'}", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    expected = json.loads((tmp_path / "single" / "results.json").read_text())
    for key in ("expected_score", "stderr", "champion_prob", "rank_probs", "survival"):
        assert merged[key] == expected[key], key
