"""Gene dependence in the benchmark: columns of every ranked method, popularity's R² is 1."""

import numpy as np
import pandas as pd
import pytest

from exprlab.simulate import simulate_planted
from exprlab.workflows import _repurposing as rp


def test_every_ranked_method_gets_gene_dependence_columns():
    sim = simulate_planted(
        n_diseases=16, n_drugs=30, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=4
    )
    res = rp.run_benchmark(
        sim, split="disease", n_folds=3, methods=["random", "popularity", "cosine"], n_boot=200
    )
    m = res.metrics.set_index("method")
    for col in ("drug_r2", "drug_only_ap", "remainder_ap"):
        assert {col, f"{col}_lo", f"{col}_hi"} <= set(m.columns)
        assert col in res.per_disease.columns
    # popularity gives every test disease the same scores: the drug-only fit is exact
    assert m.loc["popularity", ["drug_r2", "drug_r2_lo", "drug_r2_hi"]].tolist() == [1.0, 1.0, 1.0]
    pop = res.per_disease[res.per_disease["method"] == "popularity"]
    np.testing.assert_allclose(pop["drug_only_ap"], pop["average_precision"])
    # the exact random baseline ranks nothing
    assert m.loc[["random"], ["drug_r2", "remainder_ap"]].isna().all(axis=None)
    # cosine reversal reads each disease's genes: far from a shared drug order
    assert m.loc["cosine", "drug_r2"] < 0.5
    assert m.loc["cosine", "drug_r2_lo"] <= m.loc["cosine", "drug_r2"] <= m.loc["cosine", "drug_r2_hi"]


def test_the_per_disease_r2_is_recomputed_from_the_predictions():
    sim = simulate_planted(
        n_diseases=12, n_drugs=25, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=8
    )
    res = rp.run_benchmark(sim, split="disease", n_folds=3, methods=["cosine"], n_boot=50)
    pred = res.predictions
    fold0 = pred[pred["fold"] == 0].pivot(index="disease", columns="drug", values="score")
    p = fold0.mean(axis=0).to_numpy()
    per = res.per_disease[res.per_disease["fold"] == 0].set_index("disease")
    for disease, row in fold0.iterrows():
        if disease not in per.index:
            continue
        slope, icpt = np.polyfit(p, row.to_numpy(), 1)
        resid = row.to_numpy() - icpt - slope * p
        expected = 1 - (resid**2).sum() / ((row - row.mean()) ** 2).sum()
        assert per.loc[disease, "drug_r2"] == pytest.approx(expected, abs=1e-9)


def test_popularity_table_by_hand(caplog):
    from exprlab.workflows._popularity_share import popularity_table

    reference = pd.Series([1.0, 2.0, 3.0, 4.0], index=["a", "b", "c", "d"])
    # the query is 10 x the drug order: all popularity, a warning
    table = popularity_table(10 * reference, reference, top=3)
    assert table["drug"].tolist() == ["d", "c", "b"]
    assert table.attrs["drug_r2"] == pytest.approx(1.0) and table.attrs["mostly_popularity"]
    np.testing.assert_allclose(table["popularity_share"], 1.0)
    assert "mostly drug popularity" in caplog.text
    # the reverse order of the reference with one bump: slope -1 fit; the bump is disease-specific
    caplog.clear()
    query = pd.Series([4.0, 3.0, 2.0, 1.0], index=reference.index) + pd.Series(
        [0, 0, 0, 2.0], index=reference.index
    )
    table = popularity_table(query, reference, top=4)
    # independent fit: slope/intercept of query on reference
    slope, icpt = np.polyfit(reference, query, 1)
    fitted = icpt + slope * reference
    share = (fitted - query.mean()).abs() / ((fitted - query.mean()).abs() + (query - fitted).abs())
    np.testing.assert_allclose(table.set_index("drug")["popularity_share"], share.reindex(table["drug"]))
    resid = query - fitted
    assert table.attrs["drug_r2"] == pytest.approx(1 - (resid**2).sum() / ((query - query.mean()) ** 2).sum())
    assert not table.attrs["mostly_popularity"] and "popularity" not in caplog.text


def test_the_html_report_says_which_ranking_is_mostly_popularity(tmp_path):
    from exprlab.report import render_report

    sim = simulate_planted(
        n_diseases=12, n_drugs=25, n_genes=200, n_pathways=8, pathway_size=10, set_size=10, seed=8
    )
    res = rp.run_benchmark(sim, split="disease", n_folds=3, methods=["popularity", "cosine"], n_boot=50)
    run = rp.write_benchmark(res, tmp_path / "run")
    html = render_report(run, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "popularity: drug-only R² 1.000" in html
    assert "this ranking is mostly drug popularity" in html
    assert "cosine: drug-only R²" in html
