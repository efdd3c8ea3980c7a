"""Runs spread over several devices give exactly the single-device results."""

import json
import os
import subprocess
import sys

import numpy as np

import csd

SCRIPT = """
import json, jax, csd
table = csd.load_table(csd.shipped_table("livebench"))
result = csd.simulate(table, n_runs=6000, elimination=1, seed=9, chunk_size=2500)
print(json.dumps({"devices": jax.device_count(), "result": result.to_dict()}))
"""


def test_four_cpu_devices_give_identical_results():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    completed = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    sharded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert sharded["devices"] == 4
    table = csd.load_table(csd.shipped_table("livebench"))
    single = csd.simulate(table, n_runs=6000, elimination=1, seed=9, chunk_size=2500).to_dict()
    for field in ("expected_score", "stderr", "rank_probs", "survival"):
        assert np.array_equal(np.array(sharded["result"][field]), np.array(single[field])), field
