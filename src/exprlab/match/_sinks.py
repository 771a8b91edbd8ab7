"""Where the driver puts the scores of each block: matrices in memory, or a file being written.

The driver scores a library block by block; each block's named (queries, signatures) matrices
go to a sink. :class:`MatrixSink` assembles them into whole matrices (what :func:`score`
returns); a sink that writes each block to disk (:mod:`exprlab.match._stream`) keeps nothing
of size queries x signatures, so the memory of scoring does not grow with the library.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Sink(Protocol):
    """Receives the scores of one block: rows ``rows`` of the queries, signatures ``lo:hi``."""

    #: signatures per block the sink wants at most with ``n`` queries (``None``: any number)
    def max_block(self, n_queries: int) -> int | None: ...

    def put(self, parts: dict[str, np.ndarray], rows: slice, lo: int, hi: int) -> None: ...


class MatrixSink:
    """Whole (n_queries, n) matrices of signatures ``first:first + n``, filled block by block.

    Parameters
    ----------
    n_queries
        Rows of every matrix.
    first, n
        The signatures covered: their first position in the library and their number.
    keep
        The names of the matrices kept (``None``: every one the method returns).
    """

    def __init__(self, n_queries: int, first: int, n: int, keep: tuple[str, ...] | None = None):
        self.n_queries, self.first, self.n, self.keep = n_queries, first, n, keep
        self.out: dict[str, np.ndarray] = {}

    def max_block(self, n_queries: int) -> int | None:
        """No limit: the whole matrices are held anyway."""
        return None

    def put(self, parts: dict[str, np.ndarray], rows: slice, lo: int, hi: int) -> None:
        """Copy each kept matrix of the block into its place."""
        for key, part in parts.items():
            if self.keep is not None and key not in self.keep:
                continue
            if key not in self.out:
                self.out[key] = np.empty((self.n_queries, self.n), dtype=part.dtype)
            self.out[key][rows, lo - self.first : hi - self.first] = part
