"""L1000 gene spaces: landmark, BING (best inferred + landmark) and full, from a gene table.

clue.io's ``geneinfo`` table gives each gene a ``feature_space``: ``landmark`` (the 978
measured genes), ``best inferred`` (9,196 genes imputed well enough to be used in queries) or
``inferred`` (the other 2,154). clue.io queries use BING = landmark + best inferred (10,174
genes); ``full`` keeps every gene.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from exprlab._validation import check_choice
from exprlab.errors import FormatError, GeneSpaceError

GeneSpace = Literal["landmark", "bing", "full"]
GENE_SPACES: tuple[GeneSpace, ...] = ("landmark", "bing", "full")
_MEMBERS = {"landmark": ("landmark",), "bing": ("landmark", "best inferred")}


def _id_columns(table: pd.DataFrame) -> list[pd.Index]:
    """The identifier columns of a gene table: its index (gene_id) and gene_symbol if present."""
    ids = [pd.Index(table.index.astype(str).str.upper())]
    if "gene_symbol" in table.columns:
        ids.append(pd.Index(table["gene_symbol"].astype(str).str.upper()))
    return ids


def gene_table_key(genes, table: pd.DataFrame) -> pd.Index:
    """The identifiers of ``table`` rows in the form ``genes`` uses, upper-cased.

    The table's index (Entrez ``gene_id``) or its ``gene_symbol`` column, whichever names more
    of ``genes`` (compared upper-case).

    Parameters
    ----------
    genes
        Gene identifiers to match.
    table
        A gene table indexed by ``gene_id``, optionally with ``gene_symbol``.

    Returns
    -------
    pandas.Index
        One upper-case identifier per table row.
    """
    genes = pd.Index(pd.Index(genes).astype(str))
    upper = pd.Index(genes.str.upper())
    best = max(_id_columns(table), key=lambda ids: len(upper.intersection(ids)))
    return best


def select_gene_space(
    genes, table: pd.DataFrame | None, space: str, *, where: str = "gene_space"
) -> pd.Index:
    """The genes of ``genes`` that belong to an L1000 gene space (order of ``genes`` kept).

    Parameters
    ----------
    genes
        Gene identifiers (Entrez ids or symbols, matched to the table's ``gene_id`` index or its
        ``gene_symbol`` column, whichever names more of them).
    table
        clue.io gene table (:func:`exprlab.io.read_clue_geneinfo`) with a ``feature_space``
        column; may be None for ``space="full"``.
    space
        ``"landmark"``, ``"bing"`` (landmark + best inferred) or ``"full"`` (every gene).
    where
        What the table came from, named in errors.

    Returns
    -------
    pandas.Index
        The kept genes.
    """
    check_choice(space, "gene_space", GENE_SPACES)
    genes = pd.Index(pd.Index(genes).astype(str))
    if space == "full":
        return genes
    if table is None or "feature_space" not in table.columns:
        raise FormatError(
            f"gene space {space!r} needs the gene table's feature_space column, which is missing",
            where=where,
            fix="pass clue.io's geneinfo table (gene_id, gene_symbol, feature_space), or use gene_space='full'",
        )
    key = gene_table_key(genes, table)
    space_of = pd.Series(table["feature_space"].astype(str).str.strip().str.lower().to_numpy(), index=key)
    space_of = space_of[~space_of.index.duplicated()]
    found = space_of.reindex(genes.str.upper())
    kept = genes[found.isin(_MEMBERS[space]).to_numpy()]
    if len(kept) == 0:
        raise GeneSpaceError(
            f"none of the {len(genes)} genes is in the {space} space of the gene table "
            f"(genes look like {list(genes[:3])})",
            where=where,
            fix="use the gene table of the library's gene identifiers (Entrez ids or symbols)",
        )
    return kept
