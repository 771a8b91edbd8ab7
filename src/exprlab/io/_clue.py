"""clue.io metadata tables (siginfo, geneinfo) as pandas tables indexed by their ids.

clue.io (the LINCS 2020 "beta" release) describes signatures in ``siginfo_beta.txt`` (one row per
signature: ``sig_id``, ``pert_iname``, ``cell_iname``, ``pert_type`` ...) and genes in
``geneinfo_beta.txt`` (``gene_id`` (Entrez), ``gene_symbol``, ``feature_space`` = landmark /
best inferred / inferred ...). Both are tab-separated text, optionally compressed. The readers
keep every column as the file names it, so the tables can be attached to a library's obs / var
unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from exprlab.errors import DuplicateIdError, FormatError
from exprlab.io._tables import read_delimited, require_columns

__all__ = ["read_clue_siginfo", "read_clue_geneinfo"]


def _indexed(df: pd.DataFrame, column: str, where: Path, what: str) -> pd.DataFrame:
    require_columns(df, [column], where, what)
    ids = df[column].astype(str).str.strip()
    if (ids == "").any():
        line = int((ids == "").to_numpy().argmax()) + 2
        raise FormatError(f"empty {column} on line {line}", where=where, fix=f"give every row a {column}")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()[:3].tolist()
        raise DuplicateIdError(f"{column} repeats: {dup}", where=where, fix=f"keep one row per {column}")
    out = df.drop(columns=[column])
    out.index = pd.Index(ids.to_numpy(), name=column)
    return out


def read_clue_siginfo(path: str | os.PathLike) -> pd.DataFrame:
    """Read a clue.io signature table (``siginfo_beta.txt``), one row per signature.

    Parameters
    ----------
    path
        Tab-separated table (optionally ``.gz``/``.xz``) with a ``sig_id`` column; every other
        column (``pert_iname``, ``cell_iname``, ``pert_type``, ``pert_dose`` ...) is kept.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``sig_id`` (strings); numeric columns numeric, the others strings.
    """
    where = Path(path)
    df = read_delimited(where, dtype={"sig_id": str}, keep_default_na=False, na_values=[""], low_memory=False)
    return _indexed(df, "sig_id", where, "the clue.io siginfo table")


def read_clue_geneinfo(path: str | os.PathLike) -> pd.DataFrame:
    """Read a clue.io gene table (``geneinfo_beta.txt``), one row per gene, every column as text.

    Parameters
    ----------
    path
        Tab-separated table (optionally ``.gz``/``.xz``) with a ``gene_id`` column (Entrez);
        ``gene_symbol`` and ``feature_space`` are used when present (gene-space selection
        needs ``feature_space``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``gene_id`` (strings); the other columns as strings.
    """
    where = Path(path)
    df = read_delimited(where, dtype=str, keep_default_na=False)
    return _indexed(df, "gene_id", where, "the clue.io geneinfo table")
