"""Scores written to a GCTX file block by block, so that memory does not grow with the library.

A batch of 1,000 queries against a library of a million signatures gives a score matrix of
8 GB in float64: no in-memory result can hold it within a laptop's memory. Here each block of
signatures is scored and its scores are written at once into a GCTX file (the layout of
clue.io's result matrices: rows = library signatures, columns = queries), through the
streaming writer of :mod:`exprlab.io` (:class:`exprlab.io.GctxWriter`). The memory used is
that of one block (the library's block reads and the block's scores), set by the number of
queries and genes, not by the number of signatures.

A method whose score depends on the whole library (scaled KS, NCS, tau, NCS_ct, docs/methods.md
§1.1-1.2) or an aggregation per perturbagen cannot be written a block at a time: those are
refused, naming what to use instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from exprlab._outputs import claim_output
from exprlab._validation import check_choice
from exprlab.errors import InvalidParameterError
from exprlab.io import GctxWriter
from exprlab.match._base import REGISTRY
from exprlab.match._driver import run
from exprlab.match._score import METHODS, MatchMethod, _attrs, _prepare
from exprlab.match._threads import PRODUCT_ROWS

ScoreDtype = Literal["float32", "float64"]
SCORE_DTYPES: tuple[str, ...] = ("float32", "float64")
#: What to use instead of each method that needs the whole library before its scores are known.
_WHOLE_LIBRARY = {
    "ks": "method='ks_raw' (the unscaled KS) streams; the scaled KS divides by each query's "
    "extremes over the whole library, so score it in memory with match.score",
    "ncs": "method='wtcs' streams; NCS normalises by group means over the whole library, so "
    "score it in memory with match.score, a batch of queries at a time",
    "tau": "tau compares with NCS over the whole library: score it in memory with match.score, "
    "a batch of queries at a time",
    "ncs_ct": "NCS_ct summarises every signature of a perturbagen: score it in memory with "
    "match.score, a batch of queries at a time",
}
#: Query rows of an HDF5 chunk of the score file (a divisor of the driver's query batches).
_CHUNK_QUERIES = 64
#: Score bytes per block handed over at most (float64), when the driver would make larger ones
#: (tasks of the Dask backend): 256 MB.
_BLOCK_BYTES = 256 << 20


@dataclass
class ScoreFile:
    """A score matrix written to disk by :func:`score_to_gctx`.

    Parameters
    ----------
    path
        The GCTX file: rows (``rid``) = library signatures, columns (``cid``) = queries.
    report
        One row per query: genes given, genes dropped (absent from the library), set sizes.
    attrs
        What :func:`score` puts in ``DataFrame.attrs``: method, tie rule, kernel, query report
        and method notes.
    shape
        (signatures, queries): the GCT shape of the matrix.
    """

    path: Path
    report: pd.DataFrame
    attrs: dict = field(default_factory=dict)
    shape: tuple[int, int] = (0, 0)


class _GctxSink:
    """Puts each block's main scores into the open :class:`GctxWriter` (queries x signatures)."""

    def __init__(self, writer: GctxWriter):
        self.writer = writer

    def max_block(self, n_queries: int) -> int | None:
        return max(1, _BLOCK_BYTES // (8 * max(1, n_queries)))

    def put(self, parts: dict[str, np.ndarray], rows: slice, lo: int, hi: int) -> None:
        self.writer.write(parts["score"], rows, slice(lo, hi))


def check_streamable(method: str, aggregate: str | None) -> None:
    """Refuse, before any work, what cannot be written a block of signatures at a time.

    Parameters
    ----------
    method
        The scoring method (one of :data:`METHODS`).
    aggregate
        The aggregation rule asked for, or ``None``.
    """
    check_choice(method, "method", METHODS)
    if REGISTRY[method].finalize is not None:
        raise InvalidParameterError(
            f"method {method!r} needs every library signature scored before any score is known, "
            "so it cannot be written to a file block by block",
            where="method",
            fix=_WHOLE_LIBRARY[method],
        )
    if aggregate is not None:
        raise InvalidParameterError(
            "aggregate needs every signature of a perturbagen at once, so it cannot be written to "
            "a file block by block",
            where="aggregate",
            fix="score in memory with match.score(..., aggregate=...), or aggregate the file's rows "
            "afterwards",
        )


def _chunks(n_queries: int, n: int, chunk_size: int | None) -> tuple[int, int]:
    """HDF5 chunk of the score matrix: whole blocks of the driver are whole chunks when possible."""
    width = chunk_size if chunk_size and chunk_size <= 4 * PRODUCT_ROWS else PRODUCT_ROWS
    return max(1, min(n_queries, _CHUNK_QUERIES)), max(1, min(n, width))


def score_to_gctx(
    query,
    library,
    method: MatchMethod = "wtcs",
    *,
    out: str | os.PathLike,
    force: bool = False,
    dtype: ScoreDtype = "float32",
    **kwargs,
) -> ScoreFile:
    """Score queries against a library and write the scores to a GCTX file, block by block.

    The memory used does not grow with the library: each block of signatures is scored and
    written at once, and nothing of size queries x signatures is held (:mod:`exprlab.match._stream`).
    The file has the layout of clue.io's result matrices (docs/user-guide-scoring.md): rows
    (``rid``) are the library's signatures, columns (``cid``) the queries, the matrix stored
    (queries, signatures) as GCTX stores (columns, rows); :func:`exprlab.io.read_gctx` reads it
    back (obs = queries, var = signatures, as :func:`score` returns them). Scores as
    :func:`score` gives them (docs/methods.md §1), stored as ``dtype``.

    Parameters
    ----------
    query, library, method
        As in :func:`score`. Methods whose scores need the whole library (``ks``, ``ncs``,
        ``tau``, ``ncs_ct``) are refused, as is ``aggregate``.
    out
        The ``.gctx`` file to write, atomically: nothing is left at ``out`` if the run fails.
    force
        Replace an existing ``out`` that an earlier exprlab score run wrote; any other existing
        file is never replaced.
    dtype
        ``"float32"`` (default, as CMap's files; about 7 significant digits) or ``"float64"``
        (twice the size, the numbers of :func:`score` exactly).
    **kwargs
        The options of :func:`score` (``up``, ``down``, ``backend``, ``chunk_size``, ``ties``,
        ``gene_space`` ...), except ``key_added``.

    Returns
    -------
    ScoreFile
        The path, the query report, the ``attrs`` :func:`score` would give and the shape.
    """
    check_streamable(method, kwargs.get("aggregate"))
    check_choice(dtype, "dtype", SCORE_DTYPES)
    if "key_added" in kwargs:
        raise InvalidParameterError(
            "key_added stores the score matrix in the query AnnData, which score_to_gctx never holds",
            where="key_added",
            fix="drop key_added, or use match.score",
        )
    backend, client = kwargs.pop("backend", "memory"), kwargs.pop("client", None)
    # the paths among the inputs (objects in memory cannot be overwritten)
    inputs = [i for i in (query, library, kwargs.get("geneinfo")) if isinstance(i, (str, os.PathLike))]
    with claim_output(out, kind="score", inputs=inputs, force=force, suffixes=(".gctx",)) as path:
        prep = _prepare(query, library, method, **kwargs)
        signatures = prep.source.obs.index  # their text form lives only while the ids are written
        chunks = _chunks(len(prep.queries), len(signatures), kwargs.get("chunk_size"))
        with GctxWriter(path, prep.queries.names, signatures, dtype=dtype, chunks=chunks) as writer:
            run(
                prep.scored,
                prep.source,
                prep.method,
                backend=backend,
                chunk_size=kwargs.get("chunk_size"),
                ties=prep.ties,
                opts=dict(prep.opts),
                client=client,
                scores_only=True,
                sink=_GctxSink(writer),
            )
    attrs = _attrs(method, prep)
    return ScoreFile(Path(path), prep.queries.report, attrs, (len(signatures), len(prep.queries)))
