"""Reading score tables in their many shapes: delimited text (comma, tab or semicolon; wide
or long), spreadsheets (.xlsx, with openpyxl), pandas DataFrames and NumPy arrays.

Each reader returns a `RawTable`: the scores as read, before the direction and the
missing-score policy are applied (`csd._src.table.load_table` does that), with short notes
on what was detected or changed. Every refusal is an `InputError` of one line that names
the file, line and column (or the argument) and says how to fix it.

Cells (text files, and strings in a DataFrame):
  - "N/A", "NA", "n/a", "-", "—" and empty cells are missing;
  - "85.3%" is read as 85.3; a column has percent signs in all its present cells or in none;
  - "1,234" (groups of three digits, first digit not 0) is read as 1234 (in a comma-separated
    file such a cell is quoted: "1,234"); a decimal comma ("85,3") is refused, naming the fix;
    a DataFrame's strings are not read with thousands separators;
  - "1_000", digits other than 0-9, "inf" and "nan" are refused.

Columns of a wide table (text files, spreadsheets, DataFrames):
  - the model names are the column named `model` (any letter case), else the first column;
  - a text column (more of its present cells are text than numbers, like a model type,
    licence or "7B") is left out with a note; a column of numbers with a few bad cells is
    refused at its first bad cell;
  - an aggregate column (`AGGREGATE_WORDS`: Average, Mean, Overall, Total, Avg, ... as the
    name's first word, e.g. "Average ⬆️" or "avg_score") is read but not played unless
    named in `benchmarks=` (`choose_columns`);
  - trailing columns with no name and no cell, and empty rows, are ignored.

Files are refused before they are read when they are not regular files (a device such as
/dev/zero, a FIFO, a socket) or hold more than `MAX_TABLE_BYTES`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import re
import stat
from typing import Callable, Mapping, NamedTuple, Sequence

import numpy as np

from csd._src.errors import InputError

TABLE_FORMATS = ("auto", "wide", "long", "lm-eval")
LONG_COLUMNS = ("model", "benchmark", "score")
DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon"}
# The largest table file (or lm-eval results file) read: 256 MiB, some 10 million cells of
# text, far beyond any leaderboard; a larger file is refused before it is read.
MAX_TABLE_BYTES = 256 * 2**20
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")
EXCEL_EXTRA = "pip install 'csd-swiss[excel]'"
# A column is an aggregate of the others when its name's first word is one of these (any
# letter case) and its other words, if any, are in _AGGREGATE_TAIL: "Average ⬆️", "avg_score".
AGGREGATE_WORDS = ("average", "avg", "mean", "overall", "total", "aggregate", "sum")
_AGGREGATE_TAIL = frozenset({"score", "scores", "all", "accuracy", "acc"})
# A metric is lower-is-better by its name when the name holds one of these (any letter case).
LOWER_IS_BETTER_WORDS = ("perplexity", "bits_per_byte", "loss", "error", "latency")

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
      text_columns: the columns left out as text (not in `benchmarks`).
      aggregates: the benchmarks that are aggregates of the others, not played by default.
      lower_is_better: None where the source says nothing of directions; else the
        benchmarks it marks lower-is-better (the harness's `higher_is_better`).
    """

    models: tuple[str, ...]
    benchmarks: tuple[str, ...]
    scores: np.ndarray
    stderr: np.ndarray | None
    rows: tuple[str, ...]
    notes: tuple[str, ...]
    text_columns: tuple[str, ...] = ()
    aggregates: tuple[str, ...] = ()
    lower_is_better: tuple[str, ...] | None = None

    def with_columns(self, names: Sequence[str]) -> "RawTable":
        """The table restricted to the benchmarks `names`, in that order."""
        index = [self.benchmarks.index(name) for name in names]
        lower = None if self.lower_is_better is None else tuple(b for b in self.lower_is_better if b in names)
        return dataclasses.replace(
            self, benchmarks=tuple(names), scores=self.scores[:, index],
            stderr=None if self.stderr is None else self.stderr[:, index], lower_is_better=lower,
        )


class _CellError(Exception):
    """Why a cell is not a number; the caller adds where it is."""


class _TextCell(_CellError):
    """A cell that is text, not a malformed number: a text column is made of them."""


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
    if "_" in number and _NUMBER.fullmatch(number.replace("_", "")):
        raise _CellError(f"{text!r} is not a number: write it without '_' (e.g. 1000)")
    if not number.isascii() and any(ch.isdigit() for ch in number if not ch.isascii()):
        raise _CellError(f"{text!r} has digits other than 0-9; write it with 0-9")
    grouped = "," in number and bool(_NUMBER.fullmatch(number.replace(",", "")))
    if grouped:
        if not _GROUPED.fullmatch(number):
            raise _CellError(
                f"{text!r} is not a number: decimal commas are not read; write {number.replace(',', '.')} "
                "(export with '.' as the decimal mark)"
            )
        if not thousands:
            raise _CellError(f"{text!r} is not a number: thousands separators are not read here; write {number.replace(',', '')}")
        number = number.replace(",", "")
    if _NUMBER.fullmatch(number):
        return _finite(text, float(number), percent, grouped)
    if number.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        raise _CellError(f"{text!r} is not a finite number")
    raise _TextCell(f"{text!r} is not a number")


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
    raw = _table_from_rows(source, numbered, table_format, thousands=True, unit="line")
    return dataclasses.replace(raw, notes=(f"delimiter: {DELIMITERS[delimiter]}",) + raw.notes)


def _table_from_rows(source: str, numbered: list, table_format: str, thousands: bool, unit: str) -> RawTable:
    """A wide or long table from its non-empty rows [(number, [cell texts])], the header
    first; `unit` names a row's number in messages ("line" or "row")."""
    header, rows = _without_trailing_empty_columns(numbered[0][1], numbered[1:])
    header_at = f"{unit} {numbered[0][0]}"
    if not rows:
        raise InputError(f"{source}: the table has a header but no model rows")
    is_long = _is_long_header(header)
    if table_format == "long" and not is_long:
        raise InputError(f"{source}, {header_at}: {_LONG_NEEDS}; the header has {[h.strip() for h in header]}")
    if is_long and table_format != "wide":
        raw = _long_table(source, header, rows, thousands, unit)
        note = "format: long (model, benchmark, score" + (", stderr)" if len(header) == 4 else ")")
        return dataclasses.replace(raw, notes=(note,) + raw.notes)
    return _wide_table(source, header, header_at, rows, thousands, unit)


def _without_trailing_empty_columns(header: list[str], rows: list) -> tuple[list[str], list]:
    """(header, rows) without the trailing columns that have no name and no cell (a
    spreadsheet's export often ends every line with empty fields)."""
    width = max(_filled_width(fields) for fields in [header] + [row for _, row in rows])
    return header[:width], [(number, row[:width]) for number, row in rows]


def _filled_width(fields: Sequence[str]) -> int:
    """1 + the index of the last non-blank field (0 if all are blank)."""
    return max((i + 1 for i, field in enumerate(fields) if field.strip()), default=0)


def check_table_file(source: str) -> None:
    """Refuses `source` unless it is a regular file of at most `MAX_TABLE_BYTES` (a device,
    a FIFO, a socket, a folder), before reading a byte."""
    try:
        info = os.stat(source)
    except OSError as err:
        raise InputError(f"{source}: cannot read the table: {err.strerror or err}") from None
    kinds = {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device", stat.S_ISFIFO: "a FIFO (named pipe)",
             stat.S_ISSOCK: "a socket", stat.S_ISDIR: "a folder"}
    kind = next((name for test, name in kinds.items() if test(info.st_mode)), None)
    if kind or not stat.S_ISREG(info.st_mode):
        raise InputError(f"{source}: is {kind or 'not a regular file'}, not a table file; give a file saved on disk")
    if info.st_size > MAX_TABLE_BYTES:
        raise InputError(
            f"{source}: the file has {info.st_size / 2**20:.0f} MiB, more than the {MAX_TABLE_BYTES // 2**20} MiB "
            "a table may have (csd._src.readers.MAX_TABLE_BYTES); is it a score table?"
        )


def read_bounded(source: str) -> bytes:
    """The bytes of the table file `source` (`check_table_file`), reading at most
    `MAX_TABLE_BYTES` + 1 even if the file grows."""
    check_table_file(source)
    try:
        with open(source, "rb") as handle:
            data = handle.read(MAX_TABLE_BYTES + 1)
    except OSError as err:
        raise InputError(f"{source}: cannot read the table: {err}") from None
    if len(data) > MAX_TABLE_BYTES:
        raise InputError(f"{source}: the file grew past {MAX_TABLE_BYTES // 2**20} MiB while being read")
    return data


def _read_text(source: str) -> str:
    data = read_bounded(source)
    if data.startswith(b"PK\x03\x04"):
        raise InputError(
            f"{source}: this is a zip file, not text: a spreadsheet? .xlsx files are read when named .xlsx "
            f"({EXCEL_EXTRA}); for .ods, save the sheet as .xlsx or .csv"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{source}: this is an old Excel .xls file; save it as .xlsx ({EXCEL_EXTRA}) or .csv")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{source}: cannot read the table: not UTF-8 text ({err}); save it as UTF-8") from None
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


def _wide_table(source, header, header_at: str, rows, thousands: bool, unit: str) -> RawTable:
    """The column named `model` (else the first) holds the model names; every other column
    is a benchmark (or a text column, left out)."""
    names = [name.strip() for name in header]
    model_column = _model_column(names)
    columns = [c for c in range(len(names)) if c != model_column]
    for c in columns:
        if not names[c]:
            raise InputError(f"{source}, {header_at}, column {c + 1}: empty benchmark name")
    benchmarks = tuple(names[c] for c in columns)
    check_unique(benchmarks, "benchmark", f"{source}, {header_at}")
    models, numbers, grid, first_number = [], [], [], {}
    for number, row in rows:
        if len(row) != len(names):
            raise InputError(f"{source}, {unit} {number}: expected {len(names)} fields, found {len(row)}")
        name = row[model_column].strip()
        if not name:
            raise InputError(f"{source}, {unit} {number}, column {model_column + 1}: empty model name")
        if name in first_number:
            raise InputError(
                f"{source}, {unit} {number}: duplicate model name {name!r} (first on {unit} {first_number[name]})"
            )
        first_number[name] = number
        models.append(name)
        numbers.append(number)
        grid.append([row[c] for c in columns])
    rows_read = tuple(f"{unit} {number} (model {name!r})" for number, name in zip(numbers, models))
    notes = [f"models from the column {names[model_column]!r}"] if model_column else []

    def where(m: int, k: int) -> tuple[str, str]:
        return f"{source}, {rows_read[m]}, column {benchmarks[k]!r}", f"{unit} {numbers[m]}"

    return _wide_from_grid(models, benchmarks, grid, lambda text: parse_cell(text, thousands), where, rows_read, notes)


def _model_column(names: Sequence[str]) -> int:
    """The index of the column of model names: the one named `model` (any case), else 0."""
    lowered = [name.strip().lower() for name in names]
    return lowered.index("model") if "model" in lowered else 0


def _wide_from_grid(models, benchmarks, grid, parse, where, rows_read, notes) -> RawTable:
    """A wide RawTable from an (M, K) grid of cell values (`parse` reads one, raising
    _CellError): text columns are left out, every other bad cell is refused (the first,
    row by row, named by `where(m, k)`), and aggregate columns are marked."""
    outcomes = [[_attempt(parse, value) for value in row] for row in grid]
    text = [k for k in range(len(benchmarks)) if _is_text_column([row[k] for row in outcomes])]
    keep = [k for k in range(len(benchmarks)) if k not in text]
    for m, row in enumerate(outcomes):
        for k in keep:
            if isinstance(row[k], _CellError):
                raise InputError(f"{where(m, k)[0]}: {row[k]}")
    kept = tuple(benchmarks[k] for k in keep)
    cells = [[row[k] for k in keep] for row in outcomes]
    scores, cell_notes = _scores_from_cells(cells, kept, lambda m, j: where(m, keep[j]))
    return RawTable(
        tuple(models), kept, scores, None, tuple(rows_read), tuple(notes) + tuple(cell_notes),
        text_columns=tuple(benchmarks[k] for k in text), aggregates=tuple(b for b in kept if is_aggregate(b)),
    )


def _attempt(parse, value) -> "_Cell | _CellError":
    try:
        return parse(value)
    except _CellError as error:
        return error


def _is_text_column(outcomes: Sequence) -> bool:
    """Whether more of a column's present cells are text than numbers (bad numbers count as
    numbers: such a column is refused at its first bad cell)."""
    n_text = sum(isinstance(outcome, _TextCell) for outcome in outcomes)
    n_numbers = sum(
        isinstance(outcome, _CellError) and not isinstance(outcome, _TextCell)
        or isinstance(outcome, _Cell) and not math.isnan(outcome.value)
        for outcome in outcomes
    )
    return n_text > n_numbers


def is_aggregate(name: str) -> bool:
    """Whether a column named `name` looks like an aggregate of the others (Average, Mean,
    Overall, Total, Avg, ...: `AGGREGATE_WORDS`)."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return bool(words) and words[0] in AGGREGATE_WORDS and all(word in _AGGREGATE_TAIL for word in words[1:])


def looks_lower_is_better(name: str) -> bool:
    """Whether a metric named `name` is lower-is-better by its name (`LOWER_IS_BETTER_WORDS`)."""
    return any(word in name.lower() for word in LOWER_IS_BETTER_WORDS)


def _long_table(source, header, rows, thousands: bool, unit: str) -> RawTable:
    """Rows of model, benchmark, score and optionally stderr; absent pairs are missing."""
    entries, first_line, model_line = {}, {}, {}
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(f"{source}, {unit} {line}: expected {len(header)} fields, found {len(row)}")
        model, benchmark = row[0].strip(), row[1].strip()
        for column, name in ((1, model), (2, benchmark)):
            if not name:
                raise InputError(f"{source}, {unit} {line}, column {column}: empty {LONG_COLUMNS[column - 1]} name")
        key = (model, benchmark)
        _first_row(first_line, key, line, f"{source}, {unit}s")
        model_line.setdefault(model, line)
        where = f"{source}, {unit} {line} (model {model!r}, benchmark {benchmark!r})"
        score = _cell_at(f"{where}, score", row[2], thousands)
        stderr = _stderr_cell(f"{where}, stderr", row[3], thousands) if len(row) == 4 else math.nan
        entries[key] = (score, stderr, (f"{where}, score", f"{unit} {line}"))
    return _from_entries(entries, len(header) == 4, lambda model: f"{unit} {model_line[model]} (model {model!r})")


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


# ----------------------------------------------------------------------------- spreadsheets


def is_spreadsheet(source: str) -> bool:
    """Whether `source` is named like an Excel workbook (`SPREADSHEET_SUFFIXES`)."""
    return os.path.splitext(source)[1].lower() in SPREADSHEET_SUFFIXES


def read_spreadsheet(source: str, table_format: str, sheet: str | None = None) -> RawTable:
    """A wide or long table from a sheet of an .xlsx workbook (the first, or `sheet`), read
    with openpyxl (the `excel` extra) as the values Excel shows; rows are numbered as in
    Excel, cells read like a text file's."""
    check_table_file(source)
    try:
        import openpyxl
    except ImportError:
        raise InputError(f"{source}: reading .xlsx needs openpyxl: {EXCEL_EXTRA}") from None
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises zipfile, KeyError and XML errors for a damaged file
        raise InputError(f"{source}: cannot read the workbook: {type(err).__name__}: {err}") from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise InputError(f"{source}: no sheet {sheet!r}; the sheets are {names}", "sheet")
        name = names[0] if sheet is None else sheet
        values = list(book[name].iter_rows(values_only=True))
    finally:
        book.close()
    width = max((len(row) for row in values), default=0)
    numbered = [
        (number, [_sheet_text(value) for value in row] + [""] * (width - len(row)))
        for number, row in enumerate(values, start=1)
        if any(_sheet_text(value).strip() for value in row)
    ]
    where = f"{source}, sheet {name!r}"
    if not numbered:
        raise InputError(f"{where}: the sheet is empty")
    raw = _table_from_rows(where, numbered, table_format, thousands=True, unit="row")
    sheets = f"sheet {name!r}" + ("" if len(names) == 1 else f" (of {len(names)}: {', '.join(map(repr, names))})")
    return dataclasses.replace(raw, notes=(sheets,) + raw.notes)


def _sheet_text(value) -> str:
    """A cell value as text: numbers in full (repr round-trips a float), empty for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


# ----------------------------------------------------------------------------- choosing columns


def choose_columns(
    columns: Sequence[str],
    where: str,
    benchmarks=None,
    drop=(),
    set_aside: Mapping[str, str] | None = None,
    text_columns: Sequence[str] = (),
) -> tuple[tuple[str, ...], list[str]]:
    """The benchmarks played, in round order, and notes on what was left out.

    Args:
      columns: (K,) the numeric columns read.
      where: the source, for messages.
      benchmarks: None (every column but those `set_aside` and dropped) or the names
        played, in this order (any column, set aside or not).
      drop: names left out.
      set_aside: {column: why it is not played unless named in `benchmarks`}, the why in
        the plural ("aggregate columns", "subtasks of a group whose score is played").
      text_columns: columns left out as text; `drop` may name them, `benchmarks` may not.

    Raises:
      InputError: for an unknown name (listing the columns), a text column in
        `benchmarks`, a name in both lists, or no column left to play.
    """
    set_aside = set_aside or {}
    chosen_names = None if benchmarks is None else _names("benchmarks", benchmarks)
    dropped = _names("drop", drop)
    for option, names in (("benchmarks", chosen_names or ()), ("drop", dropped)):
        unknown = [name for name in names if name not in columns and name not in text_columns]
        if unknown:
            text = f" (and the text columns {list(text_columns)})" if text_columns else ""
            raise InputError(f"{where}: {option}: unknown column(s) {unknown}; the table has {list(columns)}{text}", option)
    notes = []
    if chosen_names is not None:
        check_unique(chosen_names, "benchmark", f"{where}: benchmarks")
        texts = [name for name in chosen_names if name in text_columns]
        if texts:
            raise InputError(
                f"{where}: benchmarks: {texts[0]!r} is a text column (most of its cells are not numbers)", "benchmarks"
            )
        both = [name for name in chosen_names if name in dropped]
        if both:
            raise InputError(f"{where}: {both[0]!r} is in both benchmarks= and drop=; keep it in one", "drop")
        chosen = chosen_names
        notes.append(f"benchmarks chosen (benchmarks=): {len(chosen)} of {len(columns)} columns")
    else:
        chosen = tuple(name for name in columns if name not in set_aside and name not in dropped)
        reasons: dict[str, list[str]] = {}
        for name, why in set_aside.items():
            if name not in dropped:
                reasons.setdefault(why, []).append(name)
        notes += [f"not played: {why} (name them in benchmarks= to play): {_listing(names)}" for why, names in reasons.items()]
    if dropped:
        notes.append(f"dropped (drop=): {', '.join(dropped)}")
    texts = [name for name in text_columns if name not in dropped]
    if texts:
        notes.append(f"left out as text (most cells are not numbers): {_listing(texts)}")
    if not chosen:
        raise InputError(
            f"{where}: no benchmark left to play; the columns are {list(columns)}; choose with benchmarks=", "benchmarks"
        )
    return chosen, notes


def _listing(names: Sequence[str], most: int = 8) -> str:
    """Names joined by commas, the first `most` of a longer list and their count."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} in all)"


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
        raise InputError(f"{option}={names!r} must be a list of names", option)
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

    grid = list(frame.itertuples(index=False, name=None))
    return _wide_from_grid(models, benchmarks, grid, _parse_value, where, tuple(f"row {m!r}" for m in models), notes)


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
    """`_parse_value`, with its refusal prefixed by `where()`."""
    try:
        return _parse_value(value)
    except _CellError as error:
        raise InputError(f"{where()}: {error}") from None


def _parse_value(value) -> _Cell:
    """A DataFrame value: a real number (NaN or None: missing), or a string read like a
    text file's cell (thousands separators not read). Raises _CellError."""
    if isinstance(value, str):
        return parse_cell(value, thousands=False)
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return _Cell(math.nan, False, False, False, "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _TextCell(f"{value!r} ({type(value).__name__}) is not a score; use real numbers")
    number = float(value)
    if math.isinf(number):
        raise _CellError(f"{value!r} is not a finite number")
    return _Cell(number, False, False, False, repr(value))


def check_unique(names: Sequence[str], kind: str, where: str) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise InputError(
                f"{where}: duplicate {kind} name {name!r} (positions {seen[name]} and {position})"
            )
        seen[name] = position
