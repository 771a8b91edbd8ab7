"""`train_model` / `exprlab train` and `explain`: held-out records, groups, batches, bad designs."""

from __future__ import annotations

import json
import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from exprlab.errors import InputDataError
from exprlab.workflows import explain_model, train_model


def _cohort(n_per_class=16, p=40, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(["ctrl", "case"], n_per_class)
    n = labels.size
    x = rng.normal(size=(n, p)) + 5
    x[labels == "case", :4] += 2.0
    batch = np.tile(["r1", "r2"], n // 2)
    x[batch == "r2"] += 0.7
    obs = pd.DataFrame(
        {
            "label": labels,
            "batch": batch,
            "subject": [f"p{i // 2}" for i in range(n)],
            "site": labels,  # perfectly confounded with the label
        },
        index=[f"S{i:03d}" for i in range(n)],
    )
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(p)]))


@pytest.fixture(scope="module")
def holdout(tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model"
    data = _cohort()
    run = train_model(data, "label", out, seed=2, group="subject", inner_folds=3)
    return data, out, run


def test_heldout_file_records_unseen_samples_and_their_scores(holdout):
    data, out, run = holdout
    table = pd.read_csv(out / "heldout.tsv", sep="\t", dtype={"sample": str})
    assert 0.15 < len(table) / data.n_obs < 0.35
    truth = data.obs.loc[table["sample"], "label"].to_numpy()
    np.testing.assert_array_equal(table["label"], truth)
    # the recorded accuracy is the one of the recorded predictions (computed here independently)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["kind"] == "classifier"
    expected = balanced_accuracy_score(truth, table["predicted"])
    assert manifest["summary"]["balanced_accuracy"] == pytest.approx(expected)
    np.testing.assert_allclose(table[["p_case", "p_ctrl"]].sum(axis=1), 1.0)
    # subjects stay on one side
    held = set(data.obs.loc[table["sample"], "subject"])
    trained = set(data.obs["subject"]) - held
    assert not held & trained and manifest["summary"]["n_train"] + len(table) == data.n_obs


def test_explain_defaults_to_the_heldout_samples(holdout, tmp_path):
    data, out, _ = holdout
    result, which = explain_model(out, data, tmp_path / "e", n_steps=8)
    held = pd.read_csv(out / "heldout.tsv", sep="\t", dtype={"sample": str})["sample"]
    assert sorted(result.obs_names) == sorted(held)
    manifest = json.loads((tmp_path / "e" / "run.json").read_text())
    assert manifest["kind"] == "explanation" and manifest["summary"]["samples"] == "heldout"
    train_part, _ = explain_model(out, data, tmp_path / "t.h5ad", samples="train", n_steps=8)
    assert set(train_part.obs_names).isdisjoint(held) and train_part.uns["explained_samples"] == "train"
    assert train_part.n_obs + result.n_obs == data.n_obs


def test_cross_validation_reports_mean_and_sd_over_folds(tmp_path):
    data = _cohort()
    run = train_model(data, "label", tmp_path / "cv", cv=4, inner_folds=3)
    folds = pd.read_csv(tmp_path / "cv" / "folds.tsv", sep="\t")
    assert len(folds) == 4
    assert run.metrics["balanced_accuracy_mean"] == pytest.approx(folds["balanced_accuracy"].mean())
    assert run.metrics["balanced_accuracy_sd"] == pytest.approx(folds["balanced_accuracy"].std(ddof=1))
    assert sorted(run.heldout["sample"]) == sorted(data.obs_names)
    with pytest.raises(InputDataError, match="no samples held out"):
        explain_model(tmp_path / "cv", data, tmp_path / "e.h5ad", samples="heldout")


def test_training_on_everything_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="exprlab"):
        run = train_model(_cohort(), "label", tmp_path / "all", test_fraction=0.0, inner_folds=3)
    assert run.evaluation == "none" and "TRAINING accuracy" in caplog.text
    assert not (tmp_path / "all" / "heldout.tsv").exists()


def test_batch_confounding_is_reported_and_correction_fitted_on_training_only(tmp_path):
    data = _cohort()
    run = train_model(data, "label", tmp_path / "b", batch="batch", batch_correct="combat", inner_folds=3)
    record = json.loads((tmp_path / "b" / "confounding.json").read_text())
    assert record["cramers_v"] == pytest.approx(0.0) and not record["confounded"]
    assert record["table"]["case"] == {"r1": 8, "r2": 8}
    held = set(run.heldout["sample"])
    train_ids = [s for s in data.obs_names if s not in held]
    # the saved correction was estimated from the training samples alone
    x = np.asarray(data[train_ids].X)
    r1 = data[train_ids].obs["batch"].to_numpy() == "r1"
    z = (x - run.model.correction_.mean) / run.model.correction_.scale
    np.testing.assert_allclose(run.model.correction_.gamma_hat[0], z[r1].mean(axis=0))


def test_confounded_design_warns_and_refuses_correction(tmp_path, caplog):
    data = _cohort()
    with caplog.at_level(logging.WARNING, logger="exprlab"):
        run = train_model(data, "label", tmp_path / "c", batch="site", inner_folds=3)
    assert run.confounding["perfectly_confounded"] and "CONFOUNDED DESIGN" in caplog.text
    with pytest.raises(InputDataError, match="remove the class signal"):
        train_model(data, "label", tmp_path / "d", batch="site", batch_correct="combat")


def test_bad_designs(tmp_path, caplog):
    data = _cohort()
    one = data[data.obs["label"] == "case"].copy()
    with pytest.raises(InputDataError, match="single class"):
        train_model(one, "label", tmp_path / "x")
    lonely = data[:17].copy()  # 16 ctrl and one case
    with pytest.raises(InputDataError, match=r"'case' \(1\)"):
        train_model(lonely, "label", tmp_path / "x")
    for option in ({"group": "donor"}, {"batch": "plate"}):
        with pytest.raises(InputDataError, match=r"obs columns: label, batch, subject, site"):
            train_model(data, "label", tmp_path / "x", **option)
    with pytest.raises(InputDataError, match="obs columns"):
        train_model(data, "phenotype", tmp_path / "x")
    data.obs["single"] = [f"u{i}" for i in range(data.n_obs)]
    with caplog.at_level(logging.WARNING, logger="exprlab"):
        train_model(data, "label", tmp_path / "g", group="single", inner_folds=3)
    assert "have a single sample" in caplog.text
