"""The exception classes; :mod:`exprlab.errors` is their public face."""

from __future__ import annotations

import os


class ExprlabError(Exception):
    """Base class of every error exprlab raises on purpose.

    The message is composed as ``"<where>: <what>. Fix: <fix>."`` so that a user reads the
    problem, its place and the remedy on one line (the CLI prints exactly this).

    Parameters
    ----------
    what
        What is wrong, as one clause.
    where
        The place: a file (and line), an option name, a gene or signature id; ``None`` when the
        place is obvious.
    fix
        How to fix it, as one imperative clause; ``None`` when there is no advice to give.
    """

    def __init__(self, what: str, *, where: str | os.PathLike | None = None, fix: str | None = None):
        self.what = what
        self.where = str(where) if where is not None else None
        self.fix = fix
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.what.rstrip("."))
        parts.append(".")
        if self.fix:
            parts.append(f" Fix: {self.fix.rstrip('.')}.")
        return "".join(parts)


class FormatError(ExprlabError):
    """A file's content does not follow its format (GCT, GCTX, GMT, CLS, tables)."""


class UnknownFormatError(ExprlabError):
    """The format of a file cannot be told from its name or content."""


class FileAccessError(ExprlabError):
    """A file is missing or cannot be read or written."""


class DuplicateIdError(FormatError):
    """Gene or sample identifiers repeat where they must be unique."""


class NonFiniteValueError(FormatError):
    """NaN or infinite values where the policy forbids them."""


class GeneSpaceError(ExprlabError):
    """Two objects do not share the gene space they need to share."""


class DataNotFoundError(ExprlabError):
    """A public dataset is absent from the data directory."""


class InvalidParameterError(ExprlabError, ValueError):
    """An option has a value outside what it accepts."""


class InputDataError(ExprlabError, ValueError):
    """Data passed to a function is unusable (empty, wrong shape, single class...)."""
