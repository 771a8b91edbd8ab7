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
from exprlab.evaluate import curve_intervals
from exprlab.report._format import label
from exprlab.report._plots import _pyplot, legend_outside

__all__ = ["bounded_percent", "curve_summary", "draw_curve_bands", "k_axis", "write_study_plots"]

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


def bounded_percent(table: pd.DataFrame) -> pd.DataFrame:
    """Curve intervals cut to the range a balanced accuracy can take, 0 to 100%.

    A t interval over two or three runs is wide and can reach past 0 or 100%, which a reader
    takes for an error. Cutting it keeps the mean inside and leaves unchanged whether two
    intervals overlap (the verdicts of :func:`exprlab.report._render_xai.curve_verdicts`).

    Parameters
    ----------
    table
        Rows of :func:`curve_summary` (``ci_low`` and ``ci_high`` in %, when present).

    Returns
    -------
    pandas.DataFrame
        A copy with ``ci_low`` and ``ci_high`` clipped to [0, 100].
    """
    out = table.copy()
    for column in ("ci_low", "ci_high"):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").clip(0.0, 100.0)
    return out


def k_axis(ax, ks) -> None:
    """A logarithmic K axis labelled with the K values themselves (10, 50, 100), not powers of ten.

    Parameters
    ----------
    ax
        A matplotlib axis.
    ks
        The K values of the curves.

    Returns
    -------
    None
    """
    values = sorted({float(k) for k in ks if np.isfinite(float(k)) and float(k) > 0})
    ax.set_xscale("log")
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.minorticks_off()


def curve_summary(model_dir: str | Path) -> pd.DataFrame | None:
    """Keep/remove curves of one dataset × model: mean and interval over runs and repeats.

    Reads every run's ``curves.tsv`` (older releases wrote one random repeat, or none of the
    ``repeat`` column: both are read) and applies :func:`exprlab.evaluate.curve_intervals` to
    the balanced accuracy in %; the intervals are cut to 0-100% (:func:`bounded_percent`).

    Parameters
    ----------
    model_dir
        The folder of one dataset × model's runs (``runs/<dataset>/<model>``).

    Returns
    -------
    pandas.DataFrame or None
        One row per setting × selection × K (columns of :func:`exprlab.evaluate.curve_intervals`),
        or ``None`` when no run computed curves.
    """
    tables = []
    for path in XAI_STUDY.run_files(Path(model_dir), XAI_STUDY.curves):
        table = _read_curves(path)
        if table is not None:
            tables.append(table.assign(run=path.parent.name))
    if not tables:
        return None
    curves = pd.concat(tables, ignore_index=True)
    return bounded_percent(
        curve_intervals(curves.assign(balanced_accuracy=100 * curves["balanced_accuracy"]))
    )


def draw_curve_bands(ax, summary: pd.DataFrame, colours: list | None = None) -> int:
    """Draw keep/remove curves (mean) and their intervals as shaded bands on ``ax``.

    Attribution-ranked curves are solid, random ones dashed; a curve of a single K gets an error
    bar instead of a band; a table without ``ci_low`` / ``ci_high`` (or a point without an
    interval) draws the mean only.

    Parameters
    ----------
    ax
        A matplotlib axis.
    summary
        Rows of :func:`curve_summary` (``setting``, ``selection``, ``k``,
        ``balanced_accuracy_mean``, optionally ``ci_low`` and ``ci_high``).
    colours
        One colour per setting × selection line (default: matplotlib's cycle).

    Returns
    -------
    int
        The number of lines drawn.
    """
    groups = list(summary.sort_values("k").groupby(["setting", "selection"], sort=True))
    banded = {"ci_low", "ci_high"} <= set(summary.columns)
    for i, ((setting, selection), part) in enumerate(groups):
        colour = colours[i] if colours else f"C{i}"
        x = part["k"].to_numpy(dtype=float)
        ax.plot(
            x,
            part["balanced_accuracy_mean"].to_numpy(dtype=float),
            marker="o",
            color=colour,
            linestyle="-" if selection == "attribution" else "--",
            label=f"{setting} top-K ({selection})",
        )
        if banded:
            low = part["ci_low"].to_numpy(dtype=float)
            high = part["ci_high"].to_numpy(dtype=float)
            if x.size > 1:
                ax.fill_between(x, low, high, color=colour, alpha=0.18, linewidth=0)
            else:  # a band of one point has no width: an error bar instead
                mean = part["balanced_accuracy_mean"].to_numpy(dtype=float)
                ax.errorbar(
                    x, mean, yerr=[mean - low, high - mean], color=colour, capsize=3, linestyle="none"
                )
    return len(groups)


def _curves(out: Path, summary: pd.DataFrame) -> None:
    """Keep/remove retraining curves, with their intervals, of every dataset × model."""
    plt = _pyplot()
    for (ds, model), _ in summary.groupby(["dataset", "model"]):
        table = curve_summary(XAI_STUDY.model_dir(out, ds, model))
        if table is None:
            continue
        fig, ax = plt.subplots(figsize=(5, 3.5))
        lines = draw_curve_bands(ax, table)
        k_axis(ax, table["k"])
        ax.set_xlabel("K (genes per class)")
        ax.set_ylabel("balanced accuracy (%)")
        legend_outside(ax, lines)
        fig.tight_layout()
        with atomic_path(out / XAI_STUDY.curves_plot(ds, model)) as tmp:
            fig.savefig(tmp, dpi=_DPI, bbox_inches="tight")
        plt.close(fig)


def write_study_plots(out: str | Path, summary: pd.DataFrame) -> None:
    """Write an explanation study's figures into its folder.

    ``fa_bars.png`` and ``pg_bars.png`` show feature agreement and prediction gaps (mean ± sd
    over runs) per dataset × model; ``curves_<dataset>_<model>.png`` the keep/remove retraining
    curves of every dataset × model that computed them, with their 95% intervals as bands.

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
