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
from exprlab.report._format import fmt
from exprlab.report._html import HtmlReport, Section
from exprlab.report._registry import guarded, register_renderer, try_read

#: genes per class in the table and in the heat map
TABLE_GENES = 10
HEATMAP_GENES = 4
#: most classes drawn in the heat map (all classes stay in the table)
MAX_HEATMAP_CLASSES = 40
_BAR = 10
#: columns of genes.tsv the table and the heat map read
_GENE_COLUMNS = (
    "class",
    "gene",
    "symbol",
    "direction",
    "mean_attribution",
    "ig_frequency",
    "ig_rank_lo",
    "ig_rank_hi",
    "welch_t_frequency",
    "coefficients_frequency",
)
#: the list kinds of ``stability.tsv`` in words
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


#: ranking methods of the stability table as a reader names them
METHOD_NAMES = {"ig": "Integrated Gradients", "welch_t": "Welch t", "coefficients": "model coefficients"}
#: columns of the stability table as the report shows them
_STABILITY_SHOWN = {
    "method": "ranking",
    "mode": "list",
    "top": "top k",
    "n": "comparisons",
    "jaccard_mean": "Jaccard (mean)",
    "jaccard_lo": "5th percentile",
    "jaccard_hi": "95th percentile",
}


def stability_rows(stability: pd.DataFrame) -> pd.DataFrame:
    """The stability table with readable ranking names and column headers.

    Parameters
    ----------
    stability
        The run's ``stability.tsv`` (``method``, ``mode``, ``top``, ``n``, ``jaccard_*``).

    Returns
    -------
    pandas.DataFrame
        The same rows, methods named as in :data:`METHOD_NAMES`, list kinds as one draw or
        stability-selected, columns as a reader reads them.
    """
    shown = stability[[c for c in _STABILITY_SHOWN if c in stability]].copy()
    shown["method"] = [METHOD_NAMES.get(str(m), str(m)) for m in shown["method"]]
    shown["mode"] = [_MODES.get(str(m), str(m)) for m in shown["mode"]]
    return shown.rename(columns=_STABILITY_SHOWN)


def _stability(sec: Section, stability: pd.DataFrame, source: Path) -> None:
    shown = stability_rows(stability)
    sec.table(
        shown,
        caption="Top-k Jaccard between draws: one draw = two draws' lists (every pair of draws); "
        "stability-selected = the selected lists of two disjoint halves of the draws (random "
        "halvings); mean and 5th–95th percentile over the comparisons",
        source=source,
    )
    labels = [f"{m}, {mode}" for m, mode in zip(shown["ranking"], shown["list"], strict=True)]
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
    sec = report.section("Can I trust this gene list?")
    draws = try_read(
        sec, run_dir / BIOMARKERS.draws, "the held-out accuracy", required=("balanced_accuracy",)
    )
    accuracy = (
        f" Held-out balanced accuracy {fmt(draws['balanced_accuracy'].mean())} (mean over draws)."
        if draws is not None
        else ""
    )
    sec.paragraph(
        f"{params.get('n_draws', '?')} {params.get('draw', '')} draws of the training set; "
        f"each draw's {params.get('arch', '')} model attributes the samples it did not train on "
        f"(rule: {params.get('rule', 'mean')}, baseline: {params.get('baseline', 'zero')})." + accuracy
    )
    without = params.get("draws_without_held_out") or {}
    if without:
        sec.note(
            "Draws without held-out samples of a class (left out of that class's statistics): "
            + ", ".join(f"{c}: {k}" for c, k in without.items())
        )
    stability = try_read(
        sec, run_dir / BIOMARKERS.stability, "the stability table and plot", required=tuple(_STABILITY_SHOWN)
    )
    if stability is not None:
        guarded(sec, BIOMARKERS.stability, lambda: _stability(sec, stability, run_dir / BIOMARKERS.stability))
    table = report.section("Genes per class")
    table.paragraph(
        f"Top {TABLE_GENES} genes of each class by IG selection frequency in the top "
        f"{params.get('top', 'k')} (ties by median rank). Direction: higher (up) or lower (down) "
        "expression in the class than in the rest. Bars: share of draws with the gene in the top k."
    )
    genes = try_read(
        table,
        run_dir / BIOMARKERS.genes,
        "the gene table and heat map",
        required=_GENE_COLUMNS,
        literal_text=True,
    )
    if genes is not None:
        table.table(gene_rows(genes), max_rows=TABLE_GENES * 200)
        guarded(table, "heat map", lambda: _heatmap(table, genes))


register_renderer(BIOMARKERS.kind, render_biomarkers, title="exprlab biomarkers")
