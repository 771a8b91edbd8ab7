"""Progress bars for long work, on stderr: shown on a terminal, silent when piped or quiet.

``EXPRLAB_PROGRESS`` overrides the terminal check: ``always`` shows the bars even when stderr is
not a terminal (a log file then receives each bar's final state, one line per bar), ``never``
hides them, ``auto`` (or unset) shows them on a terminal only. ``--quiet`` hides them in every
case.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from exprlab._validation import check_choice

T = TypeVar("T")

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every progress bar of this process; the CLI's ``--quiet`` sets it."""
    global _QUIET
    _QUIET = quiet


def is_quiet() -> bool:
    """Whether progress bars (and the CLI's info messages) are silenced for this process."""
    return _QUIET


#: environment variable overriding the terminal check, and its values
PROGRESS_ENV = "EXPRLAB_PROGRESS"
PROGRESS_MODES = ("auto", "always", "never")


def progress_mode() -> str:
    """``EXPRLAB_PROGRESS`` (auto, always or never; unset or empty = auto), checked."""
    mode = os.environ.get(PROGRESS_ENV, "").strip().lower() or "auto"
    check_choice(mode, PROGRESS_ENV, PROGRESS_MODES)
    return mode


def progress_enabled() -> bool:
    """Bars show when not silenced, on a terminal (or always/never as ``EXPRLAB_PROGRESS`` says)."""
    if _QUIET:
        return False
    mode = progress_mode()
    return mode == "always" or (mode == "auto" and sys.stderr.isatty())


def make_progress() -> Progress:
    """A rich Progress with the columns exprlab uses everywhere (disabled when not shown)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays for results, which may be piped
        disable=not progress_enabled(),
        transient=False,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` while showing a progress bar described by ``description``.

    Parameters
    ----------
    items
        What to iterate over.
    description
        The bar's label.
    total
        Number of items, when ``items`` has no length (the bar then shows progress against it).

    Yields
    ------
    object
        The items, unchanged.
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress() as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)
