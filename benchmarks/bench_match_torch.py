"""The torch kernel of WTCS/KS against the numba kernel on one in-memory block of references.

Both kernels score the same up and down sets of ``--queries`` random queries (``--set-size``
genes each) against one block of ``--n`` references x ``--genes`` genes (random values with ties,
midranks), the way one block of ``exprlab.match.score`` does. Prints each kernel's time (best of
``--repeat``, after a warm-up call that compiles numba and loads torch), the ratio, and the
largest absolute difference of the scores.

On a CPU the torch kernel is expected to be slower: it sorts every (reference, set) pair's
gathered ranks and keeps several float64 tensors of that size, where the numba kernel buckets the
ranks in a bitmap per pair with no temporaries. The torch kernel is there for GPUs (``--device
cuda``), where the same tensor operations run in parallel over all pairs.

    python benchmarks/bench_match_torch.py --n 20000 --genes 978 --queries 100 --set-size 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from exprlab.match._ranks import doubled_ranks, n_threads, set_statistics
from exprlab.match._torch_kernels import torch_set_statistics


def best_time(fn, repeat: int) -> tuple[float, np.ndarray]:
    """Smallest wall time of ``repeat`` calls of ``fn`` and its last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20_000, help="references in the block")
    p.add_argument("--genes", type=int, default=978)
    p.add_argument("--queries", type=int, default=100, help="queries (one up and one down set each)")
    p.add_argument("--set-size", type=int, default=50, help="genes per up or down set")
    p.add_argument("--device", default="cpu", help="torch device of the torch kernel")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    # values rounded to 0.01: many ties, so midranks and tied hits are exercised
    values = np.round(rng.normal(size=(args.n, args.genes)), 2).astype(np.float32)
    rank2 = doubled_ranks(values, "midrank")
    sets = [rng.choice(args.genes, size=args.set_size, replace=False) for _ in range(2 * args.queries)]
    print(
        f"block {args.n} x {args.genes}, {args.queries} queries ({len(sets)} sets of {args.set_size}); "
        f"numba threads {n_threads()}, torch threads {torch.get_num_threads()}, torch device {args.device}"
    )
    for statistic in ("es", "ks"):
        set_statistics(sets[:2], rank2[:10], values[:10], statistic=statistic)  # compile
        torch_set_statistics(sets[:2], rank2[:10], values[:10], statistic=statistic, device=args.device)
        t_numba, ref = best_time(
            lambda st=statistic: set_statistics(sets, rank2, values, statistic=st), args.repeat
        )
        t_torch, got = best_time(
            lambda st=statistic: torch_set_statistics(sets, rank2, values, statistic=st, device=args.device),
            args.repeat,
        )
        name = "WTCS (ES)" if statistic == "es" else "KS"
        print(
            f"{name:9s}  numba {t_numba:7.3f} s   torch {t_torch:7.3f} s   torch/numba {t_torch / t_numba:6.1f}x"
            f"   max |diff| {np.abs(got - ref).max():.2e}"
        )


if __name__ == "__main__":
    main()
