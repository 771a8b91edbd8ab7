"""The drug-name key catalogues join on (the rule is described in :mod:`exprlab.drugs`).

It lives in :mod:`exprlab.io` because the indication readers normalise drug names as they read;
:mod:`exprlab.drugs` re-exports it for users.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import overload

import pandas as pd

from exprlab.errors import InputDataError

__all__ = ["SALT_WORDS", "normalize_drug_name", "salt_merges"]

#: Words removed from the end of a name by ``strip_salts=True``: counter-ions, hydrates and the
#: ester / acid forms catalogues append to a parent drug (``DEXAMETHASONE ACETATE``,
#: ``BETAMETHASONE VALERATE``). A word is only removed when something else remains, so
#: ``sodium`` alone stays ``sodium``, and never when what remains is an alkyl group (a word
#: ending in ``yl``: ``DIMETHYL FUMARATE`` is the drug itself, not a salt of "dimethyl").
SALT_WORDS = frozenset(
    {
        "hydrochloride",
        "dihydrochloride",
        "trihydrochloride",
        "hcl",
        "hydrobromide",
        "hydroiodide",
        "sulfate",
        "sulphate",
        "bisulfate",
        "hemisulfate",
        "phosphate",
        "diphosphate",
        "nitrate",
        "acetate",
        "diacetate",
        "citrate",
        "tartrate",
        "bitartrate",
        "maleate",
        "dimaleate",
        "fumarate",
        "hemifumarate",
        "succinate",
        "mesylate",
        "dimesylate",
        "methanesulfonate",
        "besylate",
        "tosylate",
        "lactate",
        "gluconate",
        "malate",
        "oxalate",
        "pamoate",
        "stearate",
        "benzoate",
        "salicylate",
        "napadisilate",
        "sodium",
        "disodium",
        "potassium",
        "dipotassium",
        "calcium",
        "magnesium",
        "zinc",
        "lithium",
        "bromide",
        "chloride",
        "iodide",
        "hydrate",
        "monohydrate",
        "dihydrate",
        "trihydrate",
        "sesquihydrate",
        "hemihydrate",
        "hyclate",
        "anhydrous",
        "mesilate",
        "besilate",
        "tosilate",
        "edisylate",
        "esylate",
        "napsylate",
        "xinafoate",
        "embonate",
        "meglumine",
        "tromethamine",
        "trometamol",
        "valerate",
        "propionate",
        "dipropionate",
        "butyrate",
        "furoate",
        "pivalate",
        "palmitate",
        "decanoate",
        "undecanoate",
        "enanthate",
        "cypionate",
        "hemisuccinate",
        "acetonide",
        "salt",
        "free",
        "base",
    }
)

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_WORD_SPLIT = re.compile(r"[\s,;()\[\]/]+")


def _ascii_lower(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return folded.lower()


def _strip_salt_words(text: str) -> str:
    words = [w for w in _WORD_SPLIT.split(text) if w]
    while len(words) > 1 and _NON_ALNUM.sub("", words[-1]) in SALT_WORDS:
        if _NON_ALNUM.sub("", words[-2]).endswith("yl"):  # an ester named by its alkyl group
            break
        words.pop()
    return " ".join(words)


@overload
def normalize_drug_name(name: str, *, strip_salts: bool = False) -> str: ...
@overload
def normalize_drug_name(name: Iterable[str] | pd.Series, *, strip_salts: bool = False) -> pd.Series: ...
def normalize_drug_name(
    name: str | Iterable[str] | pd.Series, *, strip_salts: bool = False
) -> str | pd.Series:
    """Normalise one drug name, or every name of a list / Series.

    Parameters
    ----------
    name
        A string, or an iterable / :class:`pandas.Series` of strings (missing values stay
        missing).
    strip_salts
        Also remove trailing salt and hydrate words (see :data:`SALT_WORDS`) before the base
        rule.

    Returns
    -------
    str or pandas.Series
        The base rule applied: ASCII-folded, lower-cased, non-alphanumerics removed; a
        Series (same index) when given a list or Series.

    Examples
    --------
    >>> normalize_drug_name("trichostatin A")
    'trichostatina'
    >>> normalize_drug_name("Metformin Hydrochloride", strip_salts=True)
    'metformin'
    """
    if isinstance(name, str):
        text = _ascii_lower(name)
        if strip_salts:
            text = _strip_salt_words(text)
        return _NON_ALNUM.sub("", text)
    if name is None:
        raise InputDataError(
            "a drug name is None",
            where="normalize_drug_name",
            fix="pass a string, or a list / Series of strings",
        )
    series = name if isinstance(name, pd.Series) else pd.Series(list(name), dtype=object)
    # Unique values first: catalogues repeat names many times, so this keeps it cheap.
    uniques = pd.unique(series.dropna())
    table = {u: normalize_drug_name(str(u), strip_salts=strip_salts) for u in uniques}
    return series.map(table).astype(object)


def salt_merges(names: Iterable[str]) -> pd.DataFrame:
    """Which names the salt rule joins that the base rule keeps apart (the report of a join).

    Parameters
    ----------
    names
        Drug names as written in a catalogue (duplicates and missing values ignored).

    Returns
    -------
    pandas.DataFrame
        One row per salt-stripped key shared by several base keys: ``key`` (the salt-stripped
        key), ``n_names`` and ``names`` (the original spellings, sorted, joined by ``|``).
        Empty when stripping merges nothing.
    """
    if isinstance(names, str):
        raise InputDataError(
            "the names are one string, not a list of names",
            where="salt_merges",
            fix="pass a list or Series of names",
        )
    distinct = pd.Series(pd.unique(pd.Series(list(names), dtype=object).dropna().astype(str)), dtype=object)
    table = pd.DataFrame(
        {
            "name": distinct,
            "base": normalize_drug_name(distinct),
            "key": normalize_drug_name(distinct, strip_salts=True),
        }
    )
    groups = table.groupby("key")
    merged = groups["base"].nunique()
    keys = sorted(merged[merged > 1].index)
    rows = [
        {"key": k, "n_names": len(n := sorted(groups.get_group(k)["name"])), "names": "|".join(n)}
        for k in keys
    ]
    return pd.DataFrame(rows, columns=["key", "n_names", "names"])
