r"""Gene identifiers: symbol / Entrez / Ensembl mapping and gene-space conversion.

The mapping comes from the L1000 gene table (``lincs/geneinfo_beta.txt.gz`` of the public data
directory, 12,328 genes): every gene has an Entrez id and a symbol, all but 51 an Ensembl id.
Symbols are upper-cased (exprlab's convention for ``var_names``), Ensembl version suffixes
(``ENSG...\\.12``) are ignored.

Many-to-one and one-to-many
---------------------------
A few identifiers are ambiguous in the table (the symbol ``MIA2`` names two Entrez genes, one
Ensembl id is shared by two Entrez genes). The rule is: prefer the gene of the better L1000
feature space (landmark, then best inferred, then inferred), then the first in the table. When
several *source* genes of an AnnData land on the same *target* id, :func:`convert_gene_space`
merges them by the ``duplicates`` rule (mean by default) and reports them.
"""

from exprlab.genes._mapping import (
    KINDS,
    convert_gene_space,
    detect_id_kind,
    load_gene_table,
    map_genes,
    require_same_gene_space,
)
from exprlab.genes._spaces import GENE_SPACES, GeneSpace, gene_table_key, select_gene_space

__all__ = [
    "GENE_SPACES",
    "GeneSpace",
    "KINDS",
    "convert_gene_space",
    "detect_id_kind",
    "load_gene_table",
    "map_genes",
    "require_same_gene_space",
    "gene_table_key",
    "select_gene_space",
]
