"""``exprlab info`` and ``exprlab convert``."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main
from exprlab.io import read, read_gmt, write_gct


def _run(argv):
    try:
        main(argv)
    except SystemExit as stop:  # typer may exit 0 explicitly
        assert stop.code in (0, None)


@pytest.fixture
def gct(tmp_path):
    a = ad.AnnData(
        X=np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]]),
        obs=pd.DataFrame({"pert_iname": ["a", "b"]}, index=["s1", "s2"]),
        var=pd.DataFrame({"pr_gene_symbol": ["TP53", "EGFR", "MYC"]}, index=["7157", "1956", "4609"]),
    )
    return write_gct(a, tmp_path / "m.gct")


def test_info_matrix(gct, capsys):
    _run(["info", str(gct)])
    out = " ".join(capsys.readouterr().out.split())
    assert "gct" in out
    assert "2 obs" in out and "3 var" in out
    assert "entrez" in out and "7157" in out
    assert "pert_iname" in out and "pr_gene_symbol" in out
    assert (
        "min 1" in out and "median 3," in out and "max 6" in out and "NaN 1" in out
    )  # finite values 1, 2, 3, 4, 6


def test_info_gmt(tmp_path, capsys):
    p = tmp_path / "s.gmt"
    p.write_text("A\td\tTP53\tEGFR\nB\td\tMYC\n")
    _run(["info", str(p)])
    out = " ".join(capsys.readouterr().out.split())
    assert "gmt" in out and "2 (sizes min 1, median 1.5, max 2)" in out and "symbol" in out


@pytest.mark.parametrize("target", ["c.gctx", "c.h5ad", "c.gct.gz"])
def test_convert_matrix(gct, tmp_path, target, capsys):
    out = tmp_path / target
    _run(["convert", str(gct), str(out)])
    assert str(out) in capsys.readouterr().out
    a, b = read(gct), read(out)
    np.testing.assert_array_equal(a.X, b.X)
    assert b.obs["pert_iname"].tolist() == ["a", "b"]
    assert b.var["pr_gene_symbol"].tolist() == ["TP53", "EGFR", "MYC"]


def test_convert_gmt(tmp_path):
    p = tmp_path / "s.gmt"
    p.write_text("A\td\tTP53\tEGFR\nB\td\tMYC\n")
    _run(["convert", str(p), str(tmp_path / "s.gmt.xz")])
    assert read_gmt(tmp_path / "s.gmt.xz") == {"A": ["TP53", "EGFR"], "B": ["MYC"]}
