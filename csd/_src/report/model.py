"""The report model: what a report says, built once from the analysis; report.md
(`csd._src.report.markdown.render`) and report.html (`csd._src.report.html.render`) are
two renderings of it.

A report is a title, an introduction and sections. A section holds blocks: paragraphs
(Markdown text: `**bold**`, `*italic*`, `` `code` ``, lines starting `- ` for a list),
tables, figures, collapsed details and subsections. Numbers are given to the numbered
sections when a report is rendered, in their order, and a text refers to a section by its
key as `[[key]]` (rendered `section 6`, or in HTML a link to it), so no text hard-codes a
section's number.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Union


@dataclasses.dataclass(frozen=True)
class Table:
    """A table of formatted cells.

    Attributes:
      header: (C,) column names (plain text; a renderer escapes what its format needs).
      rows: rows of C cells, as shown (str or int).
      align: C letters, `l` or `r` (default: `l` then `r`).
      markdown_columns: the indices of the columns report.md shows (None: all); the HTML
        shows every column.
      leaderboard: the HTML makes it sortable, searchable by model name, paged, with a
        CSV download of the rows shown.
      markdown_rows: report.md shows the first this many rows, then a line that says how
        many more there are and that results.csv has them all (`outputs.markdown_top`);
        None: every row. The HTML shows every row.
    """

    header: tuple[str, ...]
    rows: Sequence[Sequence]
    align: str | None = None
    markdown_columns: tuple[int, ...] | None = None
    leaderboard: bool = False
    markdown_rows: int | None = None

    def markdown_view(self) -> Table:
        """The columns report.md shows."""
        if self.markdown_columns is None:
            return self
        keep = self.markdown_columns
        align = self.align or "l" + "r" * (len(self.header) - 1)
        return Table(tuple(self.header[c] for c in keep), [[row[c] for c in keep] for row in self.rows],
                     "".join(align[c] for c in keep), None, self.leaderboard, self.markdown_rows)


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure: the static file drawn next to the report, and optionally the same figure
    as a Plotly figure (a plain {"data": [...], "layout": {...}} dict) for report.html.

    Attributes:
      file: the static figure's file name in the output folder (report.md embeds it), or
        '' for a figure of report.html only (report.md leaves it out).
      title: its title ('' for none: report.md then shows the caption alone).
      caption: what to see in it, with the numbers that say it.
      plot: the interactive figure (`csd._src.report.interactive`), or None.
    """

    file: str
    title: str
    caption: str
    plot: dict | None = None


@dataclasses.dataclass(frozen=True)
class Details:
    """A block collapsed under a one-line summary."""

    summary: str
    blocks: Sequence[Block]


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled part of a report.

    Attributes:
      key: its name in the registry and in `[[key]]` references.
      title: its heading, without a number.
      blocks: its content, in order.
      numbered: whether it gets a number when rendered.
    """

    key: str
    title: str
    blocks: Sequence[Block]
    numbered: bool = False


Block = Union[str, Table, Figure, Details, Section]  # a Section inside a section is a subsection


@dataclasses.dataclass(frozen=True)
class ReportModel:
    """A whole report.

    Attributes:
      title: the report's title.
      intro: the blocks before the first section.
      sections: the sections, in order (a block that is not a `Section` stands between
        them as it is).
      reproduce: {what: value} that reproduce the page (command, seed, config, ...), shown
        by report.html in a box of its own.
    """

    title: str
    intro: Sequence[Block]
    sections: Sequence[Block]
    reproduce: dict = dataclasses.field(default_factory=dict)

    def numbers(self) -> dict[str, int]:
        """{key: number} of the numbered sections, 1 first."""
        numbered = [s.key for s in self.sections if isinstance(s, Section) and s.numbered]
        return {key: n for n, key in enumerate(numbered, start=1)}

    def heading(self, section: Section) -> str:
        """The section's title with its number, if it has one."""
        number = self.numbers().get(section.key)
        return section.title if number is None or not section.numbered else f"{number}. {section.title}"


REFERENCE = re.compile(r"\[\[(\w+)\]\]")


def resolve(text: str, numbers: dict[str, int], link: Callable[[str, str], str] | None = None) -> str:
    """`text` with each `[[key]]` replaced by `section N` (or by `link(key, "section N")`)."""

    def replace(match: re.Match) -> str:
        if match.group(1) not in numbers:  # not a reference (e.g. inside a model's name)
            return match.group(0)
        words = f"section {numbers[match.group(1)]}"
        return words if link is None else link(match.group(1), words)

    return REFERENCE.sub(replace, text)


def bullets(lines: Sequence[str]) -> str:
    """A Markdown list block."""
    return "\n".join(f"- {line}" for line in lines)


SectionBuilder = Callable[..., Section]


def build(builders: dict[str, SectionBuilder], *args) -> list[Section]:
    """The sections of `builders` ({key: function of the analysis}), in the registry's order;
    a builder that returns None has nothing to say and is left out."""
    sections = [builder(*args) for builder in builders.values()]
    return [s for s in sections if s is not None]


def result_table(table, leaderboard: bool = False, markdown_rows: int | None = None) -> Table:
    """A result's `csd._src.results.ResultTable` (its `columns`, `shown` rows and `align`)
    as a report table (`markdown_rows`: as `Table`'s)."""
    return Table(tuple(table.columns), table.shown, table.align, leaderboard=leaderboard, markdown_rows=markdown_rows)


def delta_rank_header(method: str) -> str:
    """The header of `method`'s Δrank column, which says its sign: `Δrank elo (elo - CSD)`."""
    return f"Δrank {method} ({method} - CSD)"


def delta_rank(rank: int, csd_rank: int) -> str:
    """A Δrank cell: a baseline's rank - the CSD rank, signed (`+3`: the baseline places the
    model 3 lower than CSD does, `-2`: 2 higher, `+0`: the same place)."""
    return f"{int(rank) - int(csd_rank):+d}"
