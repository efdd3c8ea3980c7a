"""Reading score tables in their many shapes: delimited text (comma, tab or semicolon; wide
or long), pandas DataFrames and NumPy arrays.

Each reader returns a `RawTable`: the scores as read, before the direction and the
missing-score policy are applied (`csd._src.table.load_table` does that), with short notes
on what was detected or changed. Every refusal is an `InputError` of one line that names
the file, line and column (or the argument) and says how to fix it.

Cells (text files, and strings in a DataFrame):
  - "N/A", "NA", "n/a", "-", "—" and empty cells are missing;
  - "85.3%" is read as 85.3; a column has percent signs in all its present cells or in none;
  - "1,234" (groups of three digits, first digit not 0) is read as 1234 only in a tab- or
    semicolon-separated file; a decimal comma ("85,3") is refused, and so is any comma in a
    comma-separated file's cells (thousands are ambiguous there);
  - "1_000", digits other than 0-9, "inf" and "nan" are refused.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from typing import Callable, NamedTuple, Sequence

import numpy as np

from csd._src.errors import InputError

TABLE_FORMATS = ("auto", "wide", "long", "lm-eval")
LONG_COLUMNS = ("model", "benchmark", "score")
DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon"}

_MISSING_MARKERS = frozenset({"", "na", "n/a", "-", "\u2014"})
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?", re.ASCII)
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_LONG_NEEDS = "format='long' needs the columns model, benchmark, score and optionally stderr"


@dataclasses.dataclass(frozen=True)
class RawTable:
    """A table as read, before direction and missing policy.

    Attributes:
      models: (M,) names; benchmarks: (K,) names, in round order.
      scores: (M, K) float64, NaN where missing.
      stderr: None, or (M, K) float64 standard errors, NaN where unknown.
      rows: (M,) where each model was read, for messages (e.g. "line 3 (model 'm2')").
      notes: what was detected or changed, one short line each.
    """

    models: tuple[str, ...]
    benchmarks: tuple[str, ...]
    scores: np.ndarray
    stderr: np.ndarray | None
    rows: tuple[str, ...]
    notes: tuple[str, ...]


class _CellError(Exception):
    """Why a cell is not a number; the caller adds where it is."""


class _Cell(NamedTuple):
    value: float  # NaN if missing
    percent: bool
    grouped: bool
    marker: bool  # a missing marker other than an empty cell
    text: str


# ----------------------------------------------------------------------------- cells


def parse_cell(text: str, thousands: bool) -> _Cell:
    """One cell; `thousands`: whether "1,234" may be read as 1234. Raises _CellError."""
    text = text.strip()
    if _NUMBER.fullmatch(text):  # the common case: a plain number (1e999 overflows: refused)
        return _finite(text, float(text), False, False)
    if text.lower() in _MISSING_MARKERS:
        return _Cell(math.nan, False, False, bool(text), text)
    number, percent = (text[:-1].rstrip(), True) if text.endswith("%") else (text, False)
    if "_" in number:
        raise _CellError(f"{text!r} is not a number: write it without '_' (e.g. 1000)")
    if not number.isascii() and any(ch.isdigit() for ch in number if not ch.isascii()):
        raise _CellError(f"{text!r} has digits other than 0-9; write it with 0-9")
    grouped = "," in number
    if grouped:
        if not thousands:
            raise _CellError(
                f"{text!r} is not a number: thousands separators are read only in tab- or "
                f"semicolon-separated files; write {number.replace(',', '')}"
            )
        if not _GROUPED.fullmatch(number):
            raise _CellError(
                f"{text!r} is not a number: decimal commas are not read; write {number.replace(',', '.')}"
            )
        number = number.replace(",", "")
    return _finite(text, float(number) if _NUMBER.fullmatch(number) else math.nan, percent, grouped)


def _finite(text: str, value: float, percent: bool, grouped: bool) -> _Cell:
    if not math.isfinite(value):
        raise _CellError(f"{text!r} is not a finite number")
    return _Cell(value, percent, grouped, False, text)


def _cell_at(where: str, text: str, thousands: bool) -> _Cell:
    """`parse_cell`, with its refusal prefixed by `where`."""
    try:
        return parse_cell(text, thousands)
    except _CellError as error:
        raise InputError(f"{where}: {error}") from None


def _scores_from_cells(
    cells: Sequence[Sequence[_Cell | None]], benchmarks, where: Callable[[int, int], tuple[str, str]]
) -> tuple[np.ndarray, list[str]]:
    """(M, K) scores from (M, K) cells (None: absent), after checking that each column has
    percent signs in all its present cells or in none; and the notes on percent signs,
    thousands and missing markers. `where(m, k)` names a cell in full and briefly."""
    scores = np.full((len(cells), len(benchmarks)), np.nan)
    percent_columns, n_grouped, markers = [], 0, {}
    for k, benchmark in enumerate(benchmarks):
        first = None  # (m, cell) of the column's first present score
        for m, cell in enumerate(row[k] for row in cells):
            if cell is None:
                continue
            scores[m, k] = cell.value
            n_grouped += cell.grouped
            if cell.marker:
                markers[cell.text] = markers.get(cell.text, 0) + 1
            if math.isnan(cell.value):
                continue
            if first is None:
                first = (m, cell)
            elif cell.percent != first[1].percent:
                kinds = ("a percent", "a plain number") if cell.percent else ("a plain number", "a percent")
                raise InputError(
                    f"{where(m, k)[0]}: {cell.text!r} is {kinds[0]} but {first[1].text!r} "
                    f"({where(first[0], k)[1]}) is {kinds[1]}; write every cell of the column "
                    "with '%' or every one without"
                )
        if first is not None and first[1].percent:
            percent_columns.append(benchmark)
    notes = []
    if percent_columns:
        notes.append("percent signs dropped (values kept on the 0-100 scale) in: " + ", ".join(percent_columns))
    if n_grouped:
        notes.append(f"thousands separators read in {n_grouped} cell(s)")
    if markers:
        notes.append("read as missing: " + ", ".join(f"{text!r} x{n}" for text, n in markers.items()))
    return scores, notes


# ----------------------------------------------------------------------------- text files


def read_text_table(source: str, table_format: str) -> RawTable:
    """A wide or long table from a comma-, tab- or semicolon-separated file."""
    text = _read_text(source)
    delimiter = _sniff_delimiter(source, text)
    _check_quotes(source, text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        numbered = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as err:
        raise InputError(f"{source}, line {reader.line_num}: cannot read the table: {err}") from None
    (_, header), rows = numbered[0], numbered[1:]
    if not rows:
        raise InputError(f"{source}: the table has a header but no model rows")
    is_long = _is_long_header(header)
    if table_format == "long" and not is_long:
        raise InputError(
            f"{source}, line 1: {_LONG_NEEDS}; the header has {[h.strip() for h in header]}"
        )
    notes = [f"delimiter: {DELIMITERS[delimiter]}"]
    thousands = delimiter != ","
    if is_long and table_format != "wide":
        notes.append("format: long (model, benchmark, score" + (", stderr)" if len(header) == 4 else ")"))
        raw = _long_table(source, header, rows, thousands)
    else:
        raw = _wide_table(source, header, rows, thousands)
    return dataclasses.replace(raw, notes=tuple(notes) + raw.notes)


def _read_text(source: str) -> str:
    try:
        with open(source, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{source}: cannot read the table: {err}") from None
    if "\x00" in text:
        raise InputError(f"{source}: cannot read the table: it holds NUL bytes (not a text file)")
    if not text.strip():
        raise InputError(f"{source}: the file is empty")
    return text


def _sniff_delimiter(source: str, text: str) -> str:
    """The delimiter the header line uses most, outside quotes: comma, tab or semicolon."""
    header = next(line for line in text.splitlines() if line.strip())
    bare = _QUOTED.sub("", header)
    counts = {d: bare.count(d) for d in DELIMITERS}
    most = max(counts.values())
    if most == 0:
        raise InputError(
            f"{source}, line 1: the header needs a model column and at least one benchmark "
            "(no comma, tab or semicolon found in it)"
        )
    tied = [d for d, n in counts.items() if n == most]
    if len(tied) > 1:
        names = " as ".join(f"{DELIMITERS[d]}s" for d in tied)
        raise InputError(
            f"{source}, line 1: cannot tell the delimiter: the header has as many {names}; "
            "quote the names that hold one"
        )
    return tied[0]


def _check_quotes(source: str, text: str, delimiter: str) -> None:
    """Refuses a quote that is never closed, or one that closes on a later line, naming
    the line where it opens (a cell of a score table never spans lines)."""
    if '"' not in text:
        return
    line, opened, in_quote, field_start, i = 1, 0, False, True, 0
    while i < len(text):
        ch = text[i]
        if in_quote and ch == '"' and text[i + 1 : i + 2] == '"':
            i += 2
            continue
        if in_quote and ch == '"':
            in_quote = False
            if line != opened:
                raise InputError(
                    f"{source}, line {opened}: the quote opened here closes on line {line}; "
                    f"a cell cannot span lines, so close it on line {opened}"
                )
        elif not in_quote and ch == '"' and field_start:
            in_quote, opened = True, line
        field_start = not in_quote and ch in (delimiter, "\n", "\r")
        line += ch == "\n"
        i += 1
    if in_quote:
        raise InputError(
            f"{source}, line {opened}: unterminated quote (the '\"' opened here is never closed); close or remove it"
        )


def _is_long_header(header: Sequence[str]) -> bool:
    names = [name.strip().lower() for name in header]
    return names in (list(LONG_COLUMNS), list(LONG_COLUMNS) + ["stderr"])


def _wide_table(source, header, rows, thousands: bool) -> RawTable:
    """First column model names, every other column a benchmark."""
    benchmarks = tuple(name.strip() for name in header[1:])
    for column, name in enumerate(benchmarks, start=2):
        if not name:
            raise InputError(f"{source}, line 1, column {column}: empty benchmark name")
    check_unique(benchmarks, "benchmark", f"{source}, line 1")
    models, lines, cells, first_line = [], [], [], {}
    for line, row in rows:
        if len(row) != len(benchmarks) + 1:
            raise InputError(f"{source}, line {line}: expected {len(benchmarks) + 1} fields, found {len(row)}")
        name = row[0].strip()
        if not name:
            raise InputError(f"{source}, line {line}, column 1: empty model name")
        if name in first_line:
            raise InputError(
                f"{source}, line {line}: duplicate model name {name!r} (first on line {first_line[name]})"
            )
        first_line[name] = line
        models.append(name)
        lines.append(line)
        row_cells = []
        try:
            for text in row[1:]:
                row_cells.append(parse_cell(text, thousands))
        except _CellError as error:
            column = benchmarks[len(row_cells)]
            raise InputError(f"{source}, line {line} (model {name!r}), column {column!r}: {error}") from None
        cells.append(row_cells)
    rows_read = tuple(f"line {line} (model {name!r})" for line, name in zip(lines, models))
    scores, notes = _scores_from_cells(
        cells, benchmarks, lambda m, k: (f"{source}, {rows_read[m]}, column {benchmarks[k]!r}", f"line {lines[m]}")
    )
    return RawTable(tuple(models), benchmarks, scores, None, rows_read, tuple(notes))


def _long_table(source, header, rows, thousands: bool) -> RawTable:
    """Rows of model, benchmark, score and optionally stderr; absent pairs are missing."""
    entries, first_line, model_line = {}, {}, {}
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(f"{source}, line {line}: expected {len(header)} fields, found {len(row)}")
        model, benchmark = row[0].strip(), row[1].strip()
        for column, name in ((1, model), (2, benchmark)):
            if not name:
                raise InputError(f"{source}, line {line}, column {column}: empty {LONG_COLUMNS[column - 1]} name")
        key = (model, benchmark)
        _first_row(first_line, key, line, f"{source}, lines")
        model_line.setdefault(model, line)
        where = f"{source}, line {line} (model {model!r}, benchmark {benchmark!r})"
        score = _cell_at(f"{where}, score", row[2], thousands)
        stderr = _stderr_cell(f"{where}, stderr", row[3], thousands) if len(row) == 4 else math.nan
        entries[key] = (score, stderr, (f"{where}, score", f"line {line}"))
    return _from_entries(entries, len(header) == 4, lambda model: f"line {model_line[model]} (model {model!r})")


def _stderr_cell(where: str, text: str, thousands: bool) -> float:
    cell = _cell_at(where, text, thousands)
    if cell.percent or cell.value < 0:
        raise InputError(f"{where}: {cell.text!r} is not a standard error; write a number >= 0 without '%'")
    return cell.value


def _from_entries(entries: dict, has_stderr: bool, rows_of) -> RawTable:
    """A RawTable from {(model, benchmark): (score cell, stderr, (where in full, briefly))}
    in reading order."""
    models = tuple(dict.fromkeys(model for model, _ in entries))
    benchmarks = tuple(dict.fromkeys(benchmark for _, benchmark in entries))
    model_index = {name: m for m, name in enumerate(models)}
    bench_index = {name: k for k, name in enumerate(benchmarks)}
    cells = [[None] * len(benchmarks) for _ in models]
    places = {}
    stderr = np.full((len(models), len(benchmarks)), np.nan)
    for (model, benchmark), (cell, se, place) in entries.items():
        m, k = model_index[model], bench_index[benchmark]
        cells[m][k], places[m, k] = cell, place
        stderr[m, k] = se
    scores, notes = _scores_from_cells(cells, benchmarks, lambda m, k: places[m, k])
    n_absent = sum(entry is None for row in cells for entry in row)
    if n_absent:
        notes.append(f"{n_absent} (model, benchmark) pair(s) have no row: missing")
    return RawTable(
        models, benchmarks, scores, stderr if has_stderr else None,
        tuple(rows_of(model) for model in models), tuple(notes),
    )


# ----------------------------------------------------------------------------- arrays


def read_array(array, models, benchmarks) -> RawTable:
    """An (M, K) NumPy array of scores (NaN missing) with its model and benchmark names."""
    if models is None or benchmarks is None:
        raise InputError("load_table(array): give the names too: models=[M names] and benchmarks=[K names]")
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise InputError(
            f"load_table(array): expected a 2-D array of real numbers (models x benchmarks), "
            f"got {array.ndim}-D of dtype {array.dtype}"
        )
    models, benchmarks = _names("models", models), _names("benchmarks", benchmarks)
    if array.shape != (len(models), len(benchmarks)):
        raise InputError(
            f"load_table(array): the array has shape {array.shape} but models= has {len(models)} "
            f"and benchmarks= has {len(benchmarks)} names"
        )
    scores = array.astype(np.float64)
    return RawTable(models, benchmarks, scores, None, tuple(f"model {m!r}" for m in models), ())


def _names(option: str, names) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, (Sequence, np.ndarray)):
        raise InputError(f"{option}={names!r} must be a list of names")
    return tuple(str(name) for name in names)


def is_dataframe(value) -> bool:
    """Whether `value` is a pandas DataFrame (without importing pandas)."""
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def read_dataframe(frame, table_format: str) -> RawTable:
    """A wide DataFrame (index or a `model` column = models, columns = benchmarks) or a
    long one (columns model, benchmark, score and optionally stderr)."""
    columns = [str(c) for c in frame.columns]
    is_long = _is_long_header(columns)
    if table_format == "long" and not is_long:
        raise InputError(f"load_table(DataFrame): {_LONG_NEEDS}; it has {columns}")
    if is_long and table_format != "wide":
        return _long_dataframe(frame, columns)
    notes = []
    lowered = [c.strip().lower() for c in columns]
    if "model" in lowered:
        frame = frame.set_index(frame.columns[lowered.index("model")])
        notes.append(f"models from the column {columns[lowered.index('model')]!r}")
    models = tuple(str(name) for name in frame.index)
    benchmarks = tuple(str(name) for name in frame.columns)
    def where(m: int, k: int) -> tuple[str, str]:
        return f"load_table(DataFrame): row {models[m]!r}, column {benchmarks[k]!r}", f"row {models[m]!r}"

    cells = [
        [_value_cell(lambda: where(m, k)[0], value) for k, value in enumerate(values)]
        for m, values in enumerate(frame.itertuples(index=False, name=None))
    ]
    scores, cell_notes = _scores_from_cells(cells, benchmarks, where)
    return RawTable(models, benchmarks, scores, None, tuple(f"row {m!r}" for m in models), tuple(notes + cell_notes))


def _long_dataframe(frame, columns) -> RawTable:
    lowered = [c.strip().lower() for c in columns]
    has_stderr = "stderr" in lowered
    entries, first_row = {}, {}
    for position, values in enumerate(frame.itertuples(index=False, name=None)):
        record = dict(zip(lowered, values))
        model, benchmark = str(record["model"]).strip(), str(record["benchmark"]).strip()
        key = (model, benchmark)
        _first_row(first_row, key, position, "load_table(DataFrame): rows")
        where = f"load_table(DataFrame): row {position} (model {model!r}, benchmark {benchmark!r})"
        score = _value_cell(lambda: f"{where}, score", record["score"])
        stderr = _value_cell(lambda: f"{where}, stderr", record["stderr"]).value if has_stderr else math.nan
        if stderr < 0:
            raise InputError(f"{where}, stderr: {stderr!r} is not a standard error; it must be >= 0")
        entries[key] = (score, stderr, (f"{where}, score", f"row {position}"))
    raw = _from_entries(entries, has_stderr, rows_of=lambda model: f"model {model!r}")
    return dataclasses.replace(raw, notes=("format: long DataFrame",) + raw.notes)



def _first_row(first: dict, key: tuple[str, str], row: int, where: str) -> None:
    """Records where (model, benchmark) `key` of a long table first appears, or raises
    InputError naming both rows (`where`: e.g. "FILE, lines") if it appeared before."""
    if key in first:
        model, benchmark = key
        raise InputError(
            f"{where} {first[key]} and {row}: two rows for model {model!r}, benchmark {benchmark!r}; keep one"
        )
    first[key] = row

def _value_cell(where: Callable[[], str], value) -> _Cell:
    """A DataFrame value: a real number (NaN or None: missing), or a string read like a
    text file's cell; `where()` names it in a refusal."""
    if isinstance(value, str):
        return _cell_at(where(), value, thousands=False)
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return _Cell(math.nan, False, False, False, "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{where()}: {value!r} ({type(value).__name__}) is not a score; use real numbers")
    number = float(value)
    if math.isinf(number):
        raise InputError(f"{where()}: {value!r} is not a finite number")
    return _Cell(number, False, False, False, repr(value))


def check_unique(names: Sequence[str], kind: str, where: str) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise InputError(
                f"{where}: duplicate {kind} name {name!r} (positions {seen[name]} and {position})"
            )
        seen[name] = position
