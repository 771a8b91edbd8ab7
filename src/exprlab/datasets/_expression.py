"""Expression cohorts with phenotypes: ALL (Chiaretti), Golub leukaemia, TCGA breast, SRBCT."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import anndata as ad
import numpy as np
import pandas as pd

from exprlab._config import data_file
from exprlab._validation import check_choice
from exprlab.datasets._registry import _key
from exprlab.errors import FormatError, InvalidParameterError
from exprlab.io import read_cls, read_delimited, read_expression_csv, read_gct, read_label_csv


@lru_cache(maxsize=8)
def _expression_csv_cached(path: str, genes_as: Literal["rows", "columns"]) -> ad.AnnData:
    return read_expression_csv(path, genes_as=genes_as)


def _with_labels(adata: ad.AnnData, labels: pd.Series, column: str, where: str | Path) -> ad.AnnData:
    """Put every sample's label in ``obs[column]`` (categorical); a sample without one is an error."""
    missing = adata.obs_names.difference(labels.index)
    if len(missing):
        raise FormatError(
            f"sample {missing[0]!r} has no label ({len(missing)} such samples)",
            where=where,
            fix="give every sample of the matrix a label",
        )
    adata.obs[column] = pd.Categorical(labels.reindex(adata.obs_names).to_numpy())
    return adata


def all_chiaretti() -> ad.AnnData:
    """Acute lymphoblastic leukaemia (Chiaretti 2004), RMA log2, Affymetrix HG-U95Av2.

    Returns
    -------
    anndata.AnnData
        128 samples x 12,625 probe ids (float32); obs the 21 phenotype columns of the pheno
        table (``BT`` B/T lineage, ``mol.biol`` BCR/ABL, NEG ..., ``sex``, ``age``, ``relapse``
        ...).
    """
    adata = _expression_csv_cached(
        _key("expression/ALL_Chiaretti_hgu95av2_exprs_12625x128.csv.gz"), "rows"
    ).copy()
    pheno_path = data_file("expression/ALL_Chiaretti_pheno_128.csv")
    pheno = read_delimited(pheno_path, sep=",", index_col=0)
    pheno.index = pheno.index.astype(str)
    missing = adata.obs_names.difference(pheno.index)
    if len(missing):
        raise FormatError(
            f"sample {missing[0]!r} has no phenotype row",
            where=pheno_path,
            fix="use the matching pheno table",
        )
    adata.obs = pheno.reindex(adata.obs_names)
    return adata


def golub_leukemia() -> ad.AnnData:
    """Golub-style leukaemia, ALL vs AML (GCT 1.2 + CLS).

    Returns
    -------
    anndata.AnnData
        48 samples x 12,564 probes, obs ``label`` (categorical ALL 24 / AML 24) plus the GCT's
        description in var.
    """
    adata = read_gct(data_file("expression/Leukemia_hgu95av2.gct.gz"))
    cls_path = data_file("expression/Leukemia.cls")
    labels = read_cls(cls_path)
    if len(labels) != adata.n_obs:
        raise FormatError(
            f"the CLS file has {len(labels)} labels for {adata.n_obs} samples",
            where=cls_path,
            fix="use the CLS file of this GCT",
        )
    adata.obs["label"] = pd.Categorical(np.asarray(labels))
    return adata


Split = Literal["train", "test"]
Omics = Literal["mrna", "mirna", "protein"]


def tcga_breast(split: Split = "train", omics: Omics = "mrna") -> ad.AnnData:
    """TCGA breast cancer, PAM50-like subtypes (mixOmics data).

    Parameters
    ----------
    split
        ``"train"`` (150 samples: Basal 45, Her2 30, LumA 75) or ``"test"`` (70).
    omics
        ``"mrna"`` (200 genes), ``"mirna"`` (184) or ``"protein"`` (142; train only).

    Returns
    -------
    anndata.AnnData
        Samples x features (float32), obs ``subtype`` (categorical).
    """
    split = check_choice(split, "split", get_args(Split))
    omics = check_choice(omics, "omics", get_args(Omics))
    if omics == "protein" and split == "test":
        raise InvalidParameterError(
            "the protein data has no test split", where="tcga_breast", fix="use split='train' for protein"
        )
    adata = _expression_csv_cached(
        _key(f"expression/breastTCGA_data.{split}_{omics}.csv.gz"), "columns"
    ).copy()
    lab_path = data_file(f"expression/breastTCGA_data.{split}_subtype.csv")
    return _with_labels(adata, read_label_csv(lab_path), "subtype", lab_path)


def srbct() -> ad.AnnData:
    """Small round blue cell tumours (Khan 2001).

    Returns
    -------
    anndata.AnnData
        63 samples x 2,308 genes (var_names ``g1`` ... ``g2308``; var ``image_id`` and
        ``description`` from the gene-name table), obs ``label`` (EWS 23, BL 8, NB 12, RMS 20).
    """
    adata = _expression_csv_cached(_key("expression/srbct_Khan_gene_63x2308.csv.gz"), "columns").copy()
    names_path = data_file("expression/srbct_Khan_gene_names.csv")
    names = read_delimited(names_path, sep=",", dtype=str)
    if len(names) != adata.n_vars:
        raise FormatError(
            f"{len(names)} gene names for {adata.n_vars} genes",
            where=names_path,
            fix="use the gene-name table of this matrix",
        )
    adata.var["image_id"] = names.iloc[:, 0].to_numpy()
    adata.var["description"] = names.iloc[:, 1].to_numpy()
    lab_path = data_file("expression/srbct_Khan_class.csv")
    return _with_labels(adata, read_label_csv(lab_path), "label", lab_path)
