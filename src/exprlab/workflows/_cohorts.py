"""Real-cohort accuracy and attributions: the classifiers on labelled public expression sets.

Each *task* names a dataset of :mod:`exprlab.datasets`, a label column and a split:

===============  ========================================  ============================
task             data                                      classes, split
===============  ========================================  ============================
``all-bt``       ALL (Chiaretti 2004), ``BT`` lineage      B vs T (B1..B4 → B), 60/40
``all-molbio``   ALL, ``mol.biol`` molecular subtype       subtypes with ≥ 5 samples, 60/40
``golub``        Golub-style leukaemia                     ALL vs AML, 60/40
``tcga-breast``  TCGA breast mRNA                          Basal / Her2 / LumA, own split
``srbct``        SRBCT (Khan 2001)                         EWS / BL / NB / RMS, 60/40
===============  ========================================  ============================

The 60/40 splits are stratified and seeded. For every model the workflow reports the balanced
test accuracy and the genes with the largest mean attribution: Integrated Gradients of the
softmax probability of the true class against the zero (training-mean) baseline, over the
correctly classified test examples, each example's attributions L2-normalised (docs/methods.md §3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from exprlab import datasets
from exprlab._defaults import N_STEPS
from exprlab._validation import check_choice
from exprlab.errors import InputDataError
from exprlab.explain import integrated_gradients
from exprlab.models import ClassifierArch, ExpressionClassifier, labels_of, seed_int

__all__ = [
    "TASKS",
    "CohortTask",
    "stratified_split",
    "top_attributed_genes",
    "evaluate_task",
    "evaluate_cohorts",
    "task_data",
]


@dataclass(frozen=True)
class CohortTask:
    """One classification task on a public cohort.

    Parameters
    ----------
    name
        The task's name (``all-bt``, ``golub`` ...).
    description
        One line saying what is classified.
    load
        Returns (train AnnData, test AnnData or None, label column); ``None`` asks for a
        stratified split of the train part.
    min_class_size
        Classes with fewer samples are dropped before splitting.
    """

    name: str
    description: str
    load: Callable[[], tuple]  # -> (train AnnData, test AnnData or None, label column)
    min_class_size: int = 2


def _bt(adata):
    adata = adata.copy()
    adata.obs["lineage"] = adata.obs["BT"].astype(str).str[0]
    return adata, None, "lineage"


def _all_bt():
    return _bt(datasets.all_chiaretti())


def _all_molbio():
    return datasets.all_chiaretti(), None, "mol.biol"


def _golub():
    return datasets.golub_leukemia(), None, "label"


def _tcga():
    return datasets.tcga_breast(split="train"), datasets.tcga_breast(split="test"), "subtype"


def _srbct():
    return datasets.srbct(), None, "label"


TASKS: dict[str, CohortTask] = {
    t.name: t
    for t in (
        CohortTask("all-bt", "ALL (Chiaretti): B vs T lineage", _all_bt),
        CohortTask(
            "all-molbio",
            "ALL (Chiaretti): molecular subtype (classes >= 5 samples)",
            _all_molbio,
            min_class_size=5,
        ),
        CohortTask("golub", "Golub leukaemia: ALL vs AML", _golub),
        CohortTask("tcga-breast", "TCGA breast: Basal / Her2 / LumA (own train/test split)", _tcga),
        CohortTask("srbct", "SRBCT (Khan): EWS / BL / NB / RMS", _srbct),
    )
}


def stratified_split(
    adata: Any, label: str, *, test_size: float = 0.4, seed: int | np.random.Generator = 0
) -> tuple[Any, Any]:
    """A stratified, seeded train/test split of ``adata`` by ``obs[label]``.

    Parameters
    ----------
    adata
        AnnData with the class labels in ``obs[label]``.
    label
        obs column holding the class labels.
    test_size
        Fraction of the samples held out.
    seed
        Seed of the split.

    Returns
    -------
    tuple
        (train, test) AnnData copies, samples in their original order.
    """
    labels = labels_of(adata, label, where=f"obs[{label!r}]").astype(str)
    train, test = train_test_split(
        np.arange(adata.n_obs), test_size=test_size, stratify=labels, random_state=seed_int(seed)
    )
    return adata[np.sort(train)].copy(), adata[np.sort(test)].copy()


def _drop_small_classes(adata, label_key: str, minimum: int):
    labels = labels_of(adata, label_key, where=f"obs[{label_key!r}]").astype(str)
    counts = pd.Series(labels).value_counts()
    keep = np.isin(labels, counts.index[counts >= minimum])
    return adata[keep].copy()


def task_data(task: str | CohortTask) -> tuple[Any, str]:
    """All labelled samples of a task in one AnnData (own train and test parts joined).

    Classes below the task's minimum size are dropped, as :func:`evaluate_task` does; this is
    the pool from which repeated held-out splits are drawn (docs/methods.md §3).

    Parameters
    ----------
    task
        A task name of :data:`TASKS` or a :class:`CohortTask`.

    Returns
    -------
    tuple
        (AnnData, label column).
    """
    spec = TASKS[check_choice(task, "cohort task", TASKS)] if isinstance(task, str) else task
    train, test, label_key = spec.load()
    if test is not None:
        train = ad.concat([train, test], merge="same")
    return _drop_small_classes(train, label_key, max(spec.min_class_size, 2)), label_key


def top_attributed_genes(
    attributions: np.ndarray,
    genes: Sequence[str] | np.ndarray,
    top: int = 10,
    descriptions: Sequence[str] | np.ndarray | None = None,
) -> list[str]:
    """Genes with the largest mean L2-normalised absolute attribution (ties broken by order).

    Parameters
    ----------
    attributions
        (examples, genes) attributions.
    genes
        Gene names of the columns.
    top
        How many genes to list.
    descriptions
        Gene descriptions; when given, the first phrase of each is shown after its gene.

    Returns
    -------
    list of str
        Gene names, most important first.
    """
    norms = np.linalg.norm(attributions, axis=1, keepdims=True)
    normalised = np.abs(attributions) / np.where(norms > 0, norms, 1.0)
    score = normalised.mean(axis=0)
    order = np.argsort(-score, kind="stable")[:top]
    names = [str(genes[i]) for i in order]
    if descriptions is not None:
        names = [
            f"{n} ({str(descriptions[i]).split(',')[0].strip()})"
            if str(descriptions[i]) not in ("", "nan", n)
            else n
            for n, i in zip(names, order)
        ]
    return names


def evaluate_task(
    task: str | CohortTask,
    *,
    models: Sequence[ClassifierArch] = ("lr", "mlp"),
    seed: int = 0,
    test_size: float = 0.4,
    top: int = 10,
    n_steps: int = N_STEPS,
    **classifier_options: Any,
) -> pd.DataFrame:
    """Train each model on one task; balanced test accuracy and top attributed genes.

    Parameters
    ----------
    task
        A task name of :data:`TASKS` or a :class:`CohortTask`.
    models
        Classifier architectures.
    seed
        Seed of the split and of the training.
    test_size
        Fraction held out when the task has no own test set.
    top
        Top attributed genes listed per model.
    n_steps
        Integrated Gradients quadrature steps.
    **classifier_options
        Further options of :class:`exprlab.models.ExpressionClassifier`.

    Returns
    -------
    pandas.DataFrame
        One row per model: task, model, n_train, n_test, n_classes, balanced_accuracy,
        n_explained (correct test examples), top_genes (gene ids, most important first).
    """
    spec = TASKS[check_choice(task, "cohort task", TASKS)] if isinstance(task, str) else task
    train, test, label_key = spec.load()
    if spec.min_class_size > 2:
        train = _drop_small_classes(train, label_key, spec.min_class_size)
    if test is None:
        train, test = stratified_split(train, label_key, test_size=test_size, seed=seed)
    descriptions = None
    for column in ("description", "Description"):
        if column in train.var.columns:
            descriptions = train.var[column].astype(str).to_numpy()
    rows = []
    for model in models:
        clf = ExpressionClassifier(model, seed=seed, **classifier_options).fit(train, label_key)
        truth = labels_of(test, label_key, where="test labels")
        predicted = clf.predict(test)
        correct = np.flatnonzero(predicted.astype(str) == truth.astype(str))
        if correct.size == 0:
            raise InputDataError(
                f"no test example of {spec.name} is classified correctly by {model}",
                where=spec.name,
                fix="check the data and labels",
            )
        attributions = integrated_gradients(
            clf, test[correct], baselines="zero", target=list(truth[correct]), n_steps=n_steps
        )
        rows.append(
            {
                "task": spec.name,
                "model": model,
                "n_train": train.n_obs,
                "n_test": test.n_obs,
                "n_classes": len(clf.classes_),
                "balanced_accuracy": clf.score(test, label_key),
                "n_explained": int(correct.size),
                "top_genes": top_attributed_genes(attributions, clf.genes_, top, descriptions),
            }
        )
    return pd.DataFrame(rows)


def evaluate_cohorts(tasks: Sequence[str] | None = None, **options: Any) -> pd.DataFrame:
    """:func:`evaluate_task` over several tasks, in one table.

    Parameters
    ----------
    tasks
        Task names (default: every task of :data:`TASKS`).
    **options
        Options of :func:`evaluate_task`.

    Returns
    -------
    pandas.DataFrame
        The tasks' tables, one after the other.
    """
    names = list(TASKS) if tasks is None else list(tasks)
    return pd.concat([evaluate_task(name, **options) for name in names], ignore_index=True)
