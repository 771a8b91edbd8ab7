"""CLS labels, h5ad, result tables, the signatureSearch HDF5 layout and format dispatch."""

from __future__ import annotations

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import FormatError, InvalidParameterError, UnknownFormatError
from exprlab.io import (
    convert,
    detect_format,
    guess_id_kind,
    read,
    read_cls,
    read_gct,
    read_h5ad,
    read_signaturesearch_h5,
    read_table,
    write,
    write_cls,
    write_gct,
    write_gctx,
    write_h5ad,
    write_table,
)


def _adata():
    return ad.AnnData(
        X=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, np.nan]]),
        obs=pd.DataFrame({"cell": ["A", "B"], "dose": [1.0, 2.5]}, index=["s1", "s2"]),
        var=pd.DataFrame({"sym": ["X", "Y", "Z"]}, index=["g1", "g2", "g3"]),
    )


def test_cls_names_and_codes(tmp_path):
    p = tmp_path / "a.cls"
    p.write_text("5 2 1\n# ALL AML\nALL ALL AML ALL AML\n")
    labels = read_cls(p)
    assert labels.tolist() == ["ALL", "ALL", "AML", "ALL", "AML"]
    assert list(labels.cat.categories) == ["ALL", "AML"]
    q = tmp_path / "b.cls"
    q.write_text("4 2 1\n# tumour normal\n1 1 0 0\n")  # codes: first distinct label = first name
    assert read_cls(q).tolist() == ["tumour", "tumour", "normal", "normal"]
    back = read_cls(write_cls(labels, tmp_path / "c.cls"))
    assert back.tolist() == labels.tolist()


def test_cls_errors(tmp_path):
    p = tmp_path / "bad.cls"
    p.write_text("5 2 1\n# ALL AML\nALL ALL AML\n")
    with pytest.raises(FormatError, match="5 samples but line 3 has 3"):
        read_cls(p)


def test_h5ad_round_trip_keeps_strings(tmp_path):
    a = _adata()
    b = read_h5ad(write_h5ad(a, tmp_path / "a.h5ad"))
    np.testing.assert_array_equal(b.X, a.X)
    pd.testing.assert_frame_equal(b.obs, a.obs)
    assert a.obs["cell"].dtype == object  # the input was not converted to categoricals


@pytest.mark.parametrize("name", ["t.parquet", "t.tsv", "t.tsv.gz"])
def test_tables(tmp_path, name):
    df = pd.DataFrame({"query": ["q1", "q2"], "score": [0.5, -1.25], "rank": [1, 2]})
    back = read_table(write_table(df, tmp_path / name))
    pd.testing.assert_frame_equal(back, df)


def test_table_index_is_written(tmp_path):
    df = pd.DataFrame({"score": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="drug"))
    pd.testing.assert_frame_equal(read_table(write_table(df, tmp_path / "i.parquet")), df)
    back = read_table(write_table(df, tmp_path / "i.tsv"), index_col=0)
    pd.testing.assert_frame_equal(back, df)


def test_signaturesearch_layout_both_orientations(tmp_path):
    m = np.arange(6, dtype=np.float64).reshape(2, 3)  # 2 signatures x 3 genes
    for orient, data in (("sig_first", m), ("gene_first", m.T)):
        p = tmp_path / f"{orient}.h5"
        with h5py.File(p, "w") as h5:
            h5["assay"] = data
            h5["colnames"] = np.array([[b"drugA__X__trt_cp", b"drugB__X__trt_cp"]])  # R writes 1 x n
            h5["rownames"] = np.array([[b"7157", b"1956", b"4609"]])
        a = read_signaturesearch_h5(p)
        assert list(a.obs_names) == ["drugA__X__trt_cp", "drugB__X__trt_cp"]
        assert list(a.var_names) == ["7157", "1956", "4609"]
        np.testing.assert_array_equal(a.X, m)
        assert detect_format(p) == "signaturesearch"
        np.testing.assert_array_equal(read(p).X, m)


def test_dispatch_and_convert(tmp_path):
    a = _adata()
    for name, fmt in [("a.gct", "gct"), ("a.gct.gz", "gct"), ("a.gctx", "gctx"), ("a.h5ad", "h5ad")]:
        path = write(a, tmp_path / name)
        assert detect_format(path) == fmt
        b = read(path)
        np.testing.assert_array_equal(b.X, a.X)
        assert b.obs["dose"].tolist() == [1.0, 2.5]
    # a GCTX stored under .h5 is recognised from its content, a GCT under an odd name too
    gctx_h5 = write_gctx(a, tmp_path / "lib.h5")
    assert detect_format(gctx_h5) == "gctx"
    odd = tmp_path / "matrix.data"
    write_gct(a, tmp_path / "m.gct").rename(odd)
    assert detect_format(odd) == "gct"
    out = convert(tmp_path / "a.gct", tmp_path / "c.gctx")
    np.testing.assert_array_equal(read(out).X, a.X)
    with pytest.raises(UnknownFormatError):
        write(a, tmp_path / "a.csv")
    with pytest.raises(InvalidParameterError, match="gene sets"):
        sets = tmp_path / "s.gmt"
        sets.write_text("S\td\tA\n")
        convert(sets, tmp_path / "s.gctx")
    assert not (tmp_path / "s.gctx").exists()
    np.testing.assert_array_equal(read_gct(convert(gctx_h5, tmp_path / "back.gct")).X, a.X)


def test_guess_id_kind():
    assert guess_id_kind(["7157", "1956", "4609"]) == "entrez"
    assert guess_id_kind(["ENSG00000141510", "ENSG00000146648.3"]) == "ensembl"
    assert guess_id_kind(["200814_at", "1007_s_at", "AFFX-BioB-5_at"]) == "probe"
    assert guess_id_kind(["TP53", "EGFR", "HLA-A", "C1orf112"]) == "symbol"
    assert guess_id_kind(["TP53", "7157", "ENSG00000141510", "x y"]) == "mixed"
