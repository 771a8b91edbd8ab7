"""Stability statistics of gene rankings: planted rankings, hand counts, closed-form IG."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.explain import (
    class_scores,
    integrated_gradients,
    linear_weights,
    logit_attributions,
    natural_order,
    pairwise_jaccard,
    rank_intervals,
    rank_scores,
    resample_draws,
    selection_frequency,
    split_half_jaccard,
    stability_selected_ranks,
    welch_scores,
)
from exprlab.models import MLP, LogisticRegression

# three draws ranking five genes (1 = best); top 2 sets: {0,1}, {0,2}, {1,0}
PLANTED = np.array(
    [
        [1, 2, 3, 4, 5],
        [1, 3, 2, 5, 4],
        [2, 1, 4, 3, 5],
    ],
    dtype=float,
)


def test_selection_frequency_by_hand():
    np.testing.assert_allclose(selection_frequency(PLANTED, 2), [1.0, 2 / 3, 1 / 3, 0.0, 0.0])
    np.testing.assert_allclose(selection_frequency(PLANTED, 1), [2 / 3, 1 / 3, 0.0, 0.0, 0.0])


def test_unscored_draw_is_left_out():
    ranks = np.vstack([PLANTED, np.full(5, np.nan)])
    np.testing.assert_allclose(selection_frequency(ranks, 2), [1.0, 2 / 3, 1 / 3, 0.0, 0.0])
    assert np.isnan(selection_frequency(np.full((2, 5), np.nan), 2)).all()


def test_pairwise_jaccard_by_hand():
    # {0,1} vs {0,2}: 1/3; {0,1} vs {0,1}: 1; {0,2} vs {0,1}: 1/3
    expected = np.array([[1, 1 / 3, 1], [1 / 3, 1, 1 / 3], [1, 1 / 3, 1]])
    np.testing.assert_allclose(pairwise_jaccard(PLANTED, 2), expected)
    with_gap = pairwise_jaccard(np.vstack([PLANTED, np.full(5, np.nan)]), 2)
    assert np.isnan(with_gap[3]).all() and np.isnan(with_gap[:, 3]).all()
    np.testing.assert_allclose(with_gap[:3, :3], expected)


def test_rank_intervals_by_hand():
    low, median, high = rank_intervals(PLANTED, (0.0, 100.0))
    np.testing.assert_allclose(low, [1, 1, 2, 3, 4])
    np.testing.assert_allclose(median, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(high, [2, 3, 4, 5, 5])
    # 25th percentile of ranks (1, 1, 2) with linear interpolation: position 0.5 -> 1
    # 75th of gene 1's ranks (1, 2, 3): position 1.5 -> 2.5
    low, _, high = rank_intervals(PLANTED, (25.0, 75.0))
    assert low[0] == 1.0 and high[1] == 2.5


def test_stability_selected_ranks_by_frequency_then_median():
    # frequencies in top 2: gene0 1, gene1 2/3, gene2 1/3, genes 3, 4 zero; medians 4 and 5
    np.testing.assert_allclose(stability_selected_ranks(PLANTED, 2), [1, 2, 3, 4, 5])
    ranks = np.array([[3, 1, 2], [3, 2, 1]], dtype=float)  # genes 1, 2 tie on frequency and median
    np.testing.assert_allclose(stability_selected_ranks(ranks, 2), [3, 1, 2])


def test_split_half_jaccard_identical_and_disjoint_halves():
    same = np.tile(np.arange(1, 11, dtype=float), (6, 1))
    np.testing.assert_allclose(split_half_jaccard(same, 3, n_splits=5), 1.0)
    # two kinds of draws: top 2 {0,1} or {2,3}; halves of 2 draws each, always one of each kind
    a, b = [1, 2, 3, 4, 5], [3, 4, 1, 2, 5]
    ranks = np.array([a, b, a, b], dtype=float)
    values = split_half_jaccard(ranks, 2, n_splits=30, seed=1)
    assert values.shape == (30,) and ((values >= 0) & (values <= 1)).all()
    assert split_half_jaccard(PLANTED[:1], 2).size == 0


def test_rank_scores_by_hand_and_nan_rows():
    scores = np.array([[0.1, 0.5, -1.0, 0.5], [np.nan, 1, 2, 3]])
    ranks = rank_scores(scores)
    np.testing.assert_allclose(ranks[0], [3, 1, 4, 2])  # the tie goes to the first gene
    assert np.isnan(ranks[1]).all()


def test_top_larger_than_genes_is_refused():
    with pytest.raises(InvalidParameterError, match="top"):
        selection_frequency(PLANTED, 6)
    with pytest.raises(InvalidParameterError, match="top"):
        pairwise_jaccard(PLANTED, 0)


def test_welch_scores_equal_the_formula():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(13, 4))
    x[:, 3] = 2.0  # constant gene: t = 0
    y = np.array(["a"] * 5 + ["b"] * 8)
    t = welch_scores(x, y, ["a", "b"])
    inside, rest = x[:5], x[5:]
    with np.errstate(invalid="ignore"):
        by_hand = (inside.mean(0) - rest.mean(0)) / np.sqrt(
            inside.var(0, ddof=1) / 5 + rest.var(0, ddof=1) / 8
        )
    np.testing.assert_allclose(t[0, :3], by_hand[:3], rtol=1e-10)
    np.testing.assert_allclose(t[1, :3], -by_hand[:3], rtol=1e-10)
    assert t[0, 3] == 0.0
    assert np.isnan(welch_scores(x, y, ["a", "c"])[1]).all()  # a class without samples


def test_class_scores_signed_mean_and_missing_class():
    a = np.array([[1.0, -2.0], [3.0, 0.0], [5.0, 5.0]])
    scores = class_scores(a, ["x", "x", "y"], ["x", "y", "z"])
    np.testing.assert_allclose(scores[0], [2.0, -1.0])
    np.testing.assert_allclose(scores[1], [5.0, 5.0])
    assert np.isnan(scores[2]).all()
    pooled = class_scores(a, ["x", "x", "y"], ["x"], rule="pooled", top=1)
    assert pooled[0, 0] > 1.5 and pooled[0, 1] < 0.5  # gene 0 tops both rows of class x


def test_natural_order():
    assert natural_order(["C10", "C2", "C1", "C2"]) == ["C1", "C2", "C10"]


def _double(module):
    module = module.double().eval()
    return module


def test_closed_form_linear_ig_equals_numeric_ig():
    torch.manual_seed(0)
    lr = _double(LogisticRegression(7, 3))
    rng = np.random.default_rng(0)
    x, base = rng.normal(size=(5, 7)), rng.normal(size=7)
    targets = np.array([0, 2, 1, 1, 0])
    closed = logit_attributions(lr, x, targets, base)
    numeric = integrated_gradients(
        lr,
        torch.from_numpy(x),
        torch.from_numpy(base),
        target=torch.from_numpy(targets),
        n_steps=64,
        output="logit",
        path="generic",
    )
    np.testing.assert_allclose(closed, numeric, rtol=1e-6, atol=1e-9)
    weight = lr[1].weight.detach().numpy()
    np.testing.assert_allclose(closed, (x - base) * weight[targets], rtol=1e-12)  # by hand
    np.testing.assert_allclose(linear_weights(lr), weight)


def test_mlp_attributions_are_complete_toward_the_logit():
    torch.manual_seed(1)
    mlp = _double(MLP(6, 3, hidden=5))
    assert linear_weights(mlp) is None
    x = np.random.default_rng(2).normal(size=(4, 6))
    targets = np.array([0, 1, 2, 0])
    a = logit_attributions(mlp, x, targets, None, n_steps=1000)
    with torch.no_grad():
        logits = mlp(torch.from_numpy(x)).numpy()
        at_zero = mlp(torch.zeros(1, 6, dtype=torch.float64)).numpy()
    gap = logits[np.arange(4), targets] - at_zero[0, targets]
    np.testing.assert_allclose(a.sum(axis=1), gap, atol=5e-4)  # ReLU kinks: quadrature error


def test_bootstrap_draws_hold_out_the_out_of_bag_samples():
    y = np.array(["a"] * 6 + ["b"] * 4)
    draws = resample_draws(y, 5, seed=0)
    assert len(draws) == 5
    for d in draws:
        assert d.train.size == 10
        np.testing.assert_array_equal(np.sort(np.union1d(d.train, d.held_out)), np.arange(10))
        assert np.intersect1d(d.train, d.held_out).size == 0
        assert set(y[d.train]) == {"a", "b"}  # stratified: every class drawn


def test_subsample_and_grouped_draws():
    y = np.array(["a"] * 8 + ["b"] * 8)
    for d in resample_draws(y, 4, draw="subsample", fraction=0.5, seed=1):
        assert (y[d.train] == "a").sum() == 4 and (y[d.train] == "b").sum() == 4
    groups = np.repeat([f"s{i}" for i in range(8)], 2)
    for kind in ("bootstrap", "subsample"):
        for d in resample_draws(y, 4, draw=kind, groups=groups, seed=2):
            assert not set(groups[d.train]) & set(groups[d.held_out])


def test_draw_errors():
    with pytest.raises(InvalidParameterError, match="n_draws"):
        resample_draws(["a", "b"], 0)
    with pytest.raises(InputDataError, match="single class"):
        resample_draws(["a", "a", "a"], 3)
    with pytest.raises(InvalidParameterError, match="draw"):
        resample_draws(["a", "b"], 2, draw="jackknife")  # type: ignore[arg-type]
