"""Peak RSS and wall time of `csd-run` on the largest shipped table, end to end.

    python benchmarks/cli_large.py                          # csd-run data=openllm_v2 n_runs=1000
    python benchmarks/cli_large.py --runs 200 --out /tmp/bench

Each command runs in a fresh subprocess (`python -m csd ...`) into a temporary run folder;
the parent takes its wall time and its peak RSS (`getrusage` of the children), checks that
the run published every output (`manifest.json`, `csd._src.rundir.check_manifest`), prints
a table and writes `OUT/cli_large_<date>.json`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csd._src import rundir

ROOT = Path(__file__).resolve().parents[1]


def measure(args: list[str], folder: Path) -> dict:
    """Runs `python -m csd ARGS` into `folder`; its wall time, peak RSS and outputs."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "csd", *args, "top=3", "progress=false", f"hydra.run.dir={folder}"]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=folder.parent, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
    files = rundir.check_manifest(folder) if proc.returncode == 0 else {}
    return {
        "command": "csd-run " + " ".join(args),
        "exit": proc.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_gib": round(peak_kib / 2**20, 2),
        "outputs": {name: (folder / name).stat().st_size for name in sorted(files)},
        "stderr": proc.stderr.strip().splitlines()[-3:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="n_runs (default 1000)")
    parser.add_argument("--data", default="openllm_v2", help="the shipped table (default openllm_v2)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        row = measure([f"data={options.data}", f"n_runs={options.runs}"], Path(scratch) / "run")
    print(f"{'command':<40} {'exit':>4} {'wall s':>8} {'peak RSS GiB':>13} {'files':>5}")
    cells = (row["command"], row["exit"], row["wall_s"], row["peak_rss_gib"], len(row["outputs"]))
    print("{:<40} {:>4} {:>8} {:>13} {:>5}".format(*cells))
    if row["exit"]:
        print("\n".join(row["stderr"]))
    options.out.mkdir(parents=True, exist_ok=True)
    path = options.out / f"cli_large_{datetime.date.today().isoformat()}.json"
    record = {"cpu_count": os.cpu_count(), "load_avg": os.getloadavg(), **row}
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
