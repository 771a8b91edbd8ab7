"""How far to trust an explanation: feature agreement, prediction gaps, stability, completeness.

Definitions follow docs/methods.md §3 (arXiv:2303.11336):

* attributions are L2-normalised per example and only correctly classified examples count;
* **feature agreement** (simulation, known informative genes): for class c with k_c = |GT_c|,
  local FA is the mean over the class's examples of |top-k_c(attribution) ∩ GT_c| / k_c; global
  FA ranks the genes of the class by its summed attributions (or, as the paper's code does, by
  how often a gene is in the examples' top-k_c: the *pooled* variant); classes are averaged;
* **prediction gaps**: replace features by the baseline cumulatively, ``gap`` (10) at a time, in
  a given order: PG(x) = (gap / p) Σ_k max(0, f_y(x) − f_y(x̃_k)), f_y the softmax probability of
  the true class; PGI orders by decreasing attribution, PGU by increasing attribution, PGR by
  random orders (mean of 30); averaged per class, then over classes.

The probabilities f_y(x̃_k) come from a :class:`GapModel`: any object that returns, for a batch
of examples and one replacement order each, f_y after every replacement step. The torch
implementation, with its fast path for models that start with a linear map, is
:class:`exprlab.explain.PredictionGapModel`; the metrics here only need numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.stats import kendalltau
from scipy.stats import t as student_t

from exprlab._validation import check_choice, check_count, check_interval
from exprlab.errors import InputDataError
from exprlab.evaluate._rankings import (
    GLOBAL_METHODS,
    RANKINGS,
    GlobalMethod,
    Ranking,
    global_ranking_scores,
    normalize_attributions,
    ranking_scores,
    top_indices,
)

__all__ = [
    "correct_mask",
    "ground_truth_indices",
    "FeatureAgreement",
    "feature_agreement",
    "GapModel",
    "prediction_gap_curves",
    "prediction_gaps",
    "random_orders",
    "per_class_mean",
    "topk_stability",
    "completeness_stats",
    "CURVE_LEVEL",
    "curve_intervals",
]


# ---------------------------------------------------------------------------- basics
def correct_mask(labels: Sequence | np.ndarray, predictions: Sequence | np.ndarray) -> np.ndarray:
    """Mark the correctly classified examples, the only ones whose explanations are scored.

    Parameters
    ----------
    labels
        True class of each example.
    predictions
        Predicted class of each example (compared with the labels as text).

    Returns
    -------
    numpy.ndarray
        Boolean mask, one entry per example.
    """
    y = np.asarray(labels).astype(str)
    p = np.asarray(predictions).astype(str)
    if y.shape != p.shape:
        raise InputDataError(
            f"{len(y)} labels but {len(p)} predictions",
            where="predictions",
            fix="pass one prediction per example",
        )
    return y == p


def ground_truth_indices(
    ground_truth: Mapping, var_names: Sequence[str] | np.ndarray
) -> dict[str, np.ndarray]:
    """Turn class → informative gene names (or indices) into class → sorted column indices.

    Parameters
    ----------
    ground_truth
        Class → informative genes, as names of ``var_names`` or as integer column indices.
    var_names
        Gene names of the attribution columns.

    Returns
    -------
    dict
        Class (as text) → sorted unique column indices.
    """
    index = pd.Index(np.asarray(var_names).astype(str))
    out: dict[str, np.ndarray] = {}
    for cls, genes in ground_truth.items():
        genes = np.asarray(list(genes))
        if genes.size and np.issubdtype(genes.dtype, np.integer):
            idx = genes.astype(np.int64)
        else:
            idx = index.get_indexer(genes.astype(str))
            if (idx < 0).any():
                missing = genes[idx < 0][:5].tolist()
                raise InputDataError(
                    f"{int((idx < 0).sum())} informative genes of class {cls!r} are not in the "
                    f"data, e.g. {missing}",
                    where="ground_truth",
                    fix="use ground truth and attributions over the same genes",
                )
        if idx.size == 0:
            raise InputDataError(
                f"class {cls!r} has no informative gene",
                where="ground_truth",
                fix="drop the class from the ground truth",
            )
        out[str(cls)] = np.unique(idx)
    return out


# ---------------------------------------------------------------------------- feature agreement
@dataclass
class FeatureAgreement:
    """Feature agreement of one set of attributions with the known informative genes.

    Parameters
    ----------
    local
        Mean over classes of the per-example agreement, in [0, 1].
    global_
        Mean over classes of the agreement of the class ranking, in [0, 1].
    per_class
        One row per class: ``class``, ``k``, ``n_examples``, ``fa_local``, ``fa_global``.
    """

    local: float
    global_: float
    per_class: pd.DataFrame


def feature_agreement(
    attributions: np.ndarray,
    labels: Sequence | np.ndarray,
    ground_truth: Mapping,
    *,
    var_names: Sequence[str] | np.ndarray | None = None,
    predictions: Sequence | np.ndarray | None = None,
    ranking: Ranking = "signed",
    global_method: GlobalMethod = "sum",
    normalize: bool = True,
) -> FeatureAgreement:
    """Feature agreement of attributions with known informative genes (docs/methods.md §3).

    Parameters
    ----------
    attributions
        (n, p) attributions of each example for its true class.
    labels
        True class of each example; classes absent from ``ground_truth`` are ignored.
    ground_truth
        Class → informative genes (names, with ``var_names``, or column indices).
    var_names
        Gene names of the columns (default: ``"0"``, ``"1"`` ...).
    predictions
        Predicted classes; when given only correctly classified examples count.
    ranking
        ``"signed"`` (decreasing attribution, as the paper's code) or ``"absolute"``.
    global_method
        ``"sum"``: rank genes by the class's summed normalised attributions (docs/methods.md §3);
        ``"pooled"``: the paper's code — rank genes by how many of the class's examples have them
        in their top-k_c (ties broken by the summed attribution).
    normalize
        L2-normalise each example's attributions first (the definition); turn off only for
        attributions already normalised.

    Returns
    -------
    FeatureAgreement
        Local and global agreement and the per-class table.
    """
    check_choice(ranking, "ranking", RANKINGS)
    check_choice(global_method, "global_method", GLOBAL_METHODS)
    a = normalize_attributions(attributions) if normalize else np.asarray(attributions, float)
    y = np.asarray(labels).astype(str)
    if len(y) != a.shape[0]:
        raise InputDataError(
            f"{a.shape[0]} attribution rows but {len(y)} labels",
            where="labels",
            fix="pass one label per attribution row",
        )
    names = var_names if var_names is not None else np.arange(a.shape[1]).astype(str)
    gt = ground_truth_indices(ground_truth, names)
    keep = correct_mask(y, predictions) if predictions is not None else np.ones(len(y), bool)
    scores = ranking_scores(a, ranking)
    rows = []
    for cls, truth in gt.items():
        sel = np.flatnonzero(keep & (y == cls))
        if sel.size == 0:
            continue
        k = truth.size
        hits = np.isin(top_indices(scores[sel], k), truth).sum(axis=1)
        g = global_ranking_scores(scores[sel], method=global_method, top=k, ranking="signed")
        global_hits = np.isin(top_indices(g[None, :], k)[0], truth).sum()
        rows.append(
            {
                "class": cls,
                "k": k,
                "n_examples": int(sel.size),
                "fa_local": float(np.mean(hits / k)),
                "fa_global": float(global_hits / k),
            }
        )
    if not rows:
        raise InputDataError(
            "no correctly classified example belongs to a class with ground truth",
            where="feature_agreement",
            fix="check that labels use the ground truth's class names",
        )
    table = pd.DataFrame(rows)
    return FeatureAgreement(float(table["fa_local"].mean()), float(table["fa_global"].mean()), table)


# ---------------------------------------------------------------------------- prediction gaps
class GapModel(Protocol):
    """What prediction gaps need from a model: f_y before and after cumulative replacement.

    ``gap`` is the number of features replaced per step and ``path`` names how the curves are
    computed (reported with the results). :class:`exprlab.explain.PredictionGapModel` is the
    implementation for torch classifiers.
    """

    gap: int

    @property
    def path(self) -> str:
        """Name of the computation path (reported in the results)."""
        ...

    def full(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """f_y at the unmodified inputs, one value per example."""
        ...

    def curves(self, z: np.ndarray, y: np.ndarray, orders: np.ndarray) -> np.ndarray:
        """(n, ceil(p / gap)) f_y after each replacement step; ``orders`` is (p,) or (n, p)."""
        ...


def prediction_gap_curves(
    model: GapModel, z: np.ndarray, y: np.ndarray, orders: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Prediction gap of every example for one replacement order (docs/methods.md §3).

    Parameters
    ----------
    model
        Gives f_y before and after each replacement step (:class:`GapModel`).
    z
        (n, p) inputs.
    y
        Target index of each example.
    orders
        (p,) one order for all examples, or (n, p) one per example.

    Returns
    -------
    tuple of numpy.ndarray
        (PG per example, f_y at the unmodified input per example).
    """
    full = model.full(z, y)
    curves = model.curves(z, y, orders)
    drop = np.clip(full[:, None] - curves, 0.0, None)
    p = np.asarray(z).shape[1]
    return drop.sum(axis=1) * model.gap / p, full


def random_orders(n_features: int, n_orders: int, seed: int | np.random.Generator) -> np.ndarray:
    """Independent random permutations of the features, the orders of PGR.

    Parameters
    ----------
    n_features
        Number of features p.
    n_orders
        Number of permutations.
    seed
        Seed or generator of the permutations.

    Returns
    -------
    numpy.ndarray
        (n_orders, p) integer array, one permutation per row.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return np.stack([rng.permutation(n_features) for _ in range(int(n_orders))])


def per_class_mean(values: np.ndarray, labels: Sequence | np.ndarray) -> float:
    """Mean per class, then mean over classes (the paper's averaging of PG).

    Parameters
    ----------
    values
        One value per example.
    labels
        Class of each example.

    Returns
    -------
    float
        The mean of the class means.
    """
    s = pd.Series(np.asarray(values, dtype=float)).groupby(np.asarray(labels).astype(str)).mean()
    return float(s.mean())


def _check_gap_inputs(z: np.ndarray, a: np.ndarray) -> None:
    if z.shape[0] == 0:
        raise InputDataError(
            "no example to compute prediction gaps on",
            where="inputs",
            fix="pass at least one correctly classified example",
        )
    if a.shape != z.shape:
        raise InputDataError(
            f"attributions have shape {a.shape}, inputs {z.shape}",
            where="attributions",
            fix="pass one attribution row per input",
        )


def _global_gaps(
    model: GapModel,
    z: np.ndarray,
    y: np.ndarray,
    lab: np.ndarray,
    class_scores: Mapping[str, np.ndarray],
    ranking: Ranking,
) -> tuple[np.ndarray, np.ndarray]:
    """PGI and PGU per example with the orders of each example's class ranking."""
    pgi = np.empty(z.shape[0])
    pgu = np.empty(z.shape[0])
    for cls in np.unique(lab):
        if cls not in class_scores:
            raise InputDataError(
                f"no global scores for class {cls!r}",
                where="class_scores",
                fix="give global scores for every class of the examples",
            )
        sel = np.flatnonzero(lab == cls)
        order = np.argsort(-ranking_scores(np.asarray(class_scores[cls], float), ranking), kind="stable")
        pgi[sel], _ = prediction_gap_curves(model, z[sel], y[sel], order)
        pgu[sel], _ = prediction_gap_curves(model, z[sel], y[sel], order[::-1].copy())
    return pgi, pgu


def prediction_gaps(
    model: GapModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    attributions: np.ndarray,
    *,
    labels: Sequence | np.ndarray | None = None,
    class_scores: Mapping[str, np.ndarray] | None = None,
    n_random: int = 30,
    seed: int | np.random.Generator = 0,
    ranking: Ranking = "signed",
    random_subsample: int | None = None,
) -> dict[str, float | int | str]:
    """PGI, PGU (local and, with ``class_scores``, global) and PGR, in % (docs/methods.md §3).

    Parameters
    ----------
    model
        Gives f_y before and after each replacement step: for a torch classifier,
        ``exprlab.explain.PredictionGapModel(module, baseline)`` (which also holds the
        replacement baseline and the step size ``gap``).
    inputs
        (n, p) inputs; pass correctly classified examples only (see :func:`correct_mask`).
    targets
        Target logit index of each example.
    attributions
        (n, p) attributions for the target class; local orders rank each example's own.
    labels
        Class of each example, for the per-class averaging (default: ``targets``).
    class_scores
        Class label → (p,) global scores: global PGI/PGU use the example's class ranking.
    n_random
        Random orders for PGR (30 in the paper); they do not depend on the attributions, so PGR
        has no local/global distinction.
    seed
        Seed of the random orders and of the subsample.
    ranking
        Order by signed attributions or by their magnitudes.
    random_subsample
        Use at most this many examples (a seeded, class-stratified draw) for PGR only.

    Returns
    -------
    dict
        ``pgi_local``, ``pgu_local``, ``pgr`` and, with ``class_scores``, ``pgi_global``,
        ``pgu_global``; also ``pgr_n_examples`` and ``path`` (the model's computation path).
    """
    check_choice(ranking, "ranking", RANKINGS)
    n_random = check_count(n_random, "n_random")
    z = np.asarray(inputs, dtype=np.float32)
    a = np.asarray(attributions, dtype=np.float64)
    _check_gap_inputs(z, a)
    n, p = z.shape
    y = np.asarray(targets, dtype=np.int64)
    lab = np.asarray(labels).astype(str) if labels is not None else y.astype(str)
    result: dict[str, float | int | str] = {}
    order_imp = np.argsort(-ranking_scores(a, ranking), axis=1, kind="stable")
    pg, _ = prediction_gap_curves(model, z, y, order_imp)
    result["pgi_local"] = 100 * per_class_mean(pg, lab)
    pg, _ = prediction_gap_curves(model, z, y, order_imp[:, ::-1].copy())
    result["pgu_local"] = 100 * per_class_mean(pg, lab)
    if class_scores is not None:
        pgi, pgu = _global_gaps(model, z, y, lab, class_scores, ranking)
        result["pgi_global"] = 100 * per_class_mean(pgi, lab)
        result["pgu_global"] = 100 * per_class_mean(pgu, lab)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sub = np.arange(n)
    if random_subsample is not None and random_subsample < n:
        sub = _stratified_subsample(lab, int(random_subsample), rng)
    if n_random > 0:
        orders = random_orders(p, n_random, rng)
        total = np.zeros(sub.size)
        for order in orders:
            pg, _ = prediction_gap_curves(model, z[sub], y[sub], order)
            total += pg
        result["pgr"] = 100 * per_class_mean(total / len(orders), lab[sub])
    result["pgr_n_examples"] = int(sub.size)
    result["path"] = model.path
    return result


def _stratified_subsample(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """About ``size`` indices, the same share of every class (at least one each), sorted."""
    classes, counts = np.unique(labels, return_counts=True)
    share = size / labels.size
    picks = []
    for cls, count in zip(classes, counts, strict=True):
        idx = np.flatnonzero(labels == cls)
        take = max(1, int(round(count * share)))
        picks.append(rng.choice(idx, size=min(take, idx.size), replace=False))
    return np.sort(np.concatenate(picks))


# ---------------------------------------------------------------------------- stability
def topk_stability(
    scores: Sequence[np.ndarray],
    top: int,
    *,
    names: Sequence[str] | None = None,
    ranking: Ranking = "signed",
) -> pd.DataFrame:
    """Pairwise agreement of several gene scorings (seeds, models): Jaccard and Kendall tau.

    For each pair of (p,) score vectors: the Jaccard index of their top-``top`` gene sets, and
    Kendall's tau-b between the two scorings over the union of the two top sets (how
    consistently the genes that matter are ordered).

    Parameters
    ----------
    scores
        Two or more (p,) gene scorings over the same genes.
    top
        Size of the top gene sets compared, 1 to p.
    names
        Name of each scoring in the table (default ``"0"``, ``"1"`` ...).
    ranking
        Rank by signed scores or by their magnitudes.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``a``, ``b``, ``k`` (the top size), ``jaccard``, ``kendall_tau``.
    """
    vecs = [ranking_scores(np.asarray(s, dtype=np.float64).ravel(), ranking) for s in scores]
    if len(vecs) < 2:
        raise InputDataError(
            "stability needs at least two scorings",
            where="scores",
            fix="pass the scores of several seeds or models",
        )
    p = vecs[0].size
    if any(v.size != p for v in vecs):
        raise InputDataError(
            "the scorings do not have the same number of genes",
            where="scores",
            fix="compute every scoring on the same genes",
        )
    top = check_count(top, "top", minimum=1, maximum=p)
    labels = list(names) if names is not None else [str(i) for i in range(len(vecs))]
    tops = [set(top_indices(v[None, :], top)[0].tolist()) for v in vecs]
    rows = []
    for i in range(len(vecs)):
        for j in range(i + 1, len(vecs)):
            union = np.array(sorted(tops[i] | tops[j]))
            tau = kendalltau(vecs[i][union], vecs[j][union]).statistic if union.size > 1 else 1.0
            rows.append(
                {
                    "a": labels[i],
                    "b": labels[j],
                    "k": top,
                    "jaccard": len(tops[i] & tops[j]) / len(tops[i] | tops[j]),
                    "kendall_tau": float(tau),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- completeness
def completeness_stats(
    attributions: np.ndarray, output_gaps: np.ndarray, *, threshold: float = 0.01
) -> dict[str, float | int]:
    """How well Σ_i IG_i matches f(x) − f(x′) (the completeness axiom, docs/methods.md §3).

    Parameters
    ----------
    attributions
        (n, p) attributions.
    output_gaps
        f(x) − f(x′) per example.
    threshold
        Absolute difference above which an example counts as incomplete (the paper reruns an
        example when 100·|difference| > 1, i.e. 0.01).

    Returns
    -------
    dict
        ``delta_mean`` and ``delta_max`` (absolute differences), ``relative_delta_mean``,
        ``share_above_threshold`` and ``n``.
    """
    a = np.asarray(attributions, dtype=np.float64)
    g = np.asarray(output_gaps, dtype=np.float64).ravel()
    if a.shape[0] != g.size:
        raise InputDataError(
            f"{a.shape[0]} attribution rows but {g.size} output gaps",
            where="output_gaps",
            fix="pass f(x) - f(baseline) per example",
        )
    delta = np.abs(a.sum(axis=1) - g)
    rel = delta / np.maximum(np.abs(g), 1e-12)
    return {
        "delta_mean": float(delta.mean()),
        "delta_max": float(delta.max()),
        "relative_delta_mean": float(rel.mean()),
        "share_above_threshold": float((delta > threshold).mean()),
        "n": int(g.size),
    }


# ---------------------------------------------------------------------------- retraining curves
#: confidence level of the intervals of keep/remove curves
CURVE_LEVEL = 0.95
_CURVE_KEYS = ["setting", "selection", "k"]


def _t_interval(values: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Mean, sd and the Student t interval of the mean of ``values`` (NaN bounds below 2 values)."""
    n = values.size
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), float("nan")
    sd = float(values.std(ddof=1))
    half = float(student_t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


def curve_intervals(curves: pd.DataFrame, *, level: float = CURVE_LEVEL) -> pd.DataFrame:
    """Mean and confidence interval of every point of keep/remove curves (docs/methods.md §3).

    The unit is the run: the random gene sets of one run (``repeat``) are first averaged, so
    each run contributes one value per curve point, and the interval is the Student t interval
    of the mean over runs, mean ± t(level, n − 1) · sd / √n. With a single run, a curve with
    several random repeats gets the same interval over its repeats, and a curve with one value
    gets none (NaN bounds).

    Parameters
    ----------
    curves
        Long table of one dataset × model: ``setting``, ``selection``, ``k`` and
        ``balanced_accuracy``, optionally ``run`` (absent = one run), ``repeat`` (absent = one
        repeat) and ``n_genes``.
    level
        Confidence level of the intervals, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per setting × selection × k: ``n_runs``, ``n_repeats`` (random sets per run,
        the most any run has), ``balanced_accuracy_mean``, ``balanced_accuracy_sd`` (of the
        values the interval is computed over), ``ci_low``, ``ci_high`` and ``interval_over``
        (``runs``, ``repeats`` or empty when there is no interval), in the unit of the input;
        ``n_genes`` (mean) when given.
    """
    missing = [c for c in [*_CURVE_KEYS, "balanced_accuracy"] if c not in curves]
    if missing:
        raise InputDataError(
            f"the curve table has no column {', '.join(missing)}",
            where="curves",
            fix="pass the per-run tables written by retraining_curves",
        )
    check_interval(level, "level", 0.0, 1.0, closed="neither")
    table = curves.assign(
        run=curves["run"] if "run" in curves else 0,
        repeat=curves["repeat"] if "repeat" in curves else 0,
    )
    rows = []
    for key, part in table.groupby(_CURVE_KEYS, sort=True):
        per_run = part.groupby("run")["balanced_accuracy"].mean().to_numpy(dtype=float)
        repeats = part.groupby("run")["repeat"].nunique()
        over = "runs"
        values = per_run
        if per_run.size < 2:
            values = part["balanced_accuracy"].to_numpy(dtype=float)
            over = "repeats" if values.size > 1 else ""
        mean, sd, low, high = _t_interval(values, level)
        row = dict(zip(_CURVE_KEYS, key, strict=True))
        if "n_genes" in part:
            row["n_genes"] = float(part["n_genes"].mean())
        row.update(
            n_runs=int(per_run.size),
            n_repeats=int(repeats.max()),
            balanced_accuracy_mean=mean,
            balanced_accuracy_sd=sd,
            ci_low=low,
            ci_high=high,
            interval_over=over,
        )
        rows.append(row)
    return pd.DataFrame(rows)
