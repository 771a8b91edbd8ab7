"""Inner parts of an outer fold: tuning and selection halves, disjoint from each other and the test."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold, KFold

from exprlab.errors import InputDataError
from exprlab.evaluate import inner_parts, inner_validation, make_folds


def _pairs(n_diseases=30, n_drugs=40, per_disease=3, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (f"dis{q:02d}", f"drug{d:02d}")
        for q in range(n_diseases)
        for d in rng.choice(n_drugs, size=per_disease, replace=False)
    ]
    return pd.DataFrame(rows, columns=["disease", "drug"])


def _pair_set(table: pd.DataFrame) -> set:
    return set(zip(table["disease"], table["drug"], strict=True))


def test_disease_halves_match_a_from_scratch_group_split_and_touch_nothing_else():
    pairs = _pairs()
    outer = make_folds(pairs, split="disease", n_folds=5, seed=2)[1]
    parts = inner_parts(outer, fraction=0.2, seed=7)
    # from scratch with scikit-learn: the validation part is the first of 5 grouped folds of the
    # training diseases, cut again into two grouped halves with the same seed
    groups = np.array(sorted(set(outer.train["disease"])))
    _, held = next(GroupKFold(5, shuffle=True, random_state=7).split(groups, groups=groups))
    (_, tune_at), (_, select_at) = GroupKFold(2, shuffle=True, random_state=7).split(
        groups[held], groups=groups[held]
    )
    tuning, selection = set(groups[held][tune_at]), set(groups[held][select_at])
    assert set(parts.tuning.test_diseases) == tuning
    assert set(parts.selection.test_diseases) == selection
    assert selection and tuning
    # the selection diseases are in no part that trains, stops or tunes, nor in the test part
    used = set(parts.tuning.train["disease"]) | set(parts.tuning.test["disease"])
    used |= set(parts.tuning.train_diseases) | set(parts.selection.train["disease"])
    assert not selection & used
    assert not selection & set(outer.test_diseases)
    assert not selection & set(outer.test["disease"])
    # the inner training part is the one inner_validation holds; the three parts tile the labels
    assert _pair_set(parts.tuning.train) == _pair_set(inner_validation(outer, fraction=0.2, seed=7).train)
    whole = _pair_set(parts.tuning.train) | _pair_set(parts.tuning.test) | _pair_set(parts.selection.test)
    assert whole == _pair_set(outer.train)
    assert _pair_set(parts.selection.train) == _pair_set(outer.train) - _pair_set(parts.selection.test)


def test_drug_selection_drugs_reach_no_training_tuning_or_test_part():
    pairs = _pairs(n_diseases=25, n_drugs=60, per_disease=4, seed=1)
    outer = make_folds(pairs, split="drug", n_folds=4, seed=0, drugs=[f"drug{d:02d}" for d in range(60)])[0]
    parts = inner_parts(outer, fraction=0.25, seed=3)
    selection = set(parts.selection.test_drugs)
    assert selection and set(parts.tuning.test_drugs)
    used = set(parts.tuning.train_drugs) | set(parts.tuning.test_drugs)
    used |= set(parts.tuning.train["drug"]) | set(parts.selection.train["drug"])
    used |= set(parts.selection.train_drugs)
    assert not selection & used
    assert not selection & set(outer.test_drugs)
    # every selection indication is an outer training label, read by no other part
    assert _pair_set(parts.selection.test) <= _pair_set(outer.train)
    assert set(parts.selection.test["drug"]) <= selection


def test_clusters_stay_whole_across_the_inner_parts():
    pairs = _pairs(n_diseases=40, seed=4)
    clusters = {f"dis{q:02d}": q // 2 for q in range(40)}  # pairs of near-duplicates
    outer = make_folds(pairs, split="disease-cluster", n_folds=4, seed=0, clusters=clusters)[2]
    parts = inner_parts(outer, fraction=0.25, seed=5)
    sel = {clusters[d] for d in parts.selection.test_diseases}
    tune = {clusters[d] for d in parts.tuning.test_diseases}
    train = {clusters[d] for d in parts.tuning.train["disease"]}
    test = {clusters[d] for d in outer.test_diseases}
    assert sel and tune
    assert not sel & tune and not sel & train and not sel & test and not tune & train


def test_pair_selection_pairs_are_in_no_other_part():
    pairs = _pairs(seed=6)
    outer = make_folds(pairs, split="pair", n_folds=5, seed=1)[0]
    parts = inner_parts(outer, fraction=0.2, seed=2)
    # from scratch: the first of 5 shuffled pair folds, halved
    train = outer.train.reset_index(drop=True)
    _, held = next(KFold(5, shuffle=True, random_state=2).split(np.arange(len(train))))
    (_, tune_at), (_, select_at) = KFold(2, shuffle=True, random_state=2).split(held)
    assert _pair_set(parts.selection.test) == _pair_set(train.iloc[held[select_at]])
    assert _pair_set(parts.tuning.test) == _pair_set(train.iloc[held[tune_at]])
    sel = _pair_set(parts.selection.test)
    assert not sel & (_pair_set(parts.tuning.train) | _pair_set(parts.tuning.test) | _pair_set(outer.test))


def test_a_validation_part_of_one_disease_cannot_be_cut():
    pairs = _pairs(n_diseases=4)
    outer = make_folds(pairs, split="disease", n_folds=2, seed=0)[0]  # 2 training diseases
    with pytest.raises(InputDataError, match="holds 1 disease.*tuning part and a selection part"):
        inner_parts(outer, fraction=0.5, seed=0)


def test_a_half_without_an_indication_is_a_clear_error():
    # drug split: fold 0 trains on drugs u, x, y; only x and y are indicated, so a cut of its
    # validation part can leave a half with no indication (seed 3 empties the selection half,
    # seed 1 the tuning half)
    pairs = pd.DataFrame({"disease": ["a", "b", "c", "a"], "drug": ["x", "x", "y", "z"]})
    fold = make_folds(pairs, split="drug", n_folds=2, seed=0, drugs=["u", "v", "w", "x", "y", "z"])[0]
    assert fold.train_drugs == ("u", "x", "y")
    with pytest.raises(
        InputDataError, match="the selection part of fold 0 of the drug split has 0 test"
    ) as err:
        inner_parts(fold, fraction=0.5, seed=3)
    assert "raise the validation fraction" in str(err.value)
    with pytest.raises(InputDataError, match="the tuning part of fold 0 of the drug split has 0 test"):
        inner_parts(fold, fraction=0.5, seed=1)
