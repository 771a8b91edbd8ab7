"""Measurement: how many Integrated Gradients steps the completeness of attributions needs.

Trains the explanation study's classifiers (paper schedule) on one split of the LDA simulation
(by default the demo's size: SIMU1 with 6 classes, 60 samples per class, 2,000 genes) and
explains the correctly classified test examples with Gauss–Legendre quadratures of increasing
size. For each step count it prints the completeness gap |δ| = |Σ_i IG_i − (f(x) − f(x′))| of
the explained probability (mean, maximum, share of examples above 0.01, the paper's rerun
threshold) and how far the attributions are from those of the largest count (the paper's 3,000):
the largest relative L2 difference over examples and the mean overlap of each example's top-100
genes by |attribution|.

    python benchmarks/bench_ig_steps.py
    python benchmarks/bench_ig_steps.py --n-classes 33 --n-per-class 60 --n-genes 15000 --models mlp \
        --steps 16 32 64 128 256 3000
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from exprlab.evaluate import correct_mask
from exprlab.explain import integrated_gradients
from exprlab.models import ExpressionClassifier
from exprlab.simulate import simulate_lda
from exprlab.workflows._xai_study import PAPER_TRAINING, SIMULATIONS, _split


def top_overlap(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Mean share of each row's top-k features by |value| that both arrays agree on."""
    ta = np.argsort(-np.abs(a), axis=1)[:, :k]
    tb = np.argsort(-np.abs(b), axis=1)[:, :k]
    return float(np.mean([np.intersect1d(x, y).size / k for x, y in zip(ta, tb, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="simu1")
    parser.add_argument("--n-classes", type=int, default=6)
    parser.add_argument("--n-per-class", type=int, default=60)
    parser.add_argument("--n-genes", type=int, default=2000)
    parser.add_argument("--models", default="lr,mlp")
    parser.add_argument("--steps", type=int, nargs="+", default=[8, 16, 32, 64, 128, 3000])
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    adata = simulate_lda(
        SIMULATIONS[args.preset],
        n_per_class=args.n_per_class,
        n_genes=args.n_genes,
        seed=args.seed,
        n_classes=args.n_classes,
    )
    labels = np.asarray(adata.obs["class"]).astype(str)
    tr, te = _split(labels, 0.4, args.seed)
    steps = sorted(args.steps)
    print(f"{args.preset}: {adata.n_obs} samples x {adata.n_vars} genes, {len(te)} test examples")
    print("model  steps  mean|d|    max|d|     share>0.01  max rel. L2 diff  top-100 overlap")
    for arch in args.models.split(","):
        clf = ExpressionClassifier(arch, seed=args.seed, log2=True, **PAPER_TRAINING)
        clf.fit(adata[tr], "class")
        z = clf.transform(adata[te])
        y = np.array([clf.class_index(c) for c in labels[te]])
        with torch.no_grad():
            pred = np.asarray(clf.classes_)[clf.module_.eval()(torch.from_numpy(z)).argmax(1).numpy()]
        ok = correct_mask(labels[te], pred)
        results = {
            m: integrated_gradients(
                clf.module_, z[ok], None, target=y[ok], n_steps=m, return_convergence_delta=True
            )
            for m in steps
        }
        ref = results[steps[-1]][0].astype(np.float64)
        norms = np.linalg.norm(ref, axis=1)
        for m in steps:
            attr, delta = results[m]
            rel = np.linalg.norm(attr - ref, axis=1) / np.where(norms > 0, norms, 1.0)
            d = np.abs(delta)
            print(
                f"{arch:5s}  {m:5d}  {d.mean():.2e}  {d.max():.2e}  {np.mean(d > 0.01):10.3f}  "
                f"{rel.max():16.2e}  {top_overlap(attr, ref, args.top):15.3f}"
            )


if __name__ == "__main__":
    main()
