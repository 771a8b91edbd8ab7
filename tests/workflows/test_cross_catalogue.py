"""Cross-catalogue evaluation: train on A, test on B's pairs A lacks; disease mapping; bad input."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import exprlab.datasets
from exprlab.cli import main
from exprlab.errors import InputDataError
from exprlab.simulate import simulate_planted
from exprlab.workflows import run_cross_catalogue
from exprlab.workflows._cross_catalogue import cross_catalogue_fold


@pytest.fixture(scope="module")
def sim():
    return simulate_planted(
        n_diseases=14, n_drugs=30, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=6
    )


def _catalogues(sim):
    ind = sim.indications[["drug", "disease"]].drop_duplicates().reset_index(drop=True)
    rng = np.random.default_rng(0)
    in_a = rng.random(len(ind)) < 0.6
    in_b = ~in_a | (rng.random(len(ind)) < 0.3)  # B shares some pairs with A
    a = replace(sim, indications=ind[in_a].reset_index(drop=True))
    b = replace(sim, indications=ind[in_b].reset_index(drop=True))
    return a, b, ind[in_a], ind[in_b]


def test_test_pairs_are_b_minus_a_and_a_drugs_are_not_candidates(sim):
    a, b, pa, pb = _catalogues(sim)
    drugs = sorted(set(sim.drugs.obs["drug"]))
    fold, report = cross_catalogue_fold(a, b, drugs)
    known = set(zip(pa["disease"], pa["drug"], strict=True))
    expected_new = {p for p in zip(pb["disease"], pb["drug"], strict=True) if p not in known}
    assert set(zip(fold.test["disease"], fold.test["drug"], strict=True)) == expected_new
    assert report["n_test_pairs_new"] == len(expected_new)
    assert report["n_test_pairs_in_train"] == len(pb) - len(expected_new)
    cand = fold.candidates()
    for d, x in known:
        if d in cand.index:
            assert not cand.loc[d, x]  # a known A-drug is not ranked
    pos = fold.positives()
    assert int(pos.to_numpy().sum()) == len(expected_new)
    assert not (pos & ~cand).to_numpy().any()


def test_run_writes_metrics_and_the_mapping_tables(sim):
    a, b, _, _ = _catalogues(sim)
    res = run_cross_catalogue(a, b, methods=["random", "popularity", "cosine"], n_boot=50)
    assert list(res.metrics["method"]) == ["random", "popularity", "cosine"]
    assert res.report["split"] == "cross-catalogue"
    assert set(res.tables) == {"disease_mapping.tsv", "unmapped_diseases.tsv"}
    assert res.tables["unmapped_diseases.tsv"].empty
    # every evaluated cell is a candidate: no A pair appears among the ranked predictions
    pred = res.predictions[res.predictions["method"] == "cosine"]
    known = set(zip(a.indications["disease"], a.indications["drug"], strict=True))
    assert not any(p in known for p in zip(pred["disease"], pred["drug"], strict=True))


def test_bad_catalogue_pairs_are_clear_errors(sim):
    ind = sim.indications[["drug", "disease"]].drop_duplicates()
    diseases = sorted(set(ind["disease"]))
    a = replace(sim, indications=ind[ind["disease"].isin(diseases[:5])])
    b = replace(sim, indications=ind[ind["disease"].isin(diseases[5:])])
    drugs = sorted(set(sim.drugs.obs["drug"]))
    with pytest.raises(InputDataError, match="share no disease"):
        cross_catalogue_fold(a, b, drugs)
    with pytest.raises(InputDataError, match="are pairs of the training catalogue"):
        cross_catalogue_fold(a, replace(sim, indications=a.indications.iloc[:4]), drugs)


def test_cli_cross_catalogue_and_its_option_errors(sim, tmp_path, monkeypatch, capsys):
    a, b, _, _ = _catalogues(sim)
    monkeypatch.setattr(exprlab.datasets, "load_benchmark", lambda labels, **k: {"A": a, "B": b}[labels])
    out = tmp_path / "cross"

    def run(argv):
        try:
            main(argv)
        except SystemExit as stop:
            return int(stop.code or 0)
        return 0

    common = ["match", "benchmark", "--out", str(out), "--methods", "random,popularity,cosine"]
    assert run([*common, "--train-labels", "A", "--test-labels", "B"]) == 0
    assert (out / "disease_mapping.tsv").is_file() and (out / "unmapped_diseases.tsv").is_file()
    metrics = pd.read_csv(out / "metrics.tsv", sep="\t")
    assert {"drug_r2", "remainder_ap"} <= set(metrics.columns)
    capsys.readouterr()
    bad = tmp_path / "bad"
    for argv in (
        ["match", "benchmark", "--out", str(bad), "--train-labels", "A"],
        [
            "match",
            "benchmark",
            "--out",
            str(bad),
            "--train-labels",
            "A",
            "--test-labels",
            "B",
            "--split",
            "drug",
        ],
    ):
        assert run(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and len(err.splitlines()) == 1
        assert not bad.exists()
