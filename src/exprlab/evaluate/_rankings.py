"""From attributions to gene rankings: normalisation, signed/absolute scores, class rankings.

These pure-numpy helpers are shared by the explanation metrics of this package and by the
aggregation of :mod:`exprlab.explain` (docs/methods.md §3): rows of attributions are
L2-normalised, genes are ranked by their signed attribution (the paper) or its magnitude, and a
group of examples (one class) gets one score per gene, either its summed attributions or the
paper code's *pooled* variant (how many of the examples have the gene in their top list).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from exprlab._validation import check_choice, check_count
from exprlab.errors import InputDataError

__all__ = [
    "RANKINGS",
    "GLOBAL_METHODS",
    "Ranking",
    "GlobalMethod",
    "normalize_attributions",
    "ranking_scores",
    "global_ranking_scores",
    "top_indices",
]

Ranking = Literal["signed", "absolute"]
GlobalMethod = Literal["sum", "pooled"]
#: how genes are ranked by their attributions
RANKINGS: tuple[Ranking, ...] = ("signed", "absolute")
#: how a group of examples is turned into one score per gene
GLOBAL_METHODS: tuple[GlobalMethod, ...] = ("sum", "pooled")


def normalize_attributions(attributions: np.ndarray) -> np.ndarray:
    """Divide each row by its L2 norm, so that every example weighs the same.

    Parameters
    ----------
    attributions
        (examples, genes) attributions.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape; rows of zeros stay zero.

    Raises
    ------
    InputDataError
        When the array is not 2-D or holds NaN or infinite values.
    """
    a = np.asarray(attributions, dtype=np.float64)
    if a.ndim != 2:
        raise InputDataError(
            f"attributions must be 2-D (examples × genes), got shape {a.shape}",
            where="attributions",
            fix="pass one row per example",
        )
    if not np.isfinite(a).all():
        raise InputDataError(
            "attributions contain NaN or infinite values",
            where="attributions",
            fix="recompute the attributions (check the model and baselines)",
        )
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(norms > 0, norms, 1.0)


def ranking_scores(attributions: np.ndarray, ranking: Ranking) -> np.ndarray:
    """The values genes are ranked by: the attributions themselves or their magnitudes.

    Parameters
    ----------
    attributions
        Attributions, any shape.
    ranking
        ``"signed"`` (decreasing attribution, as the paper) or ``"absolute"`` (decreasing
        magnitude).

    Returns
    -------
    numpy.ndarray
        ``attributions`` (signed) or ``abs(attributions)`` (absolute).
    """
    check_choice(ranking, "ranking", RANKINGS)
    return attributions if ranking == "signed" else np.abs(attributions)


def top_indices(scores: np.ndarray, top: int) -> np.ndarray:
    """Indices of the ``top`` largest entries of each row (unordered within the top).

    Parameters
    ----------
    scores
        (..., genes) scores.
    top
        How many indices to keep per row (at most the number of genes).

    Returns
    -------
    numpy.ndarray
        (..., min(top, genes)) integer indices.
    """
    kept = min(int(top), scores.shape[-1])
    return np.argpartition(-scores, kept - 1, axis=-1)[..., :kept]


def global_ranking_scores(
    attributions: np.ndarray,
    *,
    method: GlobalMethod = "sum",
    top: int | None = None,
    ranking: Ranking = "signed",
    normalize: bool = False,
) -> np.ndarray:
    """One score per gene for a group of examples (typically the examples of one class).

    Parameters
    ----------
    attributions
        (examples, genes) attributions of the group; at least one example.
    method
        ``"sum"``: the summed attributions (docs/methods.md §3). ``"pooled"``: the paper code's
        variant, the number of examples having the gene in their top ``top``, plus the summed
        attribution scaled below one vote as a tie-breaker.
    top
        Size of each example's top list; required by ``"pooled"``.
    ranking
        Rank by signed attributions or by their magnitudes (:func:`ranking_scores`).
    normalize
        L2-normalise each example first (:func:`normalize_attributions`).

    Returns
    -------
    numpy.ndarray
        (genes,) float64 scores, higher = more important.
    """
    check_choice(method, "method", GLOBAL_METHODS)
    a = np.asarray(attributions, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise InputDataError(
            f"need a non-empty (examples × genes) array, got shape {a.shape}",
            where="attributions",
            fix="pass at least one example",
        )
    if normalize:
        a = normalize_attributions(a)
    s = ranking_scores(a, ranking)
    total = s.sum(axis=0)
    if method == "sum":
        return total
    kept = check_count(top, "top", minimum=1, maximum=a.shape[1])  # type: ignore[arg-type]
    votes = np.bincount(top_indices(s, kept).ravel(), minlength=a.shape[1]).astype(np.float64)
    span = np.abs(total).max()
    tie = total / (4.0 * span) if span > 0 else 0.0  # within ±0.25: never beats a vote
    return votes + tie
