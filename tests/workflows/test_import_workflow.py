"""import_expression: small hand-written cohorts end to end, and the public leukaemia cohorts."""

from __future__ import annotations

import csv
import gzip

import anndata as ad
import numpy as np
import pytest

from exprlab.errors import DuplicateIdError, FileAccessError, InputDataError, InvalidParameterError
from exprlab.io import write_gct
from exprlab.workflows import import_expression

# genes as columns, samples as rows (GEO accessions): the orientation is detected
MATRIX = (
    "sample,AFFX-BioB-5_at,1007_s_at,1053_at,117_at,121_at\n"
    "GSM1,9,1,2,5,7\n"
    "GSM2,9,3,4,5,8\n"
    "GSM3,9,5,6,5,9\n"
    "GSM4,9,7,8,5,10\n"
)
PHENO = "id,BT,age\nGSM2,B,30\nGSM3,T,41\nGSM4,B,52\nGSM8,X,60\n"  # class X only on GSM8
ANNOTATION = "ID,Gene Symbol\n1007_s_at,DDR1\n1053_at,DDR1\n117_at,RFC2 /// RFC3\n"


@pytest.fixture
def cohort(tmp_path):
    with gzip.open(tmp_path / "m.csv.gz", "wt") as fh:
        fh.write(MATRIX)
    (tmp_path / "p.csv").write_text(PHENO)
    (tmp_path / "a.csv").write_text(ANNOTATION)
    return tmp_path


def test_a_small_cohort_end_to_end(cohort):
    with pytest.warns(UserWarning) as caught:
        adata, report = import_expression(
            cohort / "m.csv.gz", pheno=cohort / "p.csv", annotation=cohort / "a.csv", out=cohort / "o.h5ad"
        )
    messages = " | ".join(str(w.message) for w in caught)
    assert "1 matrix sample has no phenotype row" in messages and "GSM1" in messages
    assert "1 phenotype row has no matrix sample" in messages and "GSM8" in messages
    # samples GSM2..GSM4; DDR1 = the brighter of 1007_s_at (means 5) and 1053_at (means 6)
    assert list(adata.obs_names) == ["GSM2", "GSM3", "GSM4"]
    assert list(adata.var_names) == ["DDR1"]
    np.testing.assert_array_equal(adata.X[:, 0], [4, 6, 8])
    assert adata.obs["BT"].astype(str).tolist() == ["B", "T", "B"]
    assert list(adata.obs["BT"].cat.categories) == ["B", "T"]
    probes = report["probes"]
    # AFFX control; 117_at names two genes (dropped); 121_at has no annotation row
    assert (probes["n_controls"], probes["n_multi_gene"], probes["n_unannotated"]) == (1, 1, 1)
    assert probes["n_collapsed"] == 1
    assert report["genes_as"] == "columns" and report["phenotypes"]["n_matched"] == 3
    back = ad.read_h5ad(cohort / "o.h5ad")
    np.testing.assert_array_equal(back.X, adata.X)
    assert back.uns["import"]["phenotypes"]["expression_only"]["first"].tolist() == ["GSM1"]
    assert back.uns["import"]["probes"]["n_controls"] == 1
    assert back.obs["BT"].astype(str).tolist() == ["B", "T", "B"]


def test_without_annotation_controls_are_still_dropped(cohort):
    adata, report = import_expression(cohort / "m.csv.gz")
    assert adata.shape == (4, 4) and "AFFX-BioB-5_at" not in adata.var_names
    assert report["probes"]["n_controls"] == 1
    kept, _ = import_expression(cohort / "m.csv.gz", keep_controls=True)
    assert kept.n_vars == 5


def test_the_output_is_only_replaced_with_force(cohort):
    import_expression(cohort / "m.csv.gz", out=cohort / "o.h5ad")
    with pytest.raises(FileAccessError, match="--force"):
        import_expression(cohort / "m.csv.gz", out=cohort / "o.h5ad")
    import_expression(cohort / "m.csv.gz", out=cohort / "o.h5ad", force=True)
    (cohort / "mine.h5ad").write_text("not exprlab's")
    with pytest.raises(FileAccessError):
        import_expression(cohort / "m.csv.gz", out=cohort / "mine.h5ad", force=True)
    assert (cohort / "mine.h5ad").read_text() == "not exprlab's"


def test_a_gene_column_of_the_matrix_itself_maps_the_probes(tmp_path):
    text = "ID,Gene.symbol,S1,S2\n1007_s_at,DDR1,1,2\n1053_at,DDR1,5,6\n117_at,,3,3\nAFFX-x_at,GAPDH,9,9\n"
    (tmp_path / "m.csv").write_text(text)
    adata, report = import_expression(tmp_path / "m.csv", gene_column="Gene.symbol")
    assert list(adata.var_names) == ["DDR1"] and adata.var["probe"].tolist() == ["1053_at"]
    assert (report["probes"]["n_controls"], report["probes"]["n_unannotated"]) == (1, 1)
    with pytest.raises(InvalidParameterError, match="'Symbol'.*Gene.symbol"):
        import_expression(tmp_path / "m.csv", gene_column="Symbol")


def test_a_gene_on_several_rows_is_collapsed_like_probes(tmp_path):
    (tmp_path / "m.csv").write_text("gene,s1,s2,s3\nTP53,1,2,3\nEGFR,5,5,5\nTP53,7,8,9\n")
    adata, report = import_expression(tmp_path / "m.csv", genes_as="rows")
    assert list(adata.var_names) == ["TP53", "EGFR"] and report["probes"]["n_collapsed"] == 1
    np.testing.assert_array_equal(adata.X[:, 0], [7, 8, 9])  # the brighter TP53 row (mean 8 > 2)
    (tmp_path / "t.csv").write_text("s,TP53,TP53,EGFR\nGSM1,1,2,3\nGSM2,4,5,6\n")
    averaged, _ = import_expression(tmp_path / "t.csv", collapse="mean")
    np.testing.assert_array_equal(averaged.X, np.array([[1.5, 3], [4.5, 6]], dtype=np.float32))
    (tmp_path / "s.csv").write_text("s,TP53,EGFR\nGSM1,1,2\nGSM1,4,5\n")
    with pytest.raises(DuplicateIdError, match="sample id 'GSM1'"):
        import_expression(tmp_path / "s.csv")


def test_unlogged_values_warn_and_are_kept(tmp_path):
    (tmp_path / "m.csv").write_text("probe,S1,S2\n1007_s_at,150,2000\n1053_at,30,40\n")
    with pytest.warns(UserWarning, match=r"look unlogged \(max 2000"):
        adata, report = import_expression(tmp_path / "m.csv")
    assert report["looks_unlogged"] and adata.X.max() == 2000


def test_a_transposed_gct_is_detected(tmp_path):
    # a GCT whose rows are samples (GSM) and columns probes: genes are the file's columns
    a = ad.AnnData(np.arange(6, dtype=np.float32).reshape(3, 2))
    a.obs_names = ["1007_s_at", "1053_at", "117_at"]
    a.var_names = ["GSM1", "GSM2"]
    write_gct(a, tmp_path / "t.gct")
    adata, report = import_expression(tmp_path / "t.gct")
    assert list(adata.obs_names) == ["GSM1", "GSM2"] and report["genes_as"] == "columns"
    assert list(adata.var_names) == ["1007_s_at", "1053_at", "117_at"]
    np.testing.assert_array_equal(adata.X, np.arange(6, dtype=np.float32).reshape(3, 2).T)


def test_a_gct_keeps_its_convention_when_only_the_shape_disagrees(tmp_path):
    # 2 gene symbols (rows) x 8 samples: the shape alone would call the columns genes
    a = ad.AnnData(np.ones((8, 2), dtype=np.float32))
    a.obs_names = [f"patient{i}" for i in range(8)]
    a.var_names = ["TP53", "EGFR"]
    write_gct(a, tmp_path / "s.gct")
    adata, report = import_expression(tmp_path / "s.gct")
    assert list(adata.var_names) == ["TP53", "EGFR"] and report["genes_as"] == "rows"


def test_cls_labels_join_by_position(tmp_path):
    (tmp_path / "m.csv").write_text("probe,S1,S2,S3\n1007_s_at,1,2,3\n1053_at,4,5,6\n")
    (tmp_path / "l.cls").write_text("3 2 1\n# ALL AML\nALL AML AML\n")
    adata, report = import_expression(tmp_path / "m.csv", pheno=tmp_path / "l.cls")
    assert adata.obs["label"].astype(str).tolist() == ["ALL", "AML", "AML"]
    assert report["phenotypes"]["join"] == "by position (CLS)"
    (tmp_path / "short.cls").write_text("2 2 1\n# ALL AML\nALL AML\n")
    with pytest.raises(InputDataError, match="2 labels for 3 samples"):
        import_expression(tmp_path / "m.csv", pheno=tmp_path / "short.cls")


def test_options_that_need_another_are_refused(cohort):
    with pytest.raises(InvalidParameterError, match="--pheno"):
        import_expression(cohort / "m.csv.gz", sample_column="id")
    with pytest.raises(InvalidParameterError, match="--annotation"):
        import_expression(cohort / "m.csv.gz", probe_column="ID")
    with pytest.raises(InvalidParameterError, match="collapse"):
        import_expression(cohort / "m.csv.gz", collapse="median")  # type: ignore[arg-type]


def _first_column(path) -> list[str]:
    with gzip.open(path, "rt") as fh:
        rows = csv.reader(fh)
        next(rows)
        return [row[0] for row in rows]


def test_all_chiaretti_cohort(data_dir):
    folder = data_dir / "expression"
    matrix = folder / "ALL_Chiaretti_hgu95av2_exprs_12625x128.csv.gz"
    adata, report = import_expression(matrix, pheno=folder / "ALL_Chiaretti_pheno_128.csv")
    probes = _first_column(matrix)
    controls = [p for p in probes if p.startswith("AFFX")]
    assert len(probes) == 12625 and len(controls) > 0
    assert adata.n_obs == 128 and "BT" in adata.obs.columns
    assert adata.n_vars == len(probes) - len(controls)
    assert report["probes"]["n_controls"] == len(controls)
    assert not any(v.startswith("AFFX") for v in adata.var_names)
    assert report["phenotypes"]["expression_only"]["count"] == 0
    assert report["genes_as"] == "rows" and not report["looks_unlogged"]
    assert adata.obs["BT"].astype(str).str[0].value_counts().to_dict() == {"B": 95, "T": 33}


def test_golub_gct_with_cls_labels(data_dir):
    folder = data_dir / "expression"
    with gzip.open(folder / "Leukemia_hgu95av2.gct.gz", "rt") as fh:
        probes = [line.split("\t", 1)[0] for line in fh.read().splitlines()[3:]]
    controls = [p for p in probes if p.upper().startswith("AFFX")]
    with pytest.warns(UserWarning, match="unlogged"):
        adata, report = import_expression(folder / "Leukemia_hgu95av2.gct.gz", pheno=folder / "Leukemia.cls")
    assert adata.n_obs == 48 and adata.n_vars == len(probes) - len(controls)
    assert report["probes"]["n_controls"] == len(controls) > 0
    assert adata.obs["label"].astype(str).value_counts().to_dict() == {"ALL": 24, "AML": 24}
    assert adata.obs_names[0] == "ALL_1" and adata.obs.loc["AML_1", "label"] == "AML"


def test_breast_tcga_needs_genes_as_and_then_joins_its_subtypes(data_dir):
    folder = data_dir / "expression"
    matrix = folder / "breastTCGA_data.train_mrna.csv.gz"
    # 150 samples (short TCGA ids) x 200 symbols: neither the ids nor the shape decide
    with pytest.raises(InputDataError, match="--genes-as"):
        import_expression(matrix)
    adata, report = import_expression(
        matrix, genes_as="columns", pheno=folder / "breastTCGA_data.train_subtype.csv"
    )
    assert adata.shape == (150, 200) and report["genes_as"] == "columns"
    assert adata.obs["subtype"].astype(str).value_counts().to_dict() == {"LumA": 75, "Basal": 45, "Her2": 30}
