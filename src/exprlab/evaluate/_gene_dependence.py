"""Gene dependence of a drug ranking: how much of it is one drug-only score (docs/methods.md §2).

A method that ranks drugs by how often they are indicated reads no gene, yet it scores well on
held-out diseases. To tell what a method's ranking is made of, its score matrix over one
fold's test diseases x candidate drugs is split into a *drug-only* part and a disease-specific
*remainder*:

* the drug-only score of drug j is its mean score over the fold's test diseases, p_j;
* each disease's scores are fitted by an affine function of p (least squares over the
  disease's candidates): s_dj ~ a_d + b_d p_j;
* ``drug_r2`` is the R² of that fit (1 - residual / total sum of squares of the disease's
  scores): the share of the disease's score variance the drug-only score explains;
* ``remainder_ap`` is the average precision of the residual s_dj - a_d - b_d p_j, the part of
  the ranking that differs from disease to disease; ``drug_only_ap`` that of a_d + b_d p_j.

Why an affine fit per disease and not the plain difference s_dj - p_j: a disease's ranking does
not change when its scores are shifted or scaled, and learned models do shift and scale (a
logit's temperature differs from disease to disease). With plain subtraction a disease whose
scores are 2 p_j would keep p_j as its "remainder" and count popularity as disease-specific;
the affine fit removes exactly what a per-disease shift and scale can explain, so the
remainder holds only what reorders drugs within a disease relative to the drug-only order.

A pure popularity ranking (the same scores for every disease) has ``drug_r2 = 1`` and a
remainder of zeros, whose ranking is a random tie-break (remainder AP = random). A ranking with
no drug effect at all (each disease its own scores, p constant) has ``drug_r2 = 0``.
Residuals within 1e-9 of the disease's score spread count as zero, so rounding noise does not
pose as a ranking. A disease whose scores are all equal has no ranking to explain: its
``drug_r2`` is undefined (NaN).

:data:`MOSTLY_DRUG_ONLY` is the R² above which a ranking is described as "mostly drug
popularity": above 0.8, over four fifths of every disease's score variance is one shared drug
order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exprlab.errors import InputDataError
from exprlab.evaluate._retrieval import per_disease_metrics

__all__ = [
    "GENE_DEPENDENCE",
    "MOSTLY_DRUG_ONLY",
    "drug_only_fit",
    "gene_dependence",
    "gene_dependence_words",
]

#: per-disease columns of :func:`gene_dependence` (summarised like the retrieval metrics)
GENE_DEPENDENCE: tuple[str, ...] = ("drug_r2", "drug_only_ap", "remainder_ap")
#: drug-only R² above which a ranking is "mostly drug popularity"
MOSTLY_DRUG_ONLY = 0.8
_ZERO = 1e-9


def _candidate_mask(scores: pd.DataFrame, candidates: pd.DataFrame | None) -> np.ndarray:
    if candidates is None:
        return np.ones(scores.shape, dtype=bool)
    aligned = candidates.reindex(index=scores.index, columns=scores.columns)
    return aligned.fillna(False).astype(bool).to_numpy()


def drug_only_fit(
    scores: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None = None,
    drug_score: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Split a score matrix into its drug-only part and a disease-specific remainder.

    Parameters
    ----------
    scores
        Diseases (index) x drugs (columns), finite; higher = ranked earlier.
    candidates
        Optional boolean table: the cells ranked for each disease (the fit uses only those).
    drug_score
        The drug-only score p (indexed by drug). Default: each drug's mean score over the rows
        of ``scores`` (the fold's test diseases). ``match predict`` passes the mean over a
        reference set of diseases instead.

    Returns
    -------
    (drug_part, remainder, r2)
        ``drug_part`` = a_d + b_d p_j and ``remainder`` = scores - drug_part (exact zeros where
        within rounding), both shaped like ``scores``; ``r2`` the per-disease R² (NaN for a
        disease whose candidate scores are all equal).

    Raises
    ------
    InputDataError
        When scores are not finite or ``drug_score`` lacks a drug of ``scores``.
    """
    S = scores.to_numpy(dtype=float)
    if not np.isfinite(S).all():
        raise InputDataError(
            "scores contain NaN or infinite values",
            where="drug_only_fit",
            fix="score every disease x drug cell with a finite value",
        )
    if drug_score is None:
        p = S.mean(axis=0)
    else:
        aligned = drug_score.reindex(scores.columns)
        if aligned.isna().any():
            raise InputDataError(
                f"the drug-only score lacks {int(aligned.isna().sum())} drug(s) of the scores",
                where="drug_only_fit",
                fix="give a drug-only score for every scored drug",
            )
        p = aligned.to_numpy(dtype=float)
    mask = _candidate_mask(scores, candidates)
    fitted = np.zeros_like(S)
    r2 = np.full(len(S), np.nan)
    for i in range(len(S)):
        m = mask[i]
        s, x = S[i, m], p[m]
        if s.size == 0:
            continue
        xc, sc = x - x.mean(), s - s.mean()
        vx = float(xc @ xc)
        b = float(xc @ sc) / vx if vx > 0 else 0.0
        fitted[i] = s.mean() + b * (p - x.mean())
        total = float(sc @ sc)
        if total > 0:
            r2[i] = max(0.0, 1.0 - float(((sc - b * xc) ** 2).sum()) / total)
    remainder = S - fitted
    spread = np.abs(S - S.mean(axis=1, keepdims=True)).max(axis=1, keepdims=True)
    remainder[np.abs(remainder) <= _ZERO * np.maximum(spread, 1e-300)] = 0.0
    return (
        pd.DataFrame(fitted, index=scores.index, columns=scores.columns),
        pd.DataFrame(remainder, index=scores.index, columns=scores.columns),
        pd.Series(r2, index=scores.index, name="drug_r2"),
    )


def gene_dependence(
    scores: pd.DataFrame,
    positives: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-disease gene dependence of one method's scores on one fold (see the module doc).

    Parameters
    ----------
    scores
        The fold's test diseases x candidate drugs.
    positives
        Boolean table of the held-out indications.
    candidates
        Optional boolean table of the ranked cells.
    seed
        Seed of the random tie-breaking of the average precisions.

    Returns
    -------
    pandas.DataFrame
        One row per disease with a positive and a negative among its candidates: ``disease``,
        ``drug_r2``, ``drug_only_ap``, ``remainder_ap``.
    """
    drug_part, remainder, r2 = drug_only_fit(scores, candidates=candidates)
    only, _ = per_disease_metrics(drug_part, positives, candidates=candidates, seed=seed)
    rest, _ = per_disease_metrics(remainder, positives, candidates=candidates, seed=seed)
    out = pd.DataFrame({"disease": rest["disease"].to_numpy()})
    out["drug_r2"] = r2.reindex(out["disease"]).to_numpy()
    out["drug_only_ap"] = only.set_index("disease")["average_precision"].reindex(out["disease"]).to_numpy()
    out["remainder_ap"] = rest["average_precision"].to_numpy()
    return out


def gene_dependence_words(metrics: pd.DataFrame) -> list[str]:
    """One sentence per method saying what its ranking is made of (for reports).

    Parameters
    ----------
    metrics
        A benchmark summary with ``method``, ``drug_r2`` and ``remainder_ap`` (and optionally
        their ``_lo`` / ``_hi`` interval columns).

    Returns
    -------
    list of str
        Empty when the table has no gene-dependence columns.
    """
    if "drug_r2" not in metrics or "remainder_ap" not in metrics:
        return []
    lines = []
    for _, row in metrics.iterrows():
        r2 = row["drug_r2"]
        if not np.isfinite(r2):
            continue
        rest = f"remainder MAP {row['remainder_ap']:.3f}"
        if "remainder_ap_lo" in row and np.isfinite(row["remainder_ap_lo"]):
            rest += f" [{row['remainder_ap_lo']:.3f}, {row['remainder_ap_hi']:.3f}]"
        if r2 > MOSTLY_DRUG_ONLY:
            verdict = "this ranking is mostly drug popularity"
        else:
            verdict = "this ranking depends on the disease"
        lines.append(f"{row['method']}: drug-only R² {r2:.3f}, {rest}: {verdict}.")
    return lines
