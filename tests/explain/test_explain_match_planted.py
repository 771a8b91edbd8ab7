"""Explanations recover planted mechanisms on held-out diseases; the target permutation test."""

from math import comb

import numpy as np
import pytest

from exprlab.errors import InputDataError
from exprlab.models import TrainConfig
from exprlab.simulate import simulate_planted
from exprlab.workflows._explain_matches import target_permutation_test, validate_planted
from exprlab.workflows._repurposing import LearnedSettings


@pytest.mark.slow
def test_planted_mechanisms_are_recovered_on_held_out_diseases():
    bench = simulate_planted(n_diseases=40, n_drugs=120, seed=0)
    settings = LearnedSettings(
        max_genes=600,
        twotower=TrainConfig(
            arch="twotower", max_epochs=15, steps_per_epoch=16, batch_size=256, lr=3e-3, patience=4
        ),
    )
    pairs, summary = validate_planted(
        bench,
        arch="twotower",
        folds=[0],
        n_seeds=2,
        settings=settings,
        n_steps=32,
        effect="interaction",
    )
    assert summary["n_pairs"] >= 5
    # independent recomputation of the per-pair precision from the planted truth
    held_out = set(pairs["disease"])
    train_diseases = set(bench.indications["disease"]) - held_out
    assert held_out and train_diseases and not held_out & train_diseases
    for _, r in pairs.iterrows():
        pathway, direction = bench.truth["drug_action"][r["drug"]]
        program = dict(bench.truth["disease_program"][r["disease"]])
        assert program[pathway] == -direction  # a planted reversal
        assert r["k"] == len(bench.truth["pathways"][pathway])
        assert r["drug_rank"] <= 10
    # far above chance: k genes drawn at random among the ~110 genes listed by the disease or
    # drug signatures would have a precision of about 20 / 110
    listed = (bench.diseases.X != 0).sum(axis=1).mean() + 2 * 20
    chance = 20 / listed
    assert summary["ig_precision_mean"] >= max(0.45, 2.5 * chance)
    assert summary["ig_pathway_top3_share"] >= 0.8
    assert summary["max_abs_delta"] < 0.05


def test_validate_planted_refuses_data_without_truth():
    bench = simulate_planted(n_diseases=6, n_drugs=10, seed=0)
    bench.truth = {}
    with pytest.raises(InputDataError, match="planted truth"):
        validate_planted(bench, folds=[0])


def test_target_permutation_test_against_exact_hypergeometric():
    # one pair: universe 10 genes, top 3 genes, 2 targets, both among the top
    # P(X >= 2) = C(3,2) C(7,0) / C(10,2) = 3/45
    res = target_permutation_test(
        np.array([2]), np.array([2]), np.array([3]), np.array([10]), n_permutations=40000, seed=1
    )
    exact = comb(3, 2) * comb(7, 0) / comb(10, 2)
    assert res["pvalue"] == pytest.approx(exact, abs=0.006)
    assert res["expected_hits"] == pytest.approx(2 * 3 / 10)
    assert res["ratio"] == pytest.approx(2 / 0.6)
    # no hit at all: p-value 1
    res = target_permutation_test(
        np.array([0, 0]), np.array([3, 1]), np.array([5, 5]), np.array([100, 50]), n_permutations=200
    )
    assert res["pvalue"] == 1.0
    with pytest.raises(InputDataError):
        target_permutation_test(np.array([], int), np.array([], int), np.array([], int), np.array([], int))
