"""Preprocessing of expression matrices for the classifiers: log2(x + 1), then z-scores.

The z-score uses the training set's mean and (population) standard deviation, as the
explanation paper does (docs/methods.md §3). Genes that are constant in training (for example the
genes of SIMU2 that belong to no pathway and are always zero) keep a scale of 1, so they map
to ``x - mean`` instead of dividing by zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab.errors import GeneSpaceError, InputDataError, NonFiniteValueError


def dense_matrix(adata, *, layer: str | None = None, where: str = "data") -> np.ndarray:
    """The expression matrix of ``adata`` (``X`` or ``layers[layer]``) as dense float64.

    Raises :class:`NonFiniteValueError` naming the first sample and gene with NaN or infinity.

    Parameters
    ----------
    adata
        The data.
    layer
        A layer to read instead of ``X``.
    where
        What an error names as the source of the values.

    Returns
    -------
    numpy.ndarray
        The (samples, genes) matrix, float64.
    """
    if layer is None:
        matrix = adata.X
    else:
        if layer not in adata.layers:
            raise InputDataError(
                f"layer {layer!r} is absent (layers: {', '.join(adata.layers) or 'none'})",
                where=where,
                fix="name an existing layer or leave the layer unset to use X",
            )
        matrix = adata.layers[layer]
    if matrix is None:
        raise InputDataError(
            "the data has no expression matrix X", where=where, fix="load the expression values into X"
        )
    if sp.issparse(matrix):
        matrix = matrix.toarray()
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise InputDataError(
            f"the expression matrix is empty (shape {values.shape})",
            where=where,
            fix="pass at least one sample and one gene",
        )
    check_finite(values, obs_names=adata.obs_names, var_names=adata.var_names, where=where)
    return values


def check_finite(values: np.ndarray, *, obs_names=None, var_names=None, where: str = "data") -> None:
    """Raise :class:`~exprlab.errors.NonFiniteValueError` at the first NaN/infinite entry, naming it.

    Parameters
    ----------
    values
        The matrix to check.
    obs_names, var_names
        Row and column names for the message (indices when None).
    where
        What the message names as the source of the values.
    """
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        sample = obs_names[rows[0]] if obs_names is not None else f"row {rows[0]}"
        gene = var_names[cols[0]] if var_names is not None else f"column {cols[0]}"
        raise NonFiniteValueError(
            f"{int(bad.sum())} NaN or infinite expression values, the first at sample "
            f"{sample!r}, gene {gene!r}",
            where=where,
            fix="impute or drop the missing values (or the affected genes) before training or explaining",
        )


@dataclass
class Preprocessor:
    """Training-set preprocessing: optional log2(x + 1), then z-score per gene.

    Learnt once on the training data (:meth:`fit`) and saved with a model, so that new data is
    transformed exactly as the training data was.

    Parameters
    ----------
    genes
        The training gene order; data to transform is re-indexed to it.
    log2
        Whether log2(x + 1) is applied first (for counts).
    mean, scale
        Per-gene training mean and standard deviation (1 where the gene is constant).
    standardize
        Whether the z-score is applied at all.
    """

    genes: np.ndarray
    log2: bool
    mean: np.ndarray
    scale: np.ndarray
    standardize: bool = True

    @classmethod
    def fit(
        cls, values: np.ndarray, genes, *, log2: bool = False, standardize: bool = True, where: str = "data"
    ) -> Preprocessor:
        """Learn the per-gene statistics of the (training) matrix ``values``."""
        logged = log2p1(values, where=where) if log2 else values
        mean = logged.mean(axis=0) if standardize else np.zeros(logged.shape[1])
        std = logged.std(axis=0) if standardize else np.ones(logged.shape[1])
        # a gene is constant when its spread is negligible against its magnitude
        tiny = std <= 1e-12 * np.maximum(1.0, np.abs(mean))
        scale = np.where(tiny, 1.0, std)
        return cls(np.asarray(genes, dtype=object).astype(str), bool(log2), mean, scale, bool(standardize))

    def align(self, adata, *, layer: str | None = None, where: str = "data") -> np.ndarray:
        """Dense values of ``adata`` in the training gene order; missing genes are an error."""
        var = pd.Index(np.asarray(adata.var_names).astype(str))
        if var.has_duplicates:
            dup = var[var.duplicated()].unique()[:5].tolist()
            raise InputDataError(
                f"gene names repeat, e.g. {dup}",
                where=where,
                fix="make var_names unique (e.g. adata.var_names_make_unique())",
            )
        position = var.get_indexer(self.genes)
        missing = self.genes[position < 0]
        if missing.size:
            shown = ", ".join(missing[:10])
            more = f" and {missing.size - 10} more" if missing.size > 10 else ""
            raise GeneSpaceError(
                f"{missing.size} of the model's {self.genes.size} genes are missing from the "
                f"data: {shown}{more}",
                where=where,
                fix="use data measured on the model's genes (same identifiers), or retrain the "
                "model on the genes the data has",
            )
        values = dense_matrix(
            adata[:, position] if not _is_identity(position, len(var)) else adata, layer=layer, where=where
        )
        return values

    def transform_values(self, values: np.ndarray, *, where: str = "data") -> np.ndarray:
        """Apply the learnt preprocessing to a matrix already in training gene order."""
        logged = log2p1(values, where=where) if self.log2 else values
        return (logged - self.mean) / self.scale

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The state as plain arrays (for saving)."""
        return {
            "genes": self.genes.astype(str),
            "mean": self.mean,
            "scale": self.scale,
            "log2": np.array(self.log2),
            "standardize": np.array(self.standardize),
        }

    @classmethod
    def from_arrays(cls, arrays) -> Preprocessor:
        """Rebuild from :meth:`to_arrays` output."""
        return cls(
            np.asarray(arrays["genes"]).astype(str).astype(object).astype(str),
            bool(arrays["log2"]),
            np.asarray(arrays["mean"], dtype=np.float64),
            np.asarray(arrays["scale"], dtype=np.float64),
            bool(arrays["standardize"]),
        )


def _is_identity(position: np.ndarray, n: int) -> bool:
    return position.size == n and bool(np.all(position == np.arange(n)))


def log2p1(values: np.ndarray, *, where: str = "data") -> np.ndarray:
    """log2(x + 1), refusing negative values (which suggest data already on a log scale).

    Parameters
    ----------
    values
        Counts or non-negative intensities.
    where
        What an error names as the source of the values.

    Returns
    -------
    numpy.ndarray
        The logged values.
    """
    if (values < 0).any():
        raise InputDataError(
            "log2(x + 1) was asked for but the data has negative values (already log-scaled?)",
            where=where,
            fix="pass counts or non-negative intensities, or turn the log2 option off",
        )
    return np.log2(values + 1.0)
