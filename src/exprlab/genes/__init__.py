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

Microarray probes
-----------------
:func:`collapse_probes` maps probe ids to genes with the array's annotation table (an entry
naming several genes, ``A /// B``, is dropped or mapped to its first gene) and keeps one column
per gene: by default the probe with the highest mean expression (docs/methods.md §4.3).
:func:`drop_control_probes` removes the ``AFFX-`` control probes.
"""

from exprlab.genes._mapping import (
    KINDS,
    convert_gene_space,
    detect_id_kind,
    load_gene_table,
    map_genes,
    require_same_gene_space,
)
from exprlab.genes._probes import (
    COLLAPSE_RULES,
    MULTI_GENE_RULES,
    CollapseRule,
    MultiGeneRule,
    collapse_probes,
    drop_control_probes,
)
from exprlab.genes._spaces import GENE_SPACES, GeneSpace, gene_table_key, select_gene_space

__all__ = [
    "COLLAPSE_RULES",
    "GENE_SPACES",
    "GeneSpace",
    "KINDS",
    "MULTI_GENE_RULES",
    "CollapseRule",
    "MultiGeneRule",
    "collapse_probes",
    "drop_control_probes",
    "convert_gene_space",
    "detect_id_kind",
    "load_gene_table",
    "map_genes",
    "require_same_gene_space",
    "gene_table_key",
    "select_gene_space",
]
