"""Score tables: loading one (a text file, an lm-eval folder, a DataFrame or an array),
checking it, setting its direction and applying a missing-score policy.

A score table holds M models (rows) by K benchmarks (columns); higher is better, and the
column order is the order of the tournament's rounds.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Sequence

import numpy as np

from csd._src.datasets import in_shipped_order
from csd._src.errors import InputError, check_choice
from csd._src.lm_eval import TASK_LEVELS, read_lm_eval
from csd._src.readers import (
    TABLE_FORMATS, RawTable, check_unique, choose_columns, is_dataframe, is_spreadsheet, looks_lower_is_better,
    read_array, read_dataframe, read_spreadsheet, read_text_table,
)

MISSING_POLICIES = ("loss", "drop-model", "drop-benchmark", "error")
# The largest score magnitude accepted: means, sums and min-max spreads over up to 1e7
# cells of such scores stay finite in float64.
MAX_ABS_SCORE = 1e300


@dataclasses.dataclass(frozen=True, eq=False)
class ScoreTable:
    """M models by K benchmarks, higher is better, columns in round order.

    Attributes:
      models: (M,) model names, unique.
      benchmarks: (K,) benchmark names, unique, in round order.
      scores: (M, K) float64, each within +-MAX_ABS_SCORE (1e300); NaN marks a missing score
        (kept only under `missing="loss"`).
      source: where the table came from (a path, or a description).
      missing_policy: the policy applied, one of `MISSING_POLICIES`.
      n_missing: missing cells in the source before the policy was applied.
      dropped: names of the models (`drop-model`) or benchmarks (`drop-benchmark`) removed.
      stderr: None, or (M, K) float64 standard errors of the scores (from a long table's
        stderr column or lm-eval), NaN where unknown; `bootstrap(scheme="noise")` uses them.
      notes: what loading detected or changed (delimiter, format, percent signs, merged
        files, flipped columns, ...), one short line each, for results and reports.
      flipped: the benchmarks read as lower-is-better and negated (`lower_is_better`).

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b"), ("x", "y"), np.array([[1.0, 2.0], [3.0, 0.0]]))
      >>> table.shape
      (2, 2)
    """

    models: tuple[str, ...]
    benchmarks: tuple[str, ...]
    scores: np.ndarray
    source: str = "<array>"
    missing_policy: str = "loss"
    n_missing: int = 0
    dropped: tuple[str, ...] = ()
    stderr: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    flipped: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        object.__setattr__(self, "benchmarks", tuple(str(b) for b in self.benchmarks))
        scores = _real_scores(self.source, self.models, self.benchmarks, self.scores)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "flipped", tuple(self.flipped))
        check_choice("missing", self.missing_policy, MISSING_POLICIES)
        if scores.ndim != 2 or scores.shape != (len(self.models), len(self.benchmarks)):
            raise InputError(
                f"{self.source}: scores have shape {scores.shape}, expected "
                f"({len(self.models)} models, {len(self.benchmarks)} benchmarks)"
            )
        if np.isinf(scores).any():
            m, k = np.argwhere(np.isinf(scores))[0]
            raise InputError(
                f"{self.source}: model {self.models[m]!r}, benchmark "
                f"{self.benchmarks[k]!r}: score is infinite"
            )
        too_large = np.abs(np.nan_to_num(scores)) > MAX_ABS_SCORE
        if too_large.any():
            m, k = np.argwhere(too_large)[0]
            raise InputError(
                f"{self.source}: model {self.models[m]!r}, benchmark {self.benchmarks[k]!r}: score "
                f"{scores[m, k]:g} is beyond +-{MAX_ABS_SCORE:g} (sums and spreads of such scores "
                "overflow); rescale the column"
            )
        check_unique(self.models, "model", self.source)
        check_unique(self.benchmarks, "benchmark", self.source)
        if len(self.models) < 2:
            raise InputError(f"{self.source}: a tournament needs at least 2 models, found {len(self.models)}")
        if len(self.benchmarks) < 1:
            raise InputError(f"{self.source}: the table has no benchmark column")
        if self.missing_policy != "loss" and np.isnan(scores).any():
            raise InputError(f"{self.source}: missing scores remain under policy {self.missing_policy!r}")
        if self.stderr is not None:
            object.__setattr__(self, "stderr", _checked_stderr(self.source, self.stderr, scores.shape))

    @classmethod
    def from_dataframe(
        cls,
        frame,
        missing: str = "loss",
        *,
        format: str = "auto",
        lower_is_better: Sequence[str] = (),
        higher_is_better: Sequence[str] = (),
        benchmarks: Sequence[str] | None = None,
        drop: Sequence[str] = (),
    ) -> "ScoreTable":
        """The table of a pandas DataFrame: wide (index, or a `model` column, = models;
        columns = benchmarks) or long (columns model, benchmark, score[, stderr]).
        The options are those of `load_table`.

        Example:
          >>> import pandas as pd, csd
          >>> frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 0.0]}, index=["a", "b"])
          >>> csd.ScoreTable.from_dataframe(frame).shape
          (2, 2)
        """
        if not is_dataframe(frame):
            raise InputError(f"from_dataframe: frame is a {type(frame).__name__}; give a pandas DataFrame")
        return load_table(
            frame, missing, format=format, lower_is_better=lower_is_better, higher_is_better=higher_is_better,
            benchmarks=benchmarks, drop=drop,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(M, K): models by benchmarks."""
        return self.scores.shape

    def mean_scores(self) -> np.ndarray:
        """(M,) each model's mean over its present scores (the static ranking)."""
        present = ~np.isnan(self.scores)
        total = np.where(present, self.scores, 0.0).sum(axis=1)
        return total / np.maximum(present.sum(axis=1), 1)

    def missing_report(self) -> str:
        """One line: how many cells were missing and what the policy did with them."""
        text = f"{self.n_missing} missing cell(s), policy {self.missing_policy!r}"
        if self.dropped:
            text += f", dropped {len(self.dropped)}: " + ", ".join(self.dropped)
        return text

    def with_benchmarks(self, benchmarks: Sequence[str]) -> "ScoreTable":
        """The table restricted to `benchmarks`, in that order (which becomes the round order).

        A name may repeat (bootstrap resampling does this); the copies get suffixes `#2`, ...
        """
        index = {name: k for k, name in enumerate(self.benchmarks)}
        unknown = [b for b in benchmarks if b not in index]
        if unknown:
            raise InputError(
                f"{self.source}: unknown benchmark(s) {unknown}; the table has {list(self.benchmarks)}"
            )
        columns = [index[b] for b in benchmarks]
        stderr = None if self.stderr is None else self.stderr[:, columns]
        return dataclasses.replace(
            self, benchmarks=_unique_names(benchmarks), scores=self.scores[:, columns], stderr=stderr
        )

    def with_models(self, rows: Sequence[int]) -> "ScoreTable":
        """The table restricted to the models at the (R,) indices `rows`, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        stderr = None if self.stderr is None else self.stderr[rows]
        return dataclasses.replace(self, models=tuple(self.models[m] for m in rows), scores=self.scores[rows],
                                   stderr=stderr, n_missing=int(np.isnan(self.scores[rows]).sum()))

    def with_scores(self, scores: np.ndarray) -> "ScoreTable":
        """The same table with new (M, K) scores (the standard errors are kept)."""
        return dataclasses.replace(self, scores=np.asarray(scores, dtype=np.float64))


def load_table(
    path,
    missing: str = "loss",
    *,
    format: str = "auto",
    lower_is_better: Sequence[str] = (),
    higher_is_better: Sequence[str] = (),
    metric=None,
    tasks: str = "groups",
    sheet: str | None = None,
    models: Sequence[str] | None = None,
    benchmarks: Sequence[str] | None = None,
    drop: Sequence[str] = (),
) -> ScoreTable:
    """Reads a score table, chooses its benchmarks, sets every column to higher-is-better
    and applies the missing-score policy. See docs/data.md for the formats.

    A text file is comma-, tab- or semicolon-separated (sniffed from the header). Wide: the
    column named `model` (else the first) holds the model names and every other column is a
    benchmark, in round order. Long: the columns model, benchmark, score and optionally
    stderr, one row per (model, benchmark); the first appearance of each benchmark sets the
    round order. Cells "N/A", "NA", "n/a", "-", "—" and empty ones are missing; the cell and
    column rules (text columns left out, aggregate columns such as `Average` not played,
    thousands separators) are in `csd._src.readers`. An .xlsx workbook is read the same way
    (`pip install 'csd-swiss[excel]'`). What was detected or changed is listed in
    `ScoreTable.notes`. Devices, FIFOs and files over 256 MiB are refused before reading.

    A table shipped with csd (`csd.shipped_table(name)`) comes in its shipped round order,
    the one `csd-run` plays: LiveBench by category, easiest first
    (`csd._src.datasets.in_shipped_order`).

    Args:
      path: a text file; an .xlsx workbook; a folder of lm-evaluation-harness
        `results_*.json` files; a pandas DataFrame (wide: index or a `model` column =
        models, columns = benchmarks; or long); or an (M, K) NumPy array with `models=` and
        `benchmarks=`.
      missing: `loss` (keep; a missing score loses to any present one and ties with another
        missing one), `drop-model`, `drop-benchmark` or `error`.
      format: `auto` (long if the header is model, benchmark, score[, stderr]; lm-eval for
        a folder; else wide), `wide`, `long` or `lm-eval`.
      lower_is_better: benchmark names whose scores are negated so that higher is better
        (perplexity, error rates); recorded in `ScoreTable.flipped`.
      higher_is_better: benchmark names played as they are, overriding the harness's
        `higher_is_better` or the lower-is-better guess from a metric's name.
      metric: for lm-eval, the metric read: one name (`acc` or `acc,none`) or {task: name};
        default, each task's first metric in the harness's order.
      tasks: for lm-eval, which entries are played: `groups` (each group's aggregate, and
        the tasks in no group), `subtasks` (every task that is not a group) or `all`.
      sheet: for a workbook, the sheet read (default: the first).
      models: the names of an array's rows.
      benchmarks: the benchmarks played, in this order (an aggregate column or a harness
        group or subtask may be named); for an array, the names of its columns.
      drop: benchmarks (or text columns) left out, e.g. a parameter count.

    Returns:
      A `ScoreTable`.

    Raises:
      InputError: naming the file, line and column (or the argument) of the first problem.

    Example:
      >>> import csd
      >>> table = csd.load_table(csd.shipped_table("livebench"))
      >>> table.shape
      (65, 21)
      >>> csd.load_table(csd.shipped_table("livebench"), benchmarks=["math_comp", "AMPS_Hard"]).shape
      (65, 2)
    """
    check_choice("missing", missing, MISSING_POLICIES)
    check_choice("format", format, TABLE_FORMATS)
    check_choice("tasks", tasks, TASK_LEVELS)
    lm_eval = format == "lm-eval" or (format == "auto" and _is_folder(path))
    if metric is not None and not lm_eval:
        raise InputError("metric= selects an lm-evaluation-harness metric; use it with format='lm-eval'", "metric")
    if tasks != "groups" and not lm_eval:
        raise InputError(
            "tasks= chooses an lm-evaluation-harness folder's groups or subtasks; use it with format='lm-eval'", "tasks"
        )
    if models is not None and not isinstance(path, np.ndarray):
        raise InputError("models= names the rows of a NumPy array; path is not one")
    if sheet is not None and not (isinstance(path, (str, os.PathLike)) and is_spreadsheet(os.fspath(path))):
        raise InputError(f"sheet={sheet!r} chooses a sheet of an .xlsx workbook; path is not one", "sheet")
    source, raw = _read(path, format, metric, tasks, sheet, models, benchmarks, drop)
    raw, flipped = _flip(source, raw, lower_is_better, higher_is_better)
    return in_shipped_order(_apply_missing_policy(source, raw, missing, flipped))


def _read(path, table_format: str, metric, tasks, sheet, models, benchmarks, drop) -> tuple[str, RawTable]:
    """(source, the table as read, restricted to the benchmarks played) for any input
    `load_table` accepts."""
    if is_dataframe(path):
        if table_format == "lm-eval":
            raise InputError("format='lm-eval' reads a folder; a DataFrame is wide or long")
        source, raw = "<DataFrame>", read_dataframe(path, table_format)
    elif isinstance(path, np.ndarray):
        # benchmarks= names the array's columns; only drop= chooses among them.
        source, raw, benchmarks = "<array>", read_array(path, models, benchmarks), None
    elif not isinstance(path, (str, os.PathLike)):
        raise InputError(
            f"load_table: path={_short_repr(path)} is not a table; give a CSV/TSV or .xlsx file, a folder of "
            "lm-eval results (format='lm-eval'), a pandas DataFrame, or a NumPy array with models= and benchmarks="
        )
    else:
        source = os.fspath(path)
        if table_format == "lm-eval" or (table_format == "auto" and os.path.isdir(source)):
            return source, read_lm_eval(source, metric, tasks, benchmarks, drop)
        raw = read_spreadsheet(source, table_format, sheet) if is_spreadsheet(source) else read_text_table(source, table_format)
    aggregates = {name: "aggregate columns" for name in raw.aggregates}
    chosen, notes = choose_columns(raw.benchmarks, source, benchmarks, drop, aggregates, raw.text_columns)
    return source, dataclasses.replace(raw.with_columns(chosen), notes=raw.notes + tuple(notes))


def _is_folder(path) -> bool:
    return isinstance(path, (str, os.PathLike)) and os.path.isdir(path)


def _short_repr(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"<{type(value).__name__}>"


def _flip(source: str, raw: RawTable, lower_is_better, higher_is_better) -> tuple[RawTable, tuple[str, ...]]:
    """The table with its lower-is-better columns negated, and their names (in column
    order): those named in `lower_is_better` and those the source marks (the harness's
    `higher_is_better`), less those named in `higher_is_better`."""
    lower = _benchmark_names(source, raw, "lower_is_better", lower_is_better)
    higher = _benchmark_names(source, raw, "higher_is_better", higher_is_better)
    both = [name for name in lower if name in higher]
    if both:
        raise InputError(
            f"{source}: {both[0]!r} is in both lower_is_better and higher_is_better; keep it in one", "higher_is_better"
        )
    marked = raw.lower_is_better or ()
    flipped = tuple(b for b in raw.benchmarks if (b in lower or b in marked) and b not in higher)
    notes = list(raw.notes)
    overridden = [b for b in marked if b in higher]
    if overridden:
        notes.append("played higher-is-better as higher_is_better= says, against the source: " + ", ".join(overridden))
    if raw.lower_is_better is None:
        named = [b for b in raw.benchmarks if looks_lower_is_better(b) and b not in lower and b not in higher]
        if named:
            notes.append(
                "played higher-is-better though the name suggests lower-is-better (say which with "
                "lower_is_better= or higher_is_better=): " + ", ".join(named)
            )
    if flipped:
        notes.append("lower is better, negated so that higher is better: " + ", ".join(flipped))
    scores = raw.scores.copy()
    scores[:, [raw.benchmarks.index(name) for name in flipped]] *= -1
    return dataclasses.replace(raw, scores=scores, notes=tuple(notes)), flipped


def _benchmark_names(source: str, raw: RawTable, option: str, names) -> tuple[str, ...]:
    """`names` (a list of the table's benchmarks) as a tuple without repeats."""
    if isinstance(names, str) or not isinstance(names, (Sequence, np.ndarray)):
        raise InputError(f"{option}={names!r} must be a list of benchmark names, e.g. ['perplexity']", option)
    names = tuple(dict.fromkeys(str(name) for name in names))
    unknown = [name for name in names if name not in raw.benchmarks]
    if unknown:
        raise InputError(
            f"{source}: {option}: unknown benchmark(s) {unknown}; the table has {list(raw.benchmarks)}", option
        )
    return names


def _apply_missing_policy(source: str, raw: RawTable, missing: str, flipped: tuple[str, ...]) -> ScoreTable:
    """The table after `missing`; `raw.rows` name where each model was read."""
    models, benchmarks, scores, stderr = raw.models, raw.benchmarks, raw.scores, raw.stderr
    absent = np.isnan(scores)
    n_missing = int(absent.sum())
    dropped: tuple[str, ...] = ()
    if missing == "error" and n_missing:
        m, k = np.argwhere(absent)[0]
        raise InputError(
            f"{source}, {raw.rows[m]}, column {benchmarks[k]!r}: missing score ({n_missing} missing "
            "in all; choose another `missing` policy: loss, drop-model, drop-benchmark)"
        )
    if missing == "drop-model":
        keep = ~absent.any(axis=1)
        dropped = tuple(np.array(models, dtype=object)[~keep])
        models, scores = tuple(np.array(models, dtype=object)[keep]), scores[keep]
        stderr = None if stderr is None else stderr[keep]
    if missing == "drop-benchmark":
        keep = ~absent.any(axis=0)
        dropped = tuple(np.array(benchmarks, dtype=object)[~keep])
        benchmarks, scores = tuple(np.array(benchmarks, dtype=object)[keep]), scores[:, keep]
        stderr = None if stderr is None else stderr[:, keep]
    return ScoreTable(models, benchmarks, scores, source, missing, n_missing, dropped, stderr, raw.notes, flipped)


def _real_scores(source: str, models, benchmarks, scores) -> np.ndarray:
    """`scores` as float64; an array of strings or other objects is refused, naming the
    first cell that is not a real number or None (missing); strings are parsed by
    `load_table`, not here."""
    try:
        array = np.asarray(scores)
    except ValueError as err:
        raise InputError(f"{source}: scores are not a rectangular array of numbers: {err}") from None
    if array.dtype.kind in "biuf":
        return array.astype(np.float64, copy=False)
    if array.ndim == 2 and array.shape == (len(models), len(benchmarks)):
        for (m, k), value in np.ndenumerate(array):
            if value is None:  # missing, as NumPy reads it
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                what = f"{str(value)!r} is a string" if isinstance(value, str) else f"{value!r} is a {type(value).__name__}"
                raise InputError(
                    f"{source}: model {models[m]!r}, benchmark {benchmarks[k]!r}: {what}, not a number; give real "
                    "numbers (csd.load_table reads text)"
                )
        return array.astype(np.float64, copy=False)
    raise InputError(
        f"{source}: scores must be a 2-D array of real numbers, got {array.ndim}-D of dtype {array.dtype}"
    )


def _checked_stderr(source: str, stderr, shape: tuple[int, int]) -> np.ndarray:
    """`stderr` as (M, K) float64: finite and >= 0, or NaN (unknown)."""
    stderr = np.asarray(stderr, dtype=np.float64)
    if stderr.shape != shape:
        raise InputError(f"{source}: stderr has shape {stderr.shape}, expected the scores' {shape}")
    if np.isinf(stderr).any() or (stderr < 0).any():
        raise InputError(f"{source}: stderr must be finite and >= 0 (NaN where unknown)")
    return stderr


def _unique_names(names: Sequence[str]) -> tuple[str, ...]:
    """Names with repeats made unique by suffixes `#2`, `#3`, ..."""
    counts: dict[str, int] = {}
    unique = []
    for name in names:
        counts[name] = counts.get(name, 0) + 1
        unique.append(name if counts[name] == 1 else f"{name}#{counts[name]}")
    return tuple(unique)
