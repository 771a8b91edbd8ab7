"""Keep/remove retraining curves: does a ranking's top-K carry the signal a model needs?

For each K, a fresh classifier is trained on only the top-K genes of a ranking (*keep*) or on
all genes but them (*remove*), and its balanced test accuracy is compared with the same
procedure on K random genes (docs/methods.md §3). A good ranking keeps accuracy high with few genes
and makes it fall fastest when its genes are removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from exprlab.errors import InputDataError, InvalidParameterError

__all__ = ["retraining_curves", "union_top_genes"]


def union_top_genes(scores: np.ndarray | Mapping[str, np.ndarray], k: int) -> np.ndarray:
    """Indices of the top-k genes of one score vector, or the union of each class's top-k."""
    vectors = list(scores.values()) if isinstance(scores, Mapping) else [np.asarray(scores)]
    picks = [np.argsort(-np.asarray(v, dtype=np.float64), kind="stable")[: int(k)] for v in vectors]
    return np.unique(np.concatenate(picks))


def retraining_curves(
    train,
    test,
    label_key: str,
    scores: np.ndarray | Mapping[str, np.ndarray],
    ks: Sequence[int],
    *,
    model: str = "lr",
    n_random: int = 1,
    seed=0,
    settings: Sequence[str] = ("keep", "remove"),
    **model_options,
) -> pd.DataFrame:
    """Balanced test accuracy of models retrained on/without the top-K genes vs random genes.

    Parameters
    ----------
    train, test
        AnnData with the same genes; labels in ``obs[label_key]``.
    scores
        (p,) gene scores, or class → (p,) scores (then the union of every class's top-K is
        used, as the paper's per-class curves; the random control draws as many genes).
    ks
        Values of K.
    model, model_options
        Passed to :class:`exprlab.models.ExpressionClassifier`.
    n_random
        Random gene sets drawn per K.

    Returns
    -------
    DataFrame with columns k, setting (keep/remove), selection (attribution/random), repeat,
    n_genes, balanced_accuracy.
    """
    from exprlab.models import ExpressionClassifier

    p = train.n_vars
    if list(train.var_names) != list(test.var_names):
        raise InputDataError(
            "train and test do not have the same genes",
            where="test",
            fix="split one AnnData into train and test",
        )
    bad = [s for s in settings if s not in ("keep", "remove")]
    if bad:
        raise InvalidParameterError(
            f"unknown settings {bad}", where="settings", fix="use 'keep' and/or 'remove'"
        )
    ks = [int(k) for k in ks]
    if any(not 1 <= k < p for k in ks):
        raise InvalidParameterError(
            f"every K must be in 1..{p - 1}, got {ks}",
            where="ks",
            fix="choose K smaller than the number of genes",
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    model_seed = int(rng.integers(2**31))
    rows = []

    def fit_score(genes: np.ndarray) -> float:
        cols = np.sort(genes)
        clf = ExpressionClassifier(model, seed=model_seed, **model_options)
        clf.fit(train[:, cols], label_key)
        return clf.score(test[:, cols], label_key)

    everything = np.arange(p)
    for k in ks:
        top = union_top_genes(scores, k)
        selections = [("attribution", 0, top)]
        for r in range(int(n_random)):
            selections.append(("random", r, rng.choice(p, size=top.size, replace=False)))
        for selection, repeat, genes in selections:
            for setting in settings:
                chosen = genes if setting == "keep" else np.setdiff1d(everything, genes)
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
    return pd.DataFrame(rows)
