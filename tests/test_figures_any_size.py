"""Figures for any number of models: every asked-for format is written, the bump and
win-probability plots stay a readable size for hundreds of models (top-k in colour), the
risk plot draws the peers' trend its profiles use; and the command line's figure formats,
run log, help and quoting hint."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Annotation, Text
from csd.testing.png import png_size

import csd
from csd import plots
from csd._src.plots import DPI
from csd._src.sweep import peer_trend, risk_profiles

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(7)
MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}


def many_models(n: int) -> list[str]:
    return [f"model-{m:03d}" for m in range(n)]


def noisy_ranks(n: int, columns: int = 4) -> dict[str, np.ndarray]:
    return {f"m{c}": np.argsort(np.argsort(-(np.arange(n)[::-1] + RNG.normal(0, n / 10, n)))) + 1
            for c in range(columns)}


@pytest.mark.parametrize("formats", [["png", "pdf", "svg"], ["pdf"], ("SVG", ".png")])
def test_each_format_asked_for_is_written(tmp_path, formats):
    paths = plots.plot_bump(["a", "b", "c"], {"x": [1, 2, 3], "y": [2, 1, 3]}, tmp_path / "bump", formats=formats)
    wanted = [str(f).lower().lstrip(".") for f in formats]
    assert paths == [str(tmp_path / f"bump.{fmt}") for fmt in wanted]
    for path, fmt in zip(paths, wanted):
        assert Path(path).read_bytes()[:5].startswith(MAGIC[fmt])
    assert sorted(os.listdir(tmp_path)) == sorted(f"bump.{fmt}" for fmt in wanted)


def test_an_unknown_or_empty_format_is_one_input_error(tmp_path):
    with pytest.raises(csd.InputError, match=r"unknown figure format\(s\) \['jpg'\]; choose from: png, pdf, svg"):
        plots.plot_bump(["a"], {"x": [1]}, tmp_path / "b", formats=["png", "jpg"])
    with pytest.raises(csd.InputError, match="formats is empty"):
        plots.plot_bump(["a"], {"x": [1]}, tmp_path / "b", formats=[])
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_bump_names_the_top_models_only_and_its_height_does_not_grow_with_m(tmp_path):
    small = plots.plot_bump(many_models(30), noisy_ranks(30), tmp_path / "small", top=None)[0]
    names = many_models(400)
    ranks = noisy_ranks(400)
    large = plots.plot_bump(names, ranks, tmp_path / "large", svg=True)
    assert png_size(large[0])[1] <= png_size(small)[1] + 2 * DPI  # 400 models: about the height of 30
    text = Path(large[1]).read_text(encoding="utf-8")
    first = np.argsort(ranks["m0"], kind="stable")
    assert all(f"{names[m]}" in text for m in first[:15])
    assert not any(f" {names[m]}" in text or f"{names[m]} " in text for m in first[15:])
    assert "top 15 of 400 by m0 in colour" in text


@pytest.mark.slow
def test_bump_labels_of_neighbouring_ranks_do_not_overlap(tmp_path):
    figure, renderer = drawn_bump(many_models(500), noisy_ranks(500), tmp_path / "b", top=25)
    boxes = [Text.get_window_extent(a, renderer) for a in figure.axes[0].texts  # the text, not its line
             if isinstance(a, Annotation) and a.get_text()[:1] != "r"]  # the names, not the `rank 1 = best` note
    assert len(boxes) >= 2 * 20
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    assert overlapping == []


def test_win_probability_heatmap_is_bounded_and_sorted_by_the_scores(tmp_path):
    names = many_models(200)
    probs = RNG.uniform(size=(200, 200))
    probs = np.triu(probs, 1) + np.tril(1 - probs.T, -1)
    scores = RNG.normal(size=200)
    paths = plots.plot_win_probabilities(names, probs, tmp_path / "wins", scores=scores, svg=True)
    width, height = png_size(paths[0])
    assert height <= 14 * DPI and width <= 16 * DPI
    text = Path(paths[1]).read_text(encoding="utf-8")
    best = np.argsort(-scores, kind="stable")
    positions = [text.find(f"<!-- {names[m]} -->") for m in best[:30]]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)  # y ticks, best on top first
    assert f"<!-- {names[best[30]]} -->" not in text
    assert "top 30 of 200" in text


def test_win_probability_cells_carry_their_values_for_few_models(tmp_path):
    probs = np.array([[0.0, 0.75, 0.9], [0.25, 0.0, 0.6], [0.1, 0.4, 0.0]])
    svg = plots.plot_win_probabilities(["a", "b", "c"], probs, tmp_path / "w", formats=["svg"])[0]
    text = Path(svg).read_text(encoding="utf-8")
    for value in ("0.75", "0.90", "0.25", "0.60", "0.10", "0.40"):
        assert f"<!-- {value} -->" in text
    assert "<!-- 0.00 -->" not in text  # the diagonal is left empty


def test_peer_trend_is_the_line_through_peers_on_a_line_and_what_the_profiles_measure():
    base = np.linspace(1, 12, 40)
    assert np.allclose(peer_trend(base, -0.3 * base + 0.5), -0.3 * base + 0.5)
    drop = -0.3 * base + RNG.normal(0, 0.2, 40)
    _, residual = risk_profiles(base, drop, np.full(40, 0.01), 2.0, 1.0)
    assert np.allclose(drop - residual, peer_trend(base, drop))


@pytest.mark.slow
def test_sweep_exposes_the_trend_and_the_risk_plot_draws_it(tmp_path):
    table = csd.load_table(csd.shipped_table("livebench"))
    result = csd.sweep(table, schedules=[0, 2], n_runs=300, seed=1)
    assert np.allclose(result.risk_trend, peer_trend(result.expected_score[0], result.drop[-1]))
    args = (list(result.models), result.expected_score[0], result.drop[-1])
    svg = plots.plot_risk_profile(*args, tmp_path / "risk", drop_stderr=result.drop_stderr[-1], labels=[],
                                  profiles=result.risk_profile, trend=result.risk_trend, formats=["svg"])[0]
    assert "peers' trend" in Path(svg).read_text(encoding="utf-8")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", "csd", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


@pytest.mark.slow
def test_cli_writes_every_figure_in_each_format_and_the_summary_into_the_run_log(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("n_runs=300", "elimination.t=1", "plots.format=[png,pdf]", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for figure in ("rank_heatmap", "survival", "win_probabilities"):
        assert (out / f"{figure}.png").read_bytes()[:4] == MAGIC["png"]
        assert (out / f"{figure}.pdf").read_bytes()[:4] == MAGIC["pdf"]
    log = (out / "csd-run.log").read_text()
    assert "csd.summary" in log and "plots.format=[png,pdf]" in log
    assert proc.stdout.strip().splitlines()[-1] in log  # the `wrote ...` line
    assert "csd.summary" not in proc.stdout  # on the terminal once, unprefixed


@pytest.mark.slow
def test_cli_refuses_an_unknown_figure_format_before_computing(tmp_path):
    proc = run_cli("plots.format=[png,gif]", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "csd-run: error: plots.format: unknown figure format(s) ['gif']; choose from: png, pdf, svg")


@pytest.mark.slow
def test_cli_help_lists_the_modes_and_a_comma_list_gets_a_quoting_hint(tmp_path):
    help_text = run_cli("--help", cwd=tmp_path).stdout
    for mode in ("simulate", "sweep", "bootstrap", "compare", "outlier", "collect", "report"):
        assert f"\n  {mode} " in help_text
    proc = run_cli("mode=sweep", "sweep.schedules=0,1,2", cwd=tmp_path)
    assert proc.returncode == 2
    assert "'sweep.schedules=[0,1,2]'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_report_checks_its_figure_formats_before_computing(tmp_path):
    table = csd.ScoreTable(("a", "b", "c"), ("x", "y", "z"), np.array([[3.0, 2, 1], [2, 3, 1], [1, 1, 3]]))
    with pytest.raises(csd.InputError, match=r"unknown figure format\(s\) \['gif'\]"):
        csd.report(table, out_dir=tmp_path / "out", formats=["png", "gif"], quick=True)
    assert not (tmp_path / "out").exists()


def test_bump_of_thousands_of_long_named_models_keeps_every_name_in_the_figure_and_zooms_on_them(tmp_path):
    # Open LLM names on two methods: the names once took the axes' whole width (matplotlib:
    # "constrained_layout not applied") and the right-hand ones fell off the figure, and the
    # top 15 were a smear in the first 1% of a 4,576-rank axis.
    names = [f"organisation-{m:04d}/a-long-model-name-Instruct-abliterated-v{m}" for m in range(2000)]
    ranks = noisy_ranks(2000, columns=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure, renderer = drawn_bump(names, ranks, tmp_path / "b")
    labels = [a for a in figure.axes[0].texts if isinstance(a, Annotation) and "organisation" in a.get_text()]
    assert len(labels) == 2 * 15
    for label in labels:
        box = Text.get_window_extent(label, renderer)
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1, label.get_text()
    first = np.argsort(ranks["m0"], kind="stable")[:15]
    deepest = max(ranks[column][m] for column in ranks for m in first)
    assert figure.axes[0].get_ylim() == (deepest + max(1, round(0.1 * deepest)) + 0.5, 0.5)  # a margin of 10%


def drawn_bump(names, ranks, path, **options):
    """(the figure `plots.plot_bump` draws, written to `path`; an Agg renderer that has drawn it)."""
    figure = plots.plot_bump(names, ranks, **options)
    plots.save(figure, path)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return figure, canvas.get_renderer()
