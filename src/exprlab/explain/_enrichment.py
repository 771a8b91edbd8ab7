"""Offline pathway enrichment of attribution rankings: hypergeometric and rank-based tests.

Two complementary questions about a ranked gene list (for example genes ordered by their
Integrated Gradients attribution to a drug-disease match):

* :func:`hypergeometric_enrichment` — *over-representation*: are a set's genes more frequent
  among the top genes than among all genes of the universe? One-sided hypergeometric test,
  P(X >= k) with X ~ Hypergeom(M = universe size, n = set genes in the universe, N = top genes
  in the universe), as DAVID / Enrichr compute it.
* :func:`rank_enrichment` — *whole-list shift*: do a set's genes sit higher in the complete
  ranking than the other genes? One-sided Mann-Whitney U test (normal approximation with tie
  correction and continuity correction, as :func:`scipy.stats.mannwhitneyu` with
  ``method="asymptotic"``), computed for every set at once from one ranking (rank sums by a
  sparse product). It needs no cut-off, so it also sees a pathway whose genes are moderately
  but consistently attributed.

Both run fully offline against any GMT (``exprlab.io.read_gmt``, ``exprlab.datasets.genesets``)
and correct for the number of sets tested with Benjamini-Hochberg
(:func:`scipy.stats.false_discovery_control`). Sets are restricted to the universe first; a set
collection sharing no gene with the universe is an error, not an empty table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from exprlab._validation import check_choice
from exprlab.errors import InputDataError
from exprlab.explain._aggregate import pathway_matrix

__all__ = ["hypergeometric_enrichment", "rank_enrichment", "bh_adjust"]


def bh_adjust(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), for the pathway tables' ``qvalue``.

    Parameters
    ----------
    pvalues
        P-values, NaN-free.

    Returns
    -------
    numpy.ndarray
        q-values in the input order.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.size == 0:
        return p.copy()
    return stats.false_discovery_control(np.clip(p, 0.0, 1.0), method="bh")


def _universe(universe: Sequence[str], where: str) -> pd.Index:
    index = pd.Index(np.asarray(list(universe)).astype(str)).unique()
    if len(index) == 0:
        raise InputDataError(
            "the gene universe is empty", where=where, fix="pass the genes that could have been selected"
        )
    return index


def _hits(membership, cols: np.ndarray, uni: pd.Index, inside: pd.Index) -> list[str]:
    """Per tested set, its selected genes, comma-separated, in the order of the selection."""
    csc = membership.tocsc()
    position = {g: i for i, g in enumerate(inside)}
    out = []
    for j in cols:
        members = uni[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]]
        out.append(",".join(sorted((g for g in members if g in position), key=position.__getitem__)))
    return out


def hypergeometric_enrichment(
    genes: Sequence[str],
    gene_sets: Mapping[str, Sequence[str]],
    universe: Sequence[str],
    *,
    min_size: int = 3,
    max_size: int | None = None,
) -> pd.DataFrame:
    """Over-representation of gene sets among ``genes`` (the top genes) within ``universe``.

    Parameters
    ----------
    genes
        The selected genes (e.g. the top-N by attribution). Genes outside the universe are
        ignored (counted in ``attrs["n_outside_universe"]``).
    gene_sets
        Set name -> genes (a GMT read with :func:`exprlab.io.read_gmt`).
    universe
        Every gene that could have been selected (the explanation's gene space).
    min_size, max_size
        Sets with fewer / more genes in the universe are not tested.

    Returns
    -------
    pandas.DataFrame
        Sorted by p-value, one row per tested set: ``pathway``, ``set_size`` (genes in the
        universe), ``overlap``, ``expected`` (N n / M), ``fold_enrichment``, ``pvalue``
        (P(X >= overlap)), ``qvalue`` (Benjamini-Hochberg over the tested sets), ``genes`` (the
        overlapping genes, comma-separated, in the order of ``genes``).

    Raises
    ------
    GeneSpaceError
        No set shares a gene with the universe.
    InputDataError
        No selected gene is in the universe, or no set has a size within the bounds.
    """
    # Over 80 lines only with its docstring (the output columns are documented there).
    uni = _universe(universe, "universe")
    selected = pd.Index(np.asarray(list(genes)).astype(str)).unique()
    inside = selected[selected.isin(uni)]
    if len(inside) == 0:
        raise InputDataError(
            f"none of the {len(selected)} selected genes is in the universe of {len(uni)} genes",
            where="genes",
            fix="select genes from the universe (same identifier type)",
        )
    membership, names = pathway_matrix(gene_sets, uni, min_size=1, where="gene sets")
    sizes = np.asarray(membership.sum(axis=0)).ravel().astype(np.int64)
    keep = sizes >= int(min_size)
    if max_size is not None:
        keep &= sizes <= int(max_size)
    if not keep.any():
        raise InputDataError(
            f"no gene set has between {min_size} and {max_size or 'any number of'} genes in the "
            f"universe (largest: {int(sizes.max())})",
            where="gene sets",
            fix="lower min_size or use a collection over the same genes",
        )
    chosen = np.zeros(len(uni))
    chosen[uni.get_indexer(inside)] = 1.0
    overlap = np.asarray(membership.T @ chosen).ravel().round().astype(np.int64)
    M, N = len(uni), len(inside)
    cols = np.flatnonzero(keep)
    n, k = sizes[cols], overlap[cols]
    p = stats.hypergeom.sf(k - 1, M, n, N)
    expected = N * n / M
    hit_genes = _hits(membership, cols, uni, inside)
    out = pd.DataFrame(
        {
            "pathway": np.asarray(names)[cols],
            "set_size": n,
            "overlap": k,
            "expected": expected,
            "fold_enrichment": k / expected,
            "pvalue": p,
            "qvalue": bh_adjust(p),
            "genes": hit_genes,
        }
    )
    out = out.sort_values(
        ["pvalue", "overlap", "pathway"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
    out.attrs.update(universe_size=M, n_selected=N, n_outside_universe=int(len(selected) - len(inside)))
    return out


def rank_enrichment(
    scores: pd.Series | Mapping[str, float],
    gene_sets: Mapping[str, Sequence[str]],
    *,
    alternative: Literal["greater", "less", "two-sided"] = "greater",
    min_size: int = 3,
    max_size: int | None = None,
) -> pd.DataFrame:
    """Mann-Whitney U test of each set's scores against all other genes' scores.

    Parameters
    ----------
    scores
        One score per gene of the universe (the whole ranked list, e.g. combined attributions;
        larger = more important). Every gene in ``scores`` is the universe.
    gene_sets
        Set name -> genes.
    alternative
        ``"greater"`` (set genes rank higher), ``"less"`` or ``"two-sided"``.
    min_size, max_size
        Sets with fewer / more genes in the universe are not tested; at least one gene must
        remain outside a set for the comparison to exist.

    Returns
    -------
    pandas.DataFrame
        Sorted by p-value: ``pathway``, ``set_size``, ``mean_score`` (of the set's genes),
        ``auc`` (U / (n1 n2): the probability that a set gene outranks an outside gene, ties
        counting one half), ``z``, ``pvalue``, ``qvalue`` (Benjamini-Hochberg).
    """
    check_choice(alternative, "alternative", ("greater", "less", "two-sided"))
    s = _checked_scores(scores)
    membership, names = pathway_matrix(gene_sets, s.index, min_size=1, where="gene sets")
    sizes = np.asarray(membership.sum(axis=0)).ravel().astype(np.int64)
    G = len(s)
    keep = (sizes >= int(min_size)) & (sizes < G)
    if max_size is not None:
        keep &= sizes <= int(max_size)
    if not keep.any():
        raise InputDataError(
            f"no gene set has between {min_size} and {max_size or G - 1} genes among the {G} scored genes",
            where="gene sets",
            fix="lower min_size or score more genes",
        )
    values = s.to_numpy()
    cols = np.flatnonzero(keep)
    n1 = sizes[cols].astype(np.float64)
    u, z, p = _mann_whitney(values, membership, cols, n1, alternative)
    means = np.asarray(membership.T @ values).ravel()[cols] / n1
    out = pd.DataFrame(
        {
            "pathway": np.asarray(names)[cols],
            "set_size": n1.astype(np.int64),
            "mean_score": means,
            "auc": u / (n1 * (G - n1)),
            "z": z,
            "pvalue": p,
            "qvalue": bh_adjust(p),
        }
    )
    return out.sort_values(
        ["pvalue", "mean_score", "pathway"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


def _checked_scores(scores) -> pd.Series:
    """The scores as a float Series over unique gene names; non-finite or fewer than 2 is an error."""
    s = pd.Series(scores, dtype=np.float64)
    s.index = s.index.astype(str)
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise InputDataError(
            f"gene {dup!r} has more than one score", where="scores", fix="give one score per gene"
        )
    if not np.isfinite(s.to_numpy()).all():
        bad = s.index[~np.isfinite(s.to_numpy())][0]
        raise InputDataError(
            f"gene {bad!r} has a non-finite score",
            where="scores",
            fix="replace NaN/infinite scores before testing",
        )
    if len(s) < 2:
        raise InputDataError(
            f"{len(s)} scored genes; the test needs at least 2",
            where="scores",
            fix="pass the whole ranked list",
        )
    return s


def _mann_whitney(values: np.ndarray, membership, cols: np.ndarray, n1: np.ndarray, alternative: str):
    """U, z and p of each tested set's scores against the other genes' (normal approximation).

    Midranks for ties, with the tie-corrected variance and a continuity correction of 1/2.
    """
    G = len(values)
    ranks = stats.rankdata(values)  # midranks
    _, counts = np.unique(values, return_counts=True)
    tie_term = float((counts**3 - counts).sum())
    n2 = G - n1
    rank_sum = np.asarray(membership.T @ ranks).ravel()[cols]
    u = rank_sum - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    sigma = np.sqrt(n1 * n2 / 12.0 * ((G + 1) - tie_term / (G * (G - 1))))
    sigma = np.where(sigma > 0, sigma, np.nan)
    if alternative == "greater":
        z = (u - mu - 0.5) / sigma
        p = stats.norm.sf(z)
    elif alternative == "less":
        z = (u - mu + 0.5) / sigma
        p = stats.norm.cdf(z)
    else:
        z = (np.abs(u - mu) - 0.5) / sigma
        p = np.minimum(1.0, 2.0 * stats.norm.sf(z))
        z = np.sign(u - mu) * z
    p = np.where(np.isnan(p), 1.0, p)  # all scores tied: no evidence either way
    return u, z, p
