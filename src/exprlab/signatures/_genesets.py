"""Up/down gene sets from signatures: top k by value, or thresholds on value and p-value.

The CMap query convention: the ``up`` most up-regulated and ``down`` most down-regulated genes of
a signature (150/150 by default). Ties in value are broken by gene order (stable sort), so the
sets are reproducible.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from exprlab._validation import check_count
from exprlab.errors import InputDataError


def top_bottom_indices(values: np.ndarray, up: int, down: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``up`` largest and ``down`` smallest finite entries of a 1-D vector.

    NaN entries are never selected. When there are fewer than ``up + down`` finite values the
    down set takes what is left after the up set, so the two never overlap.

    Parameters
    ----------
    values
        A 1-D vector (one signature over genes).
    up, down
        Numbers of largest and smallest entries to take (0 or more).

    Returns
    -------
    tuple of numpy.ndarray
        Positions of the up entries (largest first) and of the down entries (smallest first);
        ties in value are broken by position.
    """
    up = check_count(up, "up")
    down = check_count(down, "down")
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
    pvalue_layer
        The layer holding the p-values.

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
    check_count(up, "up", allow_none=True)  # type: ignore[arg-type]
    check_count(down, "down", allow_none=True)  # type: ignore[arg-type]
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
    """Tidy view of up/down sets: one row per (signature, direction, gene).

    Parameters
    ----------
    sets
        Signature name -> (up genes, down genes), as :func:`up_down_sets` returns them.

    Returns
    -------
    pandas.DataFrame
        Columns ``signature``, ``direction`` (``up`` or ``down``) and ``gene``.
    """
    rows = [
        (name, direction, gene)
        for name, (u, d) in sets.items()
        for direction, genes in (("up", u), ("down", d))
        for gene in genes
    ]
    return pd.DataFrame(rows, columns=["signature", "direction", "gene"])


def signed_set_matrix(
    pairs: Sequence[tuple[Collection, Collection]],
    genes: pd.Index | Sequence[str] | int,
    *,
    dtype: type = np.float32,
) -> sp.csr_matrix:
    """Sparse matrix of signed gene sets: +1 on each row's up genes, -1 on its down genes.

    The one place where (up, down) gene-set pairs become a matrix, used by queries, gene-set
    libraries and the CMap 02 and repurposing loaders.

    Parameters
    ----------
    pairs
        One ``(up, down)`` pair per row. Members are gene names looked up in ``genes`` (names
        absent from ``genes`` are ignored), or integer column positions when ``genes`` is an int.
    genes
        The gene space (column order), or its size when the members are positions.
    dtype
        Value type of the matrix.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``len(pairs) x n_genes``. A gene listed twice in one row adds up (so a gene in both the up
        and the down set of a row scores 0).
    """
    n_rows = len(pairs)
    up_len = np.fromiter((len(u) for u, _ in pairs), dtype=np.int64, count=n_rows)
    dn_len = np.fromiter((len(d) for _, d in pairs), dtype=np.int64, count=n_rows)
    members = [g for u, _ in pairs for g in u] + [g for _, d in pairs for g in d]
    rows = np.concatenate([np.repeat(np.arange(n_rows), up_len), np.repeat(np.arange(n_rows), dn_len)])
    vals = np.concatenate([np.ones(int(up_len.sum()), dtype), -np.ones(int(dn_len.sum()), dtype)])
    if isinstance(genes, int | np.integer):
        n_genes = int(genes)
        cols = np.asarray(members, dtype=np.int64).reshape(-1)
    else:
        index = genes if isinstance(genes, pd.Index) else pd.Index(list(genes))
        n_genes = len(index)
        cols = index.get_indexer(pd.Index(members, dtype=object)) if members else np.zeros(0, np.int64)
    keep = cols >= 0
    out = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n_rows, n_genes), dtype=dtype)
    out.sum_duplicates()
    return out
