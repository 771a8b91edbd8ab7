"""Delimited expression matrices, GEO series matrices, phenotype tables and probe annotations."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import DuplicateIdError, FormatError, InputDataError, InvalidParameterError
from exprlab.io import (
    describe,
    detect_format,
    guess_genes_axis,
    join_phenotypes,
    read,
    read_expression_table,
    read_geo_series_matrix,
    read_phenotypes,
    read_probe_annotation,
)

# probes x samples; the same numbers are written below with genes as columns
ROWS_CSV = "probe,S1,S2,S3\n1007_s_at,1.5,2,3\n1053_at,4,NA,6\n117_at,7,8,9.25\n"
EXPECTED = np.array([[1.5, 4.0, 7.0], [2.0, np.nan, 8.0], [3.0, 6.0, 9.25]], dtype=np.float32)


def _write(path, text):
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["m.csv", "m.csv.gz"])
def test_genes_as_rows_detected_from_probe_ids(tmp_path, name):
    a = read_expression_table(_write(tmp_path / name, ROWS_CSV))
    assert list(a.obs_names) == ["S1", "S2", "S3"]
    assert list(a.var_names) == ["1007_s_at", "1053_at", "117_at"]
    np.testing.assert_array_equal(a.X, EXPECTED)
    assert a.uns["layout"]["genes_as"] == "rows" and "probe" in a.uns["layout"]["rule"]


@pytest.mark.parametrize("name", ["m.tsv", "m.tsv.gz", "m.txt"])
def test_genes_as_columns_detected_from_sample_accessions(tmp_path, name):
    text = "id\t1007_s_at\t1053_at\t117_at\nGSM1\t1.5\t4\t7\nGSM2\t2\t\t8\nGSM3\t3\t6\t9.25\n"
    a = read_expression_table(_write(tmp_path / name, text))
    assert list(a.obs_names) == ["GSM1", "GSM2", "GSM3"]
    assert list(a.var_names) == ["1007_s_at", "1053_at", "117_at"]
    np.testing.assert_array_equal(a.X, EXPECTED)
    assert a.uns["layout"]["genes_as"] == "columns" and a.uns["layout"]["sep"] == "\t"


def test_forced_orientation_wins(tmp_path):
    a = read_expression_table(_write(tmp_path / "m.csv", ROWS_CSV), genes_as="columns")
    assert list(a.obs_names) == ["1007_s_at", "1053_at", "117_at"]
    assert a.uns["layout"]["rule"] == "forced"


def test_r_style_header_and_zero_padded_ids_are_kept(tmp_path):
    # R's write.table leaves the id column unnamed: the header is one field shorter than the rows
    text = '"01005" "01010"\n"1000_at" 7.5 7.25\n"1001_at" 5 4.5\n'.replace(" ", ",")
    a = read_expression_table(_write(tmp_path / "r.csv", text))
    assert list(a.obs_names) == ["01005", "01010"]
    np.testing.assert_array_equal(a.X, np.array([[7.5, 5.0], [7.25, 4.5]], dtype=np.float32))


def test_repeated_gene_ids_are_refused_unless_kept(tmp_path):
    path = _write(tmp_path / "m.csv", "probe,S1,S2\n1007_s_at,1,2\n1007_s_at,3,4\n1053_at,5,6\n")
    with pytest.raises(DuplicateIdError, match="gene id '1007_s_at'"):
        read_expression_table(path)
    kept = read_expression_table(path, duplicate_genes="keep")
    assert list(kept.var_names) == ["1007_s_at", "1007_s_at", "1053_at"]


def test_a_trailing_separator_on_every_line_is_ignored(tmp_path):
    text = "probe\tS1\tS2\t\n1007_s_at\t1\t2\t\n1053_at\t3\t4\t\n"
    a = read_expression_table(_write(tmp_path / "m.tsv", text))
    assert list(a.obs_names) == ["S1", "S2"] and a.shape == (2, 2)
    bad = "probe\tS1\t\n1007_s_at\t1\t2\n1053_at\t3\t4\n"
    with pytest.raises(FormatError, match="no name"):
        read_expression_table(_write(tmp_path / "bad.tsv", bad))


def test_text_columns_become_annotations(tmp_path):
    text = "probe,description,S1,S2\n1007_s_at,discoidin receptor,1,2\n1053_at,replication factor,3,4\n"
    a = read_expression_table(_write(tmp_path / "m.csv", text))
    assert a.var["description"].tolist() == ["discoidin receptor", "replication factor"]
    assert a.shape == (2, 2)


def test_a_label_column_of_a_samples_by_genes_table_goes_to_obs(tmp_path):
    text = "sample\tlabel\t1007_s_at\t1053_at\nGSM1\tcase\t1\t2\nGSM2\tcontrol\t3\t4\n"
    a = read(_write(tmp_path / "m.tsv", text))
    assert a.obs["label"].astype(str).tolist() == ["case", "control"]
    np.testing.assert_array_equal(a.X, np.array([[1, 2], [3, 4]], dtype=np.float32))


def test_a_stray_word_in_a_numeric_column_names_its_line(tmp_path):
    text = "probe,S1,S2\n1007_s_at,1,2\n1053_at,3,4\n117_at,oops,6\n"
    with pytest.raises(FormatError) as err:
        read_expression_table(_write(tmp_path / "m.csv", text))
    assert "line 4" in str(err.value) and "'S1'" in str(err.value) and "'oops'" in str(err.value)


@pytest.mark.parametrize(
    "text",
    ["", "probe,S1,S2\n", "probe\n1007_s_at\n"],
    ids=["zero-bytes", "header-only", "no-value-column"],
)
def test_an_empty_matrix_is_refused(tmp_path, text):
    with pytest.raises(InputDataError, match="empty"):
        read_expression_table(_write(tmp_path / "m.csv", text))


def test_ambiguous_orientation_asks_for_genes_as(tmp_path):
    text = "id,s1,s2\nTP53,1,2\nEGFR,3,4\nMYC,5,6\n"
    with pytest.raises(InputDataError, match="--genes-as"):
        read_expression_table(_write(tmp_path / "m.csv", text))


@pytest.mark.parametrize(
    "rows,cols,expected",
    [
        (["1007_s_at", "1053_at"], ["A", "B"], "rows"),  # probe ids
        (["A", "B"], ["ENSG00000141510", "ENSG00000146648"], "columns"),  # Ensembl ids
        (["GSM1", "GSM2"], ["TP53", "EGFR"], "columns"),  # GEO sample accessions are samples
        (["7157", "1956"], ["patient_a", "patient_b"], "rows"),  # Entrez ids
        (["7157", "1956"], ["01005", "01010"], None),  # numbers on both axes, same length
        ([f"G{i}" for i in range(30)], [f"s{i}" for i in range(10)], "rows"),  # 3x longer
        ([f"G{i}" for i in range(29)], [f"s{i}" for i in range(10)], None),  # under 3x
        (["1007_s_at", "1053_at"], ["GSM1", "GSM2"], "rows"),  # both rules agree
        (["1007_s_at", "1053_at"], ["117_at", "121_at"], None),  # probes on both axes
        ([f"G{i}" for i in range(30)], [str(i) for i in range(1, 11)], "rows"),  # 1..n numbers samples
        ([f"G{i}" for i in range(30)], ["7157", "1956"], "rows"),  # Entrez on a far shorter axis
        (["7157", "1956", "4609"], ["s1", "s2", "s3", "s4"], "rows"),  # Entrez decides a square
    ],
)
def test_orientation_rules(rows, cols, expected):
    assert guess_genes_axis(rows, cols)[0] == expected


def test_read_and_describe_dispatch_delimited_text(tmp_path):
    path = _write(tmp_path / "m.csv.gz", ROWS_CSV)
    assert detect_format(path) == "csv"
    np.testing.assert_array_equal(read(path).X, EXPECTED)
    info = describe(path)
    assert info["shape"] == (3, 3) and info["gene_space"]["kind"] == "probe"
    assert info["orientation"].startswith("genes as rows")


def test_describe_falls_back_to_a_table_with_a_note(tmp_path):
    path = _write(tmp_path / "t.tsv", "drug\tdisease\nd0\tx0\nd1\tx1\n")
    info = describe(path)
    assert info["shape"] == (2, 2) and "not read as an expression matrix" in info["note"]


SERIES = """!Series_title\t"A small test series"
!Series_geo_accession\t"GSE1"

!Sample_title\t"ctrl 1"\t"ctrl 2"\t"tumour 1"
!Sample_geo_accession\t"GSM11"\t"GSM12"\t"GSM13"
!Sample_characteristics_ch1\t"disease state: control"\t"disease state: control"\t"disease state: tumour"
!Sample_characteristics_ch1\t"age: 40"\t"age: 51"\t"age: 63"
!Sample_characteristics_ch1\t"batch: b1"\t"batch: b2"\t""
!Sample_data_processing\t"RMA"\t"RMA"\t"RMA"
!Sample_data_processing\t"log2"\t"log2"\t"log2"
"""
TABLE = """!series_matrix_table_begin
"ID_REF"\t"GSM11"\t"GSM12"\t"GSM13"
"1007_s_at"\t7.5\t7.125\t8.25
"1053_at"\t5\tnull\t5.5
!series_matrix_table_end
"""


@pytest.mark.parametrize("name", ["GSE1_series_matrix.txt", "GSE1_series_matrix.txt.gz"])
def test_geo_series_matrix(tmp_path, name):
    path = _write(tmp_path / name, SERIES + TABLE)
    assert detect_format(path) == "geo_series"
    a = read_geo_series_matrix(path)
    assert list(a.obs_names) == ["GSM11", "GSM12", "GSM13"]
    assert list(a.var_names) == ["1007_s_at", "1053_at"]
    np.testing.assert_array_equal(a.X, np.array([[7.5, 5], [7.125, np.nan], [8.25, 5.5]], dtype=np.float32))
    assert a.obs["disease state"].astype(str).tolist() == ["control", "control", "tumour"]
    assert a.obs["age"].tolist() == [40, 51, 63]
    assert a.obs["batch"].isna().tolist() == [False, False, True]
    assert a.obs["title"].astype(str).tolist() == ["ctrl 1", "ctrl 2", "tumour 1"]
    assert a.obs["data_processing_2"].astype(str).tolist() == ["log2"] * 3
    assert a.uns["geo_series"]["geo_accession"] == "GSE1"
    np.testing.assert_array_equal(read(path).X, a.X)


def test_a_series_matrix_without_table_is_refused(tmp_path):
    path = _write(tmp_path / "GSE1_series_matrix.txt", SERIES)
    with pytest.raises(FormatError, match="no data table"):
        read_geo_series_matrix(path)
    empty = _write(
        tmp_path / "GSE2_series_matrix.txt", SERIES + "!series_matrix_table_begin\n!series_matrix_table_end\n"
    )
    with pytest.raises(FormatError, match="supplementary"):
        read_geo_series_matrix(empty)


def test_a_series_matrix_gives_phenotypes(tmp_path):
    path = _write(tmp_path / "GSE1_series_matrix.txt.gz", SERIES)
    by_gsm = read_phenotypes(path)
    assert list(by_gsm.index) == ["GSM11", "GSM12", "GSM13"]
    by_title = read_phenotypes(path, sample_column="title")
    assert list(by_title.index) == ["ctrl 1", "ctrl 2", "tumour 1"]


def test_phenotypes_by_first_or_named_column(tmp_path):
    path = _write(tmp_path / "p.csv", "sample,BT,age,code\n01005,B2,53,x1\n01010,T1,NA,x2\n")
    pheno = read_phenotypes(path)
    assert list(pheno.index) == ["01005", "01010"]  # zeros kept
    assert pheno["BT"].astype(str).tolist() == ["B2", "T1"]
    assert pheno["age"].iloc[0] == 53 and np.isnan(pheno["age"].iloc[1])
    assert list(read_phenotypes(path, sample_column="code").index) == ["x1", "x2"]
    with pytest.raises(FormatError, match="'nope'"):
        read_phenotypes(path, sample_column="nope")


def test_duplicate_phenotype_ids_are_refused_with_their_lines(tmp_path):
    path = _write(tmp_path / "p.tsv", "id\tBT\ns1\tB\ns2\tT\ns1\tT\n")
    with pytest.raises(DuplicateIdError, match=r"'s1' appears 2 times.*lines 2, 4"):
        read_phenotypes(path)


def _matrix(ids):
    import anndata as ad

    return ad.AnnData(np.zeros((len(ids), 2), dtype=np.float32), obs=pd.DataFrame(index=ids))


def test_join_counts_and_names_the_unmatched_ids():
    pheno = pd.DataFrame({"BT": ["B", "T", "B"]}, index=["s2", "s3", "s9"])
    joined, report = join_phenotypes(_matrix(["s1", "s2", "s3"]), pheno)
    assert list(joined.obs_names) == ["s2", "s3"]
    assert joined.obs["BT"].tolist() == ["B", "T"]
    assert report["n_matched"] == 2
    assert report["expression_only"] == {"count": 1, "first": ["s1"]}
    assert report["phenotype_only"] == {"count": 1, "first": ["s9"]}


def test_join_with_no_shared_id_is_refused_with_a_hint():
    pheno = pd.DataFrame({"BT": ["B", "T"]}, index=["S1", "S2"])
    with pytest.raises(InputDataError, match="no sample id joins.*2 match when case is ignored"):
        join_phenotypes(_matrix(["s1", "s2"]), pheno)


def test_probe_annotation_skips_comments_and_finds_the_gene_column(tmp_path):
    text = "#ID = probe id\n#Gene Symbol = symbol\nID\tGene Title\tGene Symbol\n1007_s_at\tt\tDDR1 /// MIR4640\n1053_at\tt\tRFC2\n117_at\tt\t---\n"
    ann = read_probe_annotation(_write(tmp_path / "gpl.txt", text))
    assert ann.to_dict() == {"1007_s_at": "DDR1 /// MIR4640", "1053_at": "RFC2", "117_at": "---"}
    with pytest.raises(InvalidParameterError, match="--gene-column"):
        read_probe_annotation(tmp_path / "gpl.txt", gene_column="Symbol")
