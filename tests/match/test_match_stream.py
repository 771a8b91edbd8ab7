"""Scores written to a GCTX file block by block (match.score_to_gctx, exprlab score --out *.gctx):
the numbers of the in-memory result to float32 rounding on both library layouts, the GCTX
layout, the output conventions (no overwrite without force, nothing partial) and clear refusals."""

from __future__ import annotations

import hashlib
import json

import h5py
import numpy as np
import pytest
from tests.match.test_match_genemajor import plain_scores, set_queries, tied_lib

import exprlab.match as match
from exprlab.cli import main
from exprlab.errors import FileAccessError, InvalidParameterError
from exprlab.io import GctxWriter, read_gctx, write_gmt, write_h5ad

# float32 keeps 24 significant bits: a float64 score stored as float32 moves by at most one unit
# of the last place (half a unit from the rounding, the rest from 1e-12 between the paths)
F32 = dict(rtol=2.0**-23, atol=1e-12)
METHODS = ["wtcs", "ks_raw", "xsum", "xcos", "cosine", "pearson", "spearman", "overlap_reverse"]


@pytest.fixture(scope="module")
def lib():
    return tied_lib()


@pytest.fixture(scope="module")
def libraries(lib, tmp_path_factory):
    """The same signatures in memory and in both on-disk layouts (stored chunks of 7 and 10)."""
    folder = tmp_path_factory.mktemp("libs")
    gene_major = match.build_library(lib, folder / "gm.gctx", chunk_size=7, layout="gene_major")
    sig_major = match.build_library(lib, folder / "v1.h5", chunk_size=10, layout="signature_major")
    return {"memory": lib, "gene_major": gene_major, "signature_major": sig_major}


def written(path) -> np.ndarray:
    """The matrix as plain h5py reads it, in the GCTX layout: (columns = queries, rows = signatures)."""
    with h5py.File(path, "r") as f:
        return f["0/DATA/0/matrix"][...]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("layout", ["gene_major", "signature_major", "memory"])
@pytest.mark.parametrize("method", METHODS)
def test_file_holds_the_in_memory_scores(lib, libraries, tmp_path, monkeypatch, layout, method):
    from exprlab.match import _generows

    monkeypatch.setattr(_generows, "_QUERY_BATCH", 3)  # 10 queries: batches of 3, 3, 3 and 1
    queries = set_queries(10, seed=3)
    mem = match.score(queries, lib, method, top=15)
    out = tmp_path / "s.gctx"
    # blocks of 5 signatures: 11 blocks, the last one partial, across the stored chunks
    res = match.score_to_gctx(queries, libraries[layout], method, out=out, top=15, chunk_size=5)
    got = written(out)
    assert got.dtype == np.float32 and got.shape == (10, lib.n_obs)
    np.testing.assert_allclose(got, mem.to_numpy(), **F32)
    assert res.path == out and res.shape == (lib.n_obs, 10)
    assert res.attrs["method"] == method and set(res.attrs["query_report"]) == set(queries)
    assert list(res.report.index) == list(mem.index)


@pytest.mark.parametrize("layout", ["gene_major", "signature_major"])
def test_default_blocks_and_float64(lib, libraries, tmp_path, layout):
    queries = set_queries(4, seed=5)
    mem = match.score(queries, lib, "wtcs")
    out = tmp_path / "s.gctx"
    match.score_to_gctx(queries, libraries[layout], "wtcs", out=out, dtype="float64")
    got = written(out)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, mem.to_numpy(), rtol=1e-12, atol=1e-12)


def test_file_equals_a_plain_loop(lib, tmp_path):
    # the plain loop breaks ties by gene order
    path = match.build_library(lib, tmp_path / "first.gctx", ties="first", chunk_size=6, layout="gene_major")
    queries = set_queries(3, seed=11)
    out = tmp_path / "s.gctx"
    match.score_to_gctx(queries, path, "wtcs", out=out, chunk_size=4)
    got = written(out)
    pos = {g: i for i, g in enumerate(lib.var_names)}
    for i, (up, down) in enumerate(queries.values()):
        expected = plain_scores(
            lib.X, np.array([pos[g] for g in up]), np.array([pos[g] for g in down]), "wtcs"
        )
        np.testing.assert_allclose(got[i], expected, **F32)


def test_the_file_is_a_standard_gctx(lib, libraries, tmp_path):
    queries = set_queries(3, seed=2)
    out = tmp_path / "s.gctx"
    match.score_to_gctx(queries, libraries["gene_major"], "wtcs", out=out)
    with h5py.File(out, "r") as f:
        assert f.attrs["version"] == b"GCTX1.0"
        rid = [s.decode() for s in f["0/META/ROW/id"][...]]
        cid = [s.decode() for s in f["0/META/COL/id"][...]]
        assert f["0/DATA/0/matrix"].shape == (len(cid), len(rid))
    assert rid == list(lib.obs_names) and cid == list(queries)
    back = read_gctx(out)  # obs = GCT columns (queries), var = GCT rows (signatures)
    assert list(back.obs_names) == list(queries) and list(back.var_names) == list(lib.obs_names)
    np.testing.assert_array_equal(back.X, written(out))
    one = read_gctx(out, cid=["q1"], rid=["s4", "s0"])
    np.testing.assert_array_equal(one.X, written(out)[[1]][:, [4, 0]])


def test_an_existing_output_is_replaced_only_with_force(libraries, tmp_path):
    out = tmp_path / "s.gctx"
    lib = libraries["gene_major"]
    match.score_to_gctx(set_queries(2, seed=1), lib, "wtcs", out=out)
    before = sha(out)
    with pytest.raises(FileAccessError, match="--force"):
        match.score_to_gctx(set_queries(3, seed=9), lib, "wtcs", out=out)
    assert sha(out) == before
    match.score_to_gctx(set_queries(3, seed=9), lib, "wtcs", out=out, force=True)
    assert written(out).shape[0] == 3
    mine = tmp_path / "mine.gctx"
    mine.write_bytes(b"not exprlab's")
    with pytest.raises(FileAccessError, match="left untouched"):
        match.score_to_gctx(set_queries(2), lib, "wtcs", out=mine, force=True)
    assert mine.read_bytes() == b"not exprlab's"


def test_a_failure_half_way_leaves_no_partial_file(libraries, tmp_path, monkeypatch):
    out = tmp_path / "s.gctx"
    lib = libraries["gene_major"]
    match.score_to_gctx(set_queries(2, seed=1), lib, "wtcs", out=out)
    before = sha(out)
    calls = []
    write = GctxWriter.write

    def failing(self, values, obs, var):
        calls.append(var)
        if len(calls) == 3:
            raise RuntimeError("disk went away")
        write(self, values, obs, var)

    monkeypatch.setattr(GctxWriter, "write", failing)
    for target, force in ((tmp_path / "new.gctx", False), (out, True)):
        calls.clear()
        with pytest.raises(RuntimeError, match="disk went away"):
            match.score_to_gctx(set_queries(4), lib, "wtcs", out=target, chunk_size=5, force=force)
        assert len(calls) == 3  # two blocks were written before the failure
    assert not (tmp_path / "new.gctx").exists()
    assert sha(out) == before  # the earlier result is intact
    assert sorted(p.name for p in tmp_path.iterdir() if ".part-" in p.name or ".lock" in p.name) == []


@pytest.mark.parametrize(
    "method,options,fix",
    [
        ("ks", {}, "ks_raw"),
        ("ncs", {}, "match.score"),
        ("tau", {"n_background": 20}, "match.score"),
        ("ncs_ct", {}, "match.score"),
        ("wtcs", {"aggregate": "max"}, "aggregate"),
        ("wtcs", {"dtype": "float16"}, "float32"),
    ],
)
def test_what_cannot_stream_is_refused(libraries, tmp_path, method, options, fix):
    out = tmp_path / "s.gctx"
    with pytest.raises(InvalidParameterError, match=fix):
        match.score_to_gctx(set_queries(2), libraries["gene_major"], method, out=out, **options)
    assert list(tmp_path.iterdir()) == []


def test_dask_backend_writes_the_same_file(lib, libraries, tmp_path):
    distributed = pytest.importorskip("distributed")
    queries = set_queries(5, seed=4)
    mem = match.score(queries, lib, "wtcs")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for layout in ("gene_major", "signature_major"):
            out = tmp_path / f"{layout}.gctx"
            match.score_to_gctx(
                queries, libraries[layout], "wtcs", out=out, backend="dask", client=client, chunk_size=10
            )
            np.testing.assert_allclose(written(out), mem.to_numpy(), **F32)


# ------------------------------------------------------------------ command line
@pytest.fixture
def cli_files(lib, libraries, tmp_path):
    queries = set_queries(3, seed=6)
    sets = {f"{n}_up": u for n, (u, _) in queries.items()} | {f"{n}_dn": d for n, (_, d) in queries.items()}
    write_gmt(sets, tmp_path / "q.gmt")
    write_h5ad(lib, tmp_path / "lib.h5ad")
    return queries, tmp_path / "q.gmt", str(libraries["gene_major"])


def test_cli_writes_the_gctx(lib, cli_files, tmp_path, capsys):
    queries, gmt, library = cli_files
    out = tmp_path / "s.gctx"
    main(["score", "--query", str(gmt), "--library", library, "--out", str(out), "--chunk-size", "6"])
    assert "53 signatures x 3 queries (GCTX, float32)" in capsys.readouterr().out
    back = read_gctx(out)
    mem = match.score(queries, lib, "wtcs")
    np.testing.assert_allclose(back[list(mem.index)].X, mem.to_numpy(), **F32)
    manifest = json.loads((tmp_path / "s.gctx.run.json").read_text())
    assert manifest["kind"] == "score" and manifest["parameters"]["table"] == "gctx"
    assert manifest["parameters"]["dtype"] == "float32" and manifest["parameters"]["chunk_size"] == 6
    before = sha(out)
    with pytest.raises(SystemExit) as stop:
        main(["score", "--query", str(gmt), "--library", library, "--out", str(out)])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--force" in err and len(err.splitlines()) == 1
    assert sha(out) == before
    main(["score", "--query", str(gmt), "--library", library, "--out", str(out), "--force"])


def test_report_of_a_gctx_score_file(lib, cli_files, tmp_path, monkeypatch):
    from exprlab.report import _render_score, render_report

    queries, gmt, library = cli_files
    out = tmp_path / "s.gctx"
    main(["score", "--query", str(gmt), "--library", library, "--out", str(out)])
    monkeypatch.setattr(_render_score, "_GCTX_VALUES", 100)  # one query read at a time
    html = render_report(out, tmp_path / "s.html").read_text()
    assert "3 queries × 53 library entries; 159 scores (GCTX matrix) (wtcs)" in html
    mem = match.score(queries, lib, "wtcs")
    best = mem.loc["q2"].idxmax()
    assert f"{best} (" in html.split("q2")[-1]  # the query's best signature is named


@pytest.mark.parametrize(
    "extra,said",
    [
        (["--n-permutations", "10"], "--n-permutations needs every score in memory"),
        (["--method", "ks"], "ks_raw"),
        (["--method", "tau", "--tau-background", "library"], "--tau-background library"),
        (["--aggregate", "max"], "aggregate"),
    ],
)
def test_cli_refuses_what_cannot_stream(cli_files, tmp_path, capsys, extra, said):
    _, gmt, library = cli_files
    out = tmp_path / "s.gctx"
    with pytest.raises(SystemExit) as stop:
        main(["score", "--query", str(gmt), "--library", library, "--out", str(out), *extra])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1
    assert not out.exists()
