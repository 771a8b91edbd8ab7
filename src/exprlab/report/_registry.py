"""Which function renders which kind of run, and the kit those functions share.

A renderer is ``render(report, path, manifest)``: it appends sections to the
:class:`~exprlab.report._html.HtmlReport` for the run at ``path`` (a folder, or a one-file result)
whose manifest is ``manifest`` (``None`` when the run has none). A module registers its renderer
with one line at import time::

    register_renderer("biomarkers", render_biomarkers, title="exprlab biomarkers")

and :mod:`exprlab.report` imports the module. Inside a renderer, :func:`guarded` turns a part
that cannot be drawn into a visible note and :func:`read_table` reads a run's table with a
readable error; a missing or damaged file never ends in a traceback.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from exprlab.errors import ExprlabError, FileAccessError, FormatError
from exprlab.report._html import HtmlReport, Section

__all__ = [
    "Renderer",
    "register_renderer",
    "renderer_for",
    "guarded",
    "read_table",
    "try_read",
    "RENDER_ERRORS",
]

log = logging.getLogger("exprlab.report")

#: what a damaged or missing file raises while a part of a report is drawn
RENDER_ERRORS: tuple[type[BaseException], ...] = (
    ExprlabError,
    OSError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    ZeroDivisionError,
    zipfile.BadZipFile,
)

RenderFn = Callable[[HtmlReport, Path, "dict | None"], None]


@dataclass(frozen=True)
class Renderer:
    """How one kind of run becomes a report.

    Parameters
    ----------
    kind
        The run kind (``run.json``'s ``kind``).
    render
        ``render(report, path, manifest)``: appends the kind's sections.
    title
        The report's title.
    """

    kind: str
    render: RenderFn
    title: str


_RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str, render: RenderFn, *, title: str | None = None) -> None:
    """Make ``exprlab report`` render runs of ``kind`` with ``render``.

    Parameters
    ----------
    kind
        The run kind, as its ``run.json`` records it.
    render
        ``render(report, path, manifest)``.
    title
        The report's title (default ``exprlab <kind>``).

    Returns
    -------
    None
    """
    _RENDERERS[str(kind)] = Renderer(str(kind), render, title or f"exprlab {kind}")


def renderer_for(kind: str) -> Renderer | None:
    """The renderer registered for ``kind``, ``None`` when there is none.

    Parameters
    ----------
    kind
        A run kind.

    Returns
    -------
    Renderer or None
        What :func:`register_renderer` stored.
    """
    return _RENDERERS.get(str(kind))


def guarded(section: Section, what: str, fn: Callable[[], object]) -> bool:
    """Run one part of a section; a failure becomes a note in the report and a log warning.

    Parameters
    ----------
    section
        Where the note goes.
    what
        The part, as the note names it (e.g. a file name).
    fn
        Draws the part.

    Returns
    -------
    bool
        Whether the part was drawn.
    """
    try:
        fn()
    except RENDER_ERRORS as err:
        log.warning("report: %s could not be rendered: %s", what, err)
        section.note(f"{what} could not be rendered: {err}")
        return False
    return True


def read_table(
    path: Path, nrows: int | None = None, required: Sequence[str] = (), *, literal_text: bool = False
) -> pd.DataFrame:
    """A run's table (``.parquet`` or tab-separated text), with an error naming the file.

    Parameters
    ----------
    path
        The table file.
    nrows
        Read only the first rows.
    required
        Columns the table must have (a damaged file parses into other columns).
    literal_text
        Only empty cells of a text table are missing, so that a gene or class named ``NA`` or
        ``null`` keeps its name.

    Returns
    -------
    pandas.DataFrame
        The table.

    Raises
    ------
    FileAccessError
        The file is missing.
    FormatError
        The file is empty or cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileAccessError(
            "the file is missing", where=path.name, fix="rerun the command that writes this run folder"
        )
    try:
        if path.name.lower().endswith(".parquet"):
            df = pd.read_parquet(path)
            df = df.head(nrows) if nrows else df
        else:
            missing_as = {"keep_default_na": False, "na_values": [""]} if literal_text else {}
            df = pd.read_csv(path, sep="\t", nrows=nrows, **missing_as)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise FormatError(
            f"the table is damaged or empty ({type(err).__name__}: {str(err)[:120]})",
            where=path.name,
            fix="rerun the command that writes this run folder",
        ) from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FormatError(
            f"the table is damaged: it lacks the column(s) {', '.join(missing)}",
            where=path.name,
            fix="rerun the command that writes this run folder",
        )
    return df


def try_read(
    section: Section, path: Path, needed_for: str, required: Sequence[str] = (), *, literal_text: bool = False
) -> pd.DataFrame | None:
    """A run's table, or ``None`` with a note saying which parts of the report it leaves out.

    Parameters
    ----------
    section
        Where the note goes.
    path
        The table file.
    needed_for
        What the report cannot show without it (e.g. ``"the metric table and plots"``).
    required
        Columns the table must have.
    literal_text
        Only empty cells are missing (:func:`read_table`).

    Returns
    -------
    pandas.DataFrame or None
        The table; ``None`` when it is missing or damaged.
    """
    try:
        return read_table(path, required=required, literal_text=literal_text)
    except RENDER_ERRORS as err:
        log.warning("report: %s could not be read: %s", Path(path).name, err)
        section.note(f"{Path(path).name} could not be read, so {needed_for} are not shown: {err}")
        return None


def progress_hint(section: Section, manifest: dict | None, done: int | None = None) -> bool:
    """Say how far a stopped (or still running) resumable run got and how to resume it.

    A resumable run writes its manifest when it starts with ``finished=False`` and a summary
    holding ``planned`` (and ``unit``, e.g. ``"folds"``); ``done`` is counted from the folder
    by the caller, else read from the summary.

    Parameters
    ----------
    section
        Where the sentence goes.
    manifest
        The run's manifest.
    done
        Finished parts counted by the caller.

    Returns
    -------
    bool
        Whether the run is unfinished (and the sentence was written).
    """
    if not manifest or manifest.get("status") != "running":
        return False
    summary = manifest.get("summary") or {}
    planned = summary.get("planned", summary.get("planned_runs"))
    done = summary.get("done") if done is None else done
    unit = summary.get("unit", "runs")
    count = f"{done}/{planned}" if done is not None and planned else str(done if done is not None else "?")
    section.finding(
        f"{count} {unit} done; rerun the same command to resume (or wait: it may still be running)."
    )
    if manifest.get("command"):
        section.paragraph(f"The command: {manifest['command']}")
    return True
