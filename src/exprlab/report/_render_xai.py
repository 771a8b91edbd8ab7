"""Report of an explanation study (``exprlab xai-study``), finished or stopped part way.

A study folder holds one sub-folder per run (``runs/<dataset>/<model>/runNN``); a run is finished
when its ``metrics.json`` exists. A study stopped before its end has no summary yet: its report
counts the finished runs against the planned ones (from the manifest the study writes when it
starts) and says how to resume.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._progress import track
from exprlab._runs import XAI_STUDY
from exprlab.report import _plots as plots
from exprlab.report._html import HtmlReport, Section
from exprlab.report._registry import guarded, progress_hint, read_table, try_read
from exprlab.report._study_plots import bounded_percent, curve_summary, draw_curve_bands, k_axis

__all__ = ["curve_verdicts", "fa_random_expectation", "render_xai", "study_progress"]


def fa_random_expectation(run_dir: Path, dataset: str, model: str) -> float | None:
    """Expected feature agreement of a random gene ranking: mean over classes of k_c / p.

    A random top-k_c set out of p genes contains on average k_c * k_c / p informative genes,
    i.e. a share k_c / p; local and global FA have the same expectation. ``k_c`` comes from the
    run's ``fa_per_class.tsv``, ``p`` from its ``global_scores.npz``.

    Parameters
    ----------
    run_dir
        The study folder.
    dataset
        Dataset name (its folder under ``runs/``).
    model
        Model name (its folder under the dataset).

    Returns
    -------
    float or None
        The expectation in %, or ``None`` when the study has no ground truth for it.
    """
    run = next(iter(sorted(XAI_STUDY.model_dir(run_dir, dataset, model).glob("run*"))), None)
    if run is None or not (run / XAI_STUDY.fa_per_class).is_file():
        return None
    k = pd.read_csv(run / XAI_STUDY.fa_per_class, sep="\t")["k"].to_numpy(dtype=float)
    with np.load(run / XAI_STUDY.global_scores) as z:
        p = z["scores"].shape[1]
    return float(100 * np.mean(k / p))


def _gene_info(run_dir: Path, dataset: str) -> tuple[list[str] | None, dict | None]:
    """Gene names and ground truth saved beside a study (``datasets/<name>.json``), if any."""
    path = XAI_STUDY.dataset_info(run_dir, dataset)
    if not path.is_file():
        return None, None
    info = json.loads(path.read_text())
    return info.get("genes"), info.get("ground_truth")


_XAI_INTRO = (
    "Balanced test accuracy of each classifier and the quality of its Integrated "
    "Gradients explanations: feature agreement (FA, % of the top-k attributed genes "
    "that are truly informative, per example = local, per class = global) and "
    "prediction gaps (PGI: output drop when the most important genes are removed, "
    "higher is better; PGU: the same for the least important, lower is better; "
    "PGR: random orders). Means ± sd over runs."
)
_XAI_ACCURACY_COLUMNS = (
    "dataset",
    "model",
    "n_runs",
    "balanced_accuracy_mean",
    "balanced_accuracy_sd",
    "fa_local_mean",
    "fa_local_sd",
    "fa_global_mean",
    "fa_global_sd",
    "fa_random",
)
_XAI_GAP_COLUMNS = (
    "dataset",
    "model",
    "pgi_local_mean",
    "pgu_local_mean",
    "pgi_global_mean",
    "pgu_global_mean",
    "pgr_mean",
    "completeness_delta_mean_mean",
    "stability_jaccard",
    "stability_kendall_tau",
)


def _xai_tables(sec: Section, run_dir: Path, summary: pd.DataFrame) -> None:
    """Accuracy and agreement, prediction gaps, and the agreement between models."""
    cols = [c for c in _XAI_ACCURACY_COLUMNS if c in summary]
    sec.table(summary[cols], caption="Accuracy and feature agreement (%)", source=run_dir / XAI_STUDY.summary)
    pg_cols = [c for c in _XAI_GAP_COLUMNS if c in summary]
    if len(pg_cols) > 2:
        sec.table(
            summary[pg_cols],
            caption="Prediction gaps (%), completeness and stability",
            source=run_dir / XAI_STUDY.summary,
        )
    agreement_path = run_dir / XAI_STUDY.model_agreement
    if agreement_path.is_file():
        guarded(
            sec,
            XAI_STUDY.model_agreement,
            lambda: sec.table(
                read_table(agreement_path),
                source=agreement_path,
                caption="Agreement between models: top-k Jaccard and Kendall tau of the per-class "
                "global rankings of two models trained on the same split, mean over runs",
            ),
        )


def _xai_bars(sec: Section, summary: pd.DataFrame) -> None:
    """Feature agreement (against a random ranking) and prediction gaps per dataset × model."""
    if "fa_local_mean" in summary:
        ref = {}
        if summary["fa_random"].notna().any():
            ref["random ranking (expected)"] = float(summary["fa_random"].mean())
        sec.image(
            plots.grouped_bars(
                summary,
                group="label",
                series=["fa_local_mean", "fa_global_mean"],
                errors={"fa_local_mean": "fa_local_sd", "fa_global_mean": "fa_global_sd"},
                title="Feature agreement with the ground truth",
                ylabel="informative genes among the top-k (%)",
                reference=ref,
            ),
            "Feature agreement, local and global (mean ± sd over runs); dashed: the "
            "expectation of a random gene ranking.",
        )
    pg = [c for c in ("pgi_local_mean", "pgu_local_mean", "pgr_mean") if c in summary]
    if pg:
        sec.image(
            plots.grouped_bars(
                summary,
                group="label",
                series=pg,
                title="Prediction gaps",
                ylabel="drop of the predicted-class probability (%)",
            ),
            "Prediction gaps: important (PGI), unimportant (PGU), random (PGR).",
        )


def _curve_rows(run_dir: Path, ds: str, model: str) -> tuple[pd.DataFrame | None, Path | None]:
    """The curve summary of one dataset × model and the table it comes from.

    ``curves_summary.tsv`` when the study wrote it, else computed from the runs' ``curves.tsv``
    (folders of earlier releases; the source is then ``None``).
    """
    path = run_dir / XAI_STUDY.curves_summary
    if path.is_file():
        table = read_table(path, required=("dataset", "model", "setting", "selection", "k"))
        rows = table[(table["dataset"].astype(str) == ds) & (table["model"].astype(str) == model)]
        if not rows.empty:
            return bounded_percent(rows.reset_index(drop=True)), path
    return curve_summary(XAI_STUDY.model_dir(run_dir, ds, model)), None


def _band(row: pd.Series) -> tuple[float, float]:
    """A curve point's interval, or its mean twice when it has none."""
    low, high = row.get("ci_low", np.nan), row.get("ci_high", np.nan)
    if pd.isna(low) or pd.isna(high):
        mean = float(row["balanced_accuracy_mean"])
        return mean, mean
    return float(low), float(high)


def curve_verdicts(table: pd.DataFrame) -> list[str]:
    """Per setting: at which K the attribution-ranked curve lies above, below or within the random band.

    A point is outside the band when its interval and the random curve's interval do not
    overlap (a point without an interval counts as its mean).

    Parameters
    ----------
    table
        Rows of :func:`exprlab.report.curve_summary` for one dataset × model.

    Returns
    -------
    list of str
        One sentence per setting that has both curves.
    """
    sentences = []
    for setting, part in table.groupby("setting", sort=True):
        ranked = part[part["selection"] == "attribution"].set_index("k")
        random = part[part["selection"] == "random"].set_index("k")
        places: dict[str, list[str]] = {"above": [], "below": [], "within": []}
        for k in sorted(set(ranked.index) & set(random.index)):
            (lo, hi), (rlo, rhi) = _band(ranked.loc[k]), _band(random.loc[k])
            where = "above" if lo > rhi else "below" if hi < rlo else "within"
            places[where].append(f"{int(k)}")
        said = [f"{where} it at K = {', '.join(ks)}" for where, ks in places.items() if ks]
        if said:
            said[0] = said[0].replace(" it ", " the random band ", 1)
            sentences.append(f"{setting}: the attribution-ranked curve lies " + "; ".join(said) + ".")
    return sentences


_CURVE_SHOWN = {
    "setting": "setting",
    "selection": "genes",
    "k": "K",
    "n_runs": "runs",
    "n_repeats": "random repeats",
    "balanced_accuracy_mean": "balanced accuracy (%)",
    "ci_low": "95% low",
    "ci_high": "95% high",
    "interval_over": "interval over",
}


def _xai_curves(sec: Section, run_dir: Path, ds: str, model: str) -> None:
    """Keep/remove retraining curves of one dataset × model with their intervals."""
    table, source = _curve_rows(run_dir, ds, model)
    if table is None:
        return
    fig, ax = plots._pyplot().subplots(figsize=(5.6, 3.8))
    lines = draw_curve_bands(ax, table, plots.colours(4))
    k_axis(ax, table["k"])
    ax.set_xlabel("K (top genes per class)")
    ax.set_ylabel("balanced accuracy (%)")
    n_runs = int(table["n_runs"].max()) if "n_runs" in table else None
    ax.set_title(
        f"{ds} {model}: retrain on kept / removed top-K genes" + (f" ({n_runs} runs)" if n_runs else ""),
        fontsize=10,
    )
    plots.legend_outside(ax, lines)
    banded = {"ci_low", "ci_high"} <= set(table.columns) and table["ci_low"].notna().any()
    sec.image(
        plots.figure_png(fig),
        f"{ds} {model}: keep/remove retraining curves (dashed: random genes"
        + (
            "; bands: 95% intervals over runs, random repeats averaged within a run, cut to 0-100%)."
            if banded
            else ")."
        ),
    )
    if banded:
        for sentence in curve_verdicts(table):
            sec.paragraph(f"{ds} {model}, {sentence}")
    else:
        sec.note(
            "No intervals: the curves have a single value per point (one run, one random repeat), "
            "so nothing says whether the ranked genes beat random ones; rerun with more --runs."
        )
    shown = table[[c for c in _CURVE_SHOWN if c in table]].rename(columns=_CURVE_SHOWN)
    sec.table(shown, caption=f"{ds} {model}: keep/remove curves", source=source)


def _xai_model_plots(sec: Section, run_dir: Path, ds: str, model: str) -> None:
    """Retraining curves and the attribution heat map of one dataset × model."""
    model_dir = XAI_STUDY.model_dir(run_dir, ds, model)
    if XAI_STUDY.run_files(model_dir, XAI_STUDY.curves):
        guarded(sec, f"curves of {ds} {model}", lambda: _xai_curves(sec, run_dir, ds, model))
    first = next(iter(XAI_STUDY.run_files(model_dir, XAI_STUDY.global_scores)), None)
    if first is not None:
        guarded(
            sec,
            f"attribution heat map of {ds} {model}",
            lambda: _heatmap(sec, run_dir, first, ds, model),
        )


def study_progress(run_dir: Path, manifest: dict | None) -> tuple[int, int | None]:
    """Finished runs of a study folder and the planned count (``None`` when not recorded).

    Parameters
    ----------
    run_dir
        The study folder.
    manifest
        Its ``run.json`` (the study writes ``summary.planned_runs`` when it starts).

    Returns
    -------
    tuple
        ``(finished, planned)``.
    """
    done = len(list((Path(run_dir) / XAI_STUDY.runs).glob(f"*/*/run*/{XAI_STUDY.run_metrics}")))
    planned = ((manifest or {}).get("summary") or {}).get("planned_runs")
    return done, int(planned) if isinstance(planned, int | float) else None


def _progress_note(sec: Section, run_dir: Path, manifest: dict | None) -> bool:
    """A note when the study stopped before its end; whether it did."""
    done, _ = study_progress(run_dir, manifest)
    if progress_hint(sec, manifest, done):
        return True
    if (run_dir / XAI_STUDY.summary).is_file():
        return False
    # an older study folder without a manifest: only the finished runs are known
    sec.finding(f"{done} runs done; rerun the same command to resume.")
    return True


def render_xai(
    report: HtmlReport, run_dir: Path, title: str = "Explanation study", manifest: dict | None = None
) -> None:
    """The sections of an explanation-study folder (``exprlab xai-study``).

    Parameters
    ----------
    report
        The report being built.
    run_dir
        The study folder.
    title
        Title of the main section.
    manifest
        The study's ``run.json`` (``None`` when it has none).

    Returns
    -------
    None
    """
    sec = report.section(title)
    stopped = _progress_note(sec, run_dir, manifest)
    sec.paragraph(_XAI_INTRO)
    if stopped and not (run_dir / XAI_STUDY.summary).is_file():
        sec.note(
            f"{XAI_STUDY.summary} is written when the study ends; until then the finished runs are listed."
        )
        guarded(sec, "finished runs", lambda: _finished_runs(sec, run_dir))
        return
    summary = try_read(
        sec,
        run_dir / XAI_STUDY.summary,
        "the accuracy, agreement and gap tables and plots",
        required=("dataset", "model"),
    )
    if summary is None:
        return
    if summary.empty:
        sec.note(f"{XAI_STUDY.summary} is empty: no run finished.")
        return
    if "fa_local_mean" in summary:
        summary = summary.copy()
        summary["fa_random"] = fa_random = [
            _safe_fa_random(run_dir, str(d), str(m))
            for d, m in zip(summary["dataset"], summary["model"], strict=True)
        ]
        if any(v is None for v in fa_random):
            sec.note(
                f"{XAI_STUDY.fa_per_class} or {XAI_STUDY.global_scores} of a run is missing or damaged: "
                "the feature agreement of a random ranking is not shown for it."
            )
    guarded(sec, "summary tables", lambda: _xai_tables(sec, run_dir, summary))
    per_run = try_read(
        sec, run_dir / XAI_STUDY.runs_table, "the table of single runs", required=("dataset", "model")
    )
    if per_run is not None:
        sec.table(
            per_run[[c for c in _RUN_SHOWN if c in per_run]].rename(columns=_RUN_NAMES),
            caption="Every run (% for accuracy, agreement and gaps)",
            source=run_dir / XAI_STUDY.runs_table,
        )
    summary = summary.assign(label=summary["dataset"].astype(str) + " " + summary["model"].astype(str))
    guarded(sec, "explanation bars", lambda: _xai_bars(sec, summary))
    for row in track(list(summary.itertuples(index=False)), "plotting models"):
        _xai_model_plots(sec, run_dir, str(row.dataset), str(row.model))


_RUN_SHOWN = (
    "dataset",
    "model",
    "dataset_run",
    "balanced_accuracy",
    "fa_local",
    "fa_global",
    "pgi_local",
    "pgu_local",
    "pgr",
    "seconds",
)


_RUN_NAMES = {"dataset_run": "run", "balanced_accuracy": "balanced accuracy (%)"}


def _finished_runs(sec: Section, run_dir: Path) -> None:
    """The metrics of every finished run of a stopped study, one row each."""
    files = sorted((run_dir / XAI_STUDY.runs).glob(f"*/*/run*/{XAI_STUDY.run_metrics}"))
    if not files:
        sec.paragraph("No run has finished yet.")
        return
    rows = pd.DataFrame([json.loads(f.read_text()) for f in files])
    sec.table(
        rows[[c for c in _RUN_SHOWN if c in rows]].rename(columns=_RUN_NAMES),
        caption="Finished runs (% for accuracy, agreement and gaps)",
    )


def _safe_fa_random(run_dir: Path, dataset: str, model: str) -> float | None:
    """:func:`fa_random_expectation`, ``None`` when the run's files are missing or damaged."""
    try:
        return fa_random_expectation(run_dir, dataset, model)
    except (OSError, ValueError, KeyError):
        return None


def _heatmap(
    sec: Section,
    run_dir: Path,
    path: Path,
    dataset: str,
    model: str,
    per_class: int = 4,
    max_classes: int = 12,
) -> None:
    with np.load(path) as z:
        classes = [str(c) for c in z["classes"]][:max_classes]
        scores = np.asarray(z["scores"], dtype=float)[:max_classes]
    genes, truth = _gene_info(run_dir, dataset)
    names = (
        genes
        if genes is not None and len(genes) == scores.shape[1]
        else [f"gene {i}" for i in range(scores.shape[1])]
    )
    top: list[int] = []
    for row in scores:
        for g in np.argsort(-row, kind="stable")[:per_class]:
            if int(g) not in top:
                top.append(int(g))
    values = scores[:, top]
    marked = None
    if truth:
        marked = np.array([[names[g] in set(truth.get(c, ())) for g in top] for c in classes])
    sec.image(
        plots.heatmap(
            values,
            row_labels=classes,
            col_labels=[names[g] for g in top],
            title=f"{dataset} {model}: top {per_class} genes per class ({path.parent.name})",
            colorbar="summed attribution",
            marked=marked,
        ),
        f"{dataset} {model}: global attribution of each class's top genes"
        + ("; dots mark the simulated informative genes of the class." if truth else "."),
    )
