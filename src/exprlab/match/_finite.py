"""The check that library values are finite (done once per signature, when read or built)."""

from __future__ import annotations

import numpy as np

from exprlab.errors import InputDataError, NonFiniteValueError


def check_finite(values: np.ndarray, names, where: str) -> None:
    """Refuse NaN/inf in library signatures, naming the first offenders.

    Parameters
    ----------
    values
        A block of signatures (rows) x genes.
    names
        The block's signature ids, named in the message.
    where
        The library, named in the message.
    """
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        offenders = [str(n) for n in np.asarray(names)[bad][:5]]
        raise NonFiniteValueError(
            f"library signature(s) {offenders} contain NaN or infinite values "
            f"({int(bad.sum())} signature(s) in this block)",
            where=where,
            fix="drop or impute those signatures before building/scoring the library",
        )


def checked_chunk(values: np.ndarray, obs, n_genes: int, where) -> np.ndarray:
    """A chunk of signatures for a library writer: float32, shape matching, finite.

    Parameters
    ----------
    values
        Signatures (rows) x genes.
    obs
        Their metadata, one row per signature, ids as index.
    n_genes
        The library's gene count.
    where
        The library being written, named in messages.

    Returns
    -------
    numpy.ndarray
        ``values`` as float32.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != n_genes or values.shape[0] != len(obs):
        raise InputDataError(
            f"a chunk of shape {values.shape} does not match {len(obs)} signatures x {n_genes} genes",
            where=where,
            fix="pass rows over the library's genes",
        )
    check_finite(values, obs.index, str(where))
    return values
