"""What each `csd-run` mode computes, and the outputs it hands to the writer.

A mode is a function `(RunConfig, Context) -> RunOutput`. It does all the computing and
formatting in memory; `write_outputs` then writes the files, each atomically, plots first
and `results.json` last, so a failed run leaves the files of an earlier run untouched.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import csd
from csd._src import plots as plot_module
from csd._src.baselines import places
from csd._src.config import PreparedTable, RunConfig, _tiers_source, prepare_table, schedule_label
from csd._src.errors import InputError
from csd._src.outputs import ProgressBar, atomic_write, markdown_table, text_table, to_csv, to_json
from csd._src.sweep import risk_profiles

RANK_COVERAGE = 0.9  # the rank interval reported next to E[S]
DROP_SE_INDEPENDENT = (
    "The drop's SE is computed as for independent runs, sqrt(SE_a^2 + SE_b^2): separate runs "
    "cannot be paired after the fact. Runs with the same seed share their random numbers, which "
    "usually makes their drops more precise than this SE says; mode=sweep runs the schedules "
    "together and gives the paired SE."
)


@dataclasses.dataclass(frozen=True)
class Context:
    """Where and how the run was started.

    Attributes:
      out_dir: the folder the outputs go to (Hydra's run directory).
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
    """A plot to draw: `draw(path)` writes the PNG (and returns its path or paths)."""

    filename: str
    caption: str
    draw: Callable[[Path], object]


@dataclasses.dataclass(frozen=True)
class SweepTable:
    """E[S] of every model under S schedules, and the drop against the first schedule.

    Attributes:
      models: (M,) names; labels: (S,) schedule names (`T=1`, ...).
      expected, stderr: (S, M) E[S] and its standard error.
      drop, relative_drop, drop_stderr: (S, M) E[S | s] - E[S | first], that over E[S | first],
        and the drop's standard error (row 0 is zero).
      risk_profile: (M,) labels from `csd.sweep`, or None.
      risk_residual: (M,) each model's drop against its peers' (`csd.sweep`), or None.
    """

    models: list[str]
    labels: list[str]
    expected: np.ndarray
    stderr: np.ndarray
    drop: np.ndarray
    relative_drop: np.ndarray
    drop_stderr: np.ndarray
    risk_profile: list[str] | None = None
    risk_residual: np.ndarray | None = None


@dataclasses.dataclass(frozen=True)
class RunOutput:
    """A mode's outputs, all in memory.

    Attributes:
      results: the content of results.json.
      csv: the text of results.csv.
      title: the report's title.
      summary: Markdown bullet lines (what was run on what).
      body: Markdown sections (the ranked table and its notes).
      terminal: the text printed to the terminal.
      plots: the plots to draw and embed in report.md.
    """

    results: dict
    csv: str
    title: str
    summary: list[str]
    body: str
    terminal: str
    plots: list[Plot] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    written: tuple[Path, ...] = ()  # files the mode wrote itself (mode=report); nothing left to write

    def report(self, drawn: Sequence[tuple[str, str]]) -> str:
        """report.md, embedding the plots `drawn` as (filename, caption)."""
        parts = [f"# {self.title}", "\n".join(f"- {line}" for line in self.summary), self.body]
        if drawn:
            parts.append(
                "## Plots\n\n"
                + "\n\n".join(f"![{caption}]({name})\n\n*{caption}*" for name, caption in drawn)
            )
        parts += self.notes
        return "\n\n".join(part for part in parts if part) + "\n"


def write_outputs(output: RunOutput, out_dir: Path) -> list[Path]:
    """Writes the plots, results.csv, report.md and results.json into `out_dir`, each
    through a temporary file and a rename; returns the paths written (a mode that wrote its
    own files: those)."""
    if output.written:
        return list(output.written)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, drawn = [], []
    for plot in output.plots:
        paths = plot.draw(out_dir / plot.filename)
        written += [Path(p) for p in _as_paths(paths, out_dir / plot.filename)]
        drawn.append((plot.filename, plot.caption))
    written.append(atomic_write(out_dir / "results.csv", output.csv))
    written.append(atomic_write(out_dir / "report.md", output.report(drawn)))
    written.append(atomic_write(out_dir / "results.json", to_json(output.results)))
    return written


def _as_paths(returned, default: Path) -> list:
    if returned is None:
        return [default]
    if isinstance(returned, (str, Path)):
        return [returned]
    return list(returned)


# ------------------------------------------------------------------------------ modes


def run_simulate(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=simulate: E[S] of every model under one elimination schedule."""
    prepared = prepare_table(config.data, config.seed)
    _, result = _computed(
        "simulate",
        config,
        prepared,
        lambda table, schedule, bar: csd.simulate(
            table,
            elimination=schedule,
            target_se=config.target_se,
            max_runs=config.max_runs,
            progress=bar,
            **config.engine_options(),
        ),
    )
    table = prepared.table
    low, high = result.rank_interval(RANK_COVERAGE)
    ranking = result.ranking()
    index = {name: m for m, name in enumerate(result.models)}
    results = _base_results(config, ctx, prepared)
    simulated = result.to_dict()
    results.update({k: v for k, v in simulated.items() if k != "config"})
    results["simulation"] = simulated["config"]
    results["schedule"] = schedule_label(simulated["config"]["elimination"])
    results["rank_interval"] = {"coverage": RANK_COVERAGE, "low": low.tolist(), "high": high.tolist()}

    header = ["rank", "model", "expected_score", "stderr", "champion_prob", "rank_low", "rank_high"]
    rows = [
        [
            r["rank"],
            r["model"],
            r["expected_score"],
            r["stderr"],
            r["champion_prob"],
            int(low[index[r["model"]]]),
            int(high[index[r["model"]]]),
        ]
        for r in ranking
    ]
    shown = [
        [
            str(r["rank"]),
            r["model"],
            f"{r['expected_score']:.3f}",
            f"{r['stderr']:.4f}",
            f"{r['champion_prob']:.4f}",
            f"{low[index[r['model']]]}-{high[index[r['model']]]}",
        ]
        for r in ranking
    ]
    columns = ["rank", "model", "E[S]", "SE", "P(champion)", f"rank {RANK_COVERAGE:.0%}"]
    summary = [
        *_summary(config, ctx, prepared),
        (
            f"N = {result.n_runs:,} runs, seed {config.seed}; elimination {results['schedule']} "
            f"(min_active {config.elimination.min_active}); {_rules(config)}"
        ),
    ]
    body = (
        "## Ranking\n\n"
        + markdown_table(columns, shown, "rlrrrr")
        + f"\n\nE[S]: the Expected Win Score, the mean final score over N simulated tournaments "
        f"(max {len(table.benchmarks)}); SE: its Monte Carlo standard error sd(S)/sqrt(N); "
        "P(champion): P(top final score, alone or tied; shared tops make the column sum above 1); "
        f"rank {RANK_COVERAGE:.0%}: the central {RANK_COVERAGE:.0%} interval of the simulated final rank."
    )
    order = result.order()
    names = [result.models[m] for m in order]
    plots = [
        Plot(
            "rank_heatmap.png",
            "P(final rank) of each model",
            lambda p: plot_module.plot_rank_heatmap(names, result.rank_probs[order], p),
        ),
        Plot(
            "survival.png",
            "P(still active after round k)",
            lambda p: plot_module.plot_survival(names, result.rounds, result.survival[order], p, top=10),
        ),
    ]
    terminal = _headline("simulate", config, prepared, f"N={result.n_runs:,}, {results['schedule']}")
    terminal += "\n" + text_table(columns, shown[: config.top], "rlrrrr")
    return RunOutput(results, to_csv(header, rows), "csd-run: simulate", summary, body, terminal, plots)


def run_sweep(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=sweep: Failure Sensitivity Analysis over `sweep.schedules` (csd.sweep)."""
    prepared = prepare_table(config.data, config.seed)
    n_rounds = len(prepared.table.benchmarks)
    schedules = [
        _check_schedule(s, n_rounds, f"sweep.schedules[{i}]") for i, s in enumerate(config.sweep.schedules)
    ]
    _, result = _computed(
        "sweep",
        config,
        prepared,
        lambda table, _, bar: csd.sweep(table, schedules=schedules, progress=bar, **config.engine_options()),
    )
    labels = [schedule_label(s) for s in schedules]
    results = _base_results(config, ctx, prepared)
    results.update(_result_dict(result))
    results["schedule_labels"] = labels
    sweep_table = SweepTable(
        models=list(result.models),
        labels=labels,
        expected=np.asarray(result.expected_score),
        stderr=np.asarray(result.stderr),
        drop=np.asarray(result.drop),
        relative_drop=np.asarray(result.relative_drop),
        drop_stderr=np.asarray(result.drop_stderr),
        risk_profile=[str(r) for r in result.risk_profile],
        risk_residual=np.asarray(result.risk_residual),
    )
    return _sweep_output(
        "sweep",
        config,
        ctx,
        prepared,
        sweep_table,
        results,
        se_note="The schedules share their random numbers, so the drop's SE is paired.",
    )


def run_bootstrap(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=bootstrap: E[S] with intervals from resampling the table (csd.bootstrap)."""
    prepared = prepare_table(config.data, config.seed)
    tiers = None if prepared.tiers is None else list(prepared.tiers.values())
    schedule, result = _computed(
        "bootstrap",
        config,
        prepared,
        lambda table, schedule, bar: csd.bootstrap(
            table,
            n_boot=config.bootstrap.n_boot,
            scheme=config.bootstrap.scheme,
            interval=config.bootstrap.interval,
            tiers=tiers,
            score_stderr=config.bootstrap.score_stderr,
            n_items=config.bootstrap.n_items,
            coverage=config.bootstrap.coverage,
            elimination=schedule,
            progress=bar,
            **config.engine_options(),
        ),
    )
    results = _base_results(config, ctx, prepared)
    results.update(_result_dict(result))
    order = np.lexsort((np.arange(len(result.models)), -np.asarray(result.expected_score)))
    header = ["rank", "model", "expected_score", "ci_low", "ci_high", "rank_low", "rank_high", "tier"]
    rows = [
        [
            results["rank"][m],
            result.models[m],
            result.expected_score[m],
            result.ci_low[m],
            result.ci_high[m],
            result.rank_low[m],
            result.rank_high[m],
            result.tiers[m],
        ]
        for m in order
    ]
    coverage = f"{100 * result.coverage:g}%"
    plots = [
        Plot(
            "bootstrap.png",
            f"E[S] and its {coverage} bootstrap interval over {result.n_boot} replicates, by tier "
            "(models whose rank intervals overlap)",
            lambda p: plot_module.plot_bootstrap(
                list(result.models),
                result.expected_score,
                result.ci_low,
                result.ci_high,
                p,
                tiers=result.tiers,
                rank_low=result.rank_low,
                rank_high=result.rank_high,
                xlabel=f"E[S] (dot) and its {coverage} bootstrap interval over {result.n_boot} "
                f"replicates (bar); rank: its {coverage} rank interval",
                title=f"Bootstrap intervals ({config.bootstrap.scheme}) and tiers",
            ),
        )
    ]
    return _table_output(
        "bootstrap",
        config,
        ctx,
        prepared,
        results,
        to_csv(header, rows),
        result.format_table(),
        f"B = {config.bootstrap.n_boot} replicates ({config.bootstrap.scheme}) x N = {config.n_runs:,} runs, "
        f"elimination {schedule_label(schedule)}; {_rules(config)}",
        plots,
    )


def run_compare(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=compare: CSD next to the static baselines (csd.compare)."""
    prepared = prepare_table(config.data, config.seed)
    schedule, result = _computed(
        "compare",
        config,
        prepared,
        lambda table, schedule, bar: csd.compare(
            table, methods=config.compare.methods, elimination=schedule, progress=bar, **config.engine_options()
        ),
    )
    results = _base_results(config, ctx, prepared)
    results.update(_result_dict(result))
    methods = list(result.scores)
    header = ["model"] + [f"{kind}[{method}]" for method in methods for kind in ("score", "rank")]
    rows = [
        [name] + [v for method in methods for v in (result.scores[method][m], result.ranks[method][m])]
        for m, name in enumerate(result.models)
    ]
    plots = [
        Plot(
            "bump.png",
            "Rank of each model under each method",
            lambda p: plot_module.plot_bump(list(result.models), result.ranks, p),
        )
    ]
    return _table_output(
        "compare",
        config,
        ctx,
        prepared,
        results,
        to_csv(header, rows),
        result.format_table(),
        f"methods: {', '.join(methods)}; N = {config.n_runs:,} runs, elimination "
        f"{schedule_label(schedule)}; {_rules(config)}",
        plots,
    )


def run_outlier(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=outlier: how far one model's rank moves when some of its scores are set to a
    value, under each method (csd.outlier_test)."""
    prepared = prepare_table(config.data, config.seed)
    schedule, result = _computed(
        "outlier",
        config,
        prepared,
        lambda table, schedule, bar: csd.outlier_test(
            table,
            config.outlier.model,
            benchmarks=config.outlier.benchmarks,
            value=config.outlier.value,
            elimination=schedule,
            progress=bar,
            **config.engine_options(),
        ),
    )
    results = _base_results(config, ctx, prepared)
    results.update(_result_dict(result))
    header = ["method", "rank_before", "rank_after", "shift", "score_before", "score_after"]
    rows = [
        [
            method,
            result.rank_before[method],
            result.rank_after[method],
            result.shift[method],
            result.score_before[method],
            result.score_after[method],
        ]
        for method in result.rank_before
    ]
    return _table_output(
        "outlier",
        config,
        ctx,
        prepared,
        results,
        to_csv(header, rows),
        result.format_table(),
        f"model {config.outlier.model!r}, benchmarks {config.outlier.benchmarks or 'default'} "
        f"set to {config.outlier.value}; N = {config.n_runs:,} runs, elimination "
        f"{schedule_label(schedule)}; {_rules(config)}",
    )


def run_collect(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=collect: merges the simulate runs of a multirun folder (one schedule each) into
    one sweep table: E[S] per schedule and the drop against the first job's schedule."""
    root = Path(config.dir).expanduser().resolve()
    if not root.is_dir():
        raise InputError(f"dir={config.dir!r}: no such folder")
    runs = []
    for path in sorted(root.rglob("results.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise InputError(f"{path}: cannot read it as JSON: {err}") from None
        if isinstance(data, dict) and data.get("mode") == "simulate":
            runs.append((path, _check_run(path, data)))
    if not runs:
        raise InputError(f"dir={config.dir!r}: no results.json of a mode=simulate run under {root}")
    runs.sort(key=lambda item: (item[1]["job"]["num"] is None, item[1]["job"]["num"] or 0, str(item[0])))
    (first_path, first), labels = runs[0], []
    for path, data in runs:
        for key in ("models", "rounds"):
            if data[key] != first[key]:
                raise InputError(
                    f"{path}: its {key} differ from those of {first_path}; collect merges runs on one table"
                )
        label = schedule_label(data["simulation"]["elimination"])
        if label in labels:
            twin = runs[labels.index(label)][0]
            raise InputError(
                f"{path} and {twin} both ran {label}; collect merges runs that differ in their "
                "elimination schedule (one run per schedule)"
            )
        labels.append(label)
    expected = np.array([data["expected_score"] for _, data in runs], dtype=float)  # (S, M)
    stderr = np.array([data["stderr"] for _, data in runs], dtype=float)  # (S, M)
    drop = expected - expected[0]
    drop_stderr = np.sqrt(stderr**2 + stderr[0] ** 2)
    drop_stderr[0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected[0] != 0, drop / expected[0], np.nan)
    differing = _differing_options([data["config"] for _, data in runs])
    results = {
        "mode": "collect",
        "csd_version": _version(),
        "config": config.to_dict(),
        "job": {"overrides": list(ctx.overrides), "num": ctx.job_num},
        "dir": str(root),
        "runs": [
            {
                "path": str(path.relative_to(root)),
                "schedule": label,
                "overrides": data["job"]["overrides"],
                "n_runs": data["n_runs"],
                "seed": data["config"]["seed"],
            }
            for (path, data), label in zip(runs, labels)
        ],
        "table": first["table"],
        "models": first["models"],
        "rounds": first["rounds"],
        "schedules": labels,
        "elimination": [data["simulation"]["elimination"] for _, data in runs],
        "n_runs": [data["n_runs"] for _, data in runs],
        "expected_score": expected,
        "stderr": stderr,
        "rank": np.array([places(row) for row in expected]),
        "drop": drop,
        "relative_drop": relative,
        "drop_stderr": drop_stderr,
        "drop_stderr_method": "independent: sqrt(se_a^2 + se_b^2)",
        "differing_options": differing,
    }
    prepared_info = first["table"]
    summary_extra = [
        f"merged {len(runs)} run(s) from `{root}`: "
        + ", ".join(f"{label} ({path.parent.name})" for (path, _), label in zip(runs, labels))
    ]
    if differing:
        summary_extra.append("the runs also differ in: " + ", ".join(differing))
    profiles, residual = risk_profiles(expected[0], drop[-1], drop_stderr[-1], z=3.0, spread=1.0)
    results["risk_profile"] = list(profiles)
    sweep_table = SweepTable(
        first["models"], labels, expected, stderr, drop, relative, drop_stderr, list(profiles), residual
    )
    return _sweep_output(
        "collect",
        config,
        ctx,
        prepared_info,
        sweep_table,
        results,
        se_note=DROP_SE_INDEPENDENT,
        summary_extra=summary_extra,
    )


def run_report(config: RunConfig, ctx: Context) -> RunOutput:
    """mode=report: the paper's whole analysis (`csd.report`), written into ctx.out_dir:
    report.md, results.json and the figures. The rounds are ordered as `data` says; the
    sizes are `report.*`; the pairing options are the config's."""
    data = config.data
    given = prepare_table(dataclasses.replace(data, order="given", tiers=None), config.seed)
    options = {k: v for k, v in config.engine_options().items() if k not in ("n_runs", "seed")}
    log = (lambda line: print(f"  {line}", file=sys.stderr, flush=True)) if config.progress else None
    sizes = dataclasses.asdict(config.report)
    report = csd.report(given.table, out_dir=ctx.out_dir, order=data.order, tiers=_tiers_source(data),
                        tier_order=data.tier_order, name=given.name, seed=config.seed, progress=log,
                        command=ctx.command(), **sizes, **options)
    table = report.analysis.table
    terminal = (f"csd-run report: {given.name} ({len(table.models)} models x {len(table.benchmarks)} benchmarks)\n"
                + report.analysis.ranking.format_table(top=config.top))
    return RunOutput(report.to_dict(), "", "csd-run: report", [], report.markdown, terminal, written=report.files)


MODES: dict[str, Callable[[RunConfig, Context], RunOutput]] = {
    "simulate": run_simulate,
    "sweep": run_sweep,
    "bootstrap": run_bootstrap,
    "compare": run_compare,
    "outlier": run_outlier,
    "collect": run_collect,
    "report": run_report,
}


# ---------------------------------------------------------------------------- helpers


def _computed(mode: str, config: RunConfig, prepared: PreparedTable, call):
    """(schedule, `call(table, schedule, progress_bar)`): the config's elimination schedule
    checked against the table, and a progress bar closed however the call ends."""
    schedule = config.elimination.schedule(len(prepared.table.benchmarks))
    bar = ProgressBar(mode, enabled=config.progress)
    try:
        return schedule, call(prepared.table, schedule, bar)
    finally:
        bar.close()


def _sweep_output(
    mode: str,
    config: RunConfig,
    ctx: Context,
    prepared: PreparedTable | dict,
    sweep: SweepTable,
    results: dict,
    se_note: str,
    summary_extra: Sequence[str] = (),
) -> RunOutput:
    """The outputs of a sweep table: E[S] per schedule and the drop against the first.
    `prepared` is the table, or (mode=collect) the table's description a run recorded."""
    models, labels, expected, stderr = sweep.models, sweep.labels, sweep.expected, sweep.stderr
    drop, relative, drop_stderr, risk_profile = (
        sweep.drop,
        sweep.relative_drop,
        sweep.drop_stderr,
        sweep.risk_profile,
    )
    order = np.lexsort((np.arange(len(models)), -expected[0]))
    base = labels[0]
    header = ["rank", "model"]
    for s, label in enumerate(labels):
        header += [f"expected_score[{label}]", f"stderr[{label}]"]
        if s:
            header += [f"drop[{label}]", f"relative_drop[{label}]", f"drop_stderr[{label}]"]
    if risk_profile is not None:
        header.append("risk_profile")
    rows, shown = [], []
    for place, m in enumerate(order, start=1):
        row, cells = [place, models[m]], [str(place), models[m]]
        for s in range(len(labels)):
            row += [expected[s, m], stderr[s, m]]
            cells.append(f"{expected[s, m]:.3f} ± {stderr[s, m]:.3f}")
            if s:
                row += [drop[s, m], relative[s, m], drop_stderr[s, m]]
                cells.append(f"{drop[s, m]:+.3f} ± {drop_stderr[s, m]:.3f}")
        if risk_profile is not None:
            row.append(risk_profile[m])
            cells.append(str(risk_profile[m]))
        rows.append(row)
        shown.append(cells)
    columns = ["rank", "model"]
    for s, label in enumerate(labels):
        columns.append(f"E[S] {label}")
        if s:
            columns.append(f"drop {label}")
    if risk_profile is not None:
        columns.append("profile")
    align = (
        "rl"
        + "r" * (len(columns) - 2 - (risk_profile is not None))
        + ("l" if risk_profile is not None else "")
    )
    if isinstance(prepared, PreparedTable):
        summary = _summary(config, ctx, prepared)
        what = _headline(mode, config, prepared, f"N={config.n_runs:,}, " + ", ".join(labels))
    else:  # collect: the table as the runs recorded it
        summary = [f"command: `{ctx.command()}`", f"table: {_table_line(prepared)}"]
        what = f"csd-run {mode}: {prepared['name']}, " + ", ".join(labels)
    summary += list(summary_extra)
    summary.append(f"{_rules(config)}" if mode != "collect" else "rules: as recorded by each run")
    body = (
        f"## Sweep table (ranked by E[S] under {base})\n\n"
        + markdown_table(columns, shown, align)
        + f"\n\nE[S] ± SE per schedule; drop = E[S | schedule] - E[S | {base}] ± its SE. {se_note}"
    )
    plots = []
    named, named_what = _risk_labels(sweep)
    if len(labels) > 1:
        plots = [
            Plot(
                "risk_profile.png",
                f"Drop at {labels[-1]} against E[S] at {base}"
                + ("" if risk_profile is None else ", coloured by risk profile")
                + ("" if named is None else f"; named: {named_what}"),
                lambda p: plot_module.plot_risk_profile(
                    list(models),
                    expected[0],
                    drop[-1],
                    p,
                    drop_stderr=drop_stderr[-1],
                    labels=named,
                    profiles=risk_profile,
                    schedule=labels[-1],
                ),
            ),
            Plot(
                "expected_scores.png",
                "E[S] per schedule",
                lambda p: plot_module.plot_expected_scores(list(models), labels, expected, stderr, p),
            ),
        ]
    terminal = what + "\n" + text_table(columns, shown[: config.top], align)
    return RunOutput(results, to_csv(header, rows), f"csd-run: {mode}", summary, body, terminal, plots)


RISK_LABELS_ALL = 25  # up to this many models, the risk plot names them all
RISK_LABELS_TOP, RISK_LABELS_PER_PROFILE = 3, 5


def _risk_labels(sweep: SweepTable) -> tuple[list[str] | None, str]:
    """The models the risk plot names (None: all) and how to say which: with many models,
    the best few at the first schedule and the most extreme of each flagged profile."""
    models = list(sweep.models)
    if len(models) <= RISK_LABELS_ALL:
        return None, ""
    order = np.lexsort((np.arange(len(models)), -sweep.expected[0]))
    named = [models[m] for m in order[:RISK_LABELS_TOP]]
    what = f"the top {RISK_LABELS_TOP}"
    if sweep.risk_profile is not None and sweep.risk_residual is not None:
        extreme = np.argsort(-np.abs(sweep.risk_residual), kind="stable")
        for profile in ("robust generalist", "aggressive specialist"):
            members = [m for m in extreme if sweep.risk_profile[m] == profile]
            named += [models[m] for m in members[:RISK_LABELS_PER_PROFILE]]
        what += f" and the {RISK_LABELS_PER_PROFILE} most extreme robust generalists and aggressive specialists"
    return list(dict.fromkeys(named)), what


def _table_output(mode, config, ctx, prepared, results, csv_text, table_text, line, plots=()) -> RunOutput:
    """The outputs of a mode whose result formats its own table."""
    summary = _summary(config, ctx, prepared) + [line]
    body = "## Result\n\n```\n" + table_text + "\n```"
    terminal = _headline(mode, config, prepared, "") + "\n" + table_text
    return RunOutput(results, csv_text, f"csd-run: {mode}", summary, body, terminal, list(plots))


def _check_schedule(schedule, n_rounds: int, key: str):
    if isinstance(schedule, tuple) and len(schedule) != n_rounds:
        raise InputError(
            f"{key} has {len(schedule)} entries but the table has {n_rounds} rounds; give {n_rounds} ints"
        )
    return schedule


def _check_run(path: Path, data: dict) -> dict:
    needed = (
        "models",
        "rounds",
        "expected_score",
        "stderr",
        "simulation",
        "config",
        "job",
        "n_runs",
        "table",
    )
    lacking = [key for key in needed if key not in data]
    if lacking:
        raise InputError(f"{path}: not a csd-run simulate result (no {', '.join(lacking)})")
    return data


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


def _result_dict(result) -> dict:
    """`result.to_dict()`, its own `config` renamed `method_config` (the run's config is `config`)."""
    data = dict(result.to_dict())
    if "config" in data:
        data["method_config"] = data.pop("config")
    return data


def _base_results(config: RunConfig, ctx: Context, prepared: PreparedTable) -> dict:
    return {
        "mode": config.mode,
        "csd_version": _version(),
        "config": config.to_dict(),
        "job": {"overrides": list(ctx.overrides), "num": ctx.job_num},
        "table": _table_info(config, prepared),
    }


def _table_info(config: RunConfig, prepared: PreparedTable) -> dict:
    table = prepared.table
    return {
        "name": prepared.name,
        "source": table.source,
        "n_models": len(table.models),
        "n_benchmarks": len(table.benchmarks),
        "rounds": list(table.benchmarks),
        "order": config.data.order,
        "tier_order": config.data.tier_order,
        "tiers": prepared.tiers,
        "missing_policy": table.missing_policy,
        "n_missing": table.n_missing,
        "dropped": list(table.dropped),
        "missing_report": table.missing_report(),
    }


def _table_line(info: dict) -> str:
    return (
        f"{info['name']} (`{info['source']}`), {info['n_models']} models x {info['n_benchmarks']} "
        f"benchmarks; {info['missing_report']}"
    )


def _summary(config: RunConfig, ctx: Context, prepared: PreparedTable) -> list[str]:
    info = _table_info(config, prepared)
    if prepared.tiers:
        rounds = "; ".join(f"{tier}: {', '.join(b)}" for tier, b in prepared.tiers.items())
        tier_order = "in the tiers file's order" if config.data.tier_order == "given" else "the easiest tier first"
        where = f"inside {len(prepared.tiers)} tiers, {tier_order}"
        rounds = f"rounds (order `{config.data.order}` {where}): {rounds}"
    else:
        rounds = f"rounds (order `{config.data.order}`): {', '.join(info['rounds'])}"
    return [f"command: `{ctx.command()}`", f"table: {_table_line(info)}", rounds]


def _headline(mode: str, config: RunConfig, prepared: PreparedTable, extra: str) -> str:
    table = prepared.table
    text = (
        f"csd-run {mode}: {prepared.name} ({len(table.models)} models x {len(table.benchmarks)} "
        f"benchmarks; {table.missing_report()})"
    )
    return text + (f"; {extra}" if extra else "")


def _rules(config: RunConfig) -> str:
    p = config.pairing
    options = [f"bye `{p.bye}`"] if p.bye is not None else []
    options += [name for name in ("bye_once", "avoid_rematch") if getattr(p, name)]
    extra = "".join(f", {option}" for option in options)
    return f"pairing `{p.rule}`, tie `{p.tie}`, bye {p.bye_points:g}, draw {p.draw_points:g}{extra}"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("csd-swiss")
    except metadata.PackageNotFoundError:
        return "unknown"
