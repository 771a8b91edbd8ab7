"""The learned models' label pair features: inner training labels to train and stop, selection-free for selection, outer for test."""

import numpy as np
import pandas as pd

from exprlab.evaluate import inner_parts
from exprlab.models import TrainConfig
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


def _expected_popularity(data, pairs: pd.DataFrame) -> np.ndarray:
    """Leave-one-out popularity log(1 + n_d - y_qd) of every (contrast, perturbation), z-scored.

    Written from the definition in docs/methods.md §2.2, loop by loop, without the library.
    """
    counts = pairs["drug"].value_counts().to_dict()
    known = set(zip(pairs["disease"], pairs["drug"], strict=True))
    raw = np.array(
        [
            [np.log1p(counts.get(d, 0) - ((q, d) in known)) for d in data.instance_drug]
            for q in data.contrast_disease
        ]
    )
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
    rpm.score_label_methods(data, fold, parts, ["twotower"], {}, TINY, 0)

    def popularity(d):
        return d.extras[list(d.extra_names).index("popularity_loo")]

    inner_pop = _expected_popularity(data, inner.train)
    outer_pop = _expected_popularity(data, fold.train)
    assert not np.allclose(inner_pop, outer_pop)  # the two sources differ on this fold
    ((d_train, train_fold, val_fold),) = seen["train"]
    assert train_fold is inner and val_fold is inner
    # training and early stopping see the popularity of the inner training labels only: every
    # validation drug has none, as every test drug has none at test time
    np.testing.assert_allclose(popularity(d_train), inner_pop, atol=1e-5)
    by_drugs = {drugs: d for d, drugs in seen["rank"]}
    np.testing.assert_allclose(popularity(by_drugs[inner.test_drugs]), inner_pop, atol=1e-5)
    # the selection part is scored with the popularity of the training part without it: a
    # selection drug has none, like a test drug
    assert len(select.test) > 0
    sel_pop = _expected_popularity(data, select.train)
    np.testing.assert_allclose(popularity(by_drugs[select.test_drugs]), sel_pop, atol=1e-5)
    # the test part is scored with the popularity of the whole outer training part
    np.testing.assert_allclose(popularity(by_drugs[fold.test_drugs]), outer_pop, atol=1e-5)
