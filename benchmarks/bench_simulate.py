"""Benchmark: LDA simulation, vectorised multinomial vs the paper's per-pathway sampling loop.

exprlab draws counts ~ Multinomial(n_reads, θ_s·B) for blocks of samples at once. The original
generator loops, per sample, over one multinomial for the reads per pathway and then, for every
pathway, one multinomial over that pathway's genes. Both are exact draws of the same
distribution. The loop runs on a subset of samples here and is extrapolated to the full size.

    python benchmarks/bench_simulate.py                    # full SIMU1 (9,900 × 15,000)
    python benchmarks/bench_simulate.py --preset SIMU2 --loop-samples 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from exprlab.simulate import simulate_lda
from exprlab.simulate._lda import _alpha, _pathway_matrix, _per_class, resolve_design


def per_pathway_loop(
    theta: np.ndarray, B: sp.csr_matrix, n_reads: int, rng: np.random.Generator
) -> np.ndarray:
    """The paper's approach: reads per pathway, then per pathway a multinomial over its genes."""
    n, g = theta.shape[0], B.shape[1]
    out = np.zeros((n, g))
    rows = [
        (B.indices[B.indptr[p] : B.indptr[p + 1]], B.data[B.indptr[p] : B.indptr[p + 1]])
        for p in range(B.shape[0])
    ]
    for s in range(n):
        per_pathway = rng.multinomial(n_reads, theta[s])
        for p, (genes, probs) in enumerate(rows):
            out[s, genes] += rng.multinomial(per_pathway[p], probs / probs.sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="SIMU1")
    parser.add_argument("--n-per-class", type=int, default=None)
    parser.add_argument(
        "--loop-samples",
        type=int,
        default=30,
        help="samples drawn with the per-pathway loop (then extrapolated)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    adata = simulate_lda(args.preset, n_per_class=args.n_per_class, seed=args.seed)
    ours = time.perf_counter() - start
    n = adata.n_obs
    print(
        f"exprlab simulate_lda({args.preset}): {adata.n_obs} x {adata.n_vars} in {ours:.2f} s "
        f"(X {adata.X.dtype}, {adata.X.nbytes / 2**30:.2f} GiB)"
    )

    design = resolve_design(args.preset, n_per_class=args.n_per_class)
    rng = np.random.default_rng(args.seed)
    B, _ = _pathway_matrix(design, np.arange(design.n_overexpressed * design.n_classes), rng)
    labels = np.repeat(np.arange(design.n_classes), _per_class(design))
    pick = rng.choice(labels.size, size=min(args.loop_samples, labels.size), replace=False)
    theta = np.stack([rng.dirichlet(_alpha(design)[labels[i]]) for i in pick])
    start = time.perf_counter()
    counts = per_pathway_loop(theta, B.tocsr(), design.n_reads, rng)
    loop = time.perf_counter() - start
    assert np.all(counts.sum(axis=1) == design.n_reads)
    extrapolated = loop / len(pick) * n
    print(
        f"per-pathway loop: {len(pick)} samples in {loop:.2f} s -> {extrapolated:.1f} s "
        f"extrapolated to {n} samples"
    )
    print(f"speed-up: {extrapolated / ours:.1f}x")


if __name__ == "__main__":
    main()
