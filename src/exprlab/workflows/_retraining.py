"""Keep/remove retraining curves: do a ranking's top genes carry the signal a model needs.

For each top size K, a fresh classifier is trained on only the top-K genes of a ranking (*keep*)
or on all genes but them (*remove*), and its balanced test accuracy is compared with the same
procedure on K random genes (docs/methods.md §3). A good ranking keeps accuracy high with few
genes and makes it fall fastest when its genes are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from exprlab._validation import check_choices, check_count
from exprlab.errors import InputDataError
from exprlab.models import ClassifierArch, ExpressionClassifier, torch_threads

__all__ = ["SETTINGS", "retraining_curves", "union_top_genes"]

Setting = Literal["keep", "remove"]
#: the two retraining settings: train on the top genes only, or on every other gene
SETTINGS: tuple[Setting, ...] = ("keep", "remove")


def union_top_genes(scores: np.ndarray | Mapping[str, np.ndarray], top: int) -> np.ndarray:
    """Indices of the top genes of one score vector, or the union of each class's top genes.

    Parameters
    ----------
    scores
        (p,) gene scores, or class → (p,) scores.
    top
        How many genes each score vector contributes.

    Returns
    -------
    numpy.ndarray
        Sorted unique gene indices.
    """
    vectors = list(scores.values()) if isinstance(scores, Mapping) else [np.asarray(scores)]
    picks = [np.argsort(-np.asarray(v, dtype=np.float64), kind="stable")[: int(top)] for v in vectors]
    return np.unique(np.concatenate(picks))


def _selections(
    scores: np.ndarray | Mapping[str, np.ndarray], top: int, p: int, n_random: int, base: int
) -> list[tuple[str, int, np.ndarray]]:
    """The ranking's top genes and ``n_random`` random sets of the same size.

    Random set r of top size K is drawn from its own generator, seeded by (``base``, K, r): a
    repeat does not depend on how many repeats are drawn, and two repeats differ.
    """
    chosen_top = union_top_genes(scores, top)
    selections = [("attribution", 0, chosen_top)]
    for r in range(n_random):
        rng = np.random.default_rng([base, int(top), r])
        selections.append(("random", r, np.sort(rng.choice(p, size=chosen_top.size, replace=False))))
    return selections


def _setting_rows(
    k: int,
    selection: str,
    repeat: int,
    genes: np.ndarray,
    settings: Sequence[Setting],
    p: int,
    fit_score: Callable[[np.ndarray], float],
) -> list[dict]:
    """One row per setting: the accuracy of a model on the kept genes or on all others."""
    rows = []
    for setting in settings:
        chosen = genes if setting == "keep" else np.setdiff1d(np.arange(p), genes)
        if chosen.size == 0:
            continue
        rows.append(
            {
                "k": k,
                "setting": setting,
                "selection": selection,
                "repeat": repeat,
                "n_genes": int(chosen.size),
                "balanced_accuracy": fit_score(chosen),
            }
        )
    return rows


def retraining_curves(
    train: Any,
    test: Any,
    label: str,
    scores: np.ndarray | Mapping[str, np.ndarray],
    tops: Sequence[int],
    *,
    arch: ClassifierArch = "lr",
    n_random: int = 1,
    seed: int | np.random.Generator = 0,
    settings: Sequence[Setting] = SETTINGS,
    **model_options: Any,
) -> pd.DataFrame:
    """Balanced test accuracy of models retrained on/without the top-K genes vs random genes.

    The models are small and many, so they train on one torch thread (restored afterwards).

    Parameters
    ----------
    train, test
        AnnData with the same genes; labels in ``obs[label]``.
    label
        obs column holding the class labels.
    scores
        (p,) gene scores, or class → (p,) scores (then the union of every class's top-K is
        used, as the paper's per-class curves; the random control draws as many genes).
    tops
        Values of K, each from 1 to p - 1.
    arch
        Classifier architecture (:class:`exprlab.models.ExpressionClassifier`).
    n_random
        Random gene sets drawn per K (repeats; each drawn from its own generator seeded by the
        seed, K and the repeat, so a repeat's genes do not depend on ``n_random``).
    seed
        Seed of the random gene sets and of the classifiers.
    settings
        ``"keep"`` and/or ``"remove"``.
    **model_options
        Further options of :class:`exprlab.models.ExpressionClassifier` (e.g. ``log2``).

    Returns
    -------
    pandas.DataFrame
        Columns k, setting (keep/remove), selection (attribution/random), repeat, n_genes,
        balanced_accuracy.
    """
    p = train.n_vars
    if list(train.var_names) != list(test.var_names):
        raise InputDataError(
            "train and test do not have the same genes",
            where="test",
            fix="split one AnnData into train and test",
        )
    settings = check_choices(settings, "settings", SETTINGS)
    sizes = [check_count(int(k), "tops", minimum=1, maximum=p - 1) for k in tops]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    model_seed = int(rng.integers(2**31))
    base = int(rng.integers(2**31))
    n_random = check_count(n_random, "n_random", minimum=0)

    def fit_score(genes: np.ndarray) -> float:
        cols = np.sort(genes)
        clf = ExpressionClassifier(arch, seed=model_seed, **model_options)
        clf.fit(train[:, cols], label)
        return clf.score(test[:, cols], label)

    rows = []
    with torch_threads(1):  # many small fits: one thread each is several times faster
        for k in sizes:
            for selection, repeat, genes in _selections(scores, k, p, n_random, base):
                rows += _setting_rows(k, selection, repeat, genes, settings, p, fit_score)
    return pd.DataFrame(rows)
