"""One 150/150 query against a large in-memory library (default 1,000,000 x 978), WTCS and KS.

Measures, separately: the one-time rank precomputation (``prepare_library``) and the query time
of exprlab's engine; then the plain implementation (a per-signature loop that argsorts each
reference and walks its running sum) on the first ``--plain`` signatures, asserts the scores are
identical there and prints the speed ratio per signature.

    nice -n 10 python benchmarks/bench_match_memory.py --n 1000000 --genes 978 --plain 5000
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np
import pandas as pd
from anndata import AnnData

import exprlab.match as match


def plain_es(x: np.ndarray, hits: np.ndarray) -> float:
    """Running-sum ES of one set against one reference, walking the full sorted list."""
    order = np.argsort(-x, kind="stable")
    is_hit = np.isin(order, hits)
    w = np.abs(x[order]) * is_hit
    rs = np.cumsum(w / w.sum() - (~is_hit) / (len(x) - len(hits)))
    mx, mn = rs.max(), rs.min()
    return mx if mx > -mn else mn


def plain_ks(x: np.ndarray, hits: np.ndarray) -> float:
    """KS statistic of one set against one reference (Lamb 2006), from a full argsort.

    a and b are compared as exact integers (units of 1/(t n)), as the definition demands when
    they tie.
    """
    order = np.argsort(-x, kind="stable")
    pos = np.sort(np.flatnonzero(np.isin(order, hits)) + 1)
    n, t = len(x), len(hits)
    j = np.arange(1, t + 1)
    a = (j * n - pos * t).max()
    b = (pos * t - (j - 1) * n).max()
    return a / (t * n) if a > b else -b / (t * n)


def plain_scores(x: np.ndarray, up: np.ndarray, dn: np.ndarray, method: str) -> np.ndarray:
    out = np.empty(len(x))
    for i, row in enumerate(x.astype(np.float64)):
        if method == "wtcs":
            u, d = plain_es(row, up), plain_es(row, dn)
            out[i] = (u - d) / 2 if np.sign(u) != np.sign(d) else 0.0
        else:
            u, d = plain_ks(row, up), plain_ks(row, dn)
            out[i] = u - d if u * d < 0 else 0.0
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--genes", type=int, default=978)
    p.add_argument("--plain", type=int, default=5000, help="signatures scored by the plain loop")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rng = np.random.default_rng(a.seed)
    x = np.empty((a.n, a.genes), dtype=np.float32)
    for lo in range(0, a.n, 100_000):
        x[lo : lo + 100_000] = rng.standard_normal((min(100_000, a.n - lo), a.genes), dtype=np.float32)
    genes = [f"G{i}" for i in range(a.genes)]
    lib = AnnData(x, obs=pd.DataFrame(index=[f"s{i}" for i in range(a.n)]), var=pd.DataFrame(index=genes))
    pick = rng.choice(a.genes, 300, replace=False)
    up, dn = np.sort(pick[:150]), np.sort(pick[150:])
    query = {"q": ([genes[i] for i in up], [genes[i] for i in dn])}

    t0 = time.perf_counter()
    prepared = match.prepare_library(lib, ties="first")
    t_prep = time.perf_counter() - t0
    print(
        f"library {a.n:,} x {a.genes}: one-time rank precomputation {t_prep:.2f} s "
        f"(int16 ranks, {prepared.rank2.nbytes / 1e9:.2f} GB)"
    )
    match.score(query, match.MemoryLibrary(x[:1000], genes, lib.obs.iloc[:1000]), "wtcs")  # JIT warm-up
    match.score(query, match.MemoryLibrary(x[:1000], genes, lib.obs.iloc[:1000]), "ks")
    for method in ("wtcs", "ks_raw"):
        times, cpus = [], []
        for _ in range(a.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            s = match.score(query, prepared, method, ties="first", chunk_size=a.n).to_numpy()[0]
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        best = min(times)
        t0 = time.perf_counter()
        ref = plain_scores(x[: a.plain], up, dn, "wtcs" if method == "wtcs" else "ks")
        t_plain = time.perf_counter() - t0
        np.testing.assert_allclose(s[: a.plain], ref, rtol=0, atol=1e-12)
        per_engine = best / a.n
        per_plain = t_plain / a.plain
        print(
            f"{method}: engine {best:.3f} s for {a.n:,} signatures (best of {a.repeats}: "
            f"{', '.join(f'{t:.3f}' for t in times)}; CPU {min(cpus):.3f} s over {os.cpu_count()} cores); plain loop {t_plain:.2f} s for {a.plain:,} "
            f"-> {per_plain * a.n:.0f} s extrapolated; speed-up x{per_plain / per_engine:.0f}; "
            f"scores identical on the {a.plain:,} checked (max |diff| "
            f"{np.abs(s[: a.plain] - ref).max():.1e})"
        )
    del prepared, lib, x
    gc.collect()


if __name__ == "__main__":
    main()
