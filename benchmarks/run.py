"""Speed and memory of the CSD engine against the plain per-run reference, in one command.

    python benchmarks/run.py                       # every workload (tens of minutes on 2 cores)
    python benchmarks/run.py --quick               # the same workloads with N / 100: a smoke run
    python benchmarks/run.py --only 'paper,scale_M_*' --out /tmp/bench
    python benchmarks/run.py --list                # the workload names

Each workload runs in a fresh subprocess, so that its first call includes compilation and
its peak RSS is its own. There it times the first call of `csd.simulate` (`csd.sweep` for
several schedules) with JAX's compile time on the side, then the median of warm calls, and
then the plain reference of `csd/testing/reference.py` on the same table for a few hundred runs
(or a time budget), scaled to the workload's N. The parent prints a table and writes
`OUT/<date>.json` and the scaling curves `OUT/scaling_<date>.png` (`_quick` appended in
quick mode, so a smoke run never replaces a full one).

The paper's 29 x 38 table is not public: `synthetic_table` stands in for it.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.monitoring
import jaxlib
import numpy as np

import csd
from csd.testing import reference
from csd.testing.tournament_inputs import default_seed_order

ROOT = Path(__file__).resolve().parents[1]

QUICK_DIVISOR = 100  # --quick: N / 100 (at least 10 runs); tables and schedules unchanged
REFERENCE_RUNS = 300  # the reference plays at most this many runs per schedule...
REFERENCE_BUDGET_S = 5.0  # ...or stops after this many seconds (--quick: a fifth), at least 3 runs


class Goal(NamedTuple):
    """`metric op limit`; with `of`, the limit is `limit` times that workload's `metric`."""

    metric: str
    op: str  # "<=", "<" or ">="
    limit: float
    of: str | None = None

    def text(self) -> str:
        return f"{self.metric} {self.op} {self.limit:g}" + (f" x {self.of}" if self.of else "")


class Workload(NamedTuple):
    """One measurement: a table, N runs and the elimination schedules (one T each)."""

    name: str
    table: str  # "synthetic" (n_models x n_rounds), "livebench", "openllm" or "openllm_top450"
    n_runs: int
    n_models: int = 29
    n_rounds: int = 38
    schedules: tuple[int, ...] = (1,)
    goals: tuple[Goal, ...] = ()
    repeats: int = 3  # warm calls after the first
    progress: bool = False  # print a line every ~10% of the runs
    curve: str | None = None  # "N", "M" or "K": a point of that scaling curve


WORKLOADS = [
    # The paper's scale: M = 29, K = 38, T = 1, N = 100k.
    Workload("paper", "synthetic", 100_000, curve="N",
             goals=(Goal("warm_s", "<=", 0.4), Goal("ratio", ">=", 100), Goal("first_s", "<=", 5))),
    # T = 0..4 in one kernel call with common random numbers: at most twice one schedule.
    Workload("sweep_T0-4", "synthetic", 100_000, schedules=(0, 1, 2, 3, 4),
             goals=(Goal("warm_s", "<=", 2, of="paper"),)),
    Workload("livebench", "livebench", 100_000),  # the table csd-run plays by default, T = 1
    Workload("openllm_full", "openllm", 10_000, goals=(Goal("warm_s", "<=", 5),)),
    Workload("openllm_top450", "openllm_top450", 100_000, goals=(Goal("warm_s", "<=", 3),)),
    # A call takes minutes: one warm call (its chunks already average), with progress.
    Workload("paper_N1e7", "synthetic", 10_000_000, curve="N", repeats=1, progress=True,
             goals=(Goal("peak_rss_mib", "<", 2048),)),
    *(Workload(f"scale_N_{n}", "synthetic", n, curve="N") for n in (1_000, 10_000, 1_000_000)),
    *(Workload(f"scale_M_{m}", "synthetic", 10_000, n_models=m, curve="M") for m in (8, 32, 128, 512, 1024)),
    *(Workload(f"scale_K_{k}", "synthetic", 10_000, n_rounds=k, curve="K") for k in (4, 8, 16, 32, 64, 128)),
]
BY_NAME = {w.name: w for w in WORKLOADS}

NOTES = {
    "synthetic_table": (
        "The paper's 29 x 38 table is not public. Synthetic M x K tables stand in for it: "
        "score = 100 * sigmoid(d_k * (a_m - b_k) + e_mk) with ability a_m ~ N(0, 1), difficulty "
        "b_k ~ N(0, 1), discrimination d_k ~ U(0.5, 2) and specialty e_mk ~ N(0, 0.5^2), seed 0. "
        "The scores are continuous, so exact ties have probability 0 (tie_rate counts them)."
    ),
    "timing": (
        "first_s: the first call in a fresh process (tracing and compilation included); compile_s: "
        "the JAX /jax/core/compile/* events (trace, lowering, XLA) during it; warm_s: median of the "
        "`repeats` calls after it, each a whole csd.simulate / csd.sweep call with its host-side "
        "summaries; runs_per_s = N / warm_s (a run plays all S schedules)."
    ),
    "peak_rss": "ru_maxrss of the workload's own process after the engine calls, before the reference runs.",
    "reference": (
        "reference_s_per_run: wall time per run of csd/testing/reference.py's play_tournament (the per-run "
        "work of simulate_reference) on csd.win_probabilities(table), summed over the schedules, "
        f"from {REFERENCE_RUNS} runs or {REFERENCE_BUDGET_S:g} s per schedule, whichever comes first "
        "(at least 3 runs; reference.runs has the counts). Its one-off setup (P as nested lists, "
        "reference.setup_s) and final summary are left out. ratio = reference_s_per_run * N / warm_s: "
        "one Python thread against the engine on every core."
    ),
}


def synthetic_table(n_models: int, n_rounds: int, seed: int = 0) -> csd.ScoreTable:
    """An (M, K) table of abilities plus benchmark noise (see NOTES["synthetic_table"])."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(size=(n_models, 1))
    difficulty = rng.normal(size=(1, n_rounds))
    discrimination = rng.uniform(0.5, 2.0, size=(1, n_rounds))
    specialty = rng.normal(scale=0.5, size=(n_models, n_rounds))
    scores = 100 / (1 + np.exp(-(discrimination * (ability - difficulty) + specialty)))  # (M, K)
    models = tuple(f"model_{m}" for m in range(n_models))
    rounds = tuple(f"bench_{k}" for k in range(n_rounds))
    return csd.ScoreTable(models, rounds, scores, source=f"synthetic {n_models} x {n_rounds}, seed {seed}")


def load_workload_table(work: Workload) -> csd.ScoreTable:
    """The workload's table; `openllm_top450` keeps the 450 best mean scores, in table order."""
    if work.table == "synthetic":
        return synthetic_table(work.n_models, work.n_rounds)
    if work.table == "livebench":
        return csd.load_table(csd.shipped_table("livebench"))
    table = csd.load_table(csd.shipped_table("openllm_v2"))
    if work.table == "openllm":
        return table
    keep = np.sort(np.argsort(-table.mean_scores(), kind="stable")[:450])
    models = tuple(table.models[m] for m in keep)
    return csd.ScoreTable(models, table.benchmarks, table.scores[keep], source="openllm_v2, top 450 by mean score")


def tie_rate(scores: np.ndarray) -> float:
    """Fraction of (pair of models, benchmark) with exactly equal scores."""
    n_models, n_rounds = scores.shape
    counts = [np.unique(column, return_counts=True)[1] for column in scores.T]
    tied = sum(int((c * (c - 1) // 2).sum()) for c in counts)
    return tied / (n_rounds * n_models * (n_models - 1) / 2)


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)


def describe_machine() -> dict:
    """Platform, device kind and count, CPU model and cores, versions, load average."""
    devices = jax.devices()
    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu_model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "platform": devices[0].platform,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "cpu_model": cpu_model,
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
    }


def time_reference(table: csd.ScoreTable, schedules, budget_s: float) -> dict:
    """Seconds per run of the plain reference on `table`, for each schedule (an int T).

    Builds once what `simulate_reference` builds (`reference.prepare`: P as K nested
    (M, M) lists, the rules), then times its `play_tournament` for REFERENCE_RUNS runs or
    `budget_s` seconds per schedule, whichever comes first, at least 3 runs.
    """
    start = time.perf_counter()
    probs = csd.win_probabilities(table)  # (M, M, K)
    n_rounds = probs.shape[2]
    win_prob_by_round, rules = reference.prepare(probs, "random", 0.0, 0.5, 1, default_seed_order(probs))
    del probs  # (M, M, K) floats: 1 GB for the full Open LLM table
    setup_s = time.perf_counter() - start
    per_run, runs = [], []
    for t in schedules:
        rng, start, done = random.Random(0), time.perf_counter(), 0
        while done < REFERENCE_RUNS and (done < 3 or time.perf_counter() - start < budget_s):
            reference.play_tournament(win_prob_by_round, [t] * n_rounds, rules, rng)
            done += 1
        per_run.append((time.perf_counter() - start) / done)
        runs.append(done)
    return {"s_per_run": sum(per_run), "s_per_run_by_schedule": per_run, "runs": runs, "setup_s": setup_s}


def play(work: Workload, table: csd.ScoreTable, estimator: str = "plain", **options):
    """The workload's engine call: `csd.simulate` for one schedule, else `csd.sweep`, by
    default with the plain estimator: the same work per run as the plain reference it is
    compared with (benchmarks/time_to_precision.py compares the estimators)."""
    if len(work.schedules) == 1:
        return csd.simulate(table, elimination=work.schedules[0], estimator=estimator, **options)
    return csd.sweep(table, schedules=list(work.schedules), estimator=estimator, **options)


def measure(work: Workload, quick: bool) -> dict:
    """Runs one workload in this (fresh) process and returns its record."""
    n_runs = max(10, work.n_runs // QUICK_DIVISOR) if quick else work.n_runs
    table = load_workload_table(work)
    jax.devices()  # starts the backend outside the timed calls
    load_average = [round(x, 2) for x in os.getloadavg()]
    compile_events = []  # seconds of JAX's /jax/core/compile/* events: trace, lowering, XLA

    def on_event(event: str, seconds: float, **_) -> None:
        if event.startswith("/jax/core/compile/"):
            compile_events.append(seconds)

    jax.monitoring.register_event_duration_secs_listener(on_event)
    progress_log = []  # per call: {runs, s, peak_rss_mib} every ~10% of the runs

    def call() -> float:
        log, start = [], time.perf_counter()
        progress_log.append(log)

        def progress(done: int, total: int) -> None:
            if done * 10 // total > (log[-1]["runs"] if log else 0) * 10 // total:
                seconds, peak = time.perf_counter() - start, peak_rss_mib()
                log.append({"runs": done, "s": round(seconds, 2), "peak_rss_mib": round(peak, 1)})
                print(f"  [{work.name}] call {len(progress_log)}: {done:,}/{total:,} runs, {seconds:.1f} s, "
                      f"peak RSS {peak:.0f} MiB", file=sys.stderr, flush=True)

        play(work, table, n_runs=n_runs, seed=0, progress=progress if work.progress else None)
        return time.perf_counter() - start

    base_rss = peak_rss_mib()
    first = call()
    compile_s, compile_events[:] = sum(compile_events), []
    warm = [call() for _ in range(work.repeats)]
    peak_rss = peak_rss_mib()
    ref = time_reference(table, work.schedules, REFERENCE_BUDGET_S / (5 if quick else 1))
    warm_s = statistics.median(warm)
    return {
        "name": work.name,
        "table": table.source,
        "n_runs": n_runs,
        "n_models": table.shape[0],
        "n_rounds": table.shape[1],
        "schedules": list(work.schedules),
        "tie_rate": tie_rate(table.scores),
        "first_s": first,
        "compile_s": compile_s,
        "warm_compile_s": sum(compile_events),  # > 0: a warm call compiled again
        "warm_s": warm_s,
        "warm_calls_s": warm,
        "runs_per_s": n_runs / warm_s,
        "base_rss_mib": base_rss,
        "peak_rss_mib": peak_rss,
        "reference_s_per_run": ref["s_per_run"],
        "reference": ref,
        "ratio": ref["s_per_run"] * n_runs / warm_s,
        "progress": progress_log if work.progress else None,
        "curve": work.curve,
        "load_average": load_average,
    }


def run_isolated(work: Workload, quick: bool) -> dict:
    """`measure(work)` in a fresh Python process; a failure becomes {"name", "error"}."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--worker", work.name, "--result", str(result)]
        completed = subprocess.run(command + (["--quick"] if quick else []), stdout=sys.stderr)
        if completed.returncode != 0 or not result.exists():
            return {"name": work.name, "error": f"worker exited with status {completed.returncode}"}
        return json.loads(result.read_text())


def check_goals(record: dict, by_name: dict, quick: bool) -> list[dict]:
    """Each goal of the record's workload, with `met`: True, False or None (not judged: a
    quick run, or the workload the goal refers to did not run)."""
    checks = []
    for goal in BY_NAME[record["name"]].goals:
        limit = goal.limit
        if goal.of is not None:
            other = by_name.get(goal.of, {})
            limit = goal.limit * other[goal.metric] if goal.metric in other else None
        met = None
        if not quick and limit is not None:
            value = record[goal.metric]
            met = {"<=": value <= limit, "<": value < limit, ">=": value >= limit}[goal.op]
        checks.append({"goal": goal.text(), "limit": limit, "met": met})
    return checks


def format_report(summary: dict) -> str:
    """The machine, then one aligned row per workload."""
    machine, records = summary["machine"], summary["workloads"]
    synthetic_ties = max([r["tie_rate"] for r in records if r.get("table", "").startswith("synthetic")] + [0])
    lines = [
        f"Machine: {machine['platform']} ({machine['device_kind']}) x {machine['device_count']}; "
        f"{machine['cpu_model']}, {machine['cpu_cores_usable']} of {machine['cpu_cores']} cores usable; "
        f"python {machine['python']}, jax {machine['jax']}, jaxlib {machine['jaxlib']}; "
        f"load average {machine['load_average']} at start, {machine['load_average_end']} at end.",
        "The paper's 29 x 38 table is not public: synthetic M x K tables stand in for it "
        f"(continuous scores, tie rate {synthetic_ties:g}).",
        "",
    ]
    rows = ["workload N M K S first_s compile_s warm_s runs/s peak_MiB ref_s/run ratio goal met?".split()]
    for r in records:
        if "error" in r:
            rows.append([r["name"]] + [""] * 12 + ["FAILED: " + r["error"]])
            continue
        met = [g["met"] for g in r["goals"]]
        verdict = "" if not met else "-" if None in met else "yes" if all(met) else "NO"
        rows.append([
            r["name"], f"{r['n_runs']:,}", str(r["n_models"]), str(r["n_rounds"]), str(len(r["schedules"])),
            f"{r['first_s']:.2f}", f"{r['compile_s']:.2f}", f"{r['warm_s']:.3f}", f"{r['runs_per_s']:,.0f}",
            f"{r['peak_rss_mib']:,.0f}", f"{r['reference_s_per_run']:.2e}", f"{r['ratio']:,.0f}x",
            "; ".join(g["goal"] for g in r["goals"]), verdict,
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    left = {0, len(widths) - 2, len(widths) - 1}
    table = ["  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    table.insert(1, "-" * max(map(len, table)))
    table.append("met?: yes, NO, or - (not judged: a --quick run, or the workload a goal refers to did not run)")
    return "\n".join(lines + table)


def plot_scaling(records: list[dict], path: Path, title: str) -> bool:
    """Warm, first-call and scaled reference time against N, M and K (one panel per curve
    with points); False if no scaling point was measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axis_of = {"N": "n_runs", "M": "n_models", "K": "n_rounds"}
    curves = {c: sorted((r for r in records if r["curve"] == c), key=lambda r: r[axis_of[c]]) for c in axis_of}
    curves = {c: points for c, points in curves.items() if points}
    if not curves:
        return False
    figure, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4.5), squeeze=False)
    for ax, (curve, points) in zip(axes[0], curves.items()):
        x = [p[axis_of[curve]] for p in points]
        fixed = {"N": "M=29, K=38", "M": f"N={points[0]['n_runs']:,}, K=38", "K": f"N={points[0]['n_runs']:,}, M=29"}
        ax.plot(x, [p["warm_s"] for p in points], "o-", label="warm (median)")
        ax.plot(x, [p["first_s"] for p in points], "s--", label="first call")
        ax.plot(x, [p["reference_s_per_run"] * p["n_runs"] for p in points], "^:", label="plain reference, scaled")
        ax.set(xscale="log", yscale="log", xlabel=curve, ylabel="seconds", title=f"{fixed[curve]}, T=1")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"N / {QUICK_DIVISOR}: a smoke run")
    parser.add_argument("--only", help="comma-separated workload names or patterns, e.g. 'paper,scale_M_*'")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="folder for the JSON and PNG")
    parser.add_argument("--list", action="store_true", help="print the workload names and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # measure this workload here
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)  # the worker's JSON
    args = parser.parse_args(argv)
    if args.worker:
        args.result.write_text(json.dumps(measure(BY_NAME[args.worker], args.quick)))
        return 0
    patterns = args.only.split(",") if args.only else ["*"]
    selected = [w for w in WORKLOADS if any(fnmatch.fnmatchcase(w.name, p) for p in patterns)]
    if args.list:
        print("\n".join(w.name for w in WORKLOADS))
        return 0
    if not selected:
        print(f"run.py: error: --only {args.only} matches no workload; see --list", file=sys.stderr)
        return 2

    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    machine = describe_machine()
    records = []
    for work in selected:
        print(f"{work.name} ...", file=sys.stderr, flush=True)
        records.append(run_isolated(work, args.quick))
    by_name = {r["name"]: r for r in records if "error" not in r}
    for record in by_name.values():
        record["goals"] = check_goals(record, by_name, args.quick)
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]

    stem = started[:10] + ("_quick" if args.quick else "")
    args.out.mkdir(parents=True, exist_ok=True)
    title = f"csd engine {started[:10]}: {machine['cpu_model']} x {machine['cpu_cores_usable']} cores, jax {machine['jax']}"
    plotted = plot_scaling(list(by_name.values()), args.out / f"scaling_{stem}.png", title)
    summary = {
        "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "command": " ".join(["python"] + sys.argv),
        "quick": args.quick,
        "machine": machine,
        "notes": NOTES,
        "plot": f"scaling_{stem}.png" if plotted else None,
        "workloads": records,
    }
    (args.out / f"{stem}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(format_report(summary))
    print(f"wrote {args.out / f'{stem}.json'}" + (f" and {args.out / summary['plot']}" if plotted else ""))
    return 1 if len(by_name) < len(records) else 0


if __name__ == "__main__":
    sys.exit(main())
