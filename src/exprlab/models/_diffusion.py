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

from exprlab.errors import InvalidParameterError


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
