"""Gene dependence: the drug-only fit and the disease-specific remainder on planted matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InputDataError
from exprlab.evaluate import MOSTLY_DRUG_ONLY, drug_only_fit, gene_dependence, gene_dependence_words


def _frame(values, diseases=None, drugs=None) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    diseases = diseases or [f"d{i}" for i in range(values.shape[0])]
    drugs = drugs or [f"x{j}" for j in range(values.shape[1])]
    return pd.DataFrame(values, index=diseases, columns=drugs)


def test_hand_examples():
    # a scaled copy of one drug order: explained exactly, nothing remains
    part, rest, r2 = drug_only_fit(_frame([[1, 2, 3], [2, 4, 6]]))
    np.testing.assert_allclose(r2, [1.0, 1.0])
    assert (rest.to_numpy() == 0).all()
    np.testing.assert_allclose(part.to_numpy(), [[1, 2, 3], [2, 4, 6]])
    # opposite orders: the drug means are all 2, nothing is explained, the remainder is centred
    part, rest, r2 = drug_only_fit(_frame([[1, 2, 3], [3, 2, 1]]))
    np.testing.assert_allclose(r2, [0.0, 0.0])
    np.testing.assert_allclose(rest.to_numpy(), [[-1, 0, 1], [1, 0, -1]])
    # a constant row has no ranking to explain
    _, _, r2 = drug_only_fit(_frame([[5, 5, 5], [1, 2, 4]]))
    assert np.isnan(r2.iloc[0]) and r2.iloc[1] == pytest.approx(1.0)


def test_r2_matches_an_independent_least_squares_fit():
    rng = np.random.default_rng(3)
    S = rng.normal(size=(6, 9)) + 2 * np.arange(9)
    p = S.mean(axis=0)
    _, rest, r2 = drug_only_fit(_frame(S))
    for i in range(6):
        slope, icpt = np.polyfit(p, S[i], 1)
        resid = S[i] - (icpt + slope * p)
        assert r2.iloc[i] == pytest.approx(1 - (resid**2).sum() / ((S[i] - S[i].mean()) ** 2).sum())
        np.testing.assert_allclose(rest.iloc[i], resid, atol=1e-9)


def test_pure_drug_effect_has_r2_one_and_a_random_remainder():
    # every disease ranks by the same drug score (shifted and scaled), one indicated drug each
    n_dis, n_drugs = 400, 20
    rng = np.random.default_rng(0)
    p = rng.normal(size=n_drugs)
    S = rng.normal(size=(n_dis, 1)) + rng.uniform(0.5, 3.0, size=(n_dis, 1)) * p
    pos = np.zeros((n_dis, n_drugs), bool)
    pos[np.arange(n_dis), rng.integers(0, n_drugs, n_dis)] = True
    table = gene_dependence(_frame(S), _frame(pos).astype(bool), seed=1)
    assert len(table) == n_dis
    np.testing.assert_allclose(table["drug_r2"], 1.0)
    # one positive among n: the expected AP of a random order is (1/n) * sum_k 1/k
    random_ap = np.mean(1.0 / np.arange(1, n_drugs + 1))
    se = table["remainder_ap"].std() / np.sqrt(n_dis)
    assert abs(table["remainder_ap"].mean() - random_ap) < 4 * se
    # the drug-only part ranks exactly like p: AP of the positive's rank under p, by hand
    rank = (p[None, :] > p[pos.argmax(axis=1)][:, None]).sum(axis=1) + 1
    np.testing.assert_allclose(table["drug_only_ap"], 1.0 / rank)


def test_pure_disease_specific_scores_have_r2_zero():
    # a Latin square: every drug's mean over diseases is the same, so nothing is drug-only
    n = 12
    S = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    pos = S == n - 1  # each disease's top-scored drug is its indication
    table = gene_dependence(_frame(S), _frame(pos).astype(bool))
    np.testing.assert_allclose(table["drug_r2"], 0.0, atol=1e-12)
    np.testing.assert_allclose(table["remainder_ap"], 1.0)
    # independent random scores: the shared part is noise, R² near 0
    rng = np.random.default_rng(5)
    _, _, r2 = drug_only_fit(_frame(rng.normal(size=(300, 60))))
    assert r2.mean() < 0.05


def test_candidates_restrict_the_fit():
    S = _frame([[1, 2, 3, 100], [2, 4, 6, -100]])
    cand = _frame([[1, 1, 1, 0], [1, 1, 1, 0]]).astype(bool)
    _, _, r2 = drug_only_fit(S, candidates=cand, drug_score=pd.Series([1.0, 2.0, 3.0, 0.0], S.columns))
    np.testing.assert_allclose(r2, [1.0, 1.0])


def test_words_name_mostly_popularity_above_the_threshold():
    metrics = pd.DataFrame(
        {
            "method": ["popularity", "xsum", "random"],
            "drug_r2": [1.0, 0.1, np.nan],
            "remainder_ap": [0.014, 0.03, np.nan],
            "remainder_ap_lo": [0.012, 0.02, np.nan],
            "remainder_ap_hi": [0.016, 0.04, np.nan],
        }
    )
    lines = gene_dependence_words(metrics)
    assert len(lines) == 2
    assert "popularity" in lines[0] and "mostly drug popularity" in lines[0]
    assert "[0.012, 0.016]" in lines[0]
    assert "mostly drug popularity" not in lines[1]
    assert 0.5 < MOSTLY_DRUG_ONLY < 1
    assert gene_dependence_words(metrics[["method"]]) == []


def test_bad_input_is_refused():
    with pytest.raises(InputDataError, match="NaN"):
        drug_only_fit(_frame([[1, np.nan]]))
    with pytest.raises(InputDataError, match="lacks 1 drug"):
        drug_only_fit(_frame([[1, 2]]), drug_score=pd.Series([1.0], index=["x0"]))
