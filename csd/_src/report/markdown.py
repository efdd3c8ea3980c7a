"""report.md: a `ReportModel` (`csd._src.report.model`) rendered as GitHub Markdown.

The blocks of a report are separated by blank lines; a figure is embedded by its file
name with its caption under it (a figure without a file is the page's only: left out); a
table shows the columns `Table.markdown_columns` names and its first `Table.markdown_rows`
rows.
"""

from __future__ import annotations

from csd._src.outputs import markdown_table, markdown_top
from csd._src.report.model import Block, Details, Figure, ReportModel, Section, Table, resolve


def render(model: ReportModel) -> str:
    """The text of report.md."""
    numbers = model.numbers()
    parts = [f"# {model.title}", *(_block(b, numbers, model, 3) for b in model.intro)]
    parts += [_block(b, numbers, model, 2) for b in model.sections]
    return "\n\n".join(part for part in parts if part) + "\n"


def _section(section: Section, numbers: dict, model: ReportModel, level: int) -> str:
    heading = "#" * level + " " + model.heading(section)
    return "\n\n".join(part for part in [heading, *(_block(b, numbers, model, level + 1) for b in section.blocks)] if part)


def _block(block: Block, numbers: dict, model: ReportModel, level: int) -> str:
    if isinstance(block, str):
        return resolve(block, numbers)
    if isinstance(block, Table):
        view = block.markdown_view()
        header = [str(h).replace("|", "\\|") for h in view.header]
        if view.markdown_rows is None:
            return markdown_table(header, view.rows, view.align)
        return markdown_top(header, view.rows, view.align, where="results.csv", top=view.markdown_rows)
    if isinstance(block, Figure):
        if not block.file:
            return ""
        caption = resolve(block.caption, numbers)
        if not block.title:
            return f"![{caption}]({block.file})\n\n*{caption}*"
        return f"![{block.title}]({block.file})\n\n*{block.title}.* {caption}"
    if isinstance(block, Details):
        inner = "\n\n".join(part for part in (_block(b, numbers, model, level) for b in block.blocks) if part)
        return f"<details><summary>{block.summary}</summary>\n\n{inner}\n\n</details>"
    if isinstance(block, Section):
        return _section(block, numbers, model, level)
    raise TypeError(f"not a report block: {type(block).__name__}")
