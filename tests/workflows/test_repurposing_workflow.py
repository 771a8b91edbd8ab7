"""Repurposing workflow: connectivity orientation with midranks, bad labels, CLI outputs."""

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import exprlab.datasets
from exprlab.cli import main
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.simulate import PlantedBenchmark, simulate_planted
from exprlab.workflows import _repurposing as rp


def _run(argv) -> int:
    """Exit status of the CLI (0 when main returns normally)."""
    try:
        main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def _toy_bench(perm=None):
    genes = np.array([f"G{i:02d}" for i in range(60)])
    x = np.zeros((1, 60), dtype=np.float32)
    x[0, :10] = np.linspace(3, 2, 10)  # up in disease
    x[0, 10:20] = -np.linspace(3, 2, 10)  # down in disease
    sets = {
        "rev@1": (genes[10:20].tolist(), genes[:10].tolist()),  # reverses the disease
        "mim@1": (genes[:10].tolist(), genes[10:20].tolist()),  # mimics it
        "far@1": (genes[30:40].tolist(), genes[40:50].tolist()),  # unrelated, unlisted genes
    }
    order = np.arange(60) if perm is None else perm
    dis = ad.AnnData(
        x[:, order], obs=pd.DataFrame({"disease": ["D"]}, index=["c1"]), var=pd.DataFrame(index=genes[order])
    )
    drg_X = np.zeros((3, 60), dtype=np.float32)
    for i, (up, down) in enumerate(sets.values()):
        drg_X[i, [int(g[1:]) for g in up]] = 1
        drg_X[i, [int(g[1:]) for g in down]] = -1
    drugs = ad.AnnData(
        drg_X[:, order],
        obs=pd.DataFrame({"drug": ["rev", "mim", "far"]}, index=list(sets)),
        var=pd.DataFrame(index=genes[order]),
    )
    ind = pd.DataFrame({"drug": ["rev"], "disease": ["D"]})
    return PlantedBenchmark(dis, drugs, sets, ind, ["far", "mim", "rev"])


def test_drug_sets_query_the_disease_reference_and_reversal_ranks_first():
    scores = rp.connectivity_scores(_toy_bench())
    for method, s in scores.items():
        rev, mim, far = s[0]
        assert rev > 0, method  # larger = stronger reversal
        assert rev > far > mim or (rev > far and mim < rev), method
        assert mim < 0 or method == "overlap", method


def test_midranked_ties_make_scores_independent_of_gene_order():
    base = rp.connectivity_scores(_toy_bench())
    perm = np.random.default_rng(0).permutation(60)
    shuffled = rp.connectivity_scores(_toy_bench(perm))
    for method in base:
        np.testing.assert_allclose(base[method], shuffled[method], rtol=1e-6, atol=1e-9)


def test_unknown_drugs_and_diseases_are_reported_not_silently_dropped():
    sim = simulate_planted(n_diseases=6, n_drugs=12, seed=1)
    extra = pd.DataFrame(
        {"drug": ["nodrug", "drug_001", "nodrug"], "disease": ["disease_000", "nodisease", "nodisease"]}
    )
    sim.indications = pd.concat([sim.indications, extra], ignore_index=True)
    labels, report = rp.check_labels(sim)
    assert report["n_rows_drug_without_signature"] == 2
    assert report["n_rows_disease_without_signature"] == 2
    assert report["drugs_without_signature"] == ["nodrug"]
    assert report["diseases_without_signature"] == ["nodisease"]
    assert report["n_indications_used"] == len(labels) == len(sim.indications) - 3
    sim.indications = extra
    with pytest.raises(InputDataError, match="unknown drug"):
        rp.check_labels(sim)


def test_diseases_without_positives_are_counted_and_bad_options_fail():
    sim = simulate_planted(n_diseases=8, n_drugs=20, seed=2)
    labels, report = rp.check_labels(sim)
    assert report["n_diseases_without_indication"] == 8 - labels["disease"].nunique()
    with pytest.raises(InputDataError, match="fold"):
        rp.run_benchmark(sim, split="disease", n_folds=50, methods=["random"])
    with pytest.raises(InvalidParameterError, match="method"):
        rp.run_benchmark(sim, methods=["magic"])
    with pytest.raises(InvalidParameterError, match="truth"):
        rp.run_benchmark(sim, methods=["random"], n_folds=2, truth="nope")


@pytest.fixture
def small_sim(monkeypatch):
    sim = simulate_planted(
        n_diseases=20, n_drugs=40, n_genes=300, n_pathways=10, pathway_size=10, set_size=15, seed=5
    )
    # The CLI loads through the datasets face and prediction through the workflow's own import:
    # patch both, so these tests never fall back to the public data.
    monkeypatch.setattr(exprlab.datasets, "load_benchmark", lambda *a, **k: sim)
    monkeypatch.setattr(rp, "load_benchmark", lambda *a, **k: sim)
    return sim


@pytest.mark.slow
def test_cli_benchmark_writes_every_output(tmp_path, small_sim, capsys):
    out = tmp_path / "bench"
    assert (
        _run(
            [
                "match",
                "benchmark",
                "--out",
                str(out),
                "--folds",
                "3",
                "--split",
                "drug",
                "--methods",
                "random,popularity,cosine,xsum,twotower",
            ]
        )
        == 0
    )
    metrics = pd.read_csv(out / "metrics.tsv", sep="\t")
    assert list(metrics["method"]) == ["random", "popularity", "cosine", "xsum", "twotower"]
    for m in (
        "average_precision",
        "precision_at_10",
        "recall_at_50",
        "ndcg_at_10",
        "roc_auc",
        "hits_at_10",
        "reciprocal_rank",
    ):
        assert {m, f"{m}_lo", f"{m}_hi"} <= set(metrics.columns)
        assert (metrics[f"{m}_lo"] <= metrics[m] + 1e-12).all()
    per = pd.read_csv(out / "per_disease.tsv", sep="\t")
    assert set(per["method"]) == set(metrics["method"])
    pred = pd.read_parquet(out / "predictions.parquet")
    assert {"method", "fold", "disease", "drug", "score", "rank", "indicated"} <= set(pred.columns)
    assert (out / "pr_curves.png").stat().st_size > 0
    assert (out / "metric_bars.png").stat().st_size > 0
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["kind"] == "match-benchmark"
    assert manifest["parameters"]["split"] == "drug" and manifest["parameters"]["folds"] == 3
    log = (out / "exprlab.log").read_text()
    assert "fold 2, twotower: validation MAP" in log and "fold 0, xsum" in log
    assert "twotower" in capsys.readouterr().out
    # every trained model's curve is kept; the reported validation MAP is its chosen epoch's
    hist = pd.read_csv(out / "training_history.tsv", sep="\t")
    assert {"fold", "method", "member", "epoch", "loss", "val_map", "chosen"} <= set(hist.columns)
    assert sorted(hist["fold"].unique()) == [0, 1, 2] and set(hist["method"]) == {"twotower"}
    chosen = hist[hist["chosen"]].groupby("fold")
    assert (chosen.size() == 1).all()
    per_fold_best = hist.groupby("fold")["val_map"].max()
    np.testing.assert_allclose(chosen["val_map"].first(), per_fold_best, rtol=1e-5)
    val = metrics.set_index("method").loc["twotower", "val_map"]
    assert val == pytest.approx(per_fold_best.mean(), rel=1e-4)
    # in the drug split popularity from training labels cannot rank unseen drugs: random
    pop = metrics.set_index("method").loc["popularity", "average_precision"]
    rnd = metrics.set_index("method").loc["random", "average_precision"]
    assert pop == pytest.approx(rnd, rel=0.35)


def test_cli_train_then_predict(tmp_path, small_sim, capsys):
    model = tmp_path / "model"
    assert _run(["match", "train", "--out", str(model), "--n-seeds", "2"]) == 0
    assert (model / "model_0.pt").exists() and (model / "model_1.pt").exists()
    assert not list(model.glob("checkpoint*"))
    sig = small_sim.diseases[small_sim.diseases.obs["disease"] == "disease_000"].copy()
    path = tmp_path / "disease.h5ad"
    sig.write_h5ad(path)
    capsys.readouterr()
    assert _run(["match", "predict", "--model", str(model), "--disease", str(path), "--top", "7"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7
    ranks = [int(line.split("\t")[0]) for line in lines]
    scores = [float(line.split("\t")[2]) for line in lines]
    assert ranks == list(range(1, 8)) and scores == sorted(scores, reverse=True)
    shares = [float(line.split("\t")[3]) for line in lines]  # popularity share of each row
    assert all(0.0 <= v <= 1.0 for v in shares)


def test_cli_bad_input_is_one_line_and_no_output(tmp_path, small_sim, capsys):
    out = tmp_path / "bench"
    assert _run(["match", "benchmark", "--out", str(out), "--split", "cell"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "split" in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert _run(["match", "predict", "--model", str(tmp_path), "--disease", str(tmp_path / "x")]) == 2
    assert "model.json" in capsys.readouterr().err


def test_real_triangle_labels_and_disease_folds(data_dir):
    from exprlab.evaluate._splits import make_folds

    bench = rp.load_benchmark("opentargets")
    labels, report = rp.check_labels(bench)
    # counted independently from the raw files in tests/datasets/test_datasets_benchmark.py
    assert report["n_indications_used"] == 1606
    assert report["n_diseases_evaluated"] == 133 and report["n_drugs_indicated"] == 250
    assert report["n_diseases_without_indication"] == 182 - 133
    folds = make_folds(labels, split="disease", n_folds=5, seed=0, drugs=sorted(set(bench.drugs.obs["drug"])))
    assert sorted(d for f in folds for d in f.test_diseases) == sorted(set(labels["disease"]))
    assert all(len(f.test_drugs) == len(bench.candidates) for f in folds)


def test_user_files_replace_the_public_triangle(tmp_path):
    sim = simulate_planted(
        n_diseases=6, n_drugs=10, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=7
    )
    rng = np.random.default_rng(0)
    full = ad.AnnData(
        rng.standard_normal((4, 200)).astype(np.float32),
        obs=pd.DataFrame({"drug": ["Drug A", "Drug A", "drug-b", "C"]}, index=[f"s{i}" for i in range(4)]),
        var=pd.DataFrame(index=sim.diseases.var_names),
    )
    full.write_h5ad(tmp_path / "drugs.h5ad")
    dis = sim.diseases.copy()
    dis.layers = {}
    dis.write_h5ad(tmp_path / "diseases.h5ad")
    pd.DataFrame({"drug": ["druga", "unknown"], "disease": ["disease_000", "disease_001"]}).to_csv(
        tmp_path / "labels.tsv", sep="\t", index=False
    )
    bench = rp.load_benchmark(
        tmp_path / "labels.tsv",
        drugs=tmp_path / "drugs.h5ad",
        diseases=tmp_path / "diseases.h5ad",
        set_size=15,
    )
    assert sorted(bench.candidates) == ["c", "druga", "drugb"]
    up, down = bench.drug_sets["s0"]
    x = full.X[0]
    assert set(up) == set(full.var_names[np.argsort(-x)[:15]])
    assert set(down) == set(full.var_names[np.argsort(x)[:15]])
    labels, report = rp.check_labels(bench)
    assert len(labels) == 1 and report["drugs_without_signature"] == ["unknown"]


def test_pair_split_scores_only_unknown_pairs():
    sim = simulate_planted(
        n_diseases=12, n_drugs=30, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=9
    )
    res = rp.run_benchmark(
        sim, split="pair", n_folds=3, methods=["random", "popularity", "cosine"], n_boot=100
    )
    pred = res.predictions
    labels, _ = rp.check_labels(sim)
    known = set(zip(labels["disease"], labels["drug"], strict=True))
    # every labelled pair is a test positive in exactly one fold and absent as a candidate elsewhere
    pos = pred[(pred["method"] == "cosine") & pred["indicated"]]
    assert set(zip(pos["disease"], pos["drug"], strict=True)) <= known
    counts = pred[pred["method"] == "cosine"].groupby(["disease", "drug"]).size()
    for pair in known:
        if pair in counts.index:
            assert counts.loc[pair] == 1
    assert set(res.metrics["method"]) == {"random", "popularity", "cosine"}


def test_the_fold_log_line_rounds_the_choices_it_prints():
    from exprlab.workflows._repurposing import _rounded

    info = {"cosine": {"top": 10, "val_map": 0.5259292197685267}, "seconds": [2.694755434000399], "f": "x"}
    assert _rounded(info) == {"cosine": {"top": 10, "val_map": 0.5259}, "seconds": [2.695], "f": "x"}
