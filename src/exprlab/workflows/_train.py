"""Train a phenotype classifier on a user's cohort, with held-out evaluation and design checks.

What ``exprlab train`` runs (docs/methods.md §3, "Held-out evaluation" and "Batch and
confounding"):

1. check the design: at least two classes, two samples per class; groups with a single sample
   are reported; with a batch column, the label × batch association and how well expression
   predicts the batch (a confounded design gets a loud warning; a batch correction on a design
   where every batch holds one class is refused, since it would remove the class signal);
2. evaluate: a seeded stratified held-out split (groups kept whole), or K-fold cross-validation,
   or nothing (training on all samples, with a warning). Any batch correction is fitted inside
   each training part only;
3. save the model (trained on the training part, or on all samples after cross-validation) and
   beside it the held-out predictions (``heldout.tsv``), the fold table, the confounding
   record and ``run.json`` (run kind ``classifier``).

:func:`explain_model` attributes the samples the saved model did not see by default.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_dir, atomic_path
from exprlab._runs import CLASSIFIER, EXPLANATION
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.errors import InputDataError
from exprlab.evaluate import (
    batch_predictability,
    cv_indices,
    holdout_indices,
    label_batch_association,
)
from exprlab.explain import attributions_anndata
from exprlab.io import write_h5ad
from exprlab.models import (
    ExpressionClassifier,
    check_class_sizes,
    check_obs_column,
    dense_matrix,
    labels_of,
    seed_int,
)
from exprlab.report import now_utc, write_run_manifest

__all__ = ["TrainingRun", "SAMPLE_SETS", "train_model", "explain_model", "select_samples"]

_log = logging.getLogger(__name__)
SampleSet = Literal["auto", "heldout", "train", "all"]
SAMPLE_SETS: tuple[SampleSet, ...] = ("auto", "heldout", "train", "all")


@dataclass
class TrainingRun:
    """What :func:`train_model` did: the model, its evaluation and the design checks.

    Parameters
    ----------
    model
        The saved classifier.
    evaluation
        ``holdout``, ``cv`` or ``none``.
    metrics
        Held-out numbers: ``balanced_accuracy`` (holdout), or ``balanced_accuracy_mean`` and
        ``balanced_accuracy_sd`` (cv); ``training_balanced_accuracy`` for ``none``.
    heldout
        One row per held-out prediction (sample, label, predicted, fold, ``p_<class>``).
    confounding
        The batch checks (empty without a batch column).
    warnings
        The warnings raised, as printed.
    """

    model: ExpressionClassifier
    evaluation: str
    metrics: dict
    heldout: pd.DataFrame
    confounding: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _warn(messages: list[str], text: str) -> None:
    messages.append(text)
    _log.warning(text)


def _obs_text(adata, column: str, role: str) -> np.ndarray:
    """An obs column as text, refusing a missing column (listing the others) or empty values."""
    check_obs_column(adata, column, role, where="data")
    values = adata.obs[column]
    if values.isna().any():
        raise InputDataError(
            f"{int(values.isna().sum())} samples have no {role} in {column!r}",
            where=f"obs[{column!r}]",
            fix=f"fill in the {role} of every sample or drop those samples",
        )
    return values.astype(str).to_numpy()


def _check_groups(groups: np.ndarray, column: str, messages: list[str]) -> None:
    sizes = pd.Series(groups).value_counts()
    single = int((sizes == 1).sum())
    if single:
        _warn(
            messages,
            f"{single} of {sizes.size} groups in {column!r} have a single sample; a group column "
            "should name the subject whose repeated samples must stay together (check the column)",
        )


def check_confounding(
    adata,
    labels: np.ndarray,
    batch: str,
    *,
    batch_correct: str,
    layer: str | None,
    seed: int,
    messages: list[str],
) -> dict:
    """Label × batch association and batch predictability; warn or refuse as the design needs."""
    batches = _obs_text(adata, batch, "batch")
    assoc = label_batch_association(labels, batches)
    values = dense_matrix(adata, layer=layer, where="data")
    predict = batch_predictability(values, batches, seed=seed)
    record = {
        "batch": batch,
        "table": {str(k): {str(b): int(n) for b, n in row.items()} for k, row in assoc["table"].iterrows()},
        **{
            key: assoc[key]
            for key in ("chi2", "p_value", "dof", "cramers_v", "perfectly_confounded", "confounded")
        },
        "batch_balanced_accuracy": predict["balanced_accuracy"],
        "batch_chance": predict["chance"],
        "batch_folds": predict["n_folds"],
    }
    if assoc["perfectly_confounded"]:
        text = (
            f"CONFOUNDED DESIGN: every batch of {batch!r} holds a single class of the label, so a "
            "classifier cannot tell the biology from the batch; its accuracy and its genes may be "
            "batch effects"
        )
        if batch_correct != "none":
            raise InputDataError(
                text + "; a batch correction would remove the class signal with the batch",
                where=f"obs[{batch!r}]",
                fix="drop --batch-correct; only a design with classes spread over batches can be corrected",
            )
        _warn(messages, text)
    elif assoc["confounded"]:
        _warn(
            messages,
            f"CONFOUNDED DESIGN: label and batch {batch!r} are strongly associated (Cramér's V "
            f"{assoc['cramers_v']:.2f} > 0.5); accuracy and genes may partly reflect the batch",
        )
    return record


def _prediction_rows(clf: ExpressionClassifier, part, label: str, fold: int) -> pd.DataFrame:
    prob = clf.predict_proba(part)
    table = pd.DataFrame(
        {
            "sample": np.asarray(part.obs_names).astype(str),
            "label": labels_of(part, label).astype(str),
            "predicted": clf.classes_[prob.argmax(axis=1)].astype(str),
            "fold": fold,
        }
    )
    for i, c in enumerate(clf.classes_):
        table[f"p_{c}"] = prob[:, i]
    return table


def _balanced_accuracy(table: pd.DataFrame) -> float:
    from sklearn.metrics import balanced_accuracy_score  # deferred: scikit-learn is heavy

    return float(balanced_accuracy_score(table["label"], table["predicted"]))


def _evaluate(adata, label, labels, groups, *, test_fraction, cv, seed, options, messages):
    """Fit as the evaluation says; returns (saved model, evaluation, metrics, held-out table, folds)."""
    if cv:
        folds, rows = [], []
        for k, (tr, te) in enumerate(cv_indices(labels, n_folds=cv, groups=groups, seed=seed)):
            clf = ExpressionClassifier(seed=seed, **options).fit(adata[tr], label)
            table = _prediction_rows(clf, adata[te], label, k)
            rows.append(table)
            folds.append(
                {
                    "fold": k,
                    "n_train": tr.size,
                    "n_test": te.size,
                    "balanced_accuracy": _balanced_accuracy(table),
                }
            )
        scores = np.array([f["balanced_accuracy"] for f in folds])
        metrics = {
            "balanced_accuracy_mean": float(scores.mean()),
            "balanced_accuracy_sd": float(scores.std(ddof=1)) if scores.size > 1 else 0.0,
            "n_folds": int(cv),
        }
        final = ExpressionClassifier(seed=seed, **options).fit(adata, label)
        return final, "cv", metrics, pd.concat(rows, ignore_index=True), pd.DataFrame(folds)
    if test_fraction > 0:
        tr, te = holdout_indices(labels, test_fraction=test_fraction, groups=groups, seed=seed)
        clf = ExpressionClassifier(seed=seed, **options).fit(adata[tr], label)
        table = _prediction_rows(clf, adata[te], label, 0)
        metrics = {
            "balanced_accuracy": _balanced_accuracy(table),
            "n_train": int(tr.size),
            "n_test": int(te.size),
        }
        return clf, "holdout", metrics, table, None
    _warn(
        messages,
        "no held-out samples (--test-fraction 0, no --cv): the model is trained on every sample and "
        "its accuracy below is TRAINING accuracy, not an estimate of performance on new samples",
    )
    clf = ExpressionClassifier(seed=seed, **options).fit(adata, label)
    train_table = _prediction_rows(clf, adata, label, -1)
    return (
        clf,
        "none",
        {"training_balanced_accuracy": _balanced_accuracy(train_table)},
        train_table.iloc[:0],
        None,
    )


def _check_design(adata, label, test_fraction, cv, group, batch_correct, messages):
    """Options and design checks of :func:`train_model`; returns (labels, groups or None)."""
    check_fraction(test_fraction, "test_fraction", closed="left")
    if cv is not None:
        check_count(cv, "cv", minimum=2)
    check_choice(batch_correct, "batch_correct", ("none", "combat"))
    labels = labels_of(adata, label, where=f"obs[{label!r}]").astype(str)
    needed = 2 if not cv else max(2, int(cv))
    check_class_sizes(labels, label, minimum=needed, why=" (held-out evaluation needs them on both sides)")
    groups = _obs_text(adata, group, "group") if group else None
    if groups is not None:
        _check_groups(groups, str(group), messages)
    return labels, groups


def _batch_checks(adata, labels, batch, batch_correct, layer, seed, messages) -> dict:
    """The confounding record of ``--batch`` (empty without it); a correction needs a batch."""
    if batch is not None:
        return check_confounding(
            adata,
            labels,
            batch,
            batch_correct=batch_correct,
            layer=layer,
            seed=seed_int(seed),
            messages=messages,
        )
    if batch_correct != "none":
        raise InputDataError(
            "a batch correction needs the batch of each sample",
            where="batch_correct",
            fix="name the batch column (--batch COL)",
        )
    return {}


def train_model(
    adata,
    label: str,
    out: str | Path,
    *,
    arch: str = "lr",
    seed: int = 0,
    test_fraction: float = 0.25,
    cv: int | None = None,
    group: str | None = None,
    batch: str | None = None,
    batch_correct: str = "none",
    data_provenance: Sequence[Mapping] | None = None,
    **classifier_options: Any,
) -> TrainingRun:
    """Check the design, evaluate on held-out samples, and save the model folder ``out``.

    Parameters
    ----------
    adata
        Expression (obs = samples with the label, group and batch columns; var = genes).
    label
        obs column holding the class labels.
    out
        The model folder to write (the caller owns the output: :func:`exprlab._outputs.claim_output`).
    arch
        Classifier architecture.
    seed
        Seed of the split, the folds and the training.
    test_fraction
        Stratified fraction held out (0: train on all samples, with a warning).
    cv
        K of K-fold cross-validation instead of one held-out split (the saved model is then
        trained on all samples).
    group
        obs column of the subject of each sample: a subject's samples stay on one side.
    batch
        obs column of the batch of each sample: confounding is reported.
    batch_correct
        ``none`` or ``combat`` (fitted on training samples only; needs ``batch``).
    data_provenance
        Input file entries for ``run.json``.
    **classifier_options
        Further options of :class:`exprlab.models.ExpressionClassifier` (``training``,
        ``penalty``, ``class_weight``, ``epochs``, ``log2`` ...).

    Returns
    -------
    TrainingRun
        The model, evaluation, held-out predictions, confounding record and warnings.
    """
    started = now_utc()
    messages: list[str] = []
    labels, groups = _check_design(adata, label, test_fraction, cv, group, batch_correct, messages)
    options = dict(arch=arch, batch=batch if batch_correct != "none" else None, batch_correct=batch_correct)
    options.update(classifier_options)
    confounding = _batch_checks(adata, labels, batch, batch_correct, options.get("layer"), seed, messages)
    split = {"test_fraction": test_fraction, "cv": cv, "seed": seed}
    clf, evaluation, metrics, heldout, folds = _evaluate(
        adata, label, labels, groups, **split, options=options, messages=messages
    )
    run = TrainingRun(clf, evaluation, metrics, heldout, confounding, messages)
    chosen = {"training": clf.training, "penalty": clf.penalty, "class_weight": clf.class_weight}
    parameters = {"label": label, "arch": arch, **split, "group": group, "batch": batch}
    parameters.update({"batch_correct": batch_correct, **classifier_options, **chosen})
    _write_run(run, Path(out), folds, parameters, data_provenance, started, adata)
    return run


def _write_run(run: TrainingRun, out: Path, folds, parameters: dict, provenance, started: str, adata) -> None:
    """Save the model, then its held-out table, folds, confounding record and run.json (last)."""
    run.model.save(out)
    if run.evaluation != "none":
        with atomic_path(out / CLASSIFIER.heldout) as tmp:
            run.heldout.to_csv(tmp, sep="\t", index=False)
    if folds is not None:
        with atomic_path(out / CLASSIFIER.folds) as tmp:
            folds.to_csv(tmp, sep="\t", index=False)
    if run.confounding:
        with atomic_path(out / CLASSIFIER.confounding) as tmp:
            tmp.write_text(json.dumps(run.confounding, indent=2) + "\n")
    summary = {
        "evaluation": run.evaluation,
        **run.metrics,
        "n_samples": int(adata.n_obs),
        "n_genes": int(adata.n_vars),
        "classes": [str(c) for c in run.model.classes_],
        "tuning": run.model.tuning_,
        "heldout_unseen_by_model": run.evaluation == "holdout",
        "warnings": run.warnings,
    }
    if run.confounding:
        summary["confounding"] = {k: v for k, v in run.confounding.items() if k != "table"}
    write_run_manifest(out, CLASSIFIER.kind, parameters, provenance, started=started, summary=summary)


def _model_record(model_dir: Path) -> dict:
    path = Path(model_dir) / "run.json"
    try:
        return json.loads(path.read_text()).get("summary", {})
    except (OSError, ValueError, AttributeError):
        return {}


def select_samples(adata, model_dir: str | Path, samples: str) -> tuple[Any, str, str]:
    """The samples of ``adata`` to explain: the model's held-out ones, its training ones, or all.

    Parameters
    ----------
    adata
        The data given to explain.
    model_dir
        The model folder (its ``heldout.tsv`` and ``run.json`` say which samples it did not see).
    samples
        ``heldout``, ``train``, ``all``, or ``auto`` (``heldout`` when the folder records held-out
        samples, else ``all`` with a warning).

    Returns
    -------
    tuple
        (the selected AnnData, the set explained (``heldout``, ``train``, ``all``), a sentence
        saying which samples they are).
    """
    check_choice(samples, "samples", SAMPLE_SETS)
    record = _model_record(Path(model_dir))
    heldout_file = Path(model_dir) / CLASSIFIER.heldout
    recorded = bool(record.get("heldout_unseen_by_model")) and heldout_file.is_file()
    if samples == "auto":
        samples = "heldout" if recorded else "all"
        if not recorded:
            _log.warning(
                "the model folder records no held-out samples: explaining all samples of the data, "
                "which the model may have been trained on"
            )
    if samples == "all":
        return adata, "all", f"all {adata.n_obs} samples of the data"
    if not recorded:
        raise InputDataError(
            "the model folder records no samples held out from the saved model (trained on all "
            "samples, or by cross-validation, or by an older exprlab)",
            where=model_dir,
            fix="pass --samples all, or retrain with a held-out split (exprlab train --test-fraction 0.25)",
        )
    ids = set(pd.read_csv(heldout_file, sep="\t", dtype={"sample": str})["sample"])
    names = np.asarray(adata.obs_names).astype(str)
    chosen = np.isin(names, list(ids)) if samples == "heldout" else ~np.isin(names, list(ids))
    if not chosen.any():
        raise InputDataError(
            f"none of the data's samples is among the model's {samples} samples",
            where="data",
            fix="pass the data the model was trained from, or --samples all",
        )
    what = "held-out (not seen by the model)" if samples == "heldout" else "training"
    return adata[chosen].copy(), samples, f"{int(chosen.sum())} {what} samples of {adata.n_obs}"


def explain_model(
    model_dir: str | Path,
    adata,
    out: str | Path,
    *,
    samples: str = "auto",
    data_provenance: Sequence[Mapping] | None = None,
    **options: Any,
):
    """Attribute a saved model's held-out (default), training or all samples; write ``out``.

    Parameters
    ----------
    model_dir
        Folder written by :func:`train_model` (or ``exprlab train``).
    adata
        Data holding the samples (genes matched by name).
    out
        An ``.h5ad`` file, or a run folder (a name without extension: ``attributions.h5ad`` and
        ``run.json``).
    samples
        ``auto`` (default: ``heldout`` when recorded, else ``all``), ``heldout``, ``train`` or ``all``.
    data_provenance
        Input file entries for ``run.json``.
    **options
        Options of :func:`exprlab.explain.attributions_anndata` (baselines, target, n_steps ...).

    Returns
    -------
    tuple
        (attributions AnnData, the sentence saying which samples were explained).
    """
    started = now_utc()
    clf = ExpressionClassifier.load(model_dir)
    chosen, resolved, which = select_samples(adata, model_dir, samples)
    result = attributions_anndata(clf, chosen, **options)
    result.uns["explained_samples"] = resolved
    result.uns["explained_samples_note"] = which
    target = Path(out)
    delta = np.abs(result.obs["ig_delta"].to_numpy())
    parameters = {
        "model": str(model_dir),
        "samples": resolved,  # `auto` as resolved
        **{k: v if isinstance(v, str | int | float | bool) else str(v) for k, v in options.items()},
    }
    summary = {
        "samples": resolved,
        "samples_note": which,
        "n_samples": int(result.n_obs),
        "n_genes": int(result.n_vars),
        "delta_max": float(delta.max()),
        "delta_median": float(np.median(delta)),
    }
    if target.suffix:  # a file name (write_h5ad checks its extension): the manifest goes beside it
        write_h5ad(result, target)
        write_run_manifest(
            target, EXPLANATION.kind, parameters, data_provenance, started=started, summary=summary
        )
        return result, which
    with atomic_dir(target) as tmp:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # a normal folder, not the private temporary one
        write_h5ad(result, tmp / EXPLANATION.attributions)
        write_run_manifest(
            tmp, EXPLANATION.kind, parameters, data_provenance, started=started, summary=summary
        )
    return result, which
