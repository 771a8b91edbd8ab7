"""Import a cohort: a matrix in either orientation, phenotypes by sample id, probes to genes.

The readers detect which axis holds the genes; import_expression joins the phenotypes, drops the
AFFX control probes and keeps, per gene, the probe with the highest mean (docs/methods.md §4).
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np

import exprlab.io as eio
from exprlab.genes import collapse_probes
from exprlab.workflows import import_expression

with tempfile.TemporaryDirectory() as folder:
    folder = Path(folder)
    # samples as rows (GEO accessions), probes as columns
    (folder / "matrix.csv").write_text(
        "sample,AFFX-CreX-3_at,1007_s_at,1053_at,117_at\n"
        "GSM1,9.0,7.0,5.0,6.0\n"
        "GSM2,9.1,7.5,5.5,6.0\n"
        "GSM3,9.2,8.0,6.0,6.0\n"
    )
    (folder / "pheno.tsv").write_text("id\tgroup\tage\nGSM1\tcase\t40\nGSM2\tcontrol\t51\nGSM3\tcase\t63\n")
    (folder / "annotation.csv").write_text("ID,Gene Symbol\n1007_s_at,DDR1\n1053_at,DDR1\n117_at,RFC2\n")

    matrix = eio.read_expression_table(folder / "matrix.csv")
    assert matrix.uns["layout"]["genes_as"] == "columns" and matrix.shape == (3, 4)

    # the probe step on its own: DDR1 keeps 1007_s_at (mean 7.5) over 1053_at (mean 5.5)
    genes, probe_report = collapse_probes(matrix, eio.read_probe_annotation(folder / "annotation.csv"))
    assert genes.var.loc["DDR1", "probe"] == "1007_s_at" and probe_report["n_controls"] == 1

    # everything at once, written as an h5ad that every command reads
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sample joins: no warning expected
        adata, report = import_expression(
            folder / "matrix.csv",
            pheno=folder / "pheno.tsv",
            annotation=folder / "annotation.csv",
            out=folder / "cohort.h5ad",
        )
    assert list(adata.var_names) == ["DDR1", "RFC2"]
    np.testing.assert_array_equal(adata.X[:, 0], [7.0, 7.5, 8.0])
    back = eio.read(folder / "cohort.h5ad")
    assert back.obs["group"].astype(str).tolist() == ["case", "control", "case"]
    print(
        f"imported {adata.n_obs} samples x {adata.n_vars} genes; genes were the file's "
        f"{report['genes_as']}; {report['probes']['n_controls']} control probe dropped, "
        f"{report['probes']['n_collapsed']} probe collapsed ({report['probes']['collapse']})"
    )
