"""Synthetic genes and queries shared by the signature-search benchmarks.

The benchmark scripts run as ``python benchmarks/bench_x.py``, which puts this folder on the import
path, so they import it as ``from _synthetic import ...``.
"""

from __future__ import annotations

import numpy as np


def genes_of(n: int) -> list[str]:
    """Gene names ``G0 ... G{n-1}`` of a synthetic library."""
    return [f"G{i}" for i in range(n)]


def queries_of(n_queries: int, n_genes: int, seed: int, set_size: int = 150) -> dict:
    """``n_queries`` random up/down queries of ``set_size`` genes each, disjoint within a query.

    Drawn from ``default_rng(seed + 1)`` so that the library (drawn from ``seed``) and the
    queries never share a stream.
    """
    rng = np.random.default_rng(seed + 1)
    genes = genes_of(n_genes)
    out = {}
    for q in range(n_queries):
        pick = rng.choice(n_genes, 2 * set_size, replace=False)
        out[f"q{q}"] = ([genes[i] for i in pick[:set_size]], [genes[i] for i in pick[set_size:]])
    return out
