"""Tuned logistic regression against scikit-learn's LogisticRegressionCV on every public cohort.

For each task of ``exprlab.workflows.TASKS`` (own train/test parts joined), seeded stratified
75/25 splits (one in the suite, to keep it short; ``EXPRLAB_COHORT_SPLITS=3`` or more for the
table of the user guide); the mean held-out balanced accuracy of ``ExpressionClassifier("lr")``
must be at most one point below that of a plain scikit-learn pipeline (StandardScaler ->
LogisticRegressionCV with balanced class weights) on the same splits. Run with ``-s`` to print
the table.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from exprlab.models import ExpressionClassifier, labels_of
from exprlab.workflows import TASKS, task_data

SPLITS = int(os.environ.get("EXPRLAB_COHORT_SPLITS", "1"))


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASKS))
def test_tuned_lr_is_within_one_point_of_logistic_regression_cv(task, data_dir):
    adata, label = task_data(task)
    y = labels_of(adata, label).astype(str)
    x = np.asarray(adata.X, dtype=np.float64)
    ours, peer = [], []
    splitter = StratifiedShuffleSplit(n_splits=SPLITS, test_size=0.25, random_state=0)
    for seed, (train, test) in enumerate(splitter.split(x, y)):
        clf = ExpressionClassifier("lr", seed=seed).fit(adata[train], label)
        ours.append(balanced_accuracy_score(y[test], clf.predict(adata[test]).astype(str)))
        reference = make_pipeline(
            StandardScaler(), LogisticRegressionCV(class_weight="balanced", max_iter=1000, l1_ratios=(0.0,))
        )
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            reference.fit(x[train], y[train])
        peer.append(balanced_accuracy_score(y[test], reference.predict(x[test])))
    print(
        f"\n| {task} | {adata.n_obs} x {adata.n_vars} | {np.unique(y).size} | "
        f"{np.mean(ours):.3f} | {np.mean(peer):.3f} | {np.mean(ours) - np.mean(peer):+.3f} |"
    )
    assert np.mean(ours) >= np.mean(peer) - 0.01
