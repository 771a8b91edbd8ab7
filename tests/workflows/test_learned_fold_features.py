"""The learned models' label pair features: inner training labels to train and stop, selection-free for selection, outer for test."""

import numpy as np
import pandas as pd

from exprlab.evaluate import inner_parts
from exprlab.models import TrainConfig, signature_profiles
from exprlab.simulate import simulate_planted
from exprlab.workflows import _repurposing as rp
from exprlab.workflows import _repurposing_methods as rpm

TINY = rp.LearnedSettings(
    max_genes=100,
    twotower=TrainConfig(
        arch="twotower", options={"dim": 8, "hidden": 16}, max_epochs=1, steps_per_epoch=1, batch_size=32
    ),
    ensemble_seeds=1,
)


def _expected_popularity(data, pairs: pd.DataFrame, train_drugs, choice) -> np.ndarray:
    """The held-out-drug popularity feature of every (contrast, perturbation), z-scored.

    An unseen drug has no indications, so its popularity is that of its signature neighbours
    (docs/methods.md §2.2 and §2.6): the similarity-weighted mean number of indications in
    ``pairs`` of its ``choice.top`` most similar drugs among ``train_drugs`` (itself excluded,
    negative similarities weighing 0), then log(1 + x). Written from the definition, drug by
    drug, with numpy's own cosine or rank correlation.
    """
    drugs = sorted(set(data.instance_drug))
    prof = signature_profiles(data.drugs.matrix, data.instance_drug)
    values = prof.values.astype(np.float64)
    if choice.similarity == "spearman":
        values = np.apply_along_axis(lambda v: pd.Series(v).rank().to_numpy(), 1, values)
        values = values - values.mean(axis=1, keepdims=True)
    unit = values / np.linalg.norm(values, axis=1, keepdims=True)
    row = {name: i for i, name in enumerate(prof.names)}
    counts = pairs["drug"].value_counts().to_dict()
    estimate = {}
    for d in drugs:
        refs = [r for r in train_drugs if r != d]
        sims = np.array([unit[row[d]] @ unit[row[r]] for r in refs])
        near = np.argsort(-sims, kind="stable")[: choice.top]
        w = np.maximum(sims[near], 0.0)
        n = np.array([counts.get(refs[i], 0) for i in near], dtype=float)
        estimate[d] = np.log1p(w @ n / w.sum() if w.sum() > 0 else 0.0)
    raw = np.array([[estimate[d] for d in data.instance_drug] for _ in data.contrast_disease])
    sd = raw.std()
    return (raw - raw.mean()) / (sd if sd > 0 else 1.0)


def test_validation_drugs_popularity_holds_no_validation_label(monkeypatch):
    bench = simulate_planted(
        n_diseases=12, n_drugs=30, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=3
    )
    _, _, data, folds, _ = rp._prepare(bench, ["twotower"], "drug", 3, 0, None, None, {})
    fold = folds[0]
    parts = inner_parts(fold, seed=0)
    inner, select = parts.tuning, parts.selection
    # the case that matters: tuning drugs with indications, whose labels are in the outer
    # training part
    assert len(inner.test) > 0 and set(inner.test["drug"]) <= set(fold.train["drug"])
    seen: dict[str, list] = {"train": [], "rank": []}
    real_train, real_rank = rpm.train_matcher, rpm.rank_drugs

    def spy_train(d, train, val, cfg):
        seen["train"].append((d, train, val))
        return real_train(d, train, val, cfg)

    def spy_rank(model, d, diseases, drugs):
        seen["rank"].append((d, tuple(drugs)))
        return real_rank(model, d, diseases, drugs)

    monkeypatch.setattr(rpm, "train_matcher", spy_train)
    monkeypatch.setattr(rpm, "rank_drugs", spy_rank)
    real_features = rpm.with_fold_features

    def spy_features(d, f, prof, choice):
        seen.setdefault("choice", []).append(choice)
        return real_features(d, f, prof, choice)

    monkeypatch.setattr(rpm, "with_fold_features", spy_features)
    rpm.score_label_methods(data, fold, parts, ["twotower"], {}, TINY, 0)
    choice = seen["choice"][0]

    def popularity(d):
        return d.extras[list(d.extra_names).index("popularity_loo")]

    inner_pop = _expected_popularity(data, inner.train, inner.train_drugs, choice)
    outer_pop = _expected_popularity(data, fold.train, fold.train_drugs, choice)
    assert not np.allclose(inner_pop, outer_pop)  # the two sources differ on this fold
    ((d_train, train_fold, val_fold),) = seen["train"]
    assert train_fold is inner and val_fold is inner
    # training and early stopping see the popularity estimated from the inner training labels
    # only: no drug's own indications enter its value, so a tuning drug is treated like a test
    # drug, and the tuning labels enter no value at all
    np.testing.assert_allclose(popularity(d_train), inner_pop, atol=1e-4)
    by_drugs = {drugs: d for d, drugs in seen["rank"]}
    np.testing.assert_allclose(popularity(by_drugs[inner.test_drugs]), inner_pop, atol=1e-4)
    # the selection part is scored with the estimate from the training part without it
    assert len(select.test) > 0
    sel_pop = _expected_popularity(data, select.train, select.train_drugs, choice)
    np.testing.assert_allclose(popularity(by_drugs[select.test_drugs]), sel_pop, atol=1e-4)
    # the test part is scored with the estimate from the whole outer training part
    np.testing.assert_allclose(popularity(by_drugs[fold.test_drugs]), outer_pop, atol=1e-4)
