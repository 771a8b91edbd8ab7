"""What a scoring method provides to the chunking driver.

Each method module defines one or more :class:`Method` objects. ``chunk`` scores all queries
against one block of library signatures and returns named (n_queries, n_block) matrices (the
main one under ``"score"``); the driver concatenates blocks in library order; ``finalize``
(optional) then applies library-wide steps such as scaling (KS), group normalisation (NCS) or
the background comparison (tau). ``chunk`` must depend only on its block, so every backend
(memory, disk, Dask) gives identical numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

REGISTRY: dict[str, Method] = {}


@dataclass(frozen=True)
class Method:
    """A scoring method: its block function, optional library-wide step and needs.

    ``needs_values`` is False for methods that use ranks only (KS), so a library with stored
    ranks is not read for values. ``query_genes`` says, for given queries, whether ``chunk``
    gives the same numbers from the queries' genes alone: it is then called with the block's
    columns restricted to those genes (queries re-indexed to them) and ``opts["_n_genes"]``
    holding the size of the full gene space, ``opts["_row_stats"]`` the block's per-signature
    (sum, sum of squares) over every gene.
    """

    name: str
    chunk: Callable[..., dict[str, np.ndarray]]
    finalize: Callable[..., dict[str, np.ndarray]] | None = None
    needs_ranks: bool = False
    needs_vectors: bool = False
    needs_values: bool = True
    query_genes: Callable[[Any], bool] | None = None
    extra_queries: Callable | None = None
    options: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""


def register(method: Method) -> Method:
    """Add ``method`` to the registry used by :func:`exprlab.match.score`."""
    REGISTRY[method.name] = method
    return method


def combine_up_down(
    up: np.ndarray, down: np.ndarray, n_up, n_down, *, rule: str, out: np.ndarray | None = None
) -> np.ndarray:
    """Combine per-set statistics of up and down sets into one score per (query, reference).

    ``rule="opposite"`` (KS): up - down when the two have opposite signs (product < 0), else 0.
    ``rule="sign_differs"`` (WTCS): (up - down) / 2 when sign(up) != sign(down), else 0.
    A query with only an up set scores its up statistic, one with only a down set minus its
    down statistic. One compiled pass writes ``out`` (float64, new if None): a batch of
    queries combines matrices of hundreds of MB per block, and the temporaries of a numpy
    expression would cost a page fault per 4 kB of each.
    """
    if out is None:
        out = np.empty(up.shape, dtype=np.float64)
    _combine_kernel(
        up,
        down,
        np.asarray(n_up, dtype=np.int64),
        np.asarray(n_down, dtype=np.int64),
        rule == "opposite",
        out,
    )
    return out


@numba.njit(nogil=True, cache=True)
def _combine_kernel(up, down, n_up, n_down, opposite, out):  # pragma: no cover - compiled
    """:func:`combine_up_down`, element by element."""
    for i in range(up.shape[0]):
        has_up, has_down = n_up[i] > 0, n_down[i] > 0
        for j in range(up.shape[1]):
            u, d = up[i, j], down[i, j]
            if has_up and has_down:
                if opposite:
                    out[i, j] = u - d if u * d < 0 else 0.0
                else:
                    out[i, j] = (u - d) / 2.0 if np.sign(u) != np.sign(d) else 0.0
            elif has_up:
                out[i, j] = u
            elif has_down:
                out[i, j] = -d
            else:
                out[i, j] = 0.0


def scratch_array(opts: dict, key: str, shape: tuple[int, int]) -> np.ndarray | None:
    """Float64 memory kept across blocks for ``key``, when the driver gives some (else None).

    A driver scoring block after block into a sink that copies each block away passes
    ``opts["_scratch"]`` (an object with ``take(key, shape, dtype)``, such as the reader's
    :class:`exprlab.match._genemajor.BlockBuffers`): the per-set statistics and the combined
    scores of a block then reuse the memory of the block before instead of faulting in new
    pages (a batch of 1,000 queries fills 64 MB per 4,096 signatures).
    """
    scratch = opts.get("_scratch")
    return None if scratch is None else scratch.take(key, shape, np.float64)


def set_sizes(queries) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of up and down genes of each query."""
    return (np.array([len(u) for u in queries.up]), np.array([len(d) for d in queries.down]))


def always(queries) -> bool:
    """``Method.query_genes`` of a method that reads only the queries' genes for any query."""
    return True


def row_slices(n: int, step: int = 2048):
    """(start, stop) pairs covering ``range(n)`` in steps (bounds float64 temporaries)."""
    for lo in range(0, n, step):
        yield lo, min(n, lo + step)


def query_values_on_sets(queries, rows: slice | None = None):
    """Sparse (n_queries, n_genes) query values on each query's up and down genes.

    Gene-set queries give +1/-1; full signatures give their own values on those genes.
    """
    signed = queries.signed_sets(rows).tocoo()
    if queries.vectors is None:
        return signed.tocsr()
    vec = queries.vectors if rows is None else queries.vectors[rows]
    data = vec[signed.row, signed.col]
    return sp.csr_matrix((data, (signed.row, signed.col)), shape=signed.shape)
