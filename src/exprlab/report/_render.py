"""Render any run directory into one self-contained HTML report.

The kind of run comes from ``run.json`` (:mod:`exprlab.report._manifest`) or, when there is none,
from the files present:

``match-benchmark``
    ``metrics.tsv`` (+ ``per_disease.tsv``, ``predictions.parquet``, ``ratios.tsv`` ...), as
    written by ``exprlab match benchmark``;
``xai-study``
    ``summary.tsv`` and ``runs/``, as written by ``exprlab xai-study``;
``score``
    a score table (``.parquet`` / ``.tsv``) with ``query`` and ``score`` columns (tidy) or a
    queries × signatures matrix, as written by ``exprlab score``; the table itself may be given;
``match-explanation``
    ``summary.json`` and ``genes.tsv`` (+ ``pathways.tsv``, ``explanation.png``), as written by
    ``exprlab match explain``;
``demo``
    a folder whose sub-folders are runs of the kinds above (``exprlab demo``, or a folder of
    explained matches: one section per match).

Anything else is rendered as a listing of its tables and images. A part that cannot be rendered
(a missing or malformed file) becomes a visible note in its section and a warning in the log,
never a silent gap.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._progress import track
from exprlab._runs import (
    BIOMARKERS,
    DEMO,
    MATCH_BENCHMARK,
    MATCH_EXPLANATION,
    REPORT,
    SCORE,
    SIGNATURE_SEARCH,
    XAI_STUDY,
)
from exprlab.errors import ExprlabError, FileAccessError, FormatError, InvalidParameterError
from exprlab.evaluate import GENE_DEPENDENCE, MOSTLY_DRUG_ONLY, gene_dependence_words
from exprlab.report import _plots as plots
from exprlab.report._biomarkers_report import render_biomarkers
from exprlab.report._html import HtmlReport, Section
from exprlab.report._manifest import read_run_manifest
from exprlab.report._repurposing_plots import RECALL_GRID, mean_pr_curve
from exprlab.report._search import render_search

log = logging.getLogger("exprlab.report")

_TABLE_SUFFIXES = SCORE.suffixes


# ----------------------------------------------------------------------------- detection
def detect_kind(path: str | os.PathLike) -> str:
    """The kind of run stored at ``path`` (see the module docstring), ``generic`` if unknown.

    The manifest's kind wins; without one the kind is guessed from the files present.

    Parameters
    ----------
    path
        A run directory or a score table.

    Returns
    -------
    str
        One of :data:`exprlab._runs.KINDS`, or ``"generic"``.
    """
    p = Path(path)
    if p.is_file():
        return "score" if p.name.lower().endswith(_TABLE_SUFFIXES) else "generic"
    manifest = read_run_manifest(p)
    if manifest and manifest.get("kind"):
        return str(manifest["kind"])
    if (p / MATCH_BENCHMARK.metrics).is_file():
        return MATCH_BENCHMARK.kind
    if (p / XAI_STUDY.summary).is_file() and (p / XAI_STUDY.runs).is_dir():
        return XAI_STUDY.kind
    if (p / MATCH_EXPLANATION.summary).is_file() and (p / MATCH_EXPLANATION.genes).is_file():
        return MATCH_EXPLANATION.kind
    if (p / SIGNATURE_SEARCH.hits).is_file() and (p / SIGNATURE_SEARCH.enrichment).is_file():
        return SIGNATURE_SEARCH.kind
    if _score_tables(p):
        return SCORE.kind
    if any(detect_kind(sub) != "generic" for sub in _subruns(p)):
        return DEMO.kind
    return "generic"


def _subruns(p: Path) -> list[Path]:
    return sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))


def _score_tables(p: Path) -> list[Path]:
    out = []
    for f in sorted(p.iterdir()):
        if f.is_file() and f.name.lower().endswith(_TABLE_SUFFIXES) and not f.name.startswith("."):
            try:
                cols = _read_table(f, nrows=5).columns
            except Exception:
                continue
            if "score" in cols and "query" in cols:
                out.append(f)
    return out


def _read_table(path: Path, nrows: int | None = None) -> pd.DataFrame:
    if path.name.lower().endswith(".parquet"):
        df = pd.read_parquet(path)
        return df.head(nrows) if nrows else df
    return pd.read_csv(path, sep="\t", nrows=nrows)


def _read_scores(path: Path) -> pd.DataFrame:
    """A score table, or a FormatError naming the file when it cannot be parsed."""
    try:
        return _read_table(path)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise FormatError(
            f"not a readable score table ({err})",
            where=path,
            fix="pass a .parquet or .tsv table written by `exprlab score`",
        ) from None


def _tsv_table(sec: Section, path: Path, caption: str) -> None:
    sec.table(pd.read_csv(path, sep="\t"), caption=caption)


def _head_table(sec: Section, path: Path) -> None:
    sec.table(_read_table(path, nrows=20), caption=f"{path.name} (first 20 rows)")


def _png(sec: Section, path: Path) -> None:
    sec.image(path.read_bytes(), path.name)


def _guarded(section: Section, what: str, fn: Callable[[], object]) -> None:
    """Run one part of a section; a failure becomes a note in the report and a log warning."""
    try:
        fn()
    except (ExprlabError, OSError, ValueError, KeyError, TypeError, IndexError) as err:
        log.warning("report: %s could not be rendered: %s", what, err)
        section.note(f"{what} could not be rendered: {err}")


# ----------------------------------------------------------------------------- common
def _about(report: HtmlReport, run_dir: Path, manifest: dict | None, kind: str) -> None:
    sec = report.section("Parameters, versions and data provenance")
    if manifest is None:
        sec.note(
            "This run directory has no run.json manifest: parameters, software versions "
            "and data provenance were not recorded by the command that wrote it."
        )
        sec.key_values({"kind (detected from its files)": kind, "run directory": run_dir})
        return
    sec.key_values(
        {
            "kind": manifest.get("kind", kind),
            "command": manifest.get("command", ""),
            "started (UTC)": manifest.get("started", ""),
            "finished (UTC)": manifest.get("finished", ""),
            "platform": manifest.get("platform", ""),
        }
    )
    params = manifest.get("parameters") or {}
    if params:
        sec.heading("Parameters")
        sec.key_values(
            {k: json.dumps(v, default=str) if isinstance(v, dict | list) else v for k, v in params.items()}
        )
    versions = manifest.get("versions") or {}
    if versions:
        sec.heading("Software versions")
        sec.key_values(versions)
    prov = manifest.get("data_provenance") or []
    sec.heading("Data provenance")
    if prov:
        sec.table(
            pd.DataFrame(
                [
                    {
                        k: (json.dumps(v, default=str) if isinstance(v, dict | list) else v)
                        for k, v in d.items()
                    }
                    for d in prov
                ]
            )
        )
    else:
        sec.paragraph("No input files: the data were generated by the run itself.")


# ----------------------------------------------------------------------------- match benchmark
#: the retrieval metrics (a selection of :data:`exprlab.evaluate.METRICS`) the report shows
_SHOWN_METRICS = (
    "average_precision",
    "precision_at_10",
    "recall_at_50",
    "ndcg_at_10",
    "reciprocal_rank",
    "roc_auc",
    "hits_at_10",
)


def map_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Method, MAP and its interval, as text-friendly columns (for summaries).

    Parameters
    ----------
    metrics
        A retrieval benchmark's summary table.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``n_diseases``, ``MAP``, ``MAP_lo``, ``MAP_hi`` (those present).
    """
    cols = [
        c
        for c in ("method", "n_diseases", "average_precision", "average_precision_lo", "average_precision_hi")
        if c in metrics
    ]
    return metrics[cols].rename(
        columns={
            "average_precision": "MAP",
            "average_precision_lo": "MAP_lo",
            "average_precision_hi": "MAP_hi",
        }
    )


def _match_overview(sec: Section, run_dir: Path, metrics: pd.DataFrame) -> None:
    """The benchmark's design (from its info file) and the metric table."""
    info = {}
    if (run_dir / MATCH_BENCHMARK.info).is_file():
        info = json.loads((run_dir / MATCH_BENCHMARK.info).read_text()).get("report", {})
    if info:
        sec.paragraph(
            f"Split by held-out {info.get('split', '?')}, {info.get('n_folds', '?')} folds "
            f"(seed {info.get('seed', '?')}); {info.get('n_indications_used', '?')} indications "
            f"over {info.get('n_diseases_evaluated', '?')} diseases; "
            f"{info.get('n_candidates', '?')} candidate drugs ranked for every test disease; "
            f"{info.get('n_genes', '?')} genes."
        )
    sec.paragraph(
        "Each metric is the mean over test diseases with its 95% bootstrap interval "
        "over diseases (columns _lo / _hi). 'random' is the exact expectation under a "
        "random ranking; 'popularity' ranks drugs by their number of training "
        "indications and reads no gene."
    )
    shown = ["method", "n_diseases"] + [c for c in ("val_map",) if c in metrics]
    for m in _SHOWN_METRICS:
        if m in metrics:
            shown += [m] + [c for c in (f"{m}_lo", f"{m}_hi") if c in metrics]
    sec.table(metrics[[c for c in shown if c in metrics]], caption=MATCH_BENCHMARK.metrics)
    words = gene_dependence_words(metrics)
    if words:
        sec.heading("What each ranking is made of")
        sec.paragraph(
            "Each test disease's scores are fitted by an affine function of a drug-only score "
            "(the drug's mean score over the fold's test diseases; docs/methods.md §2). drug_r2 "
            "is the share of score variance that fit explains, remainder_ap the MAP of what is "
            f"left (the disease-specific part). Above R² = {MOSTLY_DRUG_ONLY} a ranking is "
            "called mostly drug popularity."
        )
        for line in words:
            sec.paragraph(line)
        cols = ["method"] + [c for g in GENE_DEPENDENCE for c in (g, f"{g}_lo", f"{g}_hi") if c in metrics]
        sec.table(metrics[cols], caption="gene dependence (metrics.tsv)")


def _match_bars(sec: Section, metrics: pd.DataFrame) -> None:
    """MAP (with the random and popularity baselines) and nDCG@10 per method."""
    ref = {}
    for name in ("random", "popularity"):
        row = metrics[metrics["method"] == name]
        if len(row):
            ref[name] = float(row["average_precision"].iloc[0])
    sec.image(
        plots.bars_with_intervals(
            metrics["method"].astype(str).tolist(),
            metrics["average_precision"],
            metrics.get("average_precision_lo"),
            metrics.get("average_precision_hi"),
            title="Mean average precision per method (95% bootstrap interval)",
            ylabel="MAP",
            reference=ref,
        ),
        "Mean average precision with 95% intervals; dashed lines: random and popularity baselines.",
    )
    if "ndcg_at_10" in metrics:
        sec.image(
            plots.bars_with_intervals(
                metrics["method"].astype(str).tolist(),
                metrics["ndcg_at_10"],
                metrics.get("ndcg_at_10_lo"),
                metrics.get("ndcg_at_10_hi"),
                title="nDCG@10 per method",
                ylabel="nDCG@10",
            ),
            "nDCG@10 with 95% intervals.",
        )


def _match_predictions(sec: Section, pred_path: Path) -> None:
    """Precision-recall curves and score distributions of the test pairs."""
    pred = pd.read_parquet(pred_path)
    curves = {str(m): (RECALL_GRID, mean_pr_curve(p)) for m, p in pred.groupby("method", sort=False)}
    sec.heading("Precision-recall")
    sec.image(
        plots.curves_xy(
            curves,
            title="Precision-recall (mean over test diseases)",
            xlabel="recall",
            ylabel="interpolated precision",
            xlim=(0, 1),
        ),
        "Interpolated precision-recall curves averaged over test diseases.",
    )
    sec.heading("Score distributions")
    for method, part in pred.groupby("method", sort=False):
        if str(method) in ("random", "popularity"):
            continue
        ind = part["indicated"].fillna(False).astype(bool).to_numpy()
        sec.image(
            plots.distributions(
                {
                    "indicated pairs": part["score"].to_numpy()[ind],
                    "other candidate pairs": part["score"].to_numpy()[~ind],
                },
                title=f"{method}: scores of test pairs",
                xlabel="score",
            ),
            f"{method}: distribution of scores of indicated vs other test pairs.",
        )


def _render_match(report: HtmlReport, run_dir: Path, title: str = "Retrieval benchmark") -> None:
    metrics = pd.read_csv(run_dir / MATCH_BENCHMARK.metrics, sep="\t")
    sec = report.section(title)
    _match_overview(sec, run_dir, metrics)
    _guarded(sec, "metric bars", lambda: _match_bars(sec, metrics))
    for name, caption in (
        (
            MATCH_BENCHMARK.ratios,
            "MAP ratios of the best learned method (chosen on "
            "validation MAP) to the best connectivity method, popularity and "
            "random, with bootstrap intervals",
        ),
        (MATCH_BENCHMARK.paired_tests, "Paired tests over diseases against the best learned method"),
    ):
        path = run_dir / name
        if path.is_file() and path.stat().st_size > 1:
            _guarded(sec, name, partial(_tsv_table, sec, path, caption))
    pred_path = run_dir / MATCH_BENCHMARK.predictions
    if pred_path.is_file():
        _guarded(sec, "precision-recall curves", lambda: _match_predictions(sec, pred_path))
    history_path = run_dir / MATCH_BENCHMARK.training_history
    if history_path.is_file():
        _guarded(sec, "training curves", lambda: _training_curves(sec, history_path, metrics))


def _training_curves(sec, history_path: Path, metrics: pd.DataFrame) -> None:
    """Validation MAP per epoch of every learned model, next to the method's test MAP."""
    hist = pd.read_csv(history_path, sep="\t")
    sec.heading("Training curves")
    test_map = metrics.set_index("method")["average_precision"]
    for method, part in hist.groupby("method", sort=False):
        curves = {
            f"fold {f}" + (f" seed {m}" if part["member"].nunique() > 1 else ""): (
                g["epoch"].to_numpy(),
                g["val_map"].to_numpy(),
            )
            for (f, m), g in part.groupby(["fold", "member"], sort=True)
        }
        chosen = part[part["chosen"].astype(bool)]["val_map"]
        test = test_map.get(method, float("nan"))
        sec.image(
            plots.curves_xy(
                curves, title=f"{method}: validation MAP per epoch", xlabel="epoch", ylabel="validation MAP"
            ),
            f"{method}: inner-validation MAP after each epoch, one line per fold (and "
            f"seed). Early stopping keeps each curve's best epoch: mean {chosen.mean():.3f} "
            f"at the chosen epochs against {part['val_map'].mean():.3f} over all epochs; "
            f"test MAP {test:.3f}. A chosen maximum over a noisy curve is optimistic.",
        )


# ----------------------------------------------------------------------------- xai study
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
    sec.table(summary[cols], caption="Accuracy and feature agreement (%)")
    pg_cols = [c for c in _XAI_GAP_COLUMNS if c in summary]
    if len(pg_cols) > 2:
        sec.table(summary[pg_cols], caption="Prediction gaps (%), completeness and stability")
    agreement_path = run_dir / XAI_STUDY.model_agreement
    if agreement_path.is_file():
        _guarded(
            sec,
            XAI_STUDY.model_agreement,
            lambda: sec.table(
                pd.read_csv(agreement_path, sep="\t"),
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
                ylabel="%",
                reference=ref,
            ),
            "Feature agreement, local and global (mean ± sd over runs); dashed: the "
            "expectation of a random gene ranking.",
        )
    pg = [c for c in ("pgi_local_mean", "pgu_local_mean", "pgr_mean") if c in summary]
    if pg:
        sec.image(
            plots.grouped_bars(summary, group="label", series=pg, title="Prediction gaps", ylabel="%"),
            "Prediction gaps: important (PGI), unimportant (PGU), random (PGR).",
        )


def _xai_curves(sec: Section, files: list[Path], ds: str, model: str) -> None:
    """Keep/remove retraining curves of one dataset × model over all its runs."""
    table = pd.concat([pd.read_csv(f, sep="\t") for f in files])
    table = table.assign(balanced_accuracy=100 * table["balanced_accuracy"])
    sec.image(
        plots.line_curves(
            table,
            x="k",
            y="balanced_accuracy",
            by=["setting", "selection"],
            logx=True,
            title=f"{ds} {model}: retrain on kept / removed top-K genes",
            xlabel="K (top genes per class)",
            ylabel="balanced accuracy (%)",
            dashed={"selection": "random"},
        ),
        f"{ds} {model}: keep/remove retraining curves (dashed: random genes).",
    )


def _xai_model_plots(sec: Section, run_dir: Path, ds: str, model: str) -> None:
    """Retraining curves and the attribution heat map of one dataset × model."""
    model_dir = XAI_STUDY.model_dir(run_dir, ds, model)
    curve_files = XAI_STUDY.run_files(model_dir, XAI_STUDY.curves)
    if curve_files:
        _guarded(sec, f"curves of {ds} {model}", lambda: _xai_curves(sec, curve_files, ds, model))
    first = next(iter(XAI_STUDY.run_files(model_dir, XAI_STUDY.global_scores)), None)
    if first is not None:
        _guarded(
            sec,
            f"attribution heat map of {ds} {model}",
            lambda: _heatmap(sec, run_dir, first, ds, model),
        )


def _render_xai(report: HtmlReport, run_dir: Path, title: str = "Explanation study") -> None:
    summary = pd.read_csv(run_dir / XAI_STUDY.summary, sep="\t")
    sec = report.section(title)
    sec.paragraph(_XAI_INTRO)
    if summary.empty:
        sec.note(f"{XAI_STUDY.summary} is empty: no run finished.")
        return
    if "fa_local_mean" in summary:
        summary = summary.copy()
        summary["fa_random"] = [
            fa_random_expectation(run_dir, d, m)
            for d, m in zip(summary["dataset"], summary["model"], strict=True)
        ]
    _xai_tables(sec, run_dir, summary)
    summary = summary.assign(label=summary["dataset"].astype(str) + " " + summary["model"].astype(str))
    _guarded(sec, "explanation bars", lambda: _xai_bars(sec, summary))
    for row in summary.itertuples(index=False):
        _xai_model_plots(sec, run_dir, str(row.dataset), str(row.model))


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


# ----------------------------------------------------------------------------- score
def _long_scores(df: pd.DataFrame, where: Path) -> pd.DataFrame:
    if {"query", "score"} <= set(df.columns):
        return df
    first = df.columns[0]
    numeric = [c for c in df.columns[1:] if pd.api.types.is_numeric_dtype(df[c])]
    if not numeric:
        raise FormatError(
            "the table has neither query/score columns nor numeric score columns",
            where=where,
            fix="pass a table written by `exprlab score`",
        )
    return df.melt(id_vars=[first], value_vars=numeric, var_name="signature", value_name="score").rename(
        columns={first: "query"}
    )


def _render_score(report: HtmlReport, path: Path, title: str = "Connectivity scores") -> None:
    tables = [path] if path.is_file() else _score_tables(path)
    if not tables and path.is_dir():
        tables = [f for f in sorted(path.iterdir()) if f.name.lower().endswith(_TABLE_SUFFIXES)]
    sec = report.section(title)
    if not tables:
        sec.note("No score table (.parquet or .tsv) was found.")
        return
    for table_path in tables:
        df = _long_scores(_read_scores(table_path), table_path)
        target = "signature" if "signature" in df else df.columns[1]
        queries = df["query"].astype(str).unique()
        sec.heading(table_path.name)
        sec.paragraph(f"{len(queries)} queries × {df[target].nunique()} library entries; {len(df)} scores.")
        per_query = df.groupby("query")["score"].describe()[["count", "mean", "std", "min", "max"]]
        sec.table(per_query, caption="Score summary per query", index=True)
        shown = queries[:6]
        groups = {q: df.loc[df["query"].astype(str) == q, "score"].to_numpy() for q in shown}
        sec.image(
            plots.distributions(groups, title="Score distribution per query", xlabel="score"),
            "Distribution of scores per query"
            + (f" (first {len(shown)} of {len(queries)} queries)." if len(queries) > 6 else "."),
        )
        for q in shown:
            part = df[df["query"].astype(str) == q].sort_values("score", ascending=False)
            cols = [c for c in (target, "score", "rank", "pvalue", "fdr") if c in part]
            sec.table(
                pd.concat([part.head(5), part.tail(5)])[cols].drop_duplicates(),
                caption=f"{q}: top 5 and bottom 5",
            )


# ----------------------------------------------------------------------------- generic
def _render_generic(report: HtmlReport, run_dir: Path, title: str = "Files") -> None:
    sec = report.section(title)
    files = sorted(f for f in run_dir.rglob("*") if f.is_file()) if run_dir.is_dir() else []
    sec.paragraph(
        f"{len(files)} files; this directory is not a run exprlab recognises, so its "
        "tables and images are shown as they are."
    )
    sec.table(
        pd.DataFrame(
            {"file": [str(f.relative_to(run_dir)) for f in files], "bytes": [f.stat().st_size for f in files]}
        ),
        max_rows=100,
    )
    for f in files[:40]:
        if f.name.lower().endswith(_TABLE_SUFFIXES):
            _guarded(
                sec,
                f.name,
                partial(_head_table, sec, f),
            )
        elif f.suffix.lower() == ".png":
            _guarded(sec, f.name, partial(_png, sec, f))


# ----------------------------------------------------------------------------- match explanation
def _render_explanation(report: HtmlReport, run_dir: Path, title: str | None = None) -> None:
    """One explained match (``exprlab match explain``): score, top genes, pathways, plot."""
    summary = json.loads((run_dir / MATCH_EXPLANATION.summary).read_text(encoding="utf-8"))
    drug, disease = summary.get("drug", "?"), summary.get("disease", "?")
    sec = report.section(title or f"Why {drug} for {disease}")
    sec.paragraph(
        f"Match score of {drug} for {disease}: {summary.get('score', float('nan')):.4g} "
        f"(largest completeness gap of the attributions: "
        f"{summary.get('max_abs_delta', float('nan')):.2g}). Integrated Gradients "
        "split the score over the disease's and the drug's genes; pathways aggregate "
        "the gene attributions."
    )
    if (run_dir / MATCH_EXPLANATION.plot).is_file():
        _guarded(
            sec,
            "explanation plot",
            lambda: sec.image(
                (run_dir / MATCH_EXPLANATION.plot).read_bytes(), f"Top genes and pathways: {drug} / {disease}"
            ),
        )
    _guarded(
        sec,
        MATCH_EXPLANATION.genes,
        lambda: sec.table(
            _read_table(run_dir / MATCH_EXPLANATION.genes, nrows=20), caption="Top genes by attribution"
        ),
    )
    if (run_dir / MATCH_EXPLANATION.pathways).is_file():
        _guarded(
            sec,
            MATCH_EXPLANATION.pathways,
            lambda: sec.table(
                _read_table(run_dir / MATCH_EXPLANATION.pathways, nrows=10), caption="Top pathways"
            ),
        )


# ----------------------------------------------------------------------------- demo
def _demo_summary(sec: Section, summary: dict) -> None:
    """The headline text, cards and tables a demo stored in its manifest."""
    if summary.get("text"):
        for line in summary["text"]:
            sec.paragraph(line)
    if summary.get("cards"):
        sec.cards(summary["cards"])
    for caption, rows in (summary.get("tables") or {}).items():
        if rows:
            sec.table(pd.DataFrame(rows), caption=caption)
    if summary.get("seconds") is not None:
        sec.paragraph(f"Wall time: {summary['seconds']} s.")
    if not summary:
        sec.paragraph("A run folder holding several runs; each is rendered below.")


# kind of a part of a demo folder → how it is rendered, given the part's folder name
_PART_RENDERERS: dict[str, Callable[[HtmlReport, Path, str], None]] = {
    XAI_STUDY.kind: lambda report, sub, name: _render_xai(report, sub, f"Explanations ({name})"),
    MATCH_BENCHMARK.kind: lambda report, sub, name: _render_match(
        report, sub, f"Drug-disease retrieval ({name})"
    ),
    SCORE.kind: lambda report, sub, name: _render_score(report, sub, f"Connectivity scores ({name})"),
    MATCH_EXPLANATION.kind: lambda report, sub, name: _render_explanation(report, sub),
    SIGNATURE_SEARCH.kind: lambda report, sub, name: render_search(report, sub, read_run_manifest(sub)),
}


def _render_demo(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    summary = (manifest or {}).get("summary") or {}
    sec = report.section("Summary")
    _demo_summary(sec, summary)
    for sub in track(_subruns(run_dir), "rendering report"):
        render = _PART_RENDERERS.get(detect_kind(sub))
        if render is not None:
            _guarded(sec, sub.name, partial(render, report, sub, sub.name))


# ----------------------------------------------------------------------------- entry point
_TITLES = {
    MATCH_BENCHMARK.kind: "exprlab drug-disease retrieval benchmark",
    XAI_STUDY.kind: "exprlab explanation study",
    SCORE.kind: "exprlab connectivity scores",
    DEMO.kind: "exprlab demo",
    MATCH_EXPLANATION.kind: "exprlab match explanation",
    BIOMARKERS.kind: "exprlab biomarkers",
    SIGNATURE_SEARCH.kind: "exprlab signature search",
    "generic": "exprlab run",
}
# kind of a run → how it is rendered as the whole report
_RENDERERS: dict[str, Callable[[HtmlReport, Path, dict | None], None]] = {
    DEMO.kind: _render_demo,
    MATCH_BENCHMARK.kind: lambda report, src, manifest: _render_match(report, src),
    XAI_STUDY.kind: lambda report, src, manifest: _render_xai(report, src),
    SCORE.kind: lambda report, src, manifest: _render_score(report, src),
    MATCH_EXPLANATION.kind: lambda report, src, manifest: _render_explanation(report, src),
    BIOMARKERS.kind: render_biomarkers,
    SIGNATURE_SEARCH.kind: render_search,
}


def render_report(
    run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, name: str | None = None
) -> Path:
    """Render ``run_dir`` (a run directory, or a score table) to one self-contained HTML file.

    Parameters
    ----------
    run_dir
        A folder written by an exprlab command (see the module docstring), or a score table.
    out
        The HTML file to write (atomically); default ``<run_dir>/report.html`` (for a table:
        ``<table>.report.html`` beside it).
    name
        The run's name shown in the title (default: the folder's name).

    Returns
    -------
    Path
        Path of the written report.
    """
    src = Path(run_dir)
    if not src.exists():
        raise FileAccessError(
            "the run directory does not exist", where=src, fix="pass the --out folder of an exprlab command"
        )
    manifest = read_run_manifest(src) if src.is_dir() else None
    kind = detect_kind(src)
    if out is None:
        out = src / REPORT if src.is_dir() else src.with_name(src.name.split(".")[0] + ".report.html")
    out = Path(out)
    if not out.name.lower().endswith((".html", ".htm")):
        raise InvalidParameterError(
            f"the report file {out.name!r} does not end in .html",
            where="--out",
            fix="name the report e.g. report.html",
        )
    log.debug("rendering a %s report of %s", kind, src)
    report = HtmlReport(
        _TITLES.get(kind, f"exprlab {kind}"),
        subtitle=f"{kind} run: {name or src.name}"
        + (f" — finished {manifest['finished']} UTC" if manifest and manifest.get("finished") else ""),
    )
    render = _RENDERERS.get(kind)
    if render is not None:
        render(report, src, manifest)
    else:
        _render_generic(report, src)
    if src.is_dir():
        _about(report, src, manifest, kind)
    path = report.write(out)
    log.debug("wrote %s", path)
    return path
