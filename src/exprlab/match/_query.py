"""Queries aligned to a library's gene space.

A query is either a full signature (a row of an AnnData; its up/down sets are its ``up`` largest
and ``down`` smallest values among the genes the library has) or an up/down gene-set pair (a
mapping name -> (up genes, down genes)). Genes the library lacks are dropped and counted; the
counts travel with the result (``DataFrame.attrs["query_report"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError, NonFiniteValueError
from exprlab.signatures import signed_set_matrix, top_bottom_indices

MIN_GENES = 5


@dataclass
class Queries:
    """Queries in a library's gene space (indices refer to the library's genes).

    The scoring methods work on gene positions, so a query is aligned to the library once and
    every chunk reuses it.

    Parameters
    ----------
    names
        Query names.
    up, down
        Per query, library gene indices of the up and down sets.
    n_genes
        Size of the library's gene space.
    vectors
        (n_queries, n_genes) float64 with NaN for genes a full-signature query lacks, or None
        for gene-set queries (whose vector is +1 on up, -1 on down, 0 elsewhere).
    report
        One row per query: genes given, genes dropped (absent from the library), set sizes.
    """

    names: list[str]
    up: list[np.ndarray]
    down: list[np.ndarray]
    n_genes: int
    vectors: np.ndarray | None = None
    report: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def kind(self) -> str:
        return "sets" if self.vectors is None else "signatures"

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows: slice | np.ndarray) -> Queries:
        """The queries at ``rows`` (positions)."""
        idx = np.arange(len(self.names))[rows]
        return Queries(
            names=[self.names[i] for i in idx],
            up=[self.up[i] for i in idx],
            down=[self.down[i] for i in idx],
            n_genes=self.n_genes,
            vectors=None if self.vectors is None else self.vectors[idx],
            report=self.report.iloc[idx] if len(self.report) else self.report,
        )

    def extend(self, other: Queries) -> Queries:
        """These queries followed by ``other`` (same gene space); vectors only if both have them."""
        vectors = None
        if self.vectors is not None and other.vectors is not None:
            vectors = np.vstack([self.vectors, other.vectors])
        return Queries(
            names=self.names + other.names,
            up=self.up + other.up,
            down=self.down + other.down,
            n_genes=self.n_genes,
            vectors=vectors,
            report=self.report,
        )

    def signed_sets(self, rows: slice | None = None) -> sp.csr_matrix:
        """Sparse (n_queries, n_genes) matrix: +1 on up genes, -1 on down genes."""
        ups = self.up if rows is None else self.up[rows]
        dns = self.down if rows is None else self.down[rows]
        return signed_set_matrix(list(zip(ups, dns)), self.n_genes, dtype=np.float64)

    def dense_vectors(self, rows: slice) -> np.ndarray:
        """Full query vectors of ``rows`` (NaN where a signature lacks a gene)."""
        if self.vectors is not None:
            return self.vectors[rows]
        return self.signed_sets(rows).toarray()


def _as_gene_list(genes, name: str, direction: str) -> list[str]:
    if isinstance(genes, str):
        raise InputDataError(
            f"the {direction} genes of query {name!r} are one string, not a list",
            where=f"query {name}",
            fix="pass a list of gene identifiers",
        )
    return [str(g) for g in genes]


def _looks_numeric(ids) -> float:
    ids = list(ids)[:500]
    return float(np.mean([i.isdigit() for i in ids])) if ids else 0.0


def _gene_space_error(query_genes: set[str], library_genes: pd.Index) -> GeneSpaceError:
    q = sorted(query_genes)[:3]
    lib = list(library_genes[:3])
    kind_q = "Entrez-like numbers" if _looks_numeric(query_genes) > 0.5 else "names/symbols"
    kind_l = "Entrez-like numbers" if _looks_numeric(library_genes) > 0.5 else "names/symbols"
    return GeneSpaceError(
        f"no query gene is in the library's gene space (query genes look like {kind_q}, e.g. "
        f"{q}; library genes look like {kind_l}, e.g. {lib})",
        where="query",
        fix="convert the query or the library to the same identifiers (exprlab.genes.convert_gene_space)",
    )


def _check_min(name: str, n_present: int, n_given: int, min_genes: int) -> None:
    if n_present < min_genes:
        raise InputDataError(
            f"query {name!r} has {n_present} gene(s) in the library's gene space "
            f"({n_given} given), fewer than the {min_genes} needed",
            where=f"query {name}",
            fix="use a larger query or a library measuring more of its genes",
        )


def prepare_queries(
    query,
    library_genes: pd.Index,
    *,
    up: int = 150,
    down: int = 150,
    min_genes: int = MIN_GENES,
) -> Queries:
    """Align ``query`` to ``library_genes``; see the module docstring for the accepted forms."""
    genes = pd.Index(library_genes.astype(str))
    position = pd.Series(np.arange(len(genes)), index=genes)
    if isinstance(query, AnnData):
        return _prepare_signatures(query, genes, position, up=up, down=down, min_genes=min_genes)
    if isinstance(query, Mapping):
        return _prepare_sets(query, genes, position, min_genes=min_genes)
    raise InvalidParameterError(
        f"a query of type {type(query).__name__} is not supported",
        where="query",
        fix="pass an AnnData of signatures or a mapping name -> (up genes, down genes)",
    )


def _prepare_sets(query: Mapping, genes, position, *, min_genes: int) -> Queries:
    if len(query) == 0:
        raise InputDataError("the query holds no gene sets", where="query", fix="pass at least one")
    names, ups, dns, rows = [], [], [], []
    all_given: set[str] = set()
    for name, pair in query.items():
        name = str(name)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InputDataError(
                f"query {name!r} is not an (up genes, down genes) pair",
                where=f"query {name}",
                fix="map each query name to a tuple (up genes, down genes); use [] for none",
            )
        u = list(dict.fromkeys(_as_gene_list(pair[0], name, "up")))
        d = list(dict.fromkeys(_as_gene_list(pair[1], name, "down")))
        both = set(u) & set(d)
        if both:
            raise InputDataError(
                f"gene(s) {sorted(both)[:5]} are in both the up and the down set of query {name!r}",
                where=f"query {name}",
                fix="remove them from one of the two sets",
            )
        all_given |= set(u) | set(d)
        ui = position.reindex(u).dropna().to_numpy(dtype=np.int64)
        di = position.reindex(d).dropna().to_numpy(dtype=np.int64)
        names.append(name)
        ups.append(ui)
        dns.append(di)
        given = len(u) + len(d)
        rows.append((name, given, given - len(ui) - len(di), len(ui), len(di)))
    if not any(len(u) + len(d) for u, d in zip(ups, dns)):
        raise _gene_space_error(all_given, genes)
    for name, given, _dropped, nu, nd in rows:
        _check_min(name, nu + nd, given, min_genes)
    report = pd.DataFrame(rows, columns=["query", "n_given", "n_dropped", "n_up", "n_down"])
    return Queries(names, ups, dns, len(genes), None, report.set_index("query"))


def _prepare_signatures(adata: AnnData, genes, position, *, up, down, min_genes) -> Queries:
    if adata.n_obs == 0:
        raise InputDataError("the query holds no signatures", where="query", fix="pass at least one")
    qgenes = pd.Index(adata.var_names.astype(str))
    if qgenes.has_duplicates:
        dup = qgenes[qgenes.duplicated()].unique()[:5].tolist()
        raise InputDataError(
            f"the query repeats gene(s) {dup}",
            where="query var_names",
            fix="collapse duplicated genes (for example keep the mean) before scoring",
        )
    shared = qgenes.intersection(genes, sort=False)
    if len(shared) == 0:
        raise _gene_space_error(set(qgenes), genes)
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        names = adata.obs_names[bad][:5].tolist()
        raise NonFiniteValueError(
            f"query signature(s) {names} contain NaN or infinite values",
            where="query",
            fix="remove or impute those values (or drop the genes) before scoring",
        )
    qpos = qgenes.get_indexer(shared)
    lpos = position.loc[shared].to_numpy()
    vectors = np.full((adata.n_obs, len(genes)), np.nan)
    vectors[:, lpos] = x[:, qpos]
    names, ups, dns, rows = [], [], [], []
    for i, name in enumerate(adata.obs_names.astype(str)):
        _check_min(name, len(shared), len(qgenes), min_genes)
        ui, di = top_bottom_indices(vectors[i], up, down)
        names.append(name)
        ups.append(ui.astype(np.int64))
        dns.append(di.astype(np.int64))
        rows.append((name, len(qgenes), len(qgenes) - len(shared), len(ui), len(di)))
    report = pd.DataFrame(rows, columns=["query", "n_given", "n_dropped", "n_up", "n_down"])
    return Queries(names, ups, dns, len(genes), vectors, report.set_index("query"))


def random_set_queries(
    sizes: list[tuple[int, int]], n_genes: int, n_per_size: int, seed
) -> tuple[Queries, dict[tuple[int, int], slice]]:
    """Background gene-set queries: ``n_per_size`` random (up, down) pairs for each size pair.

    Genes are drawn uniformly without replacement from the library's gene space with
    ``numpy.random.default_rng(seed)``, size pairs in sorted order, so the same seed gives the
    same background. Returns the queries and, per size pair, the rows that hold its block.
    """
    rng = np.random.default_rng(seed)
    names: list[str] = []
    ups: list[np.ndarray] = []
    dns: list[np.ndarray] = []
    blocks: dict[tuple[int, int], slice] = {}
    for nu, nd in sorted(set(sizes)):
        start = len(names)
        for k in range(n_per_size):
            pick = rng.choice(n_genes, size=nu + nd, replace=False)
            names.append(f"background_{nu}_{nd}_{k}")
            ups.append(np.sort(pick[:nu]).astype(np.int64))
            dns.append(np.sort(pick[nu:]).astype(np.int64))
        blocks[(nu, nd)] = slice(start, len(names))
    return Queries(names, ups, dns, n_genes, None), blocks


def paired_sets(up_sets: dict, down_sets: dict, *, where: str = "query") -> dict:
    """Pair two collections of sets by name into name -> (up genes, down genes).

    Every name must be in both collections (the CMap build 02 layout: one GMT of up sets, one
    of down sets, same instance names).

    Parameters
    ----------
    up_sets, down_sets
        Set name -> genes, for instance two GMT files read with :func:`exprlab.io.read_gmt`.
    where
        What the sets came from, named in the error when the names do not pair.

    Returns
    -------
    dict
        Name -> (up genes, down genes), a query for :func:`exprlab.match.score`.
    """
    only_up = [n for n in up_sets if n not in down_sets]
    only_dn = [n for n in down_sets if n not in up_sets]
    if only_up or only_dn:
        raise InputDataError(
            f"{len(only_up)} set name(s) only among the up sets (e.g. {only_up[:3]}) and "
            f"{len(only_dn)} only among the down sets (e.g. {only_dn[:3]})",
            where=where,
            fix="give both files the same set names",
        )
    return {n: (list(up_sets[n]), list(down_sets[n])) for n in up_sets}
