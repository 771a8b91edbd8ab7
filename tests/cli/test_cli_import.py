"""``exprlab import``: a run on small files, bad input (one line, exit 2, no output), real cohorts."""

from __future__ import annotations

import gzip

import anndata as ad
import numpy as np
import pytest

from exprlab.cli import main

MATRIX = "probe,S1,S2,S3,S4\nAFFX-CreX-3_at,9,9,9,9\n1007_s_at,1,2,3,4\n1053_at,5,6,7,8\n117_at,2,2,2,2\n"


def _fixtures(tmp):
    (tmp / "m.csv").write_text(MATRIX)
    with gzip.open(tmp / "m.csv.gz", "wt") as fh:
        fh.write(MATRIX)
    (tmp / "p.csv").write_text("id,BT\nS1,B\nS2,T\nS3,B\nS4,T\n")
    (tmp / "p_other.csv").write_text("id,BT\nX1,B\nX2,T\n")
    (tmp / "p_dup.tsv").write_text("id\tBT\nS1\tB\nS2\tT\nS1\tT\n")
    (tmp / "ann.csv").write_text("ID,Gene Symbol\n1007_s_at,DDR1\n1053_at,DDR1\n117_at,RFC2\n")
    (tmp / "ann_other.csv").write_text("ID,Gene Symbol\n200000_s_at,PRPF8\n")
    (tmp / "empty.csv").write_text("probe,S1,S2\n")
    (tmp / "square.csv").write_text("id,a,b\nTP53,1,2\nEGFR,3,4\n")
    (tmp / "GSE9_series_matrix.txt").write_text(
        '!Series_title\t"t"\n!Sample_geo_accession\t"GSM1"\t"GSM2"\n!Sample_title\t"a"\t"b"\n'
    )


def _run(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as stop:
        code = stop.code or 0
    return code, capsys.readouterr()


def test_import_writes_an_h5ad_and_says_what_it_did(tmp_path, capsys):
    _fixtures(tmp_path)
    out = tmp_path / "o.h5ad"
    args = ["import", str(tmp_path / "m.csv.gz"), "--pheno", str(tmp_path / "p.csv")]
    code, cap = _run([*args, "--annotation", str(tmp_path / "ann.csv"), "-o", str(out)], capsys)
    assert code == 0, cap.err
    assert "4 samples x 2 genes" in cap.out and "1 control probe dropped" in cap.out
    assert "1 probe collapsed into its gene's kept probe (max_mean)" in cap.out
    adata = ad.read_h5ad(out)
    # DDR1: 1053_at (mean 6.5) beats 1007_s_at (mean 2.5)
    np.testing.assert_array_equal(adata.X[:, list(adata.var_names).index("DDR1")], [5, 6, 7, 8])
    code, cap = _run([*args, "-o", str(out)], capsys)
    assert code == 2 and "--force" in cap.err
    code, cap = _run(
        [*args, "--annotation", str(tmp_path / "ann.csv"), "-o", str(out), "--force", "--collapse", "mean"],
        capsys,
    )
    assert code == 0 and "(mean)" in cap.out
    adata = ad.read_h5ad(out)
    np.testing.assert_array_equal(adata.X[:, list(adata.var_names).index("DDR1")], [3, 4, 5, 6])
    code, cap = _run(["info", str(out)], capsys)
    assert code == 0 and "BT" in cap.out


def test_unmatched_ids_are_warned_by_name(tmp_path, capsys):
    _fixtures(tmp_path)
    (tmp_path / "p3.csv").write_text("id,BT\nS1,B\nS2,T\nS3,B\nS7,T\n")
    code, cap = _run(
        [
            "import",
            str(tmp_path / "m.csv"),
            "--pheno",
            str(tmp_path / "p3.csv"),
            "-o",
            str(tmp_path / "o.h5ad"),
        ],
        capsys,
    )
    assert code == 0
    assert "warning: 1 matrix sample has no phenotype row, left out: S4" in cap.err
    assert "warning: 1 phenotype row has no matrix sample, left out: S7" in cap.err
    assert "3 samples joined" in cap.out


def test_info_reads_delimited_text(tmp_path, capsys):
    _fixtures(tmp_path)
    code, cap = _run(["info", str(tmp_path / "m.csv.gz")], capsys)
    out = " ".join(cap.out.split())
    assert code == 0 and "csv" in out and "4 obs" in out and "4 var" in out and "genes as rows" in out


@pytest.mark.slow
def test_train_reads_a_delimited_matrix_directly(tmp_path, capsys):
    rng = np.random.default_rng(0)
    probes = [f"{1000 + j}_at" for j in range(12)]
    rows = ["sample,label," + ",".join(probes)]
    for i in range(20):
        values = rng.normal(size=12) + (2.0 if i % 2 else 0.0)
        rows.append(f"GSM{i},{'b' if i % 2 else 'a'}," + ",".join(f"{v:.4f}" for v in values))
    (tmp_path / "cohort.csv").write_text("\n".join(rows) + "\n")
    code, cap = _run(
        ["train", "--data", str(tmp_path / "cohort.csv"), "--label", "label", "--out", str(tmp_path / "m")],
        capsys,
    )
    assert code == 0, cap.err
    assert (tmp_path / "m").is_dir()


CASES = [
    ("ids-do-not-join", ["{tmp}/m.csv", "--pheno", "{tmp}/p_other.csv"], "no sample id joins"),
    ("annotation-maps-nothing", ["{tmp}/m.csv", "--annotation", "{tmp}/ann_other.csv"], "maps none of the"),
    ("duplicate-pheno-ids", ["{tmp}/m.csv", "--pheno", "{tmp}/p_dup.tsv"], "'s1' appears 2 times"),
    ("empty-matrix", ["{tmp}/empty.csv"], "empty"),
    ("series-without-table", ["{tmp}/GSE9_series_matrix.txt"], "no data table"),
    ("ambiguous-orientation", ["{tmp}/square.csv"], "--genes-as"),
    ("bad-genes-as", ["{tmp}/m.csv", "--genes-as", "diagonal"], "genes-as"),
    (
        "missing-gene-column",
        ["{tmp}/m.csv", "--annotation", "{tmp}/ann.csv", "--gene-column", "sym"],
        "'sym'",
    ),
    ("missing-sample-column", ["{tmp}/m.csv", "--pheno", "{tmp}/p.csv", "--sample-column", "nope"], "'nope'"),
    ("missing-matrix", ["{tmp}/nothere.csv"], "nothere.csv"),
]


@pytest.mark.parametrize("argv,fragment", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_input_one_line_exit_2_no_output(tmp_path, capsys, argv, fragment):
    _fixtures(tmp_path)
    out = tmp_path / "out" / "o.h5ad"
    out.parent.mkdir()
    code, cap = _run(["import", *[a.format(tmp=tmp_path) for a in argv], "-o", str(out)], capsys)
    assert code == 2, cap.err
    lines = [line for line in cap.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), cap.err
    assert fragment.lower() in lines[0].lower()
    assert list(out.parent.iterdir()) == []


@pytest.mark.slow
def test_train_runs_on_an_imported_public_cohort(data_dir, tmp_path, capsys):
    folder = data_dir / "expression"
    out = tmp_path / "all.h5ad"
    code, cap = _run(
        [
            "import",
            str(folder / "ALL_Chiaretti_hgu95av2_exprs_12625x128.csv.gz"),
            "--pheno",
            str(folder / "ALL_Chiaretti_pheno_128.csv"),
            "-o",
            str(out),
        ],
        capsys,
    )
    assert code == 0, cap.err
    with gzip.open(folder / "ALL_Chiaretti_hgu95av2_exprs_12625x128.csv.gz", "rt") as fh:
        probes = [line.split(",", 1)[0].strip('"') for line in fh.read().splitlines()[1:]]
    n_controls = sum(p.startswith("AFFX-") for p in probes)
    assert f"128 samples x {len(probes) - n_controls} genes" in cap.out
    assert f"{n_controls} control probes dropped" in cap.out
    # BT holds sub-lineages (B1, B2, ..., T1 with a single sample, which the tuned classifier's
    # inner cross-validation refuses, naming the class); the lineage is its first letter
    code, cap = _run(
        ["train", "--data", str(out), "--label", "BT", "--out", str(tmp_path / "refused")], capsys
    )
    assert code == 2 and "'T1' (1)" in cap.err
    from exprlab.io import read_h5ad, write_h5ad

    adata = read_h5ad(out)
    adata.obs["lineage"] = adata.obs["BT"].astype(str).str[0]
    write_h5ad(adata, tmp_path / "lineage.h5ad")
    code, cap = _run(
        [
            "train",
            "--data",
            str(tmp_path / "lineage.h5ad"),
            "--label",
            "lineage",
            "--out",
            str(tmp_path / "model"),
        ],
        capsys,
    )
    assert code == 0, cap.err
    assert (tmp_path / "model").is_dir() and "wrote" in cap.out
