"""Open Targets: the Expression Atlas disease comparisons and the CREEDS melanoma signatures."""

from __future__ import annotations

from functools import lru_cache

import anndata as ad
import numpy as np
import pandas as pd

from exprlab._config import data_file
from exprlab.datasets._registry import _key
from exprlab.io import deg_table_to_anndata, read_deg_table, read_delimited, require_columns


@lru_cache(maxsize=2)
def _deg_cached(path: str, fill: float) -> ad.AnnData:
    return read_deg_table(path, fill=fill)


def opentargets_disease_signatures(*, fill: float = 0.0) -> ad.AnnData:
    """Expression Atlas disease comparisons (Open Targets DEG table) as signatures.

    Parameters
    ----------
    fill
        Value given to the genes a comparison does not list.

    Returns
    -------
    anndata.AnnData
        643 comparisons x 23,831 upper-case symbols (182 diseases): X log fold change, unlisted
        genes ``fill``; ``layers["pval"]``, ``layers["listed"]``; obs ``disease`` (EFO id),
        ``disease_name``, ``comparison``, ``n_listed``; var ``ensembl``. See
        :func:`exprlab.io.read_deg_table`.
    """
    return _deg_cached(_key("opentargets/disease_degs_expression_atlas.tsv.gz"), float(fill)).copy()


def creeds_melanoma() -> ad.AnnData:
    """The CREEDS melanoma disease signatures.

    The file stacks 7 CREEDS signatures of melanoma (each restarts the row index at 0 and lists
    its down- then its up-regulated genes with a signed value).

    Returns
    -------
    anndata.AnnData
        7 x 2,812 (union of their upper-case symbols; obs ``melanoma_1`` ... ``melanoma_7``, obs
        ``disease`` "Melanoma"), X the signed CREEDS values with unlisted genes 0,
        ``layers["listed"]`` (bool) and an all-NaN ``layers["pval"]`` (CREEDS gives no
        p-values).
    """
    path = data_file("opentargets/creeds_melanoma_signature.tsv")
    df = read_delimited(path, dtype={"0": str, "1": str, "2": str})
    require_columns(df, ["0", "2", "3"], path, "the CREEDS table")
    row_index = pd.to_numeric(df.iloc[:, 0], errors="coerce").to_numpy()
    block = np.cumsum(np.r_[True, row_index[1:] <= row_index[:-1]])
    long = pd.DataFrame(
        {
            "efo.id": df["0"].to_numpy(),
            "gene.symbol": df["2"].to_numpy(),
            "comparison": [f"melanoma_{b}" for b in block],
            "lfc": df["3"].to_numpy(),
        }
    )
    adata = deg_table_to_anndata(long, where=str(path))
    adata.obs_names = adata.obs["comparison"].astype(str).to_numpy()
    return adata
