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

Prediction gaps need p / gap forward passes per example and order (1,500 for 15,000 genes). When
the model starts with a linear map z ↦ W z + c (every exprlab classifier does, the fixed
diffusion and dropout folded in), replacing a block of features changes the first layer's output
by W[:, block] (b − z)[block]; the cumulative first-layer outputs of all steps are one cumulative
sum, and only the small rest of the network runs on them. Any other torch model runs through a
batched generic path (all steps of an example in one forward).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from exprlab.errors import InputDataError, InvalidParameterError

__all__ = [
    "normalize_attributions",
    "correct_mask",
    "ground_truth_indices",
    "feature_agreement",
    "PredictionGapModel",
    "prediction_gap_curves",
    "prediction_gaps",
    "random_orders",
    "per_class_mean",
    "topk_stability",
    "completeness_stats",
]


# ---------------------------------------------------------------------------- basics
def normalize_attributions(attributions: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (rows of zeros stay zero), float64."""
    a = np.asarray(attributions, dtype=np.float64)
    if a.ndim != 2:
        raise InputDataError(
            f"attributions must be 2-D (examples × genes), got shape {a.shape}",
            where="attributions",
            fix="pass one row per example",
        )
    if not np.isfinite(a).all():
        raise InputDataError(
            "attributions contain NaN or infinite values",
            where="attributions",
            fix="recompute the attributions (check the model and baselines)",
        )
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(norms > 0, norms, 1.0)


def correct_mask(labels: Sequence, predictions: Sequence) -> np.ndarray:
    """Boolean mask of the correctly classified examples (labels compared as text)."""
    y = np.asarray(labels).astype(str)
    p = np.asarray(predictions).astype(str)
    if y.shape != p.shape:
        raise InputDataError(
            f"{len(y)} labels but {len(p)} predictions",
            where="predictions",
            fix="pass one prediction per example",
        )
    return y == p


def ground_truth_indices(ground_truth: Mapping, var_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Class → sorted gene indices, from class → gene names (or indices) of the informative genes."""
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


def _topk(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest entries of each row (unordered)."""
    k = min(int(k), scores.shape[-1])
    return np.argpartition(-scores, k - 1, axis=-1)[..., :k]


# ---------------------------------------------------------------------------- feature agreement
@dataclass
class FeatureAgreement:
    """Feature agreement: ``local`` and ``global`` in [0, 1], and the per-class table."""

    local: float
    global_: float
    per_class: pd.DataFrame


def feature_agreement(
    attributions: np.ndarray,
    labels: Sequence,
    ground_truth: Mapping,
    *,
    var_names: Sequence[str] | None = None,
    predictions: Sequence | None = None,
    ranking: str = "signed",
    global_method: str = "sum",
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
    predictions
        Predicted classes; when given only correctly classified examples count.
    ranking
        ``"signed"`` (decreasing attribution, as the paper's code) or ``"absolute"``.
    global_method
        ``"sum"``: rank genes by the class's summed normalised attributions (docs/methods.md §3);
        ``"pooled"``: the paper's code — rank genes by how many of the class's examples have them
        in their top-k_c (ties broken by the summed attribution).
    """
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
    # deferred: exprlab.explain imports exprlab.evaluate
    from exprlab.explain._aggregate import ranking_scores

    scores = ranking_scores(a, ranking)
    rows = []
    for cls, truth in gt.items():
        sel = np.flatnonzero(keep & (y == cls))
        if sel.size == 0:
            continue
        k = truth.size
        top = _topk(scores[sel], k)
        hits = np.isin(top, truth).sum(axis=1)
        local = float(np.mean(hits / k))
        from exprlab.explain._aggregate import global_ranking_scores

        g = global_ranking_scores(scores[sel], method=global_method, top=k, ranking="signed")
        global_hits = np.isin(_topk(g[None, :], k)[0], truth).sum()
        rows.append(
            {
                "class": cls,
                "k": k,
                "n_examples": int(sel.size),
                "fa_local": local,
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
class PredictionGapModel:
    """The softmax probability of the target class after cumulative replacement by a baseline.

    ``module`` maps (standardised) inputs to logits. ``curves(z, y, orders)`` returns, for every
    example, f_y at each of the ``ceil(p / gap)`` replacement steps; when the module starts with a
    linear layer the steps are computed in first-layer space (exact; each step costs
    gap × hidden operations there instead of a p × hidden first-layer product).
    """

    def __init__(
        self,
        module: nn.Module,
        baseline: np.ndarray,
        *,
        gap: int = 10,
        batch_size: int = 128,
        dtype: torch.dtype | None = None,
    ):
        if int(gap) < 1:
            raise InvalidParameterError(
                f"gap must be at least 1, got {gap}", where="gap", fix="use the paper's 10"
            )
        self.module = module.eval()
        self.gap = int(gap)
        self.batch_size = max(1, int(batch_size))
        if dtype is None:  # compute in the module's own precision
            first = next(iter(module.parameters()), None)
            dtype = first.dtype if first is not None else torch.float32
        self.dtype = dtype
        self.baseline = torch.as_tensor(np.asarray(baseline, dtype=np.float64), dtype=dtype)
        from exprlab.explain._integrated_gradients import split_first_linear

        split = split_first_linear(module)
        self.linear_path = split is not None and len(split.weights) == 1
        if self.linear_path:
            self.W = split.weights[0].to(dtype)
            self.c = split.biases[0].to(dtype)
            self.WT = np.ascontiguousarray(self.W.T.numpy())
            self.rest = split.head
            if isinstance(self.rest, nn.Module):
                self.rest.eval()

    def _prob(self, hidden_or_input: torch.Tensor, y: torch.Tensor, *, after_first: bool):
        net = self.rest if after_first else self.module
        with torch.no_grad():
            logits = net(hidden_or_input)
            logp = torch.log_softmax(logits, dim=-1).gather(-1, y[:, None])[:, 0]
        return torch.exp(logp.double())

    def full(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """f_y at the unmodified inputs."""
        zt = torch.as_tensor(z, dtype=self.dtype)
        return self._prob(zt, torch.as_tensor(y, dtype=torch.long), after_first=False).numpy()

    def curves(self, z: np.ndarray, y: np.ndarray, orders: np.ndarray) -> np.ndarray:
        """(n, n_steps) f_y after each cumulative replacement; ``orders`` is (p,) or (n, p)."""
        z = np.asarray(z)
        n, p = z.shape
        orders = np.asarray(orders)
        shared = orders.ndim == 1
        n_steps = -(-p // self.gap)
        out = np.empty((n, n_steps))
        yt_all = torch.as_tensor(np.asarray(y), dtype=torch.long)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            zt = torch.as_tensor(z[start:stop], dtype=self.dtype)
            order = torch.as_tensor(orders if shared else orders[start:stop], dtype=torch.long)
            yt = yt_all[start:stop]
            m = stop - start
            if self.linear_path:
                h0 = zt @ self.W.T + self.c  # (m, H)
                delta = (self.baseline[None, :] - zt).numpy()  # (m, p)
                order_np = np.broadcast_to(order.numpy(), (m, p))
                # one sparse row per (example, step) holding that step's features and their
                # changes; times Wᵀ gives each step's change of the first layer's output
                values = np.take_along_axis(delta, order_np, axis=1).ravel()
                bounds = np.minimum(np.arange(n_steps) * self.gap, p)
                indptr = np.append((np.arange(m)[:, None] * p + bounds[None, :]).ravel(), m * p)
                jumps = sp.csr_matrix((values, order_np.ravel(), indptr), shape=(m * n_steps, p))
                steps = torch.from_numpy(np.asarray(jumps @ self.WT)).reshape(m, n_steps, -1)
                hidden = h0[:, None, :] + torch.cumsum(steps, dim=1)
                probs = self._prob(
                    hidden.reshape(m * n_steps, -1), yt.repeat_interleave(n_steps), after_first=True
                )
                out[start:stop] = probs.reshape(m, n_steps).numpy()
            else:
                for i in range(m):
                    o = order if shared else order[i]
                    step_of = torch.empty(p, dtype=torch.long)
                    step_of[o] = torch.arange(p) // self.gap
                    # x̃_k keeps feature j while its step index is ≥ k (steps are 1-based)
                    keep = step_of[None, :] >= torch.arange(1, n_steps + 1)[:, None]
                    xs = torch.where(keep, zt[i][None, :], self.baseline[None, :])
                    out[start + i] = self._prob(xs, yt[i].repeat(n_steps), after_first=False).numpy()
        return out


def prediction_gap_curves(model: PredictionGapModel, z, y, orders) -> tuple[np.ndarray, np.ndarray]:
    """(PG per example, full probability per example) for one ordering."""
    full = model.full(z, y)
    curves = model.curves(z, y, orders)
    drop = np.clip(full[:, None] - curves, 0.0, None)
    p = np.asarray(z).shape[1]
    return drop.sum(axis=1) * model.gap / p, full


def random_orders(n_features: int, n_orders: int, seed) -> np.ndarray:
    """(n_orders, p) independent random permutations of the features."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return np.stack([rng.permutation(n_features) for _ in range(int(n_orders))])


def per_class_mean(values: np.ndarray, labels: Sequence) -> float:
    """Mean per class, then mean over classes (the paper's averaging of PG)."""
    s = pd.Series(np.asarray(values, dtype=float)).groupby(np.asarray(labels).astype(str)).mean()
    return float(s.mean())


def prediction_gaps(
    module: nn.Module,
    inputs: np.ndarray,
    targets: np.ndarray,
    attributions: np.ndarray,
    *,
    baseline: np.ndarray | None = None,
    labels: Sequence | None = None,
    class_scores: Mapping[str, np.ndarray] | None = None,
    n_random: int = 30,
    gap: int = 10,
    seed=0,
    ranking: str = "signed",
    random_subsample: int | None = None,
    batch_size: int = 128,
) -> dict[str, float]:
    """PGI, PGU (local and, with ``class_scores``, global) and PGR, in % (docs/methods.md §3).

    Parameters
    ----------
    module
        Torch module on the (standardised) inputs returning logits (eval mode is set).
    inputs, targets
        (n, p) inputs and the target logit index of each example; pass correctly classified
        examples only (see :func:`correct_mask`).
    attributions
        (n, p) attributions for the target class; local orders rank each example's own.
    baseline
        Replacement values, (p,); default zeros (the training mean after z-scoring).
    labels
        Class of each example, for the per-class averaging (default: ``targets``).
    class_scores
        Class label → (p,) global scores: global PGI/PGU use the example's class ranking.
    n_random
        Random orders for PGR (30 in the paper); they do not depend on the attributions, so PGR
        has no local/global distinction.
    random_subsample
        Use at most this many examples (a seeded, class-stratified draw) for PGR only.

    Returns
    -------
    dict with ``pgi_local``, ``pgu_local``, ``pgr`` and, with ``class_scores``, ``pgi_global``,
    ``pgu_global``; also ``pgr_n_examples`` and ``path`` (``"first-linear"`` or ``"generic"``).
    """
    z = np.asarray(inputs, dtype=np.float32)
    n, p = z.shape
    if n == 0:
        raise InputDataError(
            "no example to compute prediction gaps on",
            where="inputs",
            fix="pass at least one correctly classified example",
        )
    a = np.asarray(attributions, dtype=np.float64)
    if a.shape != z.shape:
        raise InputDataError(
            f"attributions have shape {a.shape}, inputs {z.shape}",
            where="attributions",
            fix="pass one attribution row per input",
        )
    base = np.zeros(p) if baseline is None else np.asarray(baseline, dtype=np.float64)
    if base.shape != (p,):
        raise InputDataError(
            f"baseline has shape {base.shape}, expected ({p},)",
            where="baseline",
            fix="pass one value per feature",
        )
    y = np.asarray(targets, dtype=np.int64)
    lab = np.asarray(labels).astype(str) if labels is not None else y.astype(str)
    model = PredictionGapModel(module, base, gap=gap, batch_size=batch_size)
    # deferred: exprlab.explain imports exprlab.evaluate
    from exprlab.explain._aggregate import ranking_scores

    scores = ranking_scores(a, ranking)
    result: dict[str, float] = {}
    order_imp = np.argsort(-scores, axis=1, kind="stable")
    pg, _ = prediction_gap_curves(model, z, y, order_imp)
    result["pgi_local"] = 100 * per_class_mean(pg, lab)
    pg, _ = prediction_gap_curves(model, z, y, order_imp[:, ::-1].copy())
    result["pgu_local"] = 100 * per_class_mean(pg, lab)
    if class_scores is not None:
        pgi = np.empty(n)
        pgu = np.empty(n)
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
    result["path"] = "first-linear" if model.linear_path else "generic"
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
    scores: Sequence[np.ndarray], k: int, *, names: Sequence[str] | None = None, ranking: str = "signed"
) -> pd.DataFrame:
    """Pairwise agreement of several gene scorings (seeds, models): Jaccard and Kendall tau.

    For each pair of (p,) score vectors: the Jaccard index of their top-k gene sets, and
    Kendall's tau-b between the two scorings over the union of the two top-k sets (how
    consistently the genes that matter are ordered).
    """
    from scipy.stats import kendalltau

    # deferred: exprlab.explain imports exprlab.evaluate
    from exprlab.explain._aggregate import ranking_scores

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
    if not 1 <= int(k) <= p:
        raise InvalidParameterError(
            f"k={k} is outside 1..{p}", where="k", fix="choose k between 1 and the number of genes"
        )
    labels = list(names) if names is not None else [str(i) for i in range(len(vecs))]
    tops = [set(_topk(v[None, :], k)[0].tolist()) for v in vecs]
    rows = []
    for i in range(len(vecs)):
        for j in range(i + 1, len(vecs)):
            union = np.array(sorted(tops[i] | tops[j]))
            tau = kendalltau(vecs[i][union], vecs[j][union]).statistic if union.size > 1 else 1.0
            rows.append(
                {
                    "a": labels[i],
                    "b": labels[j],
                    "k": int(k),
                    "jaccard": len(tops[i] & tops[j]) / len(tops[i] | tops[j]),
                    "kendall_tau": float(tau),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- completeness
def completeness_stats(
    attributions: np.ndarray, output_gaps: np.ndarray, *, threshold: float = 0.01
) -> dict[str, float]:
    """How well Σ_i IG_i matches f(x) − f(x′) (the completeness axiom).

    ``output_gaps`` is f(x) − f(x′) per example. Returns the mean and maximum absolute
    difference, the mean relative difference, and the share of examples whose difference
    exceeds ``threshold`` (the paper reruns an example when 100·|difference| > 1, i.e. 0.01).
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
