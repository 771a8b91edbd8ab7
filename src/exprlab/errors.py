"""One exception family for everything exprlab refuses.

Every message says what is wrong, where (file, line, field, gene or signature id) and how to
fix it. The CLI prints the message as one line and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path


class ExprlabError(Exception):
    """Base class of every error exprlab raises on purpose."""

    def __init__(self, what: str, *, where: str | Path | None = None, fix: str | None = None):
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
