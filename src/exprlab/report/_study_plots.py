"""Plots an explanation study writes beside its tables: agreement and gap bars, retraining curves.

matplotlib with the Agg backend (no display needed); every figure is written atomically into the
study folder under the names of :data:`exprlab._runs.XAI_STUDY`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab._runs import XAI_STUDY
from exprlab.report._format import label
from exprlab.report._plots import _pyplot, legend_outside

__all__ = ["write_study_plots"]

_DPI = 120
# plot file → its y axis (what the bars measure, with the unit)
_BAR_UNITS = {
    XAI_STUDY.fa_plot: "informative genes among the top-k (%)",
    XAI_STUDY.pg_plot: "drop of the predicted-class probability (%)",
}
# plot file → the summary metrics it shows as bars (mean ± sd over runs)
_BAR_PLOTS = (
    (XAI_STUDY.fa_plot, ["fa_local", "fa_global"]),
    (XAI_STUDY.pg_plot, ["pgi_local", "pgu_local", "pgi_global", "pgu_global", "pgr"]),
)


def _bars(out: Path, summary: pd.DataFrame) -> None:
    """One bar chart per group of metrics, dataset × model on the x axis."""
    plt = _pyplot()
    labels = [f"{d}\n{m}" for d, m in zip(summary["dataset"], summary["model"], strict=True)]
    x = np.arange(len(labels))
    for name, metrics in _BAR_PLOTS:
        present = [m for m in metrics if f"{m}_mean" in summary]
        if not present:
            continue
        fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(labels) * len(present) / 2), 3.5))
        width = 0.8 / len(present)
        for i, m in enumerate(present):
            ax.bar(
                x + i * width,
                summary[f"{m}_mean"],
                width,
                yerr=summary.get(f"{m}_sd"),
                label=label(m),
                capsize=2,
            )
        ax.set_xticks(x + 0.4 - width / 2, labels)
        ax.set_ylabel(_BAR_UNITS[name])
        legend_outside(ax, len(present))
        fig.tight_layout()
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, dpi=_DPI, bbox_inches="tight")
        plt.close(fig)


def _read_curves(path: Path) -> pd.DataFrame | None:
    """One run's curve table; ``None`` for the empty tables earlier releases wrote."""
    try:
        table = pd.read_csv(path, sep="\t")
    except pd.errors.EmptyDataError:
        return None
    return table if not table.empty else None


def _curves(out: Path, summary: pd.DataFrame) -> None:
    """Keep/remove retraining curves of every dataset × model that computed them."""
    plt = _pyplot()
    for (ds, model), _ in summary.groupby(["dataset", "model"]):
        files = XAI_STUDY.run_files(XAI_STUDY.model_dir(out, ds, model), XAI_STUDY.curves)
        tables = [t for t in map(_read_curves, files) if t is not None]
        if not tables:
            continue
        curves = pd.concat(tables)
        mean = curves.groupby(["setting", "selection", "k"])["balanced_accuracy"].mean()
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for (setting, selection), series in mean.groupby(level=[0, 1]):
            ax.plot(
                series.index.get_level_values("k"),
                100 * series.to_numpy(),
                marker="o",
                linestyle="-" if selection == "attribution" else "--",
                label=f"{setting} top-K ({selection})",
            )
        ax.set_xscale("log")
        ax.set_xlabel("K (genes per class)")
        ax.set_ylabel("balanced accuracy (%)")
        legend_outside(ax, mean.index.droplevel("k").nunique())
        fig.tight_layout()
        with atomic_path(out / XAI_STUDY.curves_plot(ds, model)) as tmp:
            fig.savefig(tmp, dpi=_DPI, bbox_inches="tight")
        plt.close(fig)


def write_study_plots(out: str | Path, summary: pd.DataFrame) -> None:
    """Write an explanation study's figures into its folder.

    ``fa_bars.png`` and ``pg_bars.png`` show feature agreement and prediction gaps (mean ± sd
    over runs) per dataset × model; ``curves_<dataset>_<model>.png`` the keep/remove retraining
    curves of every dataset × model that computed them.

    Parameters
    ----------
    out
        The study folder (its ``runs/`` hold the per-run curve tables).
    summary
        The study's summary table (one row per dataset × model).
    """
    if summary.empty:
        return
    _bars(Path(out), summary)
    _curves(Path(out), summary)
