"""Disease samples and contrasts: psoriasis skin, a GTEx ageing signature, the paper's contrasts."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from exprlab._config import data_file
from exprlab.datasets._expression import _expression_csv_cached, _with_labels
from exprlab.datasets._registry import _key
from exprlab.io import read_delimited, read_dgem_contrast, read_gene_values, read_label_csv


def psoriasis_samples() -> ad.AnnData:
    """Psoriasis lesional vs control skin (GEO GSE13355), the 706 differentially expressed genes.

    Returns
    -------
    anndata.AnnData
        116 samples x 706 genes (log expression, float32), obs ``label`` (categorical:
        ``Psoriasis`` 58, ``ct`` 58).
    """
    adata = _expression_csv_cached(
        _key("disease_samples/psoriasis_GSE13355_DEexprs_706x116.csv.gz"), "rows"
    ).copy()
    lab_path = data_file("disease_samples/psoriasis_GSE13355_labels_116.csv")
    return _with_labels(adata, read_label_csv(lab_path), "label", lab_path)


def gtex_muscle_ageing() -> ad.AnnData:
    """A GTEx muscle-ageing signature.

    Returns
    -------
    anndata.AnnData
        1 x 14,686 genes (upper-case symbols).
    """
    return read_gene_values(
        data_file("disease_samples/gtex_muscle_ageing_signature.tsv"),
        sep=",",
        gene_column="0",
        value_column="1",
        name="gtex_muscle_ageing",
    )


def dgem_contrasts(*, padj_threshold: float | None = None) -> ad.AnnData:
    """The two public disease contrasts of the drug-matching paper (``contrast-a``, ``contrast-b``).

    Parameters
    ----------
    padj_threshold
        When given, the paper's rule is applied (see :func:`exprlab.io.read_dgem_contrast`).

    Returns
    -------
    anndata.AnnData
        2 x 30,370 (the union of the two files' upper-case gene names): X log2 fold change
        (1,354 and 1,297 non-zero after merging names listed twice), ``layers["pval"]`` the
        adjusted p-values; a gene absent from one file is 0 with adjusted p-value 1 there.
    """
    parts = [
        read_dgem_contrast(data_file(f"dgem/contrast-{x}.csv.gz"), padj_threshold=padj_threshold)
        for x in ("a", "b")
    ]
    genes = parts[0].var_names.union(parts[1].var_names, sort=False)
    X = np.zeros((2, len(genes)), np.float32)
    P = np.ones((2, len(genes)), np.float32)
    for i, p in enumerate(parts):
        idx = genes.get_indexer(p.var_names)
        X[i, idx] = p.X[0]
        P[i, idx] = p.layers["pval"][0]
    obs = pd.concat([p.obs for p in parts])
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes.astype(str)), layers={"pval": P})


def dgem_gene_map() -> pd.DataFrame:
    """GeneIndex -> gene-name aliases of the paper's disease data.

    Returns
    -------
    pandas.DataFrame
        78,464 x 2 (``GeneIndex`` int, ``Name`` lower-case alias), 30,373 distinct indices.
    """
    df = read_delimited(
        data_file("dgem/genes_map_omicsoft_diseases.tsv.gz"), index_col=0, dtype={"Name": str}
    )
    return df.reset_index(drop=True)[["GeneIndex", "Name"]]


def dgem_drug_feature_ids() -> np.ndarray:
    """The Entrez ids that order the paper's drug feature vectors.

    Returns
    -------
    numpy.ndarray
        12,328 Entrez ids (int64).
    """
    return np.load(data_file("dgem/drug_features_ids_l1000.npy"), allow_pickle=False)
