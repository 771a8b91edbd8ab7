"""Joining a catalogue's disease names to the EFO terms of the signatures (see :mod:`._benchmark`).

Three steps, the first that succeeds wins: the user's mapping table, the exact normalised name,
the synonym key (:func:`synonym_key`). Every catalogue disease gets one row in the mapping
report, mapped or not.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from exprlab.errors import InputDataError
from exprlab.io import read_delimited, require_columns

__all__ = ["disease_name_key", "synonym_key", "read_disease_map", "map_disease_names"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPELLING = {
    "tumour": "tumor",
    "tumours": "tumor",
    "oesophageal": "esophageal",
    "oesophagus": "esophagus",
    "leukaemia": "leukemia",
    "anaemia": "anemia",
    "haemorrhage": "hemorrhage",
    "oedema": "edema",
    "paediatric": "pediatric",
    "ischaemic": "ischemic",
    "haemophilia": "hemophilia",
    "coeliac": "celiac",
}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
_FILLER = frozenset({"of", "the", "nos", "unspecified"})


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def disease_name_key(name: str) -> str:
    """The exact-name key: ASCII-folded, lower-case, non-alphanumerics removed.

    Parameters
    ----------
    name
        A disease name.

    Returns
    -------
    str
        The key (``"Crohn's disease"`` -> ``"crohnsdisease"``).
    """
    return _NON_ALNUM.sub("", _fold(name))


def synonym_key(name: str) -> str:
    """The synonym key: a normalised bag of words (see the module doc of the benchmark).

    Parameters
    ----------
    name
        A disease name.

    Returns
    -------
    str
        Sorted words joined by spaces (``"Carcinoma, Hepatocellular"`` and ``"hepatocellular
        carcinoma"`` share ``"carcinoma hepatocellular"``; ``"Diabetes Mellitus, Type II"`` is
        ``"2 diabete mellitu type"``).
    """
    text = _fold(name).replace("'s ", " ").replace("malignant neoplasm", "cancer")
    text = re.sub(r"'s$", "", text)
    words = []
    for w in _NON_ALNUM.split(text):
        if not w or w in _FILLER:
            continue
        w = _ROMAN.get(w, _SPELLING.get(w, w))
        if len(w) > 3 and w.endswith("s"):
            w = w[:-1]
        words.append(w)
    return " ".join(sorted(set(words)))


def read_disease_map(path: str | Path, terms: pd.DataFrame) -> pd.DataFrame:
    """Read a user's disease mapping table and resolve its targets to the signatures' EFO ids.

    Parameters
    ----------
    path
        TSV with columns ``name`` (a catalogue disease name or id) and ``disease`` (an EFO id of
        the signatures, or one of their terms).
    terms
        The signatures' diseases: columns ``disease`` (EFO id) and ``disease_name``.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``key`` (its exact-name key) and ``efo``.

    Raises
    ------
    InputDataError
        When a row names a disease the signatures do not know, or the table is empty.
    """
    table = read_delimited(path, dtype=str)
    require_columns(table, ["name", "disease"], path, "the disease mapping table")
    table = table.dropna(subset=["name", "disease"])
    if table.empty:
        raise InputDataError(
            "the disease mapping table has no row", where=path, fix="add rows: name<TAB>disease"
        )
    ids = set(terms["disease"].astype(str))
    by_name = dict(
        zip(terms["disease_name"].map(disease_name_key), terms["disease"].astype(str), strict=True)
    )
    target = table["disease"].astype(str).str.strip()
    efo = target.where(target.isin(ids), target.map(disease_name_key).map(by_name))
    unknown = sorted(set(target[efo.isna()]))
    if unknown:
        raise InputDataError(
            f"{len(unknown)} disease(s) of the mapping table are not diseases of the signatures: "
            f"{', '.join(map(repr, unknown[:5]))}{' ...' if len(unknown) > 5 else ''}",
            where=path,
            fix="name an EFO id or an EFO term of the disease signatures in the 'disease' column",
        )
    names = table["name"].astype(str).str.strip()
    return pd.DataFrame({"name": names, "key": names.map(disease_name_key), "efo": efo.to_numpy()})


def map_disease_names(
    catalogue: pd.DataFrame, terms: pd.DataFrame, user_map: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Map every distinct catalogue disease to an EFO id of the signatures, saying how.

    Parameters
    ----------
    catalogue
        Distinct catalogue diseases: columns ``disease`` (the catalogue's id) and
        ``disease_name``.
    terms
        The signatures' diseases: ``disease`` (EFO id) and ``disease_name``.
    user_map
        Optional table of :func:`read_disease_map`.

    Returns
    -------
    pandas.DataFrame
        ``disease``, ``disease_name``, ``efo`` (NaN when unmapped), ``how`` (``user map``,
        ``exact``, ``synonym`` or empty).

    Raises
    ------
    InputDataError
        When a user map is given but none of its names is a disease of the catalogue.
    """
    names = catalogue["disease_name"].fillna(catalogue["disease"]).astype(str)
    out = pd.DataFrame(
        {"disease": catalogue["disease"].astype(str).to_numpy(), "disease_name": names.to_numpy()}
    )
    out["efo"], out["how"] = pd.Series([None] * len(out), dtype=object), ""
    steps = []
    if user_map is not None:
        by_key = dict(zip(user_map["key"], user_map["efo"], strict=True))
        by_id = dict(zip(user_map["name"], user_map["efo"], strict=True))
        by_name = out["disease_name"].map(disease_name_key).map(by_key).astype(object)
        hit = out["disease"].map(by_id).astype(object)
        hit = hit.where(hit.notna(), by_name)
        if hit.isna().all():
            raise InputDataError(
                "none of the names of the disease mapping table is a disease of the catalogue",
                where="disease mapping table",
                fix="write the catalogue's disease names (or ids) in the 'name' column",
            )
        steps.append(("user map", hit))
    steps.append(("exact", out["disease_name"].map(disease_name_key).map(_unique(terms, disease_name_key))))
    steps.append(("synonym", out["disease_name"].map(synonym_key).map(_unique(terms, synonym_key))))
    for how, hit in steps:
        take = out["efo"].isna() & hit.notna()
        out.loc[take, "efo"] = hit[take]
        out.loc[take, "how"] = how
    return out


def _unique(terms: pd.DataFrame, key) -> pd.Series:
    """Key -> EFO id, for the keys shared by exactly one EFO id (ambiguous keys map nothing)."""
    keys = terms.drop_duplicates("disease").assign(_k=lambda t: t["disease_name"].astype(str).map(key))
    counts = keys.groupby("_k")["disease"].nunique()
    keys = keys[keys["_k"].map(counts) == 1]
    return pd.Series(keys["disease"].astype(str).to_numpy(), index=keys["_k"].to_numpy())
