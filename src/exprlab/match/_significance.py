"""Permutation p-values and Benjamini-Hochberg FDR of KS, WTCS and XSum connectivity scores.

The null of a query is the scores of ``n_permutations`` random gene-set queries with the same
up and down sizes, genes drawn uniformly without replacement from the library's gene space
(seeded), scored by the same kernel in the same pass as the real queries (they are simply more
queries). The p-value is sign-conditional (docs/methods.md §1.10): a positive
score is compared with the positive null scores, a negative one with the negative ones,

    p = (1 + #{null of the same sign with |null| >= |score|}) / (1 + #{null of the same sign}),

null scores within 1e-6 x max(1, |score|) of the score counting as ties (the null is held as
float32; equal statistics summed in another order differ in their last bits), and a score of
exactly 0 (WTCS and KS give 0 when the up and down statistics agree in sign)
gets p = 1. With ``null="signature"`` (default) the null of a (query, signature) pair is that
signature's column of null scores (``n_permutations`` values), so signatures whose scores
spread more are judged against their own spread; with ``null="pooled"`` it is every null score
of the query's size pair over the whole library (``n_permutations x n_signatures`` values:
finer p-values from fewer permutations, exact only when signatures are exchangeable). The FDR
is the Benjamini-Hochberg adjustment (:func:`scipy.stats.false_discovery_control`) of each
query's p-values over the library's signatures.

Scaled KS (``ks``) is tested on its raw score: scaling divides each query's row by its own
maximum, so a random query's scaled scores are on another scale than the real query's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import stats

from exprlab._validation import check_choice, check_count
from exprlab.match._base import REGISTRY
from exprlab.match._driver import run
from exprlab.match._ks import scale_ks
from exprlab.match._library import MemoryLibrary, as_source, prepare_library
from exprlab.match._query import MIN_GENES, Queries, prepare_queries, random_set_queries
from exprlab.match._ranks import check_ties
from exprlab.match._score import score
from exprlab.signatures import top_bottom_indices

SignificanceMethod = Literal["ks", "ks_raw", "wtcs", "xsum"]
SIGNIFICANCE_METHODS: tuple[SignificanceMethod, ...] = ("ks", "ks_raw", "wtcs", "xsum")
NullKind = Literal["signature", "pooled"]
NULL_KINDS: tuple[NullKind, ...] = ("signature", "pooled")
# Null scores held per scoring pass: (real + null queries) x signatures stays near 128 MB.
_PASS_VALUES = 1 << 24
#: null scores within this distance (relative to max(1, |score|)) of a score count as ties, i.e.
#: as at least as extreme: equal statistics summed in another order, or stored as float32 (the
#: null is), differ in their last bits.
TIE_TOLERANCE = 1e-6
_NULL_PREFIX = "\x00null"
_REF_PREFIX = "\x00reference"


@dataclass
class Significance:
    """Scores of a query set with their permutation p-values and FDR.

    Parameters
    ----------
    scores
        Queries x signatures, the scores of ``method`` (scaled for ``ks``).
    statistic
        Queries x signatures, the statistic tested (the raw score for ``ks``, else ``scores``).
    pvalue
        Queries x signatures, permutation p-values (docs/methods.md §1.10).
    fdr
        Queries x signatures, Benjamini-Hochberg FDR of each query's p-values.
    info
        ``method``, ``null``, ``n_permutations``, ``seed`` and the query report.
    """

    scores: pd.DataFrame
    statistic: pd.DataFrame
    pvalue: pd.DataFrame
    fdr: pd.DataFrame
    info: dict = field(default_factory=dict)

    def long(self) -> pd.DataFrame:
        """One row per (query, signature): ``score``, ``pvalue``, ``fdr``, ``rank`` (1 = highest).

        Returns
        -------
        pandas.DataFrame
            Tidy table, in query then library order.
        """
        s = self.scores
        out = pd.DataFrame(
            {
                "query": np.repeat(s.index.to_numpy(), s.shape[1]),
                "signature": np.tile(s.columns.to_numpy(), s.shape[0]),
                "score": s.to_numpy().ravel(),
                "pvalue": self.pvalue.to_numpy().ravel(),
                "fdr": self.fdr.to_numpy().ravel(),
            }
        )
        out["rank"] = out.groupby("query")["score"].rank(ascending=False, method="min").astype(int)
        out.attrs = {k: v for k, v in self.info.items() if k != "query_report"}
        return out


def count_below(sorted_cols: np.ndarray, x: np.ndarray, *, inclusive: bool) -> np.ndarray:
    """Per column j, how many of ``sorted_cols[:, j]`` are < ``x[j]`` (<= with ``inclusive``).

    A binary search run on every column at once (``numpy.searchsorted`` of each column, without
    a Python loop over columns); ``sorted_cols`` is sorted along axis 0.

    Parameters
    ----------
    sorted_cols
        (B, n) array sorted along axis 0.
    x
        (n,) values to place.
    inclusive
        Count values equal to ``x`` too.

    Returns
    -------
    numpy.ndarray
        (n,) int64 counts in ``0..B``.
    """
    b, n = sorted_cols.shape
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, b, dtype=np.int64)
    cols = np.arange(n)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        v = sorted_cols[np.minimum(mid, b - 1), cols]
        go_right = (v <= x) if inclusive else (v < x)
        lo = np.where(active & go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)


def _pvalues_from_counts(obs, n_pos, n_ge, n_neg, n_le) -> np.ndarray:
    """Sign-conditional p from counts of positive / negative nulls and of nulls beyond ``obs``."""
    p = np.ones(obs.shape, dtype=np.float64)
    pos, neg = obs > 0, obs < 0
    p[pos] = ((1.0 + n_ge) / (1.0 + n_pos))[pos]
    p[neg] = ((1.0 + n_le) / (1.0 + n_neg))[neg]
    return p


def permutation_pvalues(
    observed: np.ndarray, null: np.ndarray, *, null_kind: NullKind = "signature"
) -> np.ndarray:
    """Sign-conditional permutation p-values of ``observed`` against ``null`` (docs/methods.md §1.10).

    Parameters
    ----------
    observed
        (n_queries, n_signatures) scores sharing one null (queries of one up/down size pair).
    null
        (B, n_signatures) scores of B random queries against the same signatures; sorted in
        place along axis 0.
    null_kind
        ``"signature"``: each column is judged against its own null column; ``"pooled"``:
        against every null value.

    Returns
    -------
    numpy.ndarray
        p-values, shape of ``observed``; 1 where the score is 0.
    """
    check_choice(null_kind, "null", NULL_KINDS)
    obs = np.atleast_2d(np.asarray(observed, dtype=np.float64))
    if null_kind == "pooled":
        flat = np.sort(np.asarray(null).ravel())  # float32 stays float32: half the sort
        n_le0, n_lt0 = np.searchsorted(flat, 0.0, "right"), np.searchsorted(flat, 0.0, "left")
        tol = TIE_TOLERANCE * np.maximum(1.0, np.abs(obs))
        n_ge = len(flat) - np.searchsorted(flat, obs - tol, "left")
        n_le = np.searchsorted(flat, obs + tol, "right")
        return _pvalues_from_counts(obs, len(flat) - n_le0, n_ge, n_lt0, n_le)
    null.sort(axis=0)
    b, n = null.shape
    zero = np.zeros(n)
    n_pos = b - count_below(null, zero, inclusive=True)
    n_neg = count_below(null, zero, inclusive=False)
    out = np.empty(obs.shape)
    for i, row in enumerate(obs):
        tol = TIE_TOLERANCE * np.maximum(1.0, np.abs(row))
        n_ge = b - count_below(null, row - tol, inclusive=False)
        n_le = count_below(null, row + tol, inclusive=True)
        out[i] = _pvalues_from_counts(row, n_pos, n_ge, n_neg, n_le)
    return out


def bh_fdr(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg FDR of each row of ``pvalues`` (a query's p-values over the library).

    Parameters
    ----------
    pvalues
        (n_queries, n_signatures) p-values.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape.
    """
    p = np.atleast_2d(np.clip(np.asarray(pvalues, dtype=np.float64), 0.0, 1.0))
    return stats.false_discovery_control(p, axis=1, method="bh")


def _as_sets(queries: Queries, genes: pd.Index, prefix: str = "") -> dict:
    g = genes.to_numpy()
    return {
        f"{prefix}{n}": (g[u].tolist(), g[d].tolist())
        for n, u, d in zip(queries.names, queries.up, queries.down)
    }


def _source(library, ties):
    """The library as a chunk source whose ranks are computed once for all scoring passes."""
    if isinstance(library, AnnData):
        return prepare_library(library, ties=ties or "midrank")
    return as_source(library)


def _check(method, n_permutations, null) -> None:
    check_choice(method, "method", SIGNIFICANCE_METHODS)
    check_choice(null, "null", NULL_KINDS)
    check_count(n_permutations, "n_permutations", minimum=1)


def _score_queries(queries: Queries, source, base: str, ties: str, chunk_size, top: int) -> np.ndarray:
    """Scores of index-based queries by the engine's driver (no round trip through gene names)."""
    opts = {"seed": 0, "by": None, "_library_kind": source.kind, "top": top}
    parts = run(
        queries,
        source,
        REGISTRY[base],
        backend="memory",
        chunk_size=chunk_size,
        ties=ties,
        opts=opts,
        scores_only=True,
    )
    return parts["score"]


def _null_scores(queries: Queries, source, base: str, n_permutations: int, seed, kwargs) -> tuple:
    """Real statistics and the null matrix, real queries scored with the first null batch."""
    n_sig = source.n
    sizes = [(len(u), len(d)) for u, d in zip(queries.up, queries.down)]
    background, blocks = random_set_queries(sizes, queries.n_genes, n_permutations, seed)
    real = Queries(queries.names, queries.up, queries.down, queries.n_genes)  # their sets only
    null = np.empty((len(background), n_sig), dtype=np.float32)
    per_pass = max(1, _PASS_VALUES // max(1, n_sig))  # null queries per pass (+ the real ones first)
    observed = None
    for lo in range(0, len(background), per_pass):
        batch = background.subset(slice(lo, lo + per_pass))
        if observed is None:
            batch = real.extend(batch)
        values = _score_queries(batch, source, base, **kwargs)
        if observed is None:
            observed = values[: len(real)]
            values = values[len(real) :]
        null[lo : lo + len(values)] = values
    return observed, null, blocks, sizes


def significance(
    query,
    library,
    method: SignificanceMethod = "wtcs",
    *,
    n_permutations: int = 1000,
    seed=0,
    null: NullKind = "signature",
    up: int = 150,
    down: int = 150,
    ties=None,
    min_genes: int = MIN_GENES,
    chunk_size: int | None = None,
    top: int = 500,
) -> Significance:
    """Scores with permutation p-values and Benjamini-Hochberg FDR (docs/methods.md §1.10).

    The null queries are random gene sets of each query's up/down sizes, scored with the real
    queries by the same kernel; the library's ranks are computed once for every pass (an
    AnnData library is prepared with :func:`prepare_library`). Memory: 4 bytes per null score,
    ``n_permutations x n_signatures`` per distinct (up, down) size pair.

    Parameters
    ----------
    query
        As in :func:`score`: AnnData of full signatures or mapping name -> (up, down genes).
    library
        As in :func:`score`.
    method
        ``ks`` (tested on the raw score, reported scaled), ``ks_raw``, ``wtcs`` or ``xsum``.
    n_permutations
        Random queries per (up, down) size pair; at least 1.
    seed
        Seed of the random queries (same seed, same p-values).
    null
        ``"signature"`` (each signature's own null column) or ``"pooled"`` (every null score of
        the size pair).
    up, down, ties, min_genes, chunk_size
        As in :func:`score`.
    top
        Genes kept at each end of a reference by XSum.

    Returns
    -------
    Significance
        ``scores``, ``statistic``, ``pvalue`` and ``fdr`` (queries x signatures) and ``info``.
    """
    _check(method, n_permutations, null)
    check_count(top, "top", minimum=1)
    if ties is not None:
        check_ties(ties)
    source = _source(library, ties)
    ties = check_ties(ties or getattr(source, "ties", None) or "midrank")  # as score() resolves it
    queries = prepare_queries(query, source.genes, up=up, down=down, min_genes=min_genes)
    base = "ks_raw" if method == "ks" else method
    kwargs: dict = dict(ties=ties, chunk_size=chunk_size, top=top)
    observed, null_scores, blocks, sizes = _null_scores(
        queries, source, base, int(n_permutations), seed, kwargs
    )
    p = np.ones_like(observed)
    for size, rows in blocks.items():
        mine = [i for i, s in enumerate(sizes) if s == size]
        p[mine] = permutation_pvalues(observed[mine], null_scores[rows], null_kind=null)
    index = pd.Index(queries.names, name="query")
    columns = pd.Index(source.obs.index, name="signature")

    def frame(x):
        return pd.DataFrame(x, index=index, columns=columns)

    shown = scale_ks(observed) if method == "ks" else observed
    info = dict(method=method, null=null, n_permutations=int(n_permutations), seed=seed)
    info["query_report"] = queries.report.to_dict(orient="index")
    return Significance(frame(shown), frame(observed), frame(p), frame(bh_fdr(p)), info)


def _signature_values(source, rows: np.ndarray) -> np.ndarray:
    """Values of the library signatures at ``rows`` (read one at a time from disk)."""
    if isinstance(source, MemoryLibrary):
        return np.asarray(source.values[rows], dtype=np.float64)
    ties = getattr(source, "ties", None) or "midrank"
    return np.vstack([source.read(int(r), int(r) + 1, ranks=False, ties=ties)[0] for r in rows]).astype(
        np.float64
    )


def reference_queries(source, sizes, n_background: int, seed) -> tuple[dict, dict, np.ndarray]:
    """Reference queries from library signatures: their own top / bottom genes, per size pair.

    ``n_background`` signatures (all when the library has fewer) are drawn without replacement
    with ``numpy.random.default_rng(seed)``; each gives, for every (up, down) size pair, a query
    of its ``up`` highest and ``down`` lowest genes. Returns the queries, per size pair their
    names, and the library row each reference query came from (in the order of the names).
    """
    rng = np.random.default_rng(seed)
    n = source.n
    rows = np.sort(rng.choice(n, size=min(int(n_background), n), replace=False))
    values = _signature_values(source, rows)
    genes = source.genes.to_numpy()
    sets: dict = {}
    names: dict = {}
    for nu, nd in sorted(set(sizes)):
        names[(nu, nd)] = []
        for k, vec in enumerate(values):
            u, d = top_bottom_indices(vec, nu, nd)
            name = f"{_REF_PREFIX}{nu}_{nd}_{k}"
            sets[name] = (genes[u].tolist(), genes[d].tolist())
            names[(nu, nd)].append(name)
    return sets, names, rows


def tau_reference(
    query,
    library,
    *,
    n_background: int = 250,
    seed=0,
    up: int = 150,
    down: int = 150,
    group_by=None,
    ties=None,
    min_genes: int = MIN_GENES,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Tau against reference queries drawn from the library itself (docs/methods.md §1.11).

    Each reference query is a library signature's own top ``up`` and bottom ``down`` genes (the
    real query's sizes). The NCS of the query and of every reference query against every
    signature is computed in one pass; tau of (query, signature) = sign(NCS) x 100 x the
    fraction of the reference queries' NCS against that signature whose absolute value is below
    |NCS|, leaving out the reference query made from that signature (a signature matches its
    own genes perfectly).

    Parameters
    ----------
    query, library, up, down, ties, min_genes, chunk_size
        As in :func:`score`.
    n_background
        Library signatures used as reference queries (at least 1; all when fewer).
    seed
        Seed of the draw of reference signatures.
    group_by
        NCS groups, as the ``group_by`` option of :func:`score`.

    Returns
    -------
    pandas.DataFrame
        Queries x signatures, tau in [-100, 100]; ``attrs["tau_reference_rows"]`` lists the
        library rows used as reference queries.
    """
    check_count(n_background, "n_background", minimum=1)
    source = _source(library, ties)
    queries = prepare_queries(query, source.genes, up=up, down=down, min_genes=min_genes)
    sizes = [(len(u), len(d)) for u, d in zip(queries.up, queries.down)]
    refs, names, rows = reference_queries(source, sizes, n_background, seed)
    real = _as_sets(queries, source.genes)
    ncs = score(
        {**real, **refs}, source, "ncs", min_genes=0, ties=ties, chunk_size=chunk_size, group_by=group_by
    )
    values = ncs.to_numpy()
    position = {name: i for i, name in enumerate(ncs.index)}
    tau = np.empty((len(real), values.shape[1]))
    for qi, size in enumerate(sizes):
        bg = values[[position[n] for n in names[size]]].copy()
        bg[np.arange(len(rows)), rows] = np.nan  # a reference query against its own signature
        v = values[qi]
        below = (np.abs(bg) < np.abs(v)[None, :]).sum(axis=0)
        tau[qi] = np.sign(v) * 100.0 * below / np.maximum((~np.isnan(bg)).sum(axis=0), 1)
    out = pd.DataFrame(tau, index=pd.Index(queries.names, name="query"), columns=ncs.columns)
    out.attrs.update(method="tau", tau_background="library", tau_reference_rows=rows.tolist())
    out.attrs["ncs_groups"] = ncs.attrs.get("ncs_groups", [])
    out.attrs["query_report"] = queries.report.to_dict(orient="index")
    return out
