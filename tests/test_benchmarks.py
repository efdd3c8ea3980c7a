"""`benchmarks/run.py` end to end on its smallest workload: the table prints and the JSON
holds every field the report promises."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECORD_FIELDS = (
    "name n_runs n_models n_rounds schedules tie_rate first_s compile_s warm_s warm_calls_s "
    "runs_per_s peak_rss_mib reference_s_per_run ratio goals"
).split()
COLUMNS = "workload N M K S first_s compile_s warm_s runs/s peak_MiB ref_s/run ratio goal met?".split()
MACHINE_FIELDS = "platform device_kind device_count cpu_model cpu_cores jax jaxlib".split()


@pytest.mark.slow  # a fresh process: JAX import and compile, well over 5 s
def test_quick_run_prints_the_table_and_writes_the_json(tmp_path):
    script = REPO / "benchmarks" / "run.py"
    command = [sys.executable, str(script), "--quick", "--only", "scale_K_4", "--out", str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr

    header = next(line for line in completed.stdout.splitlines() if line.startswith("workload"))
    assert header.split() == COLUMNS
    assert any(line.startswith("scale_K_4 ") for line in completed.stdout.splitlines())
    (json_path,) = tmp_path.glob("*_quick.json")
    summary = json.loads(json_path.read_text())
    assert summary["quick"] is True
    assert set(MACHINE_FIELDS) <= set(summary["machine"])
    (record,) = summary["workloads"]
    assert set(RECORD_FIELDS) <= set(record)
    assert (record["n_models"], record["n_rounds"], record["schedules"]) == (29, 4, [1])
    assert len(record["warm_calls_s"]) >= 3 and min(record["warm_calls_s"]) <= record["warm_s"] <= record["first_s"]
    assert 0 < record["compile_s"] <= record["first_s"]
    assert record["ratio"] == record["reference_s_per_run"] * record["n_runs"] / record["warm_s"]
    assert record["peak_rss_mib"] > 0
    assert (tmp_path / summary["plot"]).stat().st_size > 0  # scale_K_4 is a point of the K curve


@pytest.mark.slow  # a fresh process: JAX import and compile, well over 5 s
def test_profile_names_the_kernel_operations_by_their_source(tmp_path):
    script = REPO / "benchmarks" / "profile.py"
    command = [sys.executable, str(script), "--workload", "scale_K_4", "--top", "3", "--out", str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr

    lines = completed.stdout.splitlines()
    assert lines[1].split() == ["ms", "share", "calls", "operation", "source"]
    assert len([line for line in lines if ".py:" in line]) == 3
    (json_path,) = tmp_path.glob("profile_scale_K_4_*.json")
    operations = json.loads(json_path.read_text())["operations"]
    assert abs(sum(op["share"] for op in operations) - 1) < 0.01
    assert all(op["ms"] >= 0 and op["calls"] >= 1 for op in operations)
    assert [op["ms"] for op in operations] == sorted((op["ms"] for op in operations), reverse=True)
    # Operations are named by their source line, and the all-pairs ordering is among them
    # (which one costs most depends on the machine's load: not asserted).
    named = [op["source"] for op in operations if re.fullmatch(r"[\w/]+\.py:\d+ \S+", op["source"])]
    assert named
    assert "ordering.py" in {source.split(":")[0].rsplit("/", 1)[-1] for source in named}
