"""Writing a run's outputs: atomic files, JSON without NaN, CSV and Markdown tables, and a
progress bar that stays quiet unless its stream is a terminal."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from tqdm import tqdm


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Writes `data` to `path` through a temporary file in the same folder and `os.replace`,
    so `path` is always either the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_json(value: Any) -> str:
    """Strict JSON (NaN and infinities become null), arrays as lists, indented."""
    return json.dumps(_jsonable(value), indent=1, allow_nan=False) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text; floats with up to 10 significant digits, NaN as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(value) else f"{float(value):.10g}"
    if isinstance(value, np.integer):
        return int(value)
    return value


REPORT_ROWS = 100  # rows of a per-model table in report.md: all of a table LiveBench's size (65 models)


def markdown_top(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None, *,
                 where: str, top: int = REPORT_ROWS) -> str:
    """`markdown_table` of the first `top` rows; when there are more, a line after it says
    how many and that `where` (e.g. results.csv) has them all.

    Example:
      >>> print(markdown_top(["model"], [["a"], ["b"], ["c"]], where="results.csv", top=2))
      | model |
      | :--- |
      | a |
      | b |
      <BLANKLINE>
      *1 more row not shown; results.csv has all 3.*
    """
    rest = len(rows) - top
    table = markdown_table(header, rows[:top], align)
    if rest <= 0:
        return table
    return table + f"\n\n*{rest:,} more {'row' if rest == 1 else 'rows'} not shown; {where} has all {len(rows):,}.*"
SE_DIGITS = 2  # significant digits of a standard error in tables and prose
SE_MAX_DECIMALS = 6  # below half a unit of this decimal, an SE reads `<1e-06`


def stderr_decimals(se: float) -> int | None:
    """The decimals that show `se` with `SE_DIGITS` significant digits (at least 0, at most
    `SE_MAX_DECIMALS`); None for an SE of 0, NaN or below the last of those decimals.

    Example:
      >>> [stderr_decimals(se) for se in (0.0012, 0.012, 0.0996, 0.15, 12.0, 0.0, 1e-9)]
      [4, 3, 2, 2, 0, None, None]
    """
    if not (math.isfinite(se) and se > 0):
        return None
    decimals = max(0, SE_DIGITS - 1 - math.floor(math.log10(se)))
    if decimals > 0 and round(se, decimals) >= 10 ** (SE_DIGITS - decimals):  # 0.0996 rounds up to 0.100
        decimals -= 1
    return decimals if round(se, min(decimals, SE_MAX_DECIMALS)) > 0 else None


def stderr_text(se: float) -> str:
    """A standard error for people: `SE_DIGITS` significant digits (`0.0012`, `0.15`, `12`),
    `0` for an exact 0, `<1e-06` below the smallest decimal shown, `nan` for NaN."""
    decimals = stderr_decimals(se)
    if decimals is not None:
        return f"{se:.{decimals}f}"
    if math.isfinite(se) and se > 0:
        return f"<1e-{SE_MAX_DECIMALS:02d}"
    return "0" if se == 0 else "nan"


def with_se(value: float, se: float, *, decimals: int = 3, signed: bool = False) -> str:
    """`value ± se` for tables and prose: the SE with `SE_DIGITS` significant digits and the
    value rounded to the SE's last digit, so neither reads 0.00 when it is not. Where the SE
    gives no digits (0, NaN, below 1e-06), the value has `decimals` decimals (at least
    `SE_MAX_DECIMALS` for an SE below 1e-06). `signed`: the value always has its sign (a
    drop, a difference).

    Example:
      >>> with_se(10.1934, 0.0012), with_se(2.09812, 0.0123), with_se(10.19, 0.15)
      ('10.1934 ± 0.0012', '2.098 ± 0.012', '10.19 ± 0.15')
      >>> with_se(-1.2346, 0.051, signed=True), with_se(2.0, 0.0), with_se(123.4, 12.0)
      ('-1.235 ± 0.051', '2.000 ± 0', '123 ± 12')
    """
    shown = stderr_decimals(se)
    if shown is None and math.isfinite(se) and se > 0:
        shown = max(decimals, SE_MAX_DECIMALS)
    places = decimals if shown is None else shown
    return f"{value:{'+' if signed else ''}.{places}f} ± {stderr_text(se)}"


def value_range(low, high, fmt: str = "{}") -> str:
    """`low-high` for people, each end written with `fmt`; one number when both ends read
    the same (a rank interval `3-3`, a tau range `0.97-0.97`), and ` to ` between the ends
    when either has a sign (`-0.12 to 0.40`, not `-0.12-0.40`).

    Example:
      >>> value_range(3, 7), value_range(3, 3), value_range(0.971, 0.968, "{:.2f}"), value_range(-0.1, 0.4, "{:.2f}")
      ('3-7', '3', '0.97', '-0.10 to 0.40')
      >>> value_range(0.1, -1.2, "{:+.1f}")
      '+0.1 to -1.2'
    """
    first, last = fmt.format(low), fmt.format(high)
    if first == last:
        return first
    signed = first[:1] in ("+", "-") or last[:1] in ("+", "-")
    return f"{first} to {last}" if signed else f"{first}-{last}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A GitHub Markdown table; `align` has one of `l`/`r` per column (default: `l` then `r`)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """Aligned plain text for the terminal; `align` as in `markdown_table`."""
    align = align or "r" + "l" + "r" * (len(header) - 2)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells):
        return "  ".join(
            str(c).rjust(w) if a == "r" else str(c).ljust(w) for c, w, a in zip(cells, widths, align)
        ).rstrip()

    return "\n".join([line(header)] + [line(row) for row in rows])


class ProgressBar:
    """`(done, planned)` callback that drives a tqdm bar over the runs on `stream` (stderr
    by default), one update per chunk.

    It draws nothing unless `enabled` and `stream` is a terminal, so logs and pipes stay
    clean.

    Example:
      >>> import io
      >>> bar = ProgressBar("simulate", stream=io.StringIO())  # not a terminal: silent
      >>> bar(500, 1000); bar.close(); bar.stream.getvalue()
      ''
    """

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool = True):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __call__(self, done: int, planned: int) -> None:
        if self.bar is None:
            columns, rows = _terminal_size(self.stream)
            # disable=None: tqdm draws only where the stream is a terminal.
            self.bar = tqdm(desc=self.label, total=planned, unit="run", file=self.stream,
                            disable=None if self.enabled else True, ncols=columns, nrows=rows)
        self.bar.total = planned
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Ends the bar (if one was started)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _terminal_size(stream: TextIO) -> tuple[int, int]:
    """(columns, rows) of the terminal behind `stream`, 80 x 24 where it does not say (a
    pseudo-terminal of size 0 x 0 would make tqdm hide the bar)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 80, 24
    return size.columns or 80, size.lines or 24
