"""Malformed input: every case raises a specific exprlab error naming the file, the place and a fix;
the CLI prints that one line, exits 2 and leaves no output file."""

from __future__ import annotations

import gzip
import os

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main
from exprlab.errors import (
    DuplicateIdError,
    ExprlabError,
    FileAccessError,
    FormatError,
    GeneSpaceError,
    InputDataError,
    NonFiniteValueError,
    UnknownFormatError,
)
from exprlab.io import read, read_gct, read_gctx, read_gmt, read_h5ad, write_gct, write_gctx

GOOD = (
    "#1.3\n"
    "3\t2\t1\t1\n"
    "id\tsymbol\tS1\tS2\n"
    "cell\tna\tA375\tMCF7\n"
    "g1\tTP53\t1.5\t-2\n"
    "g2\tEGFR\t0\t3.25\n"
    "g3\tMYC\t7\t1e-3\n"
)


def _gct(tmp_path, text, name="bad.gct"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _check(err, path, *needles):
    """The message names the file, says what and where, and gives a fix."""
    msg = str(err.value)
    assert str(path) in msg
    assert "Fix:" in msg
    for n in needles:
        assert n in msg, (n, msg)


def test_good_file_reads(tmp_path):
    assert read_gct(_gct(tmp_path, GOOD)).shape == (2, 3)


def test_truncated_gct_missing_rows(tmp_path):
    path = _gct(tmp_path, GOOD.rsplit("g3", 1)[0])
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "truncated", "3 data rows", "only 2")


def test_truncated_gct_cut_mid_line(tmp_path):
    path = _gct(tmp_path, GOOD[: GOOD.rindex("\t")])  # last line loses its last cell
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "line 7", "3 cells, expected 4")


def test_truncated_gct_in_header(tmp_path):
    path = _gct(tmp_path, "#1.3\n3\t2\t1\t4\nid\tsymbol\tS1\tS2\n")
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "truncated")


@pytest.mark.parametrize("dims", ["3\t2\t1", "3\tx\t1\t1", "three two", "3\t2\t-1\t1"])
def test_wrong_dimension_line(tmp_path, dims):
    path = _gct(tmp_path, GOOD.replace("3\t2\t1\t1", dims))
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "line 2")


def test_dimension_line_disagrees_with_header(tmp_path):
    path = _gct(tmp_path, GOOD.replace("3\t2\t1\t1", "3\t3\t1\t1"))
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "line 3", "4 cells", "announces 5")


def test_missing_version_line(tmp_path):
    path = _gct(tmp_path, GOOD.replace("#1.3", "#2.0"))
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "line 1")


def test_non_numeric_cell(tmp_path):
    path = _gct(tmp_path, GOOD.replace("3.25", "3,25"))
    with pytest.raises(FormatError) as err:
        read_gct(path)
    _check(err, path, "'3,25'", "line 6", "gene 'g2'", "sample 'S2'")


def test_duplicate_gene_ids(tmp_path):
    path = _gct(tmp_path, GOOD.replace("g3\tMYC", "g1\tMYC"))
    with pytest.raises(DuplicateIdError) as err:
        read_gct(path)
    _check(err, path, "gene id 'g1'", "[5, 7]")


def test_duplicate_sample_ids(tmp_path):
    path = _gct(tmp_path, GOOD.replace("S1\tS2", "S1\tS1"))
    with pytest.raises(DuplicateIdError) as err:
        read_gct(path)
    _check(err, path, "sample id 'S1'", "line 3")


def test_infinite_value_refused(tmp_path):
    path = _gct(tmp_path, GOOD.replace("1e-3", "inf"))
    with pytest.raises(NonFiniteValueError) as err:
        read_gct(path)
    _check(err, path, "infinite", "line 7", "gene 'g3'", "sample 'S2'")


def test_nan_refused_on_request(tmp_path):
    path = _gct(tmp_path, GOOD.replace("1.5", "NaN"))
    assert np.isnan(read_gct(path).X[0, 0])  # documented default: kept
    with pytest.raises(NonFiniteValueError) as err:
        read_gct(path, allow_nan=False)
    _check(err, path, "missing", "gene 'g1'", "sample 'S1'")


def test_writing_inf_refused(tmp_path):
    a = ad.AnnData(
        np.array([[1.0, np.inf]]), obs=pd.DataFrame(index=["s"]), var=pd.DataFrame(index=["a", "b"])
    )
    with pytest.raises(NonFiniteValueError, match="gene 'b'"):
        write_gct(a, tmp_path / "o.gct")
    assert not (tmp_path / "o.gct").exists()


def test_empty_gmt_line_and_empty_set(tmp_path):
    p = tmp_path / "a.gmt"
    p.write_text("S\td\tA\n\t\nT\td\tB\n")
    with pytest.raises(FormatError) as err:
        read_gmt(p)
    _check(err, p, "line 2")
    q = tmp_path / "b.gmt"
    q.write_text("S\td\tA\nLONELY\tdesc\n")
    with pytest.raises(FormatError) as err:
        read_gmt(q)
    _check(err, q, "'LONELY'", "line 2")


def test_gene_set_with_no_gene_in_universe(tmp_path):
    p = tmp_path / "u.gmt"
    p.write_text("S\td\tTP53\tEGFR\nT\td\t7157\n")
    with pytest.raises(GeneSpaceError) as err:
        read_gmt(p, universe=["TP53", "EGFR", "MYC"])
    _check(err, p, "'T'", "0 of its 1")


def test_gctx_without_matrix(tmp_path):
    p = tmp_path / "nomatrix.gctx"
    with h5py.File(p, "w") as h5:
        h5["0/META/ROW/id"] = np.array([b"g1"])
        h5["0/META/COL/id"] = np.array([b"s1"])
    with pytest.raises(FormatError) as err:
        read_gctx(p)
    _check(err, p, "/0/DATA/0/matrix")


def test_gctx_metadata_length_mismatch(tmp_path):
    p = tmp_path / "meta.gctx"
    with h5py.File(p, "w") as h5:
        h5["0/DATA/0/matrix"] = np.zeros((1, 2))
        h5["0/META/ROW/id"] = np.array([b"g1", b"g2"])
        h5["0/META/ROW/symbol"] = np.array([b"A", b"B", b"C"])
        h5["0/META/COL/id"] = np.array([b"s1"])
    with pytest.raises(FormatError) as err:
        read_gctx(p)
    _check(err, p, "/0/META/ROW/symbol", "3 values for 2 ids")


def test_not_hdf5(tmp_path):
    p = tmp_path / "fake.gctx"
    p.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(FormatError) as err:
        read_gctx(p)
    _check(err, p, "HDF5")
    q = tmp_path / "fake.h5ad"
    q.write_bytes(b"nope")
    with pytest.raises(FormatError):
        read_h5ad(q)


def test_unknown_extension(tmp_path):
    p = tmp_path / "data.xyz"
    p.write_text("just some text\n1 2 3\n")
    with pytest.raises(UnknownFormatError) as err:
        read(p)
    _check(err, p, ".xyz")


def test_hdf5_with_unknown_layout(tmp_path):
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as h5:
        h5["something"] = np.zeros(3)
    with pytest.raises(FormatError) as err:
        read(p)
    _check(err, p, "no known layout", "something")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileAccessError) as err:
        read_gct(tmp_path / "absent.gct")
    _check(err, tmp_path / "absent.gct", "does not exist")
    with pytest.raises(FileAccessError) as err:
        read_gmt(tmp_path)
    _check(err, tmp_path, "directory")


def test_no_permission(tmp_path, monkeypatch):
    p = _gct(tmp_path, GOOD)
    import builtins

    real_open = builtins.open

    def deny(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(p):
            raise PermissionError(13, "Permission denied", os.fspath(p))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(FileAccessError) as err:
        read_gct(p)
    _check(err, p, "cannot be read", "Permission denied")


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode"
)
def test_no_permission_real_chmod(tmp_path):
    p = _gct(tmp_path, GOOD)
    p.chmod(0)
    try:
        with pytest.raises(FileAccessError):
            read_gct(p)
    finally:
        p.chmod(0o644)


def test_binary_and_corrupt_compressed(tmp_path):
    p = tmp_path / "bin.gct"
    p.write_bytes(b"#1.3\n\xff\xfe\x00garbage")
    with pytest.raises(FormatError) as err:
        read_gct(p)
    _check(err, p, "UTF-8")
    q = tmp_path / "cut.gct.gz"
    q.write_bytes(gzip.compress(GOOD.encode())[:40])
    with pytest.raises(FormatError) as err:
        read_gct(q)
    _check(err, q, "gzip")


def test_anndata_with_mismatched_gene_metadata(tmp_path):
    a = ad.AnnData(
        np.zeros((2, 3)), obs=pd.DataFrame(index=["s1", "s2"]), var=pd.DataFrame(index=["g1", "g2", "g3"])
    )
    a._var = pd.DataFrame(index=["g1", "g2"])  # gene table no longer matches the matrix
    for writer, name in ((write_gct, "o.gct"), (write_gctx, "o.gctx")):
        with pytest.raises(InputDataError) as err:
            writer(a, tmp_path / name)
        _check(err, tmp_path / name, "var has 2")
        assert not (tmp_path / name).exists()


def test_duplicate_ids_refused_on_write(tmp_path):
    a = ad.AnnData(np.zeros((2, 2)), obs=pd.DataFrame(index=["s", "t"]), var=pd.DataFrame(index=["g", "h"]))
    a.var_names = ["g", "g"]
    with pytest.raises(DuplicateIdError, match="gene id 'g'"):
        write_gctx(a, tmp_path / "d.gctx")


def test_failure_inside_writer_leaves_nothing(tmp_path):
    a = ad.AnnData(
        np.zeros((2, 2)),
        obs=pd.DataFrame({"id": ["x", "y"]}, index=["s", "t"]),
        var=pd.DataFrame(index=["g", "h"]),
    )
    with pytest.raises(InputDataError, match="'id'"):
        write_gctx(a, tmp_path / "x.gctx")  # fails after the matrix was written
    assert list(tmp_path.iterdir()) == []


# --- the command line: one line on stderr, exit status 2, no output file -----------------------


@pytest.mark.parametrize(
    "text,needle",
    [
        (GOOD.rsplit("g3", 1)[0], "truncated"),
        (GOOD.replace("3\t2\t1\t1", "3 2"), "line 2"),
        (GOOD.replace("3.25", "abc"), "'abc'"),
        (GOOD.replace("g3\tMYC", "g1\tMYC"), "gene id 'g1'"),
        (GOOD.replace("S1\tS2", "S2\tS2"), "sample id 'S2'"),
        (GOOD.replace("1e-3", "-inf"), "infinite"),
    ],
)
@pytest.mark.parametrize("out_name", ["out.gctx", "out.h5ad", "out.gct"])
def test_cli_convert_bad_gct(tmp_path, capsys, text, needle, out_name):
    src = _gct(tmp_path, text)
    out = tmp_path / out_name
    with pytest.raises(SystemExit) as stop:
        main(["convert", str(src), str(out)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert str(src) in err and needle in err and "Fix:" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.gct"]


def test_cli_bad_inputs(tmp_path, capsys):
    gmt = tmp_path / "s.gmt"
    gmt.write_text("S\td\tA\n\nT\td\tB\n")
    nomatrix = tmp_path / "n.gctx"
    with h5py.File(nomatrix, "w") as h5:
        h5["0/META/ROW/id"] = np.array([b"g1"])
    unknown = tmp_path / "x.xyz"
    unknown.write_text("hello\n")
    good = _gct(tmp_path, GOOD, "good.gct")
    cases = [
        (["convert", str(gmt), str(tmp_path / "o.gmt")], "line 2 is empty"),
        (["convert", str(nomatrix), str(tmp_path / "o.h5ad")], "/0/DATA/0/matrix"),
        (["convert", str(unknown), str(tmp_path / "o.gct")], "unknown file format"),
        (["convert", str(tmp_path / "absent.gct"), str(tmp_path / "o.gctx")], "does not exist"),
        (["convert", str(tmp_path), str(tmp_path / "o.gctx")], "directory"),
        (["convert", str(good), str(tmp_path / "o.gmt")], "cannot convert"),
        (["convert", str(good), str(tmp_path / "o.csv")], "cannot convert"),
        (["info", str(unknown)], "unknown file format"),
        (["info", str(gmt)], "line 2 is empty"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv, needle in cases:
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_every_error_is_an_exprlab_error():
    for cls in (
        FormatError,
        UnknownFormatError,
        FileAccessError,
        DuplicateIdError,
        NonFiniteValueError,
        GeneSpaceError,
    ):
        assert issubclass(cls, ExprlabError)


def test_gctx_metadata_not_utf8(tmp_path):
    p = tmp_path / "latin.gctx"
    with h5py.File(p, "w") as h5:
        h5["0/DATA/0/matrix"] = np.zeros((1, 1))
        h5["0/META/ROW/id"] = np.array([b"g1"])
        h5["0/META/COL/id"] = np.array([b"s1"])
        h5["0/META/COL/name"] = np.array([b"caf\xe9"])
    with pytest.raises(FormatError) as err:
        read_gctx(p)
    _check(err, p, "/0/META/COL/name", "UTF-8")
