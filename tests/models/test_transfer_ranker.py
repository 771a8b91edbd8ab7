"""Similarity transfer, the combined ranker, the two-tower's reversal start and popularity negatives."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from exprlab.datasets import check_labels, cosine_reversal, pair_data
from exprlab.evaluate import make_folds
from exprlab.models import (
    ReversalTwoTower,
    SparseRows,
    choose_transfer,
    fit_ranker,
    knn_transfer,
    learned_projection,
    signature_profiles,
    transfer_scores,
    transfer_tables,
)
from exprlab.models._matcher_training import BalancedPairSampler
from exprlab.simulate import simulate_planted


def test_knn_transfer_by_hand():
    # query 0: neighbours r0 (0.9) and r2 (0.3) with top 2; r1 (-0.5) would not count anyway
    sim = np.array([[0.9, -0.5, 0.3], [-0.2, -0.1, -np.inf]])
    labels = np.array([[1, 0], [1, 1], [0, 1]])
    got = knn_transfer(sim, labels, top=2)
    np.testing.assert_allclose(got[0], [0.9 / 1.2, 0.3 / 1.2])
    np.testing.assert_allclose(got[1], [0.0, 0.0])  # no positive neighbour
    np.testing.assert_allclose(knn_transfer(sim, labels, top=1)[0], [1.0, 0.0])


def test_profiles_average_normalised_rows():
    m = np.array([[3.0, 4.0, 0.0], [0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])
    prof = signature_profiles(m, ["b", "b", "a"])
    assert list(prof.names) == ["a", "b"]
    # genes listed by any row: columns 0 and 1 only
    np.testing.assert_allclose(prof.values, [[1.0, 0.0], [0.3, (0.8 + 1.0) / 2]], rtol=1e-6)
    rho = prof.fixed_similarity("spearman")
    assert rho[0, 1] == pytest.approx(stats.spearmanr(prof.values[0], prof.values[1])[0])


def test_learned_projection_spans_the_cross_covariance_directions():
    rng = np.random.default_rng(0)
    for n_items in (10, 80):  # both routes of the thin SVD
        x = rng.normal(size=(30, 200))
        y = (rng.random((30, n_items)) < 0.2).astype(float)
        proj = learned_projection(x, y, rank=4)
        u = np.linalg.svd((x - x.mean(0)).T @ (y - y.mean(0)), full_matrices=False)[0][:, :4]
        cos = np.abs(np.sum(proj / np.linalg.norm(proj, axis=0) * u, axis=0))
        np.testing.assert_allclose(cos, 1.0, atol=1e-6)


@pytest.fixture(scope="module")
def planted():
    sim = simulate_planted(n_diseases=30, n_drugs=60, n_genes=300, n_pathways=10, pathway_size=12, seed=2)
    labels, _ = check_labels(sim)
    data = pair_data(sim)
    drugs = sorted(set(data.instance_drug))
    folds = make_folds(labels, split="disease", n_folds=3, seed=0, drugs=drugs)
    return sim, labels, data, folds


def test_transfer_choice_never_reads_test_labels(planted):
    _, labels, data, folds = planted
    prof = signature_profiles(data.diseases.matrix, data.contrast_disease)
    fold = folds[0]
    a = choose_transfer(fold, prof, seed=0)
    # replace the test part's labels by nonsense: every choice must stay the same
    fake = fold.test.assign(drug=np.roll(fold.test["drug"].to_numpy(), 7))
    b = choose_transfer(type(fold)(**{**fold.__dict__, "test": fake}), prof, seed=0)
    for kind in a:
        assert (a[kind].top, a[kind].blend, a[kind].val_map) == (b[kind].top, b[kind].blend, b[kind].val_map)
    scores = transfer_scores(fold, prof, similarity="cosine", top=3, blend=0.0)
    assert list(scores.index) == list(fold.test_diseases)
    # recompute one disease by hand: cosine of profiles, 3 nearest training diseases
    q = fold.test_diseases[0]
    train = list(fold.train_diseases)
    v = prof.values / np.linalg.norm(prof.values, axis=1, keepdims=True)
    sims = v[prof.rows([q])] @ v[prof.rows(train)].T
    near = np.argsort(-sims[0])[:3]
    w = np.maximum(sims[0, near], 0)
    y = np.array(
        [
            [((fold.train["disease"] == train[i]) & (fold.train["drug"] == d)).any() for d in scores.columns]
            for i in near
        ]
    )
    np.testing.assert_allclose(scores.loc[q].to_numpy(), w @ y / w.sum(), rtol=1e-5)


def test_twotower_starts_as_reversal(planted):
    _, _, data, _ = planted
    torch.manual_seed(0)
    model = ReversalTwoTower(len(data.genes), dim=64, hidden=32)
    got = model.score_pairs(data, np.arange(data.diseases.n_rows), np.arange(data.drugs.n_rows))
    rev = cosine_reversal(data)
    r = stats.pearsonr(got.ravel(), rev.ravel())[0]
    assert r > 0.3, r  # the random projection E Eᵀ keeps about half of the cosine's variance


def test_popularity_negatives_follow_the_positive_drug_frequencies():
    rng = np.random.default_rng(0)
    drugs = [f"d{i}" for i in range(6)]
    dis = [f"q{i}" for i in range(40)]
    from exprlab.models import PairData

    data = PairData(
        genes=["g0", "g1"],
        diseases=SparseRows(np.ones((40, 2))),
        drugs=SparseRows(np.ones((6, 2))),
        contrast_disease=np.array(dis),
        instance_drug=np.array(drugs),
    )
    # d0 indicated for 20 diseases, d1 for 5, d2 for 1, the rest for none
    pos = pd.DataFrame(
        {"disease": dis[:20] + dis[20:25] + dis[25:26], "drug": ["d0"] * 20 + ["d1"] * 5 + ["d2"]}
    )
    sampler = BalancedPairSampler(data, pos, dis, drugs, seed=int(rng.integers(100)), negatives="popularity")
    _, i_rows, y = sampler.sample(20000)
    neg = pd.Series(data.instance_drug[i_rows[y == 0]]).value_counts(normalize=True)
    # a negative (q, d) must not be an indication: d0 can pair with 20 of 40 diseases, d1 35, d2 39
    expect = np.array([20 * 20, 5 * 35, 1 * 39], float)
    expect /= expect.sum()
    np.testing.assert_allclose(neg.reindex(["d0", "d1", "d2"]).to_numpy(), expect, atol=0.02)
    assert set(neg.index) == {"d0", "d1", "d2"}


def test_ranker_weights_the_informative_score_and_beats_its_inputs():
    rng = np.random.default_rng(1)
    dis = [f"q{i}" for i in range(30)]
    drugs = [f"d{i}" for i in range(50)]
    y = rng.random((30, 50)) < 0.1
    y[:, 0] = True
    signal = y + rng.normal(scale=0.8, size=y.shape)
    noise = rng.normal(size=y.shape)
    pos = pd.DataFrame(y, index=dis, columns=drugs)
    feats = {
        "signal": pd.DataFrame(signal, index=dis, columns=drugs),
        "noise": pd.DataFrame(noise, index=dis, columns=drugs),
    }
    ranker = fit_ranker(feats, pos, seed=0)
    w = ranker.weights
    assert w["signal"] > 5 * abs(w["noise"])
    scores = ranker.score(feats)
    # within-disease z-scoring makes the ranking equal to the signal's ranking up to the noise weight
    assert stats.spearmanr(scores.to_numpy().ravel(), signal.ravel())[0] > 0.9


def test_models_saved_before_the_reversal_start_keep_their_sign(tmp_path):
    from exprlab.models import load_matcher, save_matcher

    model = ReversalTwoTower(12, dim=4, hidden=8)
    path = tmp_path / "m.pt"
    save_matcher(model, path)
    assert load_matcher(path)[0].sign == -1.0
    blob = torch.load(path, weights_only=False)
    for key in ("sign", "extra_weight"):  # the configuration an older release wrote
        blob["config"].pop(key)
    torch.save(blob, path)
    old = load_matcher(path)[0]
    assert old.sign == 1.0
    hd, hs = torch.ones(1, 4), torch.ones(1, 5)
    hs[0, 4] = 0.0  # prior column
    assert float(old.pair_logits(hd, hs)) == pytest.approx(-float(model.pair_logits(hd, hs)))


def test_transfer_choice_on_a_disease_cluster_split_keeps_clusters_together(planted, monkeypatch):
    """The inner folds of the choice split by the outer fold's clusters (they raised before)."""
    import exprlab.models._transfer as transfer

    sim, labels, data, _ = planted
    diseases = sorted(set(labels["disease"]))
    clusters = {d: i // 2 for i, d in enumerate(diseases)}  # pairs of "near-duplicate" diseases
    drugs = sorted(set(data.instance_drug))
    folds = make_folds(labels, split="disease-cluster", n_folds=3, seed=0, drugs=drugs, clusters=clusters)
    seen = []

    def recording(*args, **kwargs):
        inner = make_folds(*args, **kwargs)
        seen.extend(inner)
        return inner

    monkeypatch.setattr(transfer, "make_folds", recording)
    prof = signature_profiles(data.diseases.matrix, data.contrast_disease)
    choices = choose_transfer(folds[0], prof, seed=0)
    assert choices and seen
    for inner in seen:
        train = {clusters[d] for d in inner.train_diseases}
        test = {clusters[d] for d in inner.test_diseases}
        assert not train & test, "a cluster straddles an inner split"


def test_held_out_drug_transfer_blends_with_the_neighbours_popularity(planted):
    """On held-out drugs the prior is the popularity of a drug's neighbours, not a constant.

    An unseen drug has no indications; the blend's prior is the weighted mean, over its nearest
    training drugs, of each one's share of the training diseases it is indicated for
    (docs/methods.md §2.6). Recomputed drug by drug from numpy's cosine.
    """
    _, labels, data, _ = planted
    drugs = sorted(set(data.instance_drug))
    fold = make_folds(labels, split="drug", n_folds=3, seed=0, drugs=drugs)[0]
    prof = signature_profiles(data.drugs.matrix, data.instance_drug)
    top, blend = 4, 0.4
    got = transfer_scores(fold, prof, similarity="cosine", top=top, blend=blend)
    assert list(got.index) == list(fold.test_diseases) and list(got.columns) == list(fold.test_drugs)
    unit = prof.values / np.linalg.norm(prof.values, axis=1, keepdims=True)
    ref = list(fold.train_drugs)
    indicated = set(zip(fold.train["disease"], fold.train["drug"], strict=True))
    n_train = {r: int((fold.train["drug"] == r).sum()) for r in ref}
    for d in fold.test_drugs:
        sims = unit[prof.rows(ref)] @ unit[prof.rows([d])[0]]
        near = np.argsort(-sims, kind="stable")[:top]
        w = np.maximum(sims[near], 0.0)
        share = np.array(
            [sum(w[k] * ((q, ref[i]) in indicated) for k, i in enumerate(near)) / w.sum() for q in got.index]
        )
        prior = sum(w[k] * n_train[ref[i]] / len(fold.train_diseases) for k, i in enumerate(near)) / w.sum()
        expected = (1 - blend) * share + blend * prior
        np.testing.assert_allclose(got[d].to_numpy(), expected, rtol=1e-5, atol=1e-9)
    # the prior orders the drugs: with blend 1 two drugs differ when their neighbours do
    prior = transfer_scores(fold, prof, similarity="cosine", top=top, blend=1.0)
    assert prior.nunique(axis=1).min() > 1
    # and reads no test label: the test part's diseases are those with a test indication, and
    # a test part listing fewer of them leaves every drug's prior as it was
    half = list(fold.test_diseases)[: len(fold.test_diseases) // 2]
    fewer = replace(fold, test=fold.test[fold.test["disease"].isin(half)], test_diseases=tuple(half))
    pd.testing.assert_frame_equal(
        transfer_scores(fewer, prof, similarity="cosine", top=top, blend=1.0), prior.loc[half]
    )


def test_transfer_tables_give_each_blend_of_one_neighbour_search(planted):
    _, labels, data, folds = planted
    drug_fold = make_folds(labels, split="drug", n_folds=3, seed=0, drugs=sorted(set(data.instance_drug)))[0]
    for fold, matrix, names in (
        (folds[0], data.diseases.matrix, data.contrast_disease),
        (drug_fold, data.drugs.matrix, data.instance_drug),
    ):
        prof = signature_profiles(matrix, names)
        tables = transfer_tables(fold, prof, similarity="spearman", top=3, blends=(1.0, 0.0, 0.3))
        for table, blend in zip(tables, (1.0, 0.0, 0.3), strict=True):
            one = transfer_scores(fold, prof, similarity="spearman", top=3, blend=blend)
            pd.testing.assert_frame_equal(table, one)
        # a blend is the mix of the prior alone and the transfer alone
        np.testing.assert_allclose(tables[2], 0.7 * tables[1] + 0.3 * tables[0], rtol=1e-12)
