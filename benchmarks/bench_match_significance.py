"""Permutation p-values: calibration on random data and the cost of the null.

Calibration: random 150/150 queries against a random library (and against the real LINCS
level-5 sample, when the data directory is set) are null by construction, so the p-values of
their non-zero scores should be uniform. Prints, per method and null, the fraction of p-values
at or below 0.05 and 0.01 and the Kolmogorov-Smirnov statistic against U(0, 1) with its p-value.

Speed: one 150/150 query with ``--n-permutations`` random queries against the LINCS sample
(100 x 5,000) and against a synthetic in-memory library (default 100,000 x 978). The peer, in
the same process, is :func:`exprlab.match.score` on the same library (prepared once) for the
query alone and for the query plus the same number of random gene-set queries: the p-values cost
what scoring those extra queries costs, plus the counting.

    nice -n 10 python benchmarks/bench_match_significance.py --n 100000 --n-permutations 1000
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import stats

import exprlab.match as match


def random_library(n: int, genes: int, seed: int) -> AnnData:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, genes), dtype=np.float32)
    lib = AnnData(x, var=pd.DataFrame(index=[f"g{i}" for i in range(genes)]))
    lib.obs_names = [f"s{i}" for i in range(n)]
    return lib


def random_queries(n: int, genes, size: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    genes = np.asarray(genes)
    out = {}
    for k in range(n):
        pick = genes[rng.choice(len(genes), 2 * size, replace=False)]
        out[f"q{k}"] = (pick[:size].tolist(), pick[size:].tolist())
    return out


def calibration(lib, label: str, n_queries: int, n_permutations: int, size: int) -> None:
    queries = random_queries(n_queries, lib.var_names, size, seed=123)
    prepared = match.prepare_library(lib)
    for method in ("wtcs", "ks", "xsum"):
        for null in ("signature", "pooled"):
            res = match.significance(
                queries, prepared, method, n_permutations=n_permutations, seed=7, null=null
            )
            p = res.pvalue.to_numpy()[res.statistic.to_numpy() != 0]
            ks = stats.kstest(p, "uniform")
            print(
                f"{label:<22} {method:<5} {null:<9} n={len(p):>7}  P(p<=.05)={np.mean(p <= 0.05):.4f}  "
                f"P(p<=.01)={np.mean(p <= 0.01):.4f}  KS D={ks.statistic:.4f} (p={ks.pvalue:.3g})"
            )


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def speed(lib, label: str, n_permutations: int, size: int, n_batch: int | None = None) -> None:
    t_prep, prepared = timed(lambda: match.prepare_library(lib))
    query = random_queries(1, lib.var_names, size, seed=99)
    n_batch = n_permutations if n_batch is None else n_batch
    extra = random_queries(n_batch, lib.var_names, size, seed=5)
    match.score(query, prepared, "wtcs")  # compile the kernel before timing
    t_one, _ = timed(lambda: match.score(query, prepared, "wtcs"))
    t_batch, _ = timed(lambda: match.score({**query, **extra}, prepared, "wtcs"))
    t_sig, _ = timed(
        lambda: match.significance(query, prepared, "wtcs", n_permutations=n_permutations, seed=0)
    )
    pairs = (1 + n_permutations) * lib.n_obs
    batch_pair = t_batch / ((1 + n_batch) * lib.n_obs)
    print(
        f"{label}: prepare {t_prep:.2f} s; score 1 query {t_one:.3f} s; score 1 + {n_batch} "
        f"queries {t_batch:.2f} s ({1e6 * batch_pair:.2f} us per pair); significance "
        f"({n_permutations} permutations) {t_sig:.2f} s ({1e6 * t_sig / pairs:.2f} us per pair) = "
        f"{t_sig / pairs / batch_pair:.2f}x the plain batch per pair, {t_sig / t_one:.0f}x one query"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="signatures of the synthetic library")
    ap.add_argument("--genes", type=int, default=978)
    ap.add_argument("--n-permutations", type=int, default=1000)
    ap.add_argument("--size", type=int, default=150, help="up and down set size")
    ap.add_argument("--calibration-queries", type=int, default=200)
    ap.add_argument("--calibration-signatures", type=int, default=2000)
    ap.add_argument("--no-calibration", action="store_true", help="speed only")
    ap.add_argument("--batch", type=int, default=None, help="random queries of the plain-batch peer")
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
    if not args.no_calibration:
        calibration(
            random_library(args.calibration_signatures, args.genes, seed=1),
            f"random {args.calibration_signatures}x{args.genes}",
            args.calibration_queries,
            args.n_permutations,
            args.size,
        )
    if os.environ.get("EXPRLAB_DATA"):
        from exprlab.datasets import lincs_level5_sample  # optional: needs the public data

        sample = lincs_level5_sample()
        if not args.no_calibration:
            calibration(
                sample, "LINCS sample 100x5000", args.calibration_queries, args.n_permutations, args.size
            )
        speed(sample, "LINCS sample 100 x 5,000", args.n_permutations, args.size, args.batch)
    if args.n > 0:
        lib = random_library(args.n, args.genes, seed=2)
        speed(lib, f"synthetic {args.n:,} x {args.genes}", args.n_permutations, args.size, args.batch)


if __name__ == "__main__":
    main()
