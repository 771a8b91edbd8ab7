"""Signature pairs as a matcher reads them: sparse signature rows and pair data, without torch.

:class:`SparseRows` holds signatures as CSR rows over one gene space; :class:`PairData` bundles
the disease-contrast rows, the drug-perturbation rows, whose disease/drug each row belongs to and
optional (contrast × perturbation) pair features. Building them (from a benchmark, user files or a
simulation) needs no torch; only a matcher turns rows into ``EmbeddingBag`` inputs
(:meth:`SparseRows.bag`), and that call imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from exprlab.errors import InputDataError

if TYPE_CHECKING:
    import torch


class SparseRows:
    """Signatures as CSR rows over a fixed gene space, served as EmbeddingBag inputs.

    Parameters
    ----------
    matrix
        (signatures × genes) values, sparse or dense.
    normalize
        Divide each row by its L2 norm (signatures of different lengths then carry the same
        weight).
    """

    def __init__(self, matrix: sp.spmatrix | np.ndarray, *, normalize: bool = False):
        m = sp.csr_matrix(matrix, dtype=np.float32)
        m.eliminate_zeros()
        m.sort_indices()
        if normalize:
            norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            m = sp.csr_matrix(sp.diags(1.0 / norms) @ m, dtype=np.float32)
        self.matrix = m
        self.n_rows, self.n_genes = m.shape

    def bag(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(indices, offsets, weights) of the selected rows for ``nn.EmbeddingBag``."""
        import torch  # heavy: only a matcher asks for bags, the containers stay torch-free

        sub = self.matrix[np.asarray(rows)]
        offsets = torch.from_numpy(sub.indptr[:-1].astype(np.int64))
        return (
            torch.from_numpy(sub.indices.astype(np.int64)),
            offsets,
            torch.from_numpy(sub.data.astype(np.float32)),
        )


@dataclass
class PairData:
    """Everything a matcher reads: contrast and perturbation signatures plus pair features.

    Parameters
    ----------
    genes
        The model's gene space (columns of both sparse matrices).
    diseases, drugs
        :class:`SparseRows` of disease contrasts and of drug perturbations (instances).
    contrast_disease, instance_drug
        The disease of each contrast row and the drug of each instance row.
    extras
        Optional float32 array (features, contrasts, instances) of precomputed pair features
        (for example standardised connectivity scores).
    extra_names
        The names of the pair features, in ``extras`` order.
    """

    genes: list[str]
    diseases: SparseRows
    drugs: SparseRows
    contrast_disease: np.ndarray
    instance_drug: np.ndarray
    extras: np.ndarray | None = None
    extra_names: tuple[str, ...] = ()
    _normalized: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.contrast_disease = np.asarray(self.contrast_disease).astype(str)
        self.instance_drug = np.asarray(self.instance_drug).astype(str)
        if len(self.contrast_disease) != self.diseases.n_rows:
            raise InputDataError(
                "contrast_disease must name the disease of every contrast row",
                where="PairData",
                fix="pass one disease per contrast",
            )
        if len(self.instance_drug) != self.drugs.n_rows:
            raise InputDataError(
                "instance_drug must name the drug of every instance row",
                where="PairData",
                fix="pass one drug per instance",
            )
        if self.extras is not None and self.extras.shape[1:] != (
            self.diseases.n_rows,
            self.drugs.n_rows,
        ):
            raise InputDataError(
                f"pair features have shape {self.extras.shape[1:]}, expected "
                f"({self.diseases.n_rows}, {self.drugs.n_rows})",
                where="PairData.extras",
                fix="compute one feature value per (contrast, instance) pair",
            )

    @property
    def n_extras(self) -> int:
        return 0 if self.extras is None else int(self.extras.shape[0])

    def subset_genes(self, columns: np.ndarray) -> PairData:
        """The same signatures restricted to some gene columns (the model's gene space)."""
        cols = np.asarray(columns)
        return PairData(
            genes=[self.genes[i] for i in cols],
            diseases=SparseRows(self.diseases.matrix[:, cols]),
            drugs=SparseRows(self.drugs.matrix[:, cols]),
            contrast_disease=self.contrast_disease,
            instance_drug=self.instance_drug,
            extras=self.extras,
            extra_names=self.extra_names,
        )

    def contrast_rows(self, diseases: Sequence[str]) -> np.ndarray:
        """Row indices of every contrast of the given diseases."""
        return np.flatnonzero(np.isin(self.contrast_disease, np.asarray(list(diseases), dtype=str)))

    def instance_rows(self, drugs: Sequence[str]) -> np.ndarray:
        """Row indices of every perturbation of the given drugs."""
        return np.flatnonzero(np.isin(self.instance_drug, np.asarray(list(drugs), dtype=str)))
