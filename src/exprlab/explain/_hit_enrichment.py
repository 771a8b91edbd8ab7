"""What the top hits of a signature search share: drug-target and drug-class over-representation.

The top ``N`` perturbagens of a search are a selection from the library's perturbagens (the
universe); a drug set (the drugs acting on one target, or one class of a user's drug-set
table) is over-represented when more of its drugs are among the hits than chance predicts:
one-sided hypergeometric test, Benjamini-Hochberg over the sets tested (docs/methods.md §1.13).
Drug names on both sides are normalised with exprlab's drug-name rule
(:func:`exprlab.drugs.normalize_drug_name`), so ``trichostatin-a`` meets ``Trichostatin A``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from exprlab.drugs import normalize_drug_name
from exprlab.errors import InputDataError
from exprlab.explain._enrichment import hypergeometric_enrichment


def _normalised(names) -> list[str]:
    return [str(n) for n in normalize_drug_name(pd.Series(list(names), dtype=object).astype(str))]


def drug_sets_from_table(
    table: pd.DataFrame, *, drug: str = "drug", group: str = "symbol"
) -> dict[str, list[str]]:
    """Drug sets (group -> drugs) from a two-column table, e.g. drug -> target or drug -> class.

    Parameters
    ----------
    table
        One row per (drug, group) pair, such as ``exprlab.datasets.drugcentral_targets()``
        (``drug`` and the target's ``symbol``) or a user's drug-class table.
    drug, group
        The columns holding the drug name and the set it belongs to. Rows with a missing value
        are skipped.

    Returns
    -------
    dict
        Group -> normalised drug names (each once, in table order).
    """
    missing = [c for c in (drug, group) if c not in table.columns]
    if missing:
        raise InputDataError(
            f"the drug-set table has no column(s) {missing}",
            where="drug-set table",
            fix=f"choose among {list(table.columns)}",
        )
    pairs = table[[drug, group]].dropna().astype(str)
    pairs = pairs.assign(_drug=_normalised(pairs[drug]))
    return {str(k): list(dict.fromkeys(v)) for k, v in pairs.groupby(group, sort=True)["_drug"]}


def hit_enrichment(
    hits: Sequence[str],
    drug_sets: Mapping[str, Sequence[str]],
    universe: Sequence[str],
    *,
    min_size: int = 2,
    max_size: int | None = None,
) -> pd.DataFrame:
    """Over-representation of drug sets among the top hits of a search (docs/methods.md §1.13).

    Parameters
    ----------
    hits
        The top perturbagens (drug names, any spelling).
    drug_sets
        Set name (a target, a class) -> drug names; :func:`drug_sets_from_table` builds it from
        a table, :func:`exprlab.io.read_gmt` from a GMT.
    universe
        Every perturbagen of the library (the drugs that could have been hits).
    min_size, max_size
        Sets with fewer / more drugs in the universe are not tested.

    Returns
    -------
    pandas.DataFrame
        Sorted by p-value: ``set``, ``set_size`` (drugs of the set in the library), ``overlap``
        (among the hits), ``expected``, ``fold_enrichment``, ``pvalue`` (P(X >= overlap), X
        hypergeometric), ``qvalue`` (Benjamini-Hochberg), ``drugs`` (the hits in the set).
    """
    sets = {str(k): _normalised(v) for k, v in drug_sets.items()}
    table = hypergeometric_enrichment(
        _normalised(hits), sets, _normalised(universe), min_size=min_size, max_size=max_size
    )
    return table.rename(columns={"pathway": "set", "genes": "drugs"})
