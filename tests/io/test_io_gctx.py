"""GCTX writing (standard layout) and reading, including partial reads by id and index."""

from __future__ import annotations

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import DuplicateIdError, FormatError, InputDataError, InvalidParameterError
from exprlab.io import GctxWriter, gctx_ids, read_gctx, write_gctx


def _adata(n_obs=30, n_var=12, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame(
        {
            "pert_iname": rng.choice(["vorinostat", "DMSO", "trichostatin A"], n_obs),
            "pert_dose": rng.random(n_obs),
            "rep": np.arange(n_obs),
            "note": ["é" if i == 0 else ("na" if i == 1 else "ok") for i in range(n_obs)],
        },
        index=[f"sig_{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame(
        {"symbol": [f"G{j}" for j in range(n_var)]}, index=[str(5000 + j) for j in range(n_var)]
    )
    return ad.AnnData(X=rng.standard_normal((n_obs, n_var)).astype(dtype), obs=obs, var=var)


def test_standard_layout(tmp_path):
    a = _adata()
    path = write_gctx(a, tmp_path / "x.gctx")
    with h5py.File(path, "r") as h5:
        assert h5.attrs["version"] == b"GCTX1.0"
        m = h5["0/DATA/0/matrix"]
        assert m.shape == (30, 12)  # columns (signatures) x rows (genes)
        assert m.chunks[1] == 12  # whole signatures per chunk
        np.testing.assert_array_equal(m[()], a.X)
        assert [x.decode() for x in h5["0/META/COL/id"][()]] == list(a.obs_names)
        assert [x.decode() for x in h5["0/META/ROW/id"][()]] == list(a.var_names)
        assert h5["0/META/COL/rep"].dtype == np.int64
        enc = h5py.check_string_dtype(h5["0/META/COL/pert_iname"].dtype)
        assert enc.encoding == "utf-8" and enc.length is not None  # fixed-length UTF-8


@pytest.mark.parametrize("compression", [None, "gzip", "lzf"])
def test_round_trip(tmp_path, compression):
    a = _adata()
    b = read_gctx(write_gctx(a, tmp_path / "x.gctx", compression=compression))
    assert b.X.dtype == np.float32
    np.testing.assert_array_equal(b.X, a.X)
    assert list(b.obs_names) == list(a.obs_names) and list(b.var_names) == list(a.var_names)
    assert list(b.obs.columns) == list(a.obs.columns)
    assert b.obs["pert_dose"].tolist() == a.obs["pert_dose"].tolist()
    assert b.obs["rep"].tolist() == list(range(30))
    assert b.obs["note"].iloc[0] == "é" and pd.isna(b.obs["note"].iloc[1])
    assert b.var["symbol"].tolist() == a.var["symbol"].tolist()


def test_select_by_id_and_index_keeps_requested_order(tmp_path):
    a = _adata()
    path = write_gctx(a, tmp_path / "x.gctx", chunk_size=4)
    cid = ["sig_17", "sig_2", "sig_29"]
    rid = ["5011", "5000", "5003"]
    b = read_gctx(path, cid=cid, rid=rid)
    expected = a.X[[17, 2, 29]][:, [11, 0, 3]]
    np.testing.assert_array_equal(b.X, expected)
    assert list(b.obs_names) == cid and list(b.var_names) == rid
    assert b.obs["rep"].tolist() == [17, 2, 29]
    c = read_gctx(path, cidx=[5, 1], ridx=np.array([2, -1]))
    np.testing.assert_array_equal(c.X, a.X[[5, 1]][:, [2, 11]])
    # a dense selection (read as one span) gives the same as a sparse one
    many = list(range(3, 28))[::-1]
    d = read_gctx(path, cidx=many)
    np.testing.assert_array_equal(d.X, a.X[many])
    mask = np.zeros(30, dtype=bool)
    mask[[4, 9]] = True
    np.testing.assert_array_equal(read_gctx(path, cidx=mask).X, a.X[[4, 9]])


def test_select_large_lists(tmp_path, monkeypatch):
    import exprlab.io._gctx as gctx_mod

    a = _adata(n_obs=200, n_var=20)
    path = write_gctx(a, tmp_path / "x.gctx", chunk_size=16)
    monkeypatch.setattr(gctx_mod, "_FANCY_MAX", 8)  # force the span strategy on both axes
    rng = np.random.default_rng(5)
    rows = rng.choice(200, 150, replace=False)
    cols = rng.choice(20, 15, replace=False)
    b = read_gctx(path, cidx=rows, ridx=cols)
    np.testing.assert_array_equal(b.X, a.X[rows][:, cols])


def test_numeric_ids_come_back_as_strings(tmp_path):
    path = tmp_path / "num.gctx"
    with h5py.File(path, "w") as h5:
        h5["0/DATA/0/matrix"] = np.arange(6, dtype=np.float64).reshape(2, 3)
        h5["0/META/ROW/id"] = np.array([7157, 1956, 4609])
        h5["0/META/COL/id"] = np.array([b"a", b"b"])
    b = read_gctx(path, rid=["1956"])
    assert list(b.var_names) == ["1956"] and isinstance(b.var_names[0], str)
    np.testing.assert_array_equal(b.X, [[1.0], [4.0]])
    assert gctx_ids(path) == (["7157", "1956", "4609"], ["a", "b"])


def test_genes_first_matrix_is_transposed(tmp_path):
    path = tmp_path / "t.gctx"
    m = np.arange(6, dtype=np.float32).reshape(3, 2)  # 3 genes x 2 samples
    with h5py.File(path, "w") as h5:
        h5["0/DATA/0/matrix"] = m
        h5["0/META/ROW/id"] = np.array([b"g1", b"g2", b"g3"])
        h5["0/META/COL/id"] = np.array([b"s1", b"s2"])
    b = read_gctx(path)
    assert b.shape == (2, 3)
    np.testing.assert_array_equal(b.X, m.T)
    np.testing.assert_array_equal(read_gctx(path, cid=["s2"], rid=["g3", "g1"]).X, [[5.0, 1.0]])


def test_bad_selections(tmp_path):
    path = write_gctx(_adata(), tmp_path / "x.gctx")
    with pytest.raises(InputDataError, match="nope"):
        read_gctx(path, cid=["sig_1", "nope"])
    with pytest.raises(InvalidParameterError, match="out of range"):
        read_gctx(path, cidx=[30])
    with pytest.raises(InvalidParameterError, match="both"):
        read_gctx(path, cid=["sig_1"], cidx=[1])
    with pytest.raises(InvalidParameterError, match="repeats"):
        read_gctx(path, cidx=[1, 1])


def test_shape_disagreeing_with_ids(tmp_path):
    path = tmp_path / "bad.gctx"
    with h5py.File(path, "w") as h5:
        h5["0/DATA/0/matrix"] = np.zeros((2, 4))
        h5["0/META/ROW/id"] = np.array([b"g1", b"g2", b"g3"])
        h5["0/META/COL/id"] = np.array([b"s1", b"s2"])
    with pytest.raises(FormatError, match=r"\(2, 4\)"):
        read_gctx(path)


def test_variable_length_strings(tmp_path):
    path = tmp_path / "vlen.gctx"
    str_dt = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as h5:
        h5["0/DATA/0/matrix"] = np.arange(6, dtype=np.float32).reshape(2, 3)
        h5.create_dataset("0/META/ROW/id", data=["g1", "g2", "g3"], dtype=str_dt)
        h5.create_dataset("0/META/COL/id", data=["s1", "s2"], dtype=str_dt)
        h5.create_dataset("0/META/COL/drug", data=["vorinostat", "na"], dtype=str_dt)
        h5.create_dataset("0/META/COL/dose", data=["10", "2.5"], dtype=str_dt)
    b = read_gctx(path, cid=["s2"])
    assert list(b.var_names) == ["g1", "g2", "g3"] and list(b.obs_names) == ["s2"]
    assert pd.isna(b.obs["drug"].iloc[0])
    full = read_gctx(path)
    assert full.obs["drug"].iloc[0] == "vorinostat"
    assert full.obs["dose"].tolist() == [10.0, 2.5]  # numbers stored as text become numbers


def _raw_gctx(path, matrix, genes_first=False):
    """A minimal GCTX written with h5py directly (infinite values included)."""
    n_obs, n_var = matrix.shape
    with h5py.File(path, "w") as h5:
        h5["0/DATA/0/matrix"] = matrix.T if genes_first else matrix
        h5["0/META/ROW/id"] = np.array([f"g{j}".encode() for j in range(n_var)])
        h5["0/META/COL/id"] = np.array([f"s{i}".encode() for i in range(n_obs)])
    return path


@pytest.mark.parametrize("genes_first", [False, True])
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_are_refused_naming_the_cell(tmp_path, bad, genes_first):
    from exprlab.errors import NonFiniteValueError

    matrix = np.ones((4, 3), dtype=np.float32)
    matrix[2, 1] = bad
    path = _raw_gctx(tmp_path / "x.gctx", matrix, genes_first)
    with pytest.raises(NonFiniteValueError, match="gene 'g1', sample 's2'"):
        read_gctx(path)


def test_nan_kept_or_refused_and_huge_finite_values_read(tmp_path):
    from exprlab.errors import NonFiniteValueError

    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    matrix[3, 0] = np.nan
    path = _raw_gctx(tmp_path / "n.gctx", matrix)
    assert np.isnan(read_gctx(path).X[3, 0])
    with pytest.raises(NonFiniteValueError, match="gene 'g0', sample 's3'"):
        read_gctx(path, allow_nan=False)
    # finite values whose squares overflow float32 are read as they are
    huge = np.full((4, 3), 3e38, dtype=np.float32)
    huge[0, 0] = -3e38
    np.testing.assert_array_equal(read_gctx(_raw_gctx(tmp_path / "h.gctx", huge)).X, huge)


def test_repeated_ids_are_named(tmp_path):
    from exprlab.errors import DuplicateIdError

    path = _raw_gctx(tmp_path / "d.gctx", np.ones((3, 2), dtype=np.float32))
    with h5py.File(path, "r+") as h5:
        del h5["0/META/COL/id"]
        h5["0/META/COL/id"] = np.array([b"s0", b"s1", b"s0"])
    with pytest.raises(DuplicateIdError, match="sample id 's0'"):
        read_gctx(path)


def _stored_gctx(path, matrix, **storage):
    """A GCTX whose matrix is stored as ``storage`` says (h5py's create_dataset options)."""
    n_obs, n_var = matrix.shape
    with h5py.File(path, "w") as h5:
        h5.create_dataset("0/DATA/0/matrix", data=matrix, **storage)
        h5["0/META/ROW/id"] = np.array([f"g{j}".encode() for j in range(n_var)])
        h5["0/META/COL/id"] = np.array([f"s{i}".encode() for i in range(n_obs)])
    return path


@pytest.mark.parametrize(
    ("storage", "direct"),
    [
        ({}, True),  # contiguous
        ({"chunks": (3, 7)}, True),  # whole rows, a partial last chunk
        ({"chunks": (3, 4)}, False),  # chunks narrower than a row
        ({"chunks": (3, 7), "compression": "gzip"}, False),
        ({"dtype": ">f4"}, False),  # big-endian: HDF5 converts
        ({"dtype": "<i2"}, True),
    ],
)
def test_whole_read_as_plain_bytes_where_the_file_allows(tmp_path, monkeypatch, storage, direct):
    from exprlab.io import _gctx

    seen = []
    find = _gctx._direct_pieces
    monkeypatch.setattr(_gctx, "_direct_pieces", lambda dsid: seen.append(find(dsid)) or seen[-1])
    monkeypatch.setattr(_gctx, "_DIRECT_BYTES", 2 * 7 * 4)  # two rows per job: many jobs
    rng = np.random.default_rng(5)
    matrix = (rng.standard_normal((50, 7)) * 100).astype(storage.get("dtype", np.float32))
    path = _stored_gctx(tmp_path / "m.gctx", matrix, **storage)
    got = read_gctx(path).X
    with h5py.File(path, "r") as h5:
        want = h5["0/DATA/0/matrix"][()]
    assert (seen[0] is not None) == direct
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("chunks", [None, (3, 7)])
def test_bad_value_in_a_late_job_is_named(tmp_path, monkeypatch, chunks):
    from exprlab.errors import NonFiniteValueError
    from exprlab.io import _gctx

    monkeypatch.setattr(_gctx, "_DIRECT_BYTES", 4 * 7 * 4)  # four rows per job
    matrix = np.ones((50, 7), dtype=np.float32)
    matrix[41, 5] = -np.inf
    matrix[44, 2] = np.nan
    with pytest.raises(NonFiniteValueError, match="infinite value .*gene 'g5', sample 's41'"):
        read_gctx(_stored_gctx(tmp_path / "i.gctx", matrix, chunks=chunks))
    matrix[41, 5] = 1.0
    path = _stored_gctx(tmp_path / "n.gctx", matrix, chunks=chunks)
    assert np.isnan(read_gctx(path).X[44, 2])
    with pytest.raises(NonFiniteValueError, match="gene 'g2', sample 's44'"):
        read_gctx(path, allow_nan=False)


def test_a_few_ids_are_found_by_whole_id_never_by_prefix_or_padding(tmp_path):
    from exprlab.io._gctx import _positions_of

    ids = ["sig1", "sig10", "sig100", "a" * 9, "a" * 17, "x", ""]
    raw = np.array([i.encode() for i in ids], dtype="S17")
    want = ["sig10", "sig1", "a" * 9, "a" * 17, "a" * 8, "sig1000", "a" * 18, "x", "", "nope"]
    expected = [ids.index(w) if w in ids else -1 for w in want]
    assert _positions_of(raw, want, "0/META/COL", tmp_path).tolist() == expected
    # ids that share a long prefix (as LINCS ids do) and differ in their last word only
    long = [f"LINCS_CPC006_A549_6H:BRD-K{i:05d}" for i in range(300)]
    raw = np.array([i.encode() for i in long])
    probe = [long[7], long[299], long[0][:-1], long[0] + "0", long[123]]
    assert _positions_of(raw, probe, "g", tmp_path).tolist() == [7, 299, -1, -1, 123]
    # ids of exactly one word, and a width that is not a multiple of 8
    for width in (8, 5):
        short = [i for i in ids if len(i) <= width]
        raw = np.array([i.encode() for i in short], dtype=f"S{width}")
        probe = ["sig1", "sig10", "x", "sig1000000", ""]
        assert _positions_of(raw, probe, "g", tmp_path).tolist() == [
            short.index(p) if p in short else -1 for p in probe
        ]


def test_a_duplicated_id_asked_for_by_id_is_an_error(tmp_path):
    from exprlab.io._gctx import _positions_of

    raw = np.array([b"s1", b"s2", b"s1"], dtype="S2")
    with pytest.raises(DuplicateIdError, match="'s1' appears 2 times"):
        _positions_of(raw, ["s1"], "0/META/COL", tmp_path)


# ------------------------------------------------------------------ streaming writer
def test_writer_fills_pieces_in_any_order(tmp_path):
    rng = np.random.default_rng(3)
    full = rng.standard_normal((7, 23))  # 7 GCT columns x 23 GCT rows
    cols, rows = [f"c{i}" for i in range(7)], [f"r{j}" for j in range(23)]
    out = tmp_path / "m.gctx"
    with GctxWriter(out, cols, rows, chunks=(3, 5)) as w:  # chunks cut by the pieces
        for obs, var in [
            (slice(4, 7), slice(0, 23)),
            (slice(0, 4), slice(9, 23)),
            (slice(0, 2), slice(0, 9)),
        ]:
            w.write(full[obs, var], obs, var)
        assert not out.exists()  # appears on close only
    back = read_gctx(out)
    assert list(back.obs_names) == cols and list(back.var_names) == rows
    expected = full.astype(np.float32)
    expected[2:4, :9] = np.nan  # never written
    np.testing.assert_array_equal(back.X, expected)
    with h5py.File(out, "r") as f:
        assert f.attrs["version"] == b"GCTX1.0" and f["0/DATA/0/matrix"].shape == (7, 23)


def test_writer_leaves_nothing_on_failure_and_refuses_repeated_ids(tmp_path):
    out = tmp_path / "m.gctx"
    with pytest.raises(RuntimeError, match="stop"), GctxWriter(out, ["a", "b"], ["x"], dtype="float64") as w:
        w.write(np.ones((2, 1)), slice(0, 2), slice(0, 1))
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DuplicateIdError, match="'a'"):
        GctxWriter(out, ["a", "a"], ["x"])
    with pytest.raises(InvalidParameterError, match="float"):
        GctxWriter(out, ["a"], ["x"], dtype="int32")
    assert list(tmp_path.iterdir()) == []
