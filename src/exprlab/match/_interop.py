"""Queries from scverse objects and results written back into them; gene spaces at scoring time.

``score(adata, library, key_added="cmap")`` writes the scores into the query AnnData:

* queries that are the rows of ``adata`` (full signatures, ``layer=`` choosing the matrix) give
  ``adata.obsm["cmap"]``, a DataFrame queries x library signatures (index = ``obs_names``);
* queries taken from scanpy's ``rank_genes_groups`` result (``groups_key=``) are groups, not
  rows: their scores go to ``adata.uns["cmap"]["scores"]`` (DataFrame groups x signatures).

In both cases ``adata.uns["cmap"]["params"]`` records the method, set sizes, gene space and
library. :func:`clue_query_sets` turns a query into clue.io's up/down GMT pair (10-150 genes
per set). :func:`rank_genes_groups_queries` reads scanpy's result (``adata.uns[key]``: record
arrays ``names``, ``scores``, ``logfoldchanges`` with one field per group, genes sorted by score
descending): a group's up set is its first ``up`` genes with a positive score, its down set
its last ``down`` genes with a negative score (scanpy keeps ``n_genes`` genes per group, 100 by
default: run it with ``n_genes=adata.n_vars`` to get down-regulated genes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData

from exprlab._outputs import refuse_inputs
from exprlab._progress import track
from exprlab._validation import check_choice, check_count
from exprlab.errors import FormatError, InputDataError, InvalidParameterError
from exprlab.genes import GENE_SPACES, select_gene_space
from exprlab.io import SignatureSearchWriter, read, read_clue_geneinfo, read_gmt
from exprlab.match._library import as_source, split_up_down
from exprlab.match._metadata import table_of
from exprlab.signatures import top_bottom_indices

_GMT = (".gmt", ".gmt.gz", ".gmt.xz")


def _field(rec, group: str, where: str) -> np.ndarray:
    names = getattr(getattr(rec, "dtype", None), "names", None) or ()
    if group not in names:
        raise FormatError(
            f"group {group!r} is not in the rank_genes_groups result (groups: {list(names)[:5]})",
            where=where,
            fix="pick a group of the result, or rerun scanpy.tl.rank_genes_groups",
        )
    return np.asarray(rec[group])


def rank_genes_groups_queries(
    adata: AnnData,
    *,
    groups_key: str = "rank_genes_groups",
    up: int = 150,
    down: int = 150,
    groups: Sequence[str] | None = None,
) -> dict[str, tuple[list[str], list[str]]]:
    """Up/down gene-set queries from scanpy's ``rank_genes_groups`` result, one per group.

    Parameters
    ----------
    adata
        AnnData whose ``uns[groups_key]`` holds the result (``names`` and ``scores`` record
        arrays with one field per group, genes sorted by score descending).
    groups_key
        Key of the result in ``adata.uns``.
    up, down
        Largest numbers of up genes (positive score, from the top) and down genes (negative
        score, from the bottom) per group.
    groups
        Groups to use (default: every group of the result).

    Returns
    -------
    dict
        Group name -> (up genes, down genes), a query for :func:`exprlab.match.score`.
    """
    check_count(up, "up")
    check_count(down, "down")
    where = f"adata.uns[{groups_key!r}]"
    result = adata.uns.get(groups_key)
    if not isinstance(result, dict) or "names" not in result:
        raise FormatError(
            f"no rank_genes_groups result (a dict with 'names' and 'scores') in {where}",
            where=where,
            fix="run scanpy.tl.rank_genes_groups(adata, groupby, n_genes=adata.n_vars) first",
        )
    names = result["names"]
    available = list(getattr(names.dtype, "names", None) or ())
    out = {}
    for group in available if groups is None else [str(g) for g in groups]:
        genes = _field(names, group, where).astype(str)
        if "scores" in result:
            scores = _field(result["scores"], group, where).astype(np.float64)
        else:  # order only: the first genes are up, the last down
            scores = np.r_[np.ones(len(genes) - len(genes) // 2), -np.ones(len(genes) // 2)]
        pos, neg = genes[scores > 0], genes[scores < 0]
        out[group] = (pos[:up].tolist(), neg[::-1][:down].tolist() if down else [])
    if not out:
        raise InputDataError(f"no group in {where}", where=where, fix="pass a result with groups")
    return out


def resolve_query(query, *, layer: str | None, groups_key: str | None, up: int, down: int):
    """The query object the engine takes, from a path, an AnnData layer or a scanpy result."""
    if isinstance(query, (str, os.PathLike)):
        path = Path(query)
        if path.name.lower().endswith(_GMT):
            return split_up_down(read_gmt(path))
        query = read(path)
    if groups_key is not None:
        if not isinstance(query, AnnData):
            raise InvalidParameterError(
                "groups_key needs an AnnData query",
                where="groups_key",
                fix="pass the AnnData scanpy annotated",
            )
        return rank_genes_groups_queries(query, groups_key=groups_key, up=up, down=down)
    if layer is not None:
        if not isinstance(query, AnnData):
            raise InvalidParameterError("layer needs an AnnData query", where="layer", fix="drop layer=")
        if layer not in query.layers:
            raise InvalidParameterError(
                f"the query has no layer {layer!r} (layers: {list(query.layers)})",
                where="layer",
                fix="pass one of its layers, or layer=None for X",
            )
        return AnnData(
            query.layers[layer],
            obs=pd.DataFrame(index=query.obs_names),
            var=pd.DataFrame(index=query.var_names),
        )
    return query


def space_genes(source, gene_space: str, geneinfo) -> pd.Index | None:
    """Library genes of ``gene_space`` (None for ``"full"``): from ``geneinfo`` or the library's var."""
    check_choice(gene_space, "gene_space", GENE_SPACES)
    if gene_space == "full":
        return None
    table = table_of(geneinfo, read_clue_geneinfo, "geneinfo")
    if table is None:
        var = getattr(source, "var", None)
        if var is not None and "feature_space" in var.columns:
            table = var.set_axis(pd.Index(source.genes), axis=0)
            table = table.drop(columns=[c for c in ("gene_symbol",) if c in table.columns])
    where = "geneinfo" if geneinfo is not None else "library var"
    return select_gene_space(source.genes, table, gene_space, where=where)


def restrict_query(query, kept: pd.Index):
    """``query`` with only the genes in ``kept`` (the others are dropped before scoring)."""
    keep = set(kept)
    if isinstance(query, AnnData):
        mask = query.var_names.astype(str).isin(kept)
        return query[:, mask].copy()
    return {
        name: ([g for g in pair[0] if str(g) in keep], [g for g in pair[1] if str(g) in keep])
        if isinstance(pair, (tuple, list)) and len(pair) == 2
        else pair
        for name, pair in query.items()
    }


def write_back(query, scores: pd.DataFrame, key_added: str, *, groups_key: str | None, params: dict) -> None:
    """Store ``scores`` in the query AnnData under ``key_added`` (see the module docstring)."""
    if not isinstance(query, AnnData):
        raise InvalidParameterError(
            f"key_added needs an AnnData query, not {type(query).__name__}",
            where="key_added",
            fix="pass the query AnnData itself, or drop key_added and use the returned table",
        )
    adata, by_rows = query, groups_key is None
    entry: dict = {"params": {k: v for k, v in params.items() if v is not None}}
    if by_rows:
        frame = scores.copy()
        frame.index = adata.obs_names
        frame.columns = frame.columns.astype(str)
        adata.obsm[key_added] = frame
    else:
        entry["scores"] = scores.copy()
    adata.uns[key_added] = entry


CLUE_MIN_GENES = 10
CLUE_MAX_GENES = 150


def _signature_sets(adata: AnnData, up: int, down: int) -> dict[str, tuple[list[str], list[str]]]:
    """Each row's ``up`` largest and ``down`` smallest genes, strongest first."""
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    genes = np.asarray(adata.var_names.astype(str))
    out = {}
    for name, row in zip(adata.obs_names.astype(str), np.asarray(x, dtype=np.float64)):
        ui, di = top_bottom_indices(row, up, down)
        out[name] = (genes[ui].tolist(), genes[di].tolist())
    return out


def _sized(name: str, direction: str, genes: list[str], trim: bool) -> list[str]:
    """One set checked against clue.io's 10-150 rule (trimmed to its first 150 with ``trim``)."""
    if len(genes) > CLUE_MAX_GENES and trim:
        return genes[:CLUE_MAX_GENES]
    if not CLUE_MIN_GENES <= len(genes) <= CLUE_MAX_GENES:
        fix = (
            "pass trim=True (--trim) to keep the first 150 genes of each set"
            if len(genes) > CLUE_MAX_GENES
            else "give the set at least 10 genes (larger --up/--down, or a larger gene space)"
        )
        raise InputDataError(
            f"the {direction} set of query {name!r} has {len(genes)} genes; clue.io takes "
            f"{CLUE_MIN_GENES} to {CLUE_MAX_GENES} genes per set",
            where=f"query {name}",
            fix=fix,
        )
    return genes


def clue_query_sets(
    query,
    *,
    up: int = 150,
    down: int = 150,
    trim: bool = False,
    layer: str | None = None,
    groups_key: str | None = None,
    gene_space: str = "full",
    geneinfo=None,
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """A query as clue.io's up and down gene sets, checked against its 10-150 genes rule.

    clue.io's query tool takes two GMT files (up-regulated and down-regulated sets, same set
    names) with 10 to 150 genes per set. Full-signature queries give their ``up`` largest and
    ``down`` smallest genes (strongest first); gene-set queries keep their genes in the order
    given. A set above 150 genes is refused, or cut to its first 150 with ``trim``; a set below
    10 genes (after the gene space) is always refused.

    Parameters
    ----------
    query
        AnnData of full signatures, mapping name -> (up genes, down genes), a query file (GMT of
        ``<name>_up``/``<name>_dn`` sets or a matrix), or an AnnData with ``groups_key``.
    up, down
        Set sizes taken from full signatures and from ``rank_genes_groups`` groups.
    trim
        Cut sets above 150 genes to their first 150 instead of refusing them.
    layer, groups_key
        As in :func:`exprlab.match.score`.
    gene_space, geneinfo
        Keep only the genes of ``"bing"`` or ``"landmark"`` from the clue.io gene table
        ``geneinfo`` before the size rule (clue.io uses BING genes only); ``"full"`` keeps all.

    Returns
    -------
    tuple of dict
        Up sets and down sets, query name -> genes, for :func:`exprlab.io.write_gmt`.
    """
    check_count(up, "up")
    check_count(down, "down")
    query = resolve_query(query, layer=layer, groups_key=groups_key, up=up, down=down)
    if isinstance(query, AnnData):
        if gene_space != "full":
            kept = select_gene_space(
                query.var_names, table_of(geneinfo, read_clue_geneinfo, "geneinfo"), gene_space
            )
            query = query[:, query.var_names.astype(str).isin(kept)]
        sets = _signature_sets(query, up, down)
    else:
        sets = {str(n): ([str(g) for g in p[0]], [str(g) for g in p[1]]) for n, p in query.items()}
        if gene_space != "full":
            every = pd.Index(list(dict.fromkeys(g for u, d in sets.values() for g in u + d)))
            kept = select_gene_space(every, table_of(geneinfo, read_clue_geneinfo, "geneinfo"), gene_space)
            sets = restrict_query(sets, kept)
    ups = {n: _sized(n, "up", u, trim) for n, (u, _) in sets.items()}
    downs = {n: _sized(n, "down", d, trim) for n, (_, d) in sets.items()}
    return ups, downs


def export_signaturesearch(source, out: str | os.PathLike, *, chunk_size: int | None = None) -> Path:
    """Write a library in signatureSearch's HDF5 layout, streamed block by block.

    The file can be given to signatureSearch's ``gess_*`` functions as a reference database and
    is read back by :func:`exprlab.io.read_signaturesearch_h5` (values as float64).

    Parameters
    ----------
    source
        An on-disk library path (streamed), an AnnData, or a matrix / GMT file (read whole).
    out
        Output ``.h5`` file, written atomically.
    chunk_size
        Signatures read and written at a time (default: about 4 million values).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    refuse_inputs(out, [source])
    check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
    src = as_source(source)
    step = chunk_size or max(1, (1 << 22) // max(1, len(src.genes)))
    with SignatureSearchWriter(out, src.genes) as w:
        for lo in track(range(0, src.n, step), "writing signatureSearch h5", total=-(-src.n // step)):
            hi = min(src.n, lo + step)
            values, _ = src.read(lo, hi, ranks=False, ties="midrank")
            w.append(values, src.obs.index[lo:hi])
    return Path(out)
