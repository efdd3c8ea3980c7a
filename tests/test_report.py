"""csd.report: the paper's whole analysis written into one folder (report.md, results.json,
seven figures), its building blocks, `csd-run mode=report` and scripts/paper_analysis.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from csd.testing.png import png_size

import csd
from csd._src.config import DataConfig, ReportConfig, RunConfig
from csd._src.outputs import to_json
from csd._src import sidecar, streams
from csd._src.report.analysis import merged_ranks, rank_spread
from csd._src.runs import Context, run_report

FIGURES = (
    "risk_profile.png",
    "expected_scores.png",
    "survival.png",
    "rank_heatmap.png",
    "bootstrap.png",
    "bump.png",
    "round_orders.png",
)
SECTIONS = (
    "## Headline",
    "## 1. Ranking by Expected Win Score",
    "## 2. Failure Sensitivity Analysis",
    "### Risk profiles",
    "## 3. Bootstrap intervals and tiers",
    "## 4. CSD and the static rankings",
    "## 5. Outlier robustness",
    "## 6. How much the ranking depends on the round order",
    "## 7. Monte Carlo precision and run time",
)
SMALL = dict(n_runs=400, fsa_runs=300, n_boot=6, boot_runs=100, order_runs=200, n_random_orders=2)
TIERS = {"late": ["b0", "b1", "b2"], "early": ["b3", "b4", "b5", "b6"]}


def small_table() -> csd.ScoreTable:
    """12 models x 7 benchmarks of distinct random scores, one missing."""
    scores = np.random.default_rng(11).random((12, 7)) * 100
    scores[4, 2] = np.nan
    return csd.ScoreTable(tuple(f"m{i:02d}" for i in range(12)), tuple(f"b{k}" for k in range(7)), scores,
                          notes=("b6: lower is better, flipped",))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    steps = []
    # T = 2 leaves two models of different scores for the last two rounds: nobody plays them
    with pytest.warns(csd.FrozenRoundsWarning, match=r"^in the sweep under T=2, rounds 6-7 \(b4, b3\)"):
        result = csd.report(small_table(), out_dir=out, order="easy-first", tiers=TIERS, tier_order="easy-first",
                            name="small", outlier_rank=3, progress=steps.append, seed=5, **SMALL)
    return out, result, steps


def captions(report_md: str) -> dict[str, str]:
    """{figure file: its caption} from report.md."""
    found = re.findall(r"!\[[^\]]+\]\(([a-z_]+\.png)\)\n\n\*[^*]+\*\s+(\S[^\n]*)", report_md)
    return dict(found)


@pytest.mark.slow
def test_report_says_what_reading_the_table_changed(small):
    out, _, _ = small
    assert "**Table notes.** b6: lower is better, flipped." in (out / "report.md").read_text()


@pytest.mark.slow
def test_report_writes_the_figures_results_and_report_and_nothing_else(small):
    out, result, steps = small
    files = ["report.md", "report.html", "results.json", "results.npz", "results.csv", *FIGURES]
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    assert sorted(p.name for p in result.files) == sorted(p.name for p in out.iterdir())
    for name in FIGURES:
        width, height = png_size(out / name)
        assert width >= 600 and height >= 400, name
    assert [line.split(":")[0] for line in steps][-1] == "figures" and len(steps) == 8


@pytest.mark.slow
def test_report_md_has_every_section_and_a_caption_per_figure(small):
    out, result, _ = small
    text = (out / "report.md").read_text(encoding="utf-8")
    assert text == result.markdown
    assert all(section in text for section in SECTIONS)
    assert set(captions(text)) == set(FIGURES)
    assert "nan" not in text.lower().split()
    assert "2 tiers, by the tier's mean score, easiest first" in text
    assert "## Headline\n\n- **Frozen rounds:** in the sweep under T=2, rounds 6-7 (b4, b3) played no game" in text


@pytest.mark.slow
def test_captions_give_the_numbers_of_the_results(small):
    out, result, _ = small
    a = result.analysis
    caption = captions(result.markdown)
    first = a.ranking.order()[0]
    share = f"{100 * a.ranking.champion_prob[first]:.0f}%"
    assert f"finishes first (alone or tied) in {share}" in caption["rank_heatmap.png"]
    assert f"over {a.boot.n_boot} resampled tables" in caption["bootstrap.png"]
    tau = a.comparison.kendall_tau["csd T=0"]
    assert f"with mean score {tau['mean']:.2f}, with Bradley-Terry {tau['bradley_terry']:.2f}" in caption["bump.png"]
    deepest = int(np.argmin(a.fsa.drop[-1]))
    assert f"{a.models[deepest]}'s ({a.fsa.drop[-1, deepest]:+.2f}" in caption["risk_profile.png"]
    for name, other in a.orders.items():
        tau = csd.baselines.kendall_tau(a.ranking.expected_score, other.expected_score)
        assert f"{name} {tau:.2f}" in caption["round_orders.png"]


@pytest.mark.slow
def test_prose_shows_non_zero_ses_single_numbers_and_labelled_drops(small):
    text = small[1].markdown
    assert not re.search(r"± 0\.0+\b", text)  # an SE written as zero (`10.19 ± 0.00`)
    collapsed = r"(?<![\d.])(-?\d+(?:\.\d+)?)-\1(?![\d.])"  # a range whose ends read the same: `0.97-0.97`, `3-3`
    assert not re.search(collapsed, text)
    a = small[1].analysis
    headline = text.split("## Headline")[1].split("## 1.")[0]
    assert f"the mean drop in E[S] is {a.fsa.drop[-1].mean():.2f}" in headline
    if "sharpest specialist" in headline:
        assert "at T=0 and a drop of " in headline


@pytest.mark.slow
def test_a_report_on_few_models_names_no_risk_profile_and_says_why(tmp_path):
    from csd._src.sweep import MIN_PROFILE_MODELS

    scores = np.random.default_rng(2).random((5, 4)) * 100
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(5)), tuple(f"b{k}" for k in range(4)), scores)
    result = csd.report(table, out_dir=tmp_path / "few", name="few", seed=1, **SMALL)
    text = result.markdown
    assert MIN_PROFILE_MODELS > 5
    assert text.lower().count("risk profiles are omitted") >= 3  # headline, section text, risk caption
    assert f"at least {MIN_PROFILE_MODELS} models (this table has 5)" in text
    for claim in ("sharpest specialist", "clearest generalist", "aggressive specialist", "robust generalist",
                  "coloured by risk profile"):
        assert claim not in text, claim
    assert set(result.analysis.fsa.risk_profile) == {"in between"}


@pytest.mark.slow
def test_results_json_round_trips_and_agrees_with_the_analysis(small):
    out, result, _ = small
    stored, stored_arrays = sidecar.load(out / "results.json")
    arrays: dict = {}
    assert stored == json.loads(to_json(sidecar.describe(result.to_dict(arrays), arrays)))
    assert sorted(stored_arrays) == sorted(arrays) and "sweep.results.2.rank_probs" in arrays
    assert all(np.array_equal(stored_arrays[key], arrays[key]) for key in arrays)
    rows = (out / "results.csv").read_text(encoding="utf-8").splitlines()  # the appendix, every model
    assert rows[0].startswith("rank,model,expected_score[T=0],stderr[T=0],") and len(rows) == 1 + 12
    assert "## Appendix: every model" in result.markdown and "more rows not shown" not in result.markdown
    a = result.analysis
    assert stored["shape"] == [12, 7] and stored["table"] == "small"
    assert [entry["where"] for entry in stored["frozen_rounds"]["results"]] == ["in the sweep under T=2"]
    assert stored["settings"] == {**SMALL, "outlier_rank": 3, "outlier_count": 3, "seed": 5}
    assert [b for names in stored["tiers"].values() for b in names] == stored["rounds"]
    assert sorted(map(sorted, stored["tiers"].values())) == sorted(map(sorted, TIERS.values()))
    assert stored["ranking"][0]["expected_score"] == float(a.ranking.expected_score.max())
    tau = stored["kendall_tau"]
    assert all(tau[x][y] == tau[y][x] for x in tau for y in tau)
    assert list(tau) == ["csd T=0", "csd T=2", "mean", "normalized_mean", "mean_rank", "borda", "bradley_terry", "elo"]
    outlier = stored["outlier"]
    third = stored["ranking"][2]  # outlier_rank=3; the test reuses the ranking before the change
    assert outlier["model"] == third["model"] and outlier["score_before"]["csd"] == third["expected_score"]
    row = a.table.scores[a.table.models.index(third["model"])]
    best = sorted(np.argsort(-np.nan_to_num(row, nan=-1))[:3])
    assert outlier["benchmarks"] == [a.table.benchmarks[k] for k in best]
    assert stored["outlier_float_pairing"]["model"] == third["model"]


@pytest.mark.slow
def test_random_round_orders_come_from_the_named_stream(small):
    _, result, _ = small
    given = small_table().benchmarks
    permutations = streams.host_generator(5, streams.ORDER_SENSITIVITY)
    for r in (1, 2):
        expected = [given[k] for k in permutations.permutation(len(given))]
        assert result.analysis.orders[f"random {r}"].rounds == expected
    assert result.analysis.orders["file order"].rounds == list(given)


def test_rank_spread_of_a_hand_made_table():
    table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.array([[3.0, 1.0], [2.0, 2.0], [1.0, np.nan]]))
    spread = rank_spread(table)
    np.testing.assert_array_equal(spread.ranks, [[1, 2], [2, 1], [3, 3]])
    np.testing.assert_array_equal(spread.early, [-0.5, 0.5, 0.0])
    np.testing.assert_allclose(spread.sd, [np.sqrt(0.5), np.sqrt(0.5), 0.0])
    assert spread.worst_benchmark == ["y", "x", "x"] and spread.half == 1


def test_merged_ranks_joins_identical_columns():
    merged = merged_ranks({"a": np.array([1, 2]), "b": np.array([2, 1]), "c": np.array([1, 2])})
    assert list(merged) == ["a\n= c", "b"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_runs": 1}, "n_runs=1 must be >= 2"),
        ({"outlier_model": "nobody"}, "outlier_model='nobody' is not in the table"),
        ({"elimination": 2}, "elimination=2: the report plays T = 0"),
        ({"pairng": "float"}, "unknown tournament option(s) ['pairng']"),
        ({"order": "backwards"}, "order='backwards' is not allowed"),
        ({"tiers": {"t": ["b0"]}}, "puts no tier on benchmark(s)"),
    ],
)
def test_bad_options_are_input_errors_and_write_nothing(tmp_path, options, message):
    with pytest.raises(csd.InputError, match=re.escape(message)):
        csd.report(small_table(), out_dir=tmp_path / "out", **{**SMALL, **options})
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("below", ["", "sub"])
def test_an_out_dir_that_is_a_file_is_refused_before_the_analyses(tmp_path, below):
    existing = tmp_path / "good.csv"
    existing.write_text("model,x\n")
    with pytest.raises(csd.InputError, match="out_dir=.*good.csv.* is a file, not a folder"):
        csd.report(small_table(), out_dir=existing / below, **SMALL)
    assert existing.read_text() == "model,x\n"


@pytest.mark.slow  # a whole report: about 20 s on 2 cores
def test_a_report_of_two_models_every_method_ranks_alike(tmp_path):
    table = csd.ScoreTable(("a", "b"), ("x", "y", "z"), np.array([[4.0, 4, 4], [3, 1, 3]]))
    result = csd.report(table, out_dir=tmp_path, **SMALL)
    bump = captions((tmp_path / "report.md").read_text())["bump.png"]
    assert "Every method ranks the models alike" in bump and result.files


def test_report_config_sizes_are_checked_by_the_library_and_named_by_key(tmp_path):
    assert RunConfig.from_dict({"mode": "report", "report": {"quick": True, "n_boot": 4}}).report == ReportConfig(
        n_boot=4, quick=True)
    config = RunConfig.from_dict({"mode": "report", "data": {"table": "epoch_hub_small"}, "report": {"n_boot": 1}})
    with pytest.raises(csd.InputError, match=r"report\.n_boot: n_boot=1 must be >= 2"):
        run_report(config, Context(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # with the `small` report: 20 s on 2 cores
def test_cli_mode_report_writes_the_report_into_the_run_folder(tmp_path, small):
    path = tmp_path / "small.csv"
    table = small_table()
    rows = [",".join(["model", *table.benchmarks])]
    for model, row in zip(table.models, table.scores):
        rows.append(",".join([model, *("" if np.isnan(v) else repr(float(v)) for v in row)]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "tiers.json").write_text(json.dumps(TIERS), encoding="utf-8")
    config = RunConfig(mode="report", seed=5, progress=False,
                       data=DataConfig(table=None, path=str(path), order="easy-first",
                                       tiers=str(tmp_path / "tiers.json"), tier_order="easy-first"),
                       report=ReportConfig(**SMALL, outlier_rank=3))
    with pytest.warns(csd.FrozenRoundsWarning):  # run_report outside csd-run's run_mode, which quiets it
        output = run_report(config, Context(tmp_path / "run", overrides=("mode=report",)))
    assert sorted(p.name for p in output.written) == sorted(
        ["report.md", "report.html", "results.json", "results.npz", "results.csv", *FIGURES])
    stored = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    library = small[1].to_dict()
    assert stored["ranking"] == library["ranking"] and stored["rounds"] == library["rounds"]
    assert "Generated by `csd-run mode=report`" in (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    headline = output.terminal.splitlines()[1]
    assert headline.startswith("order sensitivity: ") and "Kendall tau" in headline and "the leader changes in" in headline
    assert output.terminal.splitlines()[2] == f"warning: {stored['frozen_rounds']['message']}"


@pytest.mark.slow
def test_csd_run_report_quick_on_livebench_reproduces_the_papers_settings(tmp_path):
    out = tmp_path / "report"
    overrides = ["mode=report", "report.quick=true", "data.order=easy-first", "data.tiers=auto",
                 "data.tier_order=easy-first", "progress=false", f"hydra.run.dir={out}"]
    proc = subprocess.run([sys.executable, "-m", "csd", *overrides], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    listed = [p.name for p in out.iterdir() if not p.name.startswith(".") and p.suffix != ".log"]
    assert sorted(listed) == sorted(["report.md", "report.html", "results.json", "results.npz", "results.csv",
                                     "manifest.json", *FIGURES])
    report = (out / "report.md").read_text(encoding="utf-8")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert f"**{results['ranking'][0]['model']}** leads" in report
    assert "7 tiers, by the tier's mean score, easiest first: Mathematics," in report
    assert results["shape"] == [65, 21] and results["sweep"]["labels"] == ["T=0", "T=1", "T=2"]
    assert results["round_order"] == {"order": "easy-first", "tier_order": "easy-first"}
    assert results["rounds"][:3] == results["tiers"]["Mathematics"]
    outlier = results["outlier"]
    assert outlier["rank_before"]["csd"] == 7 and len(outlier["benchmarks"]) == 3
    assert outlier["score_after"]["mean"] < outlier["score_before"]["mean"]
    stderr = np.array([row["stderr"] for row in results["ranking"]])
    assert np.all(stderr > 0) and np.all(stderr < 0.2)
    for name in FIGURES:
        assert (out / name).stat().st_size > 20_000, name
