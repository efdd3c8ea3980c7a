"""Plots: every figure is a real PNG (or SVG) of a size that fits its models, written
atomically, from plain arrays; bad arrays raise InputError."""

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from csd.testing.png import png_size
from matplotlib.figure import Figure

import csd
from csd import plots
from csd._src.plots import DPI

M, K = 40, 12  # as many models as the paper's figures, and then some
MODELS = [f"model-{m:02d}-with-a-long-name" for m in range(M)]
ROUNDS = [f"benchmark_{k}" for k in range(K)]
RNG = np.random.default_rng(0)
EXPECTED = np.sort(RNG.uniform(0, K, size=(3, M)), axis=0)[::-1]  # (3, M), T=0 highest
STDERR = RNG.uniform(0.01, 0.05, size=(3, M))
RANK_PROBS = RNG.dirichlet(np.ones(M), size=M)  # (M, M)
SURVIVAL = np.sort(RNG.uniform(size=(M, K)), axis=1)[:, ::-1]  # (M, K), non-increasing
RANKS = {"csd": RNG.permutation(M) + 1, "mean": RNG.permutation(M) + 1, "elo": RNG.permutation(M) + 1}
PROFILES = RNG.choice(["robust generalist", "in between", "aggressive specialist"], size=M, p=[0.2, 0.6, 0.2])
TIERS = np.repeat(np.arange(1, 6), M // 5)  # (M,) 5 tiers of 8, by E[S] (EXPECTED[0] is not sorted)
BOOT_LOW, BOOT_HIGH = EXPECTED[0] - 3 * STDERR[0], EXPECTED[0] + 2 * STDERR[0]

DRAW = {
    "risk": lambda path, **kw: plots.plot_risk_profile(
        MODELS, EXPECTED[0], EXPECTED[2] - EXPECTED[0], path, drop_stderr=STDERR[2], **kw),
    "scores": lambda path, **kw: plots.plot_expected_scores(
        MODELS, ["T=0", "T=1", "T=2"], EXPECTED, STDERR, path, **kw),
    "heatmap": lambda path, **kw: plots.plot_rank_heatmap(MODELS, RANK_PROBS, path, **kw),
    "survival": lambda path, **kw: plots.plot_survival(MODELS, ROUNDS, SURVIVAL, path, **kw),
    "bump": lambda path, **kw: plots.plot_bump(MODELS, RANKS, path, **kw),
    "bootstrap": lambda path, **kw: plots.plot_bootstrap(
        MODELS, EXPECTED[0], BOOT_LOW, BOOT_HIGH, path, tiers=TIERS, **kw),
}
PER_MODEL_ROWS = ("scores", "heatmap", "bump", "bootstrap")  # one row per model: height grows with M


@pytest.mark.parametrize("name", sorted(DRAW))
def test_each_plot_writes_one_png_of_a_readable_size_and_nothing_else(tmp_path, name):
    paths = DRAW[name](tmp_path / "figures" / name)
    assert paths == [str(tmp_path / "figures" / f"{name}.png")]
    assert os.listdir(tmp_path / "figures") == [f"{name}.png"]
    width, height = png_size(paths[0])
    assert width >= 1000 and height >= 700
    if name in PER_MODEL_ROWS:  # at least 0.2 inch per model row at 150 dpi
        assert height >= M * 0.2 * DPI


def test_svg_is_written_next_to_the_png_when_asked(tmp_path):
    paths = DRAW["risk"](tmp_path / "risk.anything", svg=True)
    assert paths == [str(tmp_path / "risk.png"), str(tmp_path / "risk.svg")]
    text = Path(paths[1]).read_text(encoding="utf-8")
    assert "<svg" in text and "model-00-with-a-long-name" in text
    assert sorted(os.listdir(tmp_path)) == ["risk.png", "risk.svg"]


def test_survival_top_draws_only_the_longest_survivors(tmp_path):
    path = plots.plot_survival(MODELS, ROUNDS, SURVIVAL, tmp_path / "top", svg=True, top=5)[1]
    text = Path(path).read_text(encoding="utf-8")
    longest = np.argsort(-SURVIVAL.sum(axis=1), kind="stable")
    assert all(MODELS[m] in text for m in longest[:5])
    assert not any(MODELS[m] in text for m in longest[5:])


def _drawn_names(svg_path, names) -> list[str]:
    """The `names` in the order the SVG draws them (each text is an SVG comment)."""
    text = Path(svg_path).read_text(encoding="utf-8")
    found = {name: text.find(f"<!-- {name} -->") for name in names}
    return sorted((name for name in names if found[name] >= 0), key=found.get)


def _pixels_near(png_path, hex_color: str, tolerance: float = 0.02) -> int:
    from matplotlib.colors import to_rgb
    from matplotlib.image import imread

    pixels = imread(png_path)[..., :3]
    return int((np.abs(pixels - np.array(to_rgb(hex_color))).max(axis=-1) < tolerance).sum())


def test_survival_models_shown_draws_exactly_those_models_in_that_order(tmp_path):
    chosen = [MODELS[7], MODELS[2], MODELS[30]]
    path = plots.plot_survival(MODELS, ROUNDS, SURVIVAL, tmp_path / "chosen", svg=True, models_shown=chosen)[1]
    assert _drawn_names(path, MODELS) == chosen
    assert "3 chosen models" in Path(path).read_text(encoding="utf-8")


def test_bump_takes_a_title_and_what_the_columns_are(tmp_path):
    path = plots.plot_bump(MODELS, RANKS, tmp_path / "orders", svg=True, title="Rank by round order",
                           xlabel="round order")[1]
    text = Path(path).read_text(encoding="utf-8")
    assert "<!-- Rank by round order -->" in text and "<!-- round order -->" in text
    assert "<!-- method -->" not in text


def test_risk_profile_colours_points_by_profile_with_a_counting_legend(tmp_path):
    specialist, generalist = "#d95f02", "#1b9e77"  # the profiles' colours in csd._src.plots
    plain = DRAW["risk"](tmp_path / "plain")[0]
    svg = DRAW["risk"](tmp_path / "coloured", svg=True, profiles=PROFILES, labels=[])
    assert _pixels_near(plain, specialist) == 0 and _pixels_near(plain, generalist) == 0
    assert _pixels_near(svg[0], specialist) > 100 and _pixels_near(svg[0], generalist) > 100
    text = Path(svg[1]).read_text(encoding="utf-8")
    for profile in ("robust generalist", "in between", "aggressive specialist"):
        assert f"<!-- {profile} ({list(PROFILES).count(profile)}) -->" in text
    assert not any(name in text for name in MODELS)  # labels=[]: no model named


def test_risk_profile_labels_do_not_overlap_as_drawn(monkeypatch):
    # 40 long names on a crowded diagonal: drawn, no two labels' boxes intersect.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from csd._src import plots as private

    drawn = []
    monkeypatch.setattr(private, "save", lambda figure, path, svg=False, formats=None: drawn.append(figure) or [])
    x = np.linspace(5.0, 6.0, M)
    plots.plot_risk_profile(MODELS, x, -x / 4, "unused")
    canvas = FigureCanvasAgg(drawn[0])
    canvas.draw()
    boxes = [Text.get_window_extent(label, canvas.get_renderer()) for label in drawn[0].axes[0].texts]  # no arrow
    assert len(boxes) == M
    clashes = [(a, b) for a in range(M) for b in range(a) if boxes[a].overlaps(boxes[b])]
    assert clashes == []


def test_bootstrap_rows_go_tier_by_tier_then_by_expected_score(tmp_path):
    path = DRAW["bootstrap"](tmp_path / "boot", svg=True, rank_low=TIERS, rank_high=TIERS + 3)[1]
    expected = [MODELS[m] for m in np.lexsort((-EXPECTED[0], TIERS))]
    labelled = [f"{MODELS[m]}  (rank {TIERS[m]}-{TIERS[m] + 3})" for m in np.lexsort((-EXPECTED[0], TIERS))]
    assert _drawn_names(path, labelled) == labelled
    text = Path(path).read_text(encoding="utf-8")
    assert all(f"<!-- tier {t} -->" in text for t in range(1, 6)) and expected[0] in text


def test_risk_profile_names_only_the_chosen_models(tmp_path):
    chosen = MODELS[:3]
    path = DRAW["risk"](tmp_path / "risk", svg=True, labels=chosen)[1]
    text = Path(path).read_text(encoding="utf-8")
    assert all(name in text for name in chosen)
    assert not any(name in text for name in MODELS[3:])


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    DRAW["heatmap"](tmp_path / "heat")
    before = (tmp_path / "heat.png").read_bytes()

    def broken_savefig(self, stream, **kwargs):
        stream.write(b"half a figure")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        DRAW["heatmap"](tmp_path / "heat")
    assert os.listdir(tmp_path) == ["heat.png"]
    assert (tmp_path / "heat.png").read_bytes() == before


def test_plots_never_touch_pyplot_and_import_csd_does_not_import_matplotlib(tmp_path):
    script = (
        "import sys, csd\n"
        "assert 'matplotlib' not in sys.modules\n"
        "import matplotlib\n"
        "raw_backend = lambda: dict.__getitem__(matplotlib.rcParams, 'backend')  # unresolved\n"
        "backend = raw_backend()\n"
        "import csd.plots\n"
        f"csd.plots.plot_bump(['a', 'b'], {{'csd': [1, 2], 'mean': [2, 1]}}, {str(tmp_path / 'b')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert raw_backend() == backend\n"
    )
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert completed.returncode == 0, completed.stderr
    assert os.listdir(tmp_path) == ["b.png"]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: plots.plot_risk_profile(MODELS, EXPECTED[0], EXPECTED[0][:-1], p),
         r"drop has shape \(39,\), expected \(40,\)"),
        (lambda p: plots.plot_risk_profile(MODELS, EXPECTED[0], EXPECTED[0], p, labels=["nobody"]),
         r"labels \['nobody'\] are not among the models"),
        (lambda p: plots.plot_expected_scores(MODELS, ["T=0"], EXPECTED, STDERR, p),
         r"expected has shape \(3, 40\), expected \(1, 40\)"),
        (lambda p: plots.plot_rank_heatmap(MODELS, RANK_PROBS[:, :3], p), "rank_probs has shape"),
        (lambda p: plots.plot_survival(MODELS, ROUNDS[:2], SURVIVAL, p), "survival has shape"),
        (lambda p: plots.plot_survival(MODELS, ROUNDS, SURVIVAL, p, top=0), "top=0 must be >= 1"),
        (lambda p: plots.plot_survival(MODELS, ROUNDS, SURVIVAL, p, top=3, models_shown=MODELS[:2]),
         "give top or models_shown, not both"),
        (lambda p: plots.plot_survival(MODELS, ROUNDS, SURVIVAL, p, models_shown=["nobody"]),
         r"models_shown \['nobody'\] are not among the models"),
        (lambda p: plots.plot_survival(MODELS, ROUNDS, SURVIVAL, p, models_shown=[]), "models_shown is empty"),
        (lambda p: plots.plot_risk_profile(MODELS, EXPECTED[0], EXPECTED[0], p, profiles=PROFILES[:3]),
         "profiles has 3 labels, expected 40"),
        (lambda p: plots.plot_bootstrap(MODELS, EXPECTED[0], BOOT_LOW, BOOT_HIGH, p, tiers=TIERS + 0.5),
         "tiers must be integers"),
        (lambda p: plots.plot_bootstrap(MODELS, EXPECTED[0], BOOT_LOW, BOOT_HIGH[:3], p),
         r"ci_high has shape \(3,\), expected \(40,\)"),
        (lambda p: plots.plot_bootstrap(MODELS, EXPECTED[0], BOOT_LOW, BOOT_HIGH, p, rank_low=TIERS),
         "give both rank_low and rank_high"),
        (lambda p: plots.plot_bump(MODELS, {}, p), "ranks is empty"),
        (lambda p: plots.plot_bump(MODELS, {"csd": ["x"] * M}, p), r"ranks\['csd'\] must be numbers"),
        (lambda p: plots.plot_rank_heatmap([], np.zeros((0, 0)), p), "models is empty"),
    ],
)
def test_bad_arrays_raise_input_error_and_write_nothing(tmp_path, call, message):
    with pytest.raises(csd.InputError, match=message):
        call(tmp_path / "figure")
    assert os.listdir(tmp_path) == []


def test_plots_draw_real_results(tmp_path):
    table = csd.load_table(csd.shipped_table("livebench"))
    comparison = csd.compare(table, ["mean", "normalized_mean", "borda"])
    paths = plots.plot_bump(table.models, comparison.ranks, tmp_path / "bump", top=None)  # every model named
    width, height = png_size(paths[0])
    assert height >= 65 * 0.2 * DPI and width >= 1000


def _drawn(monkeypatch, draw):
    """The figure `draw()` builds (not written), drawn on an Agg canvas, and its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from csd._src import plots as private

    drawn = []
    monkeypatch.setattr(private, "save", lambda figure, path, svg=False, formats=None: drawn.append(figure) or [])
    draw()
    canvas = FigureCanvasAgg(drawn[0])
    canvas.draw()
    return drawn[0], canvas.get_renderer()


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [(a, b) for a in range(len(boxes)) for b in range(a) if boxes[a].overlaps(boxes[b])]


def test_rank_heatmap_labels_about_ten_ranks_apart_and_sorts_rows_as_the_table(monkeypatch):
    scores = RNG.permutation(M).astype(float)  # the ranking's E[S], not the expected rank's order
    figure, renderer = _drawn(monkeypatch, lambda: plots.plot_rank_heatmap(MODELS, RANK_PROBS, "x", scores=scores,
                                                                           top=30))
    axes = figure.axes[0]
    rows = [label.get_text() for label in axes.get_yticklabels()]
    assert rows == [MODELS[m] for m in np.argsort(-scores, kind="stable")[:30]]
    ticks = [label.get_text() for label in axes.get_xticklabels()]
    assert 6 <= len(ticks) <= 13 and ticks[0] == "1" and ticks[-1] == "> 30"
    assert all(tick.isdigit() and 1 <= int(tick) <= 30 for tick in ticks[:-1])
    assert _overlaps([label.get_window_extent(renderer) for label in axes.get_xticklabels()]) == []


def test_rank_heatmap_without_scores_sorts_by_expected_rank(monkeypatch):
    figure, _ = _drawn(monkeypatch, lambda: plots.plot_rank_heatmap(MODELS, RANK_PROBS, "x"))
    expected_rank = RANK_PROBS @ np.arange(1, M + 1)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == [MODELS[m] for m in np.argsort(expected_rank)]


def test_bump_lines_take_distinct_colour_blind_safe_styles_and_rank_numbers_clear_the_names(monkeypatch):
    from matplotlib.colors import to_hex

    from csd._src.plots import OKABE_ITO

    figure, renderer = _drawn(monkeypatch, lambda: plots.plot_bump(MODELS, RANKS, "x", top=20))
    axes = figure.axes[0]
    named = [line for line in axes.get_lines() if line.get_color() != "0.82"]  # the grey lines: the others
    assert len(named) == 20
    styles = [(to_hex(line.get_color()).upper(), line.get_linestyle(), line.get_marker()) for line in named]
    assert len(set(styles)) == 20 and {color for color, _, _ in styles} == set(OKABE_ITO)
    numbers = [label for label in axes.get_yticklabels() if label.get_text()]
    assert numbers  # the rank scale is labelled below the names
    names = [text for text in axes.texts if text.get_text().startswith("model-")]
    boxes = [text.get_window_extent(renderer) for text in names + numbers]
    assert _overlaps(boxes) == []


def test_bump_axis_ends_just_below_the_named_models(monkeypatch):
    names = [f"m{i}" for i in range(300)]
    ranks = {"a": np.arange(1, 301), "b": np.r_[np.arange(2, 16), 1, np.arange(16, 301)]}  # the top 15 stay on top
    figure, _ = _drawn(monkeypatch, lambda: plots.plot_bump(names, ranks, "x"))
    assert figure.axes[0].get_ylim() == (17.5, 0.5)  # the deepest named rank, 15, and a margin of 2


def test_cjk_names_give_at_most_one_warning_and_other_warnings_pass(tmp_path):
    import warnings

    from csd._src.plots import _installed_cjk_fonts

    names = ["通义千问-Max", "文心一言-4", "豆包-Pro", "月之暗面-Kimi", "a", "b"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.plot_bump(names, {"x": np.arange(1, 7), "y": np.arange(6, 0, -1)}, tmp_path / "cjk",
                        formats=["png", "svg"])
    messages = [str(w.message) for w in caught]
    assert not any("missing from font" in m for m in messages)  # matplotlib's one-per-character warnings
    ours = [m for m in messages if "no installed font" in m]
    assert len(ours) == (0 if _installed_cjk_fonts() else 1) and len(messages) == len(ours)
    if ours:
        assert "通" in ours[0] and "Noto Sans CJK" in ours[0]


def test_risk_trend_is_drawn_smooth(monkeypatch):
    x = np.linspace(0.0, 10.0, M)
    zigzag = -0.3 * x + 0.4 * (-1) ** np.arange(M)  # per-model peer lines that alternate around the trend
    figure, _ = _drawn(monkeypatch, lambda: plots.plot_risk_profile(
        MODELS, x[::-1], zigzag[::-1] - 1, "x", trend=zigzag[::-1], labels=[]))
    line = next(line for line in figure.axes[0].get_lines() if "trend" in str(line.get_label()))
    xs, ys = line.get_data()
    assert np.all(np.diff(xs) > 0)  # drawn from left to right
    assert np.abs(np.diff(ys)).sum() < 1.5 * 0.3 * 10  # about the trend's own rise, not the 40 zig-zags
    assert np.abs(ys - np.interp(xs, x, -0.3 * x)).max() < 0.2


@pytest.mark.parametrize("name", sorted(DRAW))
def test_each_plot_returns_its_figure_without_a_path_and_writes_nothing(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figure = DRAW[name](None)
    assert isinstance(figure, Figure) and len(figure.axes[0].get_yticklabels()) > 0
    assert os.listdir(tmp_path) == []
    assert plots.save(figure, tmp_path / name, formats=["svg"]) == [str(tmp_path / f"{name}.svg")]


@pytest.mark.parametrize("name", sorted(DRAW))
def test_each_plot_draws_into_the_axes_given(name):
    figure = Figure(figsize=(12, 5))
    left, right = figure.subplots(1, 2)
    assert DRAW[name](None, ax=right) is figure
    assert figure.get_size_inches().tolist() == [12, 5]  # the caller's figure keeps its size
    assert not left.has_data() and right.has_data() and right.get_title()


@functools.cache
def _results():
    """One small result of each type, on a 10 x 4 table (profiles take 8 models)."""
    scores = np.add.outer(np.arange(10.0, 0.0, -1.0), [0.0, 0.5, 1.0, 1.5]) + RNG.uniform(0, 3, (10, 4))
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(10)), ("a", "b", "c", "d"), scores)
    return {
        "simulate": csd.simulate(table, n_runs=200, estimator="plain"),
        "sweep": csd.sweep(table, (0, 1), n_runs=200, estimator="plain"),
        "bootstrap": csd.bootstrap(table, n_boot=20, n_runs=100, estimator="plain"),
        "compare": csd.compare(table, ["mean", "borda"]),
        "outlier": csd.outlier_test(table, "m0", "a", methods=["mean", "borda"]),
    }


@pytest.mark.slow  # over 4 s on two cores: the fast tier stays quick
def test_every_result_plots_each_of_its_kinds_as_a_figure_and_into_given_axes():
    from matplotlib.axes import Axes

    from csd._src.result_plots import kinds

    for name, result in _results().items():
        for kind in (None, *kinds(result)):
            figure = result.plot(kind)
            assert isinstance(figure, Figure) and figure.axes[0].has_data(), (name, kind)
        host = Figure()
        ax = host.add_subplot()
        assert result.plot(ax=ax) is host and ax.has_data() and isinstance(ax, Axes), name
        with pytest.raises(csd.InputError, match="choose from: " + kinds(result)[0]):
            result.plot("pie")


def test_result_plot_passes_options_on_and_can_write_files(tmp_path):
    result = _results()["simulate"]
    assert result.plot(top=3).axes[0].get_title().endswith("(top 3 of 10 models)")
    assert result.plot("survival", path=tmp_path / "s") == [str(tmp_path / "s.png")]
