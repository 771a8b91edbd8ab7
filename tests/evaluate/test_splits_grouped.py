"""Grouped splits: no leakage of held-out groups, seeded, every group tested once, clear errors."""

import pandas as pd
import pytest

from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.evaluate._splits import inner_validation, make_folds


def _pairs():
    rows = []
    for d in range(12):
        for s in range(d % 4 + 1):
            rows.append({"disease": f"dis{d}", "drug": f"drug{(d + 3 * s) % 15}"})
    return pd.DataFrame(rows)


def test_held_out_disease_never_in_training_and_each_tested_once():
    pairs = _pairs()
    drugs = [f"drug{i}" for i in range(20)]
    folds = make_folds(pairs, split="disease", n_folds=4, seed=3, drugs=drugs)
    seen = []
    for f in folds:
        test = set(f.test_diseases)
        assert not test & set(f.train["disease"])
        assert not test & set(f.train_diseases)
        assert set(f.test["disease"]) == test
        assert len(f.test_drugs) == 20  # every candidate drug is ranked
        seen += list(test)
        pos = f.positives()
        assert pos.to_numpy().sum() == len(f.test)
    assert sorted(seen) == sorted(set(pairs["disease"]))


def test_held_out_drug_covers_all_candidates():
    pairs = _pairs()
    drugs = [f"drug{i}" for i in range(20)]
    folds = make_folds(pairs, split="drug", n_folds=5, seed=0, drugs=drugs)
    tested = [d for f in folds for d in f.test_drugs]
    assert sorted(tested) == sorted(drugs)  # unindicated drugs are candidates too
    for f in folds:
        assert not set(f.test_drugs) & set(f.train["drug"])
        assert not set(f.test_drugs) & set(f.train_drugs)


def test_pair_split_removes_known_training_pairs_from_candidates():
    pairs = _pairs()
    folds = make_folds(pairs, split="pair", n_folds=3, seed=1)
    for f in folds:
        cand = f.candidates()
        for _, r in f.train.iterrows():
            if r["disease"] in cand.index:
                assert not cand.loc[r["disease"], r["drug"]]
        for _, r in f.test.iterrows():
            assert cand.loc[r["disease"], r["drug"]]
    assert sum(len(f.test) for f in folds) == len(pairs)


def test_seed_determines_folds():
    pairs = _pairs()
    a = [f.test_diseases for f in make_folds(pairs, n_folds=3, seed=7)]
    b = [f.test_diseases for f in make_folds(pairs, n_folds=3, seed=7)]
    c = [f.test_diseases for f in make_folds(pairs, n_folds=3, seed=8)]
    assert a == b
    assert a != c


def test_inner_validation_is_inside_training_part():
    pairs = _pairs()
    for split in ("disease", "drug", "pair"):
        fold = make_folds(pairs, split=split, n_folds=3, seed=0)[0]
        inner = inner_validation(fold, fraction=0.25, seed=0)
        outer_test = set(map(tuple, fold.test[["disease", "drug"]].to_numpy()))
        inner_all = set(map(tuple, pd.concat([inner.train, inner.test])[["disease", "drug"]].to_numpy()))
        assert not outer_test & inner_all
        if split == "disease":
            assert not set(inner.test_diseases) & set(fold.test_diseases)


def test_empty_fold_and_bad_options_are_clear_errors():
    pairs = _pairs().head(3)  # 3 diseases
    with pytest.raises(InputDataError, match="fold"):
        make_folds(pairs, split="disease", n_folds=5)
    with pytest.raises(InvalidParameterError, match="split"):
        make_folds(pairs, split="cell")
    with pytest.raises(InvalidParameterError):
        make_folds(pairs, n_folds=1)
    with pytest.raises(InputDataError, match="empty"):
        make_folds(pairs.iloc[:0])
    with pytest.raises(InputDataError, match="column"):
        make_folds(pairs.rename(columns={"drug": "compound"}))
