"""Natural order of class labels (``C2`` before ``C10``), for tables and heatmaps."""

from __future__ import annotations

import re

_RUNS = re.compile(r"(\d+)")


def natural_order(values) -> list[str]:
    """Distinct values as text in natural order: ``C2`` before ``C10``, numbers by value.

    Parameters
    ----------
    values
        Labels (any type; compared as text split into digit and non-digit runs).

    Returns
    -------
    list of str
        The distinct labels, naturally sorted.
    """
    names = {str(v) for v in values}
    return sorted(
        names, key=lambda t: [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in _RUNS.split(t) if p]
    )
