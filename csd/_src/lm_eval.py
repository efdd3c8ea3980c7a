"""Reading the output folder of EleutherAI's lm-evaluation-harness into a score table.

The harness writes one `results_<date>.json` per run (`<output_path>/<model>/results_
2024-05-01T12-30-45.123456.json`). Each holds `results`: {task: {"alias": ..., "acc,none":
0.61, "acc_stderr,none": 0.01, ...}}, the model's name in `model_name` (or in
`config.model_args`, as `pretrained=...`) and the run's start time in `date` (seconds since
the epoch). Each task becomes a benchmark, each model a row, and the metric's stderr the
cell's standard error.

Groups: `group_subtasks` ({"mmlu": ["mmlu_humanities", ...], "mmlu_humanities":
["mmlu_formal_logic", ...], "arc_easy": []}) says which entries of `results` are groups
(their aggregate over the subtasks) and which are subtasks. `tasks="groups"` plays the
entries in no group that has a score of its own (each group once, as its aggregate);
`tasks="subtasks"` plays every entry that is not a group; `benchmarks=` may name any entry.

Directions: `higher_is_better` ({"wikitext": {"word_perplexity": false, ...}}) says, per
task and metric, whether higher is better; the metrics it marks false are negated (by
`load_table`, with a note). A file without it: a metric whose name holds one of
`LOWER_IS_BETTER_WORDS` (perplexity, bits_per_byte, loss, error, latency) is taken as
lower-is-better, with a note; `load_table(higher_is_better=...)` overrides either.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
from typing import Mapping

import numpy as np

from csd._src.errors import InputError
from csd._src.readers import RawTable, choose_columns, looks_lower_is_better, read_bounded

TASK_LEVELS = ("groups", "subtasks", "all")

_NAME_DATE = re.compile(r"results_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)", re.ASCII)
# The keys of model_args that name the model, in the order the harness tries them.
_MODEL_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")


def read_lm_eval(folder: str, metric=None, tasks: str = "groups", benchmarks=None, drop=()) -> RawTable:
    """The (models x tasks) table of the harness's results files under `folder`.

    Args:
      folder: searched recursively for `results_*.json`.
      metric: None (each task's first metric in the file's order), one metric name for
        every task (`acc` or the full key `acc,none`), or {task: name}.
      tasks: which entries are played by default: `groups`, `subtasks` or `all` (above).
      benchmarks, drop: the entries played, in order, or left out (`choose_columns`).
    """
    if not os.path.isdir(folder):
        raise InputError(f"{folder}: format='lm-eval' reads a folder of results_*.json files; this is not a folder")
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.startswith("results_") and name.endswith(".json")
    )
    if not paths:
        raise InputError(
            f"{folder}: no results_*.json file found (searched recursively); give the harness's --output_path"
        )
    runs = [_read_run(path) for path in paths]
    entries = list(dict.fromkeys(task for run in runs for task in run["results"]))
    set_aside = _set_aside(runs, entries, tasks)
    chosen, choice_notes = choose_columns(entries, folder, benchmarks, drop, set_aside)
    keys = _metric_keys(folder, runs, entries, chosen, metric)
    lower, direction_notes = _directions(runs, keys)
    merged, notes = _merge_by_model(runs)
    models = tuple(merged)
    scores = np.full((len(models), len(chosen)), np.nan)
    stderr = np.full_like(scores, np.nan)
    for m, model in enumerate(models):
        for k, task in enumerate(chosen):
            if task in merged[model]:
                path, values = merged[model][task]
                scores[m, k], stderr[m, k] = _metric_value(path, task, values, keys[task])
    notes = [
        f"lm-eval: {len(paths)} results file(s), {len(models)} model(s), {len(chosen)} task(s)",
        "metrics: " + ", ".join(f"{task} {key!r}" for task, key in keys.items()),
    ] + choice_notes + direction_notes + notes
    unknown = int((np.isnan(stderr) & ~np.isnan(scores)).sum())
    if unknown:
        notes.append(f"stderr unknown in {unknown} cell(s)")
    return RawTable(
        models, tuple(chosen), scores, stderr, tuple(f"model {m!r}" for m in models), tuple(notes),
        lower_is_better=lower,
    )


def _read_run(path: str) -> dict:
    """{"path", "model", "time" (a datetime or None), "results" {task: {key: value}},
    "higher" {task: {metric: bool}}, "subtasks" {group: [tasks]}}."""
    try:
        data = json.loads(read_bounded(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InputError(f"{path}: cannot read the results file: {err}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), Mapping):
        raise InputError(f"{path}: not an lm-evaluation-harness results file (no 'results' object)")
    for task, values in data["results"].items():
        if not isinstance(values, Mapping):
            raise InputError(f"{path}: results[{task!r}] is not an object of metrics")
    return {
        "path": path, "model": _model_name(path, data), "time": _run_time(path, data), "results": data["results"],
        "higher": _mapping_of(data.get("higher_is_better"), Mapping), "subtasks": _mapping_of(data.get("group_subtasks"), list),
    }


def _mapping_of(value, kind) -> dict:
    """The entries of a JSON object whose values are of `kind` ({} if it is not an object)."""
    return {key: item for key, item in value.items() if isinstance(item, kind)} if isinstance(value, Mapping) else {}


def _set_aside(runs: list[dict], entries: list[str], tasks: str) -> dict[str, str]:
    """{entry: why it is not played by default} for the level `tasks` (`TASK_LEVELS`)."""
    subtasks: dict[str, set[str]] = {}
    for run in runs:
        for group, members in run["subtasks"].items():
            subtasks.setdefault(group, set()).update(str(member) for member in members)
    scored = {task for run in runs for task, values in run["results"].items() if _metric_names(values)}
    aside = {task: "groups without a score of their own" for task in entries if task not in scored}
    if tasks == "groups":
        # An entry is played unless a group above it has a score of its own.
        parents: dict[str, list[str]] = {}
        for group, members in subtasks.items():
            for member in members:
                parents.setdefault(member, []).append(group)
        for task in entries:
            if task not in aside and _has_scored_ancestor(task, parents, scored):
                aside[task] = "subtasks of a group whose score is played"
    elif tasks == "subtasks":
        for task in entries:
            if task not in aside and subtasks.get(task):
                aside[task] = "groups (their subtasks are played)"
    return aside


def _has_scored_ancestor(task: str, parents: Mapping[str, list[str]], scored: set[str]) -> bool:
    seen, frontier = set(), list(parents.get(task, ()))
    while frontier:
        group = frontier.pop()
        if group in seen:
            continue
        if group in scored:
            return True
        seen.add(group)
        frontier += parents.get(group, ())
    return False


def _directions(runs: list[dict], keys: Mapping[str, str]) -> tuple[tuple[str, ...], list[str]]:
    """(the tasks whose metric is lower-is-better, notes): from the files'
    `higher_is_better`, else from the metric's name."""
    lower, stated, guessed, assumed = [], [], [], []
    for task, key in keys.items():
        name = key.split(",")[0]
        said = {run["path"]: run["higher"][task][name] for run in runs
                if isinstance(run["higher"].get(task, {}).get(name), bool)}
        if len(set(said.values())) > 1:
            first, second = (next(path for path, value in said.items() if value is flag) for flag in (True, False))
            raise InputError(
                f"{first}: higher_is_better says {name!r} of task {task!r} is higher-is-better, but {second} "
                "says lower; fix the older file or choose with lower_is_better= / higher_is_better="
            )
        is_lower = (not next(iter(said.values()))) if said else looks_lower_is_better(name)
        if is_lower:
            lower.append(task)
            (stated if said else guessed).append(f"{task} {key!r}")
        elif not said:
            assumed.append(task)
    notes = []
    if stated:
        notes.append("lower is better by the files' higher_is_better: " + ", ".join(stated))
    if guessed:
        notes.append(
            "lower is better by the metric's name (no higher_is_better in the files; override with "
            "higher_is_better=): " + ", ".join(guessed)
        )
    if assumed:
        notes.append("higher is better by assumption (no higher_is_better in the files): " + ", ".join(assumed))
    return tuple(lower), notes


def _model_name(path: str, data: Mapping) -> str:
    """`model_name`, else the model named in `config.model_args` (`pretrained=...`)."""
    name = data.get("model_name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    args = (data.get("config") or {}).get("model_args") if isinstance(data.get("config"), Mapping) else None
    if isinstance(args, str):
        args = dict(part.split("=", 1) for part in args.split(",") if "=" in part)
    if isinstance(args, Mapping):
        for key in _MODEL_KEYS:
            if isinstance(args.get(key), str) and args[key].strip():
                return args[key].strip()
    raise InputError(f"{path}: no model name: set 'model_name', or 'pretrained=...' in config.model_args")


def _run_time(path: str, data: Mapping) -> datetime.datetime | None:
    """When the run was made: the date in the file name, else the `date` field."""
    match = _NAME_DATE.search(os.path.basename(path))
    if match:
        text = match.group(1)
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H-%M-%S.%f" if "." in text else "%Y-%m-%dT%H-%M-%S")
    date = data.get("date")
    if _is_finite_number(date):
        return datetime.datetime.fromtimestamp(date)
    return None


def _merge_by_model(runs: list[dict]) -> tuple[dict, list[str]]:
    """{model: {task: (path, metrics)}} with the newest run winning each task; and notes."""
    by_model: dict[str, list[dict]] = {}
    for run in runs:
        by_model.setdefault(run["model"], []).append(run)
    merged, notes = {}, []
    for model, model_runs in by_model.items():
        if len(model_runs) > 1:
            undated = [run["path"] for run in model_runs if run["time"] is None]
            if undated:
                raise InputError(
                    f"{undated[0]}: model {model!r} has {len(model_runs)} results files and this one has no "
                    "date (neither results_<date>.json nor a 'date' field); remove the older files"
                )
            model_runs = sorted(model_runs, key=lambda run: run["time"])
        merged[model], replaced = {}, []
        for run in model_runs:  # oldest first, so the newer overwrite
            replaced += [task for task in run["results"] if task in merged[model]]
            merged[model].update({task: (run["path"], values) for task, values in run["results"].items()})
        if len(model_runs) > 1:
            wins = f"; the newer win for {', '.join(dict.fromkeys(replaced))}" if replaced else ""
            notes.append(
                f"model {model!r}: {len(model_runs)} results files merged, newest "
                f"{os.path.basename(model_runs[-1]['path'])}{wins}"
            )
    return merged, notes


def _metric_keys(folder: str, runs: list[dict], entries: list[str], tasks, metric) -> dict[str, str]:
    """{task: the metric key read} for the `tasks` played, from `metric` or each task's
    first metric (`metric` may name any of the `entries`)."""
    if metric is not None and not isinstance(metric, (str, Mapping)):
        raise InputError(f"metric={metric!r} must be a metric name (e.g. 'acc') or {{task: name}}")
    if isinstance(metric, Mapping):
        unknown = [task for task in metric if task not in entries]
        if unknown:
            raise InputError(f"metric: no task {unknown[0]!r} in {folder}; the tasks are {entries}")
    keys = {}
    for task in tasks:
        wanted = metric.get(task) if isinstance(metric, Mapping) else metric
        path, values = next((run["path"], run["results"][task]) for run in runs if task in run["results"])
        metrics = _metric_names(values)
        found = metrics if wanted is None else [key for key in metrics if wanted in (key, key.split(",")[0])]
        if not found:
            what = "no metric" if wanted is None else f"no metric {wanted!r}"
            raise InputError(f"{path}: task {task!r} has {what}; its metrics are {metrics}; choose one with metric=")
        keys[task] = found[0]
    return keys


def _metric_names(values: Mapping) -> list[str]:
    """The metric keys of one task in the file's order (no alias, no stderr)."""
    return [
        key for key, value in values.items()
        if key != "alias" and "_stderr" not in key.split(",")[0] and not isinstance(value, (str, Mapping, list))
    ]


def _metric_value(path: str, task: str, values: Mapping, key: str) -> tuple[float, float]:
    """(score, stderr) of `key` in one task's metrics; stderr NaN when absent or "N/A"."""
    if key not in values:
        raise InputError(
            f"{path}: task {task!r} has no metric {key!r} (other models have it); its metrics are "
            f"{_metric_names(values)}; choose one every file has with metric="
        )
    score = values[key]
    if not _is_finite_number(score):
        raise InputError(f"{path}: task {task!r}, {key!r}: {score!r} is not a finite number")
    name, _, filter_name = key.partition(",")
    stderr = values.get(f"{name}_stderr,{filter_name}" if filter_name else f"{name}_stderr")
    return float(score), float(stderr) if _is_finite_number(stderr) and stderr >= 0 else math.nan


def _is_finite_number(value) -> bool:
    """Whether a JSON value is a finite number (not a bool, a string or null)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
