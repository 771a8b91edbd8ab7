"""The report of a biomarker run (``exprlab biomarkers``): gene list, stability, heat map.

Reads the run folder through :data:`exprlab._runs.BIOMARKERS`: the gene × class table with
symbols, direction and selection frequencies (drawn as bars), the top-list Jaccard of IG,
Welch t and coefficients, and a heat map of mean attributions with gene symbols and classes in
natural order (docs/methods.md §3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._runs import BIOMARKERS
from exprlab.explain import natural_order
from exprlab.report import _plots as plots
from exprlab.report._html import HtmlReport, Section
from exprlab.report._registry import register_renderer

#: genes per class in the table and in the heat map
TABLE_GENES = 10
HEATMAP_GENES = 4
#: most classes drawn in the heat map (all classes stay in the table)
MAX_HEATMAP_CLASSES = 40
_BAR = 10
#: the rankings and list kinds of ``stability.tsv`` in words
_METHODS = {"ig": "IG", "welch_t": "Welch t", "coefficients": "coefficients"}
_MODES = {"single": "one draw", "selected": "stability-selected"}


def frequency_bar(value: float) -> str:
    """A selection frequency in [0, 1] as a ten-cell text bar with its percentage.

    Parameters
    ----------
    value
        The frequency (NaN: not computed).

    Returns
    -------
    str
        E.g. ``"███████░░░ 70%"``; ``"–"`` for NaN.
    """
    if value is None or not np.isfinite(value):
        return "–"
    filled = int(round(float(value) * _BAR))
    return "█" * filled + "░" * (_BAR - filled) + f" {100 * float(value):.0f}%"


def _interval(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    return f"{lo:.0f}–{hi:.0f}"


def gene_rows(genes: pd.DataFrame, per_class: int = TABLE_GENES) -> pd.DataFrame:
    """The top ``per_class`` genes of every class (natural class order) as displayed rows.

    Parameters
    ----------
    genes
        The run's gene table (``genes.tsv``), genes of each class in their ranked order.
    per_class
        Rows shown per class.

    Returns
    -------
    pandas.DataFrame
        Class, symbol, direction, mean attribution, frequency bars and rank intervals.
    """
    parts = []
    for cls in natural_order(genes["class"]):
        top = genes[genes["class"].astype(str) == cls].head(per_class)
        part = pd.DataFrame(
            {
                "class": cls,
                "symbol": top["symbol"].astype(str),
                "direction": top["direction"],
                "mean attribution": top["mean_attribution"],
                "IG in top k": [frequency_bar(v) for v in top["ig_frequency"]],
                "IG rank 5–95%": [_interval(a, b) for a, b in zip(top["ig_rank_lo"], top["ig_rank_hi"])],
                "Welch t in top k": [frequency_bar(v) for v in top["welch_t_frequency"]],
                "coefficient in top k": [frequency_bar(v) for v in top["coefficients_frequency"]],
            }
        )
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _heatmap(sec: Section, genes: pd.DataFrame) -> None:
    classes = natural_order(genes["class"])
    shown = classes[:MAX_HEATMAP_CLASSES]
    columns: list[str] = []
    for cls in shown:
        for gene in genes.loc[genes["class"].astype(str) == cls, "gene"].head(HEATMAP_GENES):
            if gene not in columns:
                columns.append(str(gene))
    wide = genes.pivot_table(index="class", columns="gene", values="mean_attribution", aggfunc="first")
    wide.index = wide.index.astype(str)
    values = wide.reindex(index=shown, columns=columns).to_numpy(dtype=float)
    symbol = dict(zip(genes["gene"].astype(str), genes["symbol"].astype(str)))
    note = (
        f"all {len(classes)} classes"
        if len(shown) == len(classes)
        else f"the first {len(shown)} of {len(classes)} classes (natural order); the table lists all"
    )
    sec.image(
        plots.heatmap(
            values,
            row_labels=shown,
            col_labels=[symbol[g] for g in columns],
            title=f"mean attribution of each class's top {HEATMAP_GENES} genes",
            colorbar="mean attribution toward the class",
        ),
        f"Mean held-out attribution toward each class's logit; {note}.",
    )


def stability_rows(stability: pd.DataFrame) -> pd.DataFrame:
    """The run's ``stability.tsv`` as displayed: rankings and columns named in words.

    Parameters
    ----------
    stability
        Columns ``method``, ``mode``, ``top``, ``n``, ``jaccard_mean``, ``jaccard_lo``,
        ``jaccard_hi`` (:func:`exprlab.explain.stability_summary`).

    Returns
    -------
    pandas.DataFrame
        ``ranking`` (IG, Welch t, coefficients), ``list`` (one draw or stability-selected),
        ``top k``, ``comparisons`` (pairs of draws or random halvings), the mean Jaccard and its
        5th and 95th percentiles; methods and modes not known are shown as named.
    """
    return pd.DataFrame(
        {
            "ranking": [_METHODS.get(m, m) for m in stability["method"]],
            "list": [_MODES.get(m, m) for m in stability["mode"]],
            "top k": stability["top"],
            "comparisons": stability["n"],
            "Jaccard (mean)": stability["jaccard_mean"],
            "5th percentile": stability["jaccard_lo"],
            "95th percentile": stability["jaccard_hi"],
        }
    )


def _stability(sec: Section, stability: pd.DataFrame) -> None:
    shown = stability_rows(stability)
    sec.table(
        shown,
        caption="Top-k Jaccard between draws: one draw = two draws' lists (every pair of draws); "
        "stability-selected = the selected lists of two disjoint halves of the draws (random "
        "halvings); mean and 5th–95th percentile over the comparisons",
    )
    labels = [f"{r}, {m}" for r, m in zip(shown["ranking"], shown["list"])]
    sec.image(
        plots.bars_with_intervals(
            labels,
            stability["jaccard_mean"],
            stability["jaccard_lo"],
            stability["jaccard_hi"],
            title="reproducibility of the top-k gene lists",
            ylabel="Jaccard index",
        ),
        "Top-k Jaccard of each ranking with its 5th–95th percentile interval.",
    )


def render_biomarkers(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """Render a biomarker run folder into ``report``.

    Parameters
    ----------
    report
        The report to add sections to.
    run_dir
        The run folder written by ``exprlab biomarkers``.
    manifest
        Its ``run.json`` (parameters shown at the top), or None.
    """
    params = (manifest or {}).get("parameters", {})
    genes = pd.read_csv(run_dir / BIOMARKERS.genes, sep="\t", keep_default_na=False, na_values=[""])
    draws = pd.read_csv(run_dir / BIOMARKERS.draws, sep="\t", keep_default_na=False, na_values=[""])
    sec = report.section("Can I trust this gene list?")
    sec.paragraph(
        f"{params.get('n_draws', len(draws))} {params.get('draw', '')} draws of the training set; "
        f"each draw's {params.get('arch', '')} model attributes the samples it did not train on "
        f"(rule: {params.get('rule', 'mean')}, baseline: {params.get('baseline', 'zero')}). "
        f"Held-out balanced accuracy {draws['balanced_accuracy'].mean():.3f} (mean over draws)."
    )
    without = params.get("draws_without_held_out") or {}
    if without:
        sec.note(
            "Draws without held-out samples of a class (left out of that class's statistics): "
            + ", ".join(f"{c}: {k}" for c, k in without.items())
        )
    _stability(sec, pd.read_csv(run_dir / BIOMARKERS.stability, sep="\t"))
    table = report.section("Genes per class")
    table.paragraph(
        f"Top {TABLE_GENES} genes of each class by IG selection frequency in the top "
        f"{params.get('top', 'k')} (ties by median rank). Direction: higher (up) or lower (down) "
        "expression in the class than in the rest. Bars: share of draws with the gene in the top k."
    )
    table.table(gene_rows(genes), max_rows=TABLE_GENES * 200)
    _heatmap(table, genes)


register_renderer(BIOMARKERS.kind, render_biomarkers, title="exprlab biomarkers")
