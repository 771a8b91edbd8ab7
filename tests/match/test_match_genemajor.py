"""The gene-major on-disk library (format 2): same scores as in memory, batched = one by one,
format 1 still read, GCTX-compatible values, query genes read only, clear errors."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pandas as pd
import pytest
from anndata import AnnData
from tests._queries import random_up_down

import exprlab.match as match
from exprlab.errors import GeneSpaceError, InvalidParameterError
from exprlab.io import read_gctx
from exprlab.match import _genemajor

N, G = 53, 90
GM = "gene_major"


def tied_lib(seed=0) -> AnnData:
    """Values rounded to halves, so most rows hold ties; NaN-free."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(N, G)) * 2) / 2
    obs = pd.DataFrame(
        {
            "drug": [f"d{i % 5}" for i in range(N)],
            "cell_line": [f"c{i % 3}" for i in range(N)],
            "dose": np.arange(N) * 1.5,
        },
        index=[f"s{i}" for i in range(N)],
    )
    return AnnData(x.astype(np.float32), obs=obs, var=pd.DataFrame(index=[f"G{i}" for i in range(G)]))


def set_queries(n: int, seed=1) -> dict:
    return random_up_down(n, G, 9, 7, seed=seed)


@pytest.fixture(scope="module")
def lib():
    return tied_lib()


@pytest.fixture(scope="module")
def gm_path(lib, tmp_path_factory):
    # chunks of 7 signatures: several chunks and a partial last one
    return match.build_library(lib, tmp_path_factory.mktemp("gm") / "lib.gctx", chunk_size=7, layout=GM)


@pytest.fixture(scope="module")
def v1_path(lib, tmp_path_factory):
    return match.build_library(
        lib, tmp_path_factory.mktemp("v1") / "lib.h5", chunk_size=10, layout="signature_major"
    )


# ------------------------------------------------------------------ independent computations
def plain_es(x: np.ndarray, hits: np.ndarray) -> float:
    """Weighted running-sum ES walking the reference sorted decreasingly (ties by gene order)."""
    order = np.argsort(-x, kind="stable")
    is_hit = np.isin(order, hits)
    w = np.abs(x[order]) * is_hit
    if w.sum() == 0:  # no hit has weight: ES is 0 by definition
        return 0.0
    rs = np.cumsum(w / w.sum() - (~is_hit) / (len(x) - len(hits)))
    mx, mn = rs.max(), rs.min()
    return mx if mx > -mn else mn


def plain_ks(x: np.ndarray, hits: np.ndarray) -> float:
    order = np.argsort(-x, kind="stable")
    pos = np.sort(np.flatnonzero(np.isin(order, hits)) + 1)
    n, t = len(x), len(hits)
    j = np.arange(1, t + 1)
    a = (j * n - pos * t).max()
    b = (pos * t - (j - 1) * n).max()
    return a / (t * n) if a > b else -b / (t * n)


def plain_scores(x: np.ndarray, up: np.ndarray, dn: np.ndarray, method: str, top: int = 20) -> np.ndarray:
    """One query against every row of ``x``, one row at a time, from the definitions."""
    out = []
    for row in x.astype(np.float64):
        if method == "wtcs":
            u, d = plain_es(row, up), plain_es(row, dn)
            out.append((u - d) / 2 if np.sign(u) != np.sign(d) else 0.0)
        elif method == "ks_raw":
            u, d = plain_ks(row, up), plain_ks(row, dn)
            out.append(u - d if u * d < 0 else 0.0)
        elif method == "xsum":
            order = np.argsort(-row, kind="stable")
            kept = np.zeros(len(row), bool)
            kept[order[:top]] = kept[order[-top:]] = True
            out.append(row[up][kept[up]].sum() - row[dn][kept[dn]].sum())
        else:  # cosine of the +1/-1/0 set vector
            q = np.zeros(len(row))
            q[up], q[dn] = 1.0, -1.0
            out.append(q @ row / np.sqrt((q @ q) * (row @ row)))
    return np.array(out)


@pytest.mark.parametrize("method", ["wtcs", "ks_raw", "xsum", "cosine"])
def test_scores_match_a_plain_loop(lib, tmp_path, method):
    path = match.build_library(lib, tmp_path / "first.gctx", ties="first", chunk_size=6, layout=GM)
    queries = set_queries(3)
    got = match.score(queries, path, method, top=20, chunk_size=4)
    pos = {g: i for i, g in enumerate(lib.var_names)}
    for name, (u, d) in queries.items():
        up, dn = np.array([pos[g] for g in u]), np.array([pos[g] for g in d])
        np.testing.assert_allclose(
            got.loc[name].to_numpy(), plain_scores(lib.X, up, dn, method), rtol=0, atol=1e-12
        )


# ------------------------------------------------------------------ same numbers as in memory
@pytest.mark.parametrize("method", list(match.METHODS))
def test_every_method_matches_memory(lib, gm_path, method):
    kw = dict(top=15, n_background=20)
    mem = match.score(set_queries(4), lib, method, **kw)
    disk = match.score(set_queries(4), gm_path, method, chunk_size=5, **kw)
    np.testing.assert_allclose(disk.to_numpy(), mem.to_numpy(), rtol=1e-12, atol=1e-12)
    assert list(disk.columns) == list(mem.columns)


@pytest.mark.parametrize("method", ["wtcs", "xcos", "cosine", "spearman", "ks"])
def test_full_signature_queries_match_memory(lib, gm_path, method):
    query = AnnData(lib.X[[3, 8]] + 0.25, var=lib.var.copy(), obs=pd.DataFrame(index=["a", "b"]))
    mem = match.score(query, lib, method, up=10, down=10, top=15)
    disk = match.score(query, gm_path, method, up=10, down=10, top=15)
    np.testing.assert_allclose(disk.to_numpy(), mem.to_numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("walk", [False, True])
def test_batched_queries_equal_one_by_one(gm_path, monkeypatch, walk):
    from exprlab.match import _ranks

    if walk:  # batches above this many sets use the walk kernel
        monkeypatch.setattr(_ranks, "MIN_SETS", 8)
    queries = set_queries(25, seed=7)
    for method in ("wtcs", "ks", "xsum", "pearson"):
        batch = match.score(queries, gm_path, method, top=15, chunk_size=9)
        for name, pair in list(queries.items())[::6]:
            alone = match.score({name: pair}, gm_path, method, top=15)
            np.testing.assert_allclose(batch.loc[[name]].to_numpy(), alone.to_numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("method", ["wtcs", "tau", "xcos", "cosine"])
def test_queries_scored_in_sub_batches_match_memory(lib, gm_path, monkeypatch, method):
    from exprlab.match import _generows

    monkeypatch.setattr(_generows, "_QUERY_BATCH", 3)  # 10 queries: batches of 3, 3, 3 and 1
    mem = match.score_details(set_queries(10, seed=3), lib, method, top=15, n_background=20)
    disk = match.score_details(set_queries(10, seed=3), gm_path, method, top=15, n_background=20)
    np.testing.assert_allclose(disk.scores.to_numpy(), mem.scores.to_numpy(), rtol=1e-12, atol=1e-12)
    for key, frame in mem.extra.items():
        np.testing.assert_allclose(disk.extra[key].to_numpy(), frame.to_numpy(), rtol=1e-12, atol=1e-12)


def test_details_keep_the_extras(lib, gm_path):
    mem = match.score_details(set_queries(2), lib, "wtcs")
    disk = match.score_details(set_queries(2), gm_path, "wtcs")
    assert set(disk.extra) == {"up", "down"}
    np.testing.assert_array_equal(disk.extra["up"].to_numpy(), mem.extra["up"].to_numpy())


# ------------------------------------------------------------------ format 1 and conversion
def test_format_1_still_read_and_converted(lib, v1_path, tmp_path):
    d = match.DiskLibrary(v1_path)
    assert d.layout == "signature_major" and d.gene_major is None
    converted = match.build_library(v1_path, tmp_path / "conv.gctx", chunk_size=11, layout=GM)
    assert match.DiskLibrary(converted).layout == "gene_major"
    for method in ("wtcs", "ks", "cosine", "overlap_mimic"):
        mem = match.score(set_queries(3), lib, method)
        np.testing.assert_allclose(
            match.score(set_queries(3), v1_path, method).to_numpy(), mem.to_numpy(), atol=1e-12
        )
        np.testing.assert_allclose(
            match.score(set_queries(3), converted, method).to_numpy(), mem.to_numpy(), atol=1e-12
        )
    vals, r2 = d.read(0, 4, ranks=True, ties="midrank", values=False)
    assert vals is None and r2.shape == (4, G)


def test_metadata_and_ranks_round_trip(lib, gm_path):
    d = match.DiskLibrary(gm_path)
    assert d.layout == "gene_major" and d.n == N and list(d.genes) == list(lib.var_names)
    assert d.obs["drug"].tolist() == lib.obs["drug"].tolist()
    np.testing.assert_array_equal(d.obs["dose"].to_numpy(), lib.obs["dose"].to_numpy())
    vals, r2 = d.read(5, 19, ranks=True, ties="midrank")
    np.testing.assert_array_equal(vals, lib.X[5:19])
    # midrank of a value = (number of larger values) + (number of equal values + 1) / 2, doubled
    x = lib.X[5:19]
    larger = (x[:, None, :] > x[:, :, None]).sum(axis=2)
    equal = (x[:, None, :] == x[:, :, None]).sum(axis=2)
    np.testing.assert_array_equal(r2, 2 * larger + equal + 1)


@pytest.mark.parametrize("ids", [["a", "b ", "c.d", "x" * 40], ["é1", "b", "c", "d"]], ids=str)
def test_signature_ids_round_trip(ids, tmp_path):
    """ASCII ids get a fixed-width copy that opens fast; others are read from the GCTX ids."""
    small = AnnData(
        np.arange(4 * 5, dtype=np.float32).reshape(4, 5),
        obs=pd.DataFrame(index=ids),
        var=pd.DataFrame(index=[f"G{i}" for i in range(5)]),
    )
    path = match.build_library(small, tmp_path / "ids.gctx", layout=GM)
    with h5py.File(path, "r") as f:
        plain = "exprlab/ids" in f
        if plain:
            assert f["exprlab/ids"].dtype.kind == "S"
    assert plain == all(x.isascii() for x in ids)
    assert match.DiskLibrary(path).obs.index.tolist() == ids
    assert read_gctx(path).obs_names.tolist() == ids


def test_values_open_as_gctx(lib, gm_path):
    back = read_gctx(gm_path)
    np.testing.assert_array_equal(back.X, lib.X)
    assert list(back.var_names) == list(lib.var_names) and list(back.obs_names) == list(lib.obs_names)
    with h5py.File(gm_path, "r") as f:
        assert f.attrs["version"] == "GCTX1.0" and f["0/DATA/0/matrix"].chunks == (7, 1)


# ------------------------------------------------------------------ what is read
def test_rank_methods_read_only_the_query_genes(gm_path, monkeypatch):
    seen: list[tuple[str, int]] = []
    original = _genemajor.GeneMajorLibrary.read_runs

    def spy(self, names, genes, start, stop, fd, **kwargs):
        seen.extend((name, len(genes)) for name in names)
        return original(self, names, genes, start, stop, fd, **kwargs)

    monkeypatch.setattr(_genemajor.GeneMajorLibrary, "read_runs", spy)
    query = {"q": (["G1", "G2", "G3", "G4"], ["G50", "G60"])}
    match.score(query, gm_path, "ks")
    assert seen and {name for name, _ in seen} == {"rank2"} and {k for _, k in seen} == {6}
    seen.clear()
    match.score(query, gm_path, "wtcs")
    assert {name for name, _ in seen} == {"rank2", "matrix"} and {k for _, k in seen} == {6}
    seen.clear()
    match.score(query, gm_path, "spearman")  # needs every gene: reads whole signatures
    assert {k for _, k in seen} == {G}


@pytest.mark.parametrize("paired", [True, False])
def test_runs_read_equal_the_hdf5_datasets(gm_path, paired):
    lib = _genemajor.GeneMajorLibrary(gm_path)
    with h5py.File(gm_path, "r") as f:  # read by HDF5 itself, chunk index and all
        values, ranks = f["0/DATA/0/matrix"][:], f["exprlab/rank2"][:]
    # the writer lays a gene's rank chunk right after its value chunk (one read fetches both)
    assert lib.paired.mean() > 0.5
    if not paired:  # as in a file whose chunks lie elsewhere: one read per dataset
        lib.paired[:] = False
    genes = np.array([0, 1, 2, 40, 41, 89])
    fd = os.open(gm_path, os.O_RDONLY)
    try:
        for start, stop in [(0, N), (3, 5), (6, 8), (13, 53), (50, 53)]:
            for threads in (1, 4):
                runs = lib.read_runs(("matrix", "rank2"), genes, start, stop, fd, threads=threads)
                np.testing.assert_array_equal(runs["matrix"], values[start:stop, genes].T)
                np.testing.assert_array_equal(runs["rank2"], ranks[start:stop, genes].T)
                alone = lib.read_runs(("rank2",), genes, start, stop, fd, threads=threads)
                np.testing.assert_array_equal(alone["rank2"], ranks[start:stop, genes].T)
                rows = lib.read_runs(
                    ("matrix", "rank2"), genes, start, stop, fd, threads=threads, signature_major=True
                )
                np.testing.assert_array_equal(rows["matrix"], values[start:stop, genes])
                np.testing.assert_array_equal(rows["rank2"], ranks[start:stop, genes])
    finally:
        os.close(fd)


def test_runs_read_into_kept_buffers(gm_path):
    """Block after block into the same memory: each read is right, and no new array is made."""
    lib = _genemajor.GeneMajorLibrary(gm_path)
    with h5py.File(gm_path, "r") as f:
        values, ranks = f["0/DATA/0/matrix"][:], f["exprlab/rank2"][:]
    genes = np.array([3, 4, 17, 88])
    rows_memory, runs_memory = _genemajor.BlockBuffers(), _genemajor.BlockBuffers()
    fd = os.open(gm_path, os.O_RDONLY)
    try:
        first = None
        for start, stop in [(0, 30), (30, N), (13, 20), (50, N)]:  # the last ones smaller
            rows = lib.read_runs(
                ("matrix", "rank2"),
                genes,
                start,
                stop,
                fd,
                threads=2,
                signature_major=True,
                buffers=rows_memory,
                scratch=runs_memory,
            )
            np.testing.assert_array_equal(rows["matrix"], values[start:stop, genes])
            np.testing.assert_array_equal(rows["rank2"], ranks[start:stop, genes])
            assert rows["rank2"].flags.c_contiguous
            first = first or rows
            assert all(np.shares_memory(rows[k], first[k]) for k in rows)  # the same memory again
            runs = lib.read_runs(("rank2",), genes, start, stop, fd, buffers=runs_memory)
            np.testing.assert_array_equal(runs["rank2"], ranks[start:stop, genes].T)
    finally:
        os.close(fd)


def test_blocks_read_start_with_a_short_one():
    from exprlab.match._generows import read_bounds

    assert read_bounds(0, 40_000, 16_384, lead=2_048) == [
        (0, 2_048),
        (2_048, 16_384),
        (16_384, 32_768),
        (32_768, 40_000),
    ]
    assert read_bounds(0, 40_000, 16_384, lead=None) == [(0, 16_384), (16_384, 32_768), (32_768, 40_000)]
    assert read_bounds(4_096, 6_000, 16_384, lead=2_048) == [(4_096, 6_000)]  # shorter than the lead
    assert read_bounds(0, 5, 2, lead=None) == [(0, 2), (2, 4), (4, 5)]


def test_page_cache_probe_tells_cached_from_dropped_runs(gm_path, tmp_path):
    import shutil

    if not hasattr(os, "RWF_NOWAIT") or not hasattr(os, "posix_fadvise"):
        pytest.skip("no RWF_NOWAIT / posix_fadvise on this platform")
    path = shutil.copy(gm_path, tmp_path / "copy.gctx")
    lib = _genemajor.GeneMajorLibrary(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        while os.read(fd, 1 << 20):  # every page read once: in the page cache
            pass
        state = lib.cached(("matrix", "rank2"), np.array([0, 45, 89]), 7, 20, fd)
        if state is None:
            pytest.skip("this file system does not take RWF_NOWAIT")
        assert state is True
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # clean pages dropped from the cache
        state = lib.cached(("matrix", "rank2"), np.array([0, 45, 89]), 7, 20, fd)
        if state is True:
            pytest.skip("this file system keeps its pages in memory (tmpfs)")
        assert state is False
    finally:
        os.close(fd)


def test_a_block_is_read_as_cold_by_the_probe_then_for_the_rest_of_the_pass(monkeypatch):
    from exprlab.match import _generows

    answers: list[bool | None] = []

    class Probe:
        def cached(self, *args):
            return answers.pop(0)

    lib = Probe()
    answers[:] = [True]
    assert _generows._cold(lib, 0, None, (), (0, 5), None, None) is False
    answers[:] = [False]
    assert _generows._cold(lib, 0, None, (), (5, 9), False, 5e9) is True  # probe wins over a fast rate
    assert _generows._cold(lib, 0, None, (), (9, 12), True, 5e9) is True  # sticky: no probe asked
    answers[:] = [None, None, None]  # no probe: the rate of the block before decides
    assert _generows._cold(lib, 0, None, (), (0, 5), None, None) is None
    assert _generows._cold(lib, 0, None, (), (5, 9), None, 0.5 * _generows._COLD_RATE) is True
    assert _generows._cold(lib, 0, None, (), (5, 9), False, 2 * _generows._COLD_RATE) is False


def read_threads(monkeypatch) -> list[str]:
    """Two kernel threads, and the name of the thread that reads each block, in order."""
    import threading

    from exprlab.match import _generows

    monkeypatch.setenv("EXPRLAB_THREADS", "2")
    where: list[str] = []
    real = _generows._read_block

    def spy(*args):
        where.append(threading.current_thread().name.rsplit("_", 1)[0])
        return real(*args)

    monkeypatch.setattr(_generows, "_read_block", spy)
    return where


# what the page-cache probe answers -> where the blocks are read: the kernel threads for a cached
# file, a thread of its own for one on the disk; with no probe, the first block aside and the
# rest by the rate of the block before (here every rate counts as cached)
@pytest.mark.parametrize(
    ("cached", "first", "rest"),
    [
        (True, "exprlab-kernel", "exprlab-kernel"),
        (False, "exprlab-reader", "exprlab-reader"),
        (None, "exprlab-reader", "exprlab-kernel"),
    ],
)
def test_blocks_from_the_page_cache_are_read_on_the_kernel_threads(
    lib, gm_path, monkeypatch, cached, first, rest
):
    from exprlab.match import _generows

    monkeypatch.setattr(_genemajor.GeneMajorLibrary, "cached", lambda *args, **kw: cached)
    monkeypatch.setattr(_generows, "_COLD_RATE", 0.0)
    where = read_threads(monkeypatch)
    got = match.score(set_queries(3), gm_path, "wtcs", chunk_size=14)
    assert where == [first] + [rest] * (-(-lib.n_obs // 14) - 1)
    np.testing.assert_allclose(
        got.to_numpy(), match.score(set_queries(3), lib, "wtcs").to_numpy(), atol=1e-12
    )


def test_a_pass_run_on_a_kernel_thread_reads_aside(lib, gm_path, monkeypatch):
    """Its reads queued on its own pool could wait behind it for ever: they go to the reader."""
    from exprlab.match import _threads

    monkeypatch.setattr(_genemajor.GeneMajorLibrary, "cached", lambda *args, **kw: True)
    where = read_threads(monkeypatch)
    jobs = [
        _threads.kernel_pool().submit(match.score, set_queries(3), gm_path, "wtcs", chunk_size=14)
        for _ in range(2)
    ]
    got = [j.result(timeout=60) for j in jobs]
    assert set(where) == {"exprlab-reader"}
    want = match.score(set_queries(3), lib, "wtcs").to_numpy()
    for g in got:
        np.testing.assert_allclose(g.to_numpy(), want, atol=1e-12)


def test_a_pass_stopped_early_waits_for_the_read_in_flight(gm_path, monkeypatch):
    """The next block's read still uses the file and the buffers: it ends before the error goes on."""
    import time

    from exprlab.match import _generows

    monkeypatch.setenv("EXPRLAB_THREADS", "2")
    monkeypatch.setattr(_genemajor.GeneMajorLibrary, "cached", lambda *args, **kw: True)
    events: list[str] = []
    real = _generows._read_block

    def slow_read(*args):
        events.append("start")
        if len(events) > 1:
            time.sleep(0.3)  # the second block is still being read when the first fails
        out = real(*args)
        events.append("end")
        return out

    def failing(*args):
        deadline = time.monotonic() + 5
        while events.count("start") < 2 and time.monotonic() < deadline:  # the next read has begun
            time.sleep(0.001)
        raise ValueError("scoring failed")

    monkeypatch.setattr(_generows, "_read_block", slow_read)
    monkeypatch.setattr(_generows, "_score_rows", failing)
    with pytest.raises(ValueError, match="scoring failed"):
        match.score(set_queries(3), gm_path, "wtcs", chunk_size=14)
    assert events == ["start", "end", "start", "end"]


def test_read_ahead_covers_the_runs_read(gm_path, monkeypatch):
    if not hasattr(os, "posix_fadvise"):
        pytest.skip("no posix_fadvise on this platform")
    lib = _genemajor.GeneMajorLibrary(gm_path)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        os, "posix_fadvise", lambda fd, off, length, advice: calls.append((off, off + length))
    )
    fd = os.open(gm_path, os.O_RDONLY)
    try:
        genes = np.array([2, 40, 41, 89])
        lib.advise(("matrix", "rank2"), genes, 10, 30, fd)
        for k in range(10 // 7, -(-30 // 7)):  # chunks of 7 signatures: 1 to 4
            a, b = max(10, 7 * k), min(30, 7 * (k + 1))
            for name, size in (("matrix", 4), ("rank2", 2)):
                for g in genes:
                    want = (
                        lib.offsets[name][k, g] + (a - 7 * k) * size,
                        lib.offsets[name][k, g] + (b - 7 * k) * size,
                    )
                    assert any(lo <= want[0] and want[1] <= hi for lo, hi in calls), (name, k, g)
        calls.clear()
        lib.advise(("matrix", "rank2"), np.arange(G), 0, 7, fd)  # every gene: one span for the chunk row
        assert len(calls) == 1
    finally:
        os.close(fd)


def test_blocks_read_and_scored_in_parts_match_memory(lib, gm_path, monkeypatch):
    from exprlab.match import _generows, _threads

    # blocks read of two chunks (14 signatures), scored one 7-row product tile at a time (the last 4)
    monkeypatch.setattr(_generows, "_READ_CHUNKS", 2)
    monkeypatch.setattr(_generows, "_SCORE_BYTES", 1)
    monkeypatch.setattr(_threads, "PRODUCT_ROWS", 7)
    assert _generows.block_rows(_genemajor.GeneMajorLibrary(gm_path), 20, 2, None) == (14, 7)
    for method in ("wtcs", "ks_raw", "cosine"):
        mem = match.score(set_queries(5), lib, method)
        disk = match.score(set_queries(5), gm_path, method)
        np.testing.assert_allclose(disk.to_numpy(), mem.to_numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ bad input
def test_query_outside_the_gene_space(gm_path):
    with pytest.raises(GeneSpaceError, match="no query gene is in the library"):
        match.score({"q": (["X1", "X2", "X3"], ["X4", "X5"])}, gm_path, "wtcs")


def test_bad_layout_is_refused(lib, tmp_path):
    with pytest.raises(InvalidParameterError, match="layout"):
        match.build_library(lib, tmp_path / "x.h5", layout="columns")
    assert not (tmp_path / "x.h5").exists()


def test_stale_offsets_are_recomputed(lib, tmp_path):
    path = match.build_library(lib, tmp_path / "lib.gctx", chunk_size=7, layout=GM)
    with h5py.File(path, "r+") as f:
        f["exprlab/offsets/rank2"][...] = 0  # as if a tool had rewritten the file
    mem = match.score(set_queries(2), lib, "ks_raw")
    np.testing.assert_array_equal(match.score(set_queries(2), path, "ks_raw").to_numpy(), mem.to_numpy())


def test_a_copy_made_dataset_by_dataset_is_read_right(lib, gm_path, tmp_path):
    """A tool copying the file lays the chunks out anew: the stored offsets are stale."""
    copy = tmp_path / "copy.gctx"
    with h5py.File(gm_path, "r") as src, h5py.File(copy, "w") as dst:
        dst.attrs.update(src.attrs)
        for name in ("exprlab", "0"):  # ranks before values: no chunk stays where it was
            src.copy(src[name], dst, name=name)
    with h5py.File(copy, "r") as f:
        stale = f["exprlab/offsets/matrix"][:]
        truth = _genemajor.chunk_offsets(f["0/DATA/0/matrix"], 7, copy)
    assert (stale != truth).any()
    mem = match.score(set_queries(2), lib, "wtcs")
    np.testing.assert_array_equal(match.score(set_queries(2), copy, "wtcs").to_numpy(), mem.to_numpy())


# ------------------------------------------------------------------ the walk over many sets
@pytest.mark.parametrize("statistic", ["es", "ks"])
def test_walk_equals_the_per_set_kernel(statistic):
    from exprlab.match import _ranks, _walk

    rng = np.random.default_rng(11)
    x = (np.round(rng.normal(size=(40, 70)) * 2) / 2).astype(np.float32)  # ties in every row
    x[3] = 0.0  # a constant row: every ES weight is 0
    r2 = _ranks.doubled_ranks(x)
    sets = [np.sort(rng.choice(70, int(rng.integers(1, 30)), replace=False)) for _ in range(150)]
    sets += [np.zeros(0, dtype=np.int64), np.arange(70)]  # empty, and every gene (statistic 0)
    walked = _walk.walk_statistics(sets, r2, x, weighted=statistic == "es", n_genes=70)
    per_set = np.column_stack(
        [_ranks.set_statistics(sets[i : i + 1], r2, x, statistic=statistic)[0] for i in range(len(sets))]
    ).T
    np.testing.assert_allclose(walked, per_set, rtol=0, atol=1e-13)
    # and against the plain definition, ties broken by gene order
    first = _ranks.doubled_ranks(x, "first")
    walked = _walk.walk_statistics(sets[:5], first, x, weighted=statistic == "es", n_genes=70)
    for i, s in enumerate(sets[:5]):
        for b in (0, 7, 21):
            ref = plain_es(x[b].astype(np.float64), s) if statistic == "es" else plain_ks(x[b], s)
            assert walked[i, b] == pytest.approx(ref, abs=1e-12)


def test_walk_totals_are_the_sums_in_column_order():
    from exprlab.match import _walk

    rng = np.random.default_rng(5)
    values = rng.normal(size=(13, 40)).astype(np.float32)  # a whole tile of 8 and a partial one of 5
    sets = [rng.choice(40, int(rng.integers(1, 25)), replace=False) for _ in range(9)]  # unsorted
    set_ptr, set_cols = _walk.set_columns(sets)
    tile = _walk._TOTAL_TILE
    by_column = np.zeros((40, tile))
    totals = np.zeros((len(sets), tile))
    for first in (0, 8):
        _walk._tile_totals(values, first, set_ptr, set_cols, by_column, totals)
        for b in range(first, min(13, first + tile)):
            for s, cols in enumerate(sets):
                expected = 0.0
                for c in sorted(cols.tolist()):  # from scratch: float64, increasing column order
                    expected += abs(float(values[b, c]))
                assert totals[s, b - first] == expected


def test_cli_builds_and_scores_a_gene_major_library(lib, tmp_path, capsys):
    from exprlab.cli import main
    from exprlab.io import read_table, write_gmt, write_h5ad

    write_h5ad(lib, tmp_path / "lib.h5ad")
    lib_file = str(tmp_path / "lib.gctx")
    main(
        ["library", "build", str(tmp_path / "lib.h5ad"), "--out", lib_file, "--layout", GM, "--ties", "first"]
    )
    assert "layout=gene_major" in capsys.readouterr().out
    up, down = set_queries(1)["q0"]
    write_gmt({"q0_up": up, "q0_dn": down}, tmp_path / "q.gmt")
    out = tmp_path / "s.tsv"
    main(["score", "--query", str(tmp_path / "q.gmt"), "--library", lib_file, "--out", str(out)])
    got = read_table(out).set_index("signature")["score"].reindex(lib.obs_names).to_numpy()
    pos = {g: i for i, g in enumerate(lib.var_names)}
    expected = plain_scores(lib.X, np.array([pos[g] for g in up]), np.array([pos[g] for g in down]), "wtcs")
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_dask_backend_on_a_gene_major_library(lib, gm_path):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for method in ("wtcs", "ks", "cosine", "overlap_reverse"):
            mem = match.score(set_queries(3), lib, method)
            got = match.score(set_queries(3), gm_path, method, backend="dask", client=client, chunk_size=10)
            np.testing.assert_allclose(got.to_numpy(), mem.to_numpy(), rtol=1e-12, atol=1e-12)
