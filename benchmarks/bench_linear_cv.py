"""Benchmark: the row-space fit of the tuned logistic regression against the fit on all genes.

``exprlab.models.fit_linear_cv`` with the L2 penalty and more genes than samples fits
``LogisticRegressionCV`` on the samples' coordinates in the row space of X (thin SVD) and maps
the coefficients back (docs/methods.md §3.1). The peer is the same ``LogisticRegressionCV``
(same C grid, folds, scoring, class weights, one BLAS thread) on all genes, in the same process.
Both should give the same coefficients up to solver tolerance; the ratio is the speed-up.

    python benchmarks/bench_linear_cv.py                 # ALL molecular subtypes (126 x 12,625)
    python benchmarks/bench_linear_cv.py --task golub
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from exprlab.models import fit_linear_cv, labels_of
from exprlab.models._tuned import C_GRID
from exprlab.workflows import task_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="all-molbio")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    adata, label = task_data(args.task)
    x = np.asarray(adata.X, dtype=np.float64)
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    _, y = np.unique(labels_of(adata, label).astype(str), return_inverse=True)
    print(f"{args.task}: {x.shape[0]} samples x {x.shape[1]} genes, {y.max() + 1} classes")

    start = time.perf_counter()
    coef, intercept, info = fit_linear_cv(x, y, seed=args.seed)
    ours = time.perf_counter() - start

    peer = LogisticRegressionCV(
        Cs=C_GRID,
        l1_ratios=(0.0,),
        cv=StratifiedKFold(info["inner_folds"], shuffle=True, random_state=args.seed),
        scoring="balanced_accuracy",
        class_weight="balanced",
        max_iter=5000,
        random_state=args.seed,
        use_legacy_attributes=False,
    )
    start = time.perf_counter()
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        peer.fit(x, y)
    full = time.perf_counter() - start
    peer_coef = peer.coef_ if peer.coef_.shape[0] > 1 else np.vstack([-peer.coef_ / 2, peer.coef_ / 2])
    same_c = np.isclose(info["C"], float(np.ravel(peer.C_)[0]))
    agree = np.mean(np.argmax(x @ coef.T + intercept, axis=1) == peer.predict(x))
    rel = np.linalg.norm(coef - peer_coef) / np.linalg.norm(peer_coef)
    print(f"row-space fit {ours:.1f} s, all genes {full:.1f} s: {full / ours:.1f}x")
    chosen = f"{info['C']:.3g} vs {float(np.ravel(peer.C_)[0]):.3g}"
    print(f"same C chosen: {same_c} ({chosen}); relative coefficient difference {rel:.2e}")
    print(f"training predictions agree on {agree:.1%} of samples")


if __name__ == "__main__":
    main()
