"""clue.io metadata on libraries: siginfo joined to obs, geneinfo to var, gene-space selection.

A library built with ``siginfo`` gets the table's columns (``pert_iname``, ``cell_iname``,
``pert_type`` ...) on every signature whose id is a ``sig_id`` of the table (the others get
missing values; a table that names no signature of the library is refused). ``geneinfo`` adds
the gene table's columns to var (matched by Entrez id or symbol, whichever names more genes) and
is what ``gene_space`` (``landmark``, ``bing``, ``full``; :func:`exprlab.genes.select_gene_space`)
reads its ``feature_space`` from.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd

from exprlab._validation import check_choice
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.genes import GENE_SPACES, gene_table_key, select_gene_space
from exprlab.io import read_clue_geneinfo, read_clue_siginfo


def table_of(table, reader: Callable[[str | os.PathLike], pd.DataFrame], what: str) -> pd.DataFrame | None:
    """``table`` as a DataFrame: read with ``reader`` when it is a path, as is when a frame or None."""
    if table is None or isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, os.PathLike)):
        return reader(table)
    raise InvalidParameterError(
        f"a {what} of type {type(table).__name__} is not supported",
        where=what,
        fix=f"pass the path of clue.io's {what} table or a DataFrame indexed by its id column",
    )


def genes_info(genes: pd.Index, geneinfo: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``geneinfo`` for ``genes`` (matched by id or symbol), indexed by ``genes``.

    ``gene_id`` is kept as a column; genes the table lacks get missing values.
    """
    key = gene_table_key(genes, geneinfo)
    table = geneinfo.reset_index().set_axis(key, axis=0)
    table = table[~table.index.duplicated()]
    out = table.reindex(pd.Index(genes.astype(str)).str.upper())
    return out.set_axis(genes, axis=0)


class Annotation:
    """What ``build_library`` adds to a library: siginfo columns, geneinfo columns, a gene space.

    Parameters
    ----------
    siginfo
        clue.io signature table (path or DataFrame indexed by ``sig_id``) or None.
    geneinfo
        clue.io gene table (path or DataFrame indexed by ``gene_id``) or None.
    gene_space
        ``"landmark"``, ``"bing"`` or ``"full"`` (``"full"`` needs no gene table).
    """

    def __init__(self, siginfo=None, geneinfo=None, gene_space: str = "full"):
        self.gene_space = check_choice(gene_space, "gene_space", GENE_SPACES)
        self.siginfo = table_of(siginfo, read_clue_siginfo, "siginfo")
        self.geneinfo = table_of(geneinfo, read_clue_geneinfo, "geneinfo")
        self.n_joined = 0
        self.n_seen = 0

    @property
    def empty(self) -> bool:
        return self.siginfo is None and self.geneinfo is None and self.gene_space == "full"

    def genes(self, genes) -> tuple[pd.Index, np.ndarray | None]:
        """The kept genes and their positions in ``genes`` (None when every gene is kept)."""
        genes = pd.Index(pd.Index(genes).astype(str))
        kept = select_gene_space(genes, self.geneinfo, self.gene_space, where="geneinfo")
        if len(kept) == len(genes):
            return genes, None
        return kept, genes.get_indexer(kept)

    def var(self, genes: pd.Index) -> pd.DataFrame | None:
        """Gene metadata for ``genes`` from the gene table (None without one)."""
        return None if self.geneinfo is None else genes_info(genes, self.geneinfo)

    def obs(self, obs: pd.DataFrame) -> pd.DataFrame:
        """``obs`` with the siginfo columns of its signatures (siginfo wins on shared names)."""
        if self.siginfo is None:
            return obs
        rows = self.siginfo.reindex(obs.index.astype(str))
        self.n_joined += int(obs.index.astype(str).isin(self.siginfo.index).sum())
        self.n_seen += len(obs)
        rows.index = obs.index
        return pd.concat([obs.drop(columns=[c for c in rows.columns if c in obs.columns]), rows], axis=1)

    def check_joined(self, where) -> None:
        """Refuse a siginfo table that named none of the library's signatures."""
        if self.siginfo is not None and self.n_joined == 0:
            raise InputDataError(
                f"the siginfo table names none of the library's {self.n_seen} signatures "
                f"(its sig_id look like {list(self.siginfo.index[:2])})",
                where=where,
                fix="pass the siginfo table of this library (its sig_id must be the library's signature ids)",
            )
