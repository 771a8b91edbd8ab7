"""How reports write numbers and name columns: one formatting rule and one table of human labels.

Every number a report prints (tables, captions, sentences) goes through :func:`fmt`, so a value
reads the same everywhere; every column or series name shown on an axis, a legend or a table
header goes through :func:`label`, so ``fa_local_mean`` never reaches a reader.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

__all__ = ["fmt", "label", "LABELS", "human_bytes", "fmt_interval", "with_intervals"]

#: column or series name → what a reader sees (with its unit where it has one)
LABELS: dict[str, str] = {
    # retrieval benchmark
    "method": "method",
    "n_diseases": "diseases",
    "val_map": "validation MAP",
    "sel_map": "selection MAP",
    "average_precision": "MAP",
    "average_precision_lo": "MAP 95% low",
    "average_precision_hi": "MAP 95% high",
    "precision_at_10": "precision@10",
    "precision_at_10_lo": "precision@10 95% low",
    "precision_at_10_hi": "precision@10 95% high",
    "recall_at_50": "recall@50",
    "recall_at_50_lo": "recall@50 95% low",
    "recall_at_50_hi": "recall@50 95% high",
    "ndcg_at_10": "nDCG@10",
    "ndcg_at_10_lo": "nDCG@10 95% low",
    "ndcg_at_10_hi": "nDCG@10 95% high",
    "reciprocal_rank": "reciprocal rank",
    "reciprocal_rank_lo": "reciprocal rank 95% low",
    "reciprocal_rank_hi": "reciprocal rank 95% high",
    "roc_auc": "ROC AUC",
    "roc_auc_lo": "ROC AUC 95% low",
    "roc_auc_hi": "ROC AUC 95% high",
    "hits_at_10": "hits@10",
    "hits_at_10_lo": "hits@10 95% low",
    "hits_at_10_hi": "hits@10 95% high",
    "p_value": "p (Wilcoxon, two-sided)",
    # what each ranking is made of (docs/methods.md §2)
    "drug_r2": "drug-only R²",
    "drug_r2_lo": "drug-only R² 95% low",
    "drug_r2_hi": "drug-only R² 95% high",
    "drug_only_ap": "drug-only MAP",
    "drug_only_ap_lo": "drug-only MAP 95% low",
    "drug_only_ap_hi": "drug-only MAP 95% high",
    "remainder_ap": "remainder MAP",
    "remainder_ap_lo": "remainder MAP 95% low",
    "remainder_ap_hi": "remainder MAP 95% high",
    # explanation study
    "dataset": "dataset",
    "model": "model",
    "n_runs": "runs",
    "balanced_accuracy_mean": "balanced accuracy (%)",
    "balanced_accuracy_sd": "balanced accuracy sd",
    "fa_local_mean": "local feature agreement (%)",
    "fa_local_sd": "local FA sd",
    "fa_global_mean": "global feature agreement (%)",
    "fa_global_sd": "global FA sd",
    "fa_random": "random ranking FA (%)",
    "fa_local": "local feature agreement",
    "fa_global": "global feature agreement",
    "pgi_local_mean": "PGI local: top genes removed (%)",
    "pgu_local_mean": "PGU local: bottom genes removed (%)",
    "pgi_global_mean": "PGI global: top genes removed (%)",
    "pgu_global_mean": "PGU global: bottom genes removed (%)",
    "pgr_mean": "PGR: random genes removed (%)",
    "pgi_local": "PGI local (top genes removed)",
    "pgu_local": "PGU local (bottom genes removed)",
    "pgi_global": "PGI global (top genes removed)",
    "pgu_global": "PGU global (bottom genes removed)",
    "pgr": "PGR (random genes removed)",
    "completeness_delta_mean_mean": "completeness gap (mean)",
    "stability_jaccard": "stability: top-k Jaccard",
    "stability_kendall_tau": "stability: Kendall tau",
    # the demo's summary tables (columns named with their unit)
    "balanced_accuracy_%": "balanced accuracy (%)",
    "fa_local_%": "local feature agreement (%)",
    "fa_global_%": "global feature agreement (%)",
    "fa_random_%": "random ranking FA (%)",
    "pgi_local_%": "PGI local: top genes removed (%)",
    "pgu_local_%": "PGU local: bottom genes removed (%)",
    "lo": "95% low",
    "hi": "95% high",
    # scores and explanations
    "query": "query",
    "signature": "library entry",
    "score": "score",
    "rank": "rank",
    "pvalue": "p-value",
    "count": "scores",
    "mean": "mean",
    "std": "sd",
    "min": "min",
    "max": "max",
    "gene": "gene",
    "combined": "attribution (disease + drug)",
    "disease_attribution": "disease-side attribution",
    "drug_attribution": "drug-side attribution",
    "hyper_pvalue": "p (hypergeometric)",
    "hyper_qvalue": "q (BH)",
    "overlap": "genes in top set",
    "pathway": "pathway",
    "best_epoch": "best epoch",
    "seed": "seed",
    "drug": "drug",
    # labels a matcher was trained on (the join of the catalogue with the signatures)
    "n_indications_given": "indications in the catalogue",
    "n_indications_used": "indications used",
    "n_rows_drug_without_signature": "rows naming a drug without a signature",
    "n_rows_disease_without_signature": "rows naming a disease without a signature",
    "n_diseases_without_indication": "diseases without an indication",
    "n_diseases_evaluated": "diseases with an indication",
    "n_drugs_indicated": "drugs with an indication",
    "n_duplicate_pairs_merged": "duplicate pairs merged",
    "n_pairs": "drug-disease pairs",
    "n_drugs": "drugs",
    "drug_only": "drug-only score",
    "popularity_share": "popularity share",
    # explained matches (exprlab match explain)
    "disease_value": "disease signature value",
    "drug_value": "drug signature value",
    "in_model": "in the model's genes",
    "set_size": "set size",
    "rank_auc": "rank test AUC",
    "rank_pvalue": "p (rank test)",
    "rank_qvalue": "q (rank test, BH)",
    "top_genes": "top genes in the set",
    # a classifier's tuning record (exprlab train)
    "C": "inverse penalty C",
    "l1_ratio": "L1 ratio",
    "inner_folds": "inner cross-validation folds",
    "row_space_fit": "row-space fit (more genes than samples)",
    # explanation study
    "interval_over": "interval over",
    "model_a": "model A",
    "model_b": "model B",
    "kendall_tau": "Kendall tau",
    "jaccard": "Jaccard",
    "cell_line": "cell line",
}


def label(name: object) -> str:
    """The human label of a column or series name (the name itself when it has none).

    Parameters
    ----------
    name
        A column, metric or series name.

    Returns
    -------
    str
        Its entry in :data:`LABELS`, else the name with underscores as spaces.
    """
    text = str(name)
    return LABELS.get(text, text.replace("_", " "))


def fmt(value: object, digits: int = 3) -> str:
    """A value as reports print it: numbers to ``digits`` significant digits, missing as ``–``.

    Integers are printed whole; non-integers with 3 significant digits (``65.75835`` → ``65.8``,
    ``0.3759`` → ``0.376``), large ones rounded and grouped (``123456.7`` → ``123,000``) and
    tiny ones in scientific notation (``1.234e-05`` → ``1.23e-05``).

    Parameters
    ----------
    value
        Any value; non-numbers are returned as text.
    digits
        Significant digits of non-integers.

    Returns
    -------
    str
        The printed value.
    """
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        return "–"
    x = float(f"{x:.{digits}g}")  # rounded first, so that 999.6 counts as 1,000
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude >= digits:
        rounded = round(x, digits - 1 - magnitude)
        return f"{rounded:,.0f}"
    if magnitude < -3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


#: the no-break space that keeps an interval on one line of a table cell
NO_BREAK = "\u00a0"


def fmt_interval(lo: object, hi: object, digits: int = 3) -> str:
    """An interval as reports print it, ``[0.233, 0.299]`` (each end through :func:`fmt`).

    Parameters
    ----------
    lo, hi
        The interval's ends (missing ones print as ``–``).
    digits
        Significant digits of non-integers.

    Returns
    -------
    str
        The bracketed interval.
    """
    return f"[{fmt(lo, digits)}, {fmt(hi, digits)}]"


def with_intervals(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A table for display with each value and its interval in one cell: ``0.265 [0.233, 0.299]``.

    A column ``c`` that has both ``c_lo`` and ``c_hi`` beside it becomes text, its value followed by
    its interval (:func:`fmt`, :func:`fmt_interval`), and the two end columns are dropped, so a
    metric takes one column of a report's table instead of three. Other columns are kept as they
    are, in their order. The space inside the brackets is a no-break space, so a narrow column
    wraps a cell between the value and its interval only. The table's files keep their separate columns; this is only how a report
    shows them.

    Parameters
    ----------
    table
        A table with columns such as ``average_precision``, ``average_precision_lo``,
        ``average_precision_hi``.
    digits
        Significant digits of non-integers.

    Returns
    -------
    pandas.DataFrame
        The same rows, with one text column per value-and-interval triple.
    """
    paired = [c for c in table.columns if f"{c}_lo" in table.columns and f"{c}_hi" in table.columns]
    dropped = {f"{c}_{end}" for c in paired for end in ("lo", "hi")}
    out = table[[c for c in table.columns if c not in dropped]].copy()
    for c in paired:
        # a no-break space inside the brackets: a narrow cell wraps before the interval, not in it
        out[c] = [
            f"{fmt(v, digits)} {fmt_interval(lo, hi, digits).replace(' ', NO_BREAK)}"
            for v, lo, hi in zip(table[c], table[f"{c}_lo"], table[f"{c}_hi"], strict=True)
        ]
    return out


def human_bytes(size: object) -> str:
    """A file size in bytes as ``12.3 MB`` (decimal units; missing as ``–``).

    Parameters
    ----------
    size
        Number of bytes.

    Returns
    -------
    str
        The size with 3 significant digits and its unit.
    """
    if size is None or not isinstance(size, numbers.Real):
        return "–"
    n = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{int(n)} B" if unit == "B" else f"{fmt(n)} {unit}"
        n /= 1000
    return f"{fmt(n)} TB"
