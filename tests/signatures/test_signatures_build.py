"""Signatures from samples: fold change, Welch t, characteristic direction, robust z, MODZ, sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData
from scipy.stats import rankdata

import exprlab.signatures as sig
from exprlab.errors import InputDataError, InvalidParameterError


def tiny_samples() -> AnnData:
    # gene a: case 4, 6 ; control 1, 3      gene b: case 0, 2 ; control 2, 2.5? (see below)
    x = np.array([[4.0, 0.0], [6.0, 2.0], [1.0, 5.0], [3.0, 9.0]])
    obs = pd.DataFrame({"group": ["case", "case", "ctl", "ctl"]}, index=list("wxyz"))
    return AnnData(x, obs=obs, var=pd.DataFrame(index=["a", "b"]))


def test_log_fold_change_and_welch_t_by_hand():
    s = tiny_samples()
    # a: mean case 5, control 2 -> lfc 3 ; b: case 1, control 7 -> -6
    lfc = sig.log_fold_change(s, "group", case="case", control="ctl")
    np.testing.assert_allclose(lfc.X[0], [3.0, -6.0])
    # Welch t, a: variances (ddof 1) case 2, control 2 -> se = sqrt(2/2 + 2/2) = sqrt 2 -> 3/sqrt2
    #          b: case 2, control 8 -> se = sqrt(1 + 4) = sqrt 5 -> -6/sqrt5
    t = sig.welch_t(s, "group", case="case", control="ctl")
    np.testing.assert_allclose(t.X[0], [3 / np.sqrt(2), -6 / np.sqrt(5)])
    assert (t.layers["pval"] > 0).all() and (t.layers["pval"] < 1).all()


def test_group_errors():
    s = tiny_samples()
    with pytest.raises(InputDataError, match="at least 2"):
        sig.log_fold_change(s, "group", case="case", control="nothing")
    with pytest.raises(InputDataError, match="no obs column"):
        sig.welch_t(s, "label", case="case", control="ctl")


def test_up_down_sets_by_hand():
    x = np.array([[0.5, -2.0, 3.0, -0.1, 1.0, -1.5]])
    a = AnnData(x, obs=pd.DataFrame(index=["s"]), var=pd.DataFrame(index=list("abcdef")))
    assert sig.up_down_sets(a, up=2, down=2)["s"] == (["c", "e"], ["b", "f"])
    # thresholds: value > 0.8 up, < -0.8 down
    assert sig.up_down_sets(a, up=None, down=None, value_threshold=0.8)["s"] == (["c", "e"], ["b", "f"])
    a.layers["pval"] = np.array([[0.01, 0.5, 0.01, 0.01, 0.2, 0.01]])
    assert sig.up_down_sets(a, up=5, down=5, pvalue_threshold=0.05)["s"] == (["c", "a"], ["f", "d"])


def test_robust_z_by_hand():
    # gene values 1, 2, 3, 4, 100: median 3, |dev| 2,1,0,1,97 -> MAD 1 -> scale 1.4826
    x = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    a = AnnData(x, obs=pd.DataFrame(index=list("abcde")), var=pd.DataFrame(index=["g"]))
    z = sig.robust_z(a)
    np.testing.assert_allclose(z.X[:, 0], (x[:, 0] - 3) / 1.4826)
    # against the first three only: median 2, MAD 1 ; floor 2 dominates
    z2 = sig.robust_z(a, reference=np.array([True, True, True, False, False]), mad_floor=2.0)
    np.testing.assert_allclose(z2.X[:, 0], (x[:, 0] - 2) / 2.0)


def test_modz_by_hand():
    # rho(z1, z2) = 1 ; z3 = 1,3,2,4: d = 0,1,-1,0 -> rho = 1 - 6*2/(4*15) = 0.8 with both
    # mean of the others: .9, .9, .8 -> weights .9/2.6, .9/2.6, .8/2.6
    z = np.array([[1.0, 2, 3, 4], [2.0, 4, 6, 8], [1.0, 3, 2, 4]])
    np.testing.assert_allclose(sig.modz_weights(z), np.array([0.9, 0.9, 0.8]) / 2.6)
    np.testing.assert_allclose(sig.modz(z), np.array([0.9, 0.9, 0.8]) / 2.6 @ z)
    # anti-correlated replicates get the 0.01 floor: all three weights equal
    z = np.array([[1.0, 2, 3, 4], [1.0, 2, 3, 4], [4.0, 3, 2, 1]])
    np.testing.assert_allclose(sig.modz_weights(z), [1 / 3] * 3)


def test_level5_from_real_level4(data_dir):
    from exprlab.datasets import lincs_level4

    l4 = lincs_level4()
    l5 = sig.level5_from_level4(l4, by=("pert_iname",))
    treated = l4.obs[l4.obs["pert_type"] != "ctl_vehicle"]
    assert l5.n_obs == treated["pert_iname"].nunique()
    assert np.isfinite(l5.X).all()
    # one drug, recomputed from scratch: robust z against the DMSO wells, then MODZ
    x = np.asarray(l4.X, dtype=float)
    ctl = (l4.obs["pert_type"] == "ctl_vehicle").to_numpy()
    med = np.median(x[ctl], axis=0)
    mad = np.maximum(1.4826 * np.median(np.abs(x[ctl] - med), axis=0), 0.1)
    drug = treated["pert_iname"].iloc[0]
    rows = (l4.obs["pert_iname"] == drug).to_numpy() & ~ctl
    z = (x[rows] - med) / mad
    ranks = rankdata(z, axis=1)  # midranks: the plate's values have ties
    c = np.corrcoef(ranks)
    w = np.maximum(0.01, (c.sum(axis=1) - 1) / (len(z) - 1))
    np.testing.assert_allclose(l5[drug].X[0], (w / w.sum()) @ z, rtol=1e-9, atol=1e-9)
    assert l5.obs.loc[drug, "n_replicates"] == rows.sum()


def _chdir_from_scratch(ctrl: np.ndarray, case: np.ndarray, gamma: float) -> np.ndarray:
    """Characteristic direction via the covariance eigendecomposition (not an SVD)."""
    x = np.vstack([ctrl, case])
    n1, n = len(ctrl), len(x)
    z = (x - x.mean(0)) / x.std(0)
    d = z[n1:].mean(0) - z[:n1].mean(0)
    zc = z - z.mean(0)
    cov = zc.T @ zc / (n - 1)
    evals, evecs = np.linalg.eigh(cov)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    keep = evals / evals.sum() > 0.001
    v = evecs[:, keep]
    r = zc @ v
    r1 = r[:n1] - r[:n1].mean(0)
    r2 = r[n1:] - r[n1:].mean(0)
    dd = (r1.T @ r1 + r2.T @ r2) / (n - 2)
    sigma = np.trace(dd) / len(dd)
    b = v @ np.linalg.inv(gamma * dd + sigma * (1 - gamma) * np.eye(len(dd))) @ v.T @ d
    return b / np.sqrt(b @ b)


@pytest.mark.parametrize("gamma", [1.0, 0.5])
def test_characteristic_direction_on_psoriasis(data_dir, gamma):
    from exprlab.datasets import psoriasis_samples

    s = psoriasis_samples()
    got = sig.characteristic_direction(s, "label", case="Psoriasis", control="ct", gamma=gamma)
    x = np.asarray(s.X, dtype=float)
    lab = s.obs["label"].astype(str).to_numpy()
    expected = _chdir_from_scratch(x[lab == "ct"], x[lab == "Psoriasis"], gamma)
    np.testing.assert_allclose(got.X[0], expected, atol=1e-8)
    assert np.linalg.norm(got.X[0]) == pytest.approx(1.0)
    # the direction points the way of the disease: positively correlated with the fold change
    # (more so with shrinkage, which pulls the scatter toward sigma * I)
    lfc = sig.log_fold_change(s, "label", case="Psoriasis", control="ct").X[0]
    assert np.corrcoef(lfc, got.X[0])[0, 1] > 0.2


def test_chardir_bad_gamma():
    s = tiny_samples()
    with pytest.raises(InvalidParameterError, match="gamma"):
        sig.characteristic_direction(s, "group", case="case", control="ctl", gamma=0.0)
