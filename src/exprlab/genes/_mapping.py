"""Mapping between gene identifier kinds and re-expressing an AnnData over another kind."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._config import data_file
from exprlab._validation import check_choice
from exprlab.errors import GeneSpaceError
from exprlab.io import guess_id_kind, read_gene_info

GeneIdKind = Literal["symbol", "entrez", "ensembl"]
#: The gene identifier kinds the L1000 gene table maps between.
KINDS: tuple[GeneIdKind, ...] = ("symbol", "entrez", "ensembl")
_FEATURE_RANK = {"landmark": 0, "best inferred": 1, "inferred": 2}


@lru_cache(maxsize=4)
def _gene_table_cached(path: str) -> pd.DataFrame:
    return read_gene_info(path)


def load_gene_table(path: str | Path | None = None) -> pd.DataFrame:
    """The L1000 gene table as a DataFrame (a fresh copy; parsed once per process).

    Parameters
    ----------
    path
        A ``geneinfo_beta.txt(.gz)`` file; default ``lincs/geneinfo_beta.txt.gz`` in the public
        data directory (``EXPRLAB_DATA``).

    Returns
    -------
    pandas.DataFrame
        12,328 rows, columns ``entrez`` (str), ``symbol`` (upper-case), ``ensembl`` (str, empty
        when unknown), ``gene_title``, ``gene_type``, ``feature_space`` (landmark / best
        inferred / inferred), in file order.
    """
    if path is None:
        path = data_file("lincs/geneinfo_beta.txt.gz")
    return _gene_table_cached(str(path)).copy()


def detect_id_kind(ids: Iterable[str]) -> GeneIdKind:
    """Tell whether identifiers are Entrez ids, Ensembl gene ids or symbols.

    Uses :func:`exprlab.io.guess_id_kind` (the kind at least 80 % of the ids fit: all digits is
    Entrez, ``ENS*G`` + digits is Ensembl). Identifiers of no kind the L1000 table maps (probe ids
    such as ``1007_s_at``, a mixture) raise :class:`~exprlab.errors.GeneSpaceError`.

    Parameters
    ----------
    ids
        Gene identifiers; empty and missing ones are ignored.

    Returns
    -------
    str
        ``"symbol"``, ``"entrez"`` or ``"ensembl"``.
    """
    values = [str(i).strip() for i in ids if i is not None and str(i).strip() != ""]
    if not values:
        raise GeneSpaceError(
            "no gene identifiers to map", where="exprlab.genes", fix="pass a non-empty list of gene ids"
        )
    kind = guess_id_kind(values)
    for known in KINDS:
        if kind == known:
            return known
    raise GeneSpaceError(
        f"the gene ids are {kind} ids (e.g. {', '.join(values[:3])}), which the L1000 gene table cannot map",
        where="exprlab.genes",
        fix="map them to symbols, Entrez or Ensembl ids first (e.g. with "
        "the array's annotation), or pass source= explicitly",
    )


def _clean(ids: pd.Series, kind: str) -> pd.Series:
    ids = ids.astype(str).str.strip()
    if kind == "symbol":
        return ids.str.upper()
    if kind == "ensembl":
        return ids.str.upper().str.replace(r"\.\d+$", "", regex=True)
    return ids.str.replace(r"\.0$", "", regex=True)  # Entrez ids read as floats: "7157.0"


def _lookup(source: str, target: str, table: pd.DataFrame) -> pd.Series:
    """Source id -> target id, one target per source by the feature-space rule."""
    t = table[(table[source] != "") & (table[target] != "")]
    rank = t["feature_space"].map(_FEATURE_RANK).fillna(len(_FEATURE_RANK))
    t = t.assign(_rank=rank.to_numpy(), _order=np.arange(len(t)))
    t = t.sort_values(["_rank", "_order"], kind="stable").drop_duplicates(source, keep="first")
    return pd.Series(t[target].to_numpy(), index=t[source].to_numpy())


def map_genes(
    ids: Iterable[str],
    source: GeneIdKind | Literal["auto"] = "symbol",
    target: GeneIdKind = "entrez",
    *,
    table: pd.DataFrame | None = None,
) -> pd.Series:
    """Map gene identifiers from one kind to another.

    Parameters
    ----------
    ids
        Identifiers of kind ``source`` (symbols in any case; Ensembl ids with or without a
        version suffix; Entrez ids as strings or integers).
    source, target
        ``"symbol"``, ``"entrez"`` or ``"ensembl"``; ``source="auto"`` detects the kind
        (:func:`detect_id_kind`).
    table
        A gene table like :func:`load_gene_table` returns (default: the L1000 table).

    Returns
    -------
    pandas.Series
        Indexed by the input identifiers in input order, values the target ids (symbols
        upper-case) or ``NaN`` where the identifier is not in the table.
    """
    ids = list(ids)
    kind = detect_id_kind(ids) if source == "auto" else source
    kind = check_choice(kind, "source", KINDS)
    target = check_choice(target, "target", KINDS)
    table = load_gene_table() if table is None else table
    keys = _clean(pd.Series(ids, dtype=object), kind)
    if kind == target:
        known = set(table.loc[table[target] != "", target])
        mapped = keys.where(keys.isin(known))
    else:
        mapped = keys.map(_lookup(kind, target, table))
    return pd.Series(mapped.to_numpy(dtype=object), index=pd.Index([str(i) for i in ids]), name=target)


DuplicateRule = Literal["mean", "first", "drop"]
_DUPLICATE_RULES: tuple[DuplicateRule, ...] = ("mean", "first", "drop")


def convert_gene_space(
    adata: ad.AnnData,
    target: GeneIdKind = "symbol",
    *,
    source: GeneIdKind | Literal["auto"] = "auto",
    duplicates: DuplicateRule = "mean",
    table: pd.DataFrame | None = None,
) -> tuple[ad.AnnData, dict[str, Any]]:
    """Re-express an AnnData over another kind of gene identifier.

    Parameters
    ----------
    adata
        AnnData whose ``var_names`` are gene ids of one kind.
    target
        ``"symbol"`` (upper-case), ``"entrez"`` or ``"ensembl"``.
    source
        The kind of ``adata.var_names``; ``"auto"`` detects it (:func:`detect_id_kind`).
    duplicates
        What to do when several source genes map to the same target id: ``"mean"`` averages
        their values (X and every numeric layer; boolean layers become "any"; a NaN in one of
        the merged genes makes the mean NaN), ``"first"`` keeps
        the first in ``var`` order, ``"drop"`` removes all of them.
    table
        Gene table (default :func:`load_gene_table`).

    Returns
    -------
    (AnnData, dict)
        The converted AnnData (obs unchanged; var_names the target ids in order of first
        appearance; ``var["source_ids"]`` lists the merged source ids joined by ``|``) and a
        report: ``source``, ``target``, ``n_in``, ``n_out``, ``n_unmapped``, ``unmapped``
        (source ids not in the table, dropped), ``n_merged`` and ``merged`` (target id -> the
        source ids merged or dropped into it).
    """
    duplicates = check_choice(duplicates, "duplicates", _DUPLICATE_RULES)
    target = check_choice(target, "target", KINDS)
    src_ids = list(map(str, adata.var_names))
    kind = detect_id_kind(src_ids) if source == "auto" else source
    kind = check_choice(kind, "source", KINDS)
    mapped = map_genes(src_ids, kind, target, table=table).to_numpy(dtype=object)
    ok = pd.notna(mapped)
    unmapped = [g for g, m in zip(src_ids, ok) if not m]
    kept_idx = np.flatnonzero(ok)
    codes, uniques = pd.factorize(pd.Series(mapped[ok], dtype=object))  # order of first appearance
    counts = np.bincount(codes, minlength=len(uniques))
    merged = {}
    for code in np.flatnonzero(counts > 1):
        merged[uniques[code]] = [src_ids[kept_idx[i]] for i in np.flatnonzero(codes == code)]
    if duplicates == "drop":
        keep_codes = counts == 1
        sel = keep_codes[codes]
        kept_idx, codes = kept_idx[sel], codes[sel]
        codes = (np.cumsum(keep_codes) - 1)[codes]
        uniques = uniques[keep_codes]
    n_out = len(uniques)
    agg = _merge_matrix(kept_idx, codes, adata.n_vars, n_out, duplicates)
    src_joined = pd.Series([src_ids[i] for i in kept_idx]).groupby(codes).agg("|".join)
    var = pd.DataFrame({"source_ids": src_joined.to_numpy()}, index=pd.Index(list(uniques), dtype=str))
    new = ad.AnnData(
        X=_combine(adata.X, agg),
        obs=adata.obs.copy(),
        var=var,
        layers={k: _combine(v, agg) for k, v in adata.layers.items()},
        uns=dict(adata.uns),
    )
    report = {
        "source": kind,
        "target": target,
        "n_in": len(src_ids),
        "n_out": n_out,
        "n_unmapped": len(unmapped),
        "unmapped": unmapped,
        "n_merged": len(merged),
        "merged": merged,
        "duplicates": duplicates,
    }
    return new, report


def _merge_matrix(
    kept_idx: np.ndarray, codes: np.ndarray, n_in: int, n_out: int, duplicates: str
) -> sp.csr_matrix:
    """Source genes x target ids weights: 1/group size (``mean``) or 1 on each group's first gene."""
    if duplicates == "mean":
        weights = 1.0 / np.bincount(codes, minlength=n_out)[codes]
    else:
        first = np.zeros(len(codes), dtype=bool)
        _, first_pos = np.unique(codes, return_index=True)
        first[first_pos] = True
        weights = first.astype(float)
    return sp.csr_matrix((weights, (kept_idx, codes)), shape=(n_in, n_out))


def _combine(mat: Any, agg: sp.csr_matrix) -> Any:
    """``mat @ agg`` keeping the kind of ``mat``: dense stays dense (same float dtype), bool is "any"."""
    is_bool = getattr(getattr(mat, "dtype", None), "kind", None) == "b"
    m = mat.astype(np.float64) if is_bool else mat
    out = m @ agg
    if sp.issparse(out) and not sp.issparse(mat):
        out = out.toarray()
    out = np.asarray(out) if not sp.issparse(out) else out.tocsr()
    if is_bool:
        return out > 0
    if not sp.issparse(out) and np.issubdtype(np.asarray(mat).dtype, np.floating):
        out = out.astype(np.asarray(mat).dtype, copy=False)
    return out


def require_same_gene_space(
    a, b, *, names: tuple[str, str] = ("first", "second"), same_order: bool = True
) -> None:
    """Raise :class:`~exprlab.errors.GeneSpaceError` unless ``a`` and ``b`` share their genes.

    Parameters
    ----------
    a, b
        AnnData objects (their ``var_names``) or sequences of gene ids.
    names
        How to call the two objects in the message (``("query", "library")``).
    same_order
        Also require the same order (what code that compares columns position by position
        needs); with ``False`` only the sets must be equal.

    Notes
    -----
    The message says how many genes each side lacks, shows a few, names the id kinds when they
    differ, and suggests :func:`convert_gene_space` or subsetting to the shared genes.
    """
    ga = pd.Index(_var_names(a))
    gb = pd.Index(_var_names(b))
    if len(ga) == len(gb) and (ga == gb).all():
        return
    na, nb = names
    only_a = ga.difference(gb)
    only_b = gb.difference(ga)
    if only_a.empty and only_b.empty:
        if not same_order:
            return
        raise GeneSpaceError(
            f"{na} and {nb} hold the same {len(ga)} genes in a different order",
            where=f"{na} vs {nb}",
            fix=f"reorder one onto the other, e.g. {nb}[:, {na}.var_names]",
        )
    kind_a, kind_b = guess_id_kind(list(ga[:2000])), guess_id_kind(list(gb[:2000]))
    kinds = f" ({na} uses {kind_a} ids, {nb} uses {kind_b} ids)" if kind_a != kind_b else ""
    raise GeneSpaceError(
        f"gene spaces differ{kinds}: {len(only_a)} of {len(ga)} {na} genes are not in {nb} "
        f"(e.g. {', '.join(map(str, only_a[:3]))}), {len(only_b)} of {len(gb)} {nb} genes are not "
        f"in {na} (e.g. {', '.join(map(str, only_b[:3]))})",
        where=f"{na} vs {nb}",
        fix="convert both to one id kind with exprlab.genes.convert_gene_space, or subset both to "
        "the shared genes",
    )


def _var_names(obj) -> list[str]:
    if hasattr(obj, "var_names"):
        return list(map(str, obj.var_names))
    return list(map(str, obj))
