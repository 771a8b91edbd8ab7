"""L1000 level-4 robust z-scores and the level-5 MODZ consensus of replicates.

Robust z per gene: z = (x - median) / (1.4826 * MAD), the median and MAD taken over a reference
population (the whole plate, or its vehicle controls), with the MAD floored at ``mad_floor``
so near-constant genes do not explode.

MODZ consensus of replicate z-vectors: weight_i = max(0.01, mean Spearman correlation of
replicate i with the other replicates), weights normalised to sum to 1, consensus = weighted
mean. A single replicate is its own consensus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy.stats import spearmanr

from exprlab.errors import InputDataError

MAD_SCALE = 1.4826


def _dense(x) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)


def robust_z(samples: AnnData, *, reference=None, mad_floor: float = 0.1) -> AnnData:
    """Robust z-scores of every sample against a reference population, gene by gene.

    Parameters
    ----------
    samples
        AnnData samples x genes (for example L1000 level-3 expression of one plate).
    reference
        Boolean mask or obs names of the samples that define median and MAD (e.g. the DMSO
        controls); ``None`` uses all samples (plate population).
    mad_floor
        Lower bound on 1.4826 * MAD.

    Returns
    -------
    anndata.AnnData
        A copy of ``samples`` with the robust z-scores as ``X``.
    """
    x = _dense(samples.X)
    if reference is None:
        ref = x
    else:
        mask = np.asarray(reference)
        if mask.dtype != bool:
            mask = samples.obs_names.isin([str(r) for r in mask])
        if mask.sum() < 2:
            raise InputDataError(
                f"{int(mask.sum())} reference sample(s); at least 2 are needed",
                where="reference",
                fix="choose more reference samples",
            )
        ref = x[mask]
    med = np.median(ref, axis=0)
    mad = MAD_SCALE * np.median(np.abs(ref - med), axis=0)
    z = (x - med) / np.maximum(mad, mad_floor)
    out = samples.copy()
    out.X = z
    return out


def modz_weights(z: np.ndarray) -> np.ndarray:
    """MODZ replicate weights: replicates that agree with the others count more.

    Parameters
    ----------
    z
        Replicate z-vectors, replicates x genes.

    Returns
    -------
    numpy.ndarray
        One weight per replicate, max(0.01, mean Spearman correlation with the others),
        normalised to sum to 1.
    """
    k = len(z)
    if k == 1:
        return np.ones(1)
    rho = spearmanr(z, axis=1).statistic
    rho = np.atleast_2d(rho) if k > 2 else np.array([[1.0, rho], [rho, 1.0]])
    mean_other = (rho.sum(axis=1) - np.diag(rho)) / (k - 1)
    w = np.maximum(0.01, mean_other)
    return w / w.sum()


def modz(z: np.ndarray) -> np.ndarray:
    """MODZ consensus of replicate z-vectors: their mean weighted by :func:`modz_weights`.

    Parameters
    ----------
    z
        Replicate z-vectors, replicates x genes.

    Returns
    -------
    numpy.ndarray
        The consensus vector, one value per gene.
    """
    z = np.asarray(z, dtype=np.float64)
    return modz_weights(z) @ z


def consensus_signatures(zscores: AnnData, by, *, sep: str = "|") -> AnnData:
    """Level-5-like signatures: the MODZ consensus of each group of replicates.

    Parameters
    ----------
    zscores
        AnnData replicates x genes of z-scores (level 4).
    by
        An obs column or a list of columns (e.g. ``["pert_iname", "pert_dose"]``) whose values
        define the groups of replicates.
    sep
        Joins the values of the key columns into the signature name.

    Returns
    -------
    anndata.AnnData
        One signature per group (first-seen order), obs holding the key columns and
        ``n_replicates``.
    """
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in zscores.obs.columns]
    if missing:
        raise InputDataError(
            f"no obs column(s) {missing}",
            where="zscores.obs",
            fix=f"choose among {list(zscores.obs.columns)}",
        )
    x = _dense(zscores.X)
    keys = zscores.obs[cols].astype(str)
    groups = keys.groupby(cols, sort=False).indices
    names, rows, meta = [], [], []
    for key, idx in groups.items():
        key = key if isinstance(key, tuple) else (key,)
        names.append(sep.join(key))
        rows.append(modz(x[idx]))
        meta.append(dict(zip(cols, key), n_replicates=len(idx)))
    obs = pd.DataFrame(meta, index=names)
    return AnnData(np.vstack(rows), obs=obs, var=zscores.var.copy())


def level5_from_level4(
    level4: AnnData,
    *,
    by=("pert_iname", "pert_dose"),
    control_column: str = "pert_type",
    control_value: str = "ctl_vehicle",
    drop_controls: bool = True,
) -> AnnData:
    """Level-5-like consensus signatures from a level-4 plate, relative to its vehicle controls.

    The level-4 z-scores are re-centred on the vehicle (DMSO) controls (robust z against them),
    then replicates sharing ``by`` are merged with MODZ.

    Parameters
    ----------
    level4
        AnnData of one plate's level-4 z-scores, samples x genes.
    by
        Columns whose values define the groups of replicates.
    control_column, control_value
        The obs column and value marking the vehicle controls.
    drop_controls
        Leave the controls out of the output (default).

    Returns
    -------
    anndata.AnnData
        The consensus signatures (:func:`consensus_signatures`).
    """
    if control_column not in level4.obs.columns:
        raise InputDataError(
            f"no obs column {control_column!r} marking the controls",
            where="level4.obs",
            fix="pass control_column=<column>",
        )
    is_ctl = (level4.obs[control_column].astype(str) == control_value).to_numpy()
    z = robust_z(level4, reference=is_ctl)
    if drop_controls:
        z = z[~is_ctl].copy()
    return consensus_signatures(z, list(by))
