"""Self-contained HTML: one file with inline CSS, tables and images as base64 PNG data URIs.

A report must open anywhere (a mail attachment, an archive, a browser without network), so
nothing it needs is linked: no scripts, no fonts, no external style sheets, no image files. What
it only points to are full tables (a table longer than 20 rows is cut, and the cut rows are one
click away: the run's own file, or a copy written beside the report in ``<report>_files/``) and,
on request, the figures as SVG files in the same folder.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from exprlab._atomic import atomic_dir, atomic_path
from exprlab._runs import MANIFEST
from exprlab.errors import FormatError
from exprlab.report._format import fmt, label

#: rows a report table shows before it is cut (the full table is linked)
MAX_ROWS = 20
#: the kind recorded in the manifest of the folder of full tables and SVG figures beside a report
FILES_KIND = "report-files"
_CODE = re.compile(r"`([^`]+)`")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;color:#1d2430;background:#fafbfc;line-height:1.45}
header{background:#1f3b57;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:1.6em}header p{margin:4px 0 0;opacity:.85}
nav{padding:8px 32px;background:#e9eef4;font-size:.9em}
nav a{margin-right:14px;color:#1f3b57;text-decoration:none}
main{padding:8px 32px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px 20px;
margin:18px 0}
h2{font-size:1.25em;margin:.3em 0 .6em;color:#1f3b57}h3{font-size:1.05em;margin:1em 0 .4em}
table{border-collapse:collapse;font-size:.85em;margin:6px 0 12px}
th,td{border:1px solid #d5dbe3;padding:3px 8px;text-align:right}
th{background:#eef2f7}td.t,th.t{text-align:left}
.tw{overflow-x:auto}
caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0}
figure{margin:10px 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#556}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#f3f7fb;border:1px solid #d6e2ee;border-radius:6px;padding:10px 14px;
min-width:180px}
.card .v{font-size:1.4em;font-weight:700;color:#1f3b57}.card .k{font-size:.8em;color:#556}
.card .n{font-size:.78em;color:#445}
a.full{font-size:.85em}p.finding{font-size:1.05em;color:#1f3b57}
.note{font-size:.9em;color:#5a4a00;background:#fff8dc;border-left:4px solid #e0c050;
padding:6px 10px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:.88em}
dl.kv dt{font-weight:600}dl.kv dd{margin:0;word-break:break-all}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;background:#eef2f7;
padding:0 3px;border-radius:3px}
"""


def esc(value) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value), quote=True)


def inline(text: str) -> str:
    """HTML-escaped prose in which a command or file name between backticks reads as code.

    Report sentences name commands the way the documentation does, between backticks; the
    backticks must not reach the reader, the name must still stand out.
    """
    return _CODE.sub(r"<code>\1</code>", esc(text))


def slug(text: str) -> str:
    """An HTML id made from a title."""
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s or "section"


def png_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI for PNG bytes."""
    if not png.startswith(b"\x89PNG"):
        raise FormatError(
            "the image is not a PNG",
            where="report image",
            fix="render figures with exprlab.report._plots.figure_png",
        )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def format_cell(value, digits: int = 3) -> str:
    """A table cell: numbers with ``digits`` significant digits (:func:`exprlab.report._format.fmt`)."""
    return fmt(value, digits)


def table_html(
    df: pd.DataFrame,
    *,
    caption: str | None = None,
    digits: int = 3,
    max_rows: int = MAX_ROWS,
    index: bool = False,
    full: str | None = None,
) -> str:
    """A DataFrame as an HTML table (numbers right-aligned, text left); long tables are cut.

    Headers are the human labels of the columns; ``full`` is the link (relative to the report)
    to the whole table, shown under a cut one.
    """
    frame = df.reset_index() if index else df
    shown = frame.head(max_rows)
    text_cols = {c for c in shown.columns if not pd.api.types.is_numeric_dtype(shown[c])}
    parts = ['<div class="tw"><table>']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>")
    for c in shown.columns:
        parts.append(f'<th class="{"t" if c in text_cols else ""}">{esc(label(c))}</th>')
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False):
        parts.append("<tr>")
        for c, v in zip(shown.columns, row, strict=True):
            cls = ' class="t"' if c in text_cols else ""
            parts.append(f"<td{cls}>{esc(format_cell(v, digits))}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    if len(frame) > max_rows:
        where = (
            f'<a class="full" href="{esc(full)}">the full table ({len(frame):,} rows)</a>'
            if full
            else "the table file in the run directory"
        )
        parts.append(
            f"<p>First {max_rows} of {len(frame):,} rows; {len(frame) - max_rows:,} more in {where}.</p>"
        )
    return "".join(parts)


class Figure(bytes):
    """PNG bytes of a figure, with its SVG text when the report asked for SVG files."""

    svg: bytes | None = None


@dataclass
class Section:
    """One titled block of the report."""

    title: str
    parts: list[str] = field(default_factory=list)
    id: str = ""
    owner: HtmlReport | None = field(default=None, repr=False)

    def paragraph(self, text: str) -> Section:
        self.parts.append(f"<p>{inline(text)}</p>")
        return self

    def finding(self, text: str) -> Section:
        """The run's key result in one sentence, in bold."""
        self.parts.append(f'<p class="finding"><strong>{inline(text)}</strong></p>')
        return self

    def heading(self, text: str) -> Section:
        self.parts.append(f"<h3>{esc(text)}</h3>")
        return self

    def note(self, text: str) -> Section:
        self.parts.append(f'<p class="note">{inline(text)}</p>')
        return self

    def table(
        self,
        df: pd.DataFrame,
        caption: str | None = None,
        *,
        source: Path | None = None,
        max_rows: int = MAX_ROWS,
        **kw,
    ) -> Section:
        """A table, cut at ``max_rows`` rows with a link to the whole of it.

        The link points to ``source`` (the run's own file) when given, else to a copy of ``df``
        the report writes beside itself.
        """
        frame = df.reset_index() if kw.pop("index", False) else df
        full = None
        if len(frame) > max_rows and self.owner is not None:
            full = self.owner.attach_table(frame, caption or "table", source=source)
        self.parts.append(table_html(frame, caption=caption, max_rows=max_rows, full=full, **kw))
        return self

    def image(self, png: bytes, caption: str, *, alt: str | None = None) -> Section:
        """A figure; its SVG (when the plot made one) is written beside the report and linked."""
        link = ""
        svg = getattr(png, "svg", None)
        if svg is not None and self.owner is not None:
            name = self.owner.attach_file(f"{slug(caption)[:60]}.svg", svg)
            link = f' <a class="full" href="{esc(name)}">SVG</a>'
        self.parts.append(
            f'<figure><img src="{png_data_uri(png)}" alt="{esc(alt or caption)}">'
            f"<figcaption>{esc(caption)}{link}</figcaption></figure>"
        )
        return self

    def key_values(self, items: Mapping) -> Section:
        rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(format_cell(v))}</dd>" for k, v in items.items())
        self.parts.append(f'<dl class="kv">{rows}</dl>')
        return self

    def cards(self, cards: Sequence[Mapping]) -> Section:
        """Headline numbers: each card has ``label``, ``value`` and optionally ``note``."""
        out = ['<div class="cards">']
        for c in cards:
            note = f'<div class="n">{esc(c["note"])}</div>' if c.get("note") else ""
            out.append(
                f'<div class="card"><div class="k">{esc(c["label"])}</div>'
                f'<div class="v">{esc(c["value"])}</div>{note}</div>'
            )
        out.append("</div>")
        self.parts.append("".join(out))
        return self

    def render(self) -> str:
        return f'<section id="{esc(self.id)}"><h2>{esc(self.title)}</h2>{"".join(self.parts)}</section>'


@dataclass
class HtmlReport:
    """A report being built: a title, a subtitle and sections in order."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    #: the report's path, set before rendering so that links can be made relative to it
    target: Path | None = None
    #: files written beside the report (``<report>_files/<name>``): name → content
    attachments: dict[str, bytes] = field(default_factory=dict)

    @property
    def files_dir(self) -> str:
        """Name of the folder beside the report that holds its full tables and SVG figures."""
        stem = self.target.name.split(".")[0] if self.target is not None else "report"
        return f"{stem}_files"

    def attach_file(self, name: str, content: bytes) -> str:
        """Keep ``content`` to be written beside the report; its link relative to the report."""
        base, n = name, 1
        while name in self.attachments:
            n += 1
            name = f"{n}-{base}"
        self.attachments[name] = content
        return f"{self.files_dir}/{name}"

    def attach_table(self, df: pd.DataFrame, caption: str, *, source: Path | None = None) -> str:
        """The link to a whole table: ``source`` when it is a file, else a TSV copy of ``df``."""
        if source is not None and Path(source).is_file() and self.target is not None:
            return os.path.relpath(Path(source).resolve(), self.target.resolve().parent)
        return self.attach_file(f"{slug(caption)[:60]}.tsv", df.to_csv(sep="\t", index=False).encode("utf-8"))

    def section(self, title: str) -> Section:
        """Append and return a new section (its id is unique within the report)."""
        base, n = slug(title), 1
        taken = {s.id for s in self.sections}
        sid = base
        while sid in taken:
            n += 1
            sid = f"{base}-{n}"
        sec = Section(title, id=sid, owner=self)
        self.sections.append(sec)
        return sec

    def render(self) -> str:
        nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in self.sections)
        body = "".join(s.render() for s in self.sections)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="exprlab">'
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(self.title)}</h1><p>{esc(self.subtitle)}</p></header>"
            f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
        )

    def write(self, path: str | os.PathLike) -> Path:
        """Write the report atomically (UTF-8), and its attachments beside it; return its path."""
        target = Path(path)
        if self.attachments:
            with atomic_dir(target.parent / self.files_dir) as tmp:
                for name, content in self.attachments.items():
                    (tmp / name).write_bytes(content)
                # the manifest marks the folder as exprlab's, so that the next rendering replaces it
                (tmp / MANIFEST).write_text(json.dumps({"kind": FILES_KIND, "report": target.name}) + "\n")
        with atomic_path(target) as tmp_file:
            tmp_file.write_text(self.render(), encoding="utf-8")
        return target
