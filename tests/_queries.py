"""Random up/down gene-set queries shared by the scoring tests."""

from __future__ import annotations

import numpy as np


def random_up_down(n: int, n_genes: int, n_up: int, n_down: int, *, seed: int, prefix: str = "G") -> dict:
    """``n`` queries ``q0 ...`` of ``n_up`` up and ``n_down`` down genes, disjoint within a query.

    Genes are named ``{prefix}{index}`` over ``n_genes``; each query is one draw without
    replacement from ``default_rng(seed)``, its first ``n_up`` genes up, the rest down.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for q in range(n):
        pick = rng.choice(n_genes, n_up + n_down, replace=False)
        out[f"q{q}"] = ([f"{prefix}{i}" for i in pick[:n_up]], [f"{prefix}{i}" for i in pick[n_up:]])
    return out
