"""Progress bars for long work: rich when on a terminal, silent otherwise or when quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every progress bar of this process; the CLI's ``--quiet`` sets it."""
    global _QUIET
    _QUIET = quiet


def is_quiet() -> bool:
    """Whether progress bars (and the CLI's info messages) are silenced for this process."""
    return _QUIET


def progress_enabled() -> bool:
    """Bars show only on an interactive terminal and when not silenced."""
    return not _QUIET and sys.stderr.isatty()


def make_progress() -> Progress:
    """A rich Progress with the columns exprlab uses everywhere (disabled when not shown)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
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
