"""Score tables: loading a CSV, checking it, and applying a missing-score policy.

A score table holds M models (rows) by K benchmarks (columns); higher is better, and the
column order is the order of the tournament's rounds.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
from typing import Sequence

import numpy as np

from csd._src.errors import InputError, check_choice

MISSING_POLICIES = ("loss", "drop-model", "drop-benchmark", "error")


@dataclasses.dataclass(frozen=True, eq=False)
class ScoreTable:
    """M models by K benchmarks, higher is better, columns in round order.

    Attributes:
      models: (M,) model names, unique.
      benchmarks: (K,) benchmark names, unique, in round order.
      scores: (M, K) float64; NaN marks a missing score (kept only under `missing="loss"`).
      source: where the table came from (a path, or a description).
      missing_policy: the policy applied, one of `MISSING_POLICIES`.
      n_missing: missing cells in the source before the policy was applied.
      dropped: names of the models (`drop-model`) or benchmarks (`drop-benchmark`) removed.

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

    def __post_init__(self):
        scores = np.asarray(self.scores, dtype=np.float64)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        object.__setattr__(self, "benchmarks", tuple(str(b) for b in self.benchmarks))
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
        _check_unique(self.models, "model", self.source)
        _check_unique(self.benchmarks, "benchmark", self.source)
        if len(self.models) < 2:
            raise InputError(f"{self.source}: a tournament needs at least 2 models, found {len(self.models)}")
        if len(self.benchmarks) < 1:
            raise InputError(f"{self.source}: the table has no benchmark column")
        if self.missing_policy != "loss" and np.isnan(scores).any():
            raise InputError(f"{self.source}: missing scores remain under policy {self.missing_policy!r}")

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
        return dataclasses.replace(
            self, benchmarks=_unique_names(benchmarks), scores=self.scores[:, columns]
        )

    def with_scores(self, scores: np.ndarray) -> "ScoreTable":
        """The same table with new (M, K) scores."""
        return dataclasses.replace(self, scores=np.asarray(scores, dtype=np.float64))


def load_table(path: str | os.PathLike, missing: str = "loss") -> ScoreTable:
    """Reads a score table from a CSV file and applies the missing-score policy.

    The first column holds the model names; every other column is a benchmark, in round
    order; higher is better; an empty cell is a missing score.

    Args:
      path: the CSV file.
      missing: `loss` (keep; a missing score loses to any present one and ties with another
        missing one), `drop-model`, `drop-benchmark` or `error`.

    Returns:
      A `ScoreTable`.

    Raises:
      InputError: naming the file, line and column of the first problem found.

    Example:
      >>> import csd
      >>> table = csd.load_table(csd.shipped_table("livebench"))
      >>> table.shape
      (65, 21)
    """
    check_choice("missing", missing, MISSING_POLICIES)
    source = os.fspath(path)
    header, rows = _read_rows(source)
    benchmarks = tuple(name.strip() for name in header[1:])
    for column, name in enumerate(benchmarks, start=2):
        if not name:
            raise InputError(f"{source}, line 1, column {column}: empty benchmark name")
    _check_unique(benchmarks, "benchmark", f"{source}, line 1")
    models, scores = _parse_rows(source, rows, benchmarks)
    lines = tuple(line for line, _ in rows)
    return _apply_missing_policy(source, lines, models, benchmarks, scores, missing)


def _read_rows(source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data rows, each with its 1-based line number."""
    try:
        with open(source, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            numbered = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{source}: cannot read the table: {err}") from None
    if not numbered:
        raise InputError(f"{source}: the file is empty")
    (_, header), rows = numbered[0], numbered[1:]
    if len(header) < 2:
        raise InputError(f"{source}, line 1: the header needs a model column and at least one benchmark")
    if not rows:
        raise InputError(f"{source}: the table has a header but no model rows")
    return header, rows


def _parse_rows(source, rows, benchmarks):
    """(models, scores (M, K) float64 with NaN for empty cells) from the data rows."""
    models, scores, first_line = [], [], {}
    for line, row in rows:
        if len(row) != len(benchmarks) + 1:
            raise InputError(
                f"{source}, line {line}: expected {len(benchmarks) + 1} fields, found {len(row)}"
            )
        name = row[0].strip()
        if not name:
            raise InputError(f"{source}, line {line}, column 1: empty model name")
        if name in first_line:
            raise InputError(
                f"{source}, line {line}: duplicate model name {name!r} (first on line {first_line[name]})"
            )
        first_line[name] = line
        models.append(name)
        scores.append([_parse_cell(source, line, name, b, cell) for b, cell in zip(benchmarks, row[1:])])
    return tuple(models), np.array(scores, dtype=np.float64)


def _parse_cell(source: str, line: int, model: str, benchmark: str, cell: str) -> float:
    text = cell.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(
            f"{source}, line {line} (model {model!r}), column {benchmark!r}: "
            f"{text!r} is not a finite number"
        )
    return value


def _apply_missing_policy(source, lines, models, benchmarks, scores, missing) -> ScoreTable:
    """The table after `missing`; `lines` (M,) are the models' line numbers in `source`."""
    absent = np.isnan(scores)
    n_missing = int(absent.sum())
    dropped: tuple[str, ...] = ()
    if missing == "error" and n_missing:
        m, k = np.argwhere(absent)[0]
        raise InputError(
            f"{source}, line {lines[m]} (model {models[m]!r}), column "
            f"{benchmarks[k]!r}: missing score ({n_missing} missing in all; "
            "choose another `missing` policy: loss, drop-model, drop-benchmark)"
        )
    if missing == "drop-model":
        keep = ~absent.any(axis=1)
        dropped = tuple(np.array(models, dtype=object)[~keep])
        models, scores = tuple(np.array(models, dtype=object)[keep]), scores[keep]
    if missing == "drop-benchmark":
        keep = ~absent.any(axis=0)
        dropped = tuple(np.array(benchmarks, dtype=object)[~keep])
        benchmarks, scores = tuple(np.array(benchmarks, dtype=object)[keep]), scores[:, keep]
    return ScoreTable(models, benchmarks, scores, source, missing, n_missing, dropped)


def _check_unique(names: Sequence[str], kind: str, where: str) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise InputError(
                f"{where}: duplicate {kind} name {name!r} (positions {seen[name]} and {position})"
            )
        seen[name] = position


def _unique_names(names: Sequence[str]) -> tuple[str, ...]:
    """Names with repeats made unique by suffixes `#2`, `#3`, ..."""
    counts: dict[str, int] = {}
    unique = []
    for name in names:
        counts[name] = counts.get(name, 0) + 1
        unique.append(name if counts[name] == 1 else f"{name}#{counts[name]}")
    return tuple(unique)
