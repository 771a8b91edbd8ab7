"""Benchmark: one run of the explanation study at full size, and its prediction-gap engine.

Times every stage of one study run (simulation, training, Integrated Gradients, feature
agreement, prediction gaps) for LR and MLP on a preset, and extrapolates to ``--runs`` runs.
Prediction gaps are also computed with the paper's approach (one forward pass of the whole
model per cumulative replacement step, batched over the steps of an example) on a few examples,
extrapolated, and the ratio to exprlab's first-layer engine is printed.

    python benchmarks/bench_xai_study.py                     # SIMU1, LR and MLP
    python benchmarks/bench_xai_study.py --preset SIMU2 --models lr --peer-examples 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from exprlab.evaluate import correct_mask, feature_agreement, prediction_gap_curves, prediction_gaps
from exprlab.explain import PredictionGapModel, global_rankings, integrated_gradients
from exprlab.models import ExpressionClassifier
from exprlab.simulate import simulate_lda
from exprlab.workflows._xai_study import _split


def peer_pg(module, z, y, order, gap=10):
    """The paper's approach: forward every cumulatively modified input through the model."""
    model = PredictionGapModel(module, np.zeros(z.shape[1]), gap=gap)
    model.linear_path = False  # force the generic path (all steps of an example in one batch)
    return prediction_gap_curves(model, z, y, order)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="SIMU1")
    parser.add_argument("--models", default="lr,mlp")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--n-random", type=int, default=30)
    parser.add_argument("--pgr-subsample", type=int, default=330)
    parser.add_argument("--peer-examples", type=int, default=3)
    parser.add_argument("--n-per-class", type=int, default=None)
    args = parser.parse_args()

    t0 = time.perf_counter()
    adata = simulate_lda(args.preset, n_per_class=args.n_per_class, seed=0)
    t_sim = time.perf_counter() - t0
    print(f"simulate {args.preset}: {adata.shape} in {t_sim:.1f} s")
    labels = np.asarray(adata.obs["class"]).astype(str)
    tr, te = _split(labels, 0.4, 0)
    total_per_run = t_sim / args.runs  # the data is generated once per study
    for kind in args.models.split(","):
        times = {}
        t = time.perf_counter()
        clf = ExpressionClassifier(kind, seed=0, log2=True).fit(adata[tr], "class")
        times["train"] = time.perf_counter() - t
        t = time.perf_counter()
        z = clf.transform(adata[te])
        y_lab = labels[te]
        y = np.array([clf.class_index(c) for c in y_lab])
        pred = clf.predict(adata[te]).astype(str)
        ok = correct_mask(y_lab, pred)
        times["predict"] = time.perf_counter() - t
        t = time.perf_counter()
        attr = integrated_gradients(clf.module_, z[ok], None, target=y[ok], n_steps=args.steps)
        times["integrated_gradients"] = time.perf_counter() - t
        t = time.perf_counter()
        fa = feature_agreement(attr, y_lab[ok], adata.uns["ground_truth"], var_names=adata.var_names)
        times["feature_agreement"] = time.perf_counter() - t
        t = time.perf_counter()
        scores = global_rankings(attr, y_lab[ok])
        pg = prediction_gaps(
            PredictionGapModel(clf.module_, np.zeros(z.shape[1])),
            z[ok],
            y[ok],
            attr,
            labels=y_lab[ok],
            class_scores=scores,
            n_random=args.n_random,
            random_subsample=args.pgr_subsample,
        )
        times["prediction_gaps"] = time.perf_counter() - t
        run = sum(times.values())
        total_per_run += run
        print(
            f"{kind}: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
            + f" | one run {run:.1f} s | FA local {100 * fa.local:.1f} | PGI {pg['pgi_local']:.2f}"
            f" | examples {int(ok.sum())}, PGR on {pg['pgr_n_examples']}"
        )
        # prediction-gap engines on the same examples and order
        k = min(args.peer_examples, int(ok.sum()))
        zz, yy = z[ok][:k], y[ok][:k]
        order = np.argsort(-attr[:k], axis=1)
        fast = PredictionGapModel(clf.module_, np.zeros(z.shape[1]))
        t = time.perf_counter()
        ours = prediction_gap_curves(fast, zz, yy, order)[0]
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        theirs = peer_pg(clf.module_, zz, yy, order)
        t_peer = time.perf_counter() - t
        err = float(np.max(np.abs(ours - theirs)))
        print(
            f"  prediction gap of {k} examples: exprlab {t_ours:.3f} s, per-step forwards "
            f"{t_peer:.2f} s: {t_peer / max(t_ours, 1e-9):.0f}x (max |diff| {err:.2e})"
        )
        n_orders = 4 * int(ok.sum()) + args.n_random * pg["pgr_n_examples"]
        print(
            f"  per-step forwards for this run's {n_orders} example-orders: "
            f"{t_peer / k * n_orders / 60:.1f} min extrapolated"
        )
    print(
        f"estimated study time for {args.runs} runs of {args.models}: "
        f"{total_per_run * args.runs / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
