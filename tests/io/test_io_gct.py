"""GCT 1.2 / 1.3 reading and writing on small hand-written files."""

from __future__ import annotations

import gzip
import lzma

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import NonFiniteValueError
from exprlab.io import read_gct, write_gct

GCT13 = (
    "#1.3\n"
    "3\t2\t2\t2\n"
    "id\tsymbol\tentrez\tS1\tS2\n"
    "dose\tna\tna\t10\t0.5\n"
    "cell\tna\tna\tA375\tMCF7\n"
    "g1\tTP53\t7157\t1.5\t-2\n"
    "g2\tEGFR\t1956\t0\t3.25\n"
    "g3\tMYC\t4609\tNA\t1e-3\n"
)

GCT12 = "#1.2\n2\t3\nName\tDescription\tA\tB\tC\np1\tdesc one\t1\t2\t3\np2\tdesc two\t4\t5\t6\n"


def test_gct13_values_ids_and_metadata(tmp_path):
    path = tmp_path / "x.gct"
    path.write_text(GCT13)
    a = read_gct(path)
    # obs = the GCT columns (samples), var = the GCT rows (genes)
    assert a.shape == (2, 3)
    assert list(a.obs_names) == ["S1", "S2"]
    assert list(a.var_names) == ["g1", "g2", "g3"]
    expected = np.array([[1.5, 0.0, np.nan], [-2.0, 3.25, 0.001]])
    np.testing.assert_array_equal(a.X, expected)
    assert a.var["symbol"].tolist() == ["TP53", "EGFR", "MYC"]
    assert a.var["entrez"].dtype == np.int64 and a.var["entrez"].tolist() == [7157, 1956, 4609]
    assert a.obs["dose"].dtype == np.float64 and a.obs["dose"].tolist() == [10.0, 0.5]
    assert a.obs["cell"].tolist() == ["A375", "MCF7"]
    assert a.uns["gct_version"] == "1.3"


def test_gct12_reads_description(tmp_path):
    path = tmp_path / "x.gct"
    path.write_text(GCT12)
    a = read_gct(path)
    assert a.shape == (3, 2)
    np.testing.assert_array_equal(a.X, [[1, 4], [2, 5], [3, 6]])
    assert a.var["Description"].tolist() == ["desc one", "desc two"]
    assert a.uns["gct_version"] == "1.2"


def test_crlf_and_padding_tabs_are_accepted(tmp_path):
    path = tmp_path / "x.gct"
    path.write_bytes(GCT12.replace("#1.2\n", "#1.2\t\t\n").replace("\n", "\r\n").encode())
    a = read_gct(path)
    np.testing.assert_array_equal(a.X, [[1, 4], [2, 5], [3, 6]])


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gct.gz"), (lzma.open, ".gct.xz")])
def test_compressed_gct(tmp_path, opener, suffix):
    path = tmp_path / f"x{suffix}"
    with opener(path, "wt") as fh:
        fh.write(GCT13)
    a = read_gct(path)
    assert a.shape == (2, 3) and a.X[1, 2] == 0.001


def _random_adata(rng, n_obs=7, n_var=11):
    X = rng.standard_normal((n_obs, n_var)) * 10.0 ** rng.integers(-6, 6, (n_obs, n_var))
    X[0, 0] = np.nan
    obs = pd.DataFrame(
        {
            "drug": [f"drug {i}" for i in range(n_obs)],
            "dose": rng.random(n_obs),
            "count": rng.integers(-5, 50, n_obs),
            "partly": [None if i % 3 == 0 else f"x{i}" for i in range(n_obs)],
        },
        index=[f"sig:{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame(
        {"symbol": [f"G{j}" for j in range(n_var)], "score": rng.standard_normal(n_var)},
        index=[str(1000 + j) for j in range(n_var)],
    )
    return ad.AnnData(X=X, obs=obs, var=var)


@pytest.mark.parametrize("suffix", [".gct", ".gct.gz", ".gct.xz"])
def test_round_trip_is_exact(tmp_path, suffix):
    a = _random_adata(np.random.default_rng(1))
    path = write_gct(a, tmp_path / f"r{suffix}")
    b = read_gct(path)
    np.testing.assert_array_equal(b.X, a.X)  # bit-exact floats, NaN kept
    assert list(b.obs_names) == list(a.obs_names) and list(b.var_names) == list(a.var_names)
    assert b.obs["dose"].tolist() == a.obs["dose"].tolist()
    assert b.obs["count"].dtype == np.int64 and b.obs["count"].tolist() == a.obs["count"].tolist()
    assert b.obs["drug"].tolist() == a.obs["drug"].tolist()
    assert b.obs["partly"].isna().tolist() == [True, False, False, True, False, False, True]
    assert b.var["score"].tolist() == a.var["score"].tolist()
    # a second trip reproduces the first exactly (dtypes included)
    c = read_gct(write_gct(b, tmp_path / f"r2{suffix}"))
    pd.testing.assert_frame_equal(c.obs, b.obs)
    pd.testing.assert_frame_equal(c.var, b.var)


def test_float32_round_trip(tmp_path):
    a = _random_adata(np.random.default_rng(2))
    a.X = a.X.astype(np.float32)
    b = read_gct(write_gct(a, tmp_path / "f.gct"), dtype=np.float32)
    assert b.X.dtype == np.float32
    np.testing.assert_array_equal(b.X, a.X)


def test_write_12_keeps_description_and_warns(tmp_path):
    a = _random_adata(np.random.default_rng(3))
    a.var["Description"] = [f"d{j}" for j in range(a.n_vars)]
    with pytest.warns(UserWarning, match="dropped"):
        path = write_gct(a, tmp_path / "v12.gct", version="1.2")
    text = path.read_text().splitlines()
    assert text[0] == "#1.2" and text[1] == "11\t7"
    assert text[2].split("\t")[:3] == ["Name", "Description", "sig:0"]
    b = read_gct(path)
    assert b.var["Description"].tolist() == a.var["Description"].tolist()
    np.testing.assert_array_equal(b.X, a.X)


def test_written_layout_matches_the_standard(tmp_path):
    a = ad.AnnData(
        X=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        obs=pd.DataFrame({"cell": ["A", "B"]}, index=["s1", "s2"]),
        var=pd.DataFrame({"sym": ["X", "Y", "Z"]}, index=["g1", "g2", "g3"]),
    )
    lines = write_gct(a, tmp_path / "l.gct").read_text().splitlines()
    assert lines == [
        "#1.3",
        "3\t2\t1\t1",
        "id\tsym\ts1\ts2",
        "cell\tna\tA\tB",
        "g1\tX\t1.0\t4.0",
        "g2\tY\t2.0\t5.0",
        "g3\tZ\t3.0\t6.0",
    ]


def test_nan_policy(tmp_path):
    path = tmp_path / "x.gct"
    path.write_text(GCT13)
    assert np.isnan(read_gct(path).X[0, 2])
    with pytest.raises(NonFiniteValueError, match="g3") as err:
        read_gct(path, allow_nan=False)
    assert "S1" in str(err.value) and "line 8" in str(err.value)
