"""The explanation study end to end on a tiny simulation: outputs, resumability, CLI, bad input."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.workflows._xai_study import run_xai_study

TINY = dict(
    n_per_class=15,
    n_genes=300,
    runs=2,
    n_steps=20,
    n_random=3,
    sim_params={"n_classes": 3, "n_overexpressed": 3},
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    summary = run_xai_study(["simu1"], out, models=("lr", "mlp"), **TINY)
    return out, summary


def test_summary_has_one_row_per_model_and_named_columns(study):
    out, summary = study
    table = pd.read_csv(out / "summary.tsv", sep="\t")
    assert table[["dataset", "model"]].values.tolist() == [["simu1", "lr"], ["simu1", "mlp"]]
    for col in (
        "balanced_accuracy_mean",
        "balanced_accuracy_sd",
        "fa_local_mean",
        "fa_global_mean",
        "fa_global_pooled_mean",
        "pgi_local_mean",
        "pgu_local_mean",
        "pgi_global_mean",
        "pgu_global_mean",
        "pgr_mean",
        "stability_jaccard",
    ):
        assert col in table.columns, col
    assert (table["n_runs"] == 2).all()
    runs = pd.read_csv(out / "runs.tsv", sep="\t")
    assert len(runs) == 4
    # the summary is the mean of the per-run values
    lr = runs[runs["model"] == "lr"]
    assert table.loc[0, "fa_local_mean"] == pytest.approx(lr["fa_local"].mean())
    assert table.loc[0, "balanced_accuracy_sd"] == pytest.approx(lr["balanced_accuracy"].std())
    assert (out / "fa_bars.png").stat().st_size > 0 and (out / "pg_bars.png").exists()
    per_class = pd.read_csv(out / "runs" / "simu1" / "lr" / "run00" / "fa_per_class.tsv", sep="\t")
    assert set(per_class["class"]) <= {"C0", "C1", "C2"}
    assert (per_class["k"] == 30).all()  # 3 pathways × 10 genes
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["kind"] == "xai-study" and manifest["parameters"]["runs"] == 2
    log = (out / "exprlab.log").read_text()
    assert "simu1 lr run 1: balanced accuracy" in log and "simu1 mlp run 0" in log


def test_metrics_are_in_range(study):
    _, summary = study
    for col in ("fa_local_mean", "fa_global_mean", "pgi_local_mean", "pgr_mean"):
        assert ((summary[col] >= 0) & (summary[col] <= 100)).all()
    # important-first removal hurts more than unimportant-first
    assert (summary["pgi_local_mean"] > summary["pgu_local_mean"]).all()


def test_finished_runs_are_not_recomputed(study):
    out, _ = study
    marker = out / "runs" / "simu1" / "lr" / "run00" / "metrics.json"
    before = marker.stat().st_mtime_ns
    content = json.loads(marker.read_text())
    summary = run_xai_study(["simu1"], out, models=("lr", "mlp"), **TINY)
    assert marker.stat().st_mtime_ns == before
    assert json.loads(marker.read_text()) == content
    assert len(summary) == 2


def test_cli_xai_study_with_curves(tmp_path, capsys):
    from exprlab.cli import main

    main(
        [
            "--quiet",
            "xai-study",
            "--data",
            "simua",
            "--models",
            "lr",
            "--runs",
            "1",
            "--n-steps",
            "10",
            "--n-random",
            "2",
            "--n-genes",
            "200",
            "--n-per-class",
            "20",
            "--curves",
            "5,20",
            "--curve-n-random",
            "2",
            "--jitter",
            "1e-4",
            "--out",
            str(tmp_path / "s"),
        ]
    )
    out = capsys.readouterr().out
    recorded = json.loads((tmp_path / "s" / "study.json").read_text())
    assert recorded["sim_params"] == {"jitter": 1e-4} and recorded["curve_ks"] == [5, 20]
    assert "simua" in out and "fa_local_mean" in out
    curves = pd.read_csv(tmp_path / "s" / "runs" / "simua" / "lr" / "run00" / "curves.tsv", sep="\t")
    assert set(curves["selection"]) == {"attribution", "random"}
    assert set(curves["k"]) == {5, 20}
    assert (tmp_path / "s" / "curves_simua_lr.png").exists()
    assert sorted(curves.loc[curves["selection"] == "random", "repeat"].unique()) == [0, 1]
    table = pd.read_csv(tmp_path / "s" / "curves_summary.tsv", sep="\t")
    random = table[table["selection"] == "random"]
    # one run: the random curve's interval is over its two repeats, the ranked curve has none
    assert (random["interval_over"] == "repeats").all() and (random["n_repeats"] == 2).all()
    assert table.loc[table["selection"] == "attribution", "ci_low"].isna().all()


def test_dataset_without_labels_is_refused(tmp_path):
    from exprlab.io._anndata_io import write_h5ad

    data = ad.AnnData(np.random.default_rng(0).poisson(5, size=(10, 20)).astype(np.float32))
    path = tmp_path / "nolabel.h5ad"
    write_h5ad(data, path)
    with pytest.raises(InputDataError, match="label"):
        run_xai_study([str(path)], tmp_path / "o", label="class", runs=1)
    with pytest.raises(InputDataError, match="--label"):
        run_xai_study([str(path)], tmp_path / "o", runs=1)


def test_bad_study_options(tmp_path):
    with pytest.raises(InvalidParameterError, match="model"):
        run_xai_study(["simu1"], tmp_path, models=("svm",))
    with pytest.raises(InvalidParameterError, match="runs"):
        run_xai_study(["simu1"], tmp_path, runs=0)
    with pytest.raises(InputDataError, match="neither a simulation preset"):
        run_xai_study(["no_such_file.h5ad"], tmp_path, runs=1)
    with pytest.raises(InvalidParameterError, match="only shape simulated datasets"):
        run_xai_study(["cohort.h5ad"], tmp_path / "o", runs=1, sim_params={"jitter": 1e-4})
    assert not (tmp_path / "o").exists()


def test_dataset_file_gets_prediction_gaps_and_curves_without_fa(tmp_path):
    from exprlab.io._anndata_io import write_h5ad
    from exprlab.simulate import simulate_lda

    data = simulate_lda("SimuA", n_genes=150, n_per_class=20, seed=4)
    plain = ad.AnnData(
        data.X.copy(), obs=data.obs[["class"]].rename(columns={"class": "group"}), var=data.var[[]]
    )
    path = tmp_path / "cohort.h5ad"
    write_h5ad(plain, path)
    options = dict(models=("lr",), runs=2, n_steps=10, n_random=2, label="group", curve_tops=(5,))
    summary = run_xai_study([str(path)], tmp_path / "o", curve_n_random=3, **options)
    row = summary.iloc[0]
    assert row["dataset"] == "cohort"
    assert "fa_local_mean" not in summary.columns
    assert 0 <= row["pgu_local_mean"] < row["pgi_local_mean"] <= 100
    runs = [
        pd.read_csv(tmp_path / "o" / "runs" / "cohort" / "lr" / f"run0{r}" / "curves.tsv", sep="\t")
        for r in (0, 1)
    ]
    for curves in runs:
        assert sorted(curves.loc[curves["selection"] == "random", "repeat"].unique()) == [0, 1, 2]
    table = pd.read_csv(tmp_path / "o" / "curves_summary.tsv", sep="\t")
    assert len(table) == 4  # keep / remove × attribution / random at K = 5
    assert (table["n_runs"] == 2).all() and (table["dataset"] == "cohort").all()
    # from scratch: per run the mean of its random repeats, then mean ± t(0.975, 1) sd / sqrt(2)
    for _, got in table.iterrows():
        values = [
            100
            * c.loc[
                (c["setting"] == got["setting"]) & (c["selection"] == got["selection"]), "balanced_accuracy"
            ].mean()
            for c in runs
        ]
        half = 12.7062 * abs(values[0] - values[1]) / np.sqrt(2) / np.sqrt(2)
        assert got["balanced_accuracy_mean"] == pytest.approx(np.mean(values))
        assert got["ci_high"] - got["balanced_accuracy_mean"] == pytest.approx(half, rel=1e-4, abs=1e-9)
        assert got["n_repeats"] == (3 if got["selection"] == "random" else 1)


def test_a_folder_of_an_earlier_release_resumes_with_its_single_random_repeat(tmp_path):
    from exprlab.io._anndata_io import write_h5ad
    from exprlab.simulate import simulate_lda

    data = simulate_lda("SimuA", n_genes=120, n_per_class=15, seed=5)
    path = tmp_path / "cohort.h5ad"
    write_h5ad(ad.AnnData(data.X.copy(), obs=data.obs[["class"]], var=data.var[[]]), path)
    options = dict(models=("lr",), runs=1, n_steps=10, n_random=2, label="class", curve_tops=(5,))
    run_xai_study([str(path)], tmp_path / "o", curve_n_random=1, **options)
    recorded = json.loads((tmp_path / "o" / "study.json").read_text())
    del recorded["curve_n_random"]  # earlier releases did not record it: they drew one random set
    (tmp_path / "o" / "study.json").write_text(json.dumps(recorded))
    (tmp_path / "o" / "curves_summary.tsv").unlink()
    run_xai_study([str(path)], tmp_path / "o", curve_n_random=1, **options)
    assert (tmp_path / "o" / "curves_summary.tsv").is_file()
    with pytest.raises(InvalidParameterError, match="curve_n_random: 1 then, 3 now"):
        run_xai_study([str(path)], tmp_path / "o", curve_n_random=3, **options)


def test_resuming_with_other_options_is_refused(study):
    out, _ = study
    recorded = json.loads((out / "study.json").read_text())
    assert recorded["steps"] == TINY["n_steps"] and recorded["sim_params"] == TINY["sim_params"]
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(InvalidParameterError, match=r"steps: 20 then, 50 now"):
        run_xai_study(["simu1"], out, models=("lr",), **{**TINY, "n_steps": 50})
    with pytest.raises(InvalidParameterError, match="sim_params"):
        run_xai_study(
            ["simu1"], out, models=("lr",), **{**TINY, "sim_params": {**TINY["sim_params"], "jitter": 1e-4}}
        )
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing written, nothing lost


def test_models_are_compared_run_by_run(study):
    out, _ = study
    table = pd.read_csv(out / "stability_models.tsv", sep="\t")
    assert table[["dataset", "model_a", "model_b", "n_runs", "k"]].values.tolist() == [
        ["simu1", "lr", "mlp", 2, 100]
    ]
    # independent computation: top-100 sets of the two models' class scores, same run
    jaccards = []
    for run in ("run00", "run01"):
        a = np.load(out / "runs" / "simu1" / "lr" / run / "global_scores.npz")
        b = np.load(out / "runs" / "simu1" / "mlp" / run / "global_scores.npz")
        common = sorted(set(a["classes"].tolist()) & set(b["classes"].tolist()))
        per_class = []
        for cls in common:
            ta = set(np.argsort(-a["scores"][a["classes"].tolist().index(cls)])[:100].tolist())
            tb = set(np.argsort(-b["scores"][b["classes"].tolist().index(cls)])[:100].tolist())
            per_class.append(len(ta & tb) / len(ta | tb))
        jaccards.append(np.mean(per_class))
    assert table.loc[0, "jaccard"] == pytest.approx(np.mean(jaccards))
    assert -1 <= table.loc[0, "kendall_tau"] <= 1


def test_study_folder_follows_the_run_folder_contract(study):
    from exprlab._runs import XAI_STUDY
    from exprlab.report import detect_kind

    out, _ = study
    assert detect_kind(out) == XAI_STUDY.kind
    for name in (XAI_STUDY.summary, XAI_STUDY.runs_table, XAI_STUDY.model_agreement, XAI_STUDY.options):
        assert (out / name).is_file(), name
    for name in (XAI_STUDY.fa_plot, XAI_STUDY.pg_plot):
        assert (out / name).stat().st_size > 0, name
    run = XAI_STUDY.run_dir(out, "simu1", "mlp", 1)
    assert run == out / "runs" / "simu1" / "mlp" / "run01"
    for name in (XAI_STUDY.run_metrics, XAI_STUDY.fa_per_class, XAI_STUDY.global_scores):
        assert (run / name).is_file(), name


def test_a_simulated_file_is_studied_like_its_preset(tmp_path, study):
    """The file `exprlab simulate` writes gets the preset's preprocessing (log2 on by default)."""
    from exprlab.simulate import simulate_lda

    out, _ = study
    data = simulate_lda(
        "SIMU1", n_per_class=TINY["n_per_class"], n_genes=TINY["n_genes"], seed=0, **TINY["sim_params"]
    )
    path = tmp_path / "simu1.h5ad"
    data.write_h5ad(path)
    options = {k: v for k, v in TINY.items()}
    options.pop("n_per_class"), options.pop("n_genes"), options.pop("sim_params")
    run_xai_study([str(path)], tmp_path / "from-file", models=("lr",), label="class", **options)
    by_file = pd.read_csv(tmp_path / "from-file" / "runs.tsv", sep="\t")
    by_preset = pd.read_csv(out / "runs.tsv", sep="\t")
    by_preset = by_preset[by_preset["model"] == "lr"]
    np.testing.assert_allclose(by_file["balanced_accuracy"], by_preset["balanced_accuracy"])
    np.testing.assert_allclose(by_file["fa_local"], by_preset["fa_local"])
    # the manifest records the log2 the runs applied (on), not the default of other files (off)
    manifest = json.loads((tmp_path / "from-file" / "run.json").read_text())
    assert manifest["parameters"]["log2"] == {str(path): True}
