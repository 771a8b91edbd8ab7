"""The disease-cluster split in the benchmark: clusters reported, folds respect them, bad folds fail."""

import pandas as pd
import pytest

import exprlab.datasets
from exprlab.cli import main
from exprlab.errors import InputDataError
from exprlab.simulate import simulate_planted
from exprlab.workflows import _repurposing as rp
from exprlab.workflows._clusters import mean_signature_similarity


def _sim():
    return simulate_planted(
        n_diseases=12, n_drugs=25, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=2
    )


def test_benchmark_on_disease_clusters_keeps_clusters_whole():
    sim = _sim()
    # name two diseases as near-duplicates: they must land in the same test fold
    names = {d: f"condition{i}" for i, d in enumerate(sorted(set(sim.diseases.obs["disease"])))}
    first, second = sorted(names)[:2]
    names[first], names[second] = "lung adenocarcinoma", "small cell lung carcinoma"
    sim.diseases.obs["disease_name"] = sim.diseases.obs["disease"].map(names)
    res = rp.run_benchmark(
        sim, split="disease-cluster", n_folds=3, methods=["popularity", "cosine"], n_boot=50
    )
    clusters = res.report["clusters"]
    lung = {"lung adenocarcinoma", "small cell lung carcinoma"}
    assert any(lung <= set(group) for group in clusters["clusters_of_several"])
    assert clusters["n_clusters"] < 12
    per = res.per_disease[res.per_disease["method"] == "cosine"]
    folds = per.groupby("disease")["fold"].first()
    if first in folds.index and second in folds.index:
        assert folds[first] == folds[second]
    assert res.report["split"] == "disease-cluster"


def test_mean_signature_similarity_by_hand():
    sim = _sim()
    diseases = sorted(set(sim.diseases.obs["disease"]))[:3]
    table = mean_signature_similarity(sim, diseases)
    X = pd.DataFrame(sim.diseases.X, index=sim.diseases.obs["disease"].to_numpy())
    means = X.groupby(level=0).mean().loc[diseases].to_numpy()
    a, b = means[0], means[1]
    expected = float(a @ b / ((a @ a) ** 0.5 * (b @ b) ** 0.5))
    assert table.iloc[0, 1] == pytest.approx(expected, rel=1e-6)
    assert table.iloc[0, 0] == pytest.approx(1.0)


def test_too_few_clusters_for_the_folds_is_one_clear_error(monkeypatch, tmp_path, capsys):
    sim = _sim()
    sim.diseases.obs["disease_name"] = "lung carcinoma"  # every disease a near-duplicate of every other
    with pytest.raises(InputDataError, match="cluster"):
        rp.run_benchmark(sim, split="disease-cluster", n_folds=3, methods=["popularity"], n_boot=20)
    monkeypatch.setattr(exprlab.datasets, "load_benchmark", lambda *a, **k: sim)
    out = tmp_path / "bench"
    with pytest.raises(SystemExit) as stop:
        main(
            ["match", "benchmark", "--out", str(out), "--split", "disease-cluster", "--methods", "popularity"]
        )
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "cluster" in err and len(err.splitlines()) == 1
    assert not out.exists()
