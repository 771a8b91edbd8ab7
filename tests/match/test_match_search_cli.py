"""``exprlab score --n-permutations / --group-by / --tau-background`` and ``exprlab search``."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData
from typer.testing import CliRunner

from exprlab.cli import app, main
from exprlab.io import write_gmt, write_h5ad
from exprlab.match import score, significance
from exprlab.report import render_report

DRUGS = ["vorinostat", "trichostatin-a", "pyroxamide", "aspirin", "caffeine", "haloperidol"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    rng = np.random.default_rng(0)
    genes = [f"g{i}" for i in range(80)]
    ids = [f"{d}__{c}__trt_cp" for d in DRUGS for c in ("A375", "MCF7")]
    x = rng.standard_normal((len(ids), 80)).astype(np.float32)
    x[:6, :10] += 3.0  # the first three drugs (both cells) raise g0..g9
    lib = AnnData(x, var=pd.DataFrame(index=genes))
    lib.obs_names = ids
    write_h5ad(lib, root / "lib.h5ad")
    write_gmt({"hdac_up": genes[:10], "hdac_dn": genes[70:80]}, root / "query.gmt")
    write_gmt({"hdac_inhibitors": ["Vorinostat", "Trichostatin A", "Pyroxamide"]}, root / "classes.gmt")
    return root, lib


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_score_with_permutations_writes_pvalues_and_fdr(files):
    root, lib = files
    out = root / "scores.tsv"
    res = _run(
        "score",
        "-l",
        root / "lib.h5ad",
        "--query",
        root / "query.gmt",
        "-o",
        out,
        "--n-permutations",
        50,
        "--seed",
        3,
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, sep="\t")
    assert {"pvalue", "fdr"} <= set(table.columns)
    q = {"hdac": (["g" + str(i) for i in range(10)], ["g" + str(i) for i in range(70, 80)])}
    expected = significance(q, lib, "wtcs", n_permutations=50, seed=3).pvalue.to_numpy().ravel()
    assert np.allclose(table["pvalue"].to_numpy(), expected)
    # the manifest records the null as applied, and the report shows what it found
    params = json.loads((root / "scores.tsv.run.json").read_text())["parameters"]
    assert (params["n_permutations"], params["null"], params["seed"]) == (50, "signature", 3)
    assert None not in params.values(), params
    html = render_report(out).read_text(encoding="utf-8")
    assert "p-values from 50 random queries" in html
    n_significant = int((table["fdr"] <= 0.05).sum())
    smallest = table["pvalue"].min()
    row = re.search(r'<td class="t">hdac</td>(.*?)</tr>', html).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[-2:] == [f"{smallest:.3g}", str(n_significant)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-permutations", "0"], "--n-permutations"),
        (["--n-permutations", "10", "--method", "cosine"], "--method"),
        (["--n-permutations", "10", "--wide"], "tidy table"),
        (["--method", "ncs", "--group-by", "cell_line"], "no column"),
    ],
)
def test_score_bad_options_exit_2_with_one_line(files, extra, message, capsys):
    root, _ = files
    args = ["score", "-l", root / "lib.h5ad", "--query", root / "query.gmt", "-o", root / "bad.tsv", *extra]
    with pytest.raises(SystemExit) as stop:
        main([str(a) for a in args])
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]


def test_score_ncs_by_parsed_cell_line_and_library_tau(files):
    root, lib = files
    out = root / "ncs.tsv"
    res = _run(
        "score",
        "-l",
        root / "lib.h5ad",
        "--query",
        root / "query.gmt",
        "-o",
        out,
        "--method",
        "ncs",
        "--group-by",
        "cell_line",
        "--parse-ids",
        "drug__cell__type",
    )
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, sep="\t")["score"].to_numpy()
    lib2 = lib.copy()
    lib2.obs["cell_line"] = [i.split("__")[1] for i in lib.obs_names]
    q = {"hdac": (["g" + str(i) for i in range(10)], ["g" + str(i) for i in range(70, 80)])}
    assert np.allclose(got, score(q, lib2, "ncs", group_by="cell_line").to_numpy().ravel())
    res = _run(
        "score",
        "-l",
        root / "lib.h5ad",
        "--query",
        root / "query.gmt",
        "-o",
        root / "tau.tsv",
        "--method",
        "tau",
        "--tau-background",
        "library",
        "--n-background",
        6,
    )
    assert res.exit_code == 0, res.output
    tau = pd.read_csv(root / "tau.tsv", sep="\t")
    assert tau["score"].between(-100, 100).all() and len(tau) == lib.n_obs


def test_search_writes_hits_summaries_and_enrichment(files):
    root, _ = files
    out = root / "search"
    res = _run(
        "search",
        "-l",
        root / "lib.h5ad",
        "--query",
        root / "query.gmt",
        "-o",
        out,
        "--n-permutations",
        99,
        "--parse-ids",
        "drug__cell__type",
        "--drug-sets",
        root / "classes.gmt",
        "--top",
        3,
        "--direction",
        "positive",
    )
    assert res.exit_code == 0, res.output
    perts = pd.read_csv(out / "perturbagens.tsv", sep="\t")
    assert set(perts["drug"].head(3)) == {"vorinostat", "trichostatina", "pyroxamide"}
    assert (perts["n_cells"] == 2).all()
    enr = pd.read_csv(out / "enrichment.tsv", sep="\t").set_index("set")
    # 3 of the 6 drugs are in the class, all 3 among the 3 hits: P = 1 / C(6, 3)
    assert enr.loc["hdac_inhibitors", "pvalue"] == pytest.approx(1 / 20)
    hits = pd.read_csv(out / "hits.tsv", sep="\t")
    assert {"pvalue", "fdr", "drug", "cell_line"} <= set(hits.columns)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["kind"] == "signature-search"
    assert manifest["parameters"]["n_permutations"] == 99
    html = render_report(out).read_text(encoding="utf-8")
    for title in ("Significance", "Perturbagens", "What the top hits share", "hdac_inhibitors"):
        assert title in html


def test_score_aggregates_by_drug_parsed_from_ids(files):
    root, lib = files
    out = root / "by_drug.tsv"
    res = _run(
        "score",
        "-l",
        root / "lib.h5ad",
        "--query",
        root / "query.gmt",
        "-o",
        out,
        "--aggregate",
        "max",
        "--by",
        "drug",
        "--parse-ids",
        "drug__cell__type",
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, sep="\t").set_index("query")
    q = {"hdac": (["g" + str(i) for i in range(10)], ["g" + str(i) for i in range(70, 80)])}
    raw = score(q, lib, "wtcs").iloc[0]
    for drug, name in (("vorinostat", "vorinostat"), ("trichostatina", "trichostatin-a")):
        expected = max(raw[f"{name}__A375__trt_cp"], raw[f"{name}__MCF7__trt_cp"])
        assert table.loc["hdac", drug] == pytest.approx(expected)
