"""Characteristic direction (Clark et al. 2014), as computed by the geode package.

From control (n1) and case (n2) samples over p genes: z-score each gene over all samples; mean
difference d = mean(case) - mean(control); PCA of the pooled (z-scored, centred) samples keeping
the components whose explained-variance ratio exceeds ``pca_threshold`` (0.001), V (p x k);
within-class scatter in PC space D = (R1'R1 + R2'R2) / (n1 + n2 - 2), R the class-centred PC
scores; sigma = mean(diag D); shrunk scatter S = gamma * D + sigma * (1 - gamma) * I;
b = V S^-1 V' d, normalised to unit length. gamma = 1 by default (no shrinkage toward sigma I);
smaller gamma in (0, 1] regularises for few samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData

from exprlab._validation import check_interval
from exprlab.signatures._foldchange import split_groups


def chdir_vector(
    control: np.ndarray, case: np.ndarray, *, gamma: float = 1.0, pca_threshold: float = 0.001
) -> np.ndarray:
    """Characteristic direction b (unit length) from two sample matrices (docs/methods.md §1).

    The direction separating case from control in a regularised linear discriminant, robust to
    genes that move together; the module docstring gives the computation.

    Parameters
    ----------
    control, case
        Samples x genes matrices (log-scale expression) of the two groups, same genes.
    gamma
        Shrinkage in (0, 1] of the within-class scatter toward sigma I (1 = none).
    pca_threshold
        Principal components whose explained-variance ratio exceeds this are kept.

    Returns
    -------
    numpy.ndarray
        One value per gene, unit Euclidean length.
    """
    check_interval(gamma, "gamma", 0.0, 1.0, closed="right")
    x = np.vstack([control, case]).astype(np.float64)
    n1, n2 = len(control), len(case)
    sd = x.std(axis=0)  # population sd, as scipy.stats.zscore used by geode
    sd[sd == 0] = 1.0
    z = (x - x.mean(axis=0)) / sd
    d = z[n1:].mean(axis=0) - z[:n1].mean(axis=0)
    centred = z - z.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    ratio = s**2 / np.sum(s**2)
    keep = ratio > pca_threshold
    v = vt[keep].T  # p x k
    scores = centred @ v
    r1 = scores[:n1] - scores[:n1].mean(axis=0)
    r2 = scores[n1:] - scores[n1:].mean(axis=0)
    dmat = (r1.T @ r1 + r2.T @ r2) / (n1 + n2 - 2)
    sigma = np.mean(np.diag(dmat))
    shrunk = gamma * dmat + sigma * (1 - gamma) * np.eye(len(dmat))
    b = v @ np.linalg.solve(shrunk, v.T @ d)
    return b / np.linalg.norm(b)


def characteristic_direction(
    samples: AnnData,
    labels,
    *,
    case,
    control,
    gamma: float = 1.0,
    pca_threshold: float = 0.001,
    name: str = "signature",
) -> AnnData:
    """One signature (1 x genes): the characteristic direction of case vs control samples.

    Parameters
    ----------
    samples
        AnnData samples x genes holding log-scale expression.
    labels
        A column of ``samples.obs`` or one label per sample.
    case, control
        The label values of the case and control samples (at least 2 each).
    gamma, pca_threshold
        As in :func:`chdir_vector`.
    name
        Name of the signature (its obs name).

    Returns
    -------
    anndata.AnnData
        1 x genes, the unit-length direction (:func:`chdir_vector`).
    """
    xc, xn = split_groups(samples, labels, case, control)
    b = chdir_vector(xn, xc, gamma=gamma, pca_threshold=pca_threshold)
    return AnnData(
        b[None, :], obs=pd.DataFrame(index=[name]), var=pd.DataFrame(index=samples.var_names.copy())
    )
