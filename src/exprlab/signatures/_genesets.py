"""Up/down gene sets from signatures: top k by value, or thresholds on value and p-value.

The CMap query convention: the ``up`` most up-regulated and ``down`` most down-regulated genes of
a signature (150/150 by default). Ties in value are broken by gene order (stable sort), so the
sets are reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData

from exprlab.errors import InputDataError, InvalidParameterError


def top_bottom_indices(values: np.ndarray, up: int, down: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``up`` largest and ``down`` smallest finite entries of a 1-D vector.

    NaN entries are never selected. When there are fewer than ``up + down`` finite values the
    down set takes what is left after the up set, so the two never overlap.
    """
    if up < 0 or down < 0:
        raise InvalidParameterError(
            f"set sizes must be non-negative (up={up}, down={down})",
            where="up/down",
            fix="pass sizes of 0 or more",
        )
    values = np.asarray(values, dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(values))
    order = finite[np.argsort(-values[finite], kind="stable")]
    up_idx = order[: min(up, len(order))]
    rest = order[len(up_idx) :]
    down_idx = rest[::-1][: min(down, len(rest))]
    return up_idx, down_idx


def up_down_sets(
    signatures: AnnData,
    *,
    up: int | None = 150,
    down: int | None = 150,
    value_threshold: float | None = None,
    pvalue_threshold: float | None = None,
    pvalue_layer: str = "pval",
) -> dict[str, tuple[list[str], list[str]]]:
    """Up/down gene sets of each signature (obs) of ``signatures``.

    Parameters
    ----------
    signatures
        AnnData, obs = signatures, var = genes, X = signed values (fold change, z...).
    up, down
        Keep at most this many genes per direction, the most extreme first (``None`` = no cap).
    value_threshold
        When given, only genes with value > threshold (up) or < -threshold (down) qualify.
    pvalue_threshold
        When given, only genes with ``layers[pvalue_layer]`` below the threshold qualify.

    Returns
    -------
    dict signature name -> (up genes, down genes), genes ordered most extreme first.
    """
    if pvalue_threshold is not None and pvalue_layer not in signatures.layers:
        raise InputDataError(
            f"no layer {pvalue_layer!r} holding p-values",
            where="signatures.layers",
            fix="add the p-values as a layer or drop pvalue_threshold",
        )
    x = np.asarray(signatures.X.toarray() if hasattr(signatures.X, "toarray") else signatures.X)
    genes = np.asarray(signatures.var_names)
    out: dict[str, tuple[list[str], list[str]]] = {}
    for i, name in enumerate(signatures.obs_names):
        row = x[i].astype(np.float64)
        ok = np.isfinite(row)
        if pvalue_threshold is not None:
            p = np.asarray(signatures.layers[pvalue_layer][i], dtype=np.float64)
            ok &= p < pvalue_threshold
        thr = 0.0 if value_threshold is None else float(value_threshold)
        up_vals = np.where(ok & (row > thr), row, np.nan)
        dn_vals = np.where(ok & (row < -thr), row, np.nan)
        n_up = int(np.isfinite(up_vals).sum()) if up is None else up
        n_dn = int(np.isfinite(dn_vals).sum()) if down is None else down
        up_idx, _ = top_bottom_indices(up_vals, n_up, 0)
        _, dn_idx = top_bottom_indices(dn_vals, 0, n_dn)
        if value_threshold is None and pvalue_threshold is None:
            up_idx, dn_idx = top_bottom_indices(row, n_up, n_dn)
        out[str(name)] = ([str(g) for g in genes[up_idx]], [str(g) for g in genes[dn_idx]])
    return out


def sets_to_frame(sets: dict[str, tuple[list[str], list[str]]]) -> pd.DataFrame:
    """Tidy view of up/down sets: one row per (signature, direction, gene)."""
    rows = [
        (name, direction, gene)
        for name, (u, d) in sets.items()
        for direction, genes in (("up", u), ("down", d))
        for gene in genes
    ]
    return pd.DataFrame(rows, columns=["signature", "direction", "gene"])
