"""Microarray probes to genes: control probes dropped, probes mapped and collapsed (docs/methods.md §4.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._validation import check_choice
from exprlab.errors import GeneSpaceError

CollapseRule = Literal["max_mean", "mean", "max_variance"]
MultiGeneRule = Literal["drop", "first"]
COLLAPSE_RULES: tuple[CollapseRule, ...] = ("max_mean", "mean", "max_variance")
MULTI_GENE_RULES: tuple[MultiGeneRule, ...] = ("drop", "first")
#: Affymetrix control probes (spike-ins, housekeeping 3'/5' checks): AFFX-..., AFFX_...
_CONTROL = re.compile(r"^AFFX[-_]", re.I)
#: the separator of several genes in one annotation entry (Affymetrix and GEO platform tables)
MULTI_GENE_SEPARATOR = "///"
_NO_GENE = {"", "---", "NA", "NAN", "NONE", "NULL", "N/A"}
_SHOWN = 10


def _dense(X: Any) -> np.ndarray:
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def drop_control_probes(adata: ad.AnnData) -> tuple[ad.AnnData, list[str]]:
    """Remove Affymetrix control probes (ids starting ``AFFX-`` or ``AFFX_``, any case).

    Control probes measure spike-ins and hybridisation checks, not the sample's genes; a
    classifier or a gene ranking should not see them (docs/methods.md §4.3).

    Parameters
    ----------
    adata
        Samples x probes.

    Returns
    -------
    (anndata.AnnData, list of str)
        The AnnData without the control probes (a copy) and the ids removed, in file order.
    """
    ids = [str(v) for v in adata.var_names]
    control = np.array([bool(_CONTROL.match(v)) for v in ids], dtype=bool)
    return adata[:, ~control].copy(), [v for v, c in zip(ids, control, strict=True) if c]


def _parse_entry(entry: Any, multi_gene: str) -> tuple[str | None, bool]:
    """One annotation entry -> (gene or None, whether it named several genes)."""
    if entry is None or (isinstance(entry, float) and np.isnan(entry)):
        return None, False
    parts = [p.strip() for p in str(entry).split(MULTI_GENE_SEPARATOR)]
    genes = list(dict.fromkeys(p.upper() for p in parts if p.upper() not in _NO_GENE))
    if not genes:
        return None, False
    if len(genes) > 1:
        return (genes[0] if multi_gene == "first" else None), True
    return genes[0], False


def _pick(X: np.ndarray, codes: np.ndarray, rule: str) -> np.ndarray:
    """Per gene code, the column index of its probe with the highest mean or variance (ties: first)."""
    with np.errstate(all="ignore"):
        finite = np.isfinite(X)
        counts = finite.sum(axis=0)
        safe = np.where(finite, X, 0.0)
        mean = np.where(counts > 0, safe.sum(axis=0) / np.maximum(counts, 1), -np.inf)
        if rule == "max_mean":
            score = mean
        else:
            sq = np.where(finite, (X - mean) ** 2, 0.0).sum(axis=0)
            score = np.where(counts > 1, sq / np.maximum(counts - 1, 1), -np.inf)
    order = pd.DataFrame({"gene": codes, "score": -score, "pos": np.arange(codes.size)})
    best = order.sort_values(["gene", "score", "pos"], kind="stable").drop_duplicates("gene")
    return best["pos"].to_numpy()


def _mean_by_gene(X: np.ndarray, codes: np.ndarray, n_genes: int) -> np.ndarray:
    """Per sample, the mean of a gene's probes over their present values (NaN when none)."""
    member = sp.csr_matrix((np.ones(codes.size), (codes, np.arange(codes.size))), shape=(n_genes, codes.size))
    finite = np.isfinite(X)
    sums = np.asarray(member @ np.where(finite, X, 0.0).T).T
    counts = np.asarray(member @ finite.astype(np.float64).T).T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def collapse_probes(
    adata: ad.AnnData,
    annotation: Mapping[str, Any] | pd.Series,
    *,
    collapse: CollapseRule = "max_mean",
    multi_gene: MultiGeneRule = "drop",
    keep_controls: bool = False,
) -> tuple[ad.AnnData, dict[str, Any]]:
    """Map probes to genes with an annotation table and keep one column per gene (docs/methods.md §4.3).

    Probes are sorted into: control probes (``AFFX-``; dropped unless ``keep_controls``),
    probes without a gene (absent from the annotation, or an empty / ``---`` entry; dropped),
    probes whose entry names several genes (``A /// B``: dropped, or mapped to the first gene
    with ``multi_gene="first"``), and mapped probes. Several probes of one gene are collapsed:
    ``max_mean`` keeps the probe with the highest mean over the samples (a common choice for
    arrays: the brightest probe set is the least noisy), ``max_variance`` the probe with the
    highest variance, ``mean`` averages the probes sample by sample. Ties keep the probe first
    in the file. Gene ids are upper-cased (exprlab's convention for symbols).

    Parameters
    ----------
    adata
        Samples x probes.
    annotation
        Probe id -> gene entry (:func:`exprlab.io.read_probe_annotation`).
    collapse
        ``max_mean``, ``mean`` or ``max_variance``.
    multi_gene
        ``drop`` or ``first``: what to do with a probe annotated to several genes.
    keep_controls
        Keep ``AFFX-`` probes that the annotation maps to a gene.

    Returns
    -------
    (anndata.AnnData, dict)
        Samples x genes (float32, genes in the order of their first probe; var ``probe`` the
        probe kept, empty for ``mean``, ``probes`` all probes of the gene joined by ``|``,
        ``n_probes``) and a report: ``n_probes``, ``n_controls``, ``n_unannotated``,
        ``n_multi_gene`` (dropped, or mapped to their first gene), ``n_mapped``, ``n_genes``,
        ``n_collapsed`` (mapped probes merged into another probe's gene), ``collapse``,
        ``multi_gene``, and ``first`` examples of each dropped group.

    Raises
    ------
    GeneSpaceError
        The annotation maps none of the probes, or every probe is dropped.
    """
    collapse = check_choice(collapse, "collapse", COLLAPSE_RULES)
    multi_gene = check_choice(multi_gene, "multi_gene", MULTI_GENE_RULES)
    probes = [str(v) for v in adata.var_names]
    table = _annotation_table(annotation, probes)
    genes, groups = _classify(probes, table, multi_gene, keep_controls)
    mapped = np.array([g is not None for g in genes])
    if not mapped.any():
        raise GeneSpaceError(
            f"no probe is left after mapping: {len(groups['control'])} control, "
            f"{len(groups['unannotated'])} without a gene, {len(groups['multi_gene'])} with several genes",
            where="annotation",
            fix="check --gene-column (it must hold gene symbols or ids), or pass --multi-gene first",
        )
    new = _collapsed(adata, np.flatnonzero(mapped), [g for g in genes if g is not None], collapse)
    report: dict[str, Any] = {
        "n_probes": len(probes),
        "n_controls": len(groups["control"]),
        "n_unannotated": len(groups["unannotated"]),
        "n_multi_gene": len(groups["multi_gene"]),
        "n_mapped": int(mapped.sum()),
        "n_genes": new.n_vars,
        "n_collapsed": int(mapped.sum()) - new.n_vars,
        "collapse": collapse,
        "multi_gene": multi_gene,
        "first": {k: v[:_SHOWN] for k, v in groups.items()},
    }
    return new, report


def _annotation_table(annotation: Mapping[str, Any] | pd.Series, probes: list[str]) -> pd.Series:
    """The annotation as a Series with stripped, unique probe ids; it must know one of ``probes``."""
    table = pd.Series(annotation, dtype=object)
    table.index = [str(i).strip() for i in table.index]
    table = table[~table.index.duplicated()]
    known = [p for p in probes if p in table.index]
    if not known:
        raise GeneSpaceError(
            f"the annotation maps none of the {len(probes)} probes (matrix ids like "
            f"{', '.join(probes[:3])}; annotation ids like {', '.join(map(str, table.index[:3]))})",
            where="annotation",
            fix="check --probe-column (it must hold the matrix's probe ids) and that the annotation is "
            "for this array",
        )
    return table


def _classify(
    probes: list[str], table: pd.Series, multi_gene: str, keep_controls: bool
) -> tuple[list[str | None], dict[str, list[str]]]:
    """Each probe's gene (None when dropped) and the dropped probes by reason."""
    groups: dict[str, list[str]] = {"control": [], "unannotated": [], "multi_gene": []}
    genes: list[str | None] = []
    for p in probes:
        gene, several = _parse_entry(table.get(p), multi_gene)
        if _CONTROL.match(p) and not (keep_controls and gene is not None):
            groups["control"].append(p)
            gene = None
        elif several:
            groups["multi_gene"].append(p)
        elif gene is None:
            groups["unannotated"].append(p)
        genes.append(gene)
    return genes, groups


def _collapsed(adata: ad.AnnData, kept: np.ndarray, genes: list[str], rule: str) -> ad.AnnData:
    """The mapped probes (columns ``kept`` of adata, gene ``genes[i]`` each) collapsed to genes."""
    X = _dense(adata.X)[:, kept]
    probes = np.asarray([str(v) for v in adata.var_names])[kept]
    codes, uniques = pd.factorize(pd.Series(genes, dtype=object))
    members = pd.Series(probes).groupby(codes, sort=True).agg("|".join).to_numpy()
    n_probes = np.bincount(codes, minlength=len(uniques))
    if rule == "mean":
        values = _mean_by_gene(X, codes, len(uniques))
        chosen = [""] * len(uniques)
    else:
        pos = _pick(X, codes, rule)
        values = X[:, pos]
        chosen = [str(v) for v in probes[pos]]
    var = pd.DataFrame(
        {"probe": chosen, "probes": list(members), "n_probes": n_probes.astype(np.int64)},
        index=pd.Index([str(g) for g in uniques], dtype=object),
    )
    return ad.AnnData(X=values.astype(np.float32), obs=adata.obs.copy(), var=var, uns=dict(adata.uns))
