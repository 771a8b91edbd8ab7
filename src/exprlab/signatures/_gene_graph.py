"""The gene–gene diffusion operator learnt from a training matrix (docs/methods.md §3).

D = D̃^{-1/2} (A + I) D̃^{-1/2}, where A is the gene–gene Pearson correlation on the training data,
kept where it exceeds the threshold (0.5; weights are the correlations themselves, negative
correlations dropped), with a zero diagonal, and D̃ the degree matrix of A + I. It is plain
numpy/scipy, so pathway smoothing of attributions uses it without loading torch; the torch layer
that applies it inside a classifier is ``exprlab.models.GraphDiffusion``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from exprlab._validation import check_interval


def correlation_graph(values: np.ndarray, *, threshold: float = 0.5, chunk_size: int = 2048) -> sp.csr_matrix:
    """Pearson correlation between the columns (genes) of ``values``, kept above ``threshold``.

    Computed block by block, so 15,000 genes never need the dense 15,000 x 15,000 matrix.
    Genes that are constant have no defined correlation and get no edge. The diagonal is zero.
    """
    check_interval(threshold, "threshold", 0.0, 1.0, closed="left")
    x = np.asarray(values, dtype=np.float64)
    centred = x - x.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    constant = norms <= 1e-12 * np.maximum(1.0, np.abs(x).max(axis=0))
    unit = np.where(constant, 0.0, centred / np.where(constant, 1.0, norms))
    p = unit.shape[1]
    rows, cols, vals = [], [], []
    for start in range(0, p, chunk_size):
        stop = min(start + chunk_size, p)
        corr = unit[:, start:stop].T @ unit  # (block, p)
        corr[np.arange(stop - start), np.arange(start, stop)] = 0.0
        r, c = np.nonzero(corr > threshold)
        rows.append(r + start)
        cols.append(c)
        vals.append(corr[r, c])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(p, p))


def normalized_diffusion(adjacency: sp.spmatrix) -> sp.csr_matrix:
    """D̃^{-1/2} (A + I) D̃^{-1/2}, with D̃ the row sums of A + I (the GCN normalisation)."""
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    a = a + sp.identity(a.shape[0], format="csr", dtype=np.float64)
    degree = np.asarray(a.sum(axis=1)).ravel()
    inv_sqrt = sp.diags(1.0 / np.sqrt(degree))
    return sp.csr_matrix(inv_sqrt @ a @ inv_sqrt)


def diffusion_matrix(values: np.ndarray, *, threshold: float = 0.5) -> sp.csr_matrix:
    """The diffusion operator of docs/methods.md §3 learnt from a (training) matrix.

    Parameters
    ----------
    values
        (samples × genes) training inputs.
    threshold
        Correlations above it, in [0, 1), become edges of the gene graph.

    Returns
    -------
    scipy.sparse.csr_matrix
        D = D̃^{-1/2}(A + I)D̃^{-1/2}, (genes × genes), symmetric.
    """
    return normalized_diffusion(correlation_graph(values, threshold=threshold))
