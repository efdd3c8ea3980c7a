"""report.html: a `ReportModel` (`csd._src.report.model`) rendered as one self-contained
web page: CSS, JavaScript and data inline, nothing fetched (a Content-Security-Policy
that allows no request says so to the browser), so it opens from disk, offline.

A leaderboard table (`Table.leaderboard`) becomes a table that sorts by any column,
searches the model names, pages through thousands of rows and downloads the rows shown
as CSV (assets/report.js, our own few lines). A figure with an interactive version
(`Figure.plot`) is drawn by Plotly, whose bundle (plotly.min.js of the `plotly` package,
the `html` extra) is inlined once; without plotly, or for a figure without one, the
static figure is inlined as a data URI, if it is in the folder.

Model names are user data: every text is HTML-escaped, and the JSON inside the page's
script elements has its `<`, `>` and `&` escaped, so no name can end a script.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import re
from pathlib import Path

from csd._src.report.model import Block, Details, Figure, ReportModel, Section, Table, resolve

ASSETS = Path(__file__).parent / "assets"
POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
          "font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'")
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}


def plotly_bundle() -> str | None:
    """The text of plotly.min.js from the installed `plotly` package, or None without it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def render(model: ReportModel, folder: str | Path | None = None, plotly: str | None = None) -> str:
    """The text of report.html.

    Args:
      model: the report.
      folder: where the static figures are (inlined where a figure has no interactive
        version or Plotly is missing), or None.
      plotly: the Plotly bundle to inline (default: `plotly_bundle()`).
    """
    interactive = bool(plotly) if plotly is not None else importlib.util.find_spec("plotly") is not None
    page = _Page(model, Path(folder) if folder is not None else None, interactive)
    body = [f"<h1>{page.inline(model.title)}</h1>", *(page.block(b, 2) for b in model.intro), page.reproduce(),
            page.contents()]
    body += [page.block(b, 2) for b in model.sections]
    if page.plots and plotly is None:
        plotly = plotly_bundle()
    scripts = ([f"<script>{_script_text(plotly)}</script>"] if page.plots and plotly else [])
    scripts.append(f"<script>{_script_text((ASSETS / 'report.js').read_text(encoding='utf-8'))}</script>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(_plain_title(model.title))}</title>",
        f"<style>{(ASSETS / 'report.css').read_text(encoding='utf-8')}</style>",
        "</head>",
        "<body>",
        *body,
        *page.data,
        *scripts,
        "</body>",
        "</html>",
        "",
    ])


class _Page:
    """The state of one page while it is written: section numbers, the data blocks and
    the ids given so far."""

    def __init__(self, model: ReportModel, folder: Path | None, interactive: bool):
        self.model = model
        self.numbers = model.numbers()
        self.folder = folder
        self.interactive = interactive
        self.data: list[str] = []  # <script type="application/json"> elements, after the content
        self.plots = 0

    def json_block(self, value) -> str:
        """Adds `value` as a JSON data element; returns its id."""
        ident = f"data-{len(self.data)}"
        self.data.append(f'<script type="application/json" id="{ident}">{_json(value)}</script>')
        return ident

    def inline(self, text: str) -> str:
        """A line of Markdown (`code`, **bold**, *italic*, [[key]] references) as HTML."""
        parts = re.split(r"(`[^`]*`)", text)
        out = []
        for part in parts:
            if part.startswith("`") and part.endswith("`") and len(part) > 1:
                out.append(f"<code>{html.escape(part[1:-1], quote=False)}</code>")
                continue
            piece = html.escape(part, quote=False)
            piece = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", piece)
            piece = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", piece)
            out.append(resolve(piece, self.numbers, lambda key, words: f'<a href="#{key}">{words}</a>'))
        return "".join(out)

    def text(self, text: str) -> str:
        lines = text.split("\n")
        if all(line.startswith("- ") for line in lines):
            return "<ul>" + "".join(f"<li>{self.inline(line[2:])}</li>" for line in lines) + "</ul>"
        return "<p>" + "<br>".join(self.inline(line) for line in lines) + "</p>"

    def block(self, block: Block, level: int) -> str:
        if isinstance(block, str):
            return self.text(block)
        if isinstance(block, Table):
            return self.leaderboard(block) if block.leaderboard else self.table(block)
        if isinstance(block, Figure):
            return self.figure(block)
        if isinstance(block, Details):
            inner = "\n".join(self.block(b, level) for b in block.blocks)
            board = any(isinstance(b, Table) and b.leaderboard for b in block.blocks)  # paged here: shown open
            return f"<details{' open' if board else ''}><summary>{self.inline(block.summary)}</summary>\n{inner}\n</details>"
        if isinstance(block, Section):
            return self.section(block, level)
        raise TypeError(f"not a report block: {type(block).__name__}")

    def section(self, section: Section, level: int) -> str:
        heading = f'<h{level} id="{html.escape(section.key)}">{self.inline(self.model.heading(section))}</h{level}>'
        return "\n".join(["<section>", heading, *(self.block(b, level + 1) for b in section.blocks), "</section>"])

    def table(self, table: Table) -> str:
        align = table.align or "l" + "r" * (len(table.header) - 1)
        head = "".join(f'<th class="{a}">{html.escape(str(h))}</th>' for h, a in zip(table.header, align))
        rows = "".join("<tr>" + "".join(f'<td class="{a}">{html.escape(str(c))}</td>' for c, a in zip(row, align))
                       + "</tr>" for row in table.rows)
        return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'

    def leaderboard(self, table: Table) -> str:
        """A sortable, searchable, paged table, drawn by report.js from its JSON; the
        first rows are also written as HTML, for a reader without JavaScript."""
        header = [str(h) for h in table.header]
        spec = {"header": header, "align": table.align or "l" + "r" * (len(header) - 1),
                "rows": [[str(c) for c in row] for row in table.rows],
                "search": header.index("model") if "model" in header else (1 if len(header) > 1 else 0)}
        preview = Table(table.header, table.rows[:25], table.align)
        return (f'<div class="leaderboard-root" data-spec="{self.json_block(spec)}"></div>'
                f"<noscript>{self.table(preview)}</noscript>")

    def figure(self, figure: Figure) -> str:
        caption = (f"<strong>{self.inline(figure.title)}.</strong> " if figure.title else "") + self.inline(figure.caption)
        if figure.plot is not None and self.interactive:
            self.plots += 1
            drawn = f'<div class="plot" data-spec="{self.json_block(figure.plot)}"></div>'
        elif not figure.file:  # a figure of the page only, and no Plotly to draw it
            return ""
        else:
            drawn = self.image(figure)
        return f"<figure>{drawn}<figcaption>{caption}</figcaption></figure>"

    def image(self, figure: Figure) -> str:
        """The static figure as a data URI, or a line saying it is not here."""
        stem = Path(figure.file)
        for suffix, mime in IMAGE_TYPES.items():
            path = None if self.folder is None else self.folder / stem.with_suffix(suffix).name
            if path is not None and path.is_file():
                encoded = base64.b64encode(path.read_bytes()).decode("ascii")
                return f'<img alt="{html.escape(figure.title or figure.file)}" src="data:{mime};base64,{encoded}">'
        return f"<p><em>(figure {html.escape(figure.file)} not drawn)</em></p>"

    def contents(self) -> str:
        items = [f'<li><a href="#{html.escape(s.key)}">{self.inline(self.model.heading(s))}</a></li>'
                 for s in self.model.sections if isinstance(s, Section)]
        return f'<nav class="toc"><strong>Contents</strong><ul>{"".join(items)}</ul></nav>' if items else ""

    def reproduce(self) -> str:
        """The box with what reproduces the page: the command and seed in words, the rest as JSON."""
        facts = self.model.reproduce
        if not facts:
            return ""
        lines = []
        for key, value in facts.items():
            if isinstance(value, (dict, list, tuple)):
                text = json.dumps(value, indent=1, ensure_ascii=False, default=str)
                lines.append(f"<details><summary>{html.escape(key)}</summary><pre>{html.escape(text)}</pre></details>")
            else:
                lines.append(f"<div><strong>{html.escape(key)}:</strong> <code>{html.escape(str(value))}</code></div>")
        return '<div class="facts"><strong>To reproduce this page</strong>' + "".join(lines) + "</div>"


def _json(value) -> str:
    """JSON safe inside a script element: `<`, `>`, `&` and the JS line separators escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain_number)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _plain_number(value):
    """numpy scalars as Python numbers, for `json.dumps`."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _script_text(code: str) -> str:
    """JavaScript that cannot close its script element early."""
    return code.replace("</script", "<\\/script")


def _plain_title(title: str) -> str:
    return title.replace("`", "")
