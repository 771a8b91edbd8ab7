"""Cosine, Pearson, XSum and XCos against the plain numpy expression; kept ranks vs ranking per call.

One query at a time against an in-memory library (default 20,000 x 978, float32), as a user
scoring queries one call at a time does. For each method: exprlab's ``score`` (best of
``--repeats`` calls on the same AnnData, so its prepared values, sums and ranks are kept) and the
plain numpy expression on the same float32 matrix (for XSum/XCos given the stored ranks, as a
user holding them would write it), their ratio, and the largest difference of exprlab's scores
from a float64 reference. Then a rank-based method (WTCS) called repeatedly on the same AnnData
(ranks kept after the first call) against the same calls when every call ranks the library
again (a fresh library object each time, as before the ranks were kept).

    nice -n 10 python benchmarks/bench_match_vectors.py --n 20000 --genes 978
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from anndata import AnnData

import exprlab.match as match


def best_of(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def plain_cosine(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (x @ q) / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))


def plain_pearson(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    qc = q - q.mean()
    return (xc @ qc) / (np.linalg.norm(xc, axis=1) * np.linalg.norm(qc))


def plain_xsum(x, rank2, idx, sign, top, g):
    r = rank2[:, idx]
    kept = (r <= 2 * top) | (r > 2 * (g - top))
    return np.where(kept, x[:, idx], 0) @ sign


def plain_xcos(x, rank2, idx, sign, top, g):
    r = rank2[:, idx]
    kept = (r <= 2 * top) | (r > 2 * (g - top))
    v = np.where(kept, x[:, idx], 0)
    den = np.sqrt(kept @ (sign * sign)) * np.linalg.norm(v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (v @ sign) / den, 0.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--genes", type=int, default=978)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)")
    rng = np.random.default_rng(a.seed)
    x = rng.standard_normal((a.n, a.genes), dtype=np.float32)
    genes = [f"G{i}" for i in range(a.genes)]
    obs = pd.DataFrame(index=[f"s{i}" for i in range(a.n)])
    lib = AnnData(x, obs=obs, var=pd.DataFrame(index=genes))
    qv = rng.standard_normal(a.genes)
    qsig = AnnData(qv[None, :], var=pd.DataFrame(index=genes))
    pick = rng.choice(a.genes, 300, replace=False)
    up, dn = np.sort(pick[:150]), np.sort(pick[150:])
    qset = {"q": ([genes[i] for i in up], [genes[i] for i in dn])}
    idx, sign = np.r_[up, dn], np.r_[np.ones(150), -np.ones(150)].astype(np.float32)
    top = 100
    prepared = match.prepare_library(lib)
    rank2 = prepared.rank2
    x64, q32 = x.astype(np.float64), qv.astype(np.float32)
    cases = {
        "cosine": (qsig, {}, lambda: plain_cosine(x, q32), plain_cosine(x64, qv)),
        "pearson": (qsig, {}, lambda: plain_pearson(x, q32), plain_pearson(x64, qv)),
        "xsum": (qset, {"top": top}, lambda: plain_xsum(x, rank2, idx, sign, top, a.genes), None),
        "xcos": (qset, {"top": top}, lambda: plain_xcos(x, rank2, idx, sign, top, a.genes), None),
    }
    print(f"library {a.n:,} x {a.genes} float32, one query per call, best of {a.repeats}")
    for method, (query, opts, plain, ref64) in cases.items():
        match.score(query, lib, method, **opts)  # first call prepares and keeps the library
        t_engine, got = best_of(lambda: match.score(query, lib, method, **opts), a.repeats)
        t_plain, plain_out = best_of(plain, a.repeats)
        if ref64 is None:  # the float64 reference of the set methods: the plain expression in float64
            ref64 = (plain_xsum if method == "xsum" else plain_xcos)(
                x64, rank2, idx, sign.astype(np.float64), top, a.genes
            )
        diff = np.abs(got.to_numpy()[0] - ref64).max()
        print(
            f"{method:8s} exprlab {t_engine * 1e3:7.2f} ms  plain numpy {t_plain * 1e3:7.2f} ms  "
            f"ratio {t_engine / t_plain:5.2f}  max |diff| to float64 {diff:.1e}"
        )
    t_bound, _ = best_of(lambda: x @ q32, a.repeats)
    t_gather, _ = best_of(lambda: x[:, idx], a.repeats)
    print(
        f"bounds: the bare product x @ q {t_bound * 1e3:.2f} ms (cosine/Pearson); the bare gather of "
        f"the 300 query columns {t_gather * 1e3:.2f} ms (XSum/XCos read values and ranks there)"
    )
    calls = a.repeats
    match.score(qset, lib, "wtcs")
    t0 = time.perf_counter()
    for _ in range(calls):
        match.score(qset, lib, "wtcs")
    t_cached = (time.perf_counter() - t0) / calls
    t0 = time.perf_counter()
    for _ in range(calls):
        match.score(qset, match.MemoryLibrary(x, genes, obs), "wtcs")
    t_fresh = (time.perf_counter() - t0) / calls
    print(
        f"wtcs, {calls} single-query calls: ranks kept {t_cached * 1e3:.1f} ms per call, "
        f"ranked again at every call {t_fresh * 1e3:.1f} ms per call (x{t_fresh / t_cached:.1f})"
    )


if __name__ == "__main__":
    main()
