"""XSum (extreme sum) and XCos (extreme cosine), as in signatureSearch.

Each reference keeps only its ``top`` highest and ``top`` lowest genes by rank (500 by default).
XSum = sum of the reference's values over the query's up genes that are kept minus the sum over
the query's down genes that are kept; negative = reversal. XCos = cosine between the query and
the reference restricted to the kept genes the query contains (its up and down genes; a
gene-set query has value +1 on up and -1 on down genes, a full signature its own values).
When no kept gene is a query gene, XCos is 0 (no evidence either way).
"""

from __future__ import annotations

import numba
import numpy as np

from exprlab._validation import check_count
from exprlab.match._base import Method, always, query_values_on_sets, register, row_slices
from exprlab.match._threads import PRODUCT_ROWS, rows_product

_ROWS = 8 * PRODUCT_ROWS  # signatures gathered at a time (float32, query genes only); whole tiles


def kept_mask(rank2: np.ndarray, top: int, n_genes: int | None = None) -> np.ndarray:
    """Boolean mask of each reference's ``top`` highest and ``top`` lowest genes (doubled ranks).

    ``n_genes`` is the size of the gene space when ``rank2`` holds only some of its columns.
    """
    n = rank2.shape[1] if n_genes is None else n_genes
    top = check_count(top, "top", minimum=1)
    return (rank2 <= 2 * top) | (rank2 > 2 * (n - top))


@numba.njit(nogil=True, cache=True)
def _gather_kept(rank2, values, used, low, high, kept, kv):  # pragma: no cover - compiled
    """One pass: the query genes' kept flags and kept values (0 where not kept) of each row."""
    for i in range(rank2.shape[0]):
        for j in range(used.shape[0]):
            r = rank2[i, used[j]]
            k = r <= low or r > high
            kept[i, j] = k
            kv[i, j] = values[i, used[j]] if k else 0


def _on_query_genes(queries, values, rank2, opts):
    """The union of the queries' genes, and per block of rows its kept mask and kept values.

    Only the union's columns matter to XSum and XCos (a reference gene outside every query
    adds nothing), so the block is gathered to them once, in its own dtype (float32), by one
    compiled pass that also applies the kept rule (no temporaries of the whole block).
    """
    top = check_count(int(opts.get("top", 500)), "top", minimum=1)
    n_genes = opts.get("_n_genes") or values.shape[1]
    parts = [np.asarray(s, dtype=np.int64) for s in queries.up + queries.down]
    used = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    values = np.ascontiguousarray(values)
    rank2 = np.ascontiguousarray(rank2)
    for lo, hi in row_slices(values.shape[0], _ROWS):
        kept = np.empty((hi - lo, len(used)), dtype=np.bool_)
        kv = np.empty((hi - lo, len(used)), dtype=values.dtype)
        _gather_kept(rank2[lo:hi], values[lo:hi], used, 2 * top, 2 * (n_genes - top), kept, kv)
        yield lo, hi, used, kept, kv


def _chunk_xsum(queries, values, rank2, opts) -> dict[str, np.ndarray]:
    out = np.empty((len(queries), values.shape[0]))
    signed = queries.signed_sets()
    for lo, hi, used, _kept, kv in _on_query_genes(queries, values, rank2, opts):
        s = signed[:, used].toarray().astype(kv.dtype)
        out[:, lo:hi] = np.asarray(rows_product(kv, s.T), dtype=np.float64).T
    return {"score": out}


def _chunk_xcos(queries, values, rank2, opts) -> dict[str, np.ndarray]:
    qv_all = query_values_on_sets(queries)
    out = np.empty((len(queries), values.shape[0]))
    for lo, hi, used, kept, kv in _on_query_genes(queries, values, rank2, opts):
        qv = qv_all[:, used].toarray()
        num = np.asarray(rows_product(kv, qv.T.astype(kv.dtype)), dtype=np.float64).T
        qn = np.asarray(rows_product(kept, (qv * qv).T.astype(kv.dtype)), dtype=np.float64).T
        rn = np.asarray(rows_product(kv * kv, (qv != 0).T.astype(kv.dtype)), dtype=np.float64).T
        den = np.sqrt(qn * rn)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, lo:hi] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return {"score": out}


XSUM = register(
    Method("xsum", _chunk_xsum, needs_ranks=True, query_genes=always, description="extreme sum (top=500)")
)
XCOS = register(
    Method("xcos", _chunk_xcos, needs_ranks=True, query_genes=always, description="extreme cosine (top=500)")
)
