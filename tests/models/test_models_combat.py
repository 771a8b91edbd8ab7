"""ComBat-style batch correction: the plain location/scale version, shrinkage, train-only fitting."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.models import BatchCorrection, ExpressionClassifier


def _batched(seed=0, n=(8, 10, 12), p=50):
    rng = np.random.default_rng(seed)
    blocks, names = [], []
    for b, size in enumerate(n):
        shift = rng.normal(scale=2.0, size=p)
        spread = rng.uniform(0.5, 2.0, size=p)
        blocks.append(rng.normal(size=(size, p)) * spread + shift + 5)
        names += [f"batch{b}"] * size
    return np.vstack(blocks), np.array(names)


def test_plain_version_matches_a_from_scratch_location_scale_adjustment():
    x, batches = _batched()
    fitted = BatchCorrection.fit(x, batches, empirical_bayes=False)
    got = fitted.transform(x, batches)
    # from scratch: per gene, (x - batch mean) / batch sd (n - 1) * pooled sd + grand mean,
    # the pooled variance being the mean squared deviation from the batch means
    expected = np.empty_like(x)
    grand = x.mean(axis=0)
    resid = np.empty_like(x)
    for b in np.unique(batches):
        rows = batches == b
        resid[rows] = x[rows] - x[rows].mean(axis=0)
    pooled_sd = np.sqrt((resid**2).mean(axis=0))
    for b in np.unique(batches):
        rows = batches == b
        sd_b = x[rows].std(axis=0, ddof=1)
        expected[rows] = (x[rows] - x[rows].mean(axis=0)) / sd_b * pooled_sd + grand
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # after the plain correction every batch has the grand mean
    for b in np.unique(batches):
        np.testing.assert_allclose(got[batches == b].mean(axis=0), grand, atol=1e-9)


def test_shrinkage_moves_estimates_toward_the_prior():
    x, batches = _batched(seed=1)
    eb = BatchCorrection.fit(x, batches, empirical_bayes=True)
    for b in range(eb.levels.size):
        prior = eb.gamma_hat[b].mean()
        # every posterior location lies between its own estimate and the prior mean
        lo = np.minimum(eb.gamma_hat[b], prior) - 1e-9
        hi = np.maximum(eb.gamma_hat[b], prior) + 1e-9
        assert np.all((eb.gamma[b] >= lo) & (eb.gamma[b] <= hi))
        assert np.abs(eb.gamma[b] - prior).sum() < np.abs(eb.gamma_hat[b] - prior).sum()
        # the scales move toward their across-gene mean: their spread shrinks
        assert eb.delta[b].var() < eb.delta_hat[b].var()


def test_held_out_samples_use_the_training_estimates():
    x, batches = _batched(seed=2)
    train = np.arange(x.shape[0]) % 3 != 0
    fitted = BatchCorrection.fit(x[train], batches[train], empirical_bayes=False)
    held = fitted.transform(x[~train], batches[~train])
    # one held-out sample's correction depends only on itself and the training estimates
    alone = fitted.transform(x[~train][:1], batches[~train][:1])
    np.testing.assert_allclose(alone, held[:1])
    b = batches[~train][0]
    rows = train & (batches == b)
    mean_b, sd_b = x[rows].mean(axis=0), x[rows].std(axis=0, ddof=1)
    expected = (x[~train][0] - mean_b) / sd_b * fitted.scale + fitted.mean
    np.testing.assert_allclose(alone[0], expected, rtol=1e-9)


def test_bad_batches_are_refused():
    x, batches = _batched()
    with pytest.raises(InputDataError, match="single training sample"):
        BatchCorrection.fit(x[:9], batches[:9])  # batch1 has one sample
    with pytest.raises(InputDataError, match="single batch"):
        BatchCorrection.fit(x[:8], batches[:8])
    fitted = BatchCorrection.fit(x, batches)
    with pytest.raises(InputDataError, match="not seen in training"):
        fitted.transform(x[:2], np.array(["new", "new"]))


def _adata(seed=0):
    x, batches = _batched(seed=seed, n=(16, 16), p=30)
    labels = np.tile(["u", "v"], x.shape[0] // 2)
    x[labels == "u", :3] += 1.5
    obs = pd.DataFrame({"label": labels, "run": batches}, index=[f"s{i}" for i in range(x.shape[0])])
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(x.shape[1])]))


def test_classifier_applies_the_saved_correction_or_refuses(tmp_path):
    data = _adata()
    clf = ExpressionClassifier("lr", batch="run", batch_correct="combat", inner_folds=3).fit(data, "label")
    expected = clf.correction_.transform(np.asarray(data.X), data.obs["run"].to_numpy())
    z = (expected - clf.preprocessor_.mean) / clf.preprocessor_.scale
    np.testing.assert_allclose(clf.transform(data), z, rtol=1e-5, atol=1e-5)
    clf.save(tmp_path / "m")
    back = ExpressionClassifier.load(tmp_path / "m")
    np.testing.assert_allclose(back.predict_proba(data), clf.predict_proba(data), atol=1e-6)
    with pytest.raises(InputDataError, match="'run'"):
        back.predict(ad.AnnData(np.asarray(data.X), var=data.var))
    with pytest.raises(InputDataError, match="array carries no batch"):
        back.transform(np.asarray(data.X))
    with pytest.raises(InvalidParameterError, match="batch"):
        ExpressionClassifier("lr", batch_correct="combat")
