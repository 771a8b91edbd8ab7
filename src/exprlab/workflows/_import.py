"""A user's cohort into one h5ad: matrix, phenotypes, probes mapped to genes, provenance recorded.

:func:`import_expression` is what ``exprlab import`` runs. It reads the matrix (CSV/TSV in
either orientation, GCT/GCTX, a GEO series matrix, h5ad), joins a phenotype table by sample id
(or a CLS file by position), drops the Affymetrix control probes, maps probes to genes with a
user annotation and collapses several probes per gene (docs/methods.md §4), and writes an h5ad
that every command reads. What was done is recorded in ``adata.uns["import"]``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab import __version__
from exprlab._outputs import claim_output
from exprlab._validation import check_choice
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.genes import (
    COLLAPSE_RULES,
    MULTI_GENE_RULES,
    CollapseRule,
    MultiGeneRule,
    collapse_probes,
    drop_control_probes,
)
from exprlab.io import (
    GenesAs,
    detect_format,
    guess_genes_axis,
    guess_id_kind,
    join_phenotypes,
    read,
    read_cls,
    read_expression_table,
    read_geo_series_matrix,
    read_phenotypes,
    read_probe_annotation,
    storable_frame,
    write_h5ad,
)

__all__ = ["import_expression"]

#: Largest value of log-scale expression; a larger maximum suggests unlogged intensities or counts.
UNLOGGED_MAX = 100.0
_SHOWN = 10


def _read_matrix(data: Path, genes_as: str) -> tuple[ad.AnnData, str, str, str]:
    """(AnnData, format, genes axis in the file, rule that decided it)."""
    fmt = detect_format(data)
    if fmt in ("csv", "tsv"):
        adata = read_expression_table(data, genes_as=genes_as, duplicate_genes="keep")  # type: ignore[arg-type]
        layout = adata.uns.pop("layout")
        return adata, fmt, layout["genes_as"], layout["rule"]
    if fmt == "geo_series":
        if genes_as == "columns":
            raise InvalidParameterError(
                "a GEO series matrix stores genes as rows", where=data, fix="leave --genes-as at auto or rows"
            )
        adata = read_geo_series_matrix(data)
        adata.uns.pop("layout", None)
        return adata, fmt, "rows", "GEO series matrix convention"
    adata = read(data)
    if fmt not in ("gct", "gctx"):
        if genes_as != "auto":
            raise InvalidParameterError(
                f"a {fmt} file stores samples and genes in fixed places",
                where=data,
                fix="leave --genes-as at auto",
            )
        return adata, fmt, "columns", "AnnData convention (var = genes)"
    if genes_as == "auto":
        axis, reason = guess_genes_axis(list(adata.var_names), list(adata.obs_names), use_shape=False)
        rule = f"detected: {reason}" if axis else f"GCT convention ({reason})"
        axis = axis or "rows"
    else:
        axis, rule = genes_as, "forced"
    if axis == "columns":  # the file's columns hold genes: undo the reader's transposition
        adata = adata.T.copy()
    return adata, fmt, axis, rule


def _join(adata: ad.AnnData, pheno: Path, sample_column: str | None) -> tuple[ad.AnnData, dict[str, Any]]:
    """Phenotypes joined by sample id, or CLS labels by position (put in obs ``label``)."""
    if detect_format(pheno) == "cls":
        if sample_column is not None:
            raise InvalidParameterError(
                "a CLS file has no sample ids",
                where=pheno,
                fix="drop --sample-column: CLS labels join by position",
            )
        labels = read_cls(pheno)
        if len(labels) != adata.n_obs:
            raise InputDataError(
                f"the CLS file has {len(labels)} labels for {adata.n_obs} samples",
                where=pheno,
                fix="a CLS file gives one label per sample, in the matrix's sample order",
            )
        adata = adata.copy()
        adata.obs["label"] = labels.to_numpy()
        report = {"join": "by position (CLS)", "n_matched": adata.n_obs, "columns": ["label"]}
        return adata, report
    table = read_phenotypes(pheno, sample_column=sample_column)
    adata, report = join_phenotypes(adata, table, where=pheno)
    report["join"] = "by sample id"
    report["columns"] = [str(c) for c in table.columns]
    for side, what in (("expression_only", "matrix sample"), ("phenotype_only", "phenotype row")):
        info = report[side]
        if info["count"]:
            more = " ..." if info["count"] > len(info["first"]) else ""
            other = "no phenotype row" if side == "expression_only" else "no matrix sample"
            one = info["count"] == 1
            warnings.warn(
                f"{info['count']} {what}{'' if one else 's'} {'has' if one else 'have'} {other}, left out: "
                f"{', '.join(info['first'])}{more}",
                UserWarning,
                stacklevel=3,
            )
    return adata, report


def _genes(
    adata: ad.AnnData,
    annotation: Path | None,
    probe_column: str | None,
    gene_column: str | None,
    collapse: str,
    multi_gene: str,
    keep_controls: bool,
) -> tuple[ad.AnnData, dict[str, Any]]:
    """Control probes dropped, probes mapped and collapsed when an annotation is given."""
    if annotation is not None or gene_column is not None:
        table = _annotation(adata, annotation, probe_column, gene_column)
        return collapse_probes(
            adata,
            table,
            collapse=collapse,  # type: ignore[arg-type]  # checked by the caller
            multi_gene=multi_gene,  # type: ignore[arg-type]
            keep_controls=keep_controls,
        )
    if probe_column is not None:
        raise InvalidParameterError(
            "--probe-column needs --annotation", where="options", fix="pass --annotation FILE"
        )
    if not adata.var_names.is_unique:  # a gene listed on several rows: collapse it like probes
        ids = [str(v) for v in adata.var_names]
        return collapse_probes(
            adata,
            dict(zip(ids, ids, strict=False)),
            collapse=collapse,  # type: ignore[arg-type]  # checked by the caller
            multi_gene=multi_gene,  # type: ignore[arg-type]
            keep_controls=keep_controls,
        )
    dropped: list[str] = []
    if not keep_controls:
        adata, dropped = drop_control_probes(adata)
    report = {
        "n_probes": adata.n_vars + len(dropped),
        "n_controls": len(dropped),
        "first": {"control": dropped[:_SHOWN]},
    }
    return adata, report


def _annotation(
    adata: ad.AnnData, annotation: Path | None, probe_column: str | None, gene_column: str | None
) -> pd.Series:
    """Probe -> gene entries from the annotation file, or from a gene column of the matrix itself."""
    if annotation is not None:
        return read_probe_annotation(annotation, probe_column=probe_column, gene_column=gene_column)
    if probe_column is not None:
        raise InvalidParameterError(
            "--probe-column needs --annotation", where="options", fix="pass --annotation FILE"
        )
    if gene_column not in adata.var.columns:
        found = ", ".join(map(str, adata.var.columns)) or "none"
        raise InvalidParameterError(
            f"without --annotation, --gene-column names a text column of the matrix, and it has no "
            f"{gene_column!r} (its gene annotation columns: {found})",
            where="--gene-column",
            fix="pass --annotation FILE with the probe annotation, or a --gene-column of the matrix",
        )
    col = adata.var[gene_column].astype(object)
    return pd.Series(
        col.where(col.notna(), "").astype(str).to_numpy(), index=[str(v) for v in adata.var_names]
    )


def _value_range(adata: ad.AnnData) -> tuple[float, float]:
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    finite = X[np.isfinite(X)]
    if finite.size == 0:
        raise InputDataError(
            "the matrix holds no finite value", where="matrix", fix="check the file's values"
        )
    return float(finite.min()), float(finite.max())


def _check_options(collapse: str, multi_gene: str, genes_as: str) -> None:
    check_choice(collapse, "collapse", COLLAPSE_RULES)
    check_choice(multi_gene, "multi_gene", MULTI_GENE_RULES)
    check_choice(genes_as, "genes_as", ("auto", "rows", "columns"))


def import_expression(
    data: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    genes_as: GenesAs = "auto",
    pheno: str | os.PathLike | None = None,
    sample_column: str | None = None,
    annotation: str | os.PathLike | None = None,
    probe_column: str | None = None,
    gene_column: str | None = None,
    collapse: CollapseRule = "max_mean",
    multi_gene: MultiGeneRule = "drop",
    keep_controls: bool = False,
    force: bool = False,
) -> tuple[ad.AnnData, dict[str, Any]]:
    """Import an expression cohort into one AnnData (and h5ad) ready for every command.

    Read the matrix and settle its orientation, join the phenotypes by sample id (the samples
    both files hold) or CLS labels by position, drop ``AFFX-`` control probes, map probes to
    genes and collapse several probes per gene (docs/methods.md §4). Values are never
    transformed: a maximum above 100 warns that they look unlogged; unmatched sample ids warn
    with up to ten names per side.

    Parameters
    ----------
    data
        The matrix: CSV/TSV (optionally ``.gz``), GCT/GCTX, a GEO ``*_series_matrix.txt[.gz]``
        or h5ad.
    out
        Write the result here (``.h5ad``, atomically); ``None`` only returns it.
    genes_as
        ``auto`` (detect), ``rows`` or ``columns``: the axis of the file that holds the genes.
    pheno
        A phenotype table (CSV/TSV, one row per sample), a GEO series matrix (its sample
        annotations) or a CLS file (labels in the matrix's sample order, put in obs ``label``).
    sample_column
        The phenotype column of sample ids (default the first; ``geo_accession`` for a series
        matrix).
    annotation
        A probe annotation table (CSV/TSV; leading ``#`` lines skipped).
    probe_column, gene_column
        Its columns of probe ids (default the first) and of genes (default a column named like
        ``Gene Symbol``). Without ``annotation``, ``gene_column`` may name a text column of the
        matrix itself (a gene symbol column beside the probe ids).
    collapse
        ``max_mean``, ``mean`` or ``max_variance``: how several probes of a gene become one.
    multi_gene
        ``drop`` or ``first``: a probe annotated ``A /// B``.
    keep_controls
        Keep the ``AFFX-`` control probes.
    force
        Replace an existing ``out`` written by exprlab.

    Returns
    -------
    (anndata.AnnData, dict)
        Samples x genes (float32), phenotypes in obs; the provenance, also in ``uns["import"]``:
        sources, format, orientation and its rule, the join (unmatched ids of each side), the
        probe report (controls, unannotated, several genes, collapsed), value range.
    """
    _check_options(collapse, multi_gene, genes_as)
    options = {
        "genes_as": genes_as,
        "pheno": pheno,
        "sample_column": sample_column,
        "annotation": annotation,
        "probe_column": probe_column,
        "gene_column": gene_column,
        "collapse": collapse,
        "multi_gene": multi_gene,
        "keep_controls": keep_controls,
    }
    if out is None:
        return _import(data, **options)
    with claim_output(out, kind="matrix", inputs=[data, pheno, annotation], force=force, suffixes=(".h5ad",)):
        adata, report = _import(data, **options)
        write_h5ad(adata, out)
    return adata, report


def _import(
    data,
    genes_as,
    pheno,
    sample_column,
    annotation,
    probe_column,
    gene_column,
    collapse,
    multi_gene,
    keep_controls,
) -> tuple[ad.AnnData, dict[str, Any]]:
    src = Path(data)
    adata, fmt, axis, rule = _read_matrix(src, genes_as)
    report: dict[str, Any] = {
        "sources": {"data": str(src)},
        "format": fmt,
        "genes_as": axis,
        "orientation_rule": rule,
        "n_samples_read": adata.n_obs,
        "n_features_read": adata.n_vars,
        "feature_kind": guess_id_kind([str(v) for v in adata.var_names]),
    }
    if pheno is not None:
        report["sources"]["pheno"] = str(pheno)
        adata, report["phenotypes"] = _join(adata, Path(pheno), sample_column)
    elif sample_column is not None:
        raise InvalidParameterError("--sample-column needs --pheno", where="options", fix="pass --pheno FILE")
    if annotation is not None:
        report["sources"]["annotation"] = str(annotation)
    adata, report["probes"] = _genes(
        adata,
        None if annotation is None else Path(annotation),
        probe_column,
        gene_column,
        collapse,
        multi_gene,
        keep_controls,
    )
    low, high = _value_range(adata)
    report.update(value_min=low, value_max=high, looks_unlogged=bool(high > UNLOGGED_MAX))
    if high > UNLOGGED_MAX:
        hint = "train with --log2" if low >= 0 else "log-transform them before training (negative values)"
        warnings.warn(
            f"the values look unlogged (max {high:.4g} > {UNLOGGED_MAX:g}); they are kept as they are: {hint}",
            UserWarning,
            stacklevel=3,
        )
    report.update(n_samples=adata.n_obs, n_genes=adata.n_vars, exprlab_version=__version__)
    adata.obs = storable_frame(adata.obs)
    adata.var = storable_frame(adata.var)
    adata.uns["import"] = report
    return adata, report
