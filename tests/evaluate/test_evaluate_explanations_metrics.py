"""Explanation metrics and aggregation: hand examples and from-scratch recomputations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.evaluate import (
    completeness_stats,
    feature_agreement,
    global_ranking_scores,
    normalize_attributions,
    prediction_gap_curves,
    prediction_gaps,
    topk_stability,
)
from exprlab.explain import (
    PredictionGapModel,
    diffuse_attributions,
    diffusion_operator,
    pathway_scores,
    pathways_to_genes,
    shrink_to_class,
)

# --------------------------------------------------------------------------- feature agreement
ATTR = np.array(
    [
        [0.9, 0.1, 0.5, 0.0, 0.0, 0.0],  # class A, top-2 {0, 2}: 1 of 2 informative
        [0.3, 0.4, 0.0, 0.0, 0.0, 0.0],  # class A, top-2 {0, 1}: 2 of 2
        [0.0, 0.0, 0.0, 0.0, 1.0, 0.0],  # class B, top-1 {4}: 1 of 1
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # class B, misclassified: ignored
    ]
)
LABELS = ["A", "A", "B", "B"]
PRED = ["A", "A", "B", "A"]
TRUTH = {"A": ["g0", "g1"], "B": ["g4"]}
GENES = [f"g{i}" for i in range(6)]


def test_feature_agreement_by_hand():
    fa = feature_agreement(ATTR, LABELS, TRUTH, var_names=GENES, predictions=PRED)
    assert fa.local == pytest.approx((0.75 + 1.0) / 2)
    # class A summed normalised rows: g0 = .9/√1.07 + .6 = 1.47, g1 = .1/√1.07 + .8 = .897,
    # g2 = .5/√1.07 = .483 → top-2 {g0, g1}: FA 1; class B: 1
    assert fa.global_ == pytest.approx(1.0)
    table = fa.per_class.set_index("class")
    assert table.loc["A", "n_examples"] == 2 and table.loc["B", "n_examples"] == 1


def test_misclassified_examples_change_the_result_when_counted():
    fa = feature_agreement(ATTR, LABELS, TRUTH, var_names=GENES)
    assert fa.local == pytest.approx((0.75 + 0.5) / 2)


def test_pooled_global_variant_counts_top_k_votes():
    a = np.array([[1.0, 0.9, 0.0, 0.0], [1.0, 0.0, 0.9, 0.0], [0.0, 0.0, 1.0, 0.95]])
    # top-2 per row: {0,1}, {0,2}, {2,3} → votes g0 2, g2 2, g1 1, g3 1
    votes = global_ranking_scores(a, method="pooled", top=2)
    assert np.rint(votes).tolist() == [2, 1, 2, 1]
    fa = feature_agreement(a, ["c"] * 3, {"c": [0, 2]}, global_method="pooled")
    assert fa.global_ == 1.0
    # the summed ranking differs: g2 (1.9/..) and g0 (2/..) vs g3, g1 → also {0,2} here, but
    # with a single strong gene sum and votes disagree
    b = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.1, 0.0]])
    sums = global_ranking_scores(b, method="sum")
    pooled = global_ranking_scores(b, method="pooled", top=1)
    assert np.argsort(-sums)[:2].tolist() == [0, 2]
    assert np.argsort(-pooled)[0] == 0


def test_absolute_ranking_differs_from_signed():
    a = np.array([[-1.0, 0.5, 0.1]])
    signed = feature_agreement(a, ["c"], {"c": [0]}, ranking="signed")
    absolute = feature_agreement(a, ["c"], {"c": [0]}, ranking="absolute")
    assert signed.local == 0.0 and absolute.local == 1.0


def test_feature_agreement_bad_inputs():
    with pytest.raises(InputDataError, match="not in the data"):
        feature_agreement(ATTR, LABELS, {"A": ["nope"]}, var_names=GENES)
    with pytest.raises(InputDataError, match="NaN"):
        normalize_attributions(np.array([[np.nan, 1.0]]))
    with pytest.raises(InputDataError, match="labels"):
        feature_agreement(ATTR, ["A"], TRUTH, var_names=GENES)
    with pytest.raises(InvalidParameterError):
        feature_agreement(ATTR, LABELS, TRUTH, var_names=GENES, ranking="weird")


# --------------------------------------------------------------------------- prediction gaps
def _softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def brute_force_pg(forward, x, y, order, baseline, gap):
    """PG(x) = (gap/p) Σ_k max(0, f_y(x) − f_y(x̃_k)), one modified input at a time."""
    p = x.size
    full = forward(x)[y]
    total = 0.0
    current = x.copy()
    for k in range(int(np.ceil(p / gap))):
        block = order[k * gap : (k + 1) * gap]
        current[block] = baseline[block]
        total += max(0.0, full - forward(current)[y])
    return total * gap / p


def linear_model(p=25, c=3, seed=0):
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Dropout(0.2), nn.Linear(p, c)).double()
    W = module[1].weight.detach().numpy()
    b = module[1].bias.detach().numpy()
    return module, (lambda x: _softmax(W @ x + b))


@pytest.mark.parametrize("shared", [True, False])
def test_prediction_gap_first_linear_path_matches_brute_force(shared):
    module, forward = linear_model()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 25))
    y = np.array([0, 1, 2, 0])
    base = rng.normal(size=25) * 0.1
    orders = rng.permutation(25) if shared else np.stack([rng.permutation(25) for _ in range(4)])
    model = PredictionGapModel(module, base, gap=10, dtype=torch.float64)
    assert model.linear_path
    pg, _ = prediction_gap_curves(model, x, y, orders)
    for i in range(4):
        order = orders if shared else orders[i]
        assert pg[i] == pytest.approx(
            brute_force_pg(forward, x[i], y[i], order, base, 10), rel=1e-9, abs=1e-12
        )


def test_prediction_gap_generic_path_and_mlp_head_match_brute_force():
    torch.manual_seed(3)
    generic = nn.Sequential(nn.Tanh(), nn.Linear(12, 3)).double().eval()
    mlp = nn.Sequential(nn.Linear(12, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))
    mlp = mlp.double()
    mlp[1].running_mean.normal_()
    mlp[1].running_var.uniform_(0.5, 2.0)
    mlp.eval()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 12))
    y = np.array([2, 0, 1])
    order = rng.permutation(12)
    base = np.zeros(12)
    for module in (generic, mlp):

        def forward(v, module=module):
            with torch.no_grad():
                return torch.softmax(module(torch.as_tensor(v[None, :])), 1)[0].numpy()

        model = PredictionGapModel(module, base, gap=5, dtype=torch.float64)
        assert model.linear_path == (module is mlp)
        pg, _ = prediction_gap_curves(model, x, y, order)
        for i in range(3):
            assert pg[i] == pytest.approx(
                brute_force_pg(forward, x[i], y[i], order, base, 5), rel=1e-9, abs=1e-12
            )


def test_prediction_gaps_summary_orders_and_averaging():
    module, forward = linear_model(p=20, c=2, seed=5)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 20))
    y = np.array([0, 0, 0, 1, 1, 1])
    attr = rng.normal(size=(6, 20))
    base = np.zeros(20)
    res = prediction_gaps(PredictionGapModel(module, base, gap=10), x, y, attr, n_random=5, seed=0)
    per_ex_i = [
        brute_force_pg(forward, x[i], y[i], np.argsort(-attr[i], kind="stable"), base, 10) for i in range(6)
    ]
    per_ex_u = [
        brute_force_pg(forward, x[i], y[i], np.argsort(-attr[i], kind="stable")[::-1], base, 10)
        for i in range(6)
    ]
    # mean per class, then over classes, in %
    expected_i = 100 * (np.mean(per_ex_i[:3]) + np.mean(per_ex_i[3:])) / 2
    expected_u = 100 * (np.mean(per_ex_u[:3]) + np.mean(per_ex_u[3:])) / 2
    assert res["pgi_local"] == pytest.approx(expected_i, rel=1e-5)
    assert res["pgu_local"] == pytest.approx(expected_u, rel=1e-5)
    assert res["path"] == "first-linear"
    again = prediction_gaps(PredictionGapModel(module, base, gap=10), x, y, attr, n_random=5, seed=0)
    assert again["pgr"] == res["pgr"]


def test_pgr_subsample_is_reported():
    module, _ = linear_model(p=20, c=2)
    x = np.random.default_rng(0).normal(size=(10, 20))
    y = np.array([0] * 5 + [1] * 5)
    res = prediction_gaps(PredictionGapModel(module, np.zeros(20)), x, y, x, n_random=3, random_subsample=4)
    assert res["pgr_n_examples"] == 4


def test_prediction_gaps_bad_inputs():
    module, _ = linear_model(p=20, c=2)
    x = np.zeros((2, 20))
    model = PredictionGapModel(module, np.zeros(20))
    with pytest.raises(InputDataError, match="shape"):
        prediction_gaps(model, x, np.array([0, 1]), np.zeros((2, 19)))
    with pytest.raises(InputDataError, match="baseline"):
        prediction_gaps(PredictionGapModel(module, np.zeros(3)), x, np.array([0, 1]), x)
    with pytest.raises(InputDataError, match="no example"):
        prediction_gaps(model, x[:0], np.array([], int), x[:0])


# --------------------------------------------------------------------------- stability etc.
def test_topk_stability_by_hand():
    s1 = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    s2 = np.array([5.0, 3.0, 4.0, 0.0, 1.0])
    table = topk_stability([s1, s2], top=2)
    # top-2 {0,1} vs {0,2}: Jaccard 1/3; on {0,1,2}: 2 concordant, 1 discordant pair → 1/3
    assert table.loc[0, "jaccard"] == pytest.approx(1 / 3)
    assert table.loc[0, "kendall_tau"] == pytest.approx(1 / 3)
    with pytest.raises(InputDataError):
        topk_stability([s1], top=2)


def test_completeness_stats_by_hand():
    attr = np.array([[0.5, 0.5], [0.2, 0.3]])
    stats = completeness_stats(attr, np.array([0.98, 0.5]))
    assert stats["delta_mean"] == pytest.approx(0.01)
    assert stats["delta_max"] == pytest.approx(0.02)
    assert stats["share_above_threshold"] == 0.5


def test_diffusion_by_hand():
    g0 = np.array([1.0, 2.0, 3.0, 4.0])
    data = np.column_stack([g0, 2 * g0, [1.0, -1.0, -1.0, 1.0]])  # g2 uncorrelated with g0, g1
    D = diffusion_operator(data).toarray()
    np.testing.assert_allclose(D, [[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1]], atol=1e-12)
    out = diffuse_attributions(np.array([[1.0, 0.0, 2.0]]), diffusion_operator(data))
    np.testing.assert_allclose(out, [[0.5, 0.5, 2.0]])


def test_pathway_scores_and_back_to_genes():
    attr = np.array([[1.0, 3.0, -2.0, 0.0]])
    sets = {"P1": ["a", "b", "zz"], "P2": ["b", "c"], "P3": ["nothing"]}
    table = pathway_scores(attr, sets, ["a", "b", "c", "d"])
    assert table.columns.tolist() == ["P1", "P2"]
    np.testing.assert_allclose(table.to_numpy(), [[2.0, 0.5]])
    import scipy.sparse as sp

    member = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [0, 0]]))
    genes = pathways_to_genes(table.to_numpy(), member)
    np.testing.assert_allclose(genes, [[2.0, 2.0, 0.5, -0.5]])  # d: in no set → min − 1


def test_gmt_sharing_no_gene_is_an_error():
    with pytest.raises(GeneSpaceError, match="shares a gene") as info:
        pathway_scores(np.ones((1, 3)), {"S": ["X", "Y"]}, ["a", "b", "c"])
    assert "Fix:" in str(info.value)


def test_shrink_to_class_by_hand():
    out = shrink_to_class(np.array([[3.0, 4.0]]), ["c"], {"c": np.array([1.0, 0.0])}, weight=0.5)
    np.testing.assert_allclose(out, [[0.8, 0.4]])
    with pytest.raises(InputDataError, match="no class profile"):
        shrink_to_class(np.array([[3.0, 4.0]]), ["d"], {"c": np.array([1.0, 0.0])})


def test_pathway_scores_over_a_real_gmt(data_dir):
    from exprlab.io._gmt import read_gmt

    sets = read_gmt(data_dir / "genesets" / "h.all.v7.0.symbols.gmt")
    genes = list(sets["HALLMARK_APOPTOSIS"][:5]) + ["NOT_A_GENE"]
    attr = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 100.0]])
    table = pathway_scores(attr, sets, genes)
    assert table.loc[0, "HALLMARK_APOPTOSIS"] == pytest.approx(3.0)  # mean of its 5 genes
    assert "NOT_A_GENE" not in table.columns
    with pytest.raises(GeneSpaceError):
        pathway_scores(attr, sets, [f"G{i}" for i in range(6)])


def test_refine_attributions_shrinks_then_smooths_by_pathway():
    import scipy.sparse as sp

    from exprlab.explain import refine_attributions

    attr = np.array([[3.0, 4.0, 0.0]])  # normalised: [0.6, 0.8, 0]
    profiles = {"c": np.array([0.0, 0.0, 1.0])}
    member = sp.csr_matrix(np.array([[1], [1], [0]]))  # one set {g0, g1}; g2 in no set
    shrunk = refine_attributions(attr, ["c"], profiles, weight=0.5)
    np.testing.assert_allclose(shrunk, [[0.3, 0.4, 0.5]])
    smooth = refine_attributions(attr, ["c"], profiles, weight=0.5, membership=member)
    # set mean (0.3 + 0.4) / 2 = 0.35 for g0 and g1; g2 in no set → row minimum − 1
    np.testing.assert_allclose(smooth, [[0.35, 0.35, -0.65]])
