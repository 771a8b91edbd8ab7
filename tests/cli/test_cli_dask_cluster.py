"""``exprlab score --backend dask``: the same scores as the memory backend, and its refusals.

Most tests use a small in-process cluster (its scheduler address passed with ``--scheduler``);
one starts the command's own local cluster of worker processes.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData

import exprlab.match as match
from exprlab.cli import main
from exprlab.io import read_gmt, read_table, write_gmt

distributed = pytest.importorskip("distributed")

N_SIG, N_GENES = 300, 80
# Methods whose block function only gathers, ranks and sums in a fixed order give the same bits
# whatever the blocks; cosine and XSum multiply float32 blocks with BLAS, whose rounding depends
# on the block's shape and the thread count (so they agree to float32 rounding, as the memory
# backend does with itself across --chunk-size values).
EXACT = ("wtcs", "ks", "ncs")
PRODUCTS = ("xsum", "cosine")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dask")
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(N_GENES)]
    obs = pd.DataFrame(
        {"drug": [f"d{i % 9}" for i in range(N_SIG)], "cell_line": [f"c{i % 2}" for i in range(N_SIG)]},
        index=[f"s{i}" for i in range(N_SIG)],
    )
    lib = AnnData(rng.normal(size=(N_SIG, N_GENES)).astype(np.float32), obs=obs)
    lib.var_names = genes
    lib.write_h5ad(tmp / "lib.h5ad")
    sets = {}
    for q in range(3):
        picked = rng.choice(N_GENES, size=20, replace=False)
        sets[f"q{q}_up"] = [genes[i] for i in picked[:8]]
        sets[f"q{q}_dn"] = [genes[i] for i in picked[8:]]
    write_gmt(sets, tmp / "q.gmt")
    return {
        "tmp": tmp,
        "signature_major": match.build_library(lib, tmp / "f1.h5", chunk_size=50),
        "gene_major": match.build_library(lib, tmp / "f2.gctx", layout="gene_major", chunk_size=64),
        "h5ad": tmp / "lib.h5ad",
        "query": tmp / "q.gmt",
    }


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def _score(files, library, out, *extra) -> pd.DataFrame:
    main(
        ["score", "-q", "--query", str(files["query"]), "--library", str(library), "--out", str(out), *extra]
    )
    table = read_table(out)
    return table.pivot(index="query", columns="signature", values="score")


@pytest.mark.parametrize("layout", ["signature_major", "gene_major"])
@pytest.mark.parametrize("method", EXACT + PRODUCTS)
def test_dask_scores_equal_memory_scores(files, scheduler, tmp_path, layout, method):
    lib = files[layout]
    mem = _score(files, lib, tmp_path / "mem.tsv", "-m", method)
    got = _score(
        files, lib, tmp_path / "dask.tsv", "-m", method, "--backend", "dask", "--scheduler", scheduler
    )
    assert got.shape == (3, N_SIG)
    assert got.index.tolist() == mem.index.tolist() and got.columns.tolist() == mem.columns.tolist()
    if method in EXACT:
        np.testing.assert_array_equal(got.to_numpy(), mem.to_numpy())
    else:
        np.testing.assert_allclose(got.to_numpy(), mem.to_numpy(), rtol=1e-5, atol=1e-6)
    run = json.loads((tmp_path / "dask.tsv.run.json").read_text())["parameters"]
    assert (run["backend"], run["scheduler"]) == ("dask", scheduler)
    assert json.loads((tmp_path / "mem.tsv.run.json").read_text())["parameters"]["backend"] == "memory"


def test_dask_on_a_gene_major_library_with_blocks_of_a_few_signatures(files, scheduler, tmp_path):
    """Tasks cut inside the library's chunks (--chunk-size 10) read the same signatures."""
    lib = files["gene_major"]
    mem = _score(files, lib, tmp_path / "mem.tsv", "-m", "wtcs")
    args = ("-m", "wtcs", "--backend", "dask", "--scheduler", scheduler, "--chunk-size", "10")
    got = _score(files, lib, tmp_path / "dask.tsv", *args)
    np.testing.assert_array_equal(got.to_numpy(), mem.to_numpy())
    # one signature scored from the definition: WTCS of q0 against s7, by a plain loop
    sets = match.split_up_down(read_gmt(files["query"]))
    x = match.DiskLibrary(files["signature_major"]).read(7, 8, ranks=False, ties="midrank")[0][0]
    genes = list(match.DiskLibrary(lib).genes)
    es = [_plain_es(x.astype(np.float64), np.array([genes.index(g) for g in s])) for s in sets["q0"]]
    expected = (es[0] - es[1]) / 2 if np.sign(es[0]) != np.sign(es[1]) else 0.0
    assert got.loc["q0", "s7"] == pytest.approx(expected, abs=1e-12)


def _plain_es(row: np.ndarray, hits: np.ndarray) -> float:
    """Weighted (p = 1) enrichment score of ``hits`` in ``row`` ranked high to low, by a loop."""
    order = np.argsort(-row, kind="stable")
    weight = np.abs(row)
    total = weight[hits].sum()
    miss = 1.0 / (len(row) - len(hits))
    run, best = 0.0, 0.0
    for gene in order:
        run += weight[gene] / total if gene in set(hits.tolist()) else -miss
        best = run if abs(run) > abs(best) else best
    return best


def test_a_local_cluster_of_worker_processes_is_started_and_recorded(files, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRLAB_THREADS", "1")  # one worker process: quick to start
    lib = files["signature_major"]
    mem = _score(files, lib, tmp_path / "mem.tsv", "-m", "ks")
    got = _score(files, lib, tmp_path / "dask.tsv", "-m", "ks", "--backend", "dask")
    np.testing.assert_array_equal(got.to_numpy(), mem.to_numpy())
    run = json.loads((tmp_path / "dask.tsv.run.json").read_text())["parameters"]
    assert run["scheduler"] == "local cluster (1 single-threaded worker process)"


def _fails(capsys, argv: list[str], fragment: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert fragment in err.lower(), err
    return err


def _argv(files, out, library=None) -> list[str]:
    lib = files["signature_major"] if library is None else library
    return ["score", "-q", "--query", str(files["query"]), "--library", str(lib), "--out", str(out)]


def test_scheduler_without_the_dask_backend_is_refused(files, tmp_path, capsys):
    _fails(
        capsys, [*_argv(files, tmp_path / "o.tsv"), "--scheduler", "tcp://127.0.0.1:8786"], "--backend dask"
    )
    assert not (tmp_path / "o.tsv").exists()


def test_an_unknown_backend_is_refused(files, tmp_path, capsys):
    _fails(capsys, [*_argv(files, tmp_path / "o.tsv"), "--backend", "spark"], "--backend")


def test_a_scheduler_that_does_not_answer_is_refused_quickly(files, tmp_path, capsys):
    t0 = time.monotonic()
    argv = [*_argv(files, tmp_path / "o.tsv"), "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"]
    _fails(capsys, argv, "cannot reach the dask scheduler")
    assert time.monotonic() - t0 < 60  # a short connection timeout, not the default of minutes
    assert not (tmp_path / "o.tsv").exists()


def test_a_library_read_into_memory_is_refused(files, tmp_path, capsys):
    argv = [*_argv(files, tmp_path / "o.tsv", files["h5ad"]), "--backend", "dask"]
    _fails(capsys, argv, "on-disk libraries only")


def test_permutations_are_refused_with_the_dask_backend(files, tmp_path, capsys):
    argv = [*_argv(files, tmp_path / "o.tsv"), "--backend", "dask", "--n-permutations", "10"]
    _fails(capsys, argv, "--n-permutations")


def test_missing_distributed_is_a_clear_error(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    argv = [*_argv(files, tmp_path / "o.tsv"), "--backend", "dask"]
    _fails(capsys, argv, "not installed")
    assert not (tmp_path / "o.tsv").exists()
