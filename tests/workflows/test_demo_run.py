"""The end-to-end demo, scaled down: both workflows run, the report is written, the numbers make
sense against independently computed chance levels, and a failure leaves nothing behind."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from exprlab.workflows import _demo as demo_module
from exprlab.workflows._demo import DemoConfig, run_demo

SMALL = DemoConfig(
    models=("lr",),
    runs=1,
    n_per_class=40,
    n_genes=1000,
    curve_tops=(10,),
    n_diseases=24,
    n_drugs=80,
    n_folds=3,
    n_boot=200,
    methods=("random", "popularity", "wtcs", "xsum", "twotower"),
    max_epochs=4,
    steps_per_epoch=4,
)

pytestmark = pytest.mark.slow  # runs both workflows end to end


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    parent = tmp_path_factory.mktemp("demo")
    result = run_demo(parent / "out", config=SMALL)
    return parent, result


def test_demo_writes_every_part_and_a_report(demo_out):
    parent, result = demo_out
    out = parent / "out"
    assert sorted(p.name for p in parent.iterdir()) == ["out"]  # no temporary leftovers
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["kind"] == "demo"
    assert manifest["parameters"]["n_genes"] == 1000
    assert json.loads((out / "explanations" / "run.json").read_text())["kind"] == "xai-study"
    assert json.loads((out / "matching" / "run.json").read_text())["kind"] == "match-benchmark"
    assert "demo finished" in (out / "exprlab.log").read_text()
    html = (out / "report.html").read_text()
    for text in (
        "Summary",
        "Explanations (explanations)",
        "Drug-disease retrieval (matching)",
        "MAP random ranking",
        "feature agreement local / global",
    ):
        assert text in html
    assert result.report == out / "report.html"


def test_explanations_beat_a_random_gene_ranking(demo_out):
    parent, _ = demo_out
    xai = parent / "out" / "explanations"
    info = json.loads((xai / "datasets" / "simu1.json").read_text())
    p = len(info["genes"])
    # a random top-k_c set holds k_c / p informative genes on average (independent of the code)
    chance = 100 * np.mean([len(g) / p for g in info["ground_truth"].values()])
    summary = pd.read_csv(xai / "summary.tsv", sep="\t").iloc[0]
    assert summary["fa_local_mean"] > 3 * chance
    assert summary["fa_global_mean"] > 3 * chance
    assert summary["balanced_accuracy_mean"] > 100 / len(info["ground_truth"])


def test_connectivity_recovers_planted_indications(demo_out):
    parent, result = demo_out
    metrics = pd.read_csv(parent / "out" / "matching" / "metrics.tsv", sep="\t").set_index("method")
    per = pd.read_csv(parent / "out" / "matching" / "per_disease.tsv", sep="\t")
    # chance level from the per-disease counts: E[AP] >= n_pos / n_candidates for a random order
    chance = (per["n_positives"] / per["n_candidates"]).mean()
    assert metrics.loc["xsum", "average_precision_lo"] > 2 * chance
    cards = {c["label"]: c for c in result.summary["cards"]}
    assert any(label.startswith("MAP ") for label in cards)


def test_a_failing_demo_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(demo_module, "_matching", boom)
    with pytest.raises(RuntimeError):
        run_demo(
            tmp_path / "out",
            config=DemoConfig(models=("lr",), runs=1, n_per_class=10, n_genes=200, curve_tops=()),
        )
    assert list(tmp_path.iterdir()) == []
