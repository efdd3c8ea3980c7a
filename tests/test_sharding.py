"""Runs spread over several devices give exactly the single-device results."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import csd

SCRIPT = """
import json, jax, csd
table = csd.load_table(csd.shipped_table("livebench"))
result = csd.simulate(table, n_runs=6000, elimination=1, seed=9, chunk_size=2500)
print(json.dumps({"devices": jax.device_count(), "result": result.to_dict()}))
"""


@pytest.mark.slow
def test_four_cpu_devices_give_identical_results():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    completed = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    sharded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert sharded["devices"] == 4
    table = csd.load_table(csd.shipped_table("livebench"))
    single = csd.simulate(table, n_runs=6000, elimination=1, seed=9, chunk_size=2500).to_dict()
    for field in ("expected_score", "stderr", "rank_probs", "survival"):
        assert np.array_equal(np.array(sharded["result"][field]), np.array(single[field])), field


REMATCH_SCRIPT = """
import json, jax, numpy as np, csd
scores = np.random.default_rng(3).integers(0, 4, (9, 6)).astype(float)
table = csd.ScoreTable(tuple(f"m{i}" for i in range(9)), tuple(f"b{k}" for k in range(6)), scores)
result = csd.simulate(table, n_runs=2000, seed=4, chunk_size=700, pairing="float", avoid_rematch=True, bye_once=True)
print(json.dumps({"devices": jax.device_count(), "result": result.to_dict()}))
"""


@pytest.mark.slow
def test_avoid_rematch_search_is_per_run_across_devices_and_chunks():
    """The search takes the open runs of a chunk in batches: still each run's own result."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    completed = subprocess.run([sys.executable, "-c", REMATCH_SCRIPT], env=env, capture_output=True, text=True, check=True)
    sharded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert sharded["devices"] == 4
    scores = np.random.default_rng(3).integers(0, 4, (9, 6)).astype(float)
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(9)), tuple(f"b{k}" for k in range(6)), scores)
    single = csd.simulate(table, n_runs=2000, seed=4, pairing="float", avoid_rematch=True, bye_once=True).to_dict()
    for field in ("expected_score", "stderr", "rank_probs", "survival"):
        assert np.array_equal(np.array(sharded["result"][field]), np.array(single[field])), field
