"""`exprlab match explain`: tables, pathways and plot from signature files; clear errors."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from _planted_inputs import SMALL_LEARNED, small_planted
from exprlab.cli import app
from exprlab.io import write_gmt, write_h5ad
from exprlab.workflows._repurposing import train_models


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    b = small_planted()
    model = train_models(b, root / "model", arch="paper", n_seeds=1, settings=SMALL_LEARNED)
    row = b.indications[b.indications["mechanism"]].iloc[0]
    dis = b.diseases[b.diseases.obs["disease"] == row["disease"]].copy()
    drg = b.drugs[b.drugs.obs["drug"] == row["drug"]].copy()
    write_h5ad(dis, root / "disease.h5ad")
    write_h5ad(drg, root / "drug.h5ad")
    write_gmt({f"pathway_{k}": v for k, v in b.truth["pathways"].items()}, root / "sets.gmt")
    write_gmt({"other": ["TP53", "EGFR", "MYC"]}, root / "other.gmt")
    return root, model


def test_cli_writes_tables_pathways_and_plot(files):
    root, model = files
    out = root / "expl"
    res = CliRunner().invoke(
        app,
        [
            "match",
            "explain",
            "--model",
            str(model),
            "--disease",
            str(root / "disease.h5ad"),
            "--drug",
            str(root / "drug.h5ad"),
            "--genesets",
            str(root / "sets.gmt"),
            "--top",
            "10",
            "--n-steps",
            "16",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    genes = pd.read_csv(out / "genes.tsv", sep="\t")
    assert {
        "gene",
        "rank",
        "disease_value",
        "drug_value",
        "disease_attribution",
        "drug_attribution",
        "combined",
    } <= set(genes.columns)
    assert (genes["rank"] == range(1, len(genes) + 1)).all()
    pathways = pd.read_csv(out / "pathways.tsv", sep="\t")
    assert pathways["pathway"].str.startswith("pathway_").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["top_genes"][0] == genes["gene"].iloc[0]
    assert summary["disease"].startswith("disease_") and summary["drug"].startswith("drug_")
    assert (out / "explanation.png").stat().st_size > 1000
    assert "wrote" in res.output
    # the report renders the explained match as its own section
    from exprlab.report import render_report

    html = render_report(out).read_text()
    assert f"Why {summary['drug']} for {summary['disease']}" in html
    assert summary["top_genes"][0] in html


def test_cli_bad_gmt_and_unknown_file_are_one_line_errors(files, capsys):
    from exprlab.cli import main

    root, model = files
    args = [
        "match",
        "explain",
        "--disease",
        str(root / "disease.h5ad"),
        "--drug",
        str(root / "drug.h5ad"),
        "--out",
        str(root / "bad"),
    ]
    cases = (
        (["--model", str(model), "--genesets", str(root / "other.gmt")], "shares a gene"),
        (["--model", str(root)], "model.json is missing"),
    )
    for extra, pattern in cases:
        with pytest.raises(SystemExit) as exit_info:
            main([*args, *extra])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and pattern in err and "\n" not in err
    assert not (root / "bad").exists()
