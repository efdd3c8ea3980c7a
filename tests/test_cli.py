"""The command line `csd-run` / `python -m csd`, from outside the repository.

Most tests run it in-process through its entry function (`csd.testing.cli`), sharing one
JAX import and its compiled kernels; the slow tier runs true subprocesses: `python -m csd`
itself, the progress bar on a terminal and the submitit launcher."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib

import csd
import csd.cli
from csd._src.config import DataConfig, RunConfig, prepare_table
from csd.testing.cli import run_cli_in_process as run_cli

REPO = Path(__file__).resolve().parents[1]
N_RUNS = "n_runs=2000"
OUTPUTS = ("results.json", "results.npz", "results.csv", "report.md", "report.html")


def run_subprocess(*args: str, cwd: Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """`python -m csd ARGS` in a subprocess with the working tree on the path, from `cwd`."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("HYDRA_FULL_ERROR", None)
    if "stderr" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(
        [sys.executable, "-m", "csd", *args], cwd=cwd, env=env, text=True, timeout=timeout, **kwargs
    )


def read_results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def assert_order_reported(out: Path, stdout: str, n_orders: int = 8) -> None:
    """Every mode's header and report.md say which round order was played and how the CSD
    ranking moves under `n_orders` random orders; results.json holds the orders' scores."""
    assert "round order: " in stdout and f"order sensitivity: {n_orders} random round orders" in stdout
    assert "## Round order and frozen rounds" in (out / "report.md").read_text()
    assert len(read_results(out)["order_sensitivity"]["orders"]) == n_orders


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


@pytest.fixture(scope="module")
def simulate_run(tmp_path_factory):
    """One simulate run on the shipped LiveBench table, started outside the repository."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    out = cwd / "run"
    proc = run_cli(N_RUNS, "elimination.t=1", "seed=3", "order_sensitivity=3", f"hydra.run.dir={out}", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd, out, proc


def test_console_script_points_at_main():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["csd-run"] == "csd._start:main"  # catches Ctrl-C, then runs csd.cli.main
    assert callable(csd.cli.main)


def test_configs_folder_is_the_packaged_one_and_every_yaml_is_package_data():
    assert (REPO / "configs").resolve() == (REPO / "csd" / "configs").resolve()
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["csd"]
    package = REPO / "csd"
    shipped = {p for pattern in globs for p in package.glob(pattern)}
    assert set((package / "configs").rglob("*.yaml")) <= shipped


def test_simulate_writes_every_output_with_the_documented_fields(simulate_run):
    cwd, out, proc = simulate_run
    assert not str(cwd).startswith(str(REPO))  # the configs are found from anywhere
    for name in OUTPUTS:
        assert (out / name).is_file()
    assert not list(out.glob(".*.tmp"))
    results = read_results(out)
    for key in (
        "config",
        "models",
        "expected_score",
        "stderr",
        "rank",
        "rank_probs",
        "worst_rank_probs",
        "champion_prob",
        "survival",
        "expected_score_by_round",
        "rounds",
        "n_runs",
        "table",
        "tournament",
        "seed",
        "rank_interval",
        "job",
    ):
        assert key in results, key
    assert results["mode"] == "simulate"
    assert results["frozen_rounds"] is None and "warning:" not in proc.stdout  # LiveBench at T=1 plays every round
    assert results["config"]["n_runs"] == 2000 and results["config"]["seed"] == 3
    assert results["config"]["elimination"] == {"kind": "constant", "t": 1, "min_active": 1}
    assert results["tournament"]["elimination"] == 1 and results["schedule"] == "T=1"
    assert results["rank_probs"]["sidecar"] == "rank_probs" and results["sidecar"]["file"] == "results.npz"
    assert results["worst_rank_probs"]["sidecar"] == "worst_rank_probs"
    assert csd.SimulationResult.load(out / "results.json").tournament.elimination == 1
    assert len(results["models"]) == 65 and len(results["rounds"]) == 21
    assert results["table"]["missing_report"] == "0 missing cell(s), policy 'loss'"
    assert len(results["table"]["tiers"]) == 7 and results["table"]["order"] == "easy-first"  # by category
    assert "round order: easiest benchmark first" in proc.stdout
    assert_order_reported(out, proc.stdout, n_orders=3)
    for plot in ("rank_heatmap.png", "survival.png"):
        assert (out / plot).stat().st_size > 10_000
        assert f"]({plot})" in (out / "report.md").read_text()
    scores = np.array(results["expected_score"])
    assert results["rank"][int(np.argmax(scores))] == 1

    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0] == "rank,model,expected_score,stderr,champion_prob,rank_low,rank_high"
    assert len(lines) == 66
    csv_scores = [float(line.split(",")[2]) for line in lines[1:]]
    assert csv_scores == sorted(csv_scores, reverse=True)

    report = (out / "report.md").read_text()
    assert "| rank | model | E[S] | SE |" in report
    assert "policy 'loss'" in report
    best = results["models"][int(np.argmax(scores))]
    assert re.search(rf"^\s+1\s+{re.escape(best)}\s", proc.stdout, re.MULTILINE)  # the table on the terminal
    assert "\nP(champion): P(top final score, alone or tied)" in proc.stdout  # and its legend under it
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal


def test_cli_scores_equal_the_library_on_the_same_options(tmp_path):
    csv = tmp_path / "my.csv"
    csv.write_text("model,b1,b2,b3,b4\na,9,1,5,7\nb,8,2,6,\nc,7,3,4,6\nd,6,4,3,5\ne,5,5,2,4\n")
    out = tmp_path / "run"
    proc = run_cli(
        "data.path=my.csv",
        "elimination=constant",
        "elimination.t=2",
        N_RUNS,
        "seed=0",
        "data.order=easy-first",
        "pairing=float",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    prepared = prepare_table(DataConfig(path=str(csv), order="easy-first"))
    assert (
        results["rounds"] == list(prepared.table.benchmarks) == ["b1", "b4", "b3", "b2"]
    )  # means 7, 5.5, 4, 3
    assert results["table"]["n_missing"] == 1
    with pytest.warns(csd.FrozenRoundsWarning, match="had left one active model"):  # 5 models - 2 - 2
        expected = csd.simulate(prepared.table, n_runs=2000, seed=0, elimination=2, pairing="float")
    assert results["frozen_rounds"]["message"] in proc.stdout  # csd-run says it too
    np.testing.assert_array_equal(results["expected_score"], expected.expected_score)
    np.testing.assert_array_equal(results["stderr"], expected.stderr)


def test_the_estimator_key_reaches_the_library(tmp_path):
    (tmp_path / "my.csv").write_text("model,b1,b2,b3\na,9,1,5\nb,8,2,6\nc,7,3,4\nd,6,4,3\n")
    out = tmp_path / "run"
    proc = run_cli("data.path=my.csv", N_RUNS, "estimator=plain", "order_sensitivity=0", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    table = prepare_table(DataConfig(path=str(tmp_path / "my.csv"))).table
    expected = csd.simulate(table, n_runs=2000, seed=0, estimator="plain")
    assert results["estimator"] == "plain" and results["pilot_runs"] == 0
    np.testing.assert_array_equal(results["expected_score"], expected.expected_score)


@pytest.mark.slow
def test_cli_pairing_options_equal_the_library(tmp_path):
    csv = tmp_path / "my.csv"
    csv.write_text("model,b1,b2,b3,b4\na,9,1,5,7\nb,8,2,6,1\nc,7,3,4,6\nd,6,4,3,5\ne,5,5,2,4\n")
    out = tmp_path / "run"
    options = ["pairing=adjacent", "pairing.bye_once=true", "pairing.avoid_rematch=true", "pairing.bye_points=1"]
    proc = run_cli("data.path=my.csv", N_RUNS, "seed=0", *options, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    expected = csd.simulate(
        csd.load_table(str(csv)), n_runs=2000, seed=0, pairing="adjacent", bye_once=True, avoid_rematch=True, bye_points=1
    )
    np.testing.assert_array_equal(results["expected_score"], expected.expected_score)
    assert "bye_once, avoid_rematch" in (out / "report.md").read_text()


@pytest.mark.slow  # over 5 s: a whole mode on the 65-model table, with its plots
def test_multirun_over_t_then_collect_merges_into_one_sweep_table(tmp_path):
    sweep_dir = tmp_path / "multirun"
    proc = run_cli("-m", "elimination.t=0,1", N_RUNS, f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = [read_results(sweep_dir / str(n)) for n in (0, 1)]
    assert [r["tournament"]["elimination"] for r in runs] == [0, 1]
    hints = [line for line in proc.stdout.splitlines() if "mode=collect" in line]
    assert hints == [f"merge the runs into one sweep table: csd-run mode=collect dir={sweep_dir}"]  # once, at the end
    assert proc.stdout.rstrip().endswith(hints[0])

    proc = run_cli(*shlex.split(hints[0].partition(": ")[2])[1:], cwd=tmp_path)  # the command as printed
    assert proc.returncode == 0, proc.stderr
    merged_dir = sweep_dir / "collect"
    for name in OUTPUTS:
        assert (merged_dir / name).is_file()
    merged = read_results(merged_dir)
    assert merged["mode"] == "collect"
    assert merged["labels"] == ["T=0", "T=1"] and merged["coupling"] == "collected"
    assert merged["models"] == runs[0]["models"]
    expected = np.array([r["expected_score"] for r in runs])
    stderr = np.array([r["stderr"] for r in runs])
    np.testing.assert_allclose(merged["expected_score"], expected)
    np.testing.assert_allclose(merged["drop"][1], expected[1] - expected[0])
    np.testing.assert_allclose(merged["drop_stderr"][1], np.hypot(stderr[0], stderr[1]))
    assert np.all(np.array(merged["drop"][0]) == 0)
    header = (merged_dir / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["rank", "model", "expected_score[T=0]", "stderr[T=0]"]
    assert "drop_stderr[T=1]" in header
    report = (merged_dir / "report.md").read_text()
    assert "sqrt(SE_a^2 + SE_b^2)" in report and "drop T=1" in report
    assert "drop T=1" in proc.stdout
    assert_order_reported(merged_dir, proc.stdout)  # as the first run (T=0) measured it
    # the order in words agrees with the rounds line (the runs' recorded order, not the tournament's "given")
    assert "round order: easiest benchmark first (by mean score), inside 7 tiers" in proc.stdout
    assert "rounds (order `easy-first` inside 7 tiers, the easiest tier first)" in report
    assert "the table's column order" not in report


def test_experiments_compose_the_papers_settings(tmp_path):
    proc = run_cli("experiment=paper", "--cfg", "all", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^n_runs: 100000$", proc.stdout, re.MULTILINE)
    assert re.search(r"^\s+elimination\.t: 0,1,2$", proc.stdout, re.MULTILINE)  # -m runs T = 0, 1, 2
    proc = run_cli("experiment=paper_fsa", "--cfg", "job", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mode: sweep" in proc.stdout and re.search(r"schedules:\n\s+- 0\n\s+- 1\n\s+- 2", proc.stdout)


def test_slurm_launcher_config_composes(tmp_path):
    proc = run_cli("hydra/launcher=slurm", "hydra.launcher.partition=gpu", "--cfg", "hydra", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "_target_: hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher" in proc.stdout
    assert "partition: gpu" in proc.stdout and "gpus_per_node: 1" in proc.stdout
    proc = run_cli("hydra/launcher=slurm", "--info", "defaults", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "hydra/launcher/submitit_slurm" in proc.stdout
    proc = run_cli("--cfg", "job", cwd=tmp_path)
    assert proc.returncode == 0 and "n_runs: 100000" in proc.stdout


@pytest.mark.slow
def test_multirun_through_submitit_local_executor(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")  # the `cluster` extra
    sweep_dir = tmp_path / "multirun"
    proc = run_subprocess(
        "-m",
        "hydra/launcher=submitit_local",
        "elimination.t=1",
        N_RUNS,
        f"hydra.sweep.dir={sweep_dir}",
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = read_results(sweep_dir / "0")
    assert results["tournament"]["elimination"] == 1 and results["job"]["num"] == 0
    assert list((sweep_dir / ".submitit").iterdir())
    assert proc.stdout.rstrip().endswith(f"csd-run mode=collect dir={sweep_dir}")  # printed by the launching process


BAD_INPUTS = {
    "missing file": (["data.path=nope.csv"], "nope.csv: cannot read the table"),
    "bad csv": (["data.path=bad.csv"], "bad.csv, line 3: expected 3 fields, found 2"),
    "schedule length": (
        ["elimination=schedule", "elimination.t=[0,1,2]"],
        "elimination.t: elimination: has 3 entries but the tournament has 21 rounds",
    ),
    "schedule unset": (["elimination=schedule"], "elimination.t=0 must be a list of ints >= 0, one per round"),
    "negative T": (["elimination.t=-1"], "elimination.t: elimination=-1 must be >= 0"),
    "zero runs": (["n_runs=0"], "n_runs=0 must be >= 1"),
    "negative runs": (["n_runs=-5"], "n_runs=-5 must be >= 1"),
    "unknown pairing": (
        ["pairing=swiss"],
        "pairing=swiss is not allowed; choose one of: adjacent, float, fold, random, slide",
    ),
    "unknown pairing rule": (
        ["pairing.rule=swiss"],
        "pairing.rule: pairing='swiss' is not allowed; choose one of: random, float",
    ),
    "random bye under a seeded rule": (
        ["pairing=slide", "pairing.bye=random"],
        "pairing.bye: bye='random' does not apply to pairing='slide'",
    ),
    "unknown key": (["n_run=5"], "unknown option n_run; allowed at the top level: "),
    "unknown data key": (
        ["data.file=x.csv"],
        "unknown option data.file; allowed in data: table, path, missing, order, tiers, tier_order",
    ),
    "bad order": (
        ["data.order=hard"],
        "data.order: order='hard' is not allowed; choose one of: given, easy-first, random",
    ),
    "unparsable override": (["elimination.t=[1,2"], "cannot parse the override 'elimination.t=[1,2'"),
    "negative seed": (["seed=-1"], "error: seed=-1 must be >= 0"),  # the key typed, not data.seed
    "no rows": (["top=0"], "error: top=0 must be >= 1"),
    "negative rows": (["top=-1"], "error: top=-1 must be >= 1"),
    "empty path": (["data.path="], "error: data.path: path='' names no file"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_leaves_earlier_results_alone(simulate_run, case):
    cwd, out, _ = simulate_run
    (cwd / "bad.csv").write_text("model,a,b\nx,1,2\ny,3\n")
    before = snapshot(out)
    args, message = BAD_INPUTS[case]
    proc = run_cli(*args, N_RUNS if "n_runs" not in args[0] else args[0], f"hydra.run.dir={out}", cwd=cwd)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("csd-run: error: "), proc.stderr
    assert message in lines[0]
    assert snapshot(out) == before


@pytest.mark.slow
def test_python_m_csd_in_a_subprocess_equals_the_in_process_run(simulate_run, tmp_path):
    cwd, out, in_process = simulate_run
    proc = run_subprocess(N_RUNS, "elimination.t=1", "seed=3", "order_sensitivity=3", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    assert proc.stdout.splitlines()[:-1] == in_process.stdout.splitlines()[:-1]  # all but "wrote ... to DIR"
    assert read_results(tmp_path / "run")["expected_score"] == read_results(out)["expected_score"]
    bad = run_subprocess("n_runs=0", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("csd-run: error: n_runs=0 must be >= 1")
    assert len(bad.stderr.splitlines()) == 1


@pytest.mark.slow
def test_progress_bar_draws_on_a_terminal_only(tmp_path):
    import pty

    leader, follower = pty.openpty()
    try:
        proc = run_subprocess(
            N_RUNS,
            "chunk_size=500",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
            stderr=follower,
            stdout=subprocess.PIPE,
        )
        os.close(follower)
        follower = None
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    assert proc.returncode == 0
    assert b"simulate: 100%" in drawn and b"2000/2000" in drawn


def test_help_lists_the_groups(tmp_path):
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for line in (
        "data: epoch_hub_small, livebench, openllm_v2",
        "elimination: constant, none, schedule",
        "pairing: adjacent, float, fold, random, slide",
        "experiment: paper, paper_fsa",
    ):
        assert line in proc.stdout


@pytest.mark.slow  # over 5 s: a whole mode on the 65-model table, with its plots
def test_sweep_mode_writes_paired_drops_risk_profiles_and_plots(tmp_path):
    out = tmp_path / "sweep"
    proc = run_cli("mode=sweep", "sweep.schedules=[0,1]", N_RUNS, "seed=2", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    assert results["labels"] == ["T=0", "T=1"]
    assert len(results["drop_stderr"][1]) == 65 and set(results["risk_profile"]) <= {
        "robust generalist", "in between", "aggressive specialist"}
    config = RunConfig.from_dict({})  # the shipped LiveBench config: by category, easiest first
    prepared = prepare_table(config.data)
    rules = config.tournament(prepared).replace(elimination=1)
    single = csd.simulate(prepared.table, tournament=rules, n_runs=2000, seed=2)
    assert np.allclose(results["expected_score"][1], single.expected_score)
    for plot in ("risk_profile.png", "expected_scores.png"):
        assert (out / plot).is_file()
    assert "drop T=1" in proc.stdout
    assert_order_reported(out, proc.stdout)
    report = (out / "report.md").read_text()
    assert "coloured by risk profile; named: the top 3 and the 5 most extreme" in report  # 65 models: not all named


@pytest.mark.slow  # over 5 s: a whole mode on the 65-model table, with its plots
def test_bootstrap_mode_writes_intervals_and_tiers(tmp_path):
    out = tmp_path / "boot"
    proc = run_cli(
        "mode=bootstrap", "bootstrap.n_boot=20", "n_runs=300", "data.tiers=auto", f"hydra.run.dir={out}", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    low, high = np.array(results["ci_low"]), np.array(results["ci_high"])
    assert low.shape == (65,) and np.all(low <= high)
    assert min(results["tiers"]) == 1
    assert results["interval"] == "expanded"  # the default for scheme=benchmarks
    header = (out / "results.csv").read_text().splitlines()[0]
    assert header == "rank,model,expected_score,stderr,ci_low,ci_high,rank_low,rank_high,tier"
    assert (out / "bootstrap.png").is_file() and "![E[S] and its 95% bootstrap interval" in (out / "report.md").read_text()
    assert_order_reported(out, proc.stdout)


@pytest.mark.slow  # over 5 s: a whole mode on the 65-model table, with its plots
def test_compare_and_outlier_modes_rank_every_method(tmp_path):
    out = tmp_path / "compare"
    proc = run_cli("mode=compare", "compare.methods=[csd,mean,borda]", "n_runs=1000", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    assert set(results["ranks"]) == {"csd", "mean", "borda"}
    assert (out / "bump.png").is_file()
    assert_order_reported(out, proc.stdout)
    model = results["models"][0]
    out = tmp_path / "outlier"
    proc = run_cli("mode=outlier", f"outlier.model={model}", "n_runs=1000", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    assert set(results["rank_before"]) == set(results["rank_after"]) and "csd" in results["shift"]
    assert results["score_before"]["csd"] > results["score_after"]["csd"]  # its best score zeroed
    assert "score_before" in (out / "results.csv").read_text().splitlines()[0]
    assert_order_reported(out, proc.stdout)


@pytest.mark.slow  # over 5 s: a whole simulate run on the 65-model table, with its plots
def test_csd_run_with_no_options_ranks_shipped_livebench_as_the_python_api(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(N_RUNS, "order_sensitivity=0", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = read_results(out)
    api = csd.simulate(csd.load_table(csd.shipped_table("livebench")), n_runs=2000, seed=0)
    assert results["rounds"] == list(api.rounds)
    np.testing.assert_array_equal(results["expected_score"], api.expected_score)
    leader = results["models"][int(np.argmax(results["expected_score"]))]
    assert leader == api.models[int(np.argmax(api.expected_score))] == "gpt-5.1-codex-max-xhigh"
    assert re.search(rf"^\s+1\s+{re.escape(leader)}\s", proc.stdout, re.MULTILINE)


# Refused inputs whose one line suggests commands: (the arguments, what the line says).
HINTED = {
    "a list value with spaces and brackets": (["'data.lower_is_better=[Latency (ms)]'"],
                                              """ 'data.lower_is_better=["Latency (ms)"]'"""),
    "a list field given one value": (["data.lower_is_better=Accuracy"], "data.lower_is_better is a list"),
    "a comma sweep of T": (["elimination.t=1,2"], "is a sweep over 2 values"),
    "a list of T under constant elimination": (["'elimination.t=[1,2]'"], "must be one int >= 0 under"),
    "a comma list of schedules": (["mode=sweep", "sweep.schedules=0,1"], "is a sweep over 2 values"),
    "a comma schedule": (["elimination=schedule", "elimination.t=0,1"], "is a sweep over 2 values"),
}
COMMAND = re.compile(r"csd-run(?: (?:'[^']*'|[^\s;']+))+")


def jobs_of(args: list[str]) -> list[list[str]]:
    """The overrides of each job `csd-run ARGS` runs (one, or one per value with -m)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if "-m" not in args:
        return [args]
    parsed = OverridesParser.create().parse_overrides([arg for arg in args if arg != "-m"])
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def accepted(job: list[str]) -> None:
    """Checks a job's overrides as csd-run does before computing: keys and types, the
    table, the rules and the schedules against its rounds."""
    from test_config import composed

    from csd._src.spec import elimination_schedules

    config = RunConfig.from_dict(composed(*job))
    prepared = prepare_table(config.data, config.seed)
    tournament = config.tournament(prepared)
    schedules = config.sweep.schedules if config.mode == "sweep" else [tournament.elimination]
    elimination_schedules(schedules, len(prepared.table.benchmarks))


@pytest.mark.parametrize("case", list(HINTED))
def test_every_command_a_hint_prints_is_accepted(tmp_path, case):
    (tmp_path / "lat.csv").write_text("model,Accuracy,Latency (ms)\na,0.9,120\nb,0.8,80\nc,0.7,95\n")
    args, says = HINTED[case]
    typed = [*(shlex.split(arg) for arg in args)]
    typed = [f"data.path={tmp_path / 'lat.csv'}", *(part for parts in typed for part in parts)]
    proc = run_cli(*typed, cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert says in line
    commands = COMMAND.findall(line.removeprefix("csd-run: error: "))
    assert commands, line
    for command in commands:
        args = shlex.split(command)[1:]
        if "data.path" not in " ".join(args):  # a command of the error's own (default table)
            args = [f"data.path={tmp_path / 'lat.csv'}", *args]
        for job in jobs_of(args):
            accepted(job)
def test_control_characters_in_model_names_are_escaped_on_the_terminal(tmp_path):
    names = ["plain", "red\x1b[31m", "back\rspace", "bidi\u202eevil"]
    rows = [f"\"{name}\",{4 - i},{i % 3},{(2 * i) % 4}" for i, name in enumerate(names)]
    (tmp_path / "t.csv").write_text("model,x,y,z\n" + "\n".join(rows) + "\n", encoding="utf-8")
    proc = run_cli("data.path=t.csv", "n_runs=200", "order_sensitivity=0", "estimator=plain",
                   f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", proc.stdout + proc.stderr)
    assert "red\\x1b[31m" in proc.stdout and "back\\rspace" in proc.stdout and "bidi\\u202eevil" in proc.stdout
    assert "red\x1b[31m" in read_results(tmp_path / "run")["models"]  # the results keep the names as they are
