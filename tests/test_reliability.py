"""Reliability (issue 12): all-or-nothing run folders, a lock per folder, full and read-only
disks, Ctrl-C and kills, bounded figures, the memory preflight, target_se checkpoints and
one-line errors for bad Python API inputs.

The fast tests inject faults in-process (a monkeypatched writer raising ENOSPC/EROFS, a
figure raising MemoryError, a fake dead lock holder); the slow ones start `python -m csd`
and send real signals at random moments."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import csd
import csd.plots
from csd._src import driver, rundir, runs
from csd._src.baselines import normalized_mean
from csd._src.rundir import RunFolderError
from csd._src.runs import Plot, RunOutput, write_outputs
from csd.testing.png import png_size

REPO = Path(__file__).resolve().parents[1]
TABLE = csd.ScoreTable(
    ("a", "b", "c", "d", "e"), ("x", "y", "z"),
    np.array([[5.0, 1, 4], [4, 5, 3], [3, 2, 5], [2, 4, 1], [1, 3, 2]]),
)


def output(plots=(), text="x") -> RunOutput:
    return RunOutput({"value": text}, f"col\n{text}\n", "t", ["line"], "body " + text, "terminal", list(plots))


def publish_run(folder: Path, text: str, plots=(), warn=None) -> list[Path]:
    with rundir.locked(folder):
        return write_outputs(output(plots, text), folder, rundir.staging_folder(folder),
                             extra={".hydra/config.yaml": f"run: {text}\n"}, warn=warn)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` except the log, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "csd-run.log"}


# ------------------------------------------------------------------- publish and manifest


def test_publish_writes_the_manifest_last_and_replaces_the_whole_set(tmp_path):
    draw = lambda p: Path(p).write_bytes(b"png")  # noqa: E731
    publish_run(tmp_path, "one", plots=[Plot("old.png", "old", draw)])
    assert set(rundir.check_manifest(tmp_path)) == {
        ".hydra/config.yaml", "old.png", "report.md", "report.html", "results.csv", "results.json"}
    publish_run(tmp_path, "two")
    files = rundir.check_manifest(tmp_path)
    assert "old.png" not in files and not (tmp_path / "old.png").exists()
    assert json.loads((tmp_path / "results.json").read_text()) == {"value": "two"}
    assert (tmp_path / ".hydra/config.yaml").read_text() == "run: two\n"
    assert not list(tmp_path.glob(".staging-*")) and not (tmp_path / rundir.LOCK).exists()


def test_a_failing_figure_is_one_line_and_the_rest_lands(tmp_path):
    def fail(path):
        raise MemoryError("cannot allocate 7 GiB")

    lines = []
    good = Plot("good.png", "good", lambda p: Path(p).write_bytes(b"png"))
    publish_run(tmp_path, "one", plots=[Plot("huge.png", "huge", fail), good], warn=lines.append)
    assert lines == ["figure huge.png not drawn: MemoryError: cannot allocate 7 GiB"]
    files = rundir.check_manifest(tmp_path)
    assert "good.png" in files and "huge.png" not in files
    for name in ("report.md", "report.html"):
        report = (tmp_path / name).read_text()
        assert "good.png" in report and "huge.png" not in report


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_full_or_read_only_disk_is_one_line_and_leaves_the_earlier_outputs(tmp_path, monkeypatch, code):
    publish_run(tmp_path, "one")
    before = snapshot(tmp_path)

    def refuse(path, data):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(runs, "atomic_write", refuse)
    with pytest.raises(RunFolderError) as caught:
        publish_run(tmp_path, "two")
    message = str(caught.value)
    assert str(tmp_path) in message and os.strerror(code) in message and "\n" not in message
    assert snapshot(tmp_path) == before


def test_a_full_disk_while_publishing_leaves_the_earlier_outputs(tmp_path, monkeypatch):
    publish_run(tmp_path, "one")
    before = snapshot(tmp_path)
    real = os.rename

    def full(source, target):
        if Path(target).name == rundir.PUBLISHING:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(source, target)

    monkeypatch.setattr(rundir.os, "rename", full)
    with pytest.raises(RunFolderError, match="No space left on device"):
        publish_run(tmp_path, "two")
    monkeypatch.undo()
    assert snapshot(tmp_path) == before
    publish_run(tmp_path, "three")
    assert not list(tmp_path.glob(".staging-*"))


def test_a_committed_publish_interrupted_half_way_is_rolled_forward(tmp_path):
    publish_run(tmp_path, "one")
    stage = rundir.staging_folder(tmp_path)
    (stage / "results.json").write_text('{"value": "two"}\n')
    (stage / "report.md").write_text("two\n")
    files = {rel: rundir._sha256(stage / rel) for rel in ("results.json", "report.md")}
    (stage / rundir.MANIFEST).write_text(json.dumps({"files": files}))
    os.rename(stage, tmp_path / rundir.PUBLISHING)
    os.replace(tmp_path / rundir.PUBLISHING / "report.md", tmp_path / "report.md")  # killed here
    with rundir.locked(tmp_path):
        pass
    assert rundir.check_manifest(tmp_path) == files
    assert not (tmp_path / "results.csv").exists() and not (tmp_path / rundir.PUBLISHING).exists()


def test_stale_temporaries_are_cleaned(tmp_path):
    publish_run(tmp_path, "one")
    before = snapshot(tmp_path)
    (tmp_path / ".staging-999999").mkdir()
    (tmp_path / ".staging-999999" / "results.json").write_text("half")
    (tmp_path / ".results.json.abc.tmp").write_text("half")
    with rundir.locked(tmp_path):
        pass
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------------- lock


def test_a_second_writer_stops_at_once_naming_the_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / rundir.LOCK).write_text(f"{holder.pid}\n")
        before = snapshot(tmp_path)
        with pytest.raises(RunFolderError, match=f"in use by another csd-run \\(pid {holder.pid}"):
            with rundir.locked(tmp_path):
                pass
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_dead_pid_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / rundir.LOCK).write_text(f"{dead.pid}\n")
    with rundir.locked(tmp_path):
        assert (tmp_path / rundir.LOCK).read_text().split() == [str(os.getpid()), rundir._process_start(os.getpid())]
    assert not (tmp_path / rundir.LOCK).exists()


def test_a_lock_naming_a_live_pid_started_at_another_time_is_taken_over(tmp_path):
    # The holder died and its pid now names another process: not a writer.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = rundir._process_start(other.pid)
        assert started is not None, "no /proc: the process start cannot be told"
        (tmp_path / rundir.LOCK).write_text(f"{other.pid} {started}\n")
        with pytest.raises(RunFolderError, match=f"pid {other.pid}"):
            with rundir.locked(tmp_path):
                pass
        (tmp_path / rundir.LOCK).write_text(f"{other.pid} {started.split(':')[0]}:1\n")
        with rundir.locked(tmp_path):
            assert (tmp_path / rundir.LOCK).read_text().split()[0] == str(os.getpid())
    finally:
        other.kill()
        other.wait()


@pytest.fixture
def small_disk(tmp_path):
    """A real 16 MiB tmpfs at tmp_path / "disk" (root only; room for one run's outputs, report.html's
    inlined plotly bundle among them), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for a real full or read-only disk needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path) -> None:
    """Fills `disk` to its last byte."""
    with open(disk / "ballast", "wb", buffering=0) as out:
        with contextlib.suppress(OSError):
            while True:
                out.write(b"x" * 4096)
        with contextlib.suppress(OSError):
            while True:
                out.write(b"x")


def test_the_whole_set_is_published_once_with_the_figures_drawn_into_staging(tmp_path, monkeypatch):
    staged = []
    real = rundir.publish

    def publish(folder, stage):
        staged.append(sorted(rundir._files(stage)))
        return real(folder, stage)

    monkeypatch.setattr(rundir, "publish", publish)
    publish_run(tmp_path, "one", plots=[Plot("fig.png", "fig", lambda p: Path(p).write_bytes(b"png"))])
    assert staged == [[".hydra/config.yaml", "fig.png", "report.html", "report.md", "results.csv", "results.json"]]
    assert "fig.png" in (tmp_path / "report.md").read_text()
    assert "fig.png" in (tmp_path / "report.html").read_text()


def test_a_disk_that_fills_while_the_figures_are_drawn_publishes_nothing(small_disk):
    folder = small_disk / "run"
    draw = lambda p: Path(p).write_bytes(b"p" * 200_000)  # noqa: E731
    publish_run(folder, "one", plots=[Plot("fig.png", "fig", draw)])
    before = snapshot(folder)
    fill(small_disk)
    ballast = small_disk / "ballast"
    os.truncate(ballast, ballast.stat().st_size - 64 * 1024)  # room for the lock and a few small files
    lines = []
    with pytest.raises(RunFolderError, match="No space left on device"):
        publish_run(folder, "two", plots=[Plot("fig.png", "fig", draw)], warn=lines.append)
    assert lines == [] and snapshot(folder) == before
    assert not list(folder.glob(".staging-*")) and not (folder / rundir.LOCK).exists()


def run_small_cli(folder: Path, *args: str):
    """csd-run in-process on a 5 x 3 table into `folder` (a few seconds)."""
    from csd.testing.cli import run_cli_in_process

    table = folder.parent / "t.csv"
    if not table.exists():
        table.write_text("model,x,y,z\na,5,1,4\nb,4,5,3\nc,3,2,5\nd,2,4,1\ne,1,3,2\n")
    return run_cli_in_process("data.path=t.csv", "n_runs=200", "order_sensitivity=0", "estimator=plain",
                              f"hydra.run.dir={folder}", *args, cwd=folder.parent)


@pytest.mark.slow  # csd-run in-process, three times
def test_csd_run_on_a_read_only_or_full_disk_exits_1_in_one_line_leaving_no_lock_or_log(small_disk, tmp_path):
    earlier = run_small_cli(small_disk / "run")
    assert earlier.returncode == 0, earlier.stderr
    assert "csd-run.log" in rundir.check_manifest(small_disk / "run")
    before = snapshot(small_disk / "run")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for proc in (run_small_cli(small_disk / "run", "seed=2"),
                     run_small_cli(small_disk / "run", "mode=collect", f"dir={small_disk}")):
            assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0, proc.stderr
            assert "Read-only file system" in proc.stderr
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert snapshot(small_disk / "run") == before
    fill(small_disk)
    for folder in (small_disk / "run", small_disk / "new"):
        proc = run_small_cli(folder, "seed=3")
        assert proc.returncode == 1 and "No space left on device" in proc.stderr, proc.stderr
        assert proc.stderr.strip().count("\n") == 0
        assert not (folder / rundir.LOCK).exists() and not list(folder.glob(".staging-*"))
    assert snapshot(small_disk / "run") == before and not list((small_disk / "new").iterdir())


def test_a_full_disk_leaves_no_empty_lock(small_disk):
    folder = small_disk / "run"
    folder.mkdir()
    fill(small_disk)
    with pytest.raises(RunFolderError, match="No space left on device"):
        with rundir.locked(folder):
            pass
    assert list(folder.iterdir()) == []


# ----------------------------------------------------------------------- large tables


def test_the_rank_heatmap_of_many_models_stays_small(tmp_path):
    n_models = 600
    rank_probs = np.full((n_models, n_models), 1.0 / n_models)
    names = [f"m{i}" for i in range(n_models)]
    path = csd.plots.plot_rank_heatmap(names, rank_probs, tmp_path / "ranks", top=30)[0]
    width, height = png_size(path)
    assert width * height < 2000 * 2000
    default = csd.plots.plot_rank_heatmap(names, rank_probs, tmp_path / "default")[0]
    assert png_size(default)[1] < 2000


def test_the_survival_plot_draws_at_most_plot_top_models_by_default(tmp_path):
    n_models = 300
    survival = np.linspace(1, 0, n_models)[:, None] * np.ones((1, 4))
    path = csd.plots.plot_survival([f"m{i}" for i in range(n_models)], list("wxyz"), survival, tmp_path / "s")[0]
    assert png_size(path)[1] < 2000


def test_the_sweep_and_bootstrap_figures_do_not_grow_with_m(tmp_path):
    heights = {}
    for n_models in (60, 3000):
        names = [f"m{i}" for i in range(n_models)]
        score = np.linspace(5, 1, n_models)
        scores = csd.plots.plot_expected_scores(names, ["T=0", "T=1"], np.stack([score, score - 0.5]),
                                                np.full((2, n_models), 0.01), tmp_path / f"scores{n_models}")[0]
        boot = csd.plots.plot_bootstrap(names, score, score - 0.1, score + 0.1, tmp_path / f"boot{n_models}",
                                        tiers=1 + np.arange(n_models) // 7)[0]
        heights[n_models] = png_size(scores)[1], png_size(boot)[1]
    assert heights[3000] == heights[60]


def test_the_memory_preflight_refuses_before_allocating(monkeypatch):
    monkeypatch.setattr(driver, "available_memory", lambda: 10 * 2**20)
    probs = csd.win_probabilities(csd.ScoreTable(
        tuple(f"m{i}" for i in range(600)), ("x",), np.arange(600.0)[:, None]))
    with pytest.raises(csd.InputError, match=r"needs about .* GiB .* fewer models \(about \d+ fit\)"):
        csd.simulate(probs, n_runs=10)


@pytest.fixture
def no_kernels(monkeypatch):
    """Any call of the engine's kernels (the cv pilot's or the runs') fails the test."""
    def kernel_ran(*args):
        raise AssertionError("a kernel ran before the checks")

    monkeypatch.setattr(driver, "_compiled_pilot", kernel_ran)
    monkeypatch.setattr(driver, "_compiled_kernel", kernel_ran)


CHECKED_FIRST = {
    "simulate seed=1.5": (lambda: csd.simulate(TABLE, n_runs=100, seed=1.5), "seed=1.5 must be an integer"),
    "simulate seed='abc'": (lambda: csd.simulate(TABLE, n_runs=100, seed="abc"), "seed='abc'"),
    "simulate seed=None": (lambda: csd.simulate(TABLE, n_runs=100, seed=None), "seed=None"),
    "simulate seed=2**64": (lambda: csd.simulate(TABLE, n_runs=100, seed=2**64), "must be < 2\\*\\*64"),
    "sweep seed='abc'": (lambda: csd.sweep(TABLE, [0, 1], n_runs=100, seed="abc"), "seed='abc'"),
    "bootstrap seed=None": (lambda: csd.bootstrap(TABLE, n_boot=4, n_runs=100, seed=None), "seed=None"),
    "outlier_test seed=2.5": (lambda: csd.outlier_test(TABLE, "a", value=0, n_runs=100, seed=2.5), "seed=2.5"),
    "order_sensitivity=-1": (lambda: csd.simulate(TABLE, n_runs=100, order_sensitivity=-1), "order_sensitivity"),
    "chunk_size=0": (lambda: csd.simulate(TABLE, n_runs=100, chunk_size=0), "chunk_size=0"),
    "bootstrap chunk_size=0": (lambda: csd.bootstrap(TABLE, n_boot=4, n_runs=100, chunk_size=0), "chunk_size=0"),
    "target_se='x'": (lambda: csd.simulate(TABLE, n_runs=100, target_se="x"), "target_se='x'"),
}


@pytest.mark.parametrize("case", CHECKED_FIRST)
def test_every_argument_is_checked_before_any_kernel_runs(case, no_kernels):
    call, named = CHECKED_FIRST[case]
    with pytest.raises(csd.InputError, match=named) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_an_integral_float_seed_is_the_integer_seed():
    assert np.array_equal(csd.simulate(TABLE, n_runs=100, seed=3.0).expected_score,
                          csd.simulate(TABLE, n_runs=100, seed=3).expected_score)


def test_a_table_of_60000_models_is_refused_before_the_pilot(monkeypatch, no_kernels):
    monkeypatch.setattr(driver, "available_memory", lambda: 16 * 2**30)
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(60_000)), ("x",), np.arange(60_000.0)[:, None])
    with pytest.raises(csd.InputError, match=r"full rank distribution of 60000 models"):
        csd.simulate(table, n_runs=100)


def test_cv_tables_that_cannot_fit_are_refused_before_the_pilot_and_plain_is_not(monkeypatch, no_kernels):
    # cv's tables hold K x M x V cells, V = K + 1 score values: 400 benchmarks, 8 slots: 1.3M cells.
    table = csd.ScoreTable(("a", "b", "c"), tuple(f"b{k}" for k in range(400)),
                           np.random.default_rng(0).random((3, 400)))
    monkeypatch.setattr(driver, "available_memory", lambda: 200 * 2**20)
    with pytest.raises(csd.InputError, match=r"estimator='cv' needs about .* use estimator='plain'"):
        csd.simulate(table, n_runs=100)
    with pytest.raises(csd.InputError, match=r"estimator='cv' needs about"):
        csd.bootstrap(table, n_boot=4, n_runs=100)
    rules = driver.prepare(table, csd.Tournament()).rules
    driver.check_memory(rules, 1, 1, cv=False)  # plain's memory does not grow with the rounds


def test_a_chunk_is_never_larger_than_the_runs_or_the_memory(monkeypatch):
    prepared = driver.prepare(TABLE, csd.Tournament())
    assert driver._chunk_size(prepared.rules, 1, 1000, 10**9) == 1000
    monkeypatch.setattr(driver, "available_memory", lambda: 2**20)
    assert driver._chunk_size(prepared.rules, 1, 10**6, None) <= 2**20 // (64 * prepared.rules.n_models)


# ---------------------------------------------------------------------------- target_se


@pytest.mark.slow
def test_target_se_stops_at_the_same_run_count_for_any_chunk_size():
    results = [csd.simulate(TABLE, n_runs=500, target_se=0.01, seed=2, chunk_size=chunk)
               for chunk in (100, 1000, 777)]
    assert {r.n_runs for r in results} == {results[0].n_runs}
    assert results[0].n_runs in driver.stop_checkpoints(500, 50_000)
    assert all(np.array_equal(r.expected_score, results[0].expected_score) for r in results)
    assert results[0].target_met is True and results[0].stderr.max() <= 0.01


def test_max_runs_before_target_se_warns_and_is_recorded():
    with pytest.warns(RuntimeWarning, match="max_runs was reached after 1,500 runs"):
        result = csd.simulate(TABLE, n_runs=500, target_se=1e-6, max_runs=1500, seed=0)
    assert result.n_runs == 1500 and result.target_met is False
    assert csd.SimulationResult.from_dict(result.to_dict()).target_met is False


# ----------------------------------------------------------------- Python API inputs


def _ragged():
    return [[[0.0], [0.5]], [[0.5]]]


BAD_CALLS = {
    "path": (lambda: csd.simulate("file.csv", n_runs=10), "csd.load_table"),
    "ragged P": (lambda: csd.simulate(_ragged(), n_runs=10), "not a rectangular array"),
    "string P": (lambda: csd.simulate(np.array([[["a"]]]), n_runs=10), "holds <U1 values"),
    "complex P": (lambda: csd.simulate(np.zeros((2, 2, 1), complex), n_runs=10), "holds complex128"),
    "max_runs=-1 alone": (lambda: csd.simulate(TABLE, n_runs=10, max_runs=-1), "max_runs=-1 is the cap"),
    "max_runs='abc' alone": (lambda: csd.simulate(TABLE, n_runs=10, max_runs="abc"), "max_runs='abc'"),
    "max_runs=0 with target_se": (lambda: csd.simulate(TABLE, n_runs=10, target_se=0.1, max_runs=0),
                                  "max_runs=0 must be >= 10"),
    "risk_z=-1": (lambda: csd.sweep(TABLE, [0, 1], n_runs=10, risk_z=-1), "risk_z"),
    "risk_z=nan": (lambda: csd.sweep(TABLE, [0, 1], n_runs=10, risk_z=float("nan")), "risk_z"),
    "value=nan": (lambda: csd.outlier_test(TABLE, "a", value=float("nan"), n_runs=10), "value"),
    "progress='x'": (lambda: csd.simulate(TABLE, n_runs=10, progress="x"), "progress='x' must be a function"),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_api_inputs_raise_input_error_naming_the_argument(case):
    call, named = BAD_CALLS[case]
    with pytest.raises(csd.InputError) as caught:
        call()
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_keyboard_interrupt_propagates_from_the_api():
    def interrupt(done, planned):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        csd.simulate(TABLE, n_runs=1000, chunk_size=256, progress=interrupt)


def test_a_huge_elimination_count_eliminates_down_to_min_active():
    with pytest.warns(csd.FrozenRoundsWarning, match=r"round 3 \(z\) played no game"):  # two left, apart
        result = csd.simulate(TABLE, n_runs=10, elimination=10**30, min_active=2)
    assert result.survival.sum(axis=0).tolist() == [2.0, 2.0, 2.0]


def test_scores_near_the_float_limit_are_refused_and_the_largest_allowed_rank_right():
    with pytest.raises(csd.InputError, match="score 1e\\+308 is beyond"):
        csd.ScoreTable(("best", "worst"), ("x",), np.array([[1e308], [-1e308]]))
    table = csd.ScoreTable(("best", "mid", "worst"), ("x",), np.array([[1e300], [0.0], [-1e300]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = normalized_mean(table)
    assert scores.tolist() == [1.0, 0.5, 0.0]


# -------------------------------------------------------------------- CLI error lines


def test_slurm_off_a_cluster_is_one_line():
    from csd.cli import _describe_config_error

    message = _describe_config_error(RuntimeError('Could not detect "srun", are you indeed on a slurm cluster?'))
    assert "srun was not found" in message and "hydra/launcher=submitit_local" in message


def test_an_unwritable_log_file_is_one_line():
    from csd.cli import _describe_config_error

    err = ValueError("Unable to configure handler 'file'")
    err.__cause__ = PermissionError(errno.EACCES, "Permission denied", "/ro/run/csd-run.log")
    expected = "cannot open the run's log file: cannot write /ro/run/csd-run.log: Permission denied"
    assert _describe_config_error(err) == expected


# ------------------------------------------------------- subprocesses and real signals


def start_cli(out: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("HYDRA_FULL_ERROR", None)
    with _sigint_not_ignored():
        return subprocess.Popen(
            [sys.executable, "-m", "csd", "n_runs=3000", "data=epoch_hub_small", *args, f"hydra.run.dir={out}"],
            cwd=out.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )


@contextlib.contextmanager
def _sigint_not_ignored():
    """A child inherits an ignored SIGINT (the suite started as a shell's background job,
    `.ci/run &`), and Python then installs no Ctrl-C handler, so a SIGINT test would test
    nothing. A handler is reset to the default at exec, so the child gets Ctrl-C's
    default while this process holds one."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def consistent(out: Path, before: dict[str, bytes]) -> bool:
    """The folder holds the earlier outputs byte for byte, or one whole published set."""
    if snapshot(out) == before:
        return True
    with rundir.locked(out):  # what the next job does: roll a committed publish forward
        pass
    rundir.check_manifest(out)
    return set(snapshot(out)) - {rundir.MANIFEST} <= set(rundir.check_manifest(out))


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("signals") / "run"
    out.parent.mkdir(exist_ok=True)
    proc = start_cli(out, "seed=1")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(4))
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_signal_at_a_random_moment_leaves_a_whole_set(earlier_run, how, trial):
    before = snapshot(earlier_run)
    proc = start_cli(earlier_run, f"seed={10 + trial}")
    # From the moment the job holds the folder: during the run or the write phase.
    while not (earlier_run / rundir.LOCK).exists() and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(random.Random(trial).uniform(0.0, 8.0))
    proc.send_signal(how)
    _, stderr = proc.communicate(timeout=300)
    if how != signal.SIGKILL and proc.returncode != 0:
        assert (proc.returncode, stderr.strip().splitlines()[-1]) == STOPPED[how], stderr
        assert "Traceback" not in stderr
        assert not list(earlier_run.glob(".csd-run.lock*")) and not list(earlier_run.glob(".staging-*"))
    assert consistent(earlier_run, before)


STOPPED = {signal.SIGINT: (130, "csd-run: interrupted"), signal.SIGTERM: (143, "csd-run: terminated")}


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_while_running_are_one_line_and_leave_no_lock_or_staging(tmp_path, how):
    out = tmp_path / "run"
    proc = start_cli(out)
    while not (out / rundir.LOCK).exists() and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(how)
    _, stderr = proc.communicate(timeout=300)
    assert (proc.returncode, stderr.strip().splitlines()) == (STOPPED[how][0], [STOPPED[how][1]])
    assert not list(out.glob(".csd-run.lock*")) and not list(out.glob(".staging-*"))


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.15, 0.5, 1.0, 1.6])
def test_a_sigint_while_importing_jax_and_hydra_is_one_line(tmp_path, delay):
    # `import csd` is instant and the console script catches Ctrl-C before the seconds of
    # importing JAX and Hydra (csd._start), so even this early a SIGINT is one line.
    proc = start_cli(tmp_path / "run")
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["csd-run: interrupted"]


@pytest.mark.slow
def test_a_sigint_after_the_outputs_are_written_is_not_a_silent_kill(tmp_path):
    # Python resets SIGINT to its default action while it finalizes; csd-run ends without
    # finalizing (csd._start), so a Ctrl-C that comes as the job ends is never a bare -2.
    proc = start_cli(tmp_path / "run")
    for line in proc.stdout:
        if line.startswith("wrote "):
            time.sleep(0.2)  # before the fix, this killed the finalizing interpreter (-2) 3 times in 3
            proc.send_signal(signal.SIGINT)
            break
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode in (0, 130), (proc.returncode, stderr)
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_a_failed_run_leaves_the_outputs_and_hydra_files_byte_identical(earlier_run):
    before = snapshot(earlier_run)
    assert ".hydra/config.yaml" in before
    proc = start_cli(earlier_run, "elimination.t=-3")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert snapshot(earlier_run) == before


@pytest.mark.slow
def test_concurrent_writers_one_runs_the_others_stop_at_once(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    first = start_cli(out, "seed=1")
    while not (out / rundir.LOCK).exists() and first.poll() is None:
        time.sleep(0.1)
    started = time.monotonic()
    second = start_cli(out, "seed=2")
    _, second_err = second.communicate(timeout=300)
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 1 and "in use by another csd-run" in second_err, second_err
    assert len(second_err.strip().splitlines()) == 1
    assert time.monotonic() - started < 60
    assert json.loads((out / "results.json").read_text())["seed"] == 1
    rundir.check_manifest(out)


class Stopped(Exception):
    pass


def _stop(signum, frame):
    raise Stopped(signum)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_wait_until_a_publish_is_done(how):
    steps = []
    previous = signal.signal(how, _stop)  # an xdist worker ignores SIGINT
    try:
        with pytest.raises(Stopped):
            with rundir._sigint_deferred():
                signal.raise_signal(how)
                steps.append("published")
    finally:
        signal.signal(how, previous)
    assert steps == ["published"]
