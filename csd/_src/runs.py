"""What each `csd-run` mode computes, and the outputs it hands to the writer.

A mode is a function `(RunConfig, Context) -> RunOutput`: it builds the `csd.Tournament`
(`RunConfig.tournament`), reads the table, calls the library and describes the outputs
in memory: results.json is the result's own `to_dict()` with the run's facts, and the
terminal, Markdown and CSV tables all come from its `table()` (`csd._src.results`).
`write_outputs` then stages every file, figures drawn, and publishes the whole set in one
step, all or nothing (`csd._src.rundir`), so a failed or interrupted run leaves the files of
an earlier run untouched and a failing figure costs nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from csd._src import plots as plot_module
from csd._src import rundir, shards, sidecar
from csd._src.bootstrap import bootstrap
from csd._src.compare import compare, outlier_test
from csd._src.config import (
    TOURNAMENT_KEYS,
    BootstrapConfig,
    CompareConfig,
    DataConfig,
    OutlierConfig,
    PreparedTable,
    ReportConfig,
    RunConfig,
    tiers_source,
    prefixed,
    prepare_table,
)
from csd._src.errors import InputError, check_choice, check_int
from csd._src.frozen import FrozenRounds, found_in, message, quiet, record
from csd._src.orders import ORDER_WORDS, order_notes, order_section
from csd._src.outcomes import win_probabilities
from csd._src.outputs import REPORT_ROWS, ProgressBar, atomic_write, to_json
from csd._src.rundir import RunFolderError
from csd._src.results import Comparison, ResultTable, SimulationResult, SweepResult
from csd._src.report import api as report_api
from csd._src.report import interactive
from csd._src.report.analysis import frozen_in, order_line
from csd._src.report.html import render as render_html
from csd._src.report.markdown import render as render_markdown
from csd._src.report.model import (
    Figure,
    ReportModel,
    Section,
    Table,
    bullets,
    delta_rank,
    delta_rank_header,
    result_table,
)
from csd._src.simulate import order_sensitivity, simulate
from csd._src.spec import Tournament
from csd._src.sweep import MIN_PROFILE_MODELS, sweep, sweep_result
from csd._src.table import ScoreTable

WIN_PROBABILITY_TOP = 30  # models in mode=simulate's win-probability heatmap

DROP_SE_INDEPENDENT = (
    "The drop's SE is computed as for independent runs, sqrt(SE_a^2 + SE_b^2): separate runs "
    "cannot be paired after the fact. Runs with the same seed share their random numbers, which "
    "usually makes their drops more precise than this SE says; mode=sweep runs the schedules "
    "together and gives the paired SE."
)
RANK_HEATMAP_CAPTION = (
    "P(final rank) of each model, best first. Models tied on the final score share the better place, so every "
    "row sums to 1 and a column can sum above 1"
)
SIMULATE_LEGEND = (  # before the table's own legend (`ResultTable.legend`), which the terminal shows too
    "E[S]: the Expected Win Score, the mean final score over N simulated tournaments; SE: its Monte "
    "Carlo standard error sd(S)/sqrt(N)."
)


@dataclasses.dataclass(frozen=True)
class Context:
    """Where and how the run was started.

    Attributes:
      out_dir: the folder a mode that writes its own files writes them to (csd-run: the
        staging folder inside Hydra's run directory, published when the run succeeds).
      overrides: the command-line overrides of this job.
      job_num: Hydra's job number inside a multirun (None for a single run).
    """

    out_dir: Path
    overrides: tuple[str, ...] = ()
    job_num: int | None = None

    def command(self) -> str:
        return " ".join(("csd-run",) + self.overrides)


@dataclasses.dataclass(frozen=True)
class Plot:
    """A plot to draw: `draw(path)` writes the PNG (and returns its path or paths);
    `interactive()` gives the same figure for report.html (`csd._src.report.interactive`),
    or is None."""

    filename: str
    caption: str
    draw: Callable[[Path], object]
    interactive: Callable[[], dict] | None = None


@dataclasses.dataclass(frozen=True)
class RunOutput:
    """A mode's outputs, all in memory.

    Attributes:
      results: the content of results.json.
      arrays: the large arrays results.json refers to, written to the sidecar results.npz
        (`csd._src.sidecar`; empty: no sidecar).
      csv: the text of results.csv.
      title: the report's title.
      summary: Markdown bullet lines (what was run on what).
      body: the report's sections after the summary (`csd._src.report.model` blocks: the
        ranked table and its notes; a str is one Markdown block).
      terminal: the text printed to the terminal.
      plots: the plots to draw and embed in report.md and report.html.
    """

    results: dict
    csv: str
    title: str
    summary: list[str]
    body: Sequence | str
    terminal: str
    plots: list[Plot] = dataclasses.field(default_factory=list)
    written: tuple[Path, ...] = ()  # files the mode wrote itself (mode=report); nothing left to write
    arrays: dict = dataclasses.field(default_factory=dict)

    def report_model(self, drawn: Sequence[Figure]) -> ReportModel:
        """The report (`csd._src.report.model`), with the figures `drawn`."""
        body = [self.body] if isinstance(self.body, str) else list(self.body)
        plots = [Section("plots", "Plots", list(drawn))] if drawn else []
        config = self.results.get("config") or {}
        job = self.results.get("job") or {}
        reproduce = {"command": " ".join(["csd-run", *job.get("overrides", [])]), "seed": config.get("seed"),
                     "estimator": config.get("estimator"), "config": config} if config else {}
        return ReportModel(self.title, [bullets(self.summary)] if self.summary else [], [*body, *plots], reproduce)


def write_outputs(
    output: RunOutput,
    folder: Path,
    stage: Path,
    extra: dict[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
    before_publish: Callable[[list[str]], None] | None = None,
) -> list[Path]:
    """Publishes the run's whole output set into `folder` in one step, all or nothing
    (`rundir.publish`): everything the staging folder `stage` holds once results.json (with
    its sidecar results.npz where it has large arrays),
    results.csv, `extra` ({relative path: text}, e.g. Hydra's .hydra files), the figures,
    report.md and report.html (embedding the figures drawn) are written into it, with
    whatever else a mode or the caller put there (mode=report's own files, the run's log,
    ...). A figure that fails is reported through `warn` in one line and left out; a disk that fails
    while they are drawn fails the run, and nothing is published. `before_publish` is
    called with the names staged (top level, sorted) just before the publish, e.g. to
    write the log that goes with them. Returns the paths published.

    Raises:
      RunFolderError: when the folder cannot be written (full, read-only, ...), naming it.
    """
    with rundir.os_errors(folder):
        for relative, text in (extra or {}).items():
            atomic_write(stage / relative, text)
        if not output.written:  # a mode that wrote its own files (mode=report) wrote them into `stage`
            drawn = _draw_figures(output.plots, stage, warn or _stderr_line)
            atomic_write(stage / "results.csv", output.csv)
            _write_reports(output, drawn, stage)
            atomic_write(stage / "results.json", to_json(sidecar.describe(output.results, output.arrays)))
            if output.arrays:
                atomic_write(stage / sidecar.FILE, sidecar.pack(output.arrays))
        if before_publish is not None:
            before_publish(sorted(path.name for path in stage.iterdir() if path.is_file()))
    return rundir.publish(folder, stage)


def _draw_figures(plots: Sequence[Plot], stage: Path, warn: Callable[[str], None]) -> list[Figure]:
    """Draws `plots` into `stage`; returns the report figures of those drawn (with their
    interactive versions, built inside the same guard). A figure that fails is one `warn`
    line; an OSError (a full or read-only disk) propagates."""
    drawn = []
    for plot in plots:
        try:
            interactive_figure = plot.interactive() if plot.interactive else None
            plot.draw(stage / plot.filename)
            drawn.append(Figure(plot.filename, "", plot.caption, interactive_figure))
        except OSError as err:
            if err.errno is not None:  # the disk's failure, not the figure's
                raise
            warn(f"figure {plot.filename} not drawn: {type(err).__name__}: {_one_line(err)}")
        except Exception as err:  # noqa: BLE001 - a figure never costs the other outputs
            warn(f"figure {plot.filename} not drawn: {type(err).__name__}: {_one_line(err)}")
    return drawn


def _write_reports(output: RunOutput, drawn: Sequence[Figure], folder: Path) -> None:
    """report.md and report.html of `output` with the figures `drawn`, into `folder` (where
    their files are)."""
    model = output.report_model(drawn)
    atomic_write(folder / "report.md", render_markdown(model))
    atomic_write(folder / "report.html", render_html(model, folder))


def _stderr_line(line: str) -> None:
    print(f"csd-run: warning: {line}", file=sys.stderr, flush=True)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or "no message"


# ------------------------------------------------------------------------------ modes


def run_simulate(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=simulate: E[S] of every model under one elimination schedule."""
    formats = _formats(config)
    check_int("plot_top", config.plot_top, 1)
    prepared = prepare_table(config.data, config.seed)
    tournament = config.tournament(prepared)
    with prefixed(TOURNAMENT_KEYS):
        result = _with_bar(config, lambda bar: simulate(
            prepared.table, tournament=tournament, n_runs=config.n_runs, seed=config.seed,
            chunk_size=config.chunk_size, target_se=config.target_se, max_runs=config.max_runs, progress=bar,
            estimator=config.estimator,
        ))
    order = result.order()
    names = [result.models[m] for m in order]
    win = functools.cache(lambda: _win_probabilities(result, prepared.table))  # for the PNG and the page
    plots = [
        Plot("rank_heatmap.png", RANK_HEATMAP_CAPTION,
             lambda p: plot_module.plot_rank_heatmap(names, result.rank_probs[order], p, top=config.plot_top,
                                                     scores=result.expected_score[order], formats=formats),
             lambda: interactive.rank_distribution(result.models, result.rank_probs, result.expected_score, config.plot_top)),
        Plot("win_probabilities.png", "P(row beats column), averaged over the benchmarks, models by E[S]",
             lambda p: _plot_win_probabilities(result, *win(), p, formats),
             lambda: interactive.win_probabilities([result.models[m] for m in win()[0]], win()[1], len(result.models))),
    ]
    if result.survival.min() < 1:  # nothing is eliminated at T = 0: no survival plot
        shown = survival_models(result)
        plots.append(Plot(
            "survival.png", "P(still active after round k): the top models by E[S] and the largest one-round drops",
            lambda p: plot_module.plot_survival(result.models, result.rounds, result.survival, p,
                                                models_shown=[result.models[m] for m in shown], formats=formats),
            lambda: interactive.survival(result.models, result.rounds, result.survival, shown)))
    line = f"N = {result.n_runs:,} runs, seed {config.seed}; {_rules(result.tournament)}"
    if result.target_met is False:
        line += f"\n- **target_se={result.target_se:g} was not reached**: max_runs ended the run first"
    table = result.table()
    legend = f"{SIMULATE_LEGEND} {table.legend} The most a model can score is {len(result.rounds)}."
    output = _output(config, ctx, prepared, result, table, line, [legend], plots)
    return _with_round_order(output, config, prepared, result)


def _win_probabilities(result: SimulationResult, table: ScoreTable) -> tuple[np.ndarray, np.ndarray]:
    """The best `WIN_PROBABILITY_TOP` models by E[S] (B,) and P(row beats column) among
    them, averaged over the benchmarks (B, B), from their rows only: the (M, M, K) tensor
    of a 4,576-model table would take gigabytes."""
    best = result.order()[:WIN_PROBABILITY_TOP]
    return best, win_probabilities(table.with_models(best), result.tournament.tie).mean(axis=2)


def _plot_win_probabilities(result: SimulationResult, best, win_prob, path, formats) -> list[str]:
    """The win-probability heatmap of `_win_probabilities`."""
    return plot_module.plot_win_probabilities([result.models[m] for m in best], win_prob, path, top=None,
                                              scores=result.expected_score[best], of_models=len(result.models),
                                              formats=formats)


def survival_models(result: SimulationResult, top: int = 6, drops: int = 4) -> list[int]:
    """The models a survival plot shows: the `top` best by E[S], then the `drops` others
    whose P(active) falls the most in one round, best first."""
    order = [int(m) for m in result.order()]
    shown = order[:top]
    fall = np.diff(np.concatenate([np.ones((len(order), 1)), result.survival], axis=1), axis=1).min(axis=1)
    rest = sorted(order[top:], key=lambda m: fall[m])[:drops]
    return shown + sorted(rest, key=order.index)


def _order_words(config: RunConfig, prepared: PreparedTable) -> str:
    """The round order of a run in words, from its data config."""
    return _recorded_order_words(_table_info(config, prepared))


def _recorded_order_words(info: dict) -> str:
    """The round order in words, from the table facts a run recorded (`_table_info`)."""
    words = ORDER_WORDS[info["order"]]
    if info.get("tiers"):
        tier_order = "easiest tier first" if info.get("tier_order") == "easy-first" else "tiers as listed"
        words += f", inside {len(info['tiers'])} tiers ({tier_order})"
    return words


def _with_round_order(output: RunOutput, config: RunConfig, prepared: PreparedTable | None,
                      reference: SimulationResult, recorded: dict | None = None) -> RunOutput:
    """`output` with what its CSD ranking (`reference`) can claim about the round order:
    the order played, its sensitivity over `config.order_sensitivity` random orders
    (measured here unless `reference` carries it; with a `prepared` table only), as lines
    under the headline and a section of report.md (with each round's share of tournaments
    that played a game; the frozen rounds' warning is `_with_frozen`'s). The sensitivity
    also goes into results.json. Without `prepared`, the order is described from the table
    facts the runs `recorded` (`_table_info`), if given."""
    if reference.order_sensitivity is None and config.order_sensitivity and prepared is not None:
        with prefixed(TOURNAMENT_KEYS):
            sensitivity = order_sensitivity(
                prepared.table, reference.tournament, n_orders=config.order_sensitivity, seed=config.seed,
                reference=reference, chunk_size=config.chunk_size)
        reference = dataclasses.replace(reference, order_sensitivity=sensitivity)
    if prepared is not None:
        words = _order_words(config, prepared)
    else:  # collect: the words of the order the runs recorded, as its summary line gives it
        words = _recorded_order_words(recorded) if recorded and "order" in recorded else None
    results = dict(output.results)
    if reference.order_sensitivity is not None:
        results["order_sensitivity"] = reference.order_sensitivity.to_dict()
    return dataclasses.replace(output, results=results, body=[*output.body, order_section(reference, words)],
                               terminal=_with_notes(output.terminal, order_notes(reference, words)))


def _with_notes(terminal: str, notes: Sequence[str]) -> str:
    """`terminal` with `notes` under its headline (its first line)."""
    headline, _, rest = terminal.partition("\n")
    return "\n".join([headline, *notes, rest])


def run_sweep(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=sweep: Failure Sensitivity Analysis over `sweep.schedules` (csd.sweep)."""
    prepared = prepare_table(config.data, config.seed)
    tournament = config.tournament(prepared)
    with prefixed({**TOURNAMENT_KEYS, "elimination": "sweep.schedules"}):
        result = _with_bar(config, lambda bar: sweep(
            prepared.table, _sweep_schedules(config.sweep.schedules), tournament=tournament,
            n_runs=config.n_runs, seed=config.seed, chunk_size=config.chunk_size, progress=bar,
            estimator=config.estimator,
        ))
    note = "The schedules share their random numbers, so the drop's SE is paired."
    output = _sweep_output(config, ctx, _table_info(config, prepared), result, note, [_rules(tournament)])
    return _with_round_order(output, config, prepared, result.results[0])


def run_bootstrap(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=bootstrap: E[S] with intervals from resampling the table (csd.bootstrap)."""
    formats = _formats(config)
    prepared = prepare_table(config.data, config.seed)
    tournament = config.tournament(prepared)
    options = dataclasses.asdict(config.bootstrap)
    tiers = None if prepared.tiers is None else list(prepared.tiers.values())
    with prefixed({**TOURNAMENT_KEYS, **_section_keys("bootstrap", BootstrapConfig)}):
        result = _with_bar(config, lambda bar: bootstrap(
            prepared.table, tournament=tournament, tiers=tiers, n_runs=config.n_runs, seed=config.seed,
            chunk_size=config.chunk_size, progress=bar, estimator=config.estimator, **options,
        ))
    coverage = f"{100 * result.coverage:g}%"
    plots = [
        Plot(
            "bootstrap.png",
            f"E[S] and its {coverage} bootstrap interval over {result.n_boot} replicates, by tier "
            "(models whose rank intervals overlap)",
            lambda p: plot_module.plot_bootstrap(
                list(result.models), result.expected_score, result.ci_low, result.ci_high, p,
                tiers=result.tiers, rank_low=result.rank_low, rank_high=result.rank_high,
                xlabel=f"E[S] (dot) and its {coverage} bootstrap interval over {result.n_boot} "
                f"replicates (bar); rank: its {coverage} rank interval",
                title=f"Bootstrap intervals ({result.scheme}) and tiers", top=config.plot_top, formats=formats,
            ),
            lambda: interactive.bootstrap(list(result.models), result.expected_score, result.ci_low, result.ci_high,
                                          result.tiers, result.rank_low, result.rank_high, result.coverage, config.plot_top),
        )
    ]
    line = (
        f"B = {result.n_boot} replicates ({result.scheme}, {result.interval} intervals) x N = "
        f"{result.n_runs:,} runs; {_rules(tournament)}"
    )
    output = _output(config, ctx, prepared, result, result.table(), line, (), plots)
    return _with_round_order(output, config, prepared, result.point)


def run_compare(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=compare: CSD next to the static baselines (csd.compare)."""
    formats = _formats(config)
    prepared = prepare_table(config.data, config.seed)
    tournament = config.tournament(prepared)
    with prefixed({**TOURNAMENT_KEYS, **_section_keys("compare", CompareConfig)}):
        result = _with_bar(config, lambda bar: compare(
            prepared.table, methods=config.compare.methods, tournament=tournament, n_runs=config.n_runs,
            seed=config.seed, chunk_size=config.chunk_size, progress=bar, n_boot=config.compare.n_boot,
            tiers=None if prepared.tiers is None else list(prepared.tiers.values()),
            coverage=config.compare.coverage, boot_runs=config.compare.boot_runs, estimator=config.estimator,
        ))
    plots = [
        Plot("bump.png", "Rank of each model under each method",
             lambda p: plot_module.plot_bump(list(result.models), result.ranks, p, formats=formats),
             lambda: interactive.bump(list(result.models), result.ranks, "Rank of each model under each method", "method"))
    ]
    line = f"methods: {', '.join(result.methods)}; N = {config.n_runs:,} runs; {_rules(tournament)}"
    if result.intervals:
        line += (f"; [a-b]: the {100 * result.coverage:g}% bootstrap rank interval over {config.compare.n_boot} "
                 "tables resampled inside the tiers")
    legend = ["Kendall tau-b between the methods' scores:", result_table(result.tau_table())]
    table = result.table()
    output = _output(config, ctx, prepared, result, table, line, legend, plots, _compare_board(result, table))
    return output if result.csd is None else _with_round_order(output, config, prepared, result.csd)


def _compare_board(result: Comparison, table: ResultTable) -> Table:
    """mode=compare's leaderboard: `table` (result.table()) and, in report.html only, each
    static baseline's Δrank against CSD (`delta_rank`: the baseline's rank - the CSD rank,
    as on `csd.report`'s page); without `csd` among the methods, `table` alone."""
    board = result_table(table, leaderboard=True, markdown_rows=REPORT_ROWS)
    if "csd" not in result.ranks:
        return board
    csd_rank = result.ranks["csd"]
    baselines = [method for method in result.methods if method != "csd"]
    rows = [[*row, *(delta_rank(result.ranks[x][m], csd_rank[m]) for x in baselines)]
            for row, m in zip(board.rows, result.order())]
    return dataclasses.replace(board, header=(*board.header, *map(delta_rank_header, baselines)), rows=rows,
                               align=board.align + "r" * len(baselines), markdown_columns=tuple(range(len(board.header))))


def run_outlier(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=outlier: how far one model's rank moves when some of its scores are set to a
    value, under each method (csd.outlier_test)."""
    if config.outlier.model is None:
        raise InputError("mode=outlier needs outlier.model=NAME: the model whose scores to change", "outlier.model")
    prepared = prepare_table(config.data, config.seed)
    tournament = config.tournament(prepared)
    with prefixed({**TOURNAMENT_KEYS, **_section_keys("outlier", OutlierConfig)}):
        before = _with_bar(config, lambda bar: simulate(
            prepared.table, tournament=tournament, n_runs=config.n_runs, seed=config.seed,
            chunk_size=config.chunk_size, progress=bar, estimator=config.estimator,
        ))
        result = _with_bar(config, lambda bar: outlier_test(
            prepared.table, config.outlier.model, benchmarks=config.outlier.benchmarks,
            value=config.outlier.value, csd_result=before, chunk_size=config.chunk_size, progress=bar,
        ))
    line = f"{result.title()}; N = {config.n_runs:,} runs; {_rules(tournament)}"
    output = _output(config, ctx, prepared, result, result.table(), line)
    return _with_round_order(output, config, prepared, before)


def run_collect(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=collect: merges the simulate runs of a multirun folder (one schedule each) into
    one sweep (`SweepResult`, coupling `collected`): E[S] per schedule and the drop
    against the first job's schedule, with independent SEs. When `dir` holds the shards of
    one run (shard.count > 1), it merges them instead (`_collect_shards`)."""
    if config.dir is None:
        raise InputError("mode=collect needs dir=FOLDER: the multirun folder to merge", "dir")
    root = Path(config.dir).expanduser().resolve()
    if not root.is_dir():
        raise InputError(f"dir={config.dir!r}: no such folder", "dir")
    found = shards.find(root)
    if found:
        return _collect_shards(ctx, root, found)
    found, broken = _collected_runs(root)
    runs = sorted(found, key=lambda run: (run[1]["job"]["num"] is None, run[1]["job"]["num"] or 0, str(run[0])))
    skipped = [f"{path.relative_to(root)} ({reason})" for path, reason in broken]
    if skipped and not config.collect.skip_broken:
        raise InputError(
            f"dir={config.dir!r}: {len(skipped)} run(s) cannot be merged: {'; '.join(skipped)}; repair or remove "
            "them, or set collect.skip_broken=true to merge the others", "dir",
        )
    for line in skipped:
        warnings.warn(f"collect: skipped {line}", RuntimeWarning, stacklevel=2)
    if not runs:
        raise InputError(f"dir={config.dir!r}: no results.json of a mode=simulate run under {root}", "dir")
    results = [result for _, _, result in runs]
    _check_mergeable(runs)
    sweep = sweep_result(results, "collected")
    table_info = runs[0][1]["table"]
    merged = ", ".join(f"{label} ({path.parent.name})" for (path, _, _), label in zip(runs, sweep.labels))
    extra = [f"merged {len(runs)} run(s) from `{root}`: {merged}"] + [f"skipped {line}" for line in skipped]
    differing = _differing_options([data["config"] for _, data, _ in runs])
    if differing:
        extra.append("the runs also differ in: " + ", ".join(differing))
    output = _sweep_output(config, ctx, table_info, sweep, DROP_SE_INDEPENDENT, extra + ["rules: as recorded by each run"])
    output = _with_round_order(output, config, None, sweep.results[0], table_info)  # as the first run recorded it
    output.results.update(dir=str(root), runs=[str(path.relative_to(root)) for path, _, _ in runs], differing_options=differing,
                          skipped=[{"run": str(path.relative_to(root)), "reason": reason} for path, reason in broken])
    return output


def _collect_shards(ctx: Context, root: Path, found: list[tuple[Path, dict]]) -> RunOutput:
    """mode=collect over the shards of one run: the run's own mode, replayed on the
    shards' added totals (`shards.merged_shards`), so its outputs are the single job's."""
    original = RunConfig.from_dict(shards.whole_config(root, found))
    recordings = [shards.Shard.load(shards.sidecar(path.parent)) for path, _ in found]
    with shards.merged_shards(recordings):
        output = MODES[original.mode](original, ctx)
    output.results["shards"] = {"dir": str(root), "count": len(found),
                                "runs": [str(path.parent.relative_to(root)) for path, _ in found]}
    summary = output.summary + [f"merged {len(found)} shards from `{root}`"]
    return dataclasses.replace(output, summary=summary)


def run_report(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=report: the paper's whole analysis (`csd.report`), written into ctx.out_dir:
    report.md, report.html, results.json and the figures. The rounds are ordered as `data`
    says; the sizes are `report.*`; the rules are the config's."""
    tournament = config.tournament()
    data = config.data
    if data.round_order() == "shuffle":
        raise InputError("data.order=shuffle: mode=report compares fixed round orders; choose given, easy-first "
                         "or random", "data.order")
    given = prepare_table(dataclasses.replace(data, order="given", tiers=None), config.seed)
    log = (lambda line: print(f"  {line}", file=sys.stderr, flush=True)) if config.progress else None
    with prefixed({**TOURNAMENT_KEYS, **_section_keys("report", ReportConfig), **_section_keys("data", DataConfig)}):
        report = report_api.report(
            given.table, out_dir=ctx.out_dir, order=data.round_order(), tiers=tiers_source(data),
            tier_order=data.tier_order,
            name=given.name, seed=config.seed, progress=log, command=ctx.command(), tournament=tournament,
            chunk_size=config.chunk_size, formats=_formats(config), **dataclasses.asdict(config.report),
        )
    table = report.analysis.table
    terminal = (f"csd-run report: {given.name} ({len(table.models)} models x {len(table.benchmarks)} benchmarks)\n"
                + report.analysis.ranking.format_table(top=config.top))
    arrays: dict = {}
    output = RunOutput(report.to_dict(arrays), "", "csd-run: report", [], report.markdown, terminal,
                       written=report.files, arrays=arrays)
    output = _with_frozen(output, frozen_in(report.analysis))
    return dataclasses.replace(output, terminal=_with_notes(output.terminal, [order_line(report.analysis)]))


MODES: dict[str, Callable[[RunConfig, Context], RunOutput]] = {
    "simulate": run_simulate,
    "sweep": run_sweep,
    "bootstrap": run_bootstrap,
    "compare": run_compare,
    "outlier": run_outlier,
    "collect": run_collect,
    "report": run_report,
}


def run_mode(config: RunConfig, ctx: Context) -> RunOutput:
    """The outputs of `config.mode`.

    Raises:
      InputError: for an unknown mode, or bad input to the mode, naming the key.
    """
    check_choice("mode", config.mode, MODES)
    if config.top is not None and config.top < 1:
        raise InputError(f"top={config.top} must be >= 1 (the rows printed; top=null prints every row)", "top")
    shard = _shard(config)
    with quiet():  # the outputs say where the tournaments froze (`_with_frozen`), not a Python warning
        if shard is None:
            return MODES[config.mode](config, ctx)
        with shards.playing(shard):
            output = MODES[config.mode](config, ctx)
    shard.save(shards.sidecar(ctx.out_dir))  # the exact totals collect adds, beside results.json
    note = (f"shard {shard.index} of {shard.count}: this result is of its share of the runs only; "
            f"`csd-run mode=collect dir=PARENT` merges the {shard.count} shards into the whole run's")
    return dataclasses.replace(output, summary=output.summary + [note], terminal=f"{output.terminal}\n{note}")


SHARDED_MODES = ("simulate", "sweep", "bootstrap")


def _shard(config: RunConfig) -> shards.Shard | None:
    """The `Shard` this job plays (None: the whole run)."""
    count, index = check_int("shard.count", config.shard.count, 1), config.shard.index
    if count == 1 and index in (None, 0):
        return None
    if index is None:
        raise InputError(f"shard.count={count} needs shard.index=0..{count - 1}: the shard this job plays", "shard.index")
    if config.mode not in SHARDED_MODES:
        raise InputError(f"mode={config.mode} cannot be split into shards; modes {', '.join(SHARDED_MODES)} can", "shard.count")
    return shards.Shard(index, count)


# ---------------------------------------------------------------------------- helpers


def _with_bar(config: RunConfig, call):
    """`call(progress_bar)`, with a progress bar closed however the call ends."""
    bar = ProgressBar(config.mode, enabled=config.progress)
    try:
        return call(bar)
    finally:
        bar.close()


def _sweep_schedules(schedules: Sequence) -> list:
    """`sweep.schedules` as `csd.sweep` takes them: ints, or per-round lists."""
    return [tuple(s) if isinstance(s, (list, tuple)) else s for s in schedules]


def _formats(config: RunConfig) -> tuple[str, ...]:
    """The figure formats of `plots.format`, checked before anything is computed."""
    return plot_module.figure_formats(config.plots.format, "plots.format")


def _section_keys(section: str, cls) -> dict[str, str]:
    """{option: `section.option`} for the fields of a config section."""
    return {field.name: f"{section}.{field.name}" for field in dataclasses.fields(cls)}


def _output(config, ctx, prepared: PreparedTable, result, table: ResultTable, line: str, legend: Sequence = (),
            plots=(), board: Table | None = None) -> RunOutput:
    """The outputs of a result: results.json its `to_dict()` with the run's facts, and its
    table in the terminal, the report (the leaderboard, report.md its top `REPORT_ROWS`
    rows, then the `legend` blocks) and CSV. `board`: the report's leaderboard, where it
    adds columns to `table` (default: `table`'s)."""
    info = _table_info(config, prepared)
    arrays: dict = {}
    results = {**_run_facts(config, ctx, info), **result.to_dict(arrays)}
    summary = _summary(ctx, info, prepared.tiers, config) + [line]
    if board is None:
        board = result_table(table, leaderboard=True, markdown_rows=REPORT_ROWS)
    body = [Section("result", "Result", [board, *legend])]
    terminal = _headline(config.mode, info) + "\n" + table.text(config.top)
    output = RunOutput(results, table.csv(), f"csd-run: {config.mode}", summary, body, terminal, list(plots),
                       arrays=arrays)
    return _with_frozen(output, found_in(result))


def _with_frozen(output: RunOutput, found: Sequence[FrozenRounds]) -> RunOutput:
    """`output` with the frozen rounds of its result (`csd._src.frozen`): `frozen_rounds`
    in results.json (None when nothing froze), and the message as a warning under the
    terminal's headline and in the report's summary (report.md, report.html)."""
    results = {**output.results, "frozen_rounds": record(found)}
    text = message(found)
    if text is None:
        return dataclasses.replace(output, results=results)
    return dataclasses.replace(output, results=results, summary=[*output.summary, f"**warning:** {text}"],
                               terminal=_with_notes(output.terminal, [f"warning: {text}"]))


def _sweep_output(config, ctx, table_info: dict, sweep: SweepResult, se_note: str, extra: Sequence[str]) -> RunOutput:
    """The outputs of a `SweepResult`: its table, the drop's note and the risk plots.
    `table_info` is `_table_info`'s dict (for collect: as the first run recorded it)."""
    formats = _formats(config)
    table = sweep.table()
    labels = sweep.labels
    named, named_what = _risk_labels(sweep)
    profiled = len(sweep.models) >= MIN_PROFILE_MODELS
    plots = [
        Plot(
            "risk_profile.png",
            f"Drop at {labels[-1]} against E[S] at {labels[0]}, "
            + ("coloured by risk profile" if profiled else
               f"without risk profiles (they take at least {MIN_PROFILE_MODELS} models)")
            + ("" if named is None else f"; named: {named_what}"),
            lambda p: plot_module.plot_risk_profile(
                list(sweep.models), sweep.expected_score[0], sweep.drop[-1], p, drop_stderr=sweep.drop_stderr[-1],
                labels=named, profiles=sweep.risk_profile if profiled else None, schedule=labels[-1],
                trend=sweep.risk_trend, formats=formats,
            ),
            lambda: interactive.risk_profile(list(sweep.models), sweep.expected_score[0], sweep.drop[-1], sweep.drop_stderr[-1],
                                             sweep.risk_profile if profiled else None, sweep.risk_trend, labels[-1]),
        ),
        Plot("expected_scores.png", "E[S] per schedule",
             lambda p: plot_module.plot_expected_scores(
                 list(sweep.models), labels, sweep.expected_score, sweep.stderr, p, top=config.plot_top,
                 formats=formats),
             lambda: interactive.expected_scores(list(sweep.models), labels, sweep.expected_score, sweep.stderr,
                                                 config.plot_top)),
    ]
    arrays: dict = {}
    results = {**_run_facts(config, ctx, table_info), **sweep.to_dict(arrays)}
    summary = _summary(ctx, table_info, table_info.get("tiers"), config)
    body = [Section("sweep", f"Sweep table (ranked by E[S] under {labels[0]})", [
        result_table(table, leaderboard=True, markdown_rows=REPORT_ROWS),
        f"E[S] ± SE per schedule; drop = E[S | schedule] - E[S | {labels[0]}] ± its SE. {se_note}",
    ])]
    terminal = _headline(config.mode, table_info) + f"; N={sweep.n_runs:,}, " + ", ".join(labels)
    terminal += "\n" + table.text(config.top)
    output = RunOutput(results, table.csv(), f"csd-run: {config.mode}", summary + list(extra), body, terminal, plots,
                       arrays=arrays)
    return _with_frozen(output, found_in(sweep))


RISK_LABELS_ALL = 25  # up to this many models, the risk plot names them all
RISK_LABELS_TOP, RISK_LABELS_PER_PROFILE = 3, 5


def _risk_labels(sweep: SweepResult) -> tuple[list[str] | None, str]:
    """The models the risk plot names (None: all) and how to say which: with many models,
    the best few at the first schedule and the most extreme of each flagged profile."""
    models = list(sweep.models)
    if len(models) <= RISK_LABELS_ALL:
        return None, ""
    order = np.lexsort((np.arange(len(models)), -sweep.expected_score[0]))
    named = [models[m] for m in order[:RISK_LABELS_TOP]]
    extreme = np.argsort(-np.abs(sweep.risk_residual), kind="stable")
    for profile in ("robust generalist", "aggressive specialist"):
        members = [m for m in extreme if sweep.risk_profile[m] == profile]
        named += [models[m] for m in members[:RISK_LABELS_PER_PROFILE]]
    what = f"the top {RISK_LABELS_TOP} and the {RISK_LABELS_PER_PROFILE} most extreme robust generalists and aggressive specialists"
    return list(dict.fromkeys(named)), what


def _collected_runs(root: Path) -> tuple[list, list]:
    """([(path, data, SimulationResult)] of the whole mode=simulate runs under `root`,
    [(path, reason)] of the broken ones): every results.json outside the runs' dot folders
    (their staging and publishing folders, `csd._src.rundir`) whose run folder has a
    manifest that matches its files, no publish left half done, and a whole simulate
    result. A whole run of another mode (e.g. an earlier collect) is neither."""
    found, broken = [], []
    for path in _results_files(root):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            broken.append((path, f"cannot read it as JSON: {_one_line(err)}"))
            continue
        if not isinstance(data, dict):
            broken.append((path, f"holds a JSON {type(data).__name__}, not a csd-run result"))
            continue
        mode = data.get("mode")
        if mode != "simulate" and mode in MODES:
            continue
        reason = _run_folder_problem(path.parent) if mode == "simulate" else f"mode={mode!r}: not a csd-run result"
        if reason is None:
            try:
                result = SimulationResult.from_dict(data, sidecar.arrays_of(path, data))
                reason = _shape_problem(result)
            except (OSError, KeyError, TypeError, ValueError) as err:
                reason = f"not a whole csd-run simulate result ({type(err).__name__}: {_one_line(err)})"
        if reason is None:
            found.append((path, data, result))
        else:
            broken.append((path, reason))
    return found, broken


def _results_files(root: Path) -> list[Path]:
    """Every entry named results.json under `root`, outside dot folders, whatever it is (a
    broken or looping symlink too: `Path.rglob` leaves those out)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        found += [Path(folder) / name for name in files if name == "results.json"]
    return sorted(found)


def _run_folder_problem(folder: Path) -> str | None:
    """Why the outputs in `folder` are not one published set (`rundir.check_manifest`), or None."""
    if (folder / rundir.PUBLISHING).exists():
        return f"a publish was interrupted ({rundir.PUBLISHING} left over); run csd-run on the folder again"
    try:
        files = rundir.check_manifest(folder)
    except RunFolderError as err:
        return str(err).replace(f"{folder}: ", "").replace(f"{folder}/", "")
    except (OSError, ValueError) as err:
        return f"cannot check its {rundir.MANIFEST}: {_one_line(err)}"
    return None if "results.json" in files else f"results.json is not in its {rundir.MANIFEST}"


# The per-model arrays a collected result must hold, by their axes (M models, K rounds).
_RESULT_AXES = {"expected_score": "M", "stderr": "M", "champion_prob": "M", "rank_probs": "MM", "survival": "MK",
                "expected_score_by_round": "MK", "worst_rank_probs": "MM"}  # worst_rank_probs: None in older results


def _shape_problem(result: SimulationResult) -> str | None:
    """What is wrong with a result's arrays (a cut-short or non-numeric field), or None."""
    sizes = {"M": len(result.models), "K": len(result.rounds)}
    for name, axes in _RESULT_AXES.items():
        if getattr(result, name) is None:
            continue
        value = np.asarray(getattr(result, name))
        shape = tuple(sizes[axis] for axis in axes)
        if value.dtype.kind not in "fiu":
            return f"{name} holds {value.dtype} values, not numbers"
        if value.shape != shape:
            return f"{name} has shape {value.shape}, not {shape} for {sizes['M']} models and {sizes['K']} rounds"
    return None


def _check_mergeable(runs) -> None:
    """Collected runs must share the table and differ in their schedule."""
    first_path, _, first = runs[0]
    seen: dict[str, Path] = {}
    for path, _, result in runs:
        if (result.models, result.rounds) != (first.models, first.rounds):
            raise InputError(f"{path}: its models or rounds differ from those of {first_path}; collect merges runs on one table")
        label = result.tournament.label()
        if label in seen:
            raise InputError(
                f"{path} and {seen[label]} both ran {label}; collect merges runs that differ in their "
                "elimination schedule (one run per schedule)"
            )
        seen[label] = path


def _differing_options(configs: list[dict]) -> list[str]:
    """Dotted keys (other than the elimination and the job's own) whose values differ."""
    flat = [_flatten(c) for c in configs]
    keys = sorted(set().union(*flat))
    skip = ("elimination.", "dir", "progress", "top")
    return [k for k in keys if not k.startswith(skip) and len({json.dumps(f.get(k)) for f in flat}) > 1]


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _run_facts(config: RunConfig, ctx: Context, table_info: dict) -> dict:
    """What results.json says about the run besides the result: mode, version, config, job, table."""
    return {
        "mode": config.mode,
        "csd_version": _version(),
        "config": config.to_dict(),
        "job": {"overrides": list(ctx.overrides), "num": ctx.job_num},
        "table": table_info,
    }


def _table_info(config: RunConfig, prepared: PreparedTable) -> dict:
    table = prepared.table
    return {
        "name": prepared.name,
        "source": table.source,
        "n_models": len(table.models),
        "n_benchmarks": len(table.benchmarks),
        "rounds": list(table.benchmarks),
        "order": config.data.round_order(),
        "tier_order": config.data.tier_order,
        "tiers": prepared.tiers,
        "missing_policy": table.missing_policy,
        "n_missing": table.n_missing,
        "dropped": list(table.dropped),
        "missing_report": table.missing_report(),
        "lower_is_better": list(table.flipped),
        "notes": list(table.notes),
    }


def _summary(ctx: Context, info: dict, tiers, config: RunConfig) -> list[str]:
    table_line = (
        f"{info['name']} (`{info['source']}`), {info['n_models']} models x {info['n_benchmarks']} "
        f"benchmarks; {info['missing_report']}"
    )
    if tiers:
        rounds = "; ".join(f"{tier}: {', '.join(b)}" for tier, b in tiers.items())
        tier_order = "in the tiers file's order" if info["tier_order"] == "given" else "the easiest tier first"
        rounds = f"rounds (order `{info['order']}` inside {len(tiers)} tiers, {tier_order}): {rounds}"
    else:
        rounds = f"rounds (order `{info['order']}`): {', '.join(info['rounds'])}"
    notes = [f"table notes: {'; '.join(info['notes'])}"] if info.get("notes") else []
    return [f"command: `{ctx.command()}`", f"table: {table_line}", *notes, rounds]


def _headline(mode: str, info: dict) -> str:
    return (
        f"csd-run {mode}: {info['name']} ({info['n_models']} models x {info['n_benchmarks']} "
        f"benchmarks; {info['missing_report']})"
    )


def _rules(tournament: Tournament) -> str:
    """The tournament in one line, for the report's summary."""
    options = [name for name in ("bye_once", "avoid_rematch") if getattr(tournament, name)]
    return (
        f"elimination {tournament.label()} (min_active {tournament.min_active}); pairing `{tournament.pairing}`, "
        f"bye `{tournament.bye_rule}` worth {tournament.bye_points:g}, tie `{tournament.tie}`, draw "
        f"{tournament.draw_points:g}" + "".join(f", {option}" for option in options)
    )


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("csd-swiss")
    except metadata.PackageNotFoundError:
        return "unknown"
