"""A fixed graph-diffusion layer over the gene correlation graph (DiffuseLR / DiffuseMLP).

docs/methods.md §3: D = D̃^{-1/2} (A + I) D̃^{-1/2}, where A is the gene-gene Pearson correlation on
the training data, kept where it exceeds the threshold (0.5; weights are the correlations
themselves, negative correlations dropped), with a zero diagonal, and D̃ the degree matrix of
A + I. Each example's expression vector x becomes D x: every gene is averaged with the genes
it is correlated with. The layer has no trainable parameter, so for Integrated Gradients it
folds into the next linear layer (W D is again a linear map of x).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from exprlab._validation import check_interval
from exprlab.errors import InvalidParameterError


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


class GraphDiffusion(nn.Module):
    """x ↦ D x for each example (row) x, with a fixed sparse symmetric D (no parameters).

    The operator is stored as COO buffers (indices, values) so it is saved with the module's
    ``state_dict`` and moves with ``.to()``; :meth:`matrix` returns it as a torch sparse tensor.

    Parameters
    ----------
    matrix
        The (p × p) operator, e.g. from :func:`diffusion_matrix`.
    n_features
        Without ``matrix``: p, for an identity placeholder whose operator is then loaded from
        saved weights.
    """

    indices: torch.Tensor
    values: torch.Tensor

    def __init__(self, matrix: sp.spmatrix | None = None, *, n_features: int | None = None):
        super().__init__()
        if matrix is None:
            if n_features is None:
                raise InvalidParameterError(
                    "GraphDiffusion needs a matrix or n_features", where="GraphDiffusion"
                )
            matrix = sp.identity(n_features, format="coo")
        coo = sp.coo_matrix(matrix)
        self.n_features = coo.shape[0]
        self.register_buffer("indices", torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64)))
        self.register_buffer("values", torch.from_numpy(coo.data.astype(np.float32)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the number of edges is only known from the saved buffers: resize before loading
        for name in ("indices", "values"):
            key = prefix + name
            if key in state_dict:
                setattr(self, name, torch.empty_like(state_dict[key]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def matrix(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The operator as a sparse (p x p) torch tensor (row = output gene)."""
        values = self.values if dtype is None else self.values.to(dtype)
        return torch.sparse_coo_tensor(
            self.indices,
            values,
            (self.n_features, self.n_features),
            check_invariants=False,
            is_coalesced=True,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, p) -> (n, p): each row multiplied by D (D x with x as a column)."""
        return torch.sparse.mm(self.matrix(x.dtype), x.T).T

    def fold_into(self, weight: torch.Tensor) -> torch.Tensor:
        """The weight W' of the composed map x ↦ W (D x): W' = W D, computed sparsely."""
        # (W D)ᵀ = Dᵀ Wᵀ
        return torch.sparse.mm(self.matrix(weight.dtype).t(), weight.T).T

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}, edges={int(self.values.numel())}"
