"""100 queries against an on-disk library of 100,000 x 12,328 signatures, with peak memory.

The library is generated chunk by chunk straight into an on-disk exprlab library (values +
precomputed ranks), so it never sits in memory. Scoring runs in a child process whose peak
resident memory (``ru_maxrss``) is reported; the plain implementation (per-signature argsort
and running-sum walk, midranks by scipy as the library uses) scores the first ``--plain`` signatures in this process, the scores are
asserted identical there and the per-signature speed ratio is printed.

    nice -n 10 python benchmarks/bench_match_disk.py --lib /path/to/bench_lib.h5
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _synthetic import genes_of, queries_of


def build(path: Path, n: int, g: int, seed: int, chunk: int = 2000) -> float:
    from exprlab.match import LibraryWriter

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with LibraryWriter(path, genes_of(g), ties="midrank") as w:
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            x = rng.standard_normal((m, g), dtype=np.float32)
            w.append(x, pd.DataFrame(index=[f"s{i}" for i in range(lo, lo + m)]))
    return time.perf_counter() - t0


def score_child(path: str, n_queries: int, seed: int, method: str, out: str) -> None:
    import exprlab.match as match

    lib = match.DiskLibrary(path)
    q = queries_of(n_queries, len(lib.genes), seed)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    s = match.score(q, path, method)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    np.save(out, s.to_numpy()[:, :1000])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_gb": peak, "shape": list(s.shape)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lib", type=Path, required=True, help="library file (built if missing)")
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--genes", type=int, default=12_328)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--plain", type=int, default=100, help="signatures scored by the plain loop")
    p.add_argument("--method", default="wtcs", choices=["wtcs", "ks_raw"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default="", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        score_child(str(a.lib), a.queries, a.seed, a.method, a.out)
        return
    if not a.lib.exists():
        t = build(a.lib, a.n, a.genes, a.seed)
        print(f"built {a.lib} ({a.n:,} x {a.genes:,}, values + int16 ranks) in {t:.1f} s")
    out = str(a.lib) + ".scores.npy"
    res = subprocess.run(
        [
            sys.executable,
            __file__,
            "--lib",
            str(a.lib),
            "--queries",
            str(a.queries),
            "--seed",
            str(a.seed),
            "--method",
            a.method,
            "--child",
            "--out",
            out,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(res.stdout.strip().splitlines()[-1])
    print(
        f"exprlab {a.method}: {a.queries} queries x {info['shape'][1]:,} signatures from disk in "
        f"{info['wall']:.1f} s wall ({info['cpu']:.1f} s CPU); peak memory of the scoring process "
        f"{info['peak_gb']:.2f} GB"
    )

    import h5py

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_match_genesets import plain_pair  # midranks, as the library was built with

    with h5py.File(a.lib, "r") as f:
        x = f["values"][: a.plain]
    genes = {g: i for i, g in enumerate(genes_of(x.shape[1]))}
    q = queries_of(a.queries, x.shape[1], a.seed)
    t0 = time.perf_counter()
    kind = "wtcs" if a.method == "wtcs" else "ks"
    plain = np.array(
        [
            [
                plain_pair(row, np.array([genes[g] for g in u]), np.array([genes[g] for g in d]), kind)
                for row in x.astype(np.float64)
            ]
            for u, d in q.values()
        ]
    )
    t_plain = time.perf_counter() - t0
    engine = np.load(out)[:, : a.plain]
    np.testing.assert_allclose(engine, plain, rtol=0, atol=1e-12)
    per_plain = t_plain / (a.plain * a.queries)
    per_engine = info["wall"] / (info["shape"][1] * a.queries)
    print(
        f"plain loop: {t_plain:.1f} s for {a.queries} queries x {a.plain} signatures -> "
        f"{per_plain * info['shape'][1] * a.queries / 3600:.1f} h extrapolated; speed-up "
        f"x{per_plain / per_engine:.0f}; scores identical on the {a.queries} x {a.plain} pairs checked (max |diff| "
        f"{np.abs(engine - plain).max():.1e})"
    )
    Path(out).unlink()


if __name__ == "__main__":
    main()
