"""One exception family for everything exprlab refuses.

Every message says what is wrong, where (file, line, field, gene or signature id) and how to
fix it. The CLI prints the message as one line and exits with status 2.
"""

from exprlab.errors._family import (
    DataNotFoundError,
    DuplicateIdError,
    ExprlabError,
    FileAccessError,
    FormatError,
    GeneSpaceError,
    InputDataError,
    InvalidParameterError,
    NonFiniteValueError,
    UnknownFormatError,
)

__all__ = [
    "DataNotFoundError",
    "DuplicateIdError",
    "ExprlabError",
    "FileAccessError",
    "FormatError",
    "GeneSpaceError",
    "InputDataError",
    "InvalidParameterError",
    "NonFiniteValueError",
    "UnknownFormatError",
]
