"""Confounding of a label with a batch: association of the two, and batch read from expression.

docs/methods.md §3 ("Batch and confounding"). A classifier trained on a design where batch and
label go together can learn the batch; the two numbers here tell the user how far that risk
goes before any model is trusted:

* the label × batch contingency table, its chi-square test (scipy) and Cramér's V
  (√(χ² / (n (min(r, c) − 1))), 0 = independent, 1 = one determines the other);
* how well the batch is predicted from expression: the cross-validated balanced accuracy of an
  L2 logistic regression on the first 20 principal components of standardised expression
  (scikit-learn; scaling and components fitted inside each training fold), against chance
  1 / batches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from scipy.stats.contingency import association

__all__ = ["CRAMERS_V_WARNING", "label_batch_association", "batch_predictability"]

#: principal components the batch classifier sees (fitted inside each training fold)
PCA_COMPONENTS = 20
#: Cramér's V above which a design counts as confounded (and gets a loud warning)
CRAMERS_V_WARNING = 0.5


def label_batch_association(labels, batches) -> dict:
    """Association of class labels and batches: table, chi-square test, Cramér's V, confounding.

    Parameters
    ----------
    labels
        Class label of each sample.
    batches
        Batch of each sample.

    Returns
    -------
    dict
        ``table`` (label × batch counts, DataFrame), ``chi2``, ``p_value``, ``dof``,
        ``cramers_v``, ``perfectly_confounded`` (every batch holds a single class, so a
        per-batch correction removes the class signal with it) and ``confounded``
        (perfectly confounded or Cramér's V above :data:`CRAMERS_V_WARNING`).
    """
    table = pd.crosstab(
        pd.Series(np.asarray(labels).astype(str), name="label"),
        pd.Series(np.asarray(batches).astype(str), name="batch"),
    )
    counts = table.to_numpy()
    if min(counts.shape) < 2:  # one class or one batch: no association to test
        chi2, p_value, dof, v = 0.0, 1.0, 0, 0.0
    else:
        chi2, p_value, dof, _ = chi2_contingency(counts, correction=False)
        v = float(association(counts, method="cramer", correction=False))
    pure = bool(counts.shape[1] >= 2 and counts.shape[0] >= 2 and ((counts > 0).sum(axis=0) == 1).all())
    return {
        "table": table,
        "chi2": float(chi2),
        "p_value": float(p_value),
        "dof": int(dof),
        "cramers_v": float(v),
        "perfectly_confounded": pure,
        "confounded": bool(pure or v > CRAMERS_V_WARNING),
    }


def batch_predictability(x: np.ndarray, batches, *, n_folds: int = 5, seed: int = 0) -> dict:
    """How well expression predicts the batch: cross-validated balanced accuracy and chance.

    Parameters
    ----------
    x
        Expression, samples × genes (standardised inside each training fold).
    batches
        Batch of each sample.
    n_folds
        Stratified folds (capped by the smallest batch).
    seed
        Seed of the folds.

    Returns
    -------
    dict
        ``balanced_accuracy`` (mean over folds), ``chance`` (1 / batches), ``n_folds`` and
        ``n_samples``; batches of a single sample are left out, and ``balanced_accuracy`` is
        None when fewer than two batches remain.
    """
    from sklearn.decomposition import PCA  # deferred: scikit-learn is heavy
    from sklearn.linear_model import LogisticRegression  # deferred: scikit-learn is heavy
    from sklearn.model_selection import StratifiedKFold, cross_val_score  # deferred: as above
    from sklearn.pipeline import make_pipeline  # deferred: as above
    from sklearn.preprocessing import StandardScaler  # deferred: as above

    groups = np.asarray(batches).astype(str)
    levels, counts = np.unique(groups, return_counts=True)
    kept = np.isin(groups, levels[counts >= 2])  # a batch of one sample cannot be cross-validated
    levels, counts = levels[counts >= 2], counts[counts >= 2]
    folds = min(int(n_folds), int(counts.min())) if counts.size else 0
    result: dict = {
        "chance": 1.0 / max(levels.size, 1),
        "n_folds": folds,
        "n_samples": int(kept.sum()),
        "balanced_accuracy": None,
    }
    if levels.size < 2 or folds < 2:
        return result
    components = min(PCA_COMPONENTS, int(kept.sum()) - int(kept.sum()) // folds - 1, x.shape[1])
    model = make_pipeline(
        StandardScaler(),
        PCA(n_components=components, random_state=seed),
        LogisticRegression(class_weight="balanced", max_iter=2000),
    )
    scores = cross_val_score(
        model,
        np.asarray(x, dtype=np.float64)[kept],
        groups[kept],
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        scoring="balanced_accuracy",
    )
    result["balanced_accuracy"] = float(scores.mean())
    return result
