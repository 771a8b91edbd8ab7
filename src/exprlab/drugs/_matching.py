"""Matching two catalogues' drug names step by step (exact, normalised, salt-stripped)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from exprlab._drug_names import normalize_drug_name
from exprlab.errors import InputDataError


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
