"""Gene-set overlap scores (L1000CDS2 gene-set mode), reverse and mimic, with Fisher p-values.

reverse = (|Q_up & R_down| + |Q_down & R_up|) / n, mimic = (|Q_up & R_up| + |Q_down & R_down|) / n,
where n is the number of query genes present in the library's gene space.

Reference sets: a gene-set library (built from GMT, or AnnData with ``uns["library_kind"] ==
"genesets"``) uses its signs (value > 0 up, < 0 down); a library of full signatures uses each
reference's top ``ref_up`` and bottom ``ref_down`` genes by rank (150 each by default); the
option ``reference_sets="sign"|"top"`` forces either rule.

p-value: one-sided Fisher exact test (hypergeometric upper tail) of the overlap count a, the n
query genes being drawn from the universe of the library's G genes, of which the reference
lists m (|R_up| + |R_down|): P(X >= a) for X ~ Hypergeom(G, m, n), equal to
``scipy.stats.fisher_exact([[a, n - a], [m - a, G - n - m + a]], alternative="greater")``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import hypergeom

from exprlab._validation import check_choice
from exprlab.match._base import Method, register, row_slices

RULES = ("auto", "sign", "top")


def reference_sets(values: np.ndarray, rank2: np.ndarray, opts) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (up, down) membership of each reference row, by the rule in ``opts``."""
    rule = check_choice(opts.get("reference_sets", "auto"), "reference_sets", RULES)
    if rule == "auto":
        rule = "sign" if opts.get("_library_kind") == "genesets" else "top"
    if rule == "sign":
        return values > 0, values < 0
    n = rank2.shape[1]
    k_up = int(opts.get("ref_up", 150))
    k_dn = int(opts.get("ref_down", 150))
    top = rank2 <= 2 * k_up
    return top, (rank2 > 2 * (n - k_dn)) & ~top


def hypergeom_upper_tail(
    hits: np.ndarray, universe: int, listed: np.ndarray, drawn: np.ndarray
) -> np.ndarray:
    """P(X >= hits) for X ~ Hypergeom(universe, listed, drawn), broadcasting the arguments.

    Evaluated once per distinct (hits, listed, drawn) triple: overlap counts are small integers
    that repeat, and each scipy evaluation is costly.
    """
    a, m, n = (np.asarray(v, dtype=np.int64) for v in np.broadcast_arrays(hits, listed, drawn))
    base = np.int64(universe + 1)  # each count lies in [0, universe]: pack a triple in one key
    keys = (a * base + m) * base + n
    uniq, inverse = np.unique(keys.ravel(), return_inverse=True)
    ua, rest = np.divmod(uniq, base * base)
    um, un = np.divmod(rest, base)
    sf = hypergeom.sf(ua - 1, universe, um, un)
    return sf[inverse.ravel()].reshape(a.shape)


def _chunk(queries, values, rank2, opts, *, mode: str) -> dict[str, np.ndarray]:
    qs = queries.signed_sets()
    q_up = (qs > 0).astype(np.float64)
    q_dn = (qs < 0).astype(np.float64)
    n_q = np.asarray(q_up.sum(axis=1) + q_dn.sum(axis=1)).ravel()[:, None]
    g = values.shape[1]
    score = np.empty((len(queries), values.shape[0]))
    pval = np.empty_like(score)
    for lo, hi in row_slices(values.shape[0]):
        r_up, r_dn = reference_sets(values[lo:hi], rank2[lo:hi], opts)
        m = (r_up.sum(axis=1) + r_dn.sum(axis=1))[None, :]
        r_up = sp.csr_matrix(r_up, dtype=np.float64)
        r_dn = sp.csr_matrix(r_dn, dtype=np.float64)
        if mode == "reverse":
            hits = (q_up @ r_dn.T + q_dn @ r_up.T).toarray()
        else:
            hits = (q_up @ r_up.T + q_dn @ r_dn.T).toarray()
        score[:, lo:hi] = hits / n_q
        pval[:, lo:hi] = hypergeom_upper_tail(
            hits.astype(np.int64), g, m.astype(np.int64), n_q.astype(np.int64)
        )
    return {"score": score, "pvalue": pval}


def _reverse(queries, values, rank2, opts):
    return _chunk(queries, values, rank2, opts, mode="reverse")


def _mimic(queries, values, rank2, opts):
    return _chunk(queries, values, rank2, opts, mode="mimic")


REVERSE = register(
    Method(
        "overlap_reverse", _reverse, needs_ranks=True, description="L1000CDS2 gene-set overlap, reverse mode"
    )
)
MIMIC = register(
    Method("overlap_mimic", _mimic, needs_ranks=True, description="L1000CDS2 gene-set overlap, mimic mode")
)
