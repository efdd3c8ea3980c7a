"""Where the engine's time goes: the XLA operations of one warm call, by source line.

    python benchmarks/profile.py                       # the paper's scale (run.py's `paper`)
    python benchmarks/profile.py --workload sweep_T0-4 --top 8 --out /tmp/profile
    python benchmarks/profile.py --workload livebench --estimator cv

Runs one workload of `run.py` once to compile, then once more under `jax.profiler.trace`,
and adds up the device time of every XLA operation of the kernel. Each operation is named
by the innermost line of `csd/_src` it comes from (XLA's optimized HLO, dumped by
`--xla_dump_to`, keeps the stack of every instruction). Prints a table (ms per call, share
of the kernel, the operation and its source) and writes `profile_<workload>_<date>.json`.
The times are the profiler's, a little above those of an untraced call.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import gzip
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

DUMP = tempfile.mkdtemp(prefix="csd_hlo_")
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_dump_to={DUMP} --xla_dump_hlo_as_text".strip()

import jax  # noqa: E402  (after XLA_FLAGS)

from run import BY_NAME, ROOT, describe_machine, load_workload_table, play  # noqa: E402  (run.py sits next to this script)

SOURCE = "csd/_src/"
KERNEL_MODULE = "chunk_stats"  # the jitted kernel's HLO module name contains this


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="paper", choices=sorted(BY_NAME))
    parser.add_argument("--estimator", default="plain", choices=("plain", "cv"))
    parser.add_argument("--top", type=int, default=12, help="operations to print")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    work = BY_NAME[args.workload]
    table = load_workload_table(work)
    play(work, table, args.estimator, n_runs=work.n_runs, seed=0)  # compile
    trace_dir = tempfile.mkdtemp(prefix="csd_trace_")
    try:
        with jax.profiler.trace(trace_dir):
            play(work, table, args.estimator, n_runs=work.n_runs, seed=1)
        rows = profile_rows(op_times(Path(trace_dir)), op_sources(kernel_hlo(Path(DUMP))))
    finally:
        shutil.rmtree(trace_dir, ignore_errors=True)
        shutil.rmtree(DUMP, ignore_errors=True)
    print(format_rows(rows, args.top, work))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"profile_{work.name}_{args.estimator}_{datetime.date.today().isoformat()}.json"
    models, rounds = table.shape  # the workload's n_models and n_rounds describe its synthetic table only
    workload = {**work._asdict(), "n_models": models, "n_rounds": rounds}
    record = {"workload": workload, "estimator": args.estimator, "machine": describe_machine(), "operations": rows}
    path.write_text(json.dumps(record, indent=1))
    print(f"wrote {path}")


def op_times(trace_dir: Path) -> dict[str, tuple[float, int]]:
    """{operation name: (total ms, calls)} from the profiler's trace events."""
    trace_file = next(trace_dir.glob("**/*.trace.json.gz"))
    events = json.loads(gzip.decompress(trace_file.read_bytes()))["traceEvents"]
    totals = collections.defaultdict(lambda: [0.0, 0])
    for event in events:
        if event.get("ph") == "X" and "dur" in event:
            totals[event["name"]][0] += event["dur"] / 1000
            totals[event["name"]][1] += 1
    return {name: (ms, calls) for name, (ms, calls) in totals.items()}


def kernel_hlo(dump: Path) -> str:
    """The optimized HLO text of the kernel's (largest) module."""
    candidates = [p for p in dump.glob("*after_optimizations.txt") if KERNEL_MODULE in p.name]
    if not candidates:
        raise SystemExit(f"no optimized HLO of {KERNEL_MODULE} in {dump}")
    return max(candidates, key=lambda p: p.stat().st_size).read_text()


def op_sources(hlo: str) -> dict[str, str]:
    """{instruction name: 'file.py:line function'}, the innermost frame inside csd/_src of
    each instruction that has a stack (`stack_frame_id`)."""
    files = dict(re.findall(r'^(\d+) "(.*)"$', _section(hlo, "FileNames"), re.M))
    functions = dict(re.findall(r'^(\d+) "(.*)"$', _section(hlo, "FunctionNames"), re.M))
    locations = {
        index: (files[file], functions[function], line)
        for index, file, function, line in re.findall(
            r"^(\d+) \{file_name_id=(\d+) function_name_id=(\d+) line=(\d+)", _section(hlo, "FileLocations"), re.M
        )
    }
    frames = dict(
        (index, (location, parent))
        for index, location, parent in re.findall(
            r"^(\d+) \{file_location_id=(\d+) parent_frame_id=(\d+)", _section(hlo, "StackFrames"), re.M
        )
    )
    sources = {}
    for name, frame in re.findall(r"^\s*(?:ROOT )?%(\S+) = .*stack_frame_id=(\d+)", hlo, re.M):
        sources[name] = _innermost(frame, frames, locations)
    return sources


def _section(hlo: str, title: str) -> str:
    """The lines of one of the HLO text's trailing tables (`FileNames`, ...)."""
    match = re.search(rf"^{title}\n(.*?)(?:\n\n|\Z)", hlo, re.M | re.S)
    return match.group(1) if match else ""


def _innermost(frame: str, frames: dict, locations: dict) -> str:
    """The first frame inside csd/_src walking out from `frame`, as 'file.py:line function'."""
    seen = set()
    while frame in frames and frame not in seen:
        seen.add(frame)
        location, parent = frames[frame]
        file, function, line = locations.get(location, ("", "", ""))
        if SOURCE in file:
            return f"{file.split(SOURCE)[1]}:{line} {function}"
        frame = parent
    return "?"


def profile_rows(operations: dict, sources: dict) -> list[dict]:
    """The kernel's operations (those with a source in the HLO), longest first, with their
    share of the kernel's summed operation time."""
    kernel = {name: times for name, times in operations.items() if name in sources}
    total = sum(ms for ms, _ in kernel.values()) or 1.0
    rows = [
        {"operation": name, "ms": round(ms, 2), "calls": calls, "share": round(ms / total, 4), "source": sources[name]}
        for name, (ms, calls) in kernel.items()
    ]
    return sorted(rows, key=lambda row: -row["ms"])


def format_rows(rows: list[dict], top: int, work) -> str:
    """The `top` longest operations and the total, as a text table."""
    total = sum(row["ms"] for row in rows)
    lines = [
        f"{work.name}: N={work.n_runs:,}, schedules {list(work.schedules)}; kernel operations {total:.0f} ms "
        f"(the profiler's time per operation)",
        f"{'ms':>8} {'share':>6} {'calls':>5}  {'operation':<30} source",
    ]
    for row in rows[:top]:
        lines.append(
            f"{row['ms']:8.1f} {row['share']:6.1%} {row['calls']:5d}  {row['operation']:<30} {row['source']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
