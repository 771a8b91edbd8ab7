"""Aggregation of scores: instance -> drug (library side) and contrast -> disease (query side).

Instance -> drug, over the columns that share a perturbagen (several cell lines, doses, times):

- ``"max"`` / ``"min"``: the largest / smallest score (``"min"`` suits reversal, where the most
  negative connectivity is the strongest);
- ``"mean"``, ``"median"``;
- ``"maxabs"``: the score of largest absolute value, sign kept;
- ``"ncs_ct"``: of the 33rd and 67th percentiles (linear interpolation), the one of larger
  absolute value (CMap's summary over cell lines).

Contrast -> disease, over the rows (queries) that share a disease: ``"mean"`` or ``"sum"``
(also ``"max"``, ``"min"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from exprlab._validation import check_choice
from exprlab.errors import InputDataError

ReferenceRule = Literal["max", "min", "mean", "median", "maxabs", "ncs_ct"]
QueryRule = Literal["mean", "sum", "max", "min"]
REFERENCE_RULES: tuple[ReferenceRule, ...] = ("max", "min", "mean", "median", "maxabs", "ncs_ct")
QUERY_RULES: tuple[QueryRule, ...] = ("mean", "sum", "max", "min")


def _groups(labels, n: int, where: str) -> pd.Series:
    labels = pd.Series(np.asarray(labels, dtype=object))
    if len(labels) != n:
        raise InputDataError(
            f"{len(labels)} group labels for {n} {where}", where=where, fix="pass one label per entry"
        )
    if labels.isna().any():
        raise InputDataError(
            f"{int(labels.isna().sum())} {where} have no group label",
            where=where,
            fix="fill the missing labels or drop those entries",
        )
    return labels.astype(str)


def _summarise(frame: pd.DataFrame, labels: pd.Series, how: str) -> pd.DataFrame:
    """Aggregate the rows of ``frame`` by ``labels`` with rule ``how`` (groups in first-seen order)."""
    g = frame.set_axis(labels.to_numpy(), axis=0).groupby(level=0, sort=False)
    if how in ("max", "min", "mean", "median", "sum"):
        return getattr(g, how)()
    if how == "maxabs":
        hi, lo = g.max(), g.min()
        return hi.where(hi.abs() >= lo.abs(), lo)
    if how == "ncs_ct":
        q33, q67 = g.quantile(0.33), g.quantile(0.67)
        return q67.where(q67.abs() >= q33.abs(), q33)
    raise AssertionError(how)


def aggregate_references(scores: pd.DataFrame, groups, how: ReferenceRule = "max") -> pd.DataFrame:
    """Aggregate library signatures (columns) that share a group label (e.g. the drug).

    Several instances of one perturbagen (cell lines, doses, times) become one column, so drugs
    are ranked rather than experiments.

    Parameters
    ----------
    scores
        Queries x library signatures.
    groups
        One label per column (for example ``library.obs["drug"]``).
    how
        ``max`` / ``min`` (the largest / smallest score; ``min`` suits reversal), ``mean``,
        ``median``, ``maxabs`` (the score of largest absolute value, sign kept) or ``ncs_ct``
        (of the 33rd and 67th percentiles, the one of larger absolute value).

    Returns
    -------
    pandas.DataFrame
        Queries x groups, groups in first-seen order; ``attrs`` copied from ``scores``.
    """
    check_choice(how, "aggregate", REFERENCE_RULES)
    labels = _groups(groups, scores.shape[1], "library signatures")
    out = _summarise(scores.T, labels, how).T
    out.attrs = dict(scores.attrs)
    return out


def aggregate_queries(scores: pd.DataFrame, groups, how: QueryRule = "mean") -> pd.DataFrame:
    """Aggregate queries (rows) that share a group label (e.g. the disease of each contrast).

    Parameters
    ----------
    scores
        Queries x library signatures (or perturbagens).
    groups
        One label per row (for example the disease of each contrast).
    how
        ``mean``, ``sum``, ``max`` or ``min`` over the rows of a group.

    Returns
    -------
    pandas.DataFrame
        Groups x the columns of ``scores``, groups in first-seen order; ``attrs`` copied.
    """
    check_choice(how, "aggregate", QUERY_RULES)
    labels = _groups(groups, scores.shape[0], "queries")
    out = _summarise(scores, labels, how)
    out.attrs = dict(scores.attrs)
    return out


def ncs_ct_matrix(ncs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """NCS_ct of each query per perturbagen label; returns (matrix, labels in first-seen order)."""
    frame = pd.DataFrame(ncs.T)
    out = _summarise(frame, pd.Series(labels).astype(str), "ncs_ct").T
    return out.to_numpy(), [str(c) for c in out.columns]
