"""Stability of gene rankings over resampled training sets (docs/methods.md §3).

The pieces of ``exprlab biomarkers``: training draws (bootstrap or stratified subsample,
optionally by group), attributions toward a class's logit (closed form for a linear model),
per-class aggregation of attributions, the univariate Welch t ranking, and the statistics that
say how reproducible a ranking is: selection frequency in the top ``top``, rank intervals,
Jaccard index of top lists between draws and between stability-selected lists of independent
halves of the draws.

Ranks run from 1 (best) to p; a draw in which a class could not be scored holds NaN ranks for
that class and is left out of that class's statistics.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import nn

from exprlab._defaults import N_STEPS
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.errors import InputDataError
from exprlab.evaluate import global_ranking_scores
from exprlab.explain._integrated_gradients import integrated_gradients, split_first_linear

DrawKind = Literal["bootstrap", "subsample"]
DRAWS: tuple[DrawKind, ...] = ("bootstrap", "subsample")
ClassRule = Literal["mean", "pooled"]
CLASS_RULES: tuple[ClassRule, ...] = ("mean", "pooled")
_LEVELS = (5.0, 95.0)


@dataclass(frozen=True)
class Draw:
    """One resampled training set and the samples it leaves out.

    Parameters
    ----------
    train
        Row indices of the training set (repeated rows for a bootstrap).
    held_out
        Sorted row indices never drawn: the samples that are attributed.
    """

    train: np.ndarray
    held_out: np.ndarray


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(values, dtype=np.int64))


def _check_labels(labels: np.ndarray) -> np.ndarray:
    y = np.asarray(labels).astype(str)
    if np.unique(y).size < 2:
        raise InputDataError(
            f"the labels have a single class ({y[0] if y.size else 'none'}); gene rankings of a "
            "classifier need at least two",
            where="label",
            fix="use a label column with at least two classes",
        )
    return y


def resample_draws(
    labels,
    n_draws: int,
    *,
    draw: DrawKind = "bootstrap",
    fraction: float = 0.5,
    groups=None,
    seed: int = 0,
) -> list[Draw]:
    """Training draws: stratified bootstrap or stratified subsample, by group when given.

    A bootstrap draws n samples with replacement within each class (groups with replacement
    when ``groups`` is given) and holds out the samples never drawn (out of bag). A subsample
    draws ``fraction`` of each class without replacement (of the groups, when given) and holds
    out the rest. The draws use scikit-learn's resampling and splitters (docs/methods.md §3).

    Parameters
    ----------
    labels
        Class of each sample.
    n_draws
        Number of draws B, at least 1.
    draw
        ``"bootstrap"`` or ``"subsample"``.
    fraction
        Share of the samples (or groups) a subsample trains on, in (0, 1).
    groups
        Group of each sample (e.g. the subject): a group is never split between training and
        held-out samples. None: samples are drawn one by one.
    seed
        Seed of the draws.

    Returns
    -------
    list of Draw
        The B draws, in order.
    """
    # scikit-learn's splitters are loaded only when draws are made
    from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit
    from sklearn.utils import resample  # scikit-learn is loaded only when draws are made

    check_count(n_draws, "n_draws", minimum=1)
    check_choice(draw, "draw", DRAWS)
    y = _check_labels(labels)
    n = y.size
    index = np.arange(n)
    draws: list[Draw] = []
    if draw == "subsample":
        check_fraction(fraction, "fraction", closed="neither")
        if groups is None:
            splitter = StratifiedShuffleSplit(n_splits=n_draws, train_size=fraction, random_state=seed)
            splits = splitter.split(index, y)
        else:
            splitter = GroupShuffleSplit(n_splits=n_draws, train_size=fraction, random_state=seed)
            splits = splitter.split(index, y, groups=np.asarray(groups).astype(str))
        for train, _ in splits:
            train = _sorted_unique(train)
            draws.append(Draw(train, np.setdiff1d(index, train)))
        return draws
    rng = np.random.default_rng(seed)
    group_of = None if groups is None else np.asarray(groups).astype(str)
    for _ in range(n_draws):
        state = int(rng.integers(2**31 - 1))
        if group_of is None:
            train = np.asarray(resample(index, replace=True, stratify=y, random_state=state))
        else:
            names = np.unique(group_of)
            picked = np.asarray(resample(names, replace=True, random_state=state))
            train = np.concatenate([np.flatnonzero(group_of == g) for g in picked])
        draws.append(Draw(np.sort(train), np.setdiff1d(index, train)))
    return draws


def linear_weights(model) -> np.ndarray | None:
    """The (C, p) weights of a model that is one linear map to logits, else None.

    Parameters
    ----------
    model
        A torch module or a fitted :class:`~exprlab.models.ExpressionClassifier`.

    Returns
    -------
    numpy.ndarray or None
        The weight matrix in the model's input space (float64), or None for a model with
        anything after its first linear map (an MLP).
    """
    module = getattr(model, "module_", model)
    if not isinstance(module, nn.Module):
        return None
    split = split_first_linear(module)
    if split is None or len(split.weights) != 1:
        return None
    head = split.head
    if not (isinstance(head, nn.Sequential) and len(head) == 0):
        return None
    return split.weights[0].detach().double().numpy()


def logit_attributions(model, inputs, targets, baseline=None, *, n_steps: int = N_STEPS) -> np.ndarray:
    """Integrated Gradients of each example's target logit (docs/methods.md §3).

    For a linear model (logits = W x + c) the integral is exact in closed form,
    IG(x) = (x − x′) ⊙ W[target]; any other model goes through
    :func:`integrated_gradients` (its exact after-first-layer path when it applies).

    Parameters
    ----------
    model
        A fitted :class:`~exprlab.models.ExpressionClassifier` or a torch module.
    inputs
        (n, p) inputs in the model's input space (standardised).
    targets
        (n,) logit index explained for each example.
    baseline
        (p,) baseline in the model's input space; None = zero.
    n_steps
        Quadrature steps of the numerical path (unused by the closed form).

    Returns
    -------
    numpy.ndarray
        (n, p) attributions, float64.
    """
    x = np.asarray(inputs, dtype=np.float64)
    b = np.zeros(x.shape[1]) if baseline is None else np.asarray(baseline, dtype=np.float64)
    t = np.asarray(targets, dtype=np.int64)
    weights = linear_weights(model)
    if weights is not None:
        return (x - b) * weights[t]
    module = getattr(model, "module_", model)
    dtype = next(module.parameters()).dtype
    values = integrated_gradients(
        module,
        torch.from_numpy(x).to(dtype),
        torch.from_numpy(b).to(dtype),
        target=torch.from_numpy(t),
        n_steps=n_steps,
        output="logit",
    )
    return np.asarray(values, dtype=np.float64)


def class_scores(
    attributions, labels, classes, *, rule: ClassRule = "mean", top: int | None = None
) -> np.ndarray:
    """Per-class gene scores from attributions of examples toward their own class.

    ``"mean"``: the signed mean attribution over the examples of the class (toward the class's
    logit). ``"pooled"``: the paper's variant, how many of the class's examples have the gene in
    their top ``top`` (:func:`exprlab.evaluate.global_ranking_scores`). Higher is more
    important; a class without examples gets a row of NaN (docs/methods.md §3).

    Parameters
    ----------
    attributions
        (n, p) attributions, each row toward its example's class.
    labels
        Class of each example.
    classes
        The classes, in the order of the output rows.
    rule
        ``"mean"`` or ``"pooled"``.
    top
        Size of each example's top list for ``"pooled"``.

    Returns
    -------
    numpy.ndarray
        (C, p) scores, float64.
    """
    check_choice(rule, "rule", CLASS_RULES)
    a = np.asarray(attributions, dtype=np.float64)
    y = np.asarray(labels).astype(str)
    out = np.full((len(classes), a.shape[1]), np.nan)
    for i, cls in enumerate(classes):
        rows = a[y == str(cls)]
        if rows.shape[0] == 0:
            continue
        if rule == "mean":
            out[i] = rows.mean(axis=0)
        else:
            out[i] = global_ranking_scores(rows, method="pooled", top=top, normalize=True)
    return out


def welch_scores(values, labels, classes) -> np.ndarray:
    """Welch t statistic of every gene, each class against the rest (scipy.stats.ttest_ind).

    Parameters
    ----------
    values
        (n, p) expression.
    labels
        Class of each sample.
    classes
        The classes, in the order of the output rows.

    Returns
    -------
    numpy.ndarray
        (C, p) t statistics (positive: higher in the class); 0 where a gene is constant, NaN
        rows for a class with fewer than two samples or fewer than two others.
    """
    x = np.asarray(values, dtype=np.float64)
    y = np.asarray(labels).astype(str)
    out = np.full((len(classes), x.shape[1]), np.nan)
    for i, cls in enumerate(classes):
        inside = y == str(cls)
        if inside.sum() < 2 or (~inside).sum() < 2:
            continue
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # constant genes: t is set to 0 below
            t = stats.ttest_ind(x[inside], x[~inside], equal_var=False, axis=0).statistic
        out[i] = np.nan_to_num(np.asarray(t, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return out


def rank_scores(scores) -> np.ndarray:
    """Ranks of genes by decreasing score along the last axis: 1 = best, ties by gene order.

    Parameters
    ----------
    scores
        (..., p) scores; a row with any NaN gives a row of NaN ranks.

    Returns
    -------
    numpy.ndarray
        Ranks of the same shape, float64 (NaN where the row could not be scored).
    """
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-np.nan_to_num(s, nan=0.0), axis=-1, kind="stable")
    ranks = np.empty_like(s)
    np.put_along_axis(ranks, order, np.arange(1, s.shape[-1] + 1, dtype=np.float64), axis=-1)
    ranks[np.isnan(s).any(axis=-1)] = np.nan
    return ranks


def _check_ranks(ranks, top: int) -> np.ndarray:
    r = np.asarray(ranks, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] == 0:
        raise InputDataError(
            f"ranks must be a (draws, genes) matrix, got shape {r.shape}",
            where="ranks",
            fix="pass one row of ranks per draw",
        )
    check_count(top, "top", minimum=1, maximum=r.shape[1])
    return r


def selection_frequency(ranks, top: int) -> np.ndarray:
    """Share of the scored draws in which each gene ranks in the top ``top``.

    Parameters
    ----------
    ranks
        (B, p) ranks of one class per draw (NaN rows: draws that could not score the class).
    top
        Size of the top list, 1 to p.

    Returns
    -------
    numpy.ndarray
        (p,) frequencies in [0, 1]; NaN when no draw scored the class.
    """
    r = _check_ranks(ranks, top)
    valid = ~np.isnan(r).any(axis=1)
    if not valid.any():
        return np.full(r.shape[1], np.nan)
    return (r[valid] <= top).mean(axis=0)


def rank_intervals(ranks, levels: tuple[float, float] = (5.0, 95.0)) -> np.ndarray:
    """Percentiles of each gene's rank over the scored draws (numpy's linear interpolation).

    Parameters
    ----------
    ranks
        (B, p) ranks of one class per draw (NaN rows are left out).
    levels
        The lower and upper percentiles (default the 5th and 95th).

    Returns
    -------
    numpy.ndarray
        (3, p): lower percentile, median and upper percentile of the rank.
    """
    r = np.asarray(ranks, dtype=np.float64)
    r = r[~np.isnan(r).any(axis=1)]
    if r.shape[0] == 0:
        return np.full((3, np.asarray(ranks).shape[1]), np.nan)
    return np.percentile(r, [levels[0], 50.0, levels[1]], axis=0)


def _top_masks(ranks: np.ndarray, top: int) -> np.ndarray:
    return (ranks <= top).astype(np.float64)


def pairwise_jaccard(ranks, top: int) -> np.ndarray:
    """Jaccard index of the top-``top`` gene sets of every pair of draws.

    Parameters
    ----------
    ranks
        (B, p) ranks of one class per draw; NaN rows are draws that could not score the class.
    top
        Size of the top sets, 1 to p.

    Returns
    -------
    numpy.ndarray
        (B, B) symmetric matrix (1 on the diagonal of scored draws); NaN in the rows and
        columns of unscored draws.
    """
    r = _check_ranks(ranks, top)
    valid = ~np.isnan(r).any(axis=1)
    masks = _top_masks(np.nan_to_num(r, nan=np.inf), top)
    shared = masks @ masks.T
    out = shared / (2 * top - shared)
    out[~valid] = np.nan
    out[:, ~valid] = np.nan
    return out


def _median_rank(ranks: np.ndarray) -> np.ndarray:
    r = ranks[~np.isnan(ranks).any(axis=1)]
    return np.median(r, axis=0)


def stability_selected_ranks(ranks, top: int) -> np.ndarray:
    """Ranks of the stability-selected list of a set of draws (docs/methods.md §3).

    Genes are ordered by their selection frequency in the top ``top`` (decreasing), ties broken
    by the median rank over the draws (increasing), then by gene order.

    Parameters
    ----------
    ranks
        (B, p) ranks of one class per draw (NaN rows are left out).
    top
        Size of the top lists counted, 1 to p.

    Returns
    -------
    numpy.ndarray
        (p,) ranks 1..p of the selected list; NaN when no draw scored the class.
    """
    frequency = selection_frequency(ranks, top)
    if np.isnan(frequency).all():
        return frequency
    median = _median_rank(np.asarray(ranks, dtype=np.float64))
    order = np.lexsort((np.arange(frequency.size), median, -frequency))
    out = np.empty(frequency.size)
    out[order] = np.arange(1, frequency.size + 1)
    return out


def split_half_jaccard(ranks, top: int, *, n_splits: int = 20, seed: int = 0) -> np.ndarray:
    """Jaccard index between the stability-selected top lists of two disjoint halves of draws.

    For each of ``n_splits`` random splits of the scored draws into two halves, each half's
    draws give a stability-selected list (:func:`stability_selected_ranks`) and the Jaccard
    index of their top-``top`` sets is recorded: the reproducibility of the selected list
    between independent sets of draws (docs/methods.md §3).

    Parameters
    ----------
    ranks
        (B, p) ranks of one class per draw (NaN rows are left out); at least 2 scored draws.
    top
        Size of the top sets, 1 to p.
    n_splits
        Number of random half splits.
    seed
        Seed of the splits.

    Returns
    -------
    numpy.ndarray
        (n_splits,) Jaccard indices; empty when fewer than 2 draws were scored.
    """
    r = _check_ranks(ranks, top)
    r = r[~np.isnan(r).any(axis=1)]
    check_count(n_splits, "n_splits", minimum=1)
    if r.shape[0] < 2:
        return np.empty(0)
    rng = np.random.default_rng(seed)
    half = r.shape[0] // 2
    values = np.empty(n_splits)
    for i in range(n_splits):
        order = rng.permutation(r.shape[0])
        a = stability_selected_ranks(r[order[:half]], top) <= top
        b = stability_selected_ranks(r[order[half : 2 * half]], top) <= top
        values[i] = (a & b).sum() / (a | b).sum()
    return values


def _summary_row(method: str, mode: str, values: np.ndarray, top: int) -> dict[str, Any]:
    values = values[np.isfinite(values)]
    low, high = np.percentile(values, _LEVELS) if values.size else (np.nan, np.nan)
    return {
        "method": method,
        "mode": mode,
        "top": top,
        "n": int(values.size),
        "jaccard_mean": float(values.mean()) if values.size else np.nan,
        "jaccard_lo": float(low),
        "jaccard_hi": float(high),
    }


def stability_summary(ranks: dict[str, np.ndarray], top: int, *, seed: int = 0) -> pd.DataFrame:
    """Top-``top`` Jaccard of every method, single draws and stability-selected halves.

    ``single``: the Jaccard index of two draws' top lists, averaged over the classes, for every
    pair of draws. ``selected``: the Jaccard index of the stability-selected lists of two
    disjoint halves of the draws (:func:`split_half_jaccard`, 20 random
    halvings), averaged over the classes. Mean and 5th–95th percentiles (docs/methods.md §3).

    Parameters
    ----------
    ranks
        Method → (B, C, p) ranks (NaN where a draw did not score a class).
    top
        Size of the top lists.
    seed
        Seed of the random halvings.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``mode``, ``top``, ``n``, ``jaccard_mean``, ``jaccard_lo``,
        ``jaccard_hi``; methods no draw could score are left out.
    """
    rows = []
    for method, r in ranks.items():
        if np.isnan(r).all():
            continue
        n_draws, n_classes = r.shape[0], r.shape[1]
        with warnings.catch_warnings():  # classes a draw did not score are left out of means
            warnings.simplefilter("ignore", RuntimeWarning)
            pairs = np.nanmean([pairwise_jaccard(r[:, c, :], top) for c in range(n_classes)], axis=0)
            halves = [split_half_jaccard(r[:, c, :], top, seed=seed) for c in range(n_classes)]
            halves = [h for h in halves if h.size]
            selected = np.mean(halves, axis=0) if halves else np.empty(0)
        upper = pairs[np.triu_indices(n_draws, 1)]
        rows.append(_summary_row(method, "single", upper, top))
        rows.append(_summary_row(method, "selected", selected, top))
    return pd.DataFrame(rows)
