"""What a user waits for before the first result: `csd-run` with no options and a first
`csd.simulate(table, n_runs=1000)`, in fresh processes, with an empty and a warm
compilation cache (docs/performance.md).

    python benchmarks/startup.py              # every workload, 3 repeats each
    python benchmarks/startup.py --repeats 1 --only simulate_1000

Workloads, each repeat in fresh subprocesses:
- `csd_run`: `csd-run` with no options (LiveBench, N = 100k, cv, 8 order-sensitivity
  orders, figures), in a new folder; first with an empty cache (a new
  `CSD_COMPILATION_CACHE` folder), then a second process on the cache the first filled.
- `simulate_1000`: `csd.simulate(livebench, n_runs=1000)`, the first call of a process,
  with an empty cache and then a warm one; the call is timed after JAX is imported
  (`import_seconds`: csd's engine modules, `call_seconds`: the call).

For each process: wall seconds, CPU seconds (user + system of the child), csd's kernels
it compiled (new `csd-*` files in the cache) and loaded (files it touched), and the XLA
executables JAX built (`jax.monitoring`'s backend compile events: csd's kernels where
they compile, and small array ops, which compile in every process on a single device)
with how many of them JAX compiled rather than loaded from its own cache. The medians over the repeats go into a
table and `benchmarks/results/startup_<date>.json`, with the machine's load average.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("csd_run", "simulate_1000")
GOALS = {("csd_run", "warm"): 8.0, ("simulate_1000", "warm"): 1.0}  # seconds, on 2 idle CPU cores

# Appended to EVENTS_FILE as they happen: `csd-run` leaves through os._exit, no atexit.
LISTEN = """
import json, os, jax.monitoring
_events = open(os.environ["CSD_BENCH_EVENTS"], "a", buffering=1)
def _duration(event, seconds, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        _events.write(json.dumps({"kernel": kwargs.get("fun_name", "?"), "seconds": seconds}) + "\\n")
def _event(event, **kwargs):
    if event == "/jax/compilation_cache/cache_hits":
        _events.write(json.dumps({"hit": 1}) + "\\n")
jax.monitoring.register_event_duration_secs_listener(_duration)
jax.monitoring.register_event_listener(_event)
"""

CHILDREN = {
    "csd_run": LISTEN + "import sys; sys.argv = ['csd-run']; from csd import _start; _start.main()",
    "simulate_1000": LISTEN + """
import time, csd
table = csd.load_table(csd.shipped_table("livebench"))
start = time.perf_counter()
simulate = csd.simulate  # imports csd's engine (JAX itself is imported above)
imported = time.perf_counter()
simulate(table, n_runs=1000)
print(json.dumps({"import_seconds": imported - start, "call_seconds": time.perf_counter() - imported}))
""",
}


def run_child(workload: str, cache: Path, cwd: Path) -> dict:
    """One fresh process of `workload` with its compilation cache in `cache`."""
    events = cwd / "events.jsonl"
    events.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env.update(CSD_COMPILATION_CACHE=str(cache), CSD_BENCH_EVENTS=str(events), PYTHONPATH=str(ROOT))
    stored_before = stored_kernels(cache)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILDREN[workload]], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{workload} failed: {proc.stderr[-2000:]}")
    kernels, hit = [], False  # a cache hit is reported inside its kernel's compile event
    for line in map(json.loads, events.read_text().splitlines()):
        if "hit" in line:
            hit = True
        else:
            kernels.append({**line, "loaded": hit})
            hit = False
    hits = sum(k["loaded"] for k in kernels)
    stored_after = stored_kernels(cache)
    row = {
        "csd_kernels_compiled": len(stored_after.keys() - stored_before.keys()),
        "csd_kernels_loaded": sum(stored_before.get(name, when) != when for name, when in stored_after.items()
                                  if name in stored_before),
        "wall_seconds": wall,
        "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "kernels": len(kernels),
        "compiled": len(kernels) - hits,
        "compile_seconds": sum(k["seconds"] for k in kernels),
        "compiled_kernels": sorted(k["kernel"] for k in kernels if not k["loaded"]),
    }
    if workload == "simulate_1000":
        row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return row


def stored_kernels(cache: Path) -> dict[str, int]:
    """csd's stored executables in `cache` (`csd-*` files) and their modification times,
    which a process that loads one touches."""
    return {path.name: path.stat().st_mtime_ns for path in cache.glob("csd-*")} if cache.is_dir() else {}


def measure(workload: str, repeats: int) -> dict:
    """Medians over `repeats` of (empty cache, then warm cache) process pairs."""
    rows = {"empty": [], "warm": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="csd-startup-") as folder:
            cache, cwd = Path(folder) / "cache", Path(folder)
            for state in ("empty", "warm"):
                rows[state].append(run_child(workload, cache, cwd))
    return {state: summary(runs) for state, runs in rows.items()}


def summary(runs: list[dict]) -> dict:
    numbers = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "compiled_kernels"}
    numbers["wall_seconds_each"] = [round(run["wall_seconds"], 2) for run in runs]
    return {**numbers, "compiled_kernels": runs[0]["compiled_kernels"]}


def format_row(workload: str, state: str, row: dict) -> str:
    goal = GOALS.get((workload, state))
    timed = row.get("call_seconds", row["wall_seconds"])
    verdict = "" if goal is None else f"  goal <= {goal:g} s: {'met' if timed <= goal else 'missed'}"
    call = f" first call {row['call_seconds']:5.2f} s |" if "call_seconds" in row else ""
    return (
        f"{workload:<14} {state:<5} cache: wall {row['wall_seconds']:6.2f} s |{call} cpu {row['cpu_seconds']:6.2f} s | "
        f"csd kernels: {row['csd_kernels_compiled']:.0f} compiled, {row['csd_kernels_loaded']:.0f} loaded | "
        f"XLA: {row['kernels']:>3.0f} executables, {row['compiled']:>3.0f} compiled ({row['compile_seconds']:5.2f} s){verdict}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    results = {"load_average": os.getloadavg(), "cpus": os.cpu_count(), "repeats": args.repeats}
    for workload in args.only.split(",") if args.only else WORKLOADS:
        results[workload] = measure(workload, args.repeats)
        for state, row in results[workload].items():
            print(format_row(workload, state, row), flush=True)
    results["load_average_after"] = os.getloadavg()
    out = Path(args.out) / f"startup_{datetime.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"load average {results['load_average'][0]:.1f} -> {results['load_average_after'][0]:.1f}; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
