"""`to_dataframe()` on every result type: the rows of `table()` as a tidy pandas
DataFrame, whose values are those `to_dict()` holds; and the bootstrap intervals that
`compare(n_boot=...)` gives every method."""

import subprocess
import sys

import numpy as np
import pytest

import csd
from csd._src import streams
from csd._src.bootstrap import intervals, resampled_columns

pd = pytest.importorskip("pandas")

MODELS = ("a", "b", "c", "d", "e")
BENCHMARKS = ("k1", "k2", "k3", "k4", "k5", "k6")
SCORES = np.array([
    [9.0, 8, 7, 9, 8, 6],
    [8.0, 9, 6, 7, 7, 8],
    [5.0, 6, 8, 5, 6, 7],
    [4.0, 3, 5, 6, 2, 4],
    [1.0, 2, 3, 1, 3, 2],
])
TABLE = csd.ScoreTable(MODELS, BENCHMARKS, SCORES)


def by_model(frame: "pd.DataFrame", column: str) -> dict:
    return dict(zip(frame["model"], frame[column]))


def test_simulation_frame_is_the_table_with_the_values_of_to_dict():
    result = csd.simulate(TABLE, n_runs=400, seed=1)
    frame, data = result.to_dataframe(), result.to_dict()
    assert list(frame.columns) == list(result.table().header)
    assert list(frame["model"]) == [MODELS[m] for m in result.order()]
    for m, model in enumerate(MODELS):
        assert by_model(frame, "expected_score")[model] == data["expected_score"][m]
        assert by_model(frame, "stderr")[model] == data["stderr"][m]
        assert by_model(frame, "rank")[model] == data["rank"][m]
        assert by_model(frame, "rank_low")[model] == data["rank_interval"]["low"][m]
        assert by_model(frame, "rank_high")[model] == data["rank_interval"]["high"][m]


@pytest.mark.slow
def test_sweep_frame_has_one_row_per_model_and_schedule():
    with pytest.warns(csd.FrozenRoundsWarning, match="under T=1, rounds 5-6"):  # one model left: nobody plays
        result = csd.sweep(TABLE, schedules=[0, 1, 2], n_runs=400, seed=2)
    frame, data = result.to_dataframe(), result.to_dict()
    assert len(frame) == len(MODELS) * 3
    assert list(frame.columns) == ["model", "schedule", "rank", "expected_score", "stderr", "drop",
                                   "relative_drop", "drop_stderr", "risk_profile"]
    for s, label in enumerate(result.labels):
        rows = frame[frame["schedule"] == label]
        for m, model in enumerate(MODELS):
            row = rows[rows["model"] == model].iloc[0]
            assert row["expected_score"] == data["expected_score"][s][m]
            assert row["stderr"] == data["stderr"][s][m]
            assert row["rank"] == data["rank"][s][m]
            assert row["risk_profile"] == data["risk_profile"][m]
            if s == 0:
                assert np.isnan(row["drop"]) and np.isnan(row["drop_stderr"])
            else:
                assert row["drop"] == data["drop"][s][m] and row["drop_stderr"] == data["drop_stderr"][s][m]


@pytest.mark.slow
def test_bootstrap_frame_has_the_score_its_se_and_both_intervals():
    result = csd.bootstrap(TABLE, n_boot=8, n_runs=200, seed=3)
    frame, data = result.to_dataframe(), result.to_dict()
    assert list(frame.columns) == ["rank", "model", "expected_score", "stderr", "ci_low", "ci_high",
                                   "rank_low", "rank_high", "tier"]
    for m, model in enumerate(MODELS):
        for column, key in (("stderr", "stderr"), ("ci_low", "ci_low"), ("ci_high", "ci_high"),
                            ("rank_low", "rank_low"), ("tier", "tiers"), ("rank", "rank")):
            assert by_model(frame, column)[model] == data[key][m]


def test_outlier_frame_has_one_row_per_method():
    result = csd.outlier_test(TABLE, "b", ["k1", "k2"], methods=["mean", "borda"])
    frame = result.to_dataframe()
    assert list(frame["method"]) == ["mean", "borda"]
    assert frame.set_index("method")["shift"].to_dict() == result.to_dict()["shift"]
    assert frame.set_index("method")["score_after"].to_dict() == result.to_dict()["score_after"]


def test_comparison_frame_without_intervals_has_score_and_rank_per_method():
    result = csd.compare(TABLE, ["mean", "borda"])
    frame, data = result.to_dataframe(), result.to_dict()
    assert list(frame.columns) == ["model", "score[mean]", "rank[mean]", "score[borda]", "rank[borda]"]
    assert result.intervals == {} and "[" not in result.table().text().rpartition("\n")[0]  # rows, not the legend
    for m, model in enumerate(MODELS):
        assert by_model(frame, "score[borda]")[model] == data["scores"]["borda"][m]
        assert by_model(frame, "rank[mean]")[model] == data["ranks"]["mean"][m]


@pytest.mark.slow
def test_compare_gives_every_method_an_interval_from_the_same_resampled_tables():
    tiers = [["k1", "k2", "k3"], ["k4", "k5", "k6"]]
    result = csd.compare(TABLE, ["csd", "mean", "bradley_terry"], n_runs=300, n_boot=12, tiers=tiers,
                         coverage=0.9, boot_runs=200, seed=4)
    boot = csd.bootstrap(TABLE, 12, 200, tiers=tiers, coverage=0.9, seed=4)
    for key in ("ci_low", "ci_high", "rank_low", "rank_high"):
        assert np.array_equal(result.intervals["csd"][key], getattr(boot, key))
    # the baselines' replicate tables are csd.bootstrap's: the same stream, the same draws
    generator = streams.host_generator(4, streams.BOOTSTRAP_RESAMPLE)
    columns = resampled_columns([np.arange(3), np.arange(3, 6)], 12, generator)
    replicate_means = np.stack([SCORES[:, drawn].mean(axis=1) for drawn in columns])
    expected = intervals(SCORES.mean(axis=1), replicate_means, 0.9, "expanded", None, 6, 2)
    for key in ("ci_low", "ci_high", "rank_low", "rank_high"):
        assert np.allclose(result.intervals["mean"][key], expected[key])
    for method in result.methods:
        bounds = result.intervals[method]
        assert np.all(bounds["ci_low"] <= bounds["ci_high"]) and np.all(bounds["rank_low"] <= bounds["rank_high"])
    frame = result.to_dataframe()
    assert {"ci_low[bradley_terry]", "ci_high[csd]", "rank_low[mean]", "rank_high[csd]"} <= set(frame.columns)
    assert by_model(frame, "ci_low[mean]")["a"] == result.intervals["mean"]["ci_low"][0]
    data = result.to_dict()
    again = csd.Comparison.from_dict(data)
    assert again.coverage == 0.9 and np.array_equal(again.intervals["mean"]["rank_low"], expected["rank_low"])
    older = csd.Comparison.from_dict({k: v for k, v in data.items() if k not in ("intervals", "coverage")})
    assert older.intervals == {} and older.coverage is None  # a results.json from before intervals
    assert "[" in result.format_table()  # ranks are shown with their intervals


def test_baseline_intervals_are_points_where_resampling_cannot_change_a_score():
    flat = csd.ScoreTable(MODELS, BENCHMARKS, np.repeat(SCORES[:, :1], 6, axis=1))
    bounds = csd.baseline_intervals(flat, ["mean"], n_boot=10)["mean"]
    assert np.allclose(bounds["ci_low"], SCORES[:, 0]) and np.allclose(bounds["ci_high"], SCORES[:, 0])
    assert bounds["rank_low"].tolist() == bounds["rank_high"].tolist() == [1, 2, 3, 4, 5]


def test_baseline_intervals_refuse_csd_and_bad_options():
    with pytest.raises(csd.InputError, match="csd.bootstrap"):
        csd.baseline_intervals(TABLE, ["csd"], n_boot=10)
    with pytest.raises(csd.InputError, match="n_boot"):
        csd.baseline_intervals(TABLE, ["mean"], n_boot=1)
    with pytest.raises(csd.InputError, match="n_boot"):
        csd.compare(TABLE, ["mean"], n_boot=-1)


def test_csd_plots_is_reachable_after_import_csd_and_only_then_imports_matplotlib():
    code = (
        "import sys, csd\n"
        "assert 'matplotlib' not in sys.modules\n"
        "assert callable(csd.plots.plot_win_probabilities)\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.slow
def test_cli_compare_shows_an_interval_for_every_method_when_asked(tmp_path):
    import json
    import os
    from pathlib import Path

    out = tmp_path / "compare"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "csd", "mode=compare", "compare.methods=[csd,mean,bradley_terry]", "compare.n_boot=6",
         "compare.boot_runs=100", "n_runs=300", f"hydra.run.dir={out}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert sorted(results["intervals"]) == ["bradley_terry", "csd", "mean"] and results["coverage"] == 0.95
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert {"ci_low[csd]", "rank_high[mean]", "ci_high[bradley_terry]"} <= set(header)
    lines = proc.stdout.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["model"])
    table_lines = lines[header_at + 1 : header_at + 4]
    assert all(line.count("[") == 3 for line in table_lines)  # a rank interval under each method
