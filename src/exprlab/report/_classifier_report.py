"""Reports of classifier runs: ``exprlab train`` (a model folder) and ``exprlab explain``.

A model folder shows how the model was judged (held-out split, folds or nothing), its held-out
balanced accuracy with the confusion table of the held-out samples, the design checks of
``--batch`` (label × batch association, batch predictability, with the warnings in words), and
the tuning the model chose. An explanation run shows which samples were explained (held-out or
training) and the genes with the largest mean absolute attribution.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._runs import CLASSIFIER, EXPLANATION
from exprlab.explain import natural_order
from exprlab.io import read_h5ad
from exprlab.report._format import fmt, label
from exprlab.report._html import HtmlReport, Section
from exprlab.report._registry import guarded, register_renderer, try_read

_TOP_GENES = 20


def tuning_text(tuning: dict) -> str:
    """The tuning a model folder records, in words: ``inverse penalty C 0.00599, ...``.

    Parameters
    ----------
    tuning
        The ``tuning`` entry of a classifier run's summary.

    Returns
    -------
    str
        One phrase per entry (names from :data:`exprlab.report._format.LABELS`), numbers
        through :func:`exprlab.report._format.fmt`, yes/no for flags; ``none`` for an empty
        record.
    """
    return ", ".join(f"{label(k)} {fmt(v)}" for k, v in tuning.items()) or "none"


def _summary(manifest: dict | None) -> dict:
    return dict((manifest or {}).get("summary") or {})


def _performance(sec: Section, run_dir: Path, summary: dict) -> None:
    evaluation = summary.get("evaluation", "?")
    if evaluation == "none":
        sec.finding(
            "This model was trained on every sample: no held-out estimate exists, and any accuracy "
            "computed on these samples is a training accuracy. Retrain with a test split "
            "(the default) or --cv K."
        )
        return
    if "balanced_accuracy" in summary:
        counts = (
            f" on {summary['n_test']} held-out samples (trained on {summary['n_train']})"
            if "n_test" in summary and "n_train" in summary
            else ""
        )
        sec.paragraph(
            f"Held-out balanced accuracy {fmt(summary['balanced_accuracy'])}{counts}; "
            "the model never saw these samples."
        )
    elif "balanced_accuracy_mean" in summary:
        sec.paragraph(
            f"Cross-validated balanced accuracy {fmt(summary['balanced_accuracy_mean'])} ± "
            f"{fmt(summary.get('balanced_accuracy_sd'))} over the folds; the saved model is then fit "
            "on every sample."
        )
    heldout = try_read(
        sec, run_dir / CLASSIFIER.heldout, "the confusion table", required=("label", "predicted")
    )
    if heldout is not None and len(heldout):
        classes = natural_order(pd.concat([heldout["label"], heldout["predicted"]]).astype(str))
        table = pd.crosstab(heldout["label"].astype(str), heldout["predicted"].astype(str))
        table = table.reindex(index=classes, columns=classes, fill_value=0)
        table.index.name = "true \\ predicted"
        sec.table(table, caption="Held-out samples: true class (rows) by predicted class", index=True)
        recall = (
            heldout.assign(hit=heldout["label"].astype(str) == heldout["predicted"].astype(str))
            .groupby(heldout["label"].astype(str))["hit"]
            .agg(["size", "mean"])
            .reindex(classes)
            .rename(columns={"size": "held-out samples", "mean": "recall"})
        )
        sec.table(recall, caption="Recall per class (held-out)", index=True)
    folds = run_dir / CLASSIFIER.folds
    if folds.is_file():
        frame = try_read(sec, folds, "the fold table")
        if frame is not None:
            sec.table(frame, caption="Cross-validation folds", source=folds)


def _design(sec: Section, run_dir: Path, summary: dict) -> None:
    record = summary.get("confounding") or {}
    path = run_dir / CLASSIFIER.confounding
    if path.is_file():
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            sec.note(f"{path.name} could not be read ({err}); the design checks are not shown.")
    if not record:
        sec.paragraph("No batch column was given (--batch): confounding was not checked.")
        return
    for warning in summary.get("warnings", []):
        sec.finding(str(warning))
    items = {
        k: fmt(v) if isinstance(v, float) else v
        for k, v in record.items()
        if k != "table" and not isinstance(v, dict | list)
    }
    sec.key_values(items)
    if isinstance(record.get("table"), dict):
        table = pd.DataFrame(record["table"]).T.fillna(0).astype(int)
        table.index.name = "label \\ batch"
        sec.table(table, caption="Samples per label and batch", index=True)


def render_classifier(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """The report of a model folder written by ``exprlab train``.

    Parameters
    ----------
    report
        The report being built.
    run_dir
        The model folder.
    manifest
        Its ``run.json`` (``None`` when absent or damaged).

    Returns
    -------
    None
    """
    summary = _summary(manifest)
    run_dir = Path(run_dir)
    sec = report.section("Held-out performance")
    if not summary:
        sec.note("run.json is missing or has no summary: the evaluation is not known.")
    guarded(sec, CLASSIFIER.heldout, lambda: _performance(sec, run_dir, summary))
    design = report.section("Design checks")
    guarded(design, CLASSIFIER.confounding, lambda: _design(design, run_dir, summary))
    model = report.section("Model")
    model.key_values(
        {
            "samples × genes": f"{summary.get('n_samples', '?')} × {summary.get('n_genes', '?')}",
            "classes": ", ".join(natural_order(summary.get("classes", []))) or "?",
            "tuning": tuning_text(summary.get("tuning") or {}),
        }
    )


def attributions_file(path: Path) -> Path:
    """The attributions of an ``exprlab explain`` run: the ``.h5ad`` file itself, or the one in its folder.

    Parameters
    ----------
    path
        The ``--out`` of ``exprlab explain``: an ``.h5ad`` file or a run folder.

    Returns
    -------
    Path
        The attribution file.
    """
    return path if path.is_file() else path / EXPLANATION.attributions


def sample_top_k(n_genes: int) -> int:
    """How many of a sample's genes count as its top: a tenth of the genes, at most 100.

    A fixed 100 would be half the genes of a 200-gene panel, where nearly every gene would be
    "in the top" of nearly every sample.

    Parameters
    ----------
    n_genes
        Genes of the attribution matrix.

    Returns
    -------
    int
        ``min(100, max(1, n_genes // 10))``.
    """
    return min(100, max(1, n_genes // 10))


def _top_genes(sec: Section, path: Path) -> None:
    adata = read_h5ad(path)
    values = np.abs(np.asarray(adata.X, dtype=np.float64))
    order = np.argsort(-values.mean(axis=0), kind="stable")[:_TOP_GENES]
    k = sample_top_k(values.shape[1])
    table = pd.DataFrame(
        {
            "gene": adata.var_names[order],
            "mean |attribution|": values.mean(axis=0)[order],
            f"samples with the gene in their top {k}": (
                np.argsort(-values, axis=1, kind="stable")[:, :k] == order[:, None, None]
            )
            .any(axis=2)
            .sum(axis=1),
        }
    )
    sec.table(table, caption=f"The {_TOP_GENES} genes with the largest mean absolute attribution")
    sec.paragraph(
        "A mean of absolute attributions over few samples is easily driven by one sample and changes "
        "from one training set to the next; `exprlab biomarkers` gives each gene its direction, "
        "selection frequency and rank interval over retrained models (docs/methods.md §3.6)."
    )


def render_attributions(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """The report of an attribution run written by ``exprlab explain --out FOLDER`` or ``--out FILE.h5ad``.

    Parameters
    ----------
    report
        The report being built.
    run_dir
        The run folder, or the attribution file (its manifest beside it).
    manifest
        Its ``run.json`` (``None`` when absent or damaged).

    Returns
    -------
    None
    """
    summary = _summary(manifest)
    sec = report.section("Attributions")
    note = summary.get("samples_note")
    if note:
        sec.paragraph(str(note))
    if summary.get("samples") not in (None, "heldout"):
        sec.finding(
            "These attributions include samples the model was trained on: a gene list from them "
            "describes the fit, not what generalises. Explain held-out samples (--samples heldout)."
        )
    if "delta_max" in summary:
        sec.paragraph(
            f"Completeness gap |sum of attributions − (f(x) − f(baseline))|: median "
            f"{fmt(summary['delta_median'])}, max {fmt(summary['delta_max'])}."
        )
    guarded(sec, EXPLANATION.attributions, lambda: _top_genes(sec, attributions_file(Path(run_dir))))


register_renderer(CLASSIFIER.kind, render_classifier, title="exprlab classifier")
register_renderer(EXPLANATION.kind, render_attributions, title="exprlab attributions")
