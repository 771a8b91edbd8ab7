"""Logging for commands and workflows: a rich console handler and a log file in the run directory.

Every exprlab module logs through ``logging.getLogger("exprlab.<module>")``. A command calls
:func:`configure_logging` once: messages go to the terminal through rich (warnings only with
``quiet``, debug details with ``verbose``) and, when a run directory is given, every message at
debug level goes to ``<run_dir>/exprlab.log`` so that a finished run keeps its own record.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from exprlab._progress import is_quiet, set_quiet
from exprlab.errors import FileAccessError, InvalidParameterError

LOGGER_NAME = "exprlab"
LOG_FILE = "exprlab.log"
_MARK = "_exprlab_handler"


def _remove_own_handlers(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, _MARK, False):
            logger.removeHandler(handler)
            handler.close()


def configure_logging(
    run_dir: str | os.PathLike | None = None, verbose: bool = False, quiet: bool = False
) -> logging.Logger:
    """Set up the ``exprlab`` logger for one command and return it.

    Parameters
    ----------
    run_dir
        Folder receiving ``exprlab.log`` (appended to, debug level); ``None`` for no file.
    verbose
        Show debug messages on the terminal.
    quiet
        Show only warnings and errors on the terminal, and silence progress bars.

    Returns
    -------
    logging.Logger
        The ``exprlab`` logger. Calling this again replaces the handlers a previous call
        installed (never anyone else's).
    """
    if verbose and quiet:
        raise InvalidParameterError(
            "--verbose and --quiet contradict each other",
            where="command line",
            fix="pass at most one of them",
        )
    logger = logging.getLogger(LOGGER_NAME)
    _remove_own_handlers(logger)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    set_quiet(quiet)

    console = RichHandler(
        console=Console(stderr=True),
        show_path=verbose,
        show_time=verbose,
        rich_tracebacks=False,
        markup=False,
    )
    console.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    console.setFormatter(logging.Formatter("%(message)s"))
    setattr(console, _MARK, True)
    logger.addHandler(console)

    if run_dir is not None:
        attach_log_file(run_dir)
    return logger


def attach_log_file(run_dir: str | os.PathLike) -> Path:
    """Send every ``exprlab`` message (debug level) to ``<run_dir>/exprlab.log`` (appended).

    Replaces a log file attached before; the console handler is left as it is.

    Parameters
    ----------
    run_dir
        An existing run folder.

    Returns
    -------
    pathlib.Path
        The log file.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise FileAccessError(
            "the run directory does not exist",
            where=folder,
            fix="create it first or pass an existing run directory",
        )
    close_log_file()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.DEBUG)
    file_handler = logging.FileHandler(folder / LOG_FILE, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(_file_formatter())
    setattr(file_handler, _MARK, True)
    logger.addHandler(file_handler)
    return folder / LOG_FILE


def close_log_file() -> None:
    """Detach and close the log file handler (before a run directory is moved or deleted)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, _MARK, False) and isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
            handler.close()


def command_logging(verbose: bool = False, quiet: bool = False) -> logging.Logger:
    """Logging for one command whose own ``--verbose`` / ``--quiet`` options were parsed.

    The root options (``exprlab --quiet COMMAND``) may already have configured logging: without
    a flag of its own, a command keeps that set-up (and the root's quiet setting) instead of
    resetting it.

    Parameters
    ----------
    verbose, quiet
        The command's own ``--verbose`` and ``--quiet`` flags.

    Returns
    -------
    logging.Logger
        The ``exprlab`` logger.
    """
    logger = logging.getLogger(LOGGER_NAME)
    root_quiet = is_quiet()
    configured = any(
        getattr(h, _MARK, False) and not isinstance(h, logging.FileHandler) for h in logger.handlers
    )
    if verbose or quiet or not configured:
        return configure_logging(None, verbose=verbose, quiet=quiet or (root_quiet and not verbose))
    return logger


def _file_formatter() -> logging.Formatter:
    return logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")


@contextlib.contextmanager
def _extra_handler(handler: logging.Handler) -> Iterator[None]:
    """Add ``handler`` (at debug level) to the ``exprlab`` logger for a block, then remove it."""
    logger = logging.getLogger(LOGGER_NAME)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(_file_formatter())
    previous = logger.level
    if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
        logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(previous)


class _ListHandler(logging.Handler):
    """Keeps formatted records in a list (see :func:`collect_log`)."""

    def __init__(self, lines: list[str]):
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def collect_log() -> Iterator[list[str]]:
    """Collect every ``exprlab`` message of a block in a list, for a run directory written at the end.

    Workflows whose output directory appears atomically only when complete cannot log into it
    while they run; they keep their messages here and write them as ``exprlab.log`` with the rest.
    """
    lines: list[str] = []
    with _extra_handler(_ListHandler(lines)):
        yield lines


@contextlib.contextmanager
def log_to(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Also send every ``exprlab`` message of a block to ``<run_dir>/exprlab.log`` (appended).

    Unlike :func:`attach_log_file` it leaves every other handler in place, so a workflow run
    inside another (the demo's explanation study) logs to both run directories.
    """
    path = Path(run_dir) / LOG_FILE
    with _extra_handler(logging.FileHandler(path, encoding="utf-8")):
        yield path


class _RecordHandler(logging.Handler):
    """Keeps records, made picklable (message formatted, no arguments or traceback objects)."""

    def __init__(self, records: list[logging.LogRecord]):
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        kept = logging.makeLogRecord(record.__dict__)
        kept.msg, kept.args = record.getMessage(), None
        if record.exc_info:
            kept.exc_text = logging.Formatter().formatException(record.exc_info)
        kept.exc_info = None
        self.records.append(kept)


@contextlib.contextmanager
def collect_records() -> Iterator[list[logging.LogRecord]]:
    """Collect every ``exprlab`` record of a block, to be handed to :func:`replay_records`.

    A task run in a worker process logs into a logger nobody reads; collecting its records and
    replaying them in the parent keeps the parent's terminal, log file and :func:`collect_log`
    lists complete, in the order of the tasks.
    """
    records: list[logging.LogRecord] = []
    with _extra_handler(_RecordHandler(records)):
        yield records


def replay_records(records: list[logging.LogRecord]) -> None:
    """Pass records collected by :func:`collect_records` (possibly elsewhere) to this process's handlers."""
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
