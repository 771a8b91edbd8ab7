"""Render any run into one self-contained HTML report.

The kind of run comes from its manifest (``run.json`` in a run folder, ``<file>.run.json`` beside
a one-file result) or, when there is none, from the files present:

``match-benchmark``
    ``metrics.tsv`` (+ ``per_disease.tsv``, ``predictions.parquet``, ``ratios.tsv`` ...), as
    written by ``exprlab match benchmark``;
``xai-study``
    ``summary.tsv`` or ``study.json``, and ``runs/``, as written by ``exprlab xai-study``;
``score``
    a score table (``.parquet`` / ``.tsv``) with ``query`` and ``score`` columns (tidy) or a
    queries × signatures matrix, as written by ``exprlab score``; the table itself may be given;
``match-explanation``
    ``summary.json`` and ``genes.tsv`` (+ ``pathways.tsv``, ``explanation.png``), as written by
    ``exprlab match explain``;
``match-train``
    ``model.json`` and ``genes.txt``, as written by ``exprlab match train``;
``demo``
    a folder whose sub-folders are runs of the kinds above (``exprlab demo``, or a folder of
    explained matches: one section per match).

Each kind is drawn by the renderer registered for it (:mod:`exprlab.report._registry`); anything
else is rendered as a listing of its tables and images. A part that cannot be rendered (a missing
or malformed file) becomes a visible note in its section and a warning in the log, never a
traceback.
"""

from __future__ import annotations

import json
import logging
import os
from functools import partial
from pathlib import Path

import pandas as pd

from exprlab._progress import track
from exprlab._runs import (
    DEMO,
    MATCH_BENCHMARK,
    MATCH_EXPLANATION,
    MATCH_TRAIN,
    REPORT,
    SCORE,
    SIGNATURE_SEARCH,
    XAI_STUDY,
)
from exprlab.errors import FileAccessError, InvalidParameterError
from exprlab.report import _plots as plots
from exprlab.report._format import fmt, human_bytes
from exprlab.report._html import FILES_KIND, HtmlReport, Section
from exprlab.report._manifest import read_run_manifest
from exprlab.report._registry import RENDER_ERRORS, guarded, read_table, register_renderer, renderer_for
from exprlab.report._render_match import render_explanation, render_match
from exprlab.report._render_score import render_score, score_tables
from exprlab.report._render_xai import render_xai

log = logging.getLogger("exprlab.report")

_TABLE_SUFFIXES = SCORE.suffixes


# ----------------------------------------------------------------------------- detection
def detect_kind(path: str | os.PathLike) -> str:
    """The kind of run stored at ``path`` (see the module docstring), ``generic`` if unknown.

    The manifest's kind wins; without one the kind is guessed from the files present.

    Parameters
    ----------
    path
        A run directory, or a one-file result (a score table, a library).

    Returns
    -------
    str
        One of :data:`exprlab._runs.KINDS`, another registered kind, or ``"generic"``.
    """
    p = Path(path)
    try:
        manifest = read_run_manifest(p)
    except RENDER_ERRORS:
        manifest = None
    if manifest and manifest.get("kind"):
        return str(manifest["kind"])
    if p.is_file():
        return SCORE.kind if p.name.lower().endswith(_TABLE_SUFFIXES) else "generic"
    if (p / MATCH_BENCHMARK.metrics).is_file():
        return MATCH_BENCHMARK.kind
    if ((p / XAI_STUDY.summary).is_file() or (p / XAI_STUDY.options).is_file()) and (
        p / XAI_STUDY.runs
    ).is_dir():
        return XAI_STUDY.kind
    if (p / MATCH_EXPLANATION.summary).is_file() and (p / MATCH_EXPLANATION.genes).is_file():
        return MATCH_EXPLANATION.kind
    if (p / SIGNATURE_SEARCH.hits).is_file() and (p / SIGNATURE_SEARCH.enrichment).is_file():
        return SIGNATURE_SEARCH.kind
    if (p / MATCH_TRAIN.model).is_file() and (p / MATCH_TRAIN.genes).is_file():
        return MATCH_TRAIN.kind
    if score_tables(p):
        return SCORE.kind
    if any(detect_kind(sub) != "generic" for sub in _subruns(p)):
        return DEMO.kind
    return "generic"


def _subruns(p: Path) -> list[Path]:
    """Sub-folders that may be runs (not hidden, not the files of a report)."""
    return sorted(
        d
        for d in p.iterdir()
        if d.is_dir() and not d.name.startswith(".") and _manifest_kind(d) != FILES_KIND
    )


def _manifest_kind(p: Path) -> str | None:
    try:
        manifest = read_run_manifest(p)
    except RENDER_ERRORS:
        return None
    return str(manifest.get("kind")) if manifest else None


# ----------------------------------------------------------------------------- common
def _about(report: HtmlReport, run_dir: Path, manifest: dict | None, kind: str) -> None:
    """Parameters, software versions and the inputs (path, size, sha256) of the run."""
    sec = report.section("Parameters, versions and data provenance")
    if manifest is None:
        sec.note(
            "This run has no run.json manifest: parameters, software versions "
            "and data provenance were not recorded by the command that wrote it."
        )
        sec.key_values({"kind (detected from its files)": kind, "run": run_dir})
        return
    sec.key_values(
        {
            "kind": manifest.get("kind", kind),
            "status": manifest.get("status", "finished"),
            "command": manifest.get("command", ""),
            "started (UTC)": manifest.get("started", ""),
            "finished (UTC)": manifest.get("finished") or "not yet",
            "platform": manifest.get("platform", ""),
        }
    )
    params = manifest.get("parameters") or {}
    if params:
        sec.heading("Parameters")
        sec.key_values(
            {
                k: json.dumps(v, default=str) if isinstance(v, dict | list) else fmt(v)
                for k, v in params.items()
            }
        )
    versions = manifest.get("versions") or {}
    if versions:
        sec.heading("Software versions")
        sec.key_values(versions)
    _provenance(sec, manifest.get("data_provenance") or [])


def _provenance(sec: Section, entries: list) -> None:
    """The inputs of a run, one row each: name, path, size, checksum (and what else was recorded)."""
    sec.heading("Data provenance")
    if not entries:
        sec.paragraph("No input files: the data were generated by the run itself.")
        return
    rows = []
    for entry in entries:
        d = dict(entry) if isinstance(entry, dict) else {"name": str(entry)}
        row = {
            "input": d.pop("name", ""),
            "path": d.pop("path", "–"),
            "size": human_bytes(d.pop("bytes", None)),
            "sha256": d.pop("sha256", "–"),
        }
        d.pop("modified", None)
        row.update({k: json.dumps(v, default=str) if isinstance(v, dict | list) else v for k, v in d.items()})
        rows.append(row)
    sec.table(pd.DataFrame(rows), max_rows=50)


# ----------------------------------------------------------------------------- generic
def _head_table(sec: Section, path: Path) -> None:
    table = read_table(path)
    sec.table(table, caption=path.name, source=path)


def _png(sec: Section, path: Path) -> None:
    sec.image(path.read_bytes(), path.name)


def _render_generic(report: HtmlReport, run_dir: Path, title: str = "Files") -> None:
    sec = report.section(title)
    files = sorted(f for f in run_dir.rglob("*") if f.is_file()) if run_dir.is_dir() else [run_dir]
    sec.paragraph(
        f"{len(files)} files; this is not a run exprlab recognises, so its tables and images are shown as they are."
    )
    base = run_dir if run_dir.is_dir() else run_dir.parent
    sec.table(
        pd.DataFrame(
            {
                "file": [str(f.relative_to(base)) for f in files],
                "size": [human_bytes(f.stat().st_size) for f in files],
            }
        ),
        max_rows=100,
    )
    for f in files[:40]:
        if f.name.lower().endswith(_TABLE_SUFFIXES):
            guarded(sec, f.name, partial(_head_table, sec, f))
        elif f.suffix.lower() == ".png":
            guarded(sec, f.name, partial(_png, sec, f))


# ----------------------------------------------------------------------------- demo
def _demo_summary(sec: Section, summary: dict) -> None:
    """The headline text, cards and tables a demo stored in its manifest."""
    if summary.get("text"):
        for line in summary["text"]:
            sec.paragraph(line)
    if summary.get("cards"):
        sec.cards(summary["cards"])
    for caption, rows in (summary.get("tables") or {}).items():
        if rows:
            sec.table(pd.DataFrame(rows), caption=caption)
    if summary.get("seconds") is not None:
        sec.paragraph(f"Wall time: {fmt(summary['seconds'])} s.")
    if not summary:
        sec.paragraph("A run folder holding several runs; each is rendered below.")


def _render_part(report: HtmlReport, sub: Path, kind: str) -> None:
    """One part of a demo folder, with the part's folder name in its title."""
    name = sub.name
    try:
        manifest = read_run_manifest(sub)
    except RENDER_ERRORS:
        manifest = None
    if kind == XAI_STUDY.kind:
        render_xai(report, sub, f"Explanations ({name})", manifest=manifest)
    elif kind == MATCH_BENCHMARK.kind:
        render_match(report, sub, f"Drug-disease retrieval ({name})")
    elif kind == SCORE.kind:
        render_score(report, sub, f"Connectivity scores ({name})", manifest=manifest)
    elif kind == MATCH_EXPLANATION.kind:
        render_explanation(report, sub)
    else:
        renderer = renderer_for(kind)
        if renderer is not None:
            renderer.render(report, sub, manifest)


def _render_demo(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    summary = (manifest or {}).get("summary") or {}
    sec = report.section("Summary")
    _demo_summary(sec, summary)
    for sub in track(_subruns(run_dir), "rendering report"):
        kind = detect_kind(sub)
        if kind not in ("generic", DEMO.kind):
            guarded(sec, sub.name, partial(_render_part, report, sub, kind))


register_renderer(DEMO.kind, _render_demo, title="exprlab demo")
register_renderer(
    XAI_STUDY.kind,
    lambda report, path, manifest: render_xai(report, path, manifest=manifest),
    title="exprlab explanation study",
)


# ----------------------------------------------------------------------------- entry point
def _target(src: Path, out: str | os.PathLike | None) -> Path:
    """Where the report goes: ``out``, or beside/inside the run; refused unless it ends in .html."""
    if out is None:
        out = src / REPORT if src.is_dir() else src.with_name(src.name.split(".")[0] + ".report.html")
    out = Path(out)
    if not out.name.lower().endswith((".html", ".htm")):
        raise InvalidParameterError(
            f"the report file {out.name!r} does not end in .html",
            where="--out",
            fix="name the report e.g. report.html",
        )
    return out


def render_report(
    run_dir: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    name: str | None = None,
    svg: bool = False,
) -> Path:
    """Render ``run_dir`` (a run directory, or a one-file result) to one self-contained HTML file.

    Parameters
    ----------
    run_dir
        A folder written by an exprlab command (see the module docstring), a score table or a
        library file.
    out
        The HTML file to write (atomically); default ``<run_dir>/report.html`` (for a file:
        ``<file>.report.html`` beside it). Tables cut at 20 rows link to their full version,
        written beside the report (``<report>_files/``) when the run has no file of it.
    name
        The run's name shown in the title (default: the folder's name).
    svg
        Also write every figure as an SVG file in ``<report>_files/`` (linked under it).

    Returns
    -------
    Path
        Path of the written report.
    """
    src = Path(run_dir)
    if not src.exists():
        raise FileAccessError(
            "the run directory does not exist", where=src, fix="pass the --out folder of an exprlab command"
        )
    out = _target(src, out)
    manifest = read_run_manifest(src)
    kind = detect_kind(src)
    renderer = renderer_for(kind)
    log.debug("rendering a %s report of %s", kind, src)
    finished = f" — finished {manifest['finished']} UTC" if manifest and manifest.get("finished") else ""
    report = HtmlReport(
        renderer.title if renderer else f"exprlab {'run' if kind == 'generic' else kind}",
        subtitle=f"{kind} run: {name or src.name}{finished}",
        target=out,
    )
    with plots.svg_figures(svg):
        if renderer is not None and src.is_file():  # a result file the user named: errors are errors
            renderer.render(report, src, manifest)
        elif renderer is not None:
            sec_count = len(report.sections)
            try:
                renderer.render(report, src, manifest)
            except RENDER_ERRORS as err:
                log.warning("report: the %s run could not be rendered: %s", kind, err)
                sec = report.sections[-1] if len(report.sections) > sec_count else report.section("Run")
                sec.note(f"this {kind} run could not be rendered completely: {err}")
        else:
            _render_generic(report, src)
    _about(report, src, manifest, kind)
    path = report.write(out)
    log.debug("wrote %s", path)
    return path
