"""Label x batch confounding statistics and held-out splits."""

from __future__ import annotations

import numpy as np

from exprlab.evaluate import batch_predictability, cv_indices, holdout_indices, label_batch_association


def test_cramers_v_of_a_two_by_two_table_by_hand():
    # table [[30, 10], [10, 30]]: chi2 = n (ad - bc)^2 / (row and column products) = 20, V = sqrt(20 / 80)
    labels = ["x"] * 40 + ["y"] * 40
    batches = ["p"] * 30 + ["q"] * 10 + ["p"] * 10 + ["q"] * 30
    result = label_batch_association(labels, batches)
    assert np.isclose(result["chi2"], 80 * (30 * 30 - 10 * 10) ** 2 / (40 * 40 * 40 * 40))
    assert np.isclose(result["cramers_v"], np.sqrt(20 / 80))
    assert result["dof"] == 1 and not result["perfectly_confounded"] and not result["confounded"]


def test_perfect_confounding_is_flagged():
    labels = ["x"] * 5 + ["y"] * 5
    result = label_batch_association(labels, ["b1"] * 5 + ["b2"] * 3 + ["b3"] * 2)
    assert result["perfectly_confounded"] and result["confounded"]
    assert np.isclose(result["cramers_v"], 1.0)
    balanced = label_batch_association(labels, ["b1", "b2"] * 5)
    assert balanced["cramers_v"] < 0.25 and not balanced["confounded"]


def test_batch_predictability_sees_a_batch_effect_and_not_its_absence():
    rng = np.random.default_rng(0)
    batches = np.repeat(["b1", "b2"], 20)
    x = rng.normal(size=(40, 30))
    assert batch_predictability(x, batches)["balanced_accuracy"] < 0.8
    shifted = x + (batches == "b2")[:, None] * 3.0
    result = batch_predictability(shifted, batches)
    assert result["balanced_accuracy"] == 1.0 and result["chance"] == 0.5


def test_grouped_holdout_keeps_groups_whole_and_is_seeded():
    labels = np.repeat(["a", "b"], 20)
    groups = np.repeat([f"s{i}" for i in range(20)], 2)
    train, test = holdout_indices(labels, test_fraction=0.25, groups=groups, seed=1)
    assert not set(groups[train]) & set(groups[test])
    assert set(np.concatenate([train, test])) == set(range(40))
    again = holdout_indices(labels, test_fraction=0.25, groups=groups, seed=1)
    np.testing.assert_array_equal(test, again[1])
    plain_train, plain_test = holdout_indices(labels, test_fraction=0.25, seed=1)
    assert plain_test.size == 10 and (labels[plain_test] == "a").sum() == 5


def test_cv_tests_every_sample_once_with_groups_whole():
    labels = np.repeat(["a", "b"], 15)
    groups = np.repeat([f"s{i}" for i in range(10)], 3)
    folds = cv_indices(labels, n_folds=5, groups=groups, seed=0)
    tested = np.concatenate([te for _, te in folds])
    assert sorted(tested) == list(range(30))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
