"""Weighted connectivity score (WTCS) and its normalisations NCS, tau and NCS_ct (CMap-L1000).

ES of a set S against a reference sorted by decreasing value: walking down the list, a hit adds
|r_i| / sum_hits |r|, a miss subtracts 1 / (N - N_S); ES is the signed value of largest absolute
deviation of that running sum. WTCS = (ES_up - ES_down) / 2 when the signs differ, else 0.

NCS divides WTCS by the mean WTCS of the same sign among references of the same group (cell
line and perturbation type): positive scores by the positive mean, negative scores by the
absolute negative mean.

tau = sign(NCS) * 100 * (fraction of a background NCS distribution whose absolute value is below
|NCS|). The background of a reference is its NCS against ``n_background`` random queries with
the same up/down sizes as the query, drawn with ``seed`` (CMap uses a fixed reference query set;
exprlab draws random ones so any library works; same seed -> same tau).

NCS_ct summarises a perturbagen's NCS values: of their 33rd and 67th percentiles (numpy's linear
interpolation) keep the one of larger absolute value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab.errors import InputDataError
from exprlab.match._aggregate import ncs_ct_matrix
from exprlab.match._base import Method, always, combine_up_down, register, scratch_array, set_sizes
from exprlab.match._query import random_set_queries
from exprlab.match._ranks import up_down_statistics

CELL_COLUMNS = ("cell_line", "cell_id", "cell")
TYPE_COLUMNS = ("pert_type",)
PERT_COLUMNS = ("drug", "pert_iname", "cmap_name", "pert_id")


def _chunk(queries, values, rank2, opts) -> dict[str, np.ndarray]:
    # up and down sets in one pass, so each reference row is read from memory once
    es_up, es_dn = up_down_statistics(queries, rank2, values, statistic="es", opts=opts)
    n_up, n_dn = set_sizes(queries)
    return {
        "score": combine_up_down(
            es_up, es_dn, n_up, n_dn, rule="sign_differs", out=scratch_array(opts, "score", es_up.shape)
        ),
        "up": es_up,
        "down": es_dn,
    }


def group_columns(obs: pd.DataFrame, group_by) -> list[str]:
    """Columns defining NCS groups: ``group_by`` if given, else the cell-line and type columns found."""
    if group_by is not None:
        cols = [group_by] if isinstance(group_by, str) else list(group_by)
        missing = [c for c in cols if c not in obs.columns]
        if missing:
            raise InputDataError(
                f"library metadata has no column(s) {missing} to group NCS by",
                where="library obs",
                fix=f"choose group_by among {list(obs.columns)}, parse the columns from the signature ids "
                "(--parse-ids, exprlab.match.parse_signature_ids) or pass group_by=()",
            )
        return cols
    cols = [c for c in CELL_COLUMNS if c in obs.columns][:1]
    cols += [c for c in TYPE_COLUMNS if c in obs.columns]
    return cols


def normalise_ncs(wtcs: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """NCS from WTCS (queries x references) given each reference's group code."""
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    onehot = sp.csr_matrix(
        (np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), n_groups)
    )
    pos = wtcs > 0
    neg = wtcs < 0
    pos_mean = (onehot.T @ np.where(pos, wtcs, 0.0).T).T / np.maximum((onehot.T @ pos.T.astype(float)).T, 1)
    neg_mean = (onehot.T @ np.where(neg, -wtcs, 0.0).T).T / np.maximum((onehot.T @ neg.T.astype(float)).T, 1)
    pm = pos_mean[:, codes]
    nm = neg_mean[:, codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(pos, wtcs / np.where(pm > 0, pm, 1.0), 0.0)
        out = np.where(neg, wtcs / np.where(nm > 0, nm, 1.0), out)
    return out


def _codes(obs: pd.DataFrame, opts) -> tuple[np.ndarray, list[str]]:
    cols = group_columns(obs, opts.get("group_by"))
    if not cols:
        return np.zeros(len(obs), dtype=np.int64), cols
    codes = obs[cols].astype(str).agg("\x1f".join, axis=1) if len(cols) > 1 else obs[cols[0]].astype(str)
    return pd.factorize(codes)[0].astype(np.int64), cols


def _finalize_ncs(parts, queries, obs, opts) -> dict[str, np.ndarray]:
    codes, cols = _codes(obs, opts)
    opts["_report"]["ncs_groups"] = cols
    return {**parts, "wtcs": parts["score"], "score": normalise_ncs(parts["score"], codes)}


def _extra_background(queries, opts):
    n_bg = int(opts.get("n_background", 250))
    n_up, n_dn = set_sizes(queries)
    sizes = list(zip(n_up.tolist(), n_dn.tolist()))
    background, blocks = random_set_queries(sizes, queries.n_genes, n_bg, opts.get("seed", 0))
    opts["_n_real"] = len(queries)
    opts["_blocks"] = blocks
    opts["_sizes"] = sizes
    return queries.extend(background)


def tau_from_background(ncs: np.ndarray, background: np.ndarray, *, block: int = 16384) -> np.ndarray:
    """Tau of each (query, reference) NCS against that reference's background NCS column.

    ``ncs`` is (n_queries, n_refs), ``background`` (n_background, n_refs).
    """
    out = np.empty_like(ncs)
    for lo in range(0, ncs.shape[1], block):
        bg = np.abs(background[:, lo : lo + block])
        for qi in range(ncs.shape[0]):
            value = ncs[qi, lo : lo + block]
            below = (bg < np.abs(value)[None, :]).sum(axis=0)
            out[qi, lo : lo + block] = np.sign(value) * 100.0 * below / bg.shape[0]
    return out


def _finalize_tau(parts, queries, obs, opts) -> dict[str, np.ndarray]:
    ncs_all = _finalize_ncs(parts, queries, obs, opts)["score"]
    n_real = opts["_n_real"]
    ncs = ncs_all[:n_real]
    tau = np.empty_like(ncs)
    for qi, size in enumerate(opts["_sizes"]):
        bg = ncs_all[n_real:][opts["_blocks"][size]]
        tau[qi] = tau_from_background(ncs[qi : qi + 1], bg)[0]
    real = {k: v[:n_real] for k, v in parts.items()}
    opts["_report"]["tau_background"] = int(opts.get("n_background", 250))
    return {**real, "ncs": ncs, "score": tau}


def perturbagen_column(obs: pd.DataFrame, by) -> str:
    """The obs column naming each reference's perturbagen (``by`` or the first known one)."""
    if by is not None:
        if by not in obs.columns:
            raise InputDataError(
                f"library metadata has no column {by!r}",
                where="library obs",
                fix=f"choose one of {list(obs.columns)}",
            )
        return by
    for col in PERT_COLUMNS:
        if col in obs.columns:
            return col
    raise InputDataError(
        "library metadata names no perturbagen (no drug/pert_iname/cmap_name column)",
        where="library obs",
        fix="add a drug column or pass by=<column>",
    )


def _finalize_ncs_ct(parts, queries, obs, opts) -> dict[str, Any]:
    ncs = _finalize_ncs(parts, queries, obs, opts)["score"]
    col = perturbagen_column(obs, opts.get("by"))
    summary, labels = ncs_ct_matrix(ncs, obs[col].astype(str).to_numpy())
    return {"score": summary, "_columns": labels}


WTCS = register(
    Method(
        "wtcs",
        _chunk,
        None,
        needs_ranks=True,
        query_genes=always,
        description="weighted connectivity score (CMap-L1000)",
    )
)
NCS = register(
    Method(
        "ncs",
        _chunk,
        _finalize_ncs,
        needs_ranks=True,
        query_genes=always,
        description="WTCS normalised within cell line x perturbation type groups",
    )
)
TAU = register(
    Method(
        "tau",
        _chunk,
        _finalize_tau,
        needs_ranks=True,
        query_genes=always,
        extra_queries=_extra_background,
        description="NCS against a seeded background of random queries",
    )
)
NCS_CT = register(
    Method(
        "ncs_ct",
        _chunk,
        _finalize_ncs_ct,
        needs_ranks=True,
        query_genes=always,
        description="per-perturbagen summary of NCS (33rd/67th percentile rule)",
    )
)
