"""Connectivity scoring of queries against signature libraries: the entry points of the engine.

Methods (``method=``): ``ks`` (scaled) and ``ks_raw`` (CMap 2006), ``wtcs``, ``ncs``, ``tau`` and
``ncs_ct`` (CMap-L1000), ``xsum`` and ``xcos``, ``cosine``, ``pearson``, ``spearman``,
``overlap_reverse`` and ``overlap_mimic`` (L1000CDS2 gene-set mode), ``chardir`` (cosine
distance of characteristic directions). Definitions: the method modules and docs/methods.md §1.

A query is an AnnData of full signatures (its up/down sets are the ``up`` largest and ``down``
smallest values over the library's genes) or a mapping name -> (up genes, down genes). A
library is an AnnData, a prepared in-memory library (:func:`prepare_library`, ranks computed
once) or the path of an on-disk library (:func:`build_library`). Genes of a query absent from
the library are dropped; the counts are in ``DataFrame.attrs["query_report"]``.

Ties: ``ties="midrank"`` (default) gives tied reference values the average of their ranks, so
scores do not depend on gene order (essential for references with many equal values, such as
disease signatures where unlisted genes are 0); ``ties="first"`` breaks ties by gene order. For
WTCS and KS the running sum is evaluated at the (possibly half-integer) midrank positions, the
number of misses before the j-th hit being position - j.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from exprlab._validation import check_choice, check_choices, check_count
from exprlab.errors import InvalidParameterError

# Importing the method modules registers their methods, in this order (the order of METHODS).
from exprlab.match import _chardir, _correlation, _ks, _overlap, _wtcs, _xsum  # noqa: F401
from exprlab.match._aggregate import REFERENCE_RULES, ReferenceRule, aggregate_references
from exprlab.match._base import REGISTRY
from exprlab.match._driver import Backend, run
from exprlab.match._interop import resolve_query, restrict_query, space_genes, write_back
from exprlab.match._library import as_source
from exprlab.match._query import MIN_GENES, Queries, prepare_queries
from exprlab.match._ranks import Ties, check_ties
from exprlab.match._torch_kernels import resolve_device

MatchMethod = Literal[
    "cosine",
    "pearson",
    "spearman",
    "chardir",
    "ks",
    "ks_raw",
    "overlap_reverse",
    "overlap_mimic",
    "wtcs",
    "ncs",
    "tau",
    "ncs_ct",
    "xsum",
    "xcos",
]
METHODS: tuple[str, ...] = tuple(REGISTRY)
OPTIONS = {"top", "group_by", "n_background", "reference_sets", "ref_up", "ref_down"}
# Method options that are counts, with their smallest allowed value.
_COUNT_OPTIONS = {"top": 1, "n_background": 1, "ref_up": 0, "ref_down": 0}


@dataclass
class MatchResult:
    """Scores plus per-method extras and the query report, as :func:`score_details` returns them.

    Parameters
    ----------
    scores
        Queries x library signatures (or x perturbagens when aggregated), as :func:`score`.
    extra
        Per-method matrices of the same shape: ES/KS of the up and down sets, overlap p-values,
        the raw KS of scaled KS, the NCS behind tau...
    report
        One row per query: genes given, genes dropped (absent from the library), set sizes.
    info
        Method notes (NCS groups, size of the tau background, aggregation rule).
    """

    scores: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    report: pd.DataFrame = field(default_factory=pd.DataFrame)
    info: dict = field(default_factory=dict)


def _check_options(
    method: str,
    *,
    up: int,
    down: int,
    chunk_size: int | None,
    min_genes: int,
    aggregate: str | None,
    options: dict[str, Any],
) -> None:
    """Refuse bad options before any work starts (one message per option, naming it)."""
    check_choice(method, "method", METHODS)
    if options:
        check_choices(sorted(options), "option", sorted(OPTIONS))
    check_count(up, "up")
    check_count(down, "down")
    if up == 0 and down == 0:
        raise InvalidParameterError(
            "up and down are both 0: the sets taken from full-signature queries would be empty",
            where="up/down",
            fix="give up or down a size of 1 or more (150 each is the CMap default)",
        )
    check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
    check_count(min_genes, "min_genes")
    for name, minimum in _COUNT_OPTIONS.items():
        if name in options:
            check_count(options[name], name, minimum=minimum)
    if aggregate is not None:
        check_choice(aggregate, "aggregate", REFERENCE_RULES)
        if method == "ncs_ct":
            raise InvalidParameterError(
                f"method {method!r} already aggregates per perturbagen",
                where="aggregate",
                fix="drop the aggregate option",
            )


def _aggregated(
    frame: pd.DataFrame, obs: pd.DataFrame, aggregate: ReferenceRule, by: str | None, report: dict
) -> pd.DataFrame:
    """Scores aggregated per perturbagen (``obs[by]`` or the drug column), noted in ``report``."""
    col = _wtcs.perturbagen_column(obs, by)
    report["aggregate"] = f"{aggregate} by {col}"
    return aggregate_references(frame, obs[col].to_numpy(), aggregate)


def _result(
    parts: dict[str, np.ndarray], queries: Queries, obs: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The score frame and the extras of the driver's named matrices."""
    columns = parts.pop("_columns", None)
    cols = pd.Index(columns if columns is not None else obs.index, name="signature")
    index = pd.Index(queries.names, name="query")
    frame = pd.DataFrame(parts.pop("score"), index=index, columns=cols)
    extra = {
        k: pd.DataFrame(v, index=index, columns=cols) for k, v in parts.items() if v.shape == frame.shape
    }
    return frame, extra


def score_details(
    query,
    library,
    method: MatchMethod = "wtcs",
    *,
    up: int = 150,
    down: int = 150,
    backend: Backend = "memory",
    chunk_size: int | None = None,
    seed=0,
    ties: Ties | None = None,
    min_genes: int = MIN_GENES,
    client=None,
    aggregate: ReferenceRule | None = None,
    by: str | None = None,
    **options,
) -> MatchResult:
    """Connectivity scores with the per-method extras, the query report and the method notes.

    Cites docs/methods.md §1 for every method.

    Parameters
    ----------
    query, library, method, up, down, backend, chunk_size, seed, ties, min_genes, client, aggregate, by
        As in :func:`score`.
    **options
        Method options, as in :func:`score`.

    Returns
    -------
    MatchResult
        ``scores`` as :func:`score` returns them, ``extra`` (per-set statistics, p-values...;
        none once aggregated), ``report`` (one row per query) and ``info`` (method notes).
    """
    kwargs = dict(up=up, down=down, backend=backend, chunk_size=chunk_size, seed=seed, ties=ties)
    kwargs.update(min_genes=min_genes, client=client, aggregate=aggregate, by=by)
    return _details(query, library, method, False, **kwargs, **options)


@dataclass
class _Prepared:
    """What every scoring entry point settles before scoring: method, library, rule, queries."""

    method: Any
    source: Any
    ties: str
    queries: Queries
    scored: Queries
    opts: dict
    report: dict


def _prepare(
    query,
    library,
    method,
    *,
    up: int = 150,
    down: int = 150,
    chunk_size: int | None = None,
    seed=0,
    ties: Ties | None = None,
    min_genes: int = MIN_GENES,
    aggregate: ReferenceRule | None = None,
    by: str | None = None,
    layer: str | None = None,
    groups_key: str | None = None,
    gene_space: str = "full",
    geneinfo=None,
    device: str = "auto",
    **options,
) -> _Prepared:
    """Options checked, library opened, tie rule resolved and queries placed in its gene space."""
    _check_options(
        method,
        up=up,
        down=down,
        chunk_size=chunk_size,
        min_genes=min_genes,
        aggregate=aggregate,
        options=options,
    )
    m = REGISTRY[method]
    source = as_source(library)
    if ties is None:  # the rule the library's precomputed ranks use, else midranks
        ties = getattr(source, "ties", None) or "midrank"
    ties = check_ties(ties)
    report: dict = {}
    query = resolve_query(query, layer=layer, groups_key=groups_key, up=up, down=down)
    kept = space_genes(source, gene_space, geneinfo)
    if kept is not None:  # queries restricted to the gene space (docs/user-guide-scoring.md)
        query = restrict_query(query, kept)
        report["gene_space"] = f"{gene_space} ({len(kept)} genes)"
    queries = prepare_queries(query, source.genes, up=up, down=down, min_genes=min_genes)
    opts = dict(options, seed=seed, by=by, _library_kind=source.kind)
    if m.needs_ranks or device != "auto":  # KS and WTCS kernels; other methods ignore it
        opts["_device"] = resolve_device(device)
    scored = queries if m.extra_queries is None else m.extra_queries(queries, opts)
    return _Prepared(m, source, ties, queries, scored, opts, report)


def _attrs(method: str, prep: _Prepared) -> dict[str, Any]:
    """The ``attrs`` of a score result: method, tie rule, kernel, query report and method notes."""
    attrs: dict[str, Any] = {"method": method, "ties": prep.ties}
    if "_device" in prep.opts:
        attrs["device"] = prep.opts["_device"]
    attrs["query_report"] = prep.queries.report.to_dict(orient="index")
    attrs["n_dropped"] = {q: int(r["n_dropped"]) for q, r in prep.queries.report.iterrows()}
    attrs.update({k: v for k, v in prep.report.items() if not isinstance(v, pd.DataFrame)})
    return attrs


def _details(
    query,
    library,
    method,
    scores_only: bool,
    *,
    backend: Backend = "memory",
    client=None,
    **kwargs,
) -> MatchResult:
    """:func:`score_details`; with ``scores_only`` the per-method extras are not kept."""
    prep = _prepare(query, library, method, **kwargs)
    m, source, opts = prep.method, prep.source, prep.opts
    parts = run(
        prep.scored,
        source,
        m,
        backend=backend,
        chunk_size=kwargs.get("chunk_size"),
        ties=prep.ties,
        opts=dict(opts),
        client=client,
        scores_only=scores_only,
    )
    if m.finalize is not None:
        opts["_report"] = prep.report
        parts = m.finalize(parts, prep.scored, source.obs, opts)
    frame, extra = _result(parts, prep.queries, source.obs)
    aggregate = kwargs.get("aggregate")
    if aggregate is not None:
        frame = _aggregated(frame, source.obs, aggregate, kwargs.get("by"), prep.report)
        extra = {}
    frame.attrs.update(_attrs(method, prep))
    return MatchResult(frame, extra, prep.queries.report, prep.report)


# Over 80 lines only by its docstring, which lists every keyword option in one place.
def score(query, library, method: MatchMethod = "wtcs", **kwargs) -> pd.DataFrame:
    """Connectivity scores of every query against every library signature (docs/methods.md §1).

    Parameters
    ----------
    query
        AnnData of full signatures (obs = queries), mapping name -> (up genes, down genes), or
        the path of a query file (GMT of ``<name>_up``/``<name>_dn`` sets, or a matrix).
    library
        AnnData (obs = signatures), :func:`prepare_library` result, or a path: an on-disk
        library (streamed), a GMT (gene-set library), or a GCTX / h5ad / GCT / signatureSearch
        h5 matrix (read whole). An in-memory AnnData is prepared on the first call (float32
        values, ranks when a rank-based method needs them) and kept for later calls on the same
        object, unchanged (identity plus a fingerprint of its shape, buffer and sampled rows);
        above 268 million values, or after editing ``X`` in place, use :func:`prepare_library`.
        An on-disk library named by its path is opened (ids, metadata, sums) by the first call
        and found open by later calls while its file is unchanged (same inode, size and
        modification time).
    method
        One of :data:`METHODS`: ``cosine``, ``pearson``, ``spearman``, ``chardir``, ``ks``,
        ``ks_raw``, ``overlap_reverse``, ``overlap_mimic``, ``wtcs``, ``ncs``, ``tau``,
        ``ncs_ct``, ``xsum``, ``xcos``.
    **kwargs
        Keyword options:

        ``up``, ``down``
            Sizes of the up/down sets derived from full-signature queries (150/150).
        ``backend``
            ``"memory"`` (this process) or ``"dask"`` (workers read an on-disk library).
        ``chunk_size``
            Signatures per block (default: about 32 million values per block).
        ``seed``
            Seed of the tau background.
        ``ties``
            ``"midrank"`` (tied reference values share the average of their ranks, so scores do
            not depend on gene order) or ``"first"`` (ties broken by gene order); default: the
            rule of the library's precomputed ranks (prepared or on-disk library), else
            ``"midrank"``. Asking for another rule than the precomputed one recomputes ranks
            chunk by chunk.
        ``min_genes``
            Queries with fewer genes in the library's gene space are refused (default 5).
        ``client``
            dask.distributed client for ``backend="dask"`` (default: the current client).
        ``aggregate``, ``by``
            Aggregate library signatures per ``obs[by]`` (default: the drug column) with one of
            ``max, min, mean, median, maxabs, ncs_ct`` (:func:`aggregate_references`).
        ``layer``
            Read a query AnnData's expression from ``query.layers[layer]`` instead of ``X``.
        ``groups_key``
            Take the queries from scanpy's ``rank_genes_groups`` result in
            ``query.uns[groups_key]``, one up/down query per group
            (:func:`rank_genes_groups_queries`).
        ``gene_space``, ``geneinfo``
            ``"full"`` (default), ``"bing"`` (landmark + best inferred) or ``"landmark"``: query
            genes outside the space are dropped. The space is read from the ``feature_space``
            column of ``geneinfo`` (clue.io gene table, path or DataFrame) or of the library's
            gene metadata (``library build --geneinfo``).
        ``device``
            KS/WTCS-family kernel: ``"auto"`` (torch on a CUDA GPU if torch sees one, else
            numba), ``"numba"`` or a torch device (``"cuda:1"``, ``"cpu"``); in ``attrs``.
        ``key_added``
            Also store the scores in the query AnnData: ``query.obsm[key_added]`` (a DataFrame
            queries x signatures) when the queries are its rows, ``query.uns[key_added]["scores"]``
            when they are ``groups_key`` groups; ``query.uns[key_added]["params"]`` records the
            call.
        method options
            ``top`` (genes kept at each end of a reference by XSum/XCos, 500), ``group_by``
            (NCS/tau/NCS_ct groups; default the cell-line and perturbation-type columns found),
            ``n_background`` (tau, 250), ``reference_sets``/``ref_up``/``ref_down`` (overlap).

    Returns
    -------
    pandas.DataFrame
        Queries x library signatures (x perturbagens for ``ncs_ct`` or with ``aggregate``);
        ``attrs`` holds the query report (genes dropped per query) and method notes. A matrix
        too large for memory (many queries against a large library) is written to a GCTX file
        block by block by :func:`score_to_gctx` instead.
    """
    key_added = kwargs.pop("key_added", None)
    frame = _details(query, library, method, True, **kwargs).scores
    if key_added is not None:
        params = dict(
            method=method, library=str(library) if isinstance(library, (str, os.PathLike)) else None
        )
        params.update({k: kwargs.get(k) for k in ("up", "down", "layer", "groups_key", "gene_space")})
        write_back(query, frame, str(key_added), groups_key=kwargs.get("groups_key"), params=params)
    return frame


def score_long(query, library, method: MatchMethod = "wtcs", **kwargs) -> pd.DataFrame:
    """Tidy form of :func:`score`: one row per (query, signature) with the extras as columns.

    Parameters
    ----------
    query, library, method
        As in :func:`score`.
    **kwargs
        Options of :func:`score`.

    Returns
    -------
    pandas.DataFrame
        Columns ``query``, ``signature``, ``score``, any extras of the method (``up``/``down``
        statistics, ``pvalue`` for overlap, ``raw`` for scaled KS, ``ncs`` for tau) and ``rank``
        (1 = highest score within the query).
    """
    res = score_details(query, library, method, **kwargs)
    scores = res.scores
    long = pd.DataFrame(
        {
            "query": np.repeat(scores.index.to_numpy(), scores.shape[1]),
            "signature": np.tile(scores.columns.to_numpy(), scores.shape[0]),
            "score": scores.to_numpy().ravel(),
        }
    )
    for name, frame in res.extra.items():
        long[name] = frame.to_numpy().ravel()
    long["rank"] = long.groupby("query")["score"].rank(ascending=False, method="min").astype(int)
    long.attrs = dict(res.scores.attrs)
    return long
