"""KS connectivity score (CMap 2006, Lamb et al.), raw and scaled.

For a set S of t genes with ranks V(1) < ... < V(t) in a reference of n genes:
a = max_j (j/t - V(j)/n), b = max_j (V(j)/n - (j-1)/t), KS = a if a > b else -b.
Raw score s = KS_up - KS_down when the two have opposite signs, else 0. The scaled score divides
positive raw scores by the library's maximum and negative ones by the absolute minimum (per
query), so it lies in [-1, 1]; negative means the reference reverses the query.
"""

from __future__ import annotations

import numpy as np

from exprlab.match._base import Method, always, combine_up_down, register, scratch_array, set_sizes
from exprlab.match._ranks import up_down_statistics


def _chunk(queries, values, rank2, opts) -> dict[str, np.ndarray]:
    ks_up, ks_dn = up_down_statistics(queries, rank2, None, statistic="ks", opts=opts)
    n_up, n_dn = set_sizes(queries)
    raw = combine_up_down(
        ks_up, ks_dn, n_up, n_dn, rule="opposite", out=scratch_array(opts, "score", ks_up.shape)
    )
    return {"score": raw, "up": ks_up, "down": ks_dn}


def scale_ks(raw: np.ndarray) -> np.ndarray:
    """Scale raw KS scores per query (row) over the library: s/max(s) if s > 0, -s/min(s) if s < 0."""
    mx = np.where(raw > 0, raw, 0.0).max(axis=1, keepdims=True)
    mn = np.where(raw < 0, raw, 0.0).min(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(raw > 0, raw / np.where(mx > 0, mx, 1.0), 0.0)
        neg = np.where(raw < 0, -raw / np.where(mn < 0, mn, -1.0), 0.0)
    return pos + neg


def _finalize_scaled(parts, queries, obs, opts) -> dict[str, np.ndarray]:
    return {**parts, "raw": parts["score"], "score": scale_ks(parts["score"])}


KS = register(
    Method(
        "ks",
        _chunk,
        _finalize_scaled,
        needs_ranks=True,
        needs_values=False,
        query_genes=always,
        description="KS connectivity, scaled over the library (CMap 2006)",
    )
)
KS_RAW = register(
    Method(
        "ks_raw",
        _chunk,
        None,
        needs_ranks=True,
        needs_values=False,
        query_genes=always,
        description="KS connectivity, raw score (CMap 2006)",
    )
)
