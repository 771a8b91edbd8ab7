"""`exprlab train` and `exprlab explain` end to end on a small synthetic h5ad."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

from exprlab.cli import main
from exprlab.models import ExpressionClassifier


@pytest.fixture()
def h5ad(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 12)).astype(np.float32)
    labels = np.repeat(["healthy", "sick"], 30)
    x[labels == "sick", :2] += 3
    obs = pd.DataFrame(
        {"status": labels, "batch": rng.integers(0, 3, 60).astype(str)}, index=[f"s{i}" for i in range(60)]
    )
    var = pd.DataFrame({"symbol": [f"S{j}" for j in range(12)]}, index=[f"G{j}" for j in range(12)])
    path = tmp_path / "data.h5ad"
    ad.AnnData(x, obs=obs, var=var).write_h5ad(path)
    return path


def test_train_then_explain(h5ad, tmp_path, capsys):
    model_dir = tmp_path / "model"
    main(
        [
            "train",
            "--data",
            str(h5ad),
            "--label",
            "status",
            "--arch",
            "mlp",
            "--out",
            str(model_dir),
            "--epochs",
            "5",
        ]
    )
    assert "held-out balanced accuracy" in capsys.readouterr().out
    assert {p.name for p in model_dir.iterdir()} == {
        "metadata.json",
        "weights.pt",
        "preprocess.npz",
        "heldout.tsv",
        "run.json",
    }
    out = tmp_path / "attr.h5ad"
    main(
        [
            "explain",
            "--model",
            str(model_dir),
            "--data",
            str(h5ad),
            "--baseline",
            "zero",
            "--n-steps",
            "400",
            "--target",
            "true",
            "--samples",
            "all",
            "--out",
            str(out),
        ]
    )
    data, attr = ad.read_h5ad(h5ad), ad.read_h5ad(out)
    assert list(attr.obs_names) == list(data.obs_names)
    assert list(attr.var_names) == list(data.var_names)
    assert list(attr.var["symbol"]) == list(data.var["symbol"])
    assert list(attr.obs["batch"]) == list(data.obs["batch"])
    assert list(attr.obs["ig_target"]) == list(data.obs["status"])
    # completeness, from the saved model: Σ attributions = p_t(x) − p_t(0)
    clf = ExpressionClassifier.load(model_dir)
    t = (data.obs["status"] == "sick").to_numpy().astype(int)
    with torch.no_grad():
        p0 = torch.softmax(clf.module_(torch.zeros(1, 12)), 1).numpy()[0, t]
    px = clf.predict_proba(data)[np.arange(60), t]
    np.testing.assert_allclose(attr.X.sum(axis=1), px - p0, atol=2e-3)  # ReLU kinks
    np.testing.assert_allclose(attr.obs["ig_delta"], attr.X.sum(axis=1) - (px - p0), atol=1e-5)


def test_explain_errors_exit_2_with_one_line(h5ad, tmp_path, capsys):
    model_dir = tmp_path / "model"
    main(
        [
            "train",
            "--data",
            str(h5ad),
            "--label",
            "status",
            "--arch",
            "lr",
            "--out",
            str(model_dir),
            "--epochs",
            "2",
        ]
    )
    fewer = ad.read_h5ad(h5ad)[:, 2:].copy()
    fewer_path = tmp_path / "fewer.h5ad"
    fewer.write_h5ad(fewer_path)
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "explain",
                "--model",
                str(model_dir),
                "--data",
                str(fewer_path),
                "--out",
                str(tmp_path / "a.h5ad"),
            ]
        )
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "G0, G1" in err and err.count("\n") == 1
    assert not (tmp_path / "a.h5ad").exists()
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "explain",
                "--model",
                str(model_dir),
                "--data",
                str(h5ad),
                "--baseline",
                "median",
                "--out",
                str(tmp_path / "a.h5ad"),
            ]
        )
    assert stop.value.code == 2
    with pytest.raises(SystemExit) as stop:
        main(["train", "--data", str(h5ad), "--label", "batch2", "--out", str(tmp_path / "m2")])
    assert stop.value.code == 2 and "label column 'batch2'" in capsys.readouterr().err
