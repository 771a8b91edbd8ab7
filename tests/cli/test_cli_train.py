"""`exprlab train` and `exprlab explain` through the CLI: held-out report, samples, confounding."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main


@pytest.fixture()
def h5ad(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.repeat(["B", "T"], 20)
    x = rng.normal(size=(40, 25)) + 4
    x[labels == "T", :3] += 2.5
    obs = pd.DataFrame({"lineage": labels, "lab": labels, "plate": np.tile(["p1", "p2"], 20)})
    obs.index = [f"c{i}" for i in range(40)]
    path = tmp_path / "cohort.h5ad"
    ad.AnnData(
        x.astype(np.float32), obs=obs, var=pd.DataFrame(index=[f"G{j}" for j in range(25)])
    ).write_h5ad(path)
    return path


def test_train_prints_heldout_accuracy_and_explain_says_which_samples(h5ad, tmp_path, capsys):
    model = tmp_path / "model"
    main(
        [
            "train",
            "--data",
            str(h5ad),
            "--label",
            "lineage",
            "--batch",
            "plate",
            "--inner-folds",
            "3",
            "-o",
            str(model),
        ]
    )
    printed = capsys.readouterr().out
    assert "held-out balanced accuracy" in printed and "on 10 samples" in printed
    assert "Cramér's V 0.00" in printed
    summary = json.loads((model / "run.json").read_text())["summary"]
    assert summary["evaluation"] == "holdout" and summary["confounding"]["cramers_v"] == pytest.approx(0.0)
    main(["explain", "--model", str(model), "--data", str(h5ad), "--n-steps", "8", "-o", str(tmp_path / "e")])
    printed = capsys.readouterr().out
    assert "10 held-out (not seen by the model) samples of 40" in printed
    explained = ad.read_h5ad(tmp_path / "e" / "attributions.h5ad")
    held = pd.read_csv(model / "heldout.tsv", sep="\t")["sample"]
    assert sorted(explained.obs_names) == sorted(held)


def test_confounded_batch_is_loud_and_correction_is_refused(h5ad, tmp_path, capsys):
    main(
        [
            "train",
            "--data",
            str(h5ad),
            "--label",
            "lineage",
            "--batch",
            "lab",
            "--inner-folds",
            "3",
            "-o",
            str(tmp_path / "m"),
        ]
    )
    captured = capsys.readouterr()
    assert "CONFOUNDED DESIGN" in captured.err
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "train",
                "--data",
                str(h5ad),
                "--label",
                "lineage",
                "--batch",
                "lab",
                "--batch-correct",
                "combat",
                "-o",
                str(tmp_path / "n"),
            ]
        )
    assert stop.value.code == 2
    assert "remove the class signal" in capsys.readouterr().err
    assert not (tmp_path / "n").exists()


def test_missing_columns_list_the_available_ones(h5ad, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "train",
                "--data",
                str(h5ad),
                "--label",
                "lineage",
                "--group",
                "donor",
                "-o",
                str(tmp_path / "m"),
            ]
        )
    assert stop.value.code == 2
    assert "obs columns: lineage, lab, plate" in capsys.readouterr().err


def test_log2_default_follows_the_data_and_run_json_records_it(h5ad, tmp_path):
    """Unset --log2 is on for a file of `exprlab simulate`, off otherwise (as in xai-study)."""
    sim = tmp_path / "sim.h5ad"
    main(["simulate", "--preset", "simu1", "--n-genes", "60", "--n-classes", "2", "--n-per-class", "10",
          "--out", str(sim)])  # fmt: skip
    recorded = {}
    for name, data, label in (("plain", h5ad, "lineage"), ("sim", sim, "class")):
        out = tmp_path / name
        main(["train", "--data", str(data), "--label", label, "--out", str(out)])
        params = json.loads((out / "run.json").read_text())["parameters"]
        recorded[name] = params["log2"]
    assert recorded == {"plain": False, "sim": True}
    out = tmp_path / "forced"
    main(["train", "--data", str(sim), "--label", "class", "--no-log2", "--out", str(out)])
    assert json.loads((out / "run.json").read_text())["parameters"]["log2"] is False
