"""Retrieval metrics: hand-worked values, exact random expectations, intervals, paired tests."""

from itertools import combinations
from math import log2

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InputDataError
from exprlab.evaluate._retrieval import (
    METRICS,
    bootstrap_summary,
    expected_random_metrics,
    mean_average_precision,
    paired_tests,
    per_disease_metrics,
    random_per_disease,
    ranking_metrics,
    ratio_interval,
)


def test_hand_worked_example():
    # 12 candidates, positives ranked 2nd, 5th and 11th (scores strictly decreasing)
    scores = np.arange(12, 0, -1, dtype=float)
    labels = np.zeros(12, bool)
    labels[[1, 4, 10]] = True
    m = ranking_metrics(scores, labels)
    # AP = (1/2 + 2/5 + 3/11) / 3
    assert m["average_precision"] == pytest.approx((1 / 2 + 2 / 5 + 3 / 11) / 3)
    assert m["reciprocal_rank"] == pytest.approx(1 / 2)
    assert m["precision_at_10"] == pytest.approx(2 / 10)
    assert m["recall_at_10"] == pytest.approx(2 / 3)
    assert m["precision_at_50"] == pytest.approx(3 / 50)
    assert m["recall_at_50"] == pytest.approx(1.0)
    assert m["hits_at_10"] == 1.0
    dcg = 1 / log2(3) + 1 / log2(6)
    idcg = 1 + 1 / log2(3) + 1 / log2(4)
    assert m["ndcg_at_10"] == pytest.approx(dcg / idcg)
    # AUC: each positive beats the negatives ranked below it: 8, 6 and 1 of 9 negatives
    assert m["roc_auc"] == pytest.approx((8 + 6 + 1) / 27)


def _brute_force(n, r):
    """Mean of each metric over every placement of r positives among n ranks (from scratch)."""
    sums = dict.fromkeys(METRICS, 0.0)
    count = 0
    for placed in combinations(range(n), r):
        y = np.zeros(n, bool)
        y[list(placed)] = True
        pos = np.flatnonzero(y) + 1
        ap = np.mean([(i + 1) / p for i, p in enumerate(pos)])
        k10 = min(10, n)
        dcg = sum(1 / log2(p + 1) for p in pos if p <= 10)
        idcg = sum(1 / log2(i + 2) for i in range(min(r, k10)))
        neg_after = [(~y[p:]).sum() for p in pos]
        vals = {
            "average_precision": ap,
            "precision_at_10": y[:10].sum() / 10,
            "precision_at_50": y[:50].sum() / 50,
            "recall_at_10": y[:10].sum() / r,
            "recall_at_50": y[:50].sum() / r,
            "reciprocal_rank": 1 / pos[0],
            "ndcg_at_10": dcg / idcg,
            "roc_auc": sum(neg_after) / (r * (n - r)),
            "hits_at_10": float(y[:10].any()),
        }
        for k, v in vals.items():
            sums[k] += v
        count += 1
    return {k: v / count for k, v in sums.items()}


@pytest.mark.parametrize("n,r", [(6, 2), (12, 3), (13, 1)])
def test_random_expectation_is_exact(n, r):
    expected = _brute_force(n, r)
    got = expected_random_metrics(n, r)
    for k in METRICS:
        assert got[k] == pytest.approx(expected[k], rel=1e-9), k


@pytest.mark.slow
def test_ties_are_broken_at_random_and_average_to_the_expectation():
    labels = np.zeros(8, bool)
    labels[[0, 3]] = True
    aps = [ranking_metrics(np.zeros(8), labels, seed=s)["average_precision"] for s in range(1500)]
    assert np.mean(aps) == pytest.approx(expected_random_metrics(8, 2)["average_precision"], abs=0.01)
    assert ranking_metrics(np.zeros(8), labels, seed=1) == ranking_metrics(np.zeros(8), labels, seed=1)


def test_disease_without_positive_is_excluded_and_counted():
    scores = pd.DataFrame([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]], index=["a", "b"], columns=list("xyz"))
    pos = pd.DataFrame([[True, False, False], [False, False, False]], index=["a", "b"], columns=list("xyz"))
    table, counts = per_disease_metrics(scores, pos)
    assert list(table["disease"]) == ["a"]
    assert counts == {"no_positive": 1, "all_positive": 0}
    assert table["average_precision"].iloc[0] == 1.0
    with pytest.raises(InputDataError, match="positives"):
        ranking_metrics([1.0, 2.0], [False, False])
    with pytest.raises(InputDataError, match="NaN"):
        ranking_metrics([1.0, np.nan], [True, False])
    rnd = random_per_disease(pos)
    assert list(rnd["disease"]) == ["a"]
    assert rnd["average_precision"].iloc[0] == pytest.approx(_brute_force(3, 1)["average_precision"])


def test_mean_average_precision_and_its_empty_case():
    scores = pd.DataFrame([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]], index=["a", "b"], columns=list("xyz"))
    pos = pd.DataFrame([[False, True, False], [False, False, True]], index=["a", "b"], columns=list("xyz"))
    assert mean_average_precision(scores, pos) == pytest.approx((1 / 2 + 1) / 2)
    with pytest.raises(InputDataError):
        mean_average_precision(scores, pos & False)


def _two_methods():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.3, 0.6, 40)
    b = a - 0.2
    rows = [{"method": "good", "disease": f"d{i}", **{m: a[i] for m in METRICS}} for i in range(40)]
    rows += [{"method": "bad", "disease": f"d{i}", **{m: b[i] for m in METRICS}} for i in range(40)]
    return pd.DataFrame(rows), a, b


def test_bootstrap_interval_brackets_mean_and_paired_test():
    df, a, b = _two_methods()
    summary = bootstrap_summary(df, n_boot=500, seed=0)
    good = summary.set_index("method").loc["good"]
    assert good["average_precision"] == pytest.approx(a.mean())
    assert good["average_precision_lo"] < a.mean() < good["average_precision_hi"]
    assert good["n_diseases"] == 40
    # the interval of the mean is narrower than the spread of the values
    assert good["average_precision_hi"] - good["average_precision_lo"] < a.max() - a.min()
    tests = paired_tests(df, "good")
    row = tests.iloc[0]
    assert row["wins"] == 40 and row["losses"] == 0
    assert row["mean_diff"] == pytest.approx(0.2)
    assert row["p_value"] < 1e-6
    r = ratio_interval(df, "good", "bad", n_boot=500)
    assert r["ratio"] == pytest.approx(a.mean() / b.mean())
    assert r["lo"] <= r["ratio"] <= r["hi"]
    with pytest.raises(InputDataError):
        bootstrap_summary(df.iloc[:0])
