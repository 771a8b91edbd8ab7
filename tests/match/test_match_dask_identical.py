"""The Dask backend gives the memory backend's scores bit for bit, matrix-product methods included.

The memory backend runs in this process with two BLAS threads; the Dask backend on a local
cluster of two single-threaded worker processes, with tasks of its own size. Before the
products were tiled by library position on one BLAS thread each, the matrix-product methods
differed between the two in the seventh significant digit (cosine, XSum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData
from tests._queries import random_up_down
from threadpoolctl import threadpool_limits

import exprlab.match as match
from exprlab.cli._dask_cluster import local_cluster
from exprlab.match import _threads

# not a multiple of the product tile: several whole tiles and a partial last one
N, G = 9_000, 978
METHODS = ("cosine", "pearson", "spearman", "chardir", "xsum", "xcos")


def random_lib(seed: int = 0) -> AnnData:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, G), dtype=np.float32)
    return AnnData(
        x,
        obs=pd.DataFrame(index=[f"s{i}" for i in range(N)]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(G)]),
    )


def set_queries(n: int, seed: int = 1) -> dict:
    return random_up_down(n, G, 50, 50, seed=seed)


def signature_queries(n: int, seed: int = 2) -> AnnData:
    rng = np.random.default_rng(seed)
    return AnnData(
        rng.standard_normal((n, G)).astype(np.float32),
        obs=pd.DataFrame(index=[f"v{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(G)]),
    )


def test_aligned_rounds_to_whole_tiles():
    tile = _threads.PRODUCT_ROWS
    assert _threads.aligned(2 * tile + 5) == 2 * tile
    assert _threads.aligned(2 * tile + 5, up=True) == 3 * tile
    assert _threads.aligned(3) == tile  # at least one tile
    assert _threads.aligned(10, 7, up=True) == 14
    assert _threads.aligned(14, 7, up=True) == 14


def test_rows_product_exact_on_integers(monkeypatch):
    # integer values: every summation order gives the exact product, computed here in int64
    rng = np.random.default_rng(3)
    a = rng.integers(-50, 50, size=(2 * _threads.PRODUCT_ROWS + 37, 61))
    b = rng.integers(-50, 50, size=(61, 9))
    want = np.einsum("ik,kj->ij", a, b)
    monkeypatch.setenv("EXPRLAB_THREADS", "2")
    got = _threads.rows_product(a.astype(np.float32), b.astype(np.float32))
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want.astype(np.float32))


@pytest.mark.parametrize("n_queries", [1, 3, 100])
def test_rows_product_same_bits_whatever_the_block_and_threads(monkeypatch, n_queries):
    """A row's product depends on its tile only: not on the rows around it, nor on threads."""
    tile = _threads.PRODUCT_ROWS
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3 * tile + 100, G), dtype=np.float32)
    b = rng.standard_normal((G, n_queries), dtype=np.float32)
    monkeypatch.setenv("EXPRLAB_THREADS", "2")
    with threadpool_limits(2):
        whole = _threads.rows_product(a, b)
    monkeypatch.setenv("EXPRLAB_THREADS", "1")
    with threadpool_limits(1):
        parts = [_threads.rows_product(a[lo : lo + tile], b) for lo in range(0, len(a), tile)]
        later = _threads.rows_product(a[2 * tile :], b)
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(later, whole[2 * tile :])
    # and it is the product, to float32 rounding
    np.testing.assert_allclose(whole, a.astype(np.float64) @ b.astype(np.float64), rtol=0, atol=1e-3)


def test_dask_tasks_start_on_tiles_one_per_slot_on_short_jobs():
    from types import SimpleNamespace

    from exprlab.match import _driver

    tile = _threads.PRODUCT_ROWS

    def lib(n, gene_major=None):
        return SimpleNamespace(n=n, genes=range(G), gene_major=gene_major)

    whole = (False, None, False)  # whole signatures, default chunk size, every matrix
    # 30,000 signatures on 2 slots: one task per slot, 15,000 rounded up to whole tiles
    assert _driver._dask_step(lib(30_000), 2, whole) == 8 * tile
    # 200,000: four tasks per slot of 25,000, rounded up to whole tiles (8 tasks in all)
    assert _driver._dask_step(lib(200_000), 2, whole) == 13 * tile
    # query genes read in blocks of 1,000: tasks start on a block of the memory backend
    gm = SimpleNamespace(block=16_384)
    assert _driver._dask_step(lib(30_001, gm), 2, (True, 1000, False)) == 16_000


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    lib = random_lib()
    folder = tmp_path_factory.mktemp("dask_identical")
    return {
        layout: match.build_library(lib, folder / f"{layout}.h5", layout=layout)
        for layout in ("signature_major", "gene_major")
    }


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with local_cluster(2) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["signature_major", "gene_major"])
def test_product_methods_identical_between_backends(paths, client, layout):
    path = str(paths[layout])
    for queries in (set_queries(40), signature_queries(3)):
        for method in METHODS:
            if method in ("xsum", "xcos") and isinstance(queries, AnnData):
                continue  # full signatures give the same product path as their sets
            with threadpool_limits(2):
                mem = match.score(queries, path, method)
            got = match.score(queries, path, method, backend="dask", client=client)
            assert list(got.columns) == list(mem.columns)
            np.testing.assert_array_equal(got.to_numpy(), mem.to_numpy(), err_msg=f"{layout} {method}")
