"""Matchers: sparse encoders equal dense layers, all-pairs scoring, ranking rule, resumable training."""

import numpy as np
import pandas as pd
import pytest
import torch

from exprlab.datasets import check_labels, cosine_reversal, pair_data
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.evaluate._splits import inner_validation, make_folds
from exprlab.models._matcher_training import (
    TrainConfig,
    load_matcher,
    save_matcher,
    select_genes,
    train_matcher,
)
from exprlab.models._matchers import (
    PairData,
    PaperMatcher,
    ReversalTwoTower,
    SeedEnsemble,
    SparseRows,
    aggregate_scores,
)
from exprlab.simulate import simulate_planted


def test_ranking_rule_max_over_perturbations_sum_over_contrasts():
    # contrasts c0,c1 of disease A, c2 of B; instances i0,i1 of drug x, i2 of drug y
    s = np.array([[1.0, 5.0, 2.0], [3.0, -1.0, 4.0], [0.5, 0.2, 0.9]])
    out = aggregate_scores(s, np.array(["A", "A", "B"]), np.array(["x", "x", "y"]))
    expected = pd.DataFrame([[5 + 3, 2 + 4], [0.5, 0.9]], index=["A", "B"], columns=["x", "y"])
    pd.testing.assert_frame_equal(out, expected)
    mean = aggregate_scores(
        s, np.array(["A", "A", "B"]), np.array(["x", "x", "y"]), instance_rule="mean", contrast_rule="mean"
    )
    assert mean.loc["A", "x"] == pytest.approx(((1 + 5) / 2 + (3 - 1) / 2) / 2)
    with pytest.raises(InvalidParameterError):
        aggregate_scores(s, np.array(["A", "A", "B"]), np.array(["x", "x", "y"]), instance_rule="min")


def _toy_data(n_genes=30, seed=0):
    rng = np.random.default_rng(seed)
    dis = rng.standard_normal((4, n_genes)) * (rng.random((4, n_genes)) < 0.3)
    drg = np.sign(rng.standard_normal((5, n_genes))) * (rng.random((5, n_genes)) < 0.2)
    return (
        PairData(
            genes=[f"g{i}" for i in range(n_genes)],
            diseases=SparseRows(dis),
            drugs=SparseRows(drg),
            contrast_disease=np.array(["A", "A", "B", "C"]),
            instance_drug=np.array(["x", "x", "y", "z", "w"]),
        ),
        dis,
        drg,
    )


def test_paper_network_equals_dense_definition():
    data, dis, drg = _toy_data()
    torch.manual_seed(0)
    m = PaperMatcher(30, hidden=8, fusion=4)
    rows_c, rows_i = np.array([0, 2, 3]), np.array([1, 4, 0])
    hd = m.encode_disease(data.diseases.bag(rows_c))
    hs = m.encode_drug(data.drugs.bag(rows_i))
    logits = m.pair_logits(hd, hs).detach().numpy()
    # from scratch: dense Linear layers with the same weights
    Wd, bd = m.dis_enc.weight.detach().numpy().T, m.dis_bias.detach().numpy()
    Ws, bs = m.drug_enc.weight.detach().numpy().T, m.drug_bias.detach().numpy()
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    h_d = relu(dis[rows_c] @ Wd.T + bd)
    h_s = relu(drg[rows_i] @ Ws.T + bs)
    z = relu(np.hstack([h_s, h_d]) @ m.fuse.weight.detach().numpy().T + m.fuse.bias.detach().numpy())
    expected = z @ m.out.weight.detach().numpy()[0] + m.out.bias.item()
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    # initialisation follows nn.Linear(genes, hidden): |w| <= 1/sqrt(genes)
    assert float(m.dis_enc.weight.detach().abs().max()) <= 1 / np.sqrt(30)


@pytest.mark.parametrize("cls", [PaperMatcher, ReversalTwoTower])
def test_all_pairs_scores_equal_pair_logits(cls):
    data, _, _ = _toy_data()
    torch.manual_seed(1)
    m = cls(30, hidden=8) if cls is PaperMatcher else cls(30, dim=4, hidden=8)
    full = m.score_pairs(data, np.arange(4), np.arange(5))
    from exprlab.models._matcher_training import data_rows

    c, i = np.meshgrid(np.arange(4), np.arange(5), indexing="ij")
    hd = m.encode_disease(data_rows(m, data, "diseases").bag(c.ravel()))
    hs = m.encode_drug(data_rows(m, data, "drugs").bag(i.ravel()))
    pair = m.pair_logits(hd, hs).detach().numpy().reshape(4, 5)
    np.testing.assert_allclose(full, pair, rtol=1e-5, atol=1e-5)
    ens = SeedEnsemble([m, m]).score_pairs(data, np.arange(4), np.arange(5))
    np.testing.assert_allclose(ens, full, rtol=1e-6)
    with pytest.raises(InputDataError):
        SeedEnsemble([])


def test_cosine_reversal_matches_numpy():
    data, dis, drg = _toy_data()
    got = cosine_reversal(data)
    norm = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(got, -(norm(dis) @ norm(drg).T), rtol=1e-5, atol=1e-6)


def _small_setup():
    sim = simulate_planted(
        n_diseases=24, n_drugs=40, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=3
    )
    labels, _ = check_labels(sim)
    data = pair_data(sim)
    fold = make_folds(labels, split="disease", n_folds=3, seed=0, drugs=sorted(set(data.instance_drug)))[0]
    inner = inner_validation(fold, seed=0)
    return data, inner


def _cfg(**kw):
    base = dict(
        arch="twotower",
        options={"dim": 8, "hidden": 16},
        max_epochs=4,
        steps_per_epoch=3,
        batch_size=32,
        patience=10,
        seed=5,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_interrupted_training_resumes_to_identical_weights(tmp_path):
    data, inner = _small_setup()
    straight = train_matcher(data, inner, inner, _cfg())

    class Stop(Exception):
        pass

    def interrupt(epoch, _):
        if epoch == 2:
            raise Stop

    ck = tmp_path / "ck.pt"
    with pytest.raises(Stop):
        train_matcher(data, inner, inner, _cfg(), checkpoint=ck, on_epoch=interrupt)
    assert ck.exists()
    resumed = train_matcher(data, inner, inner, _cfg(), checkpoint=ck)
    for (k, a), (_, b) in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k
    assert list(straight.history["val_map"]) == list(resumed.history["val_map"])
    with pytest.raises(InvalidParameterError, match="options"):
        train_matcher(data, inner, inner, _cfg(lr=0.5), checkpoint=ck)


def test_early_stopping_on_validation_map_returns_best_epoch(tmp_path):
    data, inner = _small_setup()
    res = train_matcher(data, inner, inner, _cfg(max_epochs=40, patience=2, lr=0.3))
    h = res.history
    assert len(h) < 40  # stopped early
    assert res.best_val_map == pytest.approx(h["val_map"].max())
    assert res.best_epoch == int(h.loc[h["val_map"].idxmax(), "epoch"])
    # the last `patience` epochs did not improve on the best
    assert (h["val_map"].iloc[-2:] <= res.best_val_map).all()
    save_matcher(res.model, tmp_path / "m.pt")
    loaded, _ = load_matcher(tmp_path / "m.pt")
    np.testing.assert_allclose(
        loaded.score_pairs(data, np.arange(3), np.arange(6)),
        res.model.score_pairs(data, np.arange(3), np.arange(6)),
    )


def test_gene_space_uses_training_rows_only():
    data, dis, drg = _toy_data()
    cols = select_genes(
        data, contrast_rows=np.array([0]), instance_rows=np.arange(5), max_genes=100, min_count=1
    )
    assert set(cols) == set(np.flatnonzero((dis[0] != 0) & ((drg != 0).sum(0) >= 1)))
    assert (
        len(
            select_genes(
                data, contrast_rows=np.arange(4), instance_rows=np.arange(5), max_genes=3, min_count=1
            )
        )
        == 3
    )


def test_normalised_inputs_follow_each_gene_subset():
    data, dis, drg = _toy_data()
    torch.manual_seed(2)
    m = ReversalTwoTower(10, dim=4, hidden=8)
    scores = []
    for cols in (np.arange(10), np.arange(10, 20)):
        sub = data.subset_genes(cols)
        scores.append(m.score_pairs(sub, np.arange(4), np.arange(5)))
        fresh = PairData(
            genes=sub.genes,
            diseases=SparseRows(dis[:, cols]),
            drugs=SparseRows(drg[:, cols]),
            contrast_disease=data.contrast_disease,
            instance_drug=data.instance_drug,
        )
        np.testing.assert_allclose(scores[-1], m.score_pairs(fresh, np.arange(4), np.arange(5)))
    assert not np.allclose(scores[0], scores[1])
