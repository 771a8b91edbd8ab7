"""Method choice on the selection part: labels no method trained, stopped, tuned or fitted on."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold
from tests._planted_inputs import SMALL_LEARNED

from exprlab.errors import InputDataError
from exprlab.simulate import simulate_planted
from exprlab.workflows import _repurposing as rp
from exprlab.workflows import _repurposing_methods as rpm

METHODS = ["random", "popularity", "xsum", "transfer_cosine", "paper", "twotower", "ranker"]
SEED = 3


def _selection_diseases(fold) -> set:
    """From scratch: the validation part is the first of 5 grouped folds of the training diseases
    (fraction 0.2), and the selection part its second grouped half, both with the run's seed."""
    groups = np.array(sorted(set(fold.train["disease"])))
    _, held = next(GroupKFold(5, shuffle=True, random_state=SEED).split(groups, groups=groups))
    halves = list(GroupKFold(2, shuffle=True, random_state=SEED).split(groups[held], groups=groups[held]))
    return set(groups[held][halves[1][1]])


@pytest.fixture(scope="module")
def spied_run():
    """A held-out-disease run that records the labels every fitting step reads."""
    bench = simulate_planted(
        n_diseases=48, n_drugs=30, n_pathways=6, pathway_size=10, n_genes=150, set_size=10, seed=8
    )
    read: dict[int, set] = {}  # outer fold -> diseases whose labels a fit, stop or tuning read
    folds: dict[int, object] = {}  # folds are scored one after another (n_jobs=1): the last is current
    mp = pytest.MonkeyPatch()
    real_train, real_choose, real_fit = rpm.train_matcher, rpm.choose_transfer, rpm.fit_ranker
    real_parts = rp.inner_parts

    def parts(fold, **kw):
        folds[fold.index] = fold
        read[fold.index] = set()
        return real_parts(fold, **kw)

    def current() -> set:
        return read[list(folds)[-1]]

    def train(d, train_fold, val_fold, cfg):
        current().update(train_fold.train["disease"], val_fold.test["disease"])
        return real_train(d, train_fold, val_fold, cfg)

    def choose(fold, profiles, **kw):
        current().update(fold.train["disease"])
        return real_choose(fold, profiles, **kw)

    def fit(features, positives, **kw):  # the ranker: the diseases whose positives it fits
        current().update(positives.index[positives.any(axis=1).to_numpy()])
        return real_fit(features, positives, **kw)

    mp.setattr(rp, "inner_parts", parts)
    mp.setattr(rpm, "train_matcher", train)
    mp.setattr(rpm, "choose_transfer", choose)
    mp.setattr(rpm, "fit_ranker", fit)
    try:
        result = rp.run_benchmark(
            bench, split="disease", n_folds=4, seed=SEED, methods=METHODS, settings=SMALL_LEARNED, n_boot=200
        )
    finally:
        mp.undo()
    return result, folds, read


def test_selection_diseases_are_read_by_no_fit_and_are_not_test_diseases(spied_run):
    _, folds, read = spied_run
    assert sorted(folds) == [0, 1, 2, 3]
    for k, fold in folds.items():
        selection = _selection_diseases(fold)
        assert selection and read[k]
        # training, early stopping, transfer tuning and the ranker's fit never read them
        assert not selection & read[k], k
        assert not selection & set(fold.test_diseases)


def test_choice_follows_the_mean_selection_map(spied_run):
    result, _, _ = spied_run
    per_fold = result.validation
    assert list(per_fold.columns) == ["method", "fold", "val_map", "sel_map"]
    assert len(per_fold) == len(METHODS) * 4
    assert per_fold.loc[per_fold["method"] != "random", "sel_map"].notna().all()
    means = per_fold.groupby("method")["sel_map"].mean()
    metrics = result.metrics.set_index("method")
    np.testing.assert_allclose(metrics.loc[means.index, "sel_map"], means.to_numpy())
    learned = means[["paper", "twotower", "ranker"]]
    best = learned.idxmax()
    assert set(result.ratios["numerator"]) == {best}
    assert set(result.tests["reference"]) == {best}
    conn = result.ratios.loc[result.ratios["denominator"] == "xsum"]
    assert len(conn) == 1


def test_comparisons_choose_by_the_series_they_are_given():
    per = pd.DataFrame(
        {
            "method": ["popularity", "xsum", "paper", "twotower"] * 3,
            "fold": 0,
            "disease": np.repeat(["a", "b", "c"], 4),
            "average_precision": [0.2, 0.1, 0.3, 0.5, 0.3, 0.1, 0.4, 0.6, 0.2, 0.2, 0.5, 0.4],
            "ndcg_at_10": 0.5,
        }
    )
    # the network best on test (twotower) is not chosen: paper has the higher selection MAP
    selection = pd.Series({"popularity": 0.3, "xsum": 0.1, "paper": 0.4, "twotower": 0.35})
    _, ratios = rp._comparisons(per, selection, n_boot=50, seed=0)
    assert set(ratios["numerator"]) == {"paper"}
    # by hand: paper 0.4 on average against popularity 0.7 / 3
    row = ratios.set_index("denominator").loc["popularity"]
    assert row["ratio"] == pytest.approx(1.2 / 0.7)


def test_a_run_whose_validation_part_cannot_be_cut_fails_clearly():
    bench = simulate_planted(n_diseases=4, n_drugs=12, n_genes=100, n_pathways=4, seed=1)
    settings = rp.LearnedSettings(validation_fraction=0.5)
    with pytest.raises(InputDataError, match="tuning part and a selection part"):
        rp.run_benchmark(bench, split="disease", n_folds=2, methods=["popularity"], settings=settings)
