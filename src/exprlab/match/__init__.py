"""Connectivity scoring of queries against signature libraries: one module per method, one chunking driver.

Methods (``method=``): ``ks`` (scaled) and ``ks_raw`` (CMap 2006), ``wtcs``, ``ncs``, ``tau`` and
``ncs_ct`` (CMap-L1000), ``xsum`` and ``xcos``, ``cosine``, ``pearson``, ``spearman``,
``overlap_reverse`` and ``overlap_mimic`` (L1000CDS2 gene-set mode), ``chardir`` (cosine
distance of characteristic directions). Definitions: the method modules and the project's
methods reference.

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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exprlab.errors import InvalidParameterError
from exprlab.match import _chardir, _correlation, _ks, _overlap, _wtcs, _xsum  # noqa: F401 (register methods)
from exprlab.match._base import REGISTRY
from exprlab.match._query import Queries, prepare_queries
from exprlab.match._ranks import check_ties
from exprlab.match._aggregate import aggregate_queries, aggregate_references
from exprlab.match._driver import run
from exprlab.match._library import (
    DiskLibrary,
    LibraryWriter,
    MemoryLibrary,
    as_source,
    build_library,
    genesets_to_library,
    prepare_library,
    split_up_down,
)

__all__ = [
    "METHODS",
    "MatchResult",
    "score",
    "score_long",
    "score_details",
    "build_library",
    "prepare_library",
    "genesets_to_library",
    "split_up_down",
    "aggregate_references",
    "aggregate_queries",
    "LibraryWriter",
    "DiskLibrary",
    "MemoryLibrary",
    "Queries",
]

METHODS = tuple(REGISTRY)
OPTIONS = {"k", "group_by", "n_background", "reference_sets", "ref_up", "ref_down"}


@dataclass
class MatchResult:
    """Scores plus per-method extras (ES/KS of each set, p-values, NCS...) and the query report."""

    scores: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    report: pd.DataFrame = field(default_factory=pd.DataFrame)
    info: dict = field(default_factory=dict)


def score_details(
    query,
    library,
    method: str = "wtcs",
    *,
    up: int = 150,
    down: int = 150,
    backend: str = "memory",
    chunk_size: int | None = None,
    seed=0,
    ties: str | None = None,
    min_genes: int = 5,
    client=None,
    aggregate: str | None = None,
    by: str | None = None,
    **options,
) -> MatchResult:
    """Like :func:`score` but returns a :class:`MatchResult` with the extras."""
    if method not in REGISTRY:
        raise InvalidParameterError(
            f"unknown method {method!r}", where="method", fix=f"use one of {', '.join(REGISTRY)}"
        )
    unknown = set(options) - OPTIONS
    if unknown:
        raise InvalidParameterError(
            f"unknown option(s) {sorted(unknown)}",
            where="score",
            fix=f"options are {', '.join(sorted(OPTIONS))}",
        )
    m = REGISTRY[method]
    source = as_source(library)
    if ties is None:  # the rule the library's precomputed ranks use, else midranks
        ties = getattr(source, "ties", None) or "midrank"
    check_ties(ties)
    queries = prepare_queries(query, source.genes, up=up, down=down, min_genes=min_genes)
    report: dict = {}
    opts = dict(options, seed=seed, by=by, _library_kind=source.kind)
    scored = queries if m.extra_queries is None else m.extra_queries(queries, opts)
    parts = run(
        scored, source, m, backend=backend, chunk_size=chunk_size, ties=ties, opts=dict(opts), client=client
    )
    if m.finalize is not None:
        opts["_report"] = report
        parts = m.finalize(parts, scored, source.obs, opts)
    columns = parts.pop("_columns", None)
    cols = pd.Index(columns if columns is not None else source.obs.index, name="signature")
    index = pd.Index(queries.names, name="query")
    frame = pd.DataFrame(parts.pop("score"), index=index, columns=cols)
    extra = {
        k: pd.DataFrame(v, index=index, columns=cols) for k, v in parts.items() if v.shape == frame.shape
    }
    if aggregate is not None:
        if columns is not None:
            raise InvalidParameterError(
                f"method {method!r} already aggregates per perturbagen",
                where="aggregate",
                fix="drop the aggregate option",
            )
        col = _wtcs.perturbagen_column(source.obs, by)
        frame = aggregate_references(frame, source.obs[col].to_numpy(), aggregate)
        extra = {}
        report["aggregate"] = f"{aggregate} by {col}"
    frame.attrs["method"] = method
    frame.attrs["ties"] = ties
    frame.attrs["query_report"] = queries.report.to_dict(orient="index")
    frame.attrs["n_dropped"] = {q: int(r["n_dropped"]) for q, r in queries.report.iterrows()}
    frame.attrs.update({k: v for k, v in report.items() if not isinstance(v, pd.DataFrame)})
    return MatchResult(frame, extra, queries.report, report)


def score(query, library, method: str = "wtcs", **kwargs) -> pd.DataFrame:
    """Connectivity scores of every query against every library signature.

    Parameters
    ----------
    query
        AnnData of full signatures (obs = queries) or mapping name -> (up genes, down genes).
    library
        AnnData (obs = signatures), :func:`prepare_library` result or on-disk library path.
    method
        One of :data:`METHODS`.
    up, down
        Sizes of the up/down sets derived from full-signature queries (150/150).
    backend
        ``"memory"`` (this process; in-memory or streamed from disk) or ``"dask"``.
    chunk_size
        Signatures per block (default: about 32 million values per block).
    seed
        Seed of the tau background.
    ties
        ``"midrank"`` or ``"first"`` (module docstring); default: the rule of the library's
        precomputed ranks (prepared or on-disk library), else ``"midrank"``. Asking for
        another rule than the precomputed one recomputes ranks chunk by chunk.
    min_genes
        Queries with fewer genes in the library's gene space are refused (default 5).
    client
        dask.distributed client for ``backend="dask"`` (default: the current client).
    aggregate, by
        Aggregate library signatures per ``obs[by]`` (default: the drug column) with one of
        ``max, min, mean, median, maxabs, ncs_ct`` (:mod:`exprlab.match._aggregate`).
    **options
        Method options: ``k`` (XSum/XCos, 500), ``group_by`` (NCS/tau/NCS_ct groups; default the
        cell-line and perturbation-type columns found), ``n_background`` (tau, 250),
        ``reference_sets``/``ref_up``/``ref_down`` (overlap).

    Returns
    -------
    DataFrame queries x library signatures (x perturbagens for ``ncs_ct`` or with
    ``aggregate``); ``attrs`` holds the query report (genes dropped per query) and method notes.
    """
    return score_details(query, library, method, **kwargs).scores


def score_long(query, library, method: str = "wtcs", **kwargs) -> pd.DataFrame:
    """Tidy form of :func:`score`: one row per (query, signature) with the extras as columns.

    Columns: ``query``, ``signature``, ``score``, any extras of the method (``up``/``down``
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
