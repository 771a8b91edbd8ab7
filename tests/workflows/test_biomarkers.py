"""``exprlab biomarkers`` end to end on a small planted cohort: table, run folder, report, errors."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.report import read_run_manifest, render_report
from exprlab.workflows import find_biomarkers, write_biomarkers

CLASSES = ["C1", "C2", "C10"]
PLANTED = {"C1": [0, 1, 2], "C2": [3, 4, 5], "C10": [6, 7, 8]}


def _cohort(n_per_class: int = 10, p: int = 40, seed: int = 0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    y = np.repeat(CLASSES, n_per_class)
    x = rng.normal(5.0, 1.0, size=(y.size, p))
    for cls, genes in PLANTED.items():
        x[np.ix_(y == cls, genes)] += 3.0
    var = pd.DataFrame({"gene_symbol": [f"SYM{j}" for j in range(p)]}, index=[f"ID{j}" for j in range(p)])
    obs = pd.DataFrame({"cls": y, "subject": [f"p{i // 2}" for i in range(y.size)]})
    obs.index = [f"s{i}" for i in range(y.size)]
    return ad.AnnData(x.astype(np.float32), obs=obs, var=var)


@pytest.fixture(scope="module")
def result():
    return find_biomarkers(_cohort(), "cls", n_draws=4, top=3, seed=0)


def test_gene_table_ranks_the_planted_genes_with_symbols_and_directions(result):
    genes = result.genes
    assert list(pd.unique(genes["class"])) == CLASSES  # natural order: C2 before C10
    assert len(genes) == 3 * 40
    for cls, planted in PLANTED.items():
        top = genes[genes["class"] == cls].head(3)
        assert set(top["gene"]) == {f"ID{j}" for j in planted}
        assert set(top["symbol"]) == {f"SYM{j}" for j in planted}
        assert (top["direction"] == "up").all()
        # a planted gene of another class is lower in this class
        other = genes[(genes["class"] == cls) & genes["gene"].isin([f"ID{j}" for j in PLANTED["C1"]])]
        if cls != "C1":
            assert (other["direction"] == "down").all()
    assert genes["ig_frequency"].between(0, 1).all()
    assert (genes["ig_rank_lo"] <= genes["ig_rank_median"]).all()
    assert (genes["ig_rank_median"] <= genes["ig_rank_hi"]).all()


def test_selection_frequency_matches_the_rank_columns(result):
    # a gene whose 95th-percentile rank is within the top is selected in every draw
    genes = result.genes
    always = genes[genes["ig_rank_hi"] <= 3]
    assert (always["ig_frequency"] == 1.0).all()
    never = genes[genes["ig_rank_lo"] > 3]
    assert (never["ig_frequency"] < 0.5).all()


def test_stability_summary_and_draws(result):
    s = result.stability
    assert set(s["method"]) == {"ig", "welch_t", "coefficients"}
    assert set(s["mode"]) == {"single", "selected"}
    single = s[s["mode"] == "single"]
    assert (single["n"] == 6).all()  # 4 draws: 6 pairs
    assert s["jaccard_mean"].between(0, 1).all()
    assert (s["jaccard_lo"] <= s["jaccard_mean"] + 1e-12).all()
    d = result.draws
    assert len(d) == 4 and (d["n_held_out"] > 0).all()
    assert (d["n_train"] + d["n_held_out"] == 30).all()
    assert d["balanced_accuracy"].between(0, 1).all()


def test_run_folder_and_report(result, tmp_path):
    out = write_biomarkers(result, tmp_path / "run")
    manifest = read_run_manifest(out)
    assert manifest["kind"] == "biomarkers" and manifest["parameters"]["top"] == 3
    html = render_report(out).read_text(encoding="utf-8")
    assert "SYM0" in html and "Can I trust this gene list?" in html
    assert html.index(">C2<") < html.index(">C10<")
    assert "all 3 classes" in html


def test_grouped_subsample_keeps_subjects_whole():
    res = find_biomarkers(_cohort(), "cls", n_draws=2, top=3, draw="subsample", group="subject", seed=1)
    assert res.parameters["group"] == "subject" and len(res.draws) == 2


def test_bad_input():
    data = _cohort()
    with pytest.raises(InvalidParameterError, match="n_draws"):
        find_biomarkers(data, "cls", n_draws=0)
    with pytest.raises(InvalidParameterError, match="top"):
        find_biomarkers(data, "cls", n_draws=2, top=41)
    one = data[data.obs["cls"] == "C1"].copy()
    with pytest.raises(InputDataError, match="single class"):
        find_biomarkers(one, "cls", n_draws=2, top=3)
    with pytest.raises(InputDataError, match="group column"):
        find_biomarkers(data, "cls", n_draws=2, top=3, group="nope")


def test_a_class_never_held_out_is_an_error_and_sometimes_held_out_is_counted():
    data = _cohort(n_per_class=6, p=12)
    # one sample of class C10: a stratified bootstrap always draws it, so it would never be held
    # out; the tuned classifier already refuses a class too small for its inner cross-validation
    keep = np.flatnonzero(data.obs["cls"] != "C10").tolist() + [
        int(np.flatnonzero(data.obs["cls"] == "C10")[0])
    ]
    single = data[keep].copy()
    with pytest.raises(InputDataError, match="C10"):
        find_biomarkers(single, "cls", n_draws=2, top=3)
    # two samples of C10: drawn twice with replacement, both are drawn in about half the draws
    keep2 = keep + [int(np.flatnonzero(data.obs["cls"] == "C10")[1])]
    res = find_biomarkers(data[keep2].copy(), "cls", n_draws=4, top=3, seed=0)
    lacking = res.draws["classes_without_held_out"].str.contains("C10").sum()
    assert res.parameters["draws_without_held_out"].get("C10", 0) == lacking


def test_mean_baseline_without_log2_warns():
    with pytest.warns(UserWarning, match="equals the zero baseline"):
        find_biomarkers(_cohort(), "cls", n_draws=1, top=3, baseline="mean")


def test_cli_writes_a_run_and_refuses_bad_options(tmp_path, capsys):
    path = tmp_path / "cohort.h5ad"
    _cohort().write_h5ad(path)
    main(
        [
            "biomarkers",
            "--data",
            str(path),
            "--label",
            "cls",
            "--out",
            str(tmp_path / "r"),
            "--n-draws",
            "2",
            "--top",
            "3",
        ]
    )
    assert "ig" in capsys.readouterr().out
    assert (tmp_path / "r" / "genes.tsv").is_file()
    for extra, word in (
        (["--n-draws", "0"], "--n-draws"),
        (["--top", "500"], "--top"),
        (["--draw", "x"], "--draw"),
        (["--arch", "svm"], "--arch"),
    ):
        with pytest.raises(SystemExit) as stop:
            main(
                ["biomarkers", "--data", str(path), "--label", "cls", "--out", str(tmp_path / "bad"), *extra]
            )
        assert stop.value.code == 2
        err = capsys.readouterr().err.strip()
        assert word in err and len(err.splitlines()) == 1


def test_mlp_draws_have_no_coefficient_ranking():
    res = find_biomarkers(_cohort(p=20), "cls", arch="mlp", n_draws=2, top=3, n_steps=8)
    assert "coefficients" not in set(res.stability["method"])
    assert res.genes["coefficients_frequency"].isna().all()
    assert res.genes["ig_frequency"].between(0, 1).all()


def test_raw_mean_baseline_of_a_log2_model_changes_the_attributions():
    data = _cohort(p=20)
    zero = find_biomarkers(data, "cls", n_draws=1, top=3, log2=True, seed=4)
    mean = find_biomarkers(data, "cls", n_draws=1, top=3, log2=True, seed=4, baseline="mean")
    a = zero.genes.sort_values(["class", "gene"])["mean_attribution"].to_numpy()
    b = mean.genes.sort_values(["class", "gene"])["mean_attribution"].to_numpy()
    assert np.abs(a - b).max() > 1e-4  # log of the mean is not the mean of the logs
    np.testing.assert_array_equal(zero.genes["welch_t"].sort_values(), mean.genes["welch_t"].sort_values())
