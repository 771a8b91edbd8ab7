"""DEG long tables and dgem contrasts -> AnnData of signatures."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import DuplicateIdError, FileAccessError, FormatError, NonFiniteValueError
from exprlab.io import read_deg_table, read_dgem_contrast

HEADER = "efo.id\tefo.term\tensembl.id\tgene.symbol\tcomparison\tlfc\tpval\n"
TINY = [
    "D1\tdis one\tE1\tg1\tc1\t1.5\t0.01",
    "D1\tdis one\tE2\tG2\tc1\t-2.0\t0.02",
    "D1\tdis one\tE2\tG2\tc1\t3.0\t0.001",  # duplicate of G2 in (D1, c1): smaller p wins
    "D1\tdis one\tE3\tG3\tc2\t0.5\t0.04",
    "D2\tdis two\tE1\tG1\tc1\t-1.0\t0.03",  # same comparison text, other disease: own signature
]


def _write(tmp_path, lines, name="deg.tsv", header=HEADER):
    path = tmp_path / name
    path.write_text(header + "\n".join(lines) + "\n")
    return path


def test_pivot_tiny_table_by_hand(tmp_path):
    a = read_deg_table(_write(tmp_path, TINY))
    assert list(a.obs_names) == ["D1|c1", "D1|c2", "D2|c1"]
    assert list(a.var_names) == ["G1", "G2", "G3"]  # upper-cased, sorted
    expected_x = np.array([[1.5, 3.0, 0.0], [0.0, 0.0, 0.5], [-1.0, 0.0, 0.0]])
    expected_p = np.array([[0.01, 0.001, 1.0], [1.0, 1.0, 0.04], [0.03, 1.0, 1.0]])
    expected_listed = np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=bool)
    np.testing.assert_allclose(a.X, expected_x, rtol=1e-6)
    np.testing.assert_allclose(a.layers["pval"], expected_p, rtol=1e-6)
    np.testing.assert_array_equal(a.layers["listed"], expected_listed)
    assert list(a.obs["disease"]) == ["D1", "D1", "D2"]
    assert list(a.obs["disease_name"]) == ["dis one", "dis one", "dis two"]
    assert list(a.obs["comparison"]) == ["c1", "c2", "c1"]
    assert list(a.obs["n_listed"]) == [2, 1, 1]
    assert list(a.var["ensembl"]) == ["E1", "E2", "E3"]
    assert a.uns["deg_report"]["n_duplicate_rows_dropped"] == 1
    assert a.uns["deg_report"]["n_rows"] == 5


def test_nan_fill_and_gene_space(tmp_path):
    a = read_deg_table(_write(tmp_path, TINY), fill=float("nan"), genes=["g3", "G1", "G9"])
    assert list(a.var_names) == ["G3", "G1", "G9"]
    x = a.X
    assert x[0, 1] == pytest.approx(1.5) and np.isnan(x[0, 0]) and np.isnan(x[0, 2])
    assert x[1, 0] == pytest.approx(0.5)
    assert np.isnan(a.layers["pval"][1, 1])
    # G2 rows (2 of them, one a duplicate) fall outside the requested genes
    assert a.uns["deg_report"]["n_rows_outside_genes"] == 1
    assert a.var.loc["G9", "ensembl"] == ""


def test_table_without_pvalues(tmp_path):
    header = "efo.id\tgene.symbol\tcomparison\tlfc\n"
    a = read_deg_table(_write(tmp_path, ["D\tA\tc\t1.0", "D\tA\tc\t-3.0", "D\tB\tc\t2.0"], header=header))
    np.testing.assert_allclose(a.X, [[-3.0, 2.0]])  # duplicate A: larger |lfc| kept
    assert np.isnan(a.layers["pval"]).all()
    assert a.obs["disease_name"].iloc[0] == "D"


def test_duplicate_tie_keeps_larger_abs_lfc(tmp_path):
    lines = ["D\tn\tE\tA\tc\t1.0\t0.05", "D\tn\tE\tA\tc\t-2.0\t0.05", "D\tn\tE\tB\tc\t0.1\t0.5"]
    a = read_deg_table(_write(tmp_path, lines))
    assert a.X[0, 0] == pytest.approx(-2.0)
    with pytest.raises(DuplicateIdError, match="line 3.*'A'"):
        read_deg_table(_write(tmp_path, lines), duplicates="error")


@pytest.mark.parametrize(
    ("lines", "header", "error", "pattern"),
    [
        (
            ["D\tn\tE\tA\tc\t0.1"],
            "efo.id\tefo.term\tensembl.id\tgene.symbol\tcomparison\tpval\n",
            FormatError,
            "lacks column.*'lfc'",
        ),
        (["D\tn\tE\tA\tc\t1.0\t0.1", "D\tn\tE\tB\tc\tup\t0.1"], HEADER, FormatError, "line 3.*'lfc'.*'up'"),
        (["D\tn\tE\tA\tc\tinf\t0.1"], HEADER, NonFiniteValueError, "line 2.*infinite"),
        (["D\tn\tE\tA\tc\t1.0\t1.5"], HEADER, FormatError, "line 2.*outside"),
        (["D\tn\tE\t\tc\t1.0\t0.1"], HEADER, FormatError, "line 2.*gene.symbol"),
        (["D\tn\tE\tA\tc\t\t0.1"], HEADER, FormatError, "line 2.*'lfc'"),
        ([], HEADER, FormatError, "no rows"),
    ],
)
def test_malformed_deg_tables(tmp_path, lines, header, error, pattern):
    path = _write(tmp_path, lines, header=header)
    with pytest.raises(error, match=pattern) as info:
        read_deg_table(path)
    assert str(path) in str(info.value) and "Fix:" in str(info.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileAccessError, match="not found"):
        read_deg_table(tmp_path / "absent.tsv")
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    with pytest.raises(FormatError, match="empty"):
        read_deg_table(empty)


def test_real_deg_table(data_dir):
    path = data_dir / "opentargets" / "disease_degs_expression_atlas.tsv.gz"
    a = read_deg_table(path)
    # data README: 259,594 rows; 182 diseases; 643 comparisons
    assert a.uns["deg_report"]["n_rows"] == 259_594
    assert a.n_obs == 643
    assert a.obs["disease"].nunique() == 182
    raw = pd.read_csv(path, sep="\t")
    # median 200 listed rows per comparison, 1 to 3,425 (README), before merging duplicates
    sizes = raw.groupby(["efo.id", "comparison"]).size()
    assert (sizes.median(), sizes.min(), sizes.max()) == (200, 1, 3425)
    assert a.n_vars == raw["gene.symbol"].str.upper().nunique()
    # listed cells = distinct (comparison, upper-case symbol) pairs of the raw table
    distinct = raw.assign(s=raw["gene.symbol"].str.upper()).drop_duplicates(["efo.id", "comparison", "s"])
    assert int(a.layers["listed"].sum()) == len(distinct)
    assert a.uns["deg_report"]["n_duplicate_rows_dropped"] == len(raw) - len(distinct)
    # one cell checked against the raw row: the first row of the file
    first = raw.iloc[0]
    obs = f"{first['efo.id']}|{first['comparison']}"
    same = raw[
        (raw["efo.id"] == first["efo.id"])
        & (raw["comparison"] == first["comparison"])
        & (raw["gene.symbol"] == first["gene.symbol"])
    ]
    best = same.sort_values("pval").iloc[0]
    assert a[obs, first["gene.symbol"].upper()].X[0, 0] == pytest.approx(best["lfc"], rel=1e-6)


# ----------------------------------------------------------------------------- dgem
def _dgem(tmp_path, rows):
    path = tmp_path / "contrast-x.csv.gz"
    text = (
        ",GeneIndex,Name,Log2FoldChange,AdjustedPValue\n"
        + "\n".join(f"{i},{r}" for i, r in enumerate(rows))
        + "\n"
    )
    with gzip.open(path, "wt") as fh:
        fh.write(text)
    return path


def test_dgem_contrast_and_paper_rule(tmp_path):
    path = _dgem(tmp_path, ["0,a1,1.0,0.01", "1,B2,-2.0,0.3", "2,C3,0.5,0.5", "3,A1,9.0,0.2"])
    c = read_dgem_contrast(path)
    assert c.obs_names[0] == "contrast-x"
    assert list(c.var_names) == ["A1", "B2", "C3"]  # A1 twice: smaller adjusted p (0.01) kept
    np.testing.assert_allclose(c.X[0], [1.0, -2.0, 0.5])
    np.testing.assert_allclose(c.layers["pval"][0], [0.01, 0.3, 0.5], rtol=1e-6)
    assert c.uns["n_duplicate_names_dropped"] == 1
    paper = read_dgem_contrast(path, padj_threshold=0.3)  # p >= 0.3 -> 0
    np.testing.assert_allclose(paper.X[0], [1.0, 0.0, 0.0])


def test_dgem_bad_inputs(tmp_path):
    with pytest.raises(FormatError, match="line 3.*Log2FoldChange"):
        read_dgem_contrast(_dgem(tmp_path, ["0,A,1.0,0.1", "1,B,x,0.1"]))
    bad = tmp_path / "c.csv"
    bad.write_text("GeneIndex,Name,Log2FoldChange\n0,A,1.0\n")
    with pytest.raises(FormatError, match="AdjustedPValue"):
        read_dgem_contrast(bad)


def test_real_dgem_contrasts(data_dir):
    for name, nonzero in (("a", 1365), ("b", 1305)):
        path = data_dir / "dgem" / f"contrast-{name}.csv.gz"
        raw = pd.read_csv(path, index_col=0)
        assert int((raw["Log2FoldChange"] != 0).sum()) == nonzero  # data README
        c = read_dgem_contrast(path)
        assert c.n_vars == raw["Name"].str.upper().nunique()
        # the public files already follow the paper's rule: applying it changes nothing
        paper = read_dgem_contrast(path, padj_threshold=0.3)
        np.testing.assert_array_equal(paper.X, c.X)
