"""LINCS / L1000 loaders: the kinase-inhibitor plate at levels 3 and 4, level-5 samples, gene tables."""

from __future__ import annotations

from typing import Literal, get_args

import anndata as ad
import pandas as pd

from exprlab._config import data_file
from exprlab._validation import check_choice
from exprlab.genes import load_gene_table
from exprlab.io import read_delimited, read_gct, read_gctx, read_gmt, read_signaturesearch_h5


def lincs_level3() -> ad.AnnData:
    """L1000 level 3 (normalised expression) of one A375 kinase-inhibitor plate.

    A375 cells, 24 h, 59 kinase inhibitors x 6 doses plus 26 DMSO controls.

    Returns
    -------
    anndata.AnnData
        377 samples x 978 landmark genes, with the GCT's 35 column-metadata fields in obs
        (``pert_iname``, ``pert_dose`` ...) and 11 row-metadata fields in var.
    """
    return read_gct(data_file("lincs/l1000_level3_n377x978.gct"))


def lincs_level4() -> ad.AnnData:
    """The same plate as :func:`lincs_level3` as level-4 robust z-scores (GCTX).

    Returns
    -------
    anndata.AnnData
        377 samples x 978 genes with the GCTX row and column metadata.
    """
    return read_gctx(data_file("lincs/l1000_level4_n377x978.gctx"))


def lincs_level5_sample() -> ad.AnnData:
    """100 real level-5 compound signatures (moderated z-scores), cell line SKB.

    Contains the HDAC inhibitors vorinostat, trichostatin-a, pyroxamide and HC-toxin.

    Returns
    -------
    anndata.AnnData
        100 x 5,000: obs_names like ``vorinostat__SKB__trt_cp``, var_names Entrez ids.
    """
    return read_signaturesearch_h5(data_file("lincs/lincs_level5_sample_100x5000.h5"))


def lincs_gene_space_sub() -> pd.DataFrame:
    """Gene-space table that accompanies the level-5 sample.

    Returns
    -------
    pandas.DataFrame
        20,864 x 2: ``entrez`` (str) and ``type`` (landmark, best inferred, inferred, not
        inferred).
    """
    df = read_delimited(data_file("lincs/lincs_gene_space_sub.txt"), dtype=str)
    return pd.DataFrame({"entrez": df.iloc[:, 0].to_numpy(), "type": df.iloc[:, 1].to_numpy()})


def lincs_sample_gctx() -> ad.AnnData:
    """Two level-5 signatures over the full L1000 gene space.

    Returns
    -------
    anndata.AnnData
        2 x 12,328 (var_names Entrez ids).
    """
    return read_gctx(data_file("lincs/sample_n2x12328.gctx"))


def lincs_gene_info() -> pd.DataFrame:
    """The L1000 gene table (:func:`exprlab.genes.load_gene_table`).

    Returns
    -------
    pandas.DataFrame
        12,328 x 6: ``entrez``, ``symbol`` (upper-case), ``ensembl``, ``gene_title``,
        ``gene_type``, ``feature_space`` (978 landmark, 9,196 best inferred, 2,154 inferred).
    """
    return load_gene_table(data_file("lincs/geneinfo_beta.txt.gz"))


def lincs_test_gene_sets() -> dict[str, list[str]]:
    """Four query gene sets of Entrez ids, for trying queries against the level-5 signatures.

    Returns
    -------
    dict
        Set name -> Entrez ids (strings) in file order.
    """
    return read_gmt(data_file("lincs/test_gene_sets_n4.gmt"))


_EXAMPLE_GCT = {
    "row_meta_only": "lincs/row_meta_only_example_n2x1203.gct",
    "col_meta_only": "lincs/col_meta_only_example_n355x355.gct",
    "p100": "lincs/p100_example.gct",
}


ExampleGct = Literal["row_meta_only", "col_meta_only", "p100"]


def lincs_example_gct(name: ExampleGct) -> ad.AnnData:
    """One of the cmapPy GCT files with unusual metadata layouts (reader edge cases).

    Parameters
    ----------
    name
        ``"row_meta_only"`` (2 x 1,203, row metadata only), ``"col_meta_only"`` (355 x 355,
        column metadata only) or ``"p100"`` (96 x 96 proteomics).

    Returns
    -------
    anndata.AnnData
        The GCT file read with :func:`exprlab.io.read_gct`.
    """
    name = check_choice(name, "name", get_args(ExampleGct))
    return read_gct(data_file(_EXAMPLE_GCT[name]))
