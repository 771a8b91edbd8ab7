"""The Dask backend against the memory backend on the same on-disk library and the same cores.

A library of ``--n`` x ``--genes`` random signatures is written block by block in both on-disk
layouts (signature-major format 1, gene-major format 2) into a temporary folder. Each method is
scored by the memory backend (this process, its kernels on every core) and by the Dask backend
on a local cluster of one single-threaded worker process per core (the cluster ``exprlab score
--backend dask`` starts), whose workers read their blocks from the file themselves. Printed:
absolute times (best of ``--repeats``, the two backends run in turns), the ratio dask / memory, the cluster start-up (start
plus the workers' first import of exprlab) measured apart, and that the scores are identical,
bit for bit, for every method (the matrix products of cosine, Pearson, XSum and XCos run by the
same tiles of library rows on one BLAS thread each in both backends).

    python benchmarks/bench_match_dask.py                 # 30,000 x 978, 100 queries
    python benchmarks/bench_match_dask.py --n 20000 --methods wtcs,xsum
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _synthetic import genes_of, queries_of


def build(folder: Path, n: int, g: int, seed: int, chunk: int = 4096) -> dict[str, Path]:
    """Both layouts of one random library, written block by block."""
    from exprlab.match import GeneMajorWriter, LibraryWriter

    paths = {"signature_major": folder / "f1.h5", "gene_major": folder / "f2.gctx"}
    rng = np.random.default_rng(seed)
    with (
        LibraryWriter(paths["signature_major"], genes_of(g)) as w1,
        GeneMajorWriter(paths["gene_major"], genes_of(g)) as w2,
    ):
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            x = rng.standard_normal((m, g), dtype=np.float32)
            obs = pd.DataFrame(index=[f"s{i}" for i in range(lo, lo + m)])
            w1.append(x, obs)
            w2.append(x, obs)
    return paths


def best_pair(repeats: int, first, second) -> tuple[float, float, object, object]:
    """Best time of each of two calls, run in turns (so that a busy moment hits both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    outs: list = [None, None]
    for _ in range(repeats):
        for i, fn in enumerate((first, second)):
            t0 = time.perf_counter()
            outs[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return min(times[0]), min(times[1]), outs[0], outs[1]


def _warm() -> None:
    import exprlab.match  # noqa: F401 - the workers' first import, timed as start-up


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=30_000, help="signatures")
    p.add_argument("--genes", type=int, default=978)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--methods", default="wtcs,ks,xsum,cosine")
    p.add_argument("--layouts", default="signature_major,gene_major")
    p.add_argument(
        "--workers", type=int, default=len(os.sched_getaffinity(0)), help="cores used by both backends"
    )
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.environ["EXPRLAB_THREADS"] = str(a.workers)  # the memory backend's kernel threads
    import distributed

    import exprlab.match as match
    from exprlab.cli._dask_cluster import local_cluster

    q = queries_of(a.queries, a.genes, a.seed, set_size=50)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = build(Path(tmp), a.n, a.genes, a.seed)
        print(
            f"library {a.n} x {a.genes}, both layouts, built in {time.perf_counter() - t0:.1f} s; {a.queries} queries"
        )
        t0 = time.perf_counter()
        with local_cluster(a.workers) as cluster, distributed.Client(cluster) as client:
            started = time.perf_counter() - t0
            client.run(_warm)
            warmed = time.perf_counter() - t0 - started
            print(
                f"cluster: {a.workers} worker processes x 1 thread; start {started:.1f} s, first import {warmed:.1f} s (not counted below)"
            )
            print(f"{'layout':<16}{'method':<8}{'memory s':>10}{'dask s':>10}{'ratio':>8}  scores")
            ratios = []
            for layout in a.layouts.split(","):
                for method in a.methods.split(","):
                    path = str(paths[layout])
                    t_mem, t_dask, mem, got = best_pair(
                        a.repeats,
                        lambda: match.score(q, path, method),
                        lambda: match.score(q, path, method, backend="dask", client=client),
                    )
                    diff = float(np.abs(got.to_numpy() - mem.to_numpy()).max())
                    assert np.array_equal(got.to_numpy(), mem.to_numpy()), (layout, method, diff)
                    note = "identical"
                    ratios.append(t_dask / t_mem)
                    print(
                        f"{layout:<16}{method:<8}{t_mem:>10.2f}{t_dask:>10.2f}{t_dask / t_mem:>8.2f}  {note}"
                    )
            print(
                f"ratio dask / memory: median {np.median(ratios):.2f}, worst {max(ratios):.2f} (target <= 1.2)"
            )


if __name__ == "__main__":
    main()
