"""Reports of `exprlab train` model folders and `exprlab explain` runs, built by the real commands."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main
from exprlab.io import read_h5ad
from exprlab.simulate import simulate_lda


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("clf")
    data = simulate_lda("SIMU2", n_genes=200, n_classes=3, n_per_class=20, seed=3)
    data.obs["site"] = data.obs["class"].astype(str)  # a batch that is the label: confounded
    path = root / "cohort.h5ad"
    data.write_h5ad(path)
    main(["train", "--data", str(path), "--label", "class", "--batch", "site", "--out", str(root / "model")])
    main(
        [
            "explain",
            "--model",
            str(root / "model"),
            "--data",
            str(path),
            "--n-steps",
            "16",
            "--out",
            str(root / "ig"),
        ]
    )
    ig_file = ["--n-steps", "16", "--out", str(root / "ig-file.h5ad")]
    main(["explain", "--model", str(root / "model"), "--data", str(path), *ig_file])
    main(["report", str(root / "model")])
    main(["report", str(root / "ig")])
    main(["report", str(root / "ig-file.h5ad")])
    return root


def test_model_report_shows_held_out_confusion_and_the_confounded_design(runs):
    html = (runs / "model" / "report.html").read_text()
    assert "Held-out balanced accuracy" in html and "CONFOUNDED DESIGN" in html
    held = pd.read_csv(runs / "model" / "heldout.tsv", sep="\t")
    # the confusion table's diagonal, counted here from the held-out predictions
    for cls in ("C0", "C1", "C2"):
        hits = int(((held["label"] == cls) & (held["predicted"] == cls)).sum())
        assert f'<td class="t">{cls}</td>' in html
        assert f">{hits}</td>" in html


def test_explanation_report_lists_the_top_gene_and_which_samples(runs):
    html = (runs / "ig" / "report.html").read_text()
    ig = read_h5ad(runs / "ig" / "attributions.h5ad")
    top = ig.var_names[int(np.argmax(np.abs(np.asarray(ig.X)).mean(axis=0)))]
    assert f'<td class="t">{top}</td>' in html
    assert "held-out" in html and "exprlab biomarkers" in html


def test_a_missing_heldout_table_is_a_note(runs, tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(runs / "model", copy)
    (copy / "heldout.tsv").unlink()
    (copy / "report.html").unlink()
    main(["report", str(copy)])
    html = (copy / "report.html").read_text()
    assert "heldout.tsv" in html and "Held-out balanced accuracy" in html


def test_attributions_written_to_a_file_get_a_manifest_and_the_same_report(runs):
    import json

    manifest = json.loads((runs / "ig-file.h5ad.run.json").read_text())
    assert manifest["kind"] == "explanation" and manifest["status"] == "finished"
    assert manifest["parameters"]["samples"] == "heldout"  # `auto`, resolved: the model has a test split
    assert manifest["parameters"]["n_steps"] == 16
    assert manifest["data_provenance"][0]["bytes"] == (runs / "cohort.h5ad").stat().st_size
    html = (runs / "ig-file.report.html").read_text()
    assert "exprlab attributions" in html and "generic" not in html
    ig = read_h5ad(runs / "ig-file.h5ad")
    top = ig.var_names[int(np.argmax(np.abs(np.asarray(ig.X)).mean(axis=0)))]
    assert f'<td class="t">{top}</td>' in html


def test_model_section_prints_tuning_values_as_the_report_formats_them(runs):
    import json

    html = (runs / "model" / "report.html").read_text()
    model = html.split('id="model"')[1].split("</section>")[0]
    tuning = json.loads((runs / "model" / "run.json").read_text())["summary"]["tuning"]
    assert tuning.get("row_space_fit") is True  # a flag the report must not print as Python's True
    assert "True" not in model and "row-space fit (more genes than samples) yes" in model
    assert "row_space_fit" not in model


def test_model_report_says_how_many_samples_were_held_out_and_the_tuning_in_words(runs):
    html = (runs / "model" / "report.html").read_text()
    held = pd.read_csv(runs / "model" / "heldout.tsv", sep="\t")
    n_train = 60 - len(held)  # the fixture's cohort: 3 classes x 20 samples
    assert f"on {len(held)} held-out samples (trained on {n_train})" in html
    model = re.search(r"<h2>Model</h2>(.*?)</section>", html, re.S).group(1)
    assert "inverse penalty C" in model and "inner cross-validation folds 5" in model
    assert "row_space_fit" not in model and "inner_folds" not in model


def test_explanation_report_counts_each_sample_top_tenth_of_the_genes(runs):
    html = (runs / "ig" / "report.html").read_text()
    ig = read_h5ad(runs / "ig" / "attributions.h5ad")
    values = np.abs(np.asarray(ig.X, dtype=np.float64))
    assert values.shape[1] == 200  # so a sample's top is its 20 largest, not half its genes
    top = int(np.argmax(values.mean(axis=0)))
    # from scratch: in how many samples is the top gene among the 20 largest |attributions|
    count = sum(int((row > row[top]).sum()) < 20 for row in values)
    assert "samples with the gene in their top 20" in html
    row = re.search(rf'<td class="t">{ig.var_names[top]}</td><td>[^<]*</td><td>(\d+)</td>', html)
    assert row is not None and int(row.group(1)) == count


def test_commands_between_backticks_read_as_code(runs):
    html = (runs / "ig" / "report.html").read_text()
    assert "<code>exprlab biomarkers</code>" in html and "`" not in html
