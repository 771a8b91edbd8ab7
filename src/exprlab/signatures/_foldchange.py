"""Case/control signatures: log fold change and Welch's t statistic per gene.

Input: an AnnData of samples (obs) x genes (var) holding log-scale expression, and the labels
that mark case and control samples. log fold change = mean(case) - mean(control) (the data are
already on a log scale); Welch t = (mean_case - mean_control) / sqrt(var_case/n_case +
var_control/n_control) with sample variances (ddof=1), as ``scipy.stats.ttest_ind(...,
equal_var=False)``; its two-sided p-value goes to ``layers["pval"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import stats

from exprlab.errors import InputDataError, NonFiniteValueError


def split_groups(samples: AnnData, labels, case, control) -> tuple[np.ndarray, np.ndarray]:
    """Expression matrices (samples x genes) of the case and control samples.

    ``labels`` is a column name of ``samples.obs`` or one label per sample.
    """
    if isinstance(labels, str):
        if labels not in samples.obs.columns:
            raise InputDataError(
                f"no obs column {labels!r}",
                where="samples.obs",
                fix=f"choose one of {list(samples.obs.columns)}",
            )
        lab = samples.obs[labels].astype(str).to_numpy()
    else:
        lab = np.asarray(labels).astype(str)
        if len(lab) != samples.n_obs:
            raise InputDataError(
                f"{len(lab)} labels for {samples.n_obs} samples",
                where="labels",
                fix="pass one label per sample",
            )
    x = samples.X.toarray() if hasattr(samples.X, "toarray") else np.asarray(samples.X)
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        bad = samples.obs_names[~np.isfinite(x).all(axis=1)][:5].tolist()
        raise NonFiniteValueError(
            f"samples {bad} contain NaN or infinite values", where="samples", fix="impute or drop them first"
        )
    out = []
    for name, value in (("case", case), ("control", control)):
        rows = lab == str(value)
        if rows.sum() < 2:
            raise InputDataError(
                f"{int(rows.sum())} {name} sample(s) labelled {value!r}; at least 2 are needed",
                where="labels",
                fix=f"check the label values (found {sorted(set(lab))[:10]})",
            )
        out.append(x[rows])
    return out[0], out[1]


def _signature(values: np.ndarray, samples: AnnData, name: str, pval: np.ndarray | None) -> AnnData:
    out = AnnData(
        values[None, :].astype(np.float64),
        obs=pd.DataFrame(index=[name]),
        var=pd.DataFrame(index=samples.var_names.copy()),
    )
    if pval is not None:
        out.layers["pval"] = pval[None, :]
    return out


def log_fold_change(samples: AnnData, labels, *, case, control, name: str = "signature") -> AnnData:
    """One signature (1 x genes): mean log expression of cases minus that of controls.

    Parameters
    ----------
    samples
        AnnData samples x genes holding log-scale expression.
    labels
        A column of ``samples.obs`` or one label per sample.
    case, control
        The label values of the case and control samples (at least 2 each).
    name
        Name of the signature (its obs name).

    Returns
    -------
    anndata.AnnData
        1 x genes, the log fold change of each gene.
    """
    xc, xn = split_groups(samples, labels, case, control)
    return _signature(xc.mean(axis=0) - xn.mean(axis=0), samples, name, None)


def welch_t(samples: AnnData, labels, *, case, control, name: str = "signature") -> AnnData:
    """One signature of Welch t statistics (case vs control), p-values in ``layers["pval"]``.

    A gene constant in both groups has no defined t: it gets t = 0 and p = 1.

    Parameters
    ----------
    samples
        AnnData samples x genes holding log-scale expression.
    labels
        A column of ``samples.obs`` or one label per sample.
    case, control
        The label values of the case and control samples (at least 2 each).
    name
        Name of the signature (its obs name).

    Returns
    -------
    anndata.AnnData
        1 x genes of t statistics, with the two-sided p-values in ``layers["pval"]``.
    """
    xc, xn = split_groups(samples, labels, case, control)
    with np.errstate(divide="ignore", invalid="ignore"):
        t, p = stats.ttest_ind(xc, xn, axis=0, equal_var=False)
    return _signature(np.nan_to_num(t, nan=0.0), samples, name, np.nan_to_num(p, nan=1.0))
