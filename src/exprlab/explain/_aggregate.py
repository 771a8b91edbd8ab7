"""From per-example attributions to gene rankings: signed/absolute, diffusion, pathways, classes.

* :func:`rank_genes`: genes ordered by decreasing signed (the paper) or absolute attribution.
* :func:`global_ranking_scores` / :func:`global_rankings`: one score per gene and class, either
  the class's summed L2-normalised attributions (docs/methods.md §3) or the paper code's *pooled*
  variant (how many of the class's examples have the gene in their top-k).
* :func:`diffuse_attributions`: attributions multiplied by the correlation-graph diffusion
  D = D̃^{-1/2}(A + I)D̃^{-1/2} learnt on training data (the operator of
  :mod:`exprlab.models._diffusion`), so that correlated genes share their importance.
* :func:`pathway_scores` / :func:`pathways_to_genes`: attributions aggregated over gene sets
  (simulated pathways or any GMT) and spread back to genes.
* :func:`class_profiles` / :func:`shrink_to_class`: local attributions pulled towards the
  predicted class's mean explanation on training data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.evaluate import normalize_attributions
from exprlab.models import diffusion_matrix

__all__ = [
    "rank_genes",
    "global_ranking_scores",
    "global_rankings",
    "diffusion_operator",
    "diffuse_attributions",
    "pathway_matrix",
    "pathway_scores",
    "pathways_to_genes",
    "pathway_smooth",
    "refine_attributions",
    "simulated_pathways",
    "class_profiles",
    "shrink_to_class",
]


def ranking_scores(a: np.ndarray, ranking: str) -> np.ndarray:
    """The values genes are ranked by: attributions as signed, or their magnitudes (absolute)."""
    if ranking == "signed":
        return a
    if ranking == "absolute":
        return np.abs(a)
    raise InvalidParameterError(
        f"ranking={ranking!r} is not 'signed' or 'absolute'",
        where="ranking",
        fix="use 'signed' or 'absolute'",
    )


def rank_genes(attributions: np.ndarray, *, ranking: str = "signed") -> np.ndarray:
    """Gene indices by decreasing importance, per row (2-D input) or for one vector (1-D)."""
    a = ranking_scores(np.asarray(attributions, dtype=np.float64), ranking)
    return np.argsort(-a, axis=-1, kind="stable")


def global_ranking_scores(
    attributions: np.ndarray,
    *,
    method: str = "sum",
    k: int | None = None,
    ranking: str = "signed",
    normalize: bool = False,
) -> np.ndarray:
    """One score per gene for a group of examples (the examples of one class).

    ``method="sum"``: the summed attributions (normalise rows first with ``normalize=True``).
    ``method="pooled"``: the paper code's variant — the number of examples having the gene in
    their top-``k``, plus the summed attribution scaled below one vote as a tie-breaker.
    """
    a = np.asarray(attributions, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise InputDataError(
            f"need a non-empty (examples × genes) array, got shape {a.shape}",
            where="attributions",
            fix="pass at least one example",
        )
    if normalize:
        a = normalize_attributions(a)
    s = ranking_scores(a, ranking)
    total = s.sum(axis=0)
    if method == "sum":
        return total
    if method == "pooled":
        if k is None or not 1 <= int(k) <= a.shape[1]:
            raise InvalidParameterError(
                f"the pooled ranking needs k in 1..{a.shape[1]}, got {k}",
                where="k",
                fix="pass k, the size of the top list",
            )
        kk = int(k)
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        votes = np.bincount(top.ravel(), minlength=a.shape[1]).astype(np.float64)
        span = np.abs(total).max()
        tie = total / (4.0 * span) if span > 0 else 0.0  # within ±0.25: never beats a vote
        return votes + tie
    raise InvalidParameterError(
        f"method={method!r} is not 'sum' or 'pooled'",
        where="method",
        fix="use 'sum' (docs/methods.md §3) or 'pooled' (the paper's code)",
    )


def global_rankings(
    attributions: np.ndarray,
    labels: Sequence,
    *,
    method: str = "sum",
    k: int | Mapping[str, int] | None = None,
    ranking: str = "signed",
    normalize: bool = True,
) -> dict[str, np.ndarray]:
    """Class → (p,) global gene scores from the attributions of that class's examples."""
    a = np.asarray(attributions, dtype=np.float64)
    y = np.asarray(labels).astype(str)
    if len(y) != a.shape[0]:
        raise InputDataError(
            f"{a.shape[0]} attribution rows but {len(y)} labels", where="labels", fix="pass one label per row"
        )
    if normalize:
        a = normalize_attributions(a)
    out = {}
    for cls in pd.unique(y):
        kk = k.get(cls) if isinstance(k, Mapping) else k
        out[cls] = global_ranking_scores(a[y == cls], method=method, k=kk, ranking=ranking)
    return out


def diffusion_operator(train_values: np.ndarray, *, threshold: float = 0.5) -> sp.csr_matrix:
    """D = D̃^{-1/2}(A + I)D̃^{-1/2} from training data (genes in columns), docs/methods.md §3."""
    return diffusion_matrix(np.asarray(train_values), threshold=threshold)


def diffuse_attributions(attributions: np.ndarray, operator: sp.spmatrix, *, steps: int = 1) -> np.ndarray:
    """Attributions multiplied ``steps`` times by the (symmetric) diffusion operator."""
    a = np.asarray(attributions, dtype=np.float64)
    if operator.shape != (a.shape[-1], a.shape[-1]):
        raise GeneSpaceError(
            f"the diffusion operator is {operator.shape}, attributions have {a.shape[-1]} genes",
            where="operator",
            fix="learn the operator on data over the attributions' genes",
        )
    op = sp.csr_matrix(operator)
    out = a
    for _ in range(int(steps)):
        out = np.asarray((op.T @ out.T).T)  # each row r becomes r D
    return out


def pathway_matrix(
    gene_sets: Mapping[str, Sequence[str]],
    var_names: Sequence[str],
    *,
    min_size: int = 1,
    where: str = "gene sets",
) -> tuple[sp.csr_matrix, list[str]]:
    """Binary (genes × sets) membership over ``var_names``; sets keep only genes of the data.

    Sets with fewer than ``min_size`` shared genes are dropped; if no set shares a gene with
    the data this is an error (a GMT of another organism or identifier type, typically).
    """
    index = pd.Index(np.asarray(var_names).astype(str))
    rows, cols, names = [], [], []
    for name, genes in gene_sets.items():
        idx = index.get_indexer(np.asarray(list(genes)).astype(str))
        idx = np.unique(idx[idx >= 0])
        if idx.size >= max(1, int(min_size)):
            rows.append(idx)
            cols.append(np.full(idx.size, len(names)))
            names.append(str(name))
    if not names:
        example = next(iter(gene_sets.values()), [])
        raise GeneSpaceError(
            f"none of the {len(gene_sets)} gene sets shares a gene with the data (data genes "
            f"e.g. {list(index[:3])}; set genes e.g. {list(example)[:3]})",
            where=where,
            fix="use gene sets in the data's identifier type (e.g. symbols) or convert the genes",
        )
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    m = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(len(index), len(names)))
    return m, names


def pathway_scores(
    attributions: np.ndarray,
    gene_sets: Mapping[str, Sequence[str]],
    var_names: Sequence[str],
    *,
    how: str = "mean",
    min_size: int = 1,
    ranking: str = "signed",
) -> pd.DataFrame:
    """(examples × sets) pathway-level attributions: the mean (or sum) over each set's genes."""
    a = ranking_scores(np.asarray(attributions, dtype=np.float64), ranking)
    if a.ndim == 1:
        a = a[None, :]
    m, names = pathway_matrix(gene_sets, var_names, min_size=min_size)
    if a.shape[1] != m.shape[0]:
        raise GeneSpaceError(
            f"attributions have {a.shape[1]} genes, var_names {m.shape[0]}",
            where="var_names",
            fix="pass the attributions' gene names",
        )
    if how not in ("mean", "sum"):
        raise InvalidParameterError(
            f"how={how!r} is not 'mean' or 'sum'", where="how", fix="use 'mean' or 'sum'"
        )
    totals = np.asarray((m.T @ a.T).T)
    if how == "mean":
        totals = totals / np.asarray(m.sum(axis=0)).ravel()[None, :]
    return pd.DataFrame(totals, columns=names)


def pathways_to_genes(pathway_values: np.ndarray, membership: sp.spmatrix, *, how: str = "max") -> np.ndarray:
    """Spread (examples × sets) scores back to genes: each gene gets the max (or mean) of its
    sets' scores; genes in no set get the lowest score of the row.
    """
    v = np.asarray(pathway_values, dtype=np.float64)
    member = sp.csr_matrix(membership)
    out = np.empty((v.shape[0], member.shape[0]))
    floor = v.min(axis=1, keepdims=True) - 1.0
    counts = np.diff(member.indptr)
    if how == "mean":
        out[:] = np.asarray((member @ v.T).T) / np.maximum(counts, 1)[None, :]
    elif how == "max":
        out[:] = floor
        for g in np.flatnonzero(counts):
            sets = member.indices[member.indptr[g] : member.indptr[g + 1]]
            out[:, g] = v[:, sets].max(axis=1)
    else:
        raise InvalidParameterError(
            f"how={how!r} is not 'max' or 'mean'", where="how", fix="use 'max' or 'mean'"
        )
    out[:, counts == 0] = floor
    return out


def pathway_smooth(attributions: np.ndarray, membership: sp.spmatrix) -> np.ndarray:
    """Each gene scored by the best mean attribution among the gene sets it belongs to.

    ``membership`` is (genes × sets), e.g. ``adata.varm["pathway_membership"]`` of a simulation
    or the first output of :func:`pathway_matrix` for a GMT. Genes in no set rank last.
    """
    a = np.asarray(attributions, dtype=np.float64)
    member = sp.csr_matrix(membership)
    if member.shape[0] != a.shape[-1]:
        raise GeneSpaceError(
            f"membership covers {member.shape[0]} genes, attributions {a.shape[-1]}",
            where="membership",
            fix="build the membership over the attributions' genes",
        )
    sizes = np.maximum(np.asarray(member.sum(axis=0)).ravel(), 1)
    means = np.asarray((member.T @ np.atleast_2d(a).T).T) / sizes[None, :]
    return pathways_to_genes(means, member, how="max")


def refine_attributions(
    attributions: np.ndarray,
    predicted: Sequence,
    profiles: Mapping[str, np.ndarray],
    *,
    weight: float = 0.5,
    membership: sp.spmatrix | None = None,
) -> np.ndarray:
    """The recommended post-hoc pipeline: class shrinkage, then (optionally) pathway smoothing.

    ``profiles`` come from :func:`class_profiles` on training attributions; ``predicted`` is each
    example's predicted class. See the user guide on explanations for the evidence.
    """
    out = shrink_to_class(attributions, predicted, profiles, weight=weight)
    return pathway_smooth(out, membership) if membership is not None else out


def simulated_pathways(adata) -> dict[str, list[str]]:
    """Pathway → genes of a dataset made by :func:`exprlab.simulate.simulate_lda`."""
    if "pathway_membership" not in adata.varm or "pathway_names" not in adata.uns:
        raise InputDataError(
            "the data carries no simulated pathways",
            where="varm",
            fix="use data from exprlab.simulate.simulate_lda or pass a GMT",
        )
    m = sp.csc_matrix(adata.varm["pathway_membership"])
    genes = np.asarray(adata.var_names)
    return {
        name: genes[m.indices[m.indptr[j] : m.indptr[j + 1]]].tolist()
        for j, name in enumerate(adata.uns["pathway_names"])
    }


def class_profiles(
    attributions: np.ndarray, labels: Sequence, *, normalize: bool = True
) -> dict[str, np.ndarray]:
    """Class → mean L2-normalised attribution of the class's examples, itself L2-normalised."""
    scores = global_rankings(attributions, labels, method="sum", normalize=normalize)
    return {c: v / max(np.linalg.norm(v), 1e-300) for c, v in scores.items()}


def shrink_to_class(
    attributions: np.ndarray, classes: Sequence, profiles: Mapping[str, np.ndarray], *, weight: float = 0.5
) -> np.ndarray:
    """(1 − w)·â + w·profile[class] for each example's normalised attribution â.

    ``classes`` is each example's predicted class; ``profiles`` come from *training* examples
    (:func:`class_profiles`), so a test example's explanation borrows the class's typical
    explanation without seeing other test examples.
    """
    if not 0.0 <= weight <= 1.0:
        raise InvalidParameterError(
            f"weight={weight} is outside [0, 1]",
            where="weight",
            fix="choose a shrinkage weight between 0 and 1",
        )
    a = normalize_attributions(attributions)
    c = np.asarray(classes).astype(str)
    missing = sorted(set(c) - set(profiles))
    if missing:
        raise InputDataError(
            f"no class profile for {missing[:5]}",
            where="profiles",
            fix="compute profiles on training data covering every class",
        )
    prof = np.stack([profiles[k] for k in c])
    return (1.0 - weight) * a + weight * prof
