"""Readers and writers for every format exprlab takes in or gives out; nothing else opens a data file.

Expression matrices become AnnData with obs = samples / signatures and var = genes (GCT/GCTX
store genes as rows; they are transposed on the way in and out; CSV/TSV matrices come in either
orientation, detected or forced; GEO series matrices bring their sample annotations). Gene sets are dicts of set name
-> genes; labels are pandas Series; results are tidy tables in Parquet or TSV; differential-
expression tables, disease contrasts and indication catalogues are read into AnnData
signatures and tidy tables.
"""

from exprlab.io._anndata_io import read_h5ad, write_h5ad
from exprlab.io._cls import read_cls, write_cls
from exprlab.io._clue import read_clue_geneinfo, read_clue_siginfo
from exprlab.io._dispatch import convert, describe, detect_format, read, write
from exprlab.io._expression_text import (
    GenesAs,
    guess_genes_axis,
    join_phenotypes,
    read_expression_table,
    read_geo_series_matrix,
    read_phenotypes,
    read_probe_annotation,
    storable_frame,
)
from exprlab.io._gct import read_gct, write_gct
from exprlab.io._gctx import GctxWriter, gctx_ids, read_gctx, write_gctx
from exprlab.io._gmt import GeneSets, filter_gene_sets, read_gmt, write_gmt
from exprlab.io._h5 import SignatureSearchWriter, read_signaturesearch_h5, write_signaturesearch_h5
from exprlab.io._ids import guess_id_kind
from exprlab.io._results import read_table, write_table, write_wide_table
from exprlab.io._tables import (
    INDICATION_COLUMNS,
    INDICATION_SOURCES,
    IndicationSource,
    deg_table_to_anndata,
    read_deg_table,
    read_delimited,
    read_dgem_contrast,
    read_expression_csv,
    read_gene_info,
    read_gene_values,
    read_indications,
    read_label_csv,
    require_columns,
)

__all__ = [
    "IndicationSource",
    "INDICATION_COLUMNS",
    "INDICATION_SOURCES",
    "GeneSets",
    "GenesAs",
    "GctxWriter",
    "convert",
    "deg_table_to_anndata",
    "describe",
    "detect_format",
    "filter_gene_sets",
    "gctx_ids",
    "guess_genes_axis",
    "guess_id_kind",
    "join_phenotypes",
    "read",
    "read_cls",
    "read_clue_geneinfo",
    "read_clue_siginfo",
    "read_deg_table",
    "read_delimited",
    "read_dgem_contrast",
    "read_expression_csv",
    "read_expression_table",
    "read_geo_series_matrix",
    "read_gct",
    "read_gctx",
    "read_gene_info",
    "read_gene_values",
    "read_gmt",
    "read_h5ad",
    "read_indications",
    "read_label_csv",
    "read_phenotypes",
    "read_probe_annotation",
    "read_signaturesearch_h5",
    "read_table",
    "require_columns",
    "storable_frame",
    "write",
    "write_cls",
    "write_gct",
    "write_gctx",
    "write_gmt",
    "write_signaturesearch_h5",
    "SignatureSearchWriter",
    "write_h5ad",
    "write_table",
    "write_wide_table",
]
