"""Biomarker stability: speed against the naive loop, and the evidence that stability helps.

Three parts (``--part speed|simu|cohorts|all``):

1. **speed**: ``find_biomarkers`` with B draws (default 50) of a linear model on a seeded
   synthetic cohort of 50 samples × 10,000 genes, against the naive loop run in the same
   process on a subset of draws: per draw, the same fit, then Captum's Integrated Gradients
   (50 Gauss–Legendre steps, toward each held-out sample's class logit), per-class means,
   ranks and Welch t. Prints both times, the ratio and the extrapolated naive time for B draws.
2. **simu**: SIMU2-style simulations (``exprlab.simulate``, fresh seeds, reduced size: see
   ``--simu-*``); feature agreement (``exprlab.evaluate.feature_agreement``) of each class's
   top-k_c genes (k_c = number of informative genes) for one IG run (one draw; mean and
   5th–95th percentile over draws) and for the stability-selected list of all draws, with the
   held-out accuracy of the same draws (both lists come from the same models: equal accuracy).
   Welch t, single and selected, for reference.
3. **cohorts**: the public cohorts of ``exprlab.workflows.TASKS`` (train and test parts
   together; classes under the task's minimum size dropped): top-100 Jaccard (mean and
   5th–95th percentile) of IG single-run, IG stability-selected, Welch t and coefficients.

    nice -n 10 python benchmarks/bench_biomarkers.py --part speed
    nice -n 10 python benchmarks/bench_biomarkers.py --part simu
    EXPRLAB_DATA=... nice -n 10 python benchmarks/bench_biomarkers.py --part cohorts --n-draws 20
"""

from __future__ import annotations

import argparse
import time

import anndata as ad
import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients

from exprlab.evaluate import feature_agreement
from exprlab.explain import (
    class_scores,
    natural_order,
    rank_scores,
    resample_draws,
    stability_selected_ranks,
    welch_scores,
)
from exprlab.simulate import simulate_lda
from exprlab.workflows import TASKS, find_biomarkers, fit_draw_model


def synthetic_cohort(n: int, p: int, seed: int) -> ad.AnnData:
    """Two classes, 50 planted genes shifted by one standard deviation."""
    rng = np.random.default_rng(seed)
    y = np.repeat(["A", "B"], [n // 2, n - n // 2])
    x = rng.normal(8.0, 1.0, size=(n, p))
    x[y == "A", :50] += 1.0
    obs = pd.DataFrame({"cls": y}, index=[f"s{i}" for i in range(n)])
    return ad.AnnData(x.astype(np.float32), obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(p)]))


def naive_draw(adata, y, classes, draw, index: int, seed: int, top: int) -> None:
    """One draw the plain way: retrain, Captum IG on the held-out samples, aggregate, rank."""
    train = adata[draw.train].copy()
    train.obs_names_make_unique()
    model = fit_draw_model(train, "cls", seed=seed + index)
    values = np.asarray(adata.X, dtype=np.float64)
    held = draw.held_out
    x = torch.from_numpy(model.transform(values[held]))
    targets = torch.tensor([model.class_index(v) for v in y[held]])
    ig = IntegratedGradients(model.module_.eval())
    attributions = ig.attribute(x, torch.zeros_like(x), target=targets, n_steps=50, method="gausslegendre")
    scores = class_scores(attributions.detach().double().numpy(), y[held], classes)
    rank_scores(scores)
    rank_scores(np.abs(welch_scores(model.transform(values[draw.train]), y[draw.train], classes)))


def speed(args) -> None:
    adata = synthetic_cohort(50, 10_000, args.seed)
    wall, cpu = time.perf_counter(), time.process_time()
    result = find_biomarkers(adata, "cls", n_draws=args.n_draws, top=100, seed=args.seed)
    ours, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
    y = adata.obs["cls"].astype(str).to_numpy()
    draws = resample_draws(y, args.n_draws, seed=args.seed)[: args.naive_draws]
    wall, cpu = time.perf_counter(), time.process_time()
    for b, d in enumerate(draws):
        naive_draw(adata, y, ["A", "B"], d, b, args.seed, 100)
    per_draw = (time.perf_counter() - wall) / len(draws)
    per_draw_cpu = (time.process_time() - cpu) / len(draws)
    naive, naive_cpu = per_draw * args.n_draws, per_draw_cpu * args.n_draws
    print(f"cohort 50 x 10,000, lr, B = {args.n_draws}, torch threads {torch.get_num_threads()}")
    print(f"exprlab find_biomarkers: wall {ours:.1f} s, CPU {ours_cpu:.1f} s")
    print(
        f"naive retrain + Captum IG: {len(draws)} draws timed, extrapolated to B = {args.n_draws}: "
        f"wall {naive:.1f} s, CPU {naive_cpu:.1f} s"
    )
    print(f"ratio naive / exprlab: wall {naive / ours:.2f}, CPU {naive_cpu / ours_cpu:.2f}")
    print(result.stability.to_string(index=False))


def _fa(scores: np.ndarray, classes: list[str], truth: dict) -> float:
    """Mean over classes of the share of informative genes in each row's top k_c."""
    keep = [i for i, c in enumerate(classes) if not np.isnan(scores[i]).any()]
    fa = feature_agreement(
        scores[keep],
        [classes[i] for i in keep],
        {c: truth[c] for c in classes},
        normalize=False,
    )
    return float(fa.per_class["fa_local"].mean())


def _selected(ranks: np.ndarray, sizes: list[int]) -> np.ndarray:
    return np.stack([-stability_selected_ranks(ranks[:, c, :], k) for c, k in enumerate(sizes)])


def simu(args) -> None:
    rows = []
    for seed in args.simu_seeds:
        data = simulate_lda(
            "SIMU2",
            n_genes=args.simu_genes,
            n_classes=args.simu_classes,
            n_per_class=args.simu_per_class,
            seed=seed,
        )
        truth = {
            str(k): np.flatnonzero(np.isin(data.var_names, v)) for k, v in data.uns["ground_truth"].items()
        }
        res = find_biomarkers(data, "class", n_draws=args.simu_draws, top=10, seed=seed, log2=True)
        classes = res.parameters["classes"]
        sizes = [truth[c].size for c in classes]
        row = {"seed": seed, "accuracy": float(res.draws["balanced_accuracy"].mean())}
        for method in ("ig", "welch_t"):
            ranks = res.ranks[method]
            single = [_fa(-ranks[b], classes, truth) for b in range(ranks.shape[0])]
            row[f"{method}_single"] = float(np.mean(single))
            row[f"{method}_single_lo"], row[f"{method}_single_hi"] = np.percentile(single, [5, 95])
            row[f"{method}_selected"] = _fa(_selected(ranks, sizes), classes, truth)
        rows.append(row)
        print(pd.DataFrame([row]).round(3).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print(
        f"\nSIMU2-style: {args.simu_classes} classes x {args.simu_per_class} samples, {args.simu_genes} genes, "
        f"B = {args.simu_draws} bootstrap draws, lr, log2; FA of the top-k_c genes per class"
    )
    print(table.round(3).to_string(index=False))


def cohorts(args) -> None:
    rows = []
    for name in args.tasks:
        task = TASKS[name]
        train, test, label = task.load()
        data = train if test is None else ad.concat([train, test], join="inner")
        counts = data.obs[label].astype(str).value_counts()
        data = data[
            data.obs[label].astype(str).isin(counts[counts >= max(task.min_class_size, 5)].index)
        ].copy()
        top = min(100, data.n_vars)
        start = time.perf_counter()
        res = find_biomarkers(data, label, n_draws=args.n_draws, top=top, seed=args.seed)
        seconds = time.perf_counter() - start
        for r in res.stability.itertuples():
            rows.append(
                {
                    "task": name,
                    "n": data.n_obs,
                    "p": data.n_vars,
                    "classes": len(natural_order(data.obs[label])),
                    "accuracy": round(float(res.draws["balanced_accuracy"].mean()), 3),
                    "method": r.method,
                    "mode": r.mode,
                    "top": r.top,
                    "jaccard": round(r.jaccard_mean, 3),
                    "lo": round(r.jaccard_lo, 3),
                    "hi": round(r.jaccard_hi, 3),
                    "seconds": round(seconds),
                }
            )
        print(pd.DataFrame(rows[-6:]).to_string(index=False), flush=True)
    print(f"\npublic cohorts, lr, B = {args.n_draws} bootstrap draws")
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "simu", "cohorts", "all"), default="speed")
    parser.add_argument("--n-draws", type=int, default=50)
    parser.add_argument("--naive-draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--simu-seeds", type=int, nargs="+", default=[1501, 1502, 1503])
    parser.add_argument("--simu-genes", type=int, default=3000)
    parser.add_argument("--simu-classes", type=int, default=8)
    parser.add_argument("--simu-per-class", type=int, default=15)
    parser.add_argument("--simu-draws", type=int, default=20)
    parser.add_argument("--tasks", nargs="+", default=["all-bt", "golub", "srbct", "tcga-breast"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.part in ("speed", "all"):
        speed(args)
    if args.part in ("simu", "all"):
        simu(args)
    if args.part in ("cohorts", "all"):
        cohorts(args)


if __name__ == "__main__":
    main()
