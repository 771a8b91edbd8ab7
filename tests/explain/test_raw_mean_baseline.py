"""The mean baseline in raw expression units, and the warning when "mean" equals "zero"."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.explain import integrated_gradients, raw_mean
from exprlab.models import ExpressionClassifier


def _data(seed: int, shift: float = 0.0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 20.0, size=(24, 6)) + shift
    y = np.array(["A", "B"] * 12)
    x[y == "A", 0] += 40
    return ad.AnnData(
        x.astype(np.float32),
        obs=pd.DataFrame({"cls": y}, index=[f"s{i}" for i in range(24)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(6)]),
    )


def test_raw_mean_of_a_log2_model_differs_from_zero_and_equals_the_hand_value():
    data = _data(0)
    clf = ExpressionClassifier("lr", seed=0, log2=True, epochs=2).fit(data, "cls")
    raw = np.asarray(data.X, dtype=np.float64)
    logged = np.log2(raw + 1)
    expected = (np.log2(raw.mean(0) + 1) - logged.mean(0)) / logged.std(0)  # from scratch
    vector = raw_mean(clf, data)
    np.testing.assert_allclose(vector, expected, rtol=1e-5)
    assert np.abs(vector).max() > 0.05  # log of the mean is not the mean of the logs


def test_raw_mean_of_other_reference_data_is_its_standardised_mean():
    train, other = _data(1), _data(2, shift=15.0)
    clf = ExpressionClassifier("lr", seed=0, epochs=2).fit(train, "cls")
    t = np.asarray(train.X, dtype=np.float64)
    expected = (np.asarray(other.X, dtype=np.float64).mean(0) - t.mean(0)) / t.std(0)
    np.testing.assert_allclose(raw_mean(clf, other), expected, rtol=1e-5)
    assert np.abs(expected).min() > 0.1  # the model standardises with a different mean


def test_mean_equal_to_zero_is_announced():
    data = _data(3)
    clf = ExpressionClassifier("lr", seed=0, epochs=2).fit(data, "cls")
    with pytest.warns(UserWarning, match="equals the zero baseline"):
        vector = raw_mean(clf, data)
    np.testing.assert_allclose(vector, 0.0, atol=1e-5)
    with pytest.warns(UserWarning, match="equals 'zero'"):
        ig_mean = integrated_gradients(clf, data[:3], "mean", target="A")
    np.testing.assert_allclose(ig_mean, integrated_gradients(clf, data[:3], None, target="A"), atol=1e-6)
