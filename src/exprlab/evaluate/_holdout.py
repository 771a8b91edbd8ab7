"""Held-out splits of samples for classifier training: stratified, optionally grouped by subject.

docs/methods.md §3 ("Held-out evaluation"). The splits come from scikit-learn:
:class:`~sklearn.model_selection.StratifiedShuffleSplit` (no groups) or
:class:`~sklearn.model_selection.StratifiedGroupKFold` (all samples of a group on one side; the
test part is the first of round(1 / fraction) folds), and their K-fold counterparts for
cross-validation. Every split is seeded.
"""

from __future__ import annotations

import numpy as np

__all__ = ["holdout_indices", "cv_indices"]


def holdout_indices(
    labels, *, test_fraction: float = 0.25, groups=None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One stratified train/test split of sample positions, groups kept whole when given.

    Parameters
    ----------
    labels
        Class label of each sample (stratification).
    test_fraction
        Fraction of the samples held out (approximate with groups).
    groups
        Group (subject) of each sample, or None.
    seed
        Seed of the split.

    Returns
    -------
    tuple of numpy.ndarray
        (train positions, test positions), each sorted.
    """
    from sklearn.model_selection import (  # deferred: scikit-learn is heavy
        StratifiedGroupKFold,
        StratifiedShuffleSplit,
    )

    y = np.asarray(labels).astype(str)
    if groups is None:
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
        train, test = next(splitter.split(np.zeros(y.size), y))
    else:
        n_folds = max(2, int(round(1.0 / test_fraction)))
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        train, test = next(splitter.split(np.zeros(y.size), y, np.asarray(groups).astype(str)))
    return np.sort(train), np.sort(test)


def cv_indices(
    labels, *, n_folds: int = 5, groups=None, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold splits of sample positions, groups kept whole when given.

    Parameters
    ----------
    labels
        Class label of each sample.
    n_folds
        Number of folds K.
    groups
        Group (subject) of each sample, or None.
    seed
        Seed of the fold assignment.

    Returns
    -------
    list of tuple
        (train positions, test positions) per fold; every sample is tested once.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold  # deferred: heavy

    y = np.asarray(labels).astype(str)
    if groups is None:
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(y.size), y)
    else:
        folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(
            np.zeros(y.size), y, np.asarray(groups).astype(str)
        )
    return [(np.sort(a), np.sort(b)) for a, b in folds]
