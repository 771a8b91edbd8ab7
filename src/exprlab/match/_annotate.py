"""Signature metadata from identifiers, and per-perturbagen summaries of scores across cell lines.

Libraries often carry their metadata only in the signature ids: the LINCS level-5 sample of
signatureSearch names its signatures ``vorinostat__SKB__trt_cp`` (drug, cell line,
perturbation type). :func:`parse_signature_ids` turns such ids (or any regular expression with
named groups) into obs columns; :func:`summarise_perturbagens` then ranks perturbagens rather
than experiments (docs/methods.md §1.12).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from exprlab.drugs import normalize_drug_name
from exprlab.errors import InputDataError, InvalidParameterError

# drug__cell__type, the signatureSearch / LINCS sample convention (drug names may hold "_").
ID_PATTERN = r"^(?P<drug>.+?)__(?P<cell_line>.+?)__(?P<pert_type>.+)$"
PRESETS = {"drug__cell__type": ID_PATTERN}


def parse_signature_ids(ids, pattern: str = "drug__cell__type") -> pd.DataFrame:
    """Metadata columns parsed from signature ids.

    Parameters
    ----------
    ids
        Signature ids (a library's obs names).
    pattern
        ``"drug__cell__type"`` (columns ``drug``, ``cell_line``, ``pert_type``) or a regular
        expression with named groups, each group becoming a column. A ``drug`` group is
        normalised with exprlab's drug-name rule (:func:`exprlab.drugs.normalize_drug_name`);
        the id's spelling is kept in ``drug_name``.

    Returns
    -------
    pandas.DataFrame
        One row per id (index = the ids), one column per named group.
    """
    regex = PRESETS.get(pattern, pattern)
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise InvalidParameterError(
            f"pattern {pattern!r} is not a regular expression ({exc})",
            where="pattern",
            fix="give drug__cell__type or a regular expression with named groups",
        ) from None
    if not compiled.groupindex:
        raise InvalidParameterError(
            f"pattern {pattern!r} has no named group",
            where="pattern",
            fix="name the parts to keep, e.g. (?P<drug>[^_]+)_(?P<cell_line>[^_]+)",
        )
    index = pd.Index(np.asarray(list(ids)).astype(str))
    parsed = index.to_series().str.extract(compiled)
    bad = parsed.isna().all(axis=1)
    if bad.any():
        raise InputDataError(
            f"{int(bad.sum())} of {len(index)} signature ids do not match {pattern!r} "
            f"(e.g. {index[bad.to_numpy()][:3].tolist()})",
            where="signature ids",
            fix="give a pattern that matches every id, or add the metadata as obs columns",
        )
    if "drug" in parsed.columns:
        parsed.insert(parsed.columns.get_loc("drug") + 1, "drug_name", parsed["drug"])
        parsed["drug"] = normalize_drug_name(parsed["drug"]).to_numpy()
    parsed.index = index
    return parsed


def _max_quantile(x: pd.Series) -> float:
    q33, q67 = np.quantile(x.to_numpy(dtype=np.float64), [0.33, 0.67])
    return float(q67 if abs(q67) >= abs(q33) else q33)


def summarise_perturbagens(
    table: pd.DataFrame, metadata: pd.DataFrame, *, by: str = "drug", cell: str | None = "cell_line"
) -> pd.DataFrame:
    """Per query and perturbagen, a summary of its signatures' scores across cell lines.

    Parameters
    ----------
    table
        Tidy scores (columns ``query``, ``signature``, ``score``; ``pvalue`` and ``fdr`` used
        when present), as :func:`score_long` or ``Significance.long()`` return them.
    metadata
        Signature metadata indexed by signature id (a library's obs, or
        :func:`parse_signature_ids`), holding ``by`` (and ``cell`` if given).
    by
        Column naming the perturbagen.
    cell
        Column naming the cell line (counted), or None.

    Returns
    -------
    pandas.DataFrame
        One row per (query, perturbagen), sorted by query then ``summary`` descending:
        ``n_signatures``, ``n_cells``, ``summary`` (of the 33rd and 67th percentiles of the
        scores, the one of larger absolute value: clue.io's maximum-quantile summary across cell
        lines), ``best`` (the score of largest absolute value), ``best_signature``, and
        ``min_pvalue`` / ``min_fdr`` when the table has p-values.
    """
    missing = [c for c in (by, cell) if c is not None and c not in metadata.columns]
    if missing:
        raise InputDataError(
            f"signature metadata has no column(s) {missing}",
            where="library metadata",
            fix=f"choose among {list(metadata.columns)} or parse the ids (parse_signature_ids)",
        )
    meta = metadata.reindex(table["signature"].astype(str).to_numpy())
    if meta[by].isna().any():
        unknown = table["signature"][meta[by].isna().to_numpy()].unique()[:3].tolist()
        raise InputDataError(
            f"signatures {unknown} have no {by!r} in the metadata",
            where="library metadata",
            fix="give metadata for every scored signature",
        )
    t = table.assign(_pert=meta[by].to_numpy(), _abs=table["score"].abs())
    if cell is not None:
        t["_cell"] = meta[cell].to_numpy()
    g = t.groupby(["query", "_pert"], sort=False)
    best_rows = t.loc[g["_abs"].idxmax()]
    out = pd.DataFrame(
        {
            "n_signatures": g.size(),
            "n_cells": g["_cell"].nunique() if cell is not None else np.nan,
            "summary": g["score"].agg(_max_quantile),
            "best": best_rows.set_index(["query", "_pert"])["score"],
            "best_signature": best_rows.set_index(["query", "_pert"])["signature"],
        }
    )
    for col in ("pvalue", "fdr"):
        if col in t.columns:
            out[f"min_{col}"] = g[col].min()
    out.index = out.index.set_names(["query", by])
    out = out.reset_index().sort_values(["query", "summary"], ascending=[True, False], kind="stable")
    return out.reset_index(drop=True)
