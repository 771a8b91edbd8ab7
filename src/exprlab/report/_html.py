"""Self-contained HTML: one file with inline CSS, tables and images as base64 PNG data URIs.

A report must open anywhere (a mail attachment, an archive, a browser without network), so
nothing is linked: no scripts, no fonts, no external style sheets, no image files.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab.errors import FormatError

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
.note{font-size:.9em;color:#5a4a00;background:#fff8dc;border-left:4px solid #e0c050;
padding:6px 10px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:.88em}
dl.kv dt{font-weight:600}dl.kv dd{margin:0;word-break:break-all}
"""


def esc(value) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value), quote=True)


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


def format_cell(value, digits: int = 4) -> str:
    """Numbers with ``digits`` significant digits, missing values as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "–"
        return f"{value:.{digits}g}"
    return str(value)


def table_html(
    df: pd.DataFrame, *, caption: str | None = None, digits: int = 4, max_rows: int = 200, index: bool = False
) -> str:
    """A DataFrame as an HTML table (numbers right-aligned, text left); long tables are cut."""
    frame = df.reset_index() if index else df
    shown = frame.head(max_rows)
    text_cols = {c for c in shown.columns if not pd.api.types.is_numeric_dtype(shown[c])}
    parts = ['<div class="tw"><table>']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>")
    for c in shown.columns:
        parts.append(f'<th class="{"t" if c in text_cols else ""}">{esc(c)}</th>')
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False):
        parts.append("<tr>")
        for c, v in zip(shown.columns, row, strict=True):
            cls = ' class="t"' if c in text_cols else ""
            parts.append(f"<td{cls}>{esc(format_cell(v, digits))}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    if len(frame) > max_rows:
        parts.append(
            f'<p class="note">{len(frame) - max_rows} more rows not shown '
            f"(see the table file in the run directory).</p>"
        )
    return "".join(parts)


@dataclass
class Section:
    """One titled block of the report."""

    title: str
    parts: list[str] = field(default_factory=list)
    id: str = ""

    def paragraph(self, text: str) -> Section:
        self.parts.append(f"<p>{esc(text)}</p>")
        return self

    def heading(self, text: str) -> Section:
        self.parts.append(f"<h3>{esc(text)}</h3>")
        return self

    def note(self, text: str) -> Section:
        self.parts.append(f'<p class="note">{esc(text)}</p>')
        return self

    def table(self, df: pd.DataFrame, caption: str | None = None, **kw) -> Section:
        self.parts.append(table_html(df, caption=caption, **kw))
        return self

    def image(self, png: bytes, caption: str, *, alt: str | None = None) -> Section:
        self.parts.append(
            f'<figure><img src="{png_data_uri(png)}" alt="{esc(alt or caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
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

    def section(self, title: str) -> Section:
        """Append and return a new section (its id is unique within the report)."""
        base, n = slug(title), 1
        taken = {s.id for s in self.sections}
        sid = base
        while sid in taken:
            n += 1
            sid = f"{base}-{n}"
        sec = Section(title, id=sid)
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
        """Write the report atomically (UTF-8) and return its path."""
        target = Path(path)
        with atomic_path(target) as tmp:
            tmp.write_text(self.render(), encoding="utf-8")
        return target
