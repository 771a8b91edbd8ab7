"""Many gene-set queries against a small library with heavy ties (the drug-repurposing shape).

Default: 6,100 queries of 100 up / 100 down genes (the CMap build 02 instances) against 700
disease-like references over 12,000 genes in which only ~200 genes per reference are non-zero
(so ~11,800 genes tie at 0 and are ranked by midranks). Times each method of the engine, and
checks WTCS/KS against a plain per-pair loop (midranks from scipy, full running sum) on a
subset, printing the per-pair speed ratio.

    nice -n 10 python benchmarks/bench_match_genesets.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy.stats import rankdata

import exprlab.match as match


def plain_pair(x: np.ndarray, up: np.ndarray, dn: np.ndarray, method: str) -> float:
    """One (query, reference) pair with midranks, walking every gene position."""
    n = len(x)
    v = rankdata(-x, method="average")

    def stat(s):
        t = len(s)
        pos = np.sort(v[s])
        j = np.arange(1, t + 1)
        if method == "ks":  # exact integers in units of 1/(2tn): ties follow the definition
            a = (2 * j * n - 2 * pos * t).max()
            b = (2 * pos * t - 2 * (j - 1) * n).max()
            return a / (2 * t * n) if a > b else -b / (2 * t * n)
        order = np.argsort(v[s], kind="stable")
        w = np.abs(x[s][order])
        if w.sum() == 0:
            return 0.0
        cum = np.cumsum(w / w.sum())
        d = (pos - j) / (n - t)
        hi, lo = (cum - d).max(), (cum - w / w.sum() - d).min()
        return hi if hi > -lo else lo

    u, d = stat(up), stat(dn)
    if method == "ks":
        return u - d if u * d < 0 else 0.0
    return (u - d) / 2 if np.sign(u) != np.sign(d) else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=6100)
    p.add_argument("--refs", type=int, default=700)
    p.add_argument("--genes", type=int, default=12000)
    p.add_argument("--listed", type=int, default=200, help="non-zero genes per reference")
    p.add_argument("--plain", type=int, default=20, help="queries checked with the plain loop")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(a.genes)]
    x = np.zeros((a.refs, a.genes), dtype=np.float32)
    for r in range(a.refs):
        idx = rng.choice(a.genes, a.listed, replace=False)
        x[r, idx] = rng.standard_normal(a.listed).astype(np.float32) * 2
    lib = AnnData(x, obs=pd.DataFrame(index=[f"d{i}" for i in range(a.refs)]), var=pd.DataFrame(index=genes))
    queries = {}
    for q in range(a.queries):
        pick = rng.choice(a.genes, 200, replace=False)
        queries[f"q{q}"] = ([genes[i] for i in pick[:100]], [genes[i] for i in pick[100:]])
    t0 = time.perf_counter()
    prepared = match.prepare_library(lib, ties="midrank")
    print(
        f"library {a.refs} x {a.genes} ({a.listed} non-zero genes each): midranks in "
        f"{time.perf_counter() - t0:.2f} s"
    )
    small = dict(list(queries.items())[: a.plain])
    match.score(small, prepared, "wtcs")  # JIT warm-up
    timings = {}
    for method in ("wtcs", "ks_raw", "xsum", "cosine", "overlap_reverse"):
        t0 = time.perf_counter()
        s = match.score(queries, prepared, method)
        timings[method] = time.perf_counter() - t0
        print(f"{method}: {a.queries:,} queries x {a.refs} references in {timings[method]:.2f} s")
        if method in ("wtcs", "ks_raw"):
            kind = "wtcs" if method == "wtcs" else "ks"
            pos = {g: i for i, g in enumerate(genes)}
            t0 = time.perf_counter()
            plain = np.array(
                [
                    [
                        plain_pair(
                            x[r].astype(np.float64),
                            np.array([pos[g] for g in u]),
                            np.array([pos[g] for g in d]),
                            kind,
                        )
                        for r in range(a.refs)
                    ]
                    for u, d in small.values()
                ]
            )
            t_plain = time.perf_counter() - t0
            np.testing.assert_allclose(s.to_numpy()[: a.plain], plain, rtol=0, atol=1e-9)
            ratio = (t_plain / (a.plain * a.refs)) / (timings[method] / (a.queries * a.refs))
            print(
                f"  plain loop {t_plain:.1f} s for {a.plain} queries; speed-up x{ratio:.0f}; "
                f"identical on the {a.plain * a.refs:,} pairs checked"
            )


if __name__ == "__main__":
    main()
