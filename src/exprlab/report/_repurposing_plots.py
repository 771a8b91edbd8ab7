"""Plots of the repurposing benchmark: precision-recall curves and metric bars with intervals.

matplotlib with the Agg backend (no display needed); every figure is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exprlab.report._format import label
from exprlab.report._plots import _pyplot, figure_png, legend_outside, save_png

__all__ = ["RECALL_GRID", "mean_pr_curve", "plot_pr_curves", "plot_metric_bars"]

#: recall values at which precision-recall curves are interpolated and averaged
RECALL_GRID = np.linspace(0.0, 1.0, 101)


def mean_pr_curve(pred: pd.DataFrame) -> np.ndarray:
    """Interpolated precision on :data:`RECALL_GRID`, averaged over the diseases of ``pred``.

    ``pred`` holds one method's predictions (``fold``, ``disease``, ``rank``, ``indicated``).
    The interpolated precision at recall r is the best precision at any recall >= r.
    """
    curves = []
    for _, g in pred.groupby(["fold", "disease"], sort=False):
        y = g.sort_values("rank")["indicated"].to_numpy(dtype=bool)
        if not y.any():
            continue
        tp = np.cumsum(y)
        precision = tp / np.arange(1, len(y) + 1)
        recall = tp / y.sum()
        best = np.maximum.accumulate(precision[::-1])[::-1]
        idx = np.searchsorted(recall, RECALL_GRID, side="left")
        ok = idx < len(best)
        curve = np.zeros_like(RECALL_GRID)
        curve[ok] = best[idx[ok]]
        curves.append(curve)
    return np.mean(curves, axis=0) if curves else np.zeros_like(RECALL_GRID)


def plot_pr_curves(predictions: pd.DataFrame, path: str | Path) -> Path:
    """Plot one interpolated, disease-averaged precision-recall curve per method.

    Parameters
    ----------
    predictions
        Ranked test pairs of every method (``method``, ``fold``, ``disease``, ``rank``,
        ``indicated``).
    path
        PNG file to write (atomically).

    Returns
    -------
    Path
        The written file.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for method, pred in predictions.groupby("method", sort=False):
        ax.plot(RECALL_GRID, mean_pr_curve(pred), label=str(method))
    ax.set_xlabel("recall")
    ax.set_ylabel("interpolated precision (mean over diseases)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, None)
    legend_outside(ax, predictions["method"].nunique())
    fig.tight_layout()
    return save_png(figure_png(fig), path)


def plot_metric_bars(
    metrics: pd.DataFrame,
    path: str | Path,
    *,
    names: tuple[str, ...] = ("average_precision", "precision_at_10", "recall_at_50", "ndcg_at_10"),
) -> Path:
    """Plot the mean of each metric per method as bars with its 95% bootstrap interval.

    Parameters
    ----------
    metrics
        The benchmark's summary: ``method`` and, per metric, ``<metric>``, ``<metric>_lo``,
        ``<metric>_hi``.
    path
        PNG file to write (atomically).
    names
        Metrics shown, one panel each.

    Returns
    -------
    Path
        The written file.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 4), sharey=False)
    axes = np.atleast_1d(axes)
    x = np.arange(len(metrics))
    methods = metrics["method"].astype(str).tolist()
    for ax, m in zip(axes, names, strict=True):
        mean = metrics[m].to_numpy(dtype=float)
        lo = mean - metrics[f"{m}_lo"].to_numpy(dtype=float)
        hi = metrics[f"{m}_hi"].to_numpy(dtype=float) - mean
        ax.bar(x, mean, yerr=np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)]), capsize=2)
        for base, colour in (("random", "k"), ("popularity", "C3")):
            if base in methods:
                ax.axhline(mean[methods.index(base)], linestyle="--", linewidth=1, color=colour, label=base)
        ax.set_ylim(0, 1.08 * max(1e-9, float(np.nanmax(metrics[f"{m}_hi"].to_numpy(dtype=float)))))
        ax.set_xticks(x)
        ax.set_xticklabels(methods, rotation=60, ha="right", fontsize=7)
        ax.set_title(label(m), fontsize=9)
    if {"random", "popularity"} & set(methods):
        legend_outside(axes[-1], len({"random", "popularity"} & set(methods)))
    fig.tight_layout()
    return save_png(figure_png(fig), path)
