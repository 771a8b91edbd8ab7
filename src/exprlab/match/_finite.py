"""The check that library values are finite (done once per signature, when read or built)."""

from __future__ import annotations

import numpy as np

from exprlab.errors import NonFiniteValueError


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
