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
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.errors import GeneSpaceError, InputDataError
from exprlab.evaluate import (
    GlobalMethod,
    Ranking,
    global_ranking_scores,
    normalize_attributions,
    ranking_scores,
)
from exprlab.signatures import diffusion_matrix

__all__ = [
    "rank_genes",
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


def rank_genes(attributions: np.ndarray, *, ranking: Ranking = "signed") -> np.ndarray:
    """Gene indices by decreasing importance, per row (2-D input) or for one vector (1-D).

    Parameters
    ----------
    attributions
        (examples × genes) or (genes,) attributions.
    ranking
        ``signed`` or ``absolute`` (see :func:`ranking_scores`).

    Returns
    -------
    numpy.ndarray
        Gene indices, most important first; ties keep gene order.
    """
    a = ranking_scores(np.asarray(attributions, dtype=np.float64), ranking)
    return np.argsort(-a, axis=-1, kind="stable")


def global_rankings(
    attributions: np.ndarray,
    labels: Sequence,
    *,
    method: GlobalMethod = "sum",
    top: int | Mapping[str, int] | None = None,
    ranking: Ranking = "signed",
    normalize: bool = True,
) -> dict[str, np.ndarray]:
    """Class → (p,) global gene scores from the attributions of that class's examples.

    Parameters
    ----------
    attributions
        (examples × genes) attributions.
    labels
        The class of each example (its row).
    method
        ``sum`` or ``pooled`` (see :func:`global_ranking_scores`).
    top
        Top-list size of ``pooled``: one for all classes or one per class.
    ranking
        ``signed`` or ``absolute``.
    normalize
        L2-normalise each example's attributions first (docs/methods.md §3).

    Returns
    -------
    dict of str to numpy.ndarray
        Class (as text) → (genes,) scores, classes in order of first appearance.
    """
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
        kk = top.get(cls) if isinstance(top, Mapping) else top
        out[cls] = global_ranking_scores(a[y == cls], method=method, top=kk, ranking=ranking)
    return out


def diffusion_operator(train_values: np.ndarray, *, threshold: float = 0.5) -> sp.csr_matrix:
    """D = D̃^{-1/2}(A + I)D̃^{-1/2} from training data (genes in columns), docs/methods.md §3.

    Parameters
    ----------
    train_values
        (samples × genes) training inputs.
    threshold
        Correlations above it become graph edges.

    Returns
    -------
    scipy.sparse.csr_matrix
        The symmetric (genes × genes) diffusion operator.
    """
    return diffusion_matrix(np.asarray(train_values), threshold=threshold)


def diffuse_attributions(attributions: np.ndarray, operator: sp.spmatrix, *, power: int = 1) -> np.ndarray:
    """Attributions multiplied ``power`` times by the (symmetric) diffusion operator.

    Correlated genes then share their importance (docs/methods.md §3).

    Parameters
    ----------
    attributions
        (examples × genes) or (genes,) attributions.
    operator
        (genes × genes) operator from :func:`diffusion_operator`.
    power
        How many times the operator is applied.

    Returns
    -------
    numpy.ndarray
        The diffused attributions, same shape.
    """
    a = np.asarray(attributions, dtype=np.float64)
    if operator.shape != (a.shape[-1], a.shape[-1]):
        raise GeneSpaceError(
            f"the diffusion operator is {operator.shape}, attributions have {a.shape[-1]} genes",
            where="operator",
            fix="learn the operator on data over the attributions' genes",
        )
    op = sp.csr_matrix(operator)
    out = a
    for _ in range(check_count(power, "power")):
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

    Parameters
    ----------
    gene_sets
        Set name → member genes (e.g. a GMT read by :func:`exprlab.io.read_gmt`).
    var_names
        The data's genes, the rows of the result.
    min_size
        Sets with fewer shared genes are dropped.
    where
        What an error names as the source of the sets.

    Returns
    -------
    membership : scipy.sparse.csr_matrix
        (genes × kept sets) 0/1 matrix.
    names : list of str
        The kept sets, in column order.

    Raises
    ------
    GeneSpaceError
        When no set shares a gene with the data (a GMT of another organism or identifier type,
        typically).
    """
    index = pd.Index(np.asarray(var_names).astype(str))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    names: list[str] = []
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
    how: Literal["mean", "sum"] = "mean",
    min_size: int = 1,
    ranking: Ranking = "signed",
) -> pd.DataFrame:
    """(examples × sets) pathway-level attributions: the mean (or sum) over each set's genes.

    Parameters
    ----------
    attributions
        (examples × genes) or (genes,) attributions.
    gene_sets
        Set name → member genes.
    var_names
        The attributions' genes.
    how
        ``mean`` or ``sum`` over each set's genes in the data.
    min_size
        Sets with fewer shared genes are dropped.
    ranking
        ``signed`` or ``absolute`` values are aggregated.

    Returns
    -------
    pandas.DataFrame
        One row per example, one column per kept set.
    """
    check_choice(how, "how", ("mean", "sum"))
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
    totals = np.asarray((m.T @ a.T).T)
    if how == "mean":
        totals = totals / np.asarray(m.sum(axis=0)).ravel()[None, :]
    return pd.DataFrame(totals, columns=names)


def pathways_to_genes(
    pathway_values: np.ndarray, membership: sp.spmatrix, *, how: Literal["max", "mean"] = "max"
) -> np.ndarray:
    """Spread (examples × sets) scores back to genes.

    Parameters
    ----------
    pathway_values
        (examples × sets) scores.
    membership
        (genes × sets) membership (see :func:`pathway_matrix`).
    how
        Each gene gets the ``max`` or the ``mean`` of its sets' scores.

    Returns
    -------
    numpy.ndarray
        (examples × genes) scores; genes in no set get one less than the row's lowest score.
    """
    check_choice(how, "how", ("max", "mean"))
    v = np.asarray(pathway_values, dtype=np.float64)
    member = sp.csr_matrix(membership)
    out = np.empty((v.shape[0], member.shape[0]))
    floor = v.min(axis=1, keepdims=True) - 1.0
    counts = np.diff(member.indptr)
    if how == "mean":
        out[:] = np.asarray((member @ v.T).T) / np.maximum(counts, 1)[None, :]
    else:
        out[:] = floor
        for g in np.flatnonzero(counts):
            sets = member.indices[member.indptr[g] : member.indptr[g + 1]]
            out[:, g] = v[:, sets].max(axis=1)
    out[:, counts == 0] = floor
    return out


def pathway_smooth(attributions: np.ndarray, membership: sp.spmatrix) -> np.ndarray:
    """Each gene scored by the best mean attribution among the gene sets it belongs to.

    Parameters
    ----------
    attributions
        (examples × genes) or (genes,) attributions.
    membership
        (genes × sets), e.g. ``adata.varm["pathway_membership"]`` of a simulation or the first
        output of :func:`pathway_matrix` for a GMT.

    Returns
    -------
    numpy.ndarray
        (examples × genes) smoothed scores; genes in no set rank last.
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

    See the user guide on explanations for the evidence behind this choice.

    Parameters
    ----------
    attributions
        (examples × genes) attributions to refine.
    predicted
        Each example's predicted class.
    profiles
        Class → profile, from :func:`class_profiles` on training attributions.
    weight
        Shrinkage weight in [0, 1] (see :func:`shrink_to_class`).
    membership
        (genes × sets) membership for pathway smoothing; ``None`` skips it.

    Returns
    -------
    numpy.ndarray
        (examples × genes) refined attributions.
    """
    out = shrink_to_class(attributions, predicted, profiles, weight=weight)
    return pathway_smooth(out, membership) if membership is not None else out


def simulated_pathways(adata) -> dict[str, list[str]]:
    """Pathway → genes of a dataset made by :func:`exprlab.simulate.simulate_lda`.

    Parameters
    ----------
    adata
        A simulated dataset (carries ``varm["pathway_membership"]`` and ``uns["pathway_names"]``).

    Returns
    -------
    dict of str to list of str
        Pathway name → its genes, usable wherever gene sets are accepted.
    """
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
    """Class → mean L2-normalised attribution of the class's examples, itself L2-normalised.

    Parameters
    ----------
    attributions
        (examples × genes) training attributions.
    labels
        The class of each example.
    normalize
        L2-normalise each example's attributions before averaging.

    Returns
    -------
    dict of str to numpy.ndarray
        Class → (genes,) unit-norm profile, for :func:`shrink_to_class`.
    """
    scores = global_rankings(attributions, labels, method="sum", normalize=normalize)
    return {c: v / max(np.linalg.norm(v), 1e-300) for c, v in scores.items()}


def shrink_to_class(
    attributions: np.ndarray, classes: Sequence, profiles: Mapping[str, np.ndarray], *, weight: float = 0.5
) -> np.ndarray:
    """(1 − w)·â + w·profile[class] for each example's normalised attribution â.

    Profiles come from *training* examples, so a test example's explanation borrows the class's
    typical explanation without seeing other test examples.

    Parameters
    ----------
    attributions
        (examples × genes) attributions.
    classes
        Each example's predicted class.
    profiles
        Class → profile from :func:`class_profiles`.
    weight
        Shrinkage weight w in [0, 1].

    Returns
    -------
    numpy.ndarray
        (examples × genes) shrunk attributions.
    """
    check_fraction(weight, "weight")
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
