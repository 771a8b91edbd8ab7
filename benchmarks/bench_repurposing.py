"""The repurposing benchmark's targets in one run: real splits, planted data, ratios and wall time.

Runs every method (random, popularity, the engine's connectivity methods as reversal scores,
the similarity transfers, the paper's network, the two-tower model and its seed ensemble, the
combined ranker) on the real public data for each requested split (default: held-out disease,
held-out drug), writes the outputs of `exprlab match benchmark` to --out/SPLIT, then runs the
demo's planted benchmark, and prints for each the metrics table and the target ratios with
paired bootstrap intervals over diseases and the paired Wilcoxon p-value:

* planted demo data (run first, not timed): best learned method / best connectivity method;
* held-out diseases (and disease clusters): best method other than popularity / popularity;
* held-out drugs: best method / best connectivity method;

"best" always means the highest mean selection MAP: the MAP on the selection part of each
training part, which no method was trained, stopped, tuned or fitted on (docs/methods.md §2.4),
never the test MAP. The total wall time of the real splits is compared with the 10-minute budget.

    python benchmarks/bench_repurposing.py --out OUTDIR [--split disease,drug] [--folds 5] [--jobs 2]

Folds run in --jobs worker processes (default 2, the budget's two cores); the scores do not
depend on it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab.datasets import CONNECTIVITY, connectivity_scores, load_benchmark
from exprlab.evaluate import choose_method, paired_tests, ratio_interval
from exprlab.workflows._demo import DemoConfig, _planted_benchmark
from exprlab.workflows._repurposing import LEARNED, TRANSFER, run_benchmark, write_benchmark

BUDGET_S = 600.0
COLUMNS = [
    "method",
    "n_diseases",
    "val_map",
    "sel_map",
    "average_precision",
    "average_precision_lo",
    "average_precision_hi",
    "precision_at_10",
    "recall_at_50",
    "ndcg_at_10",
    "roc_auc",
]


def _best(result, pool) -> str:
    selection = result.metrics.set_index("method")["sel_map"]
    best = choose_method(selection, sorted(pool))
    if best is None:
        raise ValueError(f"no method of {sorted(pool)} has a selection MAP")
    return best


def target(result, numerator_pool, denominator_pool, label: str, *, n_boot: int = 2000) -> dict:
    """Ratio of the selection-best methods of two pools with its interval and Wilcoxon p."""
    num = _best(result, numerator_pool)
    den = _best(result, denominator_pool)
    r = ratio_interval(result.per_disease, num, den, n_boot=n_boot, seed=0)
    tests = paired_tests(result.per_disease[result.per_disease["method"].isin([num, den])], num)
    r["wilcoxon_p"] = float(tests["p_value"].iloc[0])
    r["target"] = label
    return r


def _print_result(result, title: str) -> None:
    print(f"\n== {title} ==")
    print(result.metrics[COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder (one per split)")
    parser.add_argument(
        "--split", default="disease,drug", help="comma-separated: disease,drug,disease-cluster,pair"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labels", default="opentargets")
    parser.add_argument("--no-planted", action="store_true", help="skip the planted demo data")
    parser.add_argument("--jobs", type=int, default=2, help="folds scored at once (worker processes)")
    args = parser.parse_args()
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = []
    if not args.no_planted:
        cfg = DemoConfig()
        planted, settings, n_folds, _, _ = _planted_benchmark(cfg)
        methods = [*cfg.methods, *TRANSFER, "twotower_ens", "ranker"]
        result = run_benchmark(
            planted, split="disease", n_folds=n_folds, seed=cfg.seed, methods=methods, settings=settings
        )
        _print_result(result, "planted demo data (held-out diseases)")
        targets.append(
            target(result, LEARNED, CONNECTIVITY, "planted: best learned / best connectivity >= 1")
        )
    t_all, c_all = time.perf_counter(), time.process_time()
    worker_cpu = 0.0
    bench = load_benchmark(args.labels)
    t0 = time.perf_counter()
    conn = connectivity_scores(bench, tuple(CONNECTIVITY))
    print(f"load {t0 - t_all:.1f} s, connectivity {time.perf_counter() - t0:.1f} s (shared by the splits)")
    for split in args.split.split(","):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_benchmark(
            bench,
            split=split,
            n_folds=args.folds,
            seed=args.seed,
            connectivity=conn,
            n_jobs=args.jobs,  # type: ignore[arg-type]
        )
        write_benchmark(result, args.out / split)
        worker_cpu += result.timings["worker_cpu"]
        print(
            f"\nsplit {split}: {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU here "
            f"+ {result.timings['worker_cpu']:.1f} s in {args.jobs} worker processes "
            f"(training {result.timings['learned']:.1f} s)"
        )
        _print_result(result, f"split: {split}, {args.folds} folds, seed {args.seed}")
        methods = set(result.metrics["method"]) - {"random"}
        if split == "drug":
            targets.append(
                target(result, methods, CONNECTIVITY, "held-out drugs: best / best connectivity >= 2")
            )
        else:
            targets.append(
                target(
                    result,
                    methods - {"popularity"},
                    ["popularity"],
                    f"{split}: best non-popularity / popularity "
                    + ("lo > 1" if split == "disease-cluster" else ">= 1.2, lo > 1, p < 0.01"),
                )
            )
    wall, cpu = time.perf_counter() - t_all, time.process_time() - c_all + worker_cpu
    print(
        f"\nreal splits together: {wall:.1f} s wall (wall / budget = {wall / BUDGET_S:.2f}), "
        f"{cpu:.1f} s CPU in this process and its workers (CPU / 2 cores / budget = "
        f"{cpu / 2 / BUDGET_S:.2f}); on a shared machine the CPU time is the better measure of the work"
    )
    print("\n== targets (best = highest selection MAP) ==")
    table = pd.DataFrame(targets)[
        ["target", "numerator", "denominator", "ratio", "lo", "hi", "wilcoxon_p", "n"]
    ]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}" if np.isfinite(v) else "nan"))


if __name__ == "__main__":
    main()
