"""Indication catalogues: Open Targets, repoDB, PharmacotherapyDB, DrugCentral (and its targets)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import pandas as pd

from exprlab._config import data_file
from exprlab._validation import check_choice
from exprlab.datasets._lincs import lincs_gene_info
from exprlab.datasets._registry import _key
from exprlab.drugs import normalize_drug_name
from exprlab.genes import map_genes
from exprlab.io import IndicationSource, read_delimited, read_indications, require_columns


@lru_cache(maxsize=8)
def _indications_cached(
    path: str, source: IndicationSource | None, incomplete: Literal["error", "drop"]
) -> pd.DataFrame:
    return read_indications(path, source=source, incomplete=incomplete)


def _indications(relative: str, source: str, incomplete: str = "error") -> pd.DataFrame:
    """A fresh copy of one cached indication table (attrs included)."""
    df = _indications_cached(_key(relative), source, incomplete)
    out = df.copy()
    out.attrs = dict(df.attrs)
    return out


def opentargets_indications() -> pd.DataFrame:
    """Open Targets drug -> disease pairs (ChEMBL drugs, EFO diseases, clinical phase).

    Returns
    -------
    pandas.DataFrame
        The tidy indication table (:func:`exprlab.io.read_indications`), 17,917 rows: 2,117
        ChEMBL drugs, 1,123 diseases, 14,860 pairs at phase 4.
    """
    return _indications("opentargets/drug_disease_indications.tsv", "opentargets")


def repodb() -> pd.DataFrame:
    """RepoDB drug-indication pairs (DrugBank drugs, UMLS diseases, status).

    Returns
    -------
    pandas.DataFrame
        The tidy indication table, 10,540 rows: the file's 10,800 minus 260 rows that carry a
        DrugBank id but no drug name (dropped; ``df.attrs["n_incomplete_rows_dropped"]``).
        ``status`` is Approved / Terminated / Withdrawn / Suspended; approved pairs get phase 4.
    """
    return _indications("indications/repodb.tsv", "repodb", incomplete="drop")


def pharmacotherapydb(table: Literal["indications", "drugs", "diseases"] = "indications") -> pd.DataFrame:
    """PharmacotherapyDB (Himmelstein et al.): curated indications of 601 drugs for 97 diseases.

    Parameters
    ----------
    table
        ``"indications"`` (default): the tidy indication table. ``"drugs"`` (601 rows:
        drugbank_id, drug, DM, SYM, NOT, total) and ``"diseases"`` (97 rows: doid_id, disease,
        DM, SYM, NOT, total): the accompanying summary tables as in the file.

    Returns
    -------
    pandas.DataFrame
        With ``table="indications"``, 1,388 rows whose ``status`` is the category DM
        (disease-modifying, 755), SYM (symptomatic, 390) or NOT (non-indication, 243).
    """
    table = check_choice(table, "table", ("indications", "drugs", "diseases"))
    if table == "indications":
        return _indications("indications/pharmacotherapydb_indications.tsv", "pharmacotherapydb")
    return read_delimited(data_file(f"indications/pharmacotherapydb_{table}.tsv"))


def drugcentral_indications() -> pd.DataFrame:
    """DrugCentral indications (DrugBank drugs, Disease Ontology ids).

    Returns
    -------
    pandas.DataFrame
        The tidy indication table, 671 rows; ``status`` the category DM / SYM / NOT.
    """
    return _indications("indications/drugcentral_indications.tsv", "drugcentral")


def drugcentral_targets() -> pd.DataFrame:
    """DrugCentral drug -> target gene table (the known targets explanations are checked against).

    Returns
    -------
    pandas.DataFrame
        2,991 x 9: ``drug`` (normalised name), ``drug_name``, ``drug_id`` (DrugBank), ``entrez``
        (str), ``symbol`` (from the L1000 gene table; NaN when the gene is not in it),
        ``actions``, ``sources``, ``pubmed_ids``, ``urls``.
    """
    path = data_file("indications/drugcentral_targets.tsv")
    df = read_delimited(path, dtype=str)
    require_columns(df, ["GeneID", "drugbank_id", "drugbank_name"], path, "the target table")
    entrez = df["GeneID"].str.strip()
    return pd.DataFrame(
        {
            "drug": normalize_drug_name(df["drugbank_name"]).to_numpy(),
            "drug_name": df["drugbank_name"].to_numpy(),
            "drug_id": df["drugbank_id"].to_numpy(),
            "entrez": entrez.to_numpy(),
            "symbol": map_genes(entrez, "entrez", "symbol", table=lincs_gene_info()).to_numpy(),
            "actions": df.get("actions"),
            "sources": df.get("sources"),
            "pubmed_ids": df.get("pubmed_ids"),
            "urls": df.get("urls"),
        }
    )
