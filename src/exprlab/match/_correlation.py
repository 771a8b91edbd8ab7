"""Cosine, Pearson and Spearman between full query and reference vectors over shared genes.

A full-signature query uses the genes it shares with the library (its vector is NaN elsewhere);
a gene-set query is the vector +1 on up genes, -1 on down genes, 0 on every other library gene
(kept sparse, so thousands of set queries cost a sparse product). Spearman is Pearson on
midranks computed over the shared genes only. A constant vector has no correlation: NaN.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from exprlab.match._base import Method, register, row_slices
from exprlab.match._threads import PRODUCT_ROWS, rows_product

_QUERY_BATCH = 256
_ROWS = 8 * PRODUCT_ROWS  # signatures per block of sums (float32, no float64 copy); whole tiles


def _sums_over(v: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's sum and sum of squares over each gene mask (rows x masks), as products."""
    m = masks.T.astype(v.dtype)
    return rows_product(v, m).astype(np.float64), rows_product(v * v, m).astype(np.float64)


def dense_moments(q: np.ndarray, v: np.ndarray, stats=None, *, center: bool = False):
    """Sums for cosine/Pearson: dense query rows ``q`` (NaN = gene absent) against rows ``v``.

    Returns n, sum q, sum q^2 (queries x 1), sum r, sum r^2 over each query's genes and
    sum q r (queries x references). The products run in the dtype of ``v`` (float32 for a
    library; docs/user-guide-scoring.md gives the accuracy); ``stats`` (n_genes, row sums, row
    sums of squares over every gene, float64) stands for the reference sums of queries that
    cover every gene. With ``center`` the query is centred on its mean first, so ``sum q r``
    is already the covariance sum (Pearson without cancellation) and ``sum q`` is 0.
    """
    mask = np.isfinite(q)
    n = mask.sum(axis=1)[:, None].astype(np.float64)
    q0 = np.where(mask, q, 0.0)
    if center:
        scale = (q0 * q0).sum(axis=1, keepdims=True)
        q0 = np.where(mask, q0 - q0.sum(axis=1, keepdims=True) / np.maximum(n, 1), 0.0)
        flat = (q0 * q0).sum(axis=1, keepdims=True) <= 1e-24 * scale  # constant up to rounding
        q0 = np.where(flat, 0.0, q0)
    sq = q0.sum(axis=1)[:, None]
    sqq = (q0 * q0).sum(axis=1)[:, None]
    sqr = np.asarray(rows_product(v, q0.T.astype(v.dtype)), dtype=np.float64).T
    uniq, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    if stats is not None and uniq.shape[0] == 1 and uniq[0].all():
        sr = np.broadcast_to(np.asarray(stats[1], dtype=np.float64)[None, :], sqr.shape)
        srr = np.broadcast_to(np.asarray(stats[2], dtype=np.float64)[None, :], sqr.shape)
    else:
        sums, sumsq = _sums_over(v, uniq)
        sr, srr = sums[:, inverse].T, sumsq[:, inverse].T
    return n, sq, sqq, sr, srr, sqr


def sparse_moments(qs: sp.csr_matrix, v: np.ndarray, stats=None):
    """The same sums for sparse query rows defined on every gene (implicit zeros).

    ``stats`` = (n_genes, sum, sum of squares of each row of ``v`` over every gene) when stored
    (or when ``v`` holds only the columns the queries use: a gene-major library stores them).
    Only the columns the queries use are read from ``v``, in its own dtype.
    """
    if stats is None:
        sums, sumsq = _sums_over(v, np.ones((1, v.shape[1]), dtype=bool))
        stats = (v.shape[1], sums[:, 0], sumsq[:, 0])
    n_genes, row_sum, row_sumsq = stats
    qs = qs.tocsr()
    used = np.unique(qs.indices)
    n = np.full((qs.shape[0], 1), float(n_genes))
    sq = np.asarray(qs.sum(axis=1))
    sqq = np.asarray(qs.multiply(qs).sum(axis=1))
    dense = qs[:, used].toarray().astype(v.dtype)
    sqr = np.asarray(rows_product(v[:, used], dense.T), dtype=np.float64).T
    sr = np.broadcast_to(np.asarray(row_sum, dtype=np.float64)[None, :], sqr.shape)
    srr = np.broadcast_to(np.asarray(row_sumsq, dtype=np.float64)[None, :], sqr.shape)
    return n, sq, sqq, sr, srr, sqr


def cosine_from(moments) -> np.ndarray:
    """Cosine similarity from :func:`dense_moments`/:func:`sparse_moments` sums."""
    n, sq, sqq, sr, srr, sqr = moments
    den = np.sqrt(sqq * srr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, sqr / np.where(den > 0, den, 1.0), np.nan)


def pearson_from(moments) -> np.ndarray:
    """Pearson correlation from the sums (NaN when either vector is constant)."""
    n, sq, sqq, sr, srr, sqr = moments
    cov = sqr - sq * sr / n
    var_q = sqq - sq * sq / n
    var_r = srr - sr * sr / n
    valid = (var_q > 1e-12 * sqq) & (var_r > 1e-12 * srr)
    den = np.sqrt(np.where(valid, var_q * var_r, 1.0))
    return np.where(valid, cov / den, np.nan)


def _set_rank_offsets(qs: sp.csr_matrix) -> sp.csr_matrix:
    """Midranks of each +1/-1/0 query vector minus the midrank of 0 (zeros stay implicit).

    Pearson ignores a constant shift, so these sparse offsets stand in for the full rank vector.
    """
    g = qs.shape[1]
    qs = qs.tocsr()
    n_up = np.asarray((qs > 0).sum(axis=1)).ravel()
    n_dn = np.asarray((qs < 0).sum(axis=1)).ravel()
    r_dn = (n_dn + 1) / 2.0
    r_0 = (n_dn + 1 + g - n_up) / 2.0
    r_up = (g - n_up + 1 + g) / 2.0
    rows = np.repeat(np.arange(qs.shape[0]), np.diff(qs.indptr))
    data = np.where(qs.data > 0, (r_up - r_0)[rows], (r_dn - r_0)[rows])
    return sp.csr_matrix((data, qs.indices, qs.indptr), shape=qs.shape)


def _spearman_dense(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = np.empty((q.shape[0], v.shape[0]))
    uniq, inverse = np.unique(np.isfinite(q), axis=0, return_inverse=True)
    for u, mask in enumerate(uniq):
        rows = np.flatnonzero(inverse.ravel() == u)
        rq = rankdata(q[np.ix_(rows, np.flatnonzero(mask))], method="average", axis=1)
        rv = rankdata(v[:, mask], method="average", axis=1)
        out[rows] = pearson_from(dense_moments(rq, rv))
    return out


def _block(kind: str, queries, qs: slice, v: np.ndarray, stats=None) -> np.ndarray:
    if queries.kind == "sets":
        signed = queries.signed_sets(qs)
        if kind == "spearman":
            return pearson_from(sparse_moments(_set_rank_offsets(signed), rankdata(v, axis=1)))
        moments = sparse_moments(signed, v, stats)
    else:
        q = queries.dense_vectors(qs)
        if kind == "spearman":
            return _spearman_dense(q, v.astype(np.float64))
        moments = dense_moments(q, v, stats, center=kind == "pearson")
    return pearson_from(moments) if kind == "pearson" else cosine_from(moments)


def vector_scores(kind: str, queries, values: np.ndarray, opts=None) -> np.ndarray:
    """``kind`` in cosine/pearson/spearman of every query against every row of ``values``.

    ``opts["_row_stats"]``: the block's per-signature (n_genes, sum, sum of squares) over every
    gene, stored at build; with gene-set queries on a gene-major library ``values`` holds the
    queries' genes only and these sums stand for the other genes. Products run in float32 on a
    float32 library (no float64 copy of the block).
    """
    out = np.empty((len(queries), values.shape[0]))
    stats = (opts or {}).get("_row_stats")
    batch = _QUERY_BATCH * (8 if queries.kind == "sets" else 1)  # sparse rows are light
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    for qlo in range(0, len(queries), batch):
        qs = slice(qlo, min(len(queries), qlo + batch))
        for lo, hi in row_slices(values.shape[0], _ROWS):
            part = None if stats is None else (stats[0], stats[1][lo:hi], stats[2][lo:hi])
            out[qs, lo:hi] = _block(kind, queries, qs, values[lo:hi], part)
    return out


def _sets_only(queries) -> bool:
    """Gene-set queries need only their genes' values (full signatures need every gene)."""
    return queries.kind == "sets"


def _cosine(queries, values, rank2, opts):
    return {"score": vector_scores("cosine", queries, values, opts)}


def _pearson(queries, values, rank2, opts):
    return {"score": vector_scores("pearson", queries, values, opts)}


def _spearman(queries, values, rank2, opts):
    return {"score": vector_scores("spearman", queries, values)}


COSINE = register(
    Method(
        "cosine",
        _cosine,
        needs_vectors=True,
        query_genes=_sets_only,
        description="cosine similarity over shared genes",
    )
)
PEARSON = register(
    Method(
        "pearson",
        _pearson,
        needs_vectors=True,
        query_genes=_sets_only,
        description="Pearson correlation over shared genes",
    )
)
SPEARMAN = register(
    Method("spearman", _spearman, needs_vectors=True, description="Spearman correlation over shared genes")
)
