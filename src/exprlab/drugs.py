"""Drug-name normalisation and matching across catalogues.

Catalogues spell the same compound differently: CMap 02 writes ``trichostatin A``, ChEMBL
``TRICHOSTATIN A``, DrugBank ``Trichostatin A``; LINCS uses ``trichostatin-a``; salts appear as
``metformin hydrochloride``. exprlab joins them on a *normalised* name.

The base rule (the one the public data README uses to count the repurposing benchmark) is:
fold accents to ASCII, lower-case, remove every character that is not a letter or a digit. So
``trichostatin A``, ``TRICHOSTATIN A`` and ``trichostatin-a`` all become ``trichostatina``.

An optional second rule (``strip_salts=True``) first removes trailing salt and hydrate words
(``hydrochloride``, ``sodium``, ``mesylate``, ``monohydrate`` ...) so that ``metformin
hydrochloride`` matches ``metformin``. It is off by default because it changes which compounds
count as the same (a salt and its free base are pharmacologically the same drug, but the counts
in the data README use the base rule only). It is a word-list heuristic: it also joins esters
(``cortisone`` with ``CORTISONE ACETATE``) and can join different molecules (``adenosine
phosphate``, i.e. AMP, with ``ADENOSINE``), so :func:`match_drug_names` marks such matches
``how="salt"`` for review.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from exprlab.errors import InputDataError

#: Words removed from the end of a name by ``strip_salts=True`` (counter-ions, hydrates). A word
#: is only removed when something else remains, so ``sodium`` alone stays ``sodium``.
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
        words.pop()
    return " ".join(words)


def normalize_drug_name(name, *, strip_salts: bool = False):
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


def match_drug_names(
    left: Iterable[str],
    right: Iterable[str],
    *,
    strip_salts: bool = True,
) -> pd.DataFrame:
    """Match two lists of drug names and report, name by name, how each matched or did not.

    Matching is tried in three steps, the first that succeeds wins: ``exact`` (identical
    strings), ``normalized`` (same :func:`normalize_drug_name` key), ``salt`` (same key after
    removing salt words; only when ``strip_salts``). Several right-hand names can share a key
    (``metformin`` and ``Metformin``); all of them are listed, separated by ``|``.

    Parameters
    ----------
    left, right
        Drug names as written in two catalogues (duplicates are reported once).
    strip_salts
        Allow the third, salt-stripping step.

    Returns
    -------
    pandas.DataFrame
        One row per distinct name of each side, columns: ``side`` ("left" / "right"),
        ``name``, ``key`` (normalised name), ``matched`` (bool), ``how`` ("exact",
        "normalized", "salt" or empty when unmatched), ``match`` (the other side's names).
        ``df[~df.matched]`` lists the unmatched names of both sides.
    """
    left_names = _distinct_names(left, "left")
    right_names = _distinct_names(right, "right")
    rows = []
    for side, names, others in (("left", left_names, right_names), ("right", right_names, left_names)):
        other_exact = set(others)
        other_key: dict[str, list[str]] = {}
        other_salt: dict[str, list[str]] = {}
        if others:
            keys = normalize_drug_name(pd.Series(others, dtype=object))
            for n, k in zip(others, keys):
                other_key.setdefault(k, []).append(n)
            if strip_salts:
                salt_keys = normalize_drug_name(pd.Series(others, dtype=object), strip_salts=True)
                for n, k in zip(others, salt_keys):
                    other_salt.setdefault(k, []).append(n)
        for n in names:
            key = normalize_drug_name(n)
            if n in other_exact:
                how, match = "exact", [n]
            elif key and key in other_key:
                how, match = "normalized", other_key[key]
            elif strip_salts and (skey := normalize_drug_name(n, strip_salts=True)) and skey in other_salt:
                how, match = "salt", other_salt[skey]
            else:
                how, match = "", []
            rows.append((side, n, key, bool(match), how, "|".join(match)))
    return pd.DataFrame(rows, columns=["side", "name", "key", "matched", "how", "match"])


def _distinct_names(names: Iterable[str], side: str) -> list[str]:
    if isinstance(names, str):
        raise InputDataError(
            f"the {side} names are one string, not a list of names",
            where="match_drug_names",
            fix="pass a list or Series of names",
        )
    out = pd.unique(pd.Series(list(names), dtype=object).dropna().astype(str))
    return list(out)
