"""Classifiers: architectures, preprocessing, diffusion, training, determinism, saving, bad input."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from exprlab.errors import ExprlabError, GeneSpaceError, InputDataError, NonFiniteValueError
from exprlab.models import (
    MODEL_KINDS,
    ExpressionClassifier,
    GraphDiffusion,
)
from exprlab.models._training import TrainingSchedule, _batches
from exprlab.signatures import diffusion_matrix


def make_data(n_per_class=30, n_genes=40, classes=("a", "b", "c"), seed=0, shift=2.5):
    rng = np.random.default_rng(seed)
    n = n_per_class * len(classes)
    x = rng.normal(size=(n, n_genes))
    labels = np.repeat(classes, n_per_class)
    for i, c in enumerate(classes):
        x[labels == c, 4 * i : 4 * i + 4] += shift
    x[:, -1] = 7.0  # a gene constant in training
    obs = pd.DataFrame({"label": labels}, index=[f"s{i}" for i in range(n)])
    var = pd.DataFrame(index=[f"G{j}" for j in range(n_genes)])
    return ad.AnnData(x, obs=obs, var=var)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_model_learns_a_separable_task(data, kind):
    hidden = (32, 16) if kind == "deep_mlp" else None
    clf = ExpressionClassifier(kind, seed=1, training="paper", epochs=8, hidden=hidden).fit(data, "label")
    assert clf.score(data) >= 0.9
    proba = clf.predict_proba(data)
    assert proba.shape == (data.n_obs, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert set(clf.predict(data)) <= {"a", "b", "c"}
    assert not clf.module_.training


def test_architectures_match_the_paper(data):
    lr = ExpressionClassifier("lr", training="paper", epochs=1).fit(data, "label").module_
    assert [type(m) for m in lr] == [nn.Dropout, nn.Linear]
    assert lr[0].p == 0.2 and (lr[1].in_features, lr[1].out_features) == (40, 3)
    mlp = ExpressionClassifier("mlp", training="paper", epochs=1).fit(data, "label").module_
    assert [type(m) for m in mlp] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert (mlp[0].in_features, mlp[0].out_features, mlp[3].out_features) == (40, 20, 3)
    dmlp = ExpressionClassifier("diffuse_mlp", training="paper", epochs=1).fit(data, "label").module_
    assert isinstance(dmlp[0], GraphDiffusion)
    assert [type(m) for m in list(dmlp)[1:]] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    deep = ExpressionClassifier("deep_mlp", hidden=(16, 8, 4), training="paper", epochs=1).fit(data, "label")
    widths = [m.out_features for m in deep.module_ if isinstance(m, nn.Linear)]
    assert widths == [16, 8, 4, 3]


def test_paper_schedule_defaults_are_the_papers():
    assert ExpressionClassifier(training="paper").schedule == TrainingSchedule(
        epochs=25, batch_size=32, lr=0.1, momentum=0.9, weight_decay=1e-4, milestones=(12, 22), gamma=0.1
    )


def test_batches_never_leave_a_single_example():
    sizes = [b.size for b in _batches(np.arange(65), 32)]
    assert sizes == [32, 33]
    assert [b.size for b in _batches(np.arange(64), 32)] == [32, 32]


def test_zscore_uses_training_statistics_and_survives_constant_genes(data):
    clf = ExpressionClassifier("lr", training="paper", epochs=1).fit(data, "label")
    x = np.asarray(data.X)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[-1] = 1.0  # constant gene: scale 1
    np.testing.assert_allclose(clf.transform(data), (x - mean) / std, rtol=1e-5, atol=1e-5)
    other = make_data(seed=5)
    np.testing.assert_allclose(clf.transform(other), (np.asarray(other.X) - mean) / std, rtol=1e-5, atol=1e-5)
    assert np.all(clf.transform(data)[:, -1] == 0.0)


def test_log2_option(data):
    counts = data.copy()
    counts.X = np.round(np.exp(np.asarray(data.X)))
    clf = ExpressionClassifier("lr", log2=True, training="paper", epochs=1).fit(counts, "label")
    logged = np.log2(np.asarray(counts.X) + 1)
    std = logged.std(axis=0)
    std[-1] = 1.0  # the constant gene
    np.testing.assert_allclose(
        clf.transform(counts), (logged - logged.mean(axis=0)) / std, rtol=1e-5, atol=1e-5
    )
    with pytest.raises(InputDataError, match="negative"):
        ExpressionClassifier("lr", log2=True, training="paper", epochs=1).fit(data, "label")


def test_genes_are_matched_by_name_and_sparse_input_works(data):
    clf = ExpressionClassifier("mlp", training="paper", epochs=3).fit(data, "label")
    shuffled = data[:, np.random.default_rng(0).permutation(data.n_vars)].copy()
    np.testing.assert_allclose(clf.predict_proba(shuffled), clf.predict_proba(data), rtol=1e-6)
    sparse = data.copy()
    sparse.X = sp.csr_matrix(np.asarray(data.X))
    np.testing.assert_allclose(clf.predict_proba(sparse), clf.predict_proba(data), rtol=1e-6)


def test_diffusion_matrix_matches_a_dense_formula():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(50, 3))
    x = np.repeat(base, 4, axis=1) + 0.8 * rng.normal(size=(50, 12))
    x[:, 5] = 1.0  # constant: no edges
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(x, rowvar=False)
    corr = np.nan_to_num(corr)
    a = np.where(corr > 0.5, corr, 0.0)
    np.fill_diagonal(a, 0.0)
    a_hat = a + np.eye(12)
    d = 1 / np.sqrt(a_hat.sum(axis=1))
    expected = d[:, None] * a_hat * d[None, :]
    got = diffusion_matrix(x, threshold=0.5).toarray()
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert (a > 0).sum() > 0
    layer = GraphDiffusion(sp.csr_matrix(expected))
    v = torch.tensor(rng.normal(size=(4, 12)), dtype=torch.float32)
    np.testing.assert_allclose(layer(v).numpy(), v.numpy() @ expected.T, rtol=1e-5, atol=1e-6)


def test_same_seed_same_weights_and_predictions(data):
    first = ExpressionClassifier("lr", seed=7, training="paper", epochs=4).fit(data, "label")
    second = ExpressionClassifier("lr", seed=7, training="paper", epochs=4).fit(data, "label")
    other = ExpressionClassifier("lr", seed=8, training="paper", epochs=4).fit(data, "label")
    for key, value in first.module_.state_dict().items():
        assert torch.equal(value, second.module_.state_dict()[key])
    assert np.array_equal(first.predict_proba(data), second.predict_proba(data))
    assert not torch.equal(first.module_[1].weight, other.module_[1].weight)
    seeded = ExpressionClassifier("mlp", seed=np.random.default_rng(3), training="paper", epochs=2).fit(
        data, "label"
    )
    again = ExpressionClassifier("mlp", seed=np.random.default_rng(3), training="paper", epochs=2).fit(
        data, "label"
    )
    assert np.array_equal(seeded.predict_proba(data), again.predict_proba(data))


@pytest.mark.parametrize("kind", ["diffuse_mlp", "deep_mlp"])
def test_save_and_load_round_trip(data, kind, tmp_path):
    clf = ExpressionClassifier(kind, seed=2, training="paper", epochs=2, log2=False).fit(data, "label")
    path = clf.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["metadata.json", "preprocess.npz", "weights.pt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    loaded = ExpressionClassifier.load(path)
    assert np.array_equal(loaded.predict_proba(data), clf.predict_proba(data))
    assert list(loaded.classes_) == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.class_means_, clf.class_means_)


def test_a_folder_saved_with_the_hyphenated_name_still_loads(data, tmp_path):
    clf = ExpressionClassifier("diffuse_mlp", seed=2, training="paper", epochs=1).fit(data, "label")
    path = clf.save(tmp_path / "model")
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["model"] == "diffuse_mlp"
    meta["model"] = "diffuse-mlp"  # the spelling of earlier releases
    (path / "metadata.json").write_text(json.dumps(meta))
    loaded = ExpressionClassifier.load(path)
    assert loaded.arch == "diffuse_mlp"
    assert np.array_equal(loaded.predict_proba(data), clf.predict_proba(data))


def test_integer_labels_keep_their_type():
    data = make_data(classes=("x", "y"))
    data.obs["code"] = (data.obs["label"] == "y").astype(int).to_numpy() + 3
    clf = ExpressionClassifier("lr", training="paper", epochs=2).fit(data, "code")
    assert list(clf.classes_) == [3, 4]
    assert set(clf.predict(data)) <= {3, 4}


# ---------------------------------------------------------------- bad input
def test_single_class_labels_are_refused(data):
    one = data.copy()
    one.obs["label"] = "a"
    with pytest.raises(InputDataError, match="single class"):
        ExpressionClassifier("lr").fit(one, "label")


def test_nan_features_are_named(data):
    bad = data.copy()
    bad.X[3, 5] = np.nan
    with pytest.raises(NonFiniteValueError, match="'s3'.*'G5'"):
        ExpressionClassifier("lr").fit(bad, "label")
    clf = ExpressionClassifier("lr", training="paper", epochs=1).fit(data, "label")
    with pytest.raises(NonFiniteValueError, match="'s3'"):
        clf.predict(bad)


def test_gene_mismatch_names_the_missing_genes(data):
    clf = ExpressionClassifier("lr", training="paper", epochs=1).fit(data, "label")
    with pytest.raises(GeneSpaceError, match="2 of the model's 40 genes.*G3, G7"):
        clf.predict(data[:, [g for g in data.var_names if g not in ("G3", "G7")]])


def test_missing_labels_and_unknown_model(data):
    with pytest.raises(InputDataError, match="label column 'nope'"):
        ExpressionClassifier("lr").fit(data, "nope")
    holes = data.copy()
    holes.obs["label"] = holes.obs["label"].astype(object)
    holes.obs.iloc[2, 0] = None
    with pytest.raises(InputDataError, match="no label"):
        ExpressionClassifier("lr").fit(holes, "label")
    with pytest.raises(ExprlabError, match="unknown arch"):
        ExpressionClassifier("svm")
    with pytest.raises(InputDataError, match="not fitted"):
        ExpressionClassifier("lr").predict(data)
