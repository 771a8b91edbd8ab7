"""The report of a biomarker run: frequency bars, natural class order, how many classes are drawn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exprlab.report import render_report, write_run_manifest
from exprlab.report._biomarkers_report import (
    MAX_HEATMAP_CLASSES,
    frequency_bar,
    gene_rows,
    stability_rows,
)


def _genes(n_classes: int, n_genes: int = 3) -> pd.DataFrame:
    rows = []
    for c in range(n_classes):
        for g in range(n_genes):
            rows.append(
                {
                    "gene": f"ID{g}",
                    "symbol": f"SYM{g}",
                    "class": f"C{c}",
                    "direction": "up" if g % 2 == 0 else "down",
                    "mean_attribution": 1.0 / (g + 1),
                    "welch_t": 2.0,
                    **{
                        f"{m}_{k}": v
                        for m in ("ig", "welch_t", "coefficients")
                        for k, v in (("frequency", 0.5), ("rank_lo", 1), ("rank_median", 2), ("rank_hi", 9))
                    },
                }
            )
    return pd.DataFrame(rows)


def test_frequency_bar():
    assert frequency_bar(0.7) == "███████░░░ 70%"
    assert frequency_bar(0.0) == "░░░░░░░░░░ 0%"
    assert frequency_bar(float("nan")) == "–"


def test_gene_rows_in_natural_class_order():
    shuffled = _genes(12).sample(frac=1.0, random_state=0)
    rows = gene_rows(shuffled.sort_values("class", kind="stable"), per_class=2)
    classes = list(pd.unique(rows["class"]))
    assert classes == [f"C{c}" for c in range(12)]  # C2 before C10, not C1, C10, C11, C2
    assert len(rows) == 24


def test_many_classes_say_how_many_are_drawn(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    n = MAX_HEATMAP_CLASSES + 5
    _genes(n).to_csv(run / "genes.tsv", sep="\t", index=False)
    pd.DataFrame(
        {
            "method": ["ig"],
            "mode": ["single"],
            "top": [2],
            "n": [1],
            "jaccard_mean": [0.5],
            "jaccard_lo": [0.4],
            "jaccard_hi": [0.6],
        }
    ).to_csv(run / "stability.tsv", sep="\t", index=False)
    pd.DataFrame({"draw": [0], "balanced_accuracy": [np.nan]}).to_csv(
        run / "draws.tsv", sep="\t", index=False
    )
    write_run_manifest(run, "biomarkers", {"top": 2, "draws_without_held_out": {"C3": 2}})
    html = render_report(run).read_text(encoding="utf-8")
    assert f"the first {MAX_HEATMAP_CLASSES} of {n} classes" in html
    assert "C3: 2" in html
    assert "SYM0" in html


def _biomarker_run(tmp_path, genes: pd.DataFrame):
    run = tmp_path / "run"
    run.mkdir()
    genes.to_csv(run / "genes.tsv", sep="\t", index=False)
    pd.DataFrame(
        {
            "method": ["ig", "welch_t", "coefficients"],
            "mode": ["single"] * 3,
            "top": [2] * 3,
            "n": [3] * 3,
            "jaccard_mean": [0.5, 0.4, 0.3],
            "jaccard_lo": [0.4, 0.3, 0.2],
            "jaccard_hi": [0.6, 0.5, 0.4],
        }
    ).to_csv(run / "stability.tsv", sep="\t", index=False)
    pd.DataFrame({"draw": [0, 1], "balanced_accuracy": [0.5, 0.7]}).to_csv(
        run / "draws.tsv", sep="\t", index=False
    )
    write_run_manifest(run, "biomarkers", {"top": 2, "n_draws": 2})
    return run


def test_stability_table_names_rankings_and_columns_for_a_reader(tmp_path):
    html = render_report(_biomarker_run(tmp_path, _genes(2))).read_text(encoding="utf-8")
    main = html.split("<main>")[1].split("Parameters, versions")[0]
    for raw in ("welch_t", "jaccard_mean", "jaccard_lo", "jaccard hi"):
        assert raw not in main, raw
    assert "Welch t" in main and "Integrated Gradients" in main and "95th percentile" in main
    assert "Held-out balanced accuracy 0.6 (mean over draws)" in main  # (0.5 + 0.7) / 2


def test_a_gene_named_na_keeps_its_name_and_a_missing_table_is_a_note(tmp_path):
    genes = _genes(2)
    genes.loc[genes["gene"] == "ID0", "symbol"] = "NA"  # a real symbol pandas would read as missing
    run = _biomarker_run(tmp_path, genes)
    (run / "stability.tsv").unlink()
    html = render_report(run).read_text(encoding="utf-8")
    assert '<td class="t">NA</td>' in html
    assert "stability.tsv could not be read" in html
    assert "SYM1" in html  # the gene table is still drawn


def test_stability_rows_name_the_rankings_and_columns_in_words():
    raw = pd.DataFrame(
        {
            "method": ["ig", "welch_t", "coefficients"],
            "mode": ["single", "selected", "single"],
            "top": [20, 20, 20],
            "n": [10, 20, 10],
            "jaccard_mean": [0.44, 0.65, 0.36],
            "jaccard_lo": [0.39, 0.61, 0.27],
            "jaccard_hi": [0.51, 0.72, 0.49],
        }
    )
    shown = stability_rows(raw)
    assert list(shown["ranking"]) == ["Integrated Gradients", "Welch t", "model coefficients"]
    assert list(shown["list"]) == ["one draw", "stability-selected", "one draw"]
    assert list(shown["comparisons"]) == [10, 20, 10]
    assert list(shown["5th percentile"]) == [0.39, 0.61, 0.27]
    assert not any("_" in str(c) for c in shown.columns)
