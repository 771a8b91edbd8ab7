"""XSum (extreme sum) and XCos (extreme cosine), as in signatureSearch.

Each reference keeps only its ``top`` highest and ``top`` lowest genes by rank (500 by default).
XSum = sum of the reference's values over the query's up genes that are kept minus the sum over
the query's down genes that are kept; negative = reversal. XCos = cosine between the query and
the reference restricted to the kept genes the query contains (its up and down genes; a
gene-set query has value +1 on up and -1 on down genes, a full signature its own values).
When no kept gene is a query gene, XCos is 0 (no evidence either way).
"""

from __future__ import annotations

import numpy as np

from exprlab._validation import check_count
from exprlab.match._base import Method, always, query_values_on_sets, register, row_slices


def kept_mask(rank2: np.ndarray, top: int, n_genes: int | None = None) -> np.ndarray:
    """Boolean mask of each reference's ``top`` highest and ``top`` lowest genes (doubled ranks).

    ``n_genes`` is the size of the gene space when ``rank2`` holds only some of its columns.
    """
    n = rank2.shape[1] if n_genes is None else n_genes
    top = check_count(top, "top", minimum=1)
    return (rank2 <= 2 * top) | (rank2 > 2 * (n - top))


def _chunk_xsum(queries, values, rank2, opts) -> dict[str, np.ndarray]:
    top = int(opts.get("top", 500))
    signed = queries.signed_sets()
    out = np.empty((len(queries), values.shape[0]))
    for lo, hi in row_slices(values.shape[0]):
        kept = kept_mask(rank2[lo:hi], top, opts.get("_n_genes"))
        kv = np.where(kept, values[lo:hi].astype(np.float64), 0.0)
        out[:, lo:hi] = np.asarray(signed @ kv.T)
    return {"score": out}


def _chunk_xcos(queries, values, rank2, opts) -> dict[str, np.ndarray]:
    top = int(opts.get("top", 500))
    qv = query_values_on_sets(queries)
    q2 = qv.multiply(qv)
    qind = (qv != 0).astype(np.float64)
    out = np.empty((len(queries), values.shape[0]))
    for lo, hi in row_slices(values.shape[0]):
        kept = kept_mask(rank2[lo:hi], top, opts.get("_n_genes"))
        kv = np.where(kept, values[lo:hi].astype(np.float64), 0.0)
        num = np.asarray(qv @ kv.T)
        qn = np.asarray(q2 @ kept.T.astype(np.float64))
        rn = np.asarray(qind @ (kv * kv).T)
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
