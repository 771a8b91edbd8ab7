"""Benchmark: keep/remove retraining curves with several random repeats, and their thread count.

On the quickstart's simulation (SIMU2 scaled to 1,500 genes, 5 classes of 60 samples; one 60/40
split; the paper's training schedule; K = 10, 50, 100, 500), times ``retraining_curves`` per
model for

* one random set per K on torch's default thread count (what the study did before);
* ``--n-random`` random sets per K on the default thread count;
* ``--n-random`` random sets per K on one thread (what the study does now),

all in the same process, and prints the times and their ratios to the first.

    python benchmarks/bench_retraining_curves.py
    python benchmarks/bench_retraining_curves.py --models lr --n-random 5
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch

from exprlab.explain import global_rankings
from exprlab.simulate import simulate_lda
from exprlab.workflows import _retraining, retraining_curves
from exprlab.workflows._xai_study import PAPER_TRAINING, _split


def timed(train, test, scores, tops, arch: str, n_random: int, one_thread: bool) -> float:
    """Seconds of one ``retraining_curves`` call, with or without its one-thread setting."""
    original = _retraining._torch_threads
    if not one_thread:
        _retraining._torch_threads = lambda n: contextlib.nullcontext()  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        retraining_curves(
            train,
            test,
            "class",
            scores,
            tops,
            arch=arch,
            n_random=n_random,
            seed=0,
            log2=True,
            **PAPER_TRAINING,
        )
        return time.perf_counter() - start
    finally:
        _retraining._torch_threads = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lr,mlp")
    parser.add_argument("--n-random", type=int, default=3)
    parser.add_argument("--tops", default="10,50,100,500")
    args = parser.parse_args()
    adata = simulate_lda("SIMU2", n_genes=1500, n_per_class=60, n_classes=5, seed=0)
    labels = np.asarray(adata.obs["class"]).astype(str)
    tr, te = _split(labels, 0.4, 0)
    train, test = adata[tr].copy(), adata[te].copy()
    tops = [int(k) for k in args.tops.split(",")]
    # a ranking to curve: class-mean differences stand in for attributions (the cost is the same)
    scores = global_rankings(np.asarray(train.X, dtype=float) - np.asarray(train.X).mean(axis=0), labels[tr])
    print(f"torch threads by default: {torch.get_num_threads()}")
    for arch in args.models.split(","):
        before = timed(train, test, scores, tops, arch, 1, one_thread=False)
        more = timed(train, test, scores, tops, arch, args.n_random, one_thread=False)
        now = timed(train, test, scores, tops, arch, args.n_random, one_thread=True)
        print(
            f"{arch}: 1 random set, default threads {before:.1f} s | {args.n_random} random sets, "
            f"default threads {more:.1f} s ({more / before:.2f}x) | {args.n_random} random sets, "
            f"one thread {now:.1f} s ({now / before:.2f}x)"
        )


if __name__ == "__main__":
    main()
