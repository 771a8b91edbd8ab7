"""Tuned training: cross-validated logistic regression loaded into torch, early stopping, weights."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from exprlab.errors import InputDataError
from exprlab.models import ExpressionClassifier, fit_linear_cv
from exprlab.models._tuned import class_weights


def _data(n_per_class=(20, 12, 8), p=120, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(["a", "b", "c"][: len(n_per_class)], n_per_class)
    x = rng.normal(size=(labels.size, p))
    for i, c in enumerate(np.unique(labels)):
        x[labels == c, 3 * i : 3 * i + 3] += 1.5
    obs = pd.DataFrame({"label": labels}, index=[f"s{i}" for i in range(labels.size)])
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(p)]))


def test_balanced_class_weights_by_hand():
    y = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(class_weights(y, 2, "balanced"), [4 / (2 * 3), 4 / (2 * 1)])
    np.testing.assert_allclose(class_weights(y, 2, "none"), [1, 1])


def test_torch_model_reproduces_scikit_learn_at_the_chosen_penalty():
    data = _data()
    clf = ExpressionClassifier("lr", seed=3).fit(data, "label")
    assert clf.tuning_["training"] == "tuned" and clf.tuning_["row_space_fit"]
    z = clf.transform(data).astype(np.float64)
    y = np.searchsorted(clf.classes_.astype(str), data.obs["label"].to_numpy())
    # independent: scikit-learn on all genes at the C the inner cross-validation chose
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SkLogisticRegression(
            C=clf.tuning_["C"], class_weight="balanced", max_iter=10000, tol=1e-8
        )
        reference.fit(z, y)
    np.testing.assert_allclose(clf.predict_proba(data), reference.predict_proba(z), atol=2e-3)


def test_binary_coefficients_give_the_logistic_probability():
    data = _data(n_per_class=(15, 15))
    coef, intercept, info = fit_linear_cv(np.asarray(data.X), np.repeat([0, 1], 15), seed=0)
    assert coef.shape == (2, data.n_vars)
    logits = np.asarray(data.X) @ coef.T + intercept
    prob1 = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    margin = logits[:, 1] - logits[:, 0]
    np.testing.assert_allclose(prob1, 1 / (1 + np.exp(-margin)))
    np.testing.assert_allclose(coef[0], -coef[1])


def test_elastic_net_runs_and_records_its_ratio():
    data = _data(n_per_class=(12, 12), p=30)
    clf = ExpressionClassifier("lr", penalty="elasticnet", inner_folds=3).fit(data, "label")
    assert clf.tuning_["l1_ratio"] in (0.1, 0.5, 0.9)
    assert clf.score(data) > 0.8


def test_early_stopping_is_seeded_and_keeps_its_best_epoch():
    data = _data(p=40)
    first = ExpressionClassifier("mlp", seed=5, epochs=12, patience=3).fit(data, "label")
    again = ExpressionClassifier("mlp", seed=5, epochs=12, patience=3).fit(data, "label")
    np.testing.assert_array_equal(first.predict_proba(data), again.predict_proba(data))
    assert 1 <= first.tuning_["best_epoch"] <= len(first.history_) <= 12
    assert first.tuning_["n_validation"] == 8  # 20 % of 40, stratified


def test_a_class_with_one_sample_is_named():
    data = _data(n_per_class=(10, 10, 1))
    with pytest.raises(InputDataError, match=r"'c' \(1\)"):
        ExpressionClassifier("lr").fit(data, "label")
