"""`csd.report`: the paper's whole analysis of a score table, written into one folder."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from csd._src import sidecar
from csd._src.frozen import record, warns_frozen
from csd._src.outputs import atomic_write
from csd._src.report.analysis import QUICK, Analysis, Settings, arrange_rounds, frozen_in, run_analyses
from csd._src.report.figures import draw_figures
from csd._src.report import html, markdown as md
from csd._src.report.sections import appendix_table, report_model
from csd._src.errors import InputError
from csd._src.spec import Tournament, as_tournament
from csd._src.table import ScoreTable

@dataclasses.dataclass(frozen=True)
class Report:
    """A written report: the analysis, the text of report.md and the files.

    report.md and report.html are two renderings of one `ReportModel`
    (`csd._src.report.sections.report_model`).

    Attributes:
      analysis: every result the report is made from (`csd._src.report.analysis.Analysis`:
        ranking, fsa, boot, comparison, outlier, outlier_float, orders, spread, timings).
      markdown: the text of report.md.
      files: the paths written: the figures, then results.npz, results.json, results.csv,
        report.md and report.html.
    """

    analysis: Analysis
    markdown: str
    files: tuple[Path, ...]

    def to_dict(self, arrays: dict | None = None) -> dict:
        """The content of results.json: plain lists, numbers and strings, ready for JSON;
        with `arrays`, the large arrays of the results inside go there instead, as in
        `SimulationResult.to_dict` (results.npz)."""
        a = self.analysis
        ranking = a.ranking
        return {
            "table": a.name,
            "shape": list(a.table.shape),
            "rounds": list(ranking.rounds),
            "round_order": {"order": a.rounds.order, "tier_order": a.rounds.tier_order},
            "tiers": a.rounds.tiers,
            "settings": dataclasses.asdict(a.settings),
            "tournament": a.tournament.to_dict(),
            "ranking": ranking.ranking(),
            "rank_interval_90": [list(map(int, pair)) for pair in zip(*ranking.rank_interval(0.9))],
            "sweep": a.fsa.to_dict(arrays, "sweep."),
            "bootstrap": a.boot.to_dict(arrays, "bootstrap."),
            "ranks_by_method": {k: v.tolist() for k, v in a.comparison.ranks.items()},
            "kendall_tau": a.comparison.kendall_tau,
            "outlier": a.outlier.to_dict(),
            "outlier_float_pairing": a.outlier_float.to_dict(),
            "round_orders": {name: {"rounds": o.rounds, "expected_score": o.expected_score.tolist()}
                             for name, o in a.orders.items()},
            "rank_spread": a.spread.to_dict(),
            "timings_s": a.timings,
            "frozen_rounds": record(frozen_in(a)),
        }


@warns_frozen(lambda written: frozen_in(written.analysis))
def report(
    table: ScoreTable,
    *,
    out_dir: str | os.PathLike,
    order: str = "given",
    tiers: Mapping[str, Sequence[str]] | str | os.PathLike | None = None,
    tier_order: str = "given",
    name: str | None = None,
    n_runs: int | None = None,
    fsa_runs: int | None = None,
    n_boot: int | None = None,
    boot_runs: int | None = None,
    order_runs: int | None = None,
    n_random_orders: int | None = None,
    outlier_model: str | None = None,
    outlier_rank: int = 7,
    outlier_count: int = 3,
    seed: int = 0,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
    tournament: Tournament | None = None,
    chunk_size: int | None = None,
    formats: Sequence[str] = ("png",),
    **rules,
) -> Report:
    """Runs the paper's whole analysis of `table` and writes it up in `out_dir`.

    The analyses of "LLM Swiss Round" (arXiv 2512.21010): the Expected Win Score ranking at
    T = 0 with Monte Carlo SEs (`csd.simulate`), the Failure Sensitivity Analysis over
    T = 0, 1, 2 with paired drop SEs and risk profiles (`csd.sweep`), bootstrap intervals
    and tiers over resampled benchmarks (`csd.bootstrap`, inside the tiers), CSD next to
    the static baselines with Kendall tau (`csd.compare`) and the outlier test
    (`csd.outlier_test`, also under `float` pairing). Beyond the paper: the distribution of
    each model's final rank, survival curves, and the ranking under other round orders.

    It writes into `out_dir` (made if needed; each file atomically, the figures first):
    seven PNG figures (risk_profile, expected_scores, survival, rank_heatmap, bootstrap,
    bump, round_orders), `results.json` (`Report.to_dict`) with its large arrays (rank
    distributions, survival, bootstrap replicates) in `results.npz` (`csd._src.sidecar`),
    `results.csv` (the appendix table, every model), `report.md`, which embeds each
    figure with a caption that gives its numbers and shows the top 100 rows of the appendix,
    and `report.html`, the same report as one self-contained page (a sortable, searchable
    leaderboard of every model and interactive figures; `csd._src.report.html`).

    Args:
      table: the score table, columns in their given order.
      out_dir: the output folder.
      order, tiers, tier_order: the round order, as in `csd.order_rounds` (e.g.
        `order="easy-first", tiers=csd.shipped_tiers("livebench"), tier_order="easy-first"`,
        the paper's foundational-to-advanced order). The bootstrap resamples inside tiers.
      name: the table's name in the report (default: the file name of `table.source`).
      n_runs: N of the T = 0 ranking and of the outlier test [30,000; quick 2,000].
      fsa_runs: N per schedule of the sweep [20,000; quick 1,000].
      n_boot, boot_runs: bootstrap replicates and N in each [100 and 500; quick 10 and 200].
      order_runs: N per other round order [5,000; quick 1,000].
      n_random_orders: random round orders tried [3; quick 1].
      outlier_model: the model whose best scores the outlier test zeroes (default: the one
        at CSD place `outlier_rank`, as the paper's Qwen3-Max is its 7th).
      outlier_count: how many of its highest scores are zeroed.
      seed: the seed of every simulation and of the random round orders.
      quick: the small sizes above for every size not given (a smoke test).
      progress: called with one line after each step (its name and wall time), or None.
      command: how the report was asked for, quoted in report.md (default `csd.report`).
      tournament, **rules: the rules of every simulation, as in `csd.simulate`; the sweep
        replaces their elimination by T = 0, 1, 2, the other analyses play T = 0, and the
        outlier test under `float` pairing replaces the pairing rule.
      chunk_size: runs per kernel call (results do not depend on it).
      formats: the figures' file formats, any of png, pdf, svg.

    Returns:
      The `Report`.

    Raises:
      InputError: for a bad size, an unknown option, tiers that do not fit the table, an
        unknown outlier model, or an option the simulations reject. Nothing is written then.

    Example (about half a minute on two CPU cores, most of it compiling):

        import csd
        table = csd.load_table(csd.shipped_table("livebench"))
        result = csd.report(table, out_dir="reports/livebench", order="easy-first",
                            tiers=csd.shipped_tiers("livebench"), tier_order="easy-first", quick=True)
        result.analysis.ranking.format_table(top=5)
    """
    start = time.perf_counter()
    if not isinstance(table, ScoreTable):
        raise InputError(f"report needs a ScoreTable, got {type(table).__name__}")
    tournament = as_tournament(tournament, rules)
    from csd._src.plots import figure_formats as checked_formats  # matplotlib: only when a report is drawn

    formats = checked_formats(formats)
    if tournament.elimination != 0:
        raise InputError(
            f"elimination={tournament.elimination!r}: the report plays T = 0, and T = 0, 1, 2 in its sweep; "
            "leave elimination unset", "elimination",
        )
    settings = _settings(quick, seed, outlier_rank, outlier_count, n_runs=n_runs, fsa_runs=fsa_runs,
                         n_boot=n_boot, boot_runs=boot_runs, order_runs=order_runs,
                         n_random_orders=n_random_orders)
    rounds = arrange_rounds(table, order, tiers, tier_order, settings.seed)
    _check_folder(Path(out_dir))
    analysis = run_analyses(name or _name_of(table), rounds, settings, outlier_model, tournament, chunk_size, progress)
    out = Path(out_dir)
    drawing = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    pictures = draw_figures(analysis, out, formats)
    analysis.timings["figures"] = time.perf_counter() - drawing
    if progress is not None:
        progress(f"figures: {analysis.timings['figures']:.1f} s")
    model = report_model(analysis, command or "csd.report", time.perf_counter() - start)
    markdown = md.render(model)
    written = Report(analysis, markdown, ())
    arrays: dict = {}
    files = (*pictures, *sidecar.save(out / "results.json", written.to_dict(arrays), arrays),
             atomic_write(out / "results.csv", appendix_table(analysis).csv()),
             atomic_write(out / "report.md", markdown), atomic_write(out / "report.html", html.render(model, out)))
    return dataclasses.replace(written, files=files)


def _check_folder(out: Path) -> None:
    """InputError, before the analyses run, when `out` or a folder above it is a file."""
    for path in (out, *out.parents):
        if path.exists():
            if not path.is_dir():
                raise InputError(f"out_dir={str(out)!r}: {str(path)!r} is a file, not a folder", "out_dir")
            return


def _settings(quick: bool, seed: int, outlier_rank: int, outlier_count: int, **sizes) -> Settings:
    """The sizes given, the others from the quick or full defaults."""
    base = QUICK if quick else Settings()
    chosen = {key: value for key, value in sizes.items() if value is not None}
    return dataclasses.replace(base, **chosen, seed=seed, outlier_rank=outlier_rank, outlier_count=outlier_count)


def _name_of(table: ScoreTable) -> str:
    """A short name of `table`: its source file's stem, or `table`."""
    stem = Path(table.source).stem if table.source and not table.source.startswith("<") else ""
    return stem or "table"
