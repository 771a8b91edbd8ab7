"""How much of a predicted drug list is drug popularity (``match predict``; docs/methods.md §2).

A trained model's ranking for a new disease is split like the benchmark's gene dependence
(:func:`exprlab.evaluate.drug_only_fit`): the drug-only score is each drug's mean score over a
reference set of diseases, the labelled diseases of the drug library's triangle (all its disease
signatures when no indication names the library's drugs), scored by the same model; the query's scores are fitted by an affine function of it. The fit's R² says how
much of the list one shared drug order explains; when it exceeds
:data:`exprlab.evaluate.MOSTLY_DRUG_ONLY` the prediction carries a warning that the list is
mostly drug popularity.

Per row, ``popularity_share`` = |f_j - m| / (|f_j - m| + |r_j|), where f_j is the fitted
drug-only part, r_j the remainder and m the query's mean score: the part of the drug's
distance from an average drug that the shared drug order accounts for (1 = all of it,
0 = none).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from exprlab.datasets import check_labels
from exprlab.errors import InputDataError
from exprlab.evaluate import MOSTLY_DRUG_ONLY, drug_only_fit
from exprlab.models import PairData, rank_drugs

_log = logging.getLogger(__name__)


def reference_drug_scores(
    model: Any,
    bench: Any,
    build: Callable[[ad.AnnData], PairData],
    genes: pd.Index,
    drugs: Sequence[str],
) -> pd.Series:
    """Each drug's mean score over the labelled diseases of ``bench``, scored by ``model``.

    Parameters
    ----------
    model
        The trained matcher or seed ensemble.
    bench
        The drug library's triangle (its labelled diseases are the reference).
    build
        Turns disease signatures into the model's pair data (the same path as the query's).
    genes
        Positions of the model's genes in the library's gene space.
    drugs
        The scored drugs.

    Returns
    -------
    pandas.Series
        The drug-only score, indexed by drug.
    """
    try:
        labels, _ = check_labels(bench)
        keep = bench.diseases.obs["disease"].astype(str).isin(set(labels["disease"])).to_numpy()
    except InputDataError:
        # a user drug library with no catalogue pair: every disease signature is the reference
        _log.info("no indication names the library's drugs: all disease signatures are the reference")
        keep = np.ones(bench.diseases.n_obs, dtype=bool)
    reference = bench.diseases[keep]
    data = build(reference)
    data = replace(data, contrast_disease=reference.obs["disease"].astype(str).to_numpy())
    sub = data.subset_genes(genes)
    names = sorted(set(data.contrast_disease))
    return rank_drugs(model, sub, names, list(drugs)).mean(axis=0)


def popularity_table(scores: pd.Series, reference: pd.Series, top: int) -> pd.DataFrame:
    """The ``top`` drugs of a query with their drug-only part and popularity share.

    Parameters
    ----------
    scores
        The query's score per drug.
    reference
        The drug-only score per drug (:func:`reference_drug_scores`).
    top
        Rows returned.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``drug``, ``score``, ``drug_only`` (the fitted drug-only part),
        ``popularity_share``, best first; ``attrs["drug_r2"]`` holds the fit's R² and
        ``attrs["mostly_popularity"]`` whether it exceeds the threshold.
    """
    frame = scores.to_frame().T
    part, rest, r2 = drug_only_fit(frame, drug_score=reference)
    mean = float(scores.mean())
    fitted = part.iloc[0]
    dist = (fitted - mean).abs()
    total = dist + rest.iloc[0].abs()
    share = (dist / total.where(total > 0)).fillna(0.0)
    ranked = scores.sort_values(ascending=False, kind="stable").head(top)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "drug": ranked.index,
            "score": ranked.to_numpy(),
            "drug_only": fitted.reindex(ranked.index).to_numpy(),
            "popularity_share": share.reindex(ranked.index).to_numpy(),
        }
    )
    value = float(r2.iloc[0])
    table.attrs["drug_r2"] = value
    table.attrs["mostly_popularity"] = bool(np.isfinite(value) and value > MOSTLY_DRUG_ONLY)
    if table.attrs["mostly_popularity"]:
        _log.warning(
            "this ranking is mostly drug popularity: a drug-only score explains R² = %.2f of the "
            "scores (threshold %.1f); the same drugs lead for most diseases",
            value,
            MOSTLY_DRUG_ONLY,
        )
    return table
