"""Gene identifiers: mapping, gene-space conversion, gene-space checks."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import GeneSpaceError, InvalidParameterError
from exprlab.genes import (
    convert_gene_space,
    detect_id_kind,
    load_gene_table,
    map_genes,
    require_same_gene_space,
)

# A hand-made gene table: one ambiguous symbol (MIA2 -> 2 Entrez, the landmark one wins) and one
# Ensembl id shared by two genes.
TABLE = pd.DataFrame(
    {
        "entrez": ["7157", "1956", "117153", "4253", "80111", "6578", "60"],
        "symbol": ["TP53", "EGFR", "MIA2", "MIA2", "C3ORF36", "SLCO2A1", "ACTB"],
        "ensembl": [
            "ENSG00000141510",
            "ENSG00000146648",
            "ENSG00000150526",
            "ENSG00000150527",
            "ENSG00000174640",
            "ENSG00000174640",
            "",
        ],
        "gene_title": [""] * 7,
        "gene_type": ["protein-coding"] * 7,
        "feature_space": [
            "landmark",
            "landmark",
            "inferred",
            "best inferred",
            "inferred",
            "best inferred",
            "best inferred",
        ],
    }
)


def test_map_genes_small_table():
    s = map_genes(["tp53", "EGFR", "mia2", "NOPE"], "symbol", "entrez", table=TABLE)
    assert list(s.index) == ["tp53", "EGFR", "mia2", "NOPE"]
    assert s.iloc[:3].tolist() == ["7157", "1956", "4253"]  # MIA2: best inferred beats inferred
    assert pd.isna(s.iloc[3])
    e = map_genes(["ENSG00000174640.7", "ENSG00000141510"], "ensembl", "symbol", table=TABLE)
    assert e.tolist() == ["SLCO2A1", "TP53"]  # version suffix ignored; shared id -> best inferred
    assert map_genes([7157, 60], "entrez", "ensembl", table=TABLE).isna().tolist() == [False, True]
    assert map_genes(["60", "61"], "auto", "symbol", table=TABLE).tolist()[0] == "ACTB"


def test_detect_id_kind():
    assert detect_id_kind(["7157", "1956", "60"]) == "entrez"
    assert detect_id_kind(["ENSG00000141510", "ENSG00000146648.3"]) == "ensembl"
    assert detect_id_kind(["TP53", "EGFR", "C3orf36"]) == "symbol"
    with pytest.raises(GeneSpaceError, match="probe"):
        detect_id_kind(["1000_at", "1001_at", "1002_s_at"])
    with pytest.raises(InvalidParameterError):
        map_genes(["TP53"], "symbol", "hgnc", table=TABLE)


def test_convert_gene_space_mean_by_hand():
    # genes: TP53, MIA2 (x2 sources), EGFR, unmapped; values chosen for easy means
    adata = ad.AnnData(
        X=np.array([[1.0, 2.0, 4.0, 8.0, 16.0], [3.0, 5.0, 7.0, 9.0, 11.0]], dtype=np.float32),
        obs=pd.DataFrame({"drug": ["a", "b"]}, index=["s1", "s2"]),
        var=pd.DataFrame(index=["7157", "117153", "4253", "1956", "999999"]),
        layers={"listed": np.array([[1, 0, 0, 1, 1], [0, 0, 1, 0, 0]], dtype=bool)},
    )
    new, report = convert_gene_space(adata, target="symbol", table=TABLE)
    assert list(new.var_names) == ["TP53", "MIA2", "EGFR"]
    np.testing.assert_allclose(new.X, [[1.0, 3.0, 8.0], [3.0, 6.0, 9.0]])
    np.testing.assert_array_equal(new.layers["listed"], [[True, False, True], [False, True, False]])
    assert new.var.loc["MIA2", "source_ids"] == "117153|4253"
    assert list(new.obs["drug"]) == ["a", "b"]
    assert report["source"] == "entrez" and report["unmapped"] == ["999999"]
    assert report["n_in"] == 5 and report["n_out"] == 3 and report["merged"] == {"MIA2": ["117153", "4253"]}

    first, _ = convert_gene_space(adata, target="symbol", table=TABLE, duplicates="first")
    np.testing.assert_allclose(first.X, [[1.0, 2.0, 8.0], [3.0, 5.0, 9.0]])
    dropped, rep = convert_gene_space(adata, target="symbol", table=TABLE, duplicates="drop")
    assert list(dropped.var_names) == ["TP53", "EGFR"]
    np.testing.assert_allclose(dropped.X, [[1.0, 8.0], [3.0, 9.0]])
    assert rep["n_merged"] == 1
    with pytest.raises(InvalidParameterError):
        convert_gene_space(adata, duplicates="sum", table=TABLE)


def test_require_same_gene_space():
    a = ad.AnnData(np.zeros((1, 3)), var=pd.DataFrame(index=["TP53", "EGFR", "ACTB"]))
    require_same_gene_space(a, ["TP53", "EGFR", "ACTB"])
    with pytest.raises(GeneSpaceError, match="different order"):
        require_same_gene_space(a, ["EGFR", "TP53", "ACTB"], names=("query", "library"))
    require_same_gene_space(a, ["EGFR", "TP53", "ACTB"], same_order=False)
    with pytest.raises(GeneSpaceError, match=r"query uses symbol ids, library uses entrez ids") as info:
        require_same_gene_space(a, ["7157", "1956", "60"], names=("query", "library"))
    assert "3 of 3 query genes are not in library" in str(info.value)
    assert "convert_gene_space" in str(info.value)


def test_real_gene_table_known_genes(data_dir):
    table = load_gene_table()
    assert len(table) == 12_328
    assert table["feature_space"].value_counts().to_dict() == {
        "best inferred": 9_196,
        "inferred": 2_154,
        "landmark": 978,
    }
    # looked up by hand in geneinfo_beta.txt.gz
    assert map_genes(["TP53", "egfr", "GAPDH"], "symbol", "entrez").tolist() == ["7157", "1956", "2597"]
    assert map_genes(["7157", "10"], "entrez", "symbol").tolist() == ["TP53", "NAT2"]
    assert map_genes(["ENSG00000141510"], "ensembl", "entrez").tolist() == ["7157"]
    assert map_genes(["100"], "entrez", "ensembl").tolist() == ["ENSG00000196839"]  # ADA
    assert map_genes(["MIA2"], "symbol", "entrez").tolist() == ["4253"]
    # the cached table is not corrupted by callers
    table["symbol"] = "X"
    assert load_gene_table()["symbol"].iloc[0] != "X"


def test_real_convert_level5_sample(data_dir):
    from exprlab.datasets import lincs_level5_sample

    lvl5 = lincs_level5_sample()
    new, report = convert_gene_space(lvl5, target="symbol")
    assert report["source"] == "entrez"
    # all 5,000 Entrez ids of the sample are L1000 genes with distinct symbols
    assert (new.n_vars, report["n_unmapped"], report["n_merged"]) == (5000, 0, 0)
    # TP53 (Entrez 7157) keeps its values
    np.testing.assert_allclose(
        np.asarray(new[:, "TP53"].X).ravel(), np.asarray(lvl5[:, "7157"].X).ravel(), rtol=1e-6
    )
