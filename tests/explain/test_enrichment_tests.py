"""Offline pathway enrichment: hypergeometric by hand, rank test against scipy, BH by hand."""

from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.explain import bh_adjust, hypergeometric_enrichment, rank_enrichment

UNIVERSE = [f"g{i}" for i in range(10)]
SETS = {
    "A": ["g0", "g1", "g2", "g3"],  # 4 genes
    "B": ["g4", "g5", "g6", "x_not_in_universe"],  # 3 genes in the universe
    "C": ["g7", "g8", "g9", "g0", "g1"],  # 5 genes
}


def _hyper_sf(k, M, n, N):
    """P(X >= k) for X ~ Hypergeom(M, n, N) by binomial coefficients."""
    total = comb(M, N)
    return sum(comb(n, i) * comb(M - n, N - i) for i in range(k, min(n, N) + 1)) / total


def test_hypergeometric_matches_binomial_arithmetic():
    top = ["g0", "g1", "g5"]
    res = hypergeometric_enrichment(top, SETS, UNIVERSE, min_size=1).set_index("pathway")
    # A: 2 of the 3 top genes among its 4 -> (C(4,2)C(6,1) + C(4,3)C(6,0)) / C(10,3) = 40/120
    assert res.loc["A", "pvalue"] == pytest.approx(40 / 120, rel=1e-12)
    assert res.loc["A", "pvalue"] == pytest.approx(_hyper_sf(2, 10, 4, 3), rel=1e-12)
    # B: 1 of 3 top in its 3 universe genes -> 1 - C(7,3)/C(10,3) = 1 - 35/120
    assert res.loc["B", "set_size"] == 3
    assert res.loc["B", "pvalue"] == pytest.approx(1 - 35 / 120, rel=1e-12)
    # C: 2 of 5
    assert res.loc["C", "pvalue"] == pytest.approx(_hyper_sf(2, 10, 5, 3), rel=1e-12)
    assert res.loc["A", "overlap"] == 2 and res.loc["A", "genes"] == "g0,g1"
    assert res.loc["A", "expected"] == pytest.approx(3 * 4 / 10)
    # BH by hand over the three p-values
    p = np.array([res.loc[k, "pvalue"] for k in "ABC"])
    order = np.argsort(p)
    m = len(p)
    q_sorted = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1)
    assert np.allclose([res.loc[k, "qvalue"] for k in "ABC"], q)
    # sorted by p-value
    assert list(res["pvalue"]) == sorted(res["pvalue"])


def test_bh_adjust_small_example():
    # p = (0.01, 0.04, 0.03): sorted 0.01, 0.03, 0.04 -> 0.03, 0.045, 0.04
    # -> monotone from the top: 0.03, 0.04, 0.04
    q = bh_adjust(np.array([0.01, 0.04, 0.03]))
    assert np.allclose(q, [0.03, 0.04, 0.04])


def test_rank_enrichment_matches_scipy_mannwhitney():
    rng = np.random.default_rng(3)
    genes = [f"g{i}" for i in range(60)]
    scores = pd.Series(np.round(rng.normal(size=60), 1), index=genes)  # rounding -> ties
    scores.iloc[:8] += 2.0
    sets = {"top": genes[:10], "mid": genes[20:35], "tail": genes[45:60] + ["absent"]}
    for alternative in ("greater", "less", "two-sided"):
        res = rank_enrichment(scores, sets, alternative=alternative).set_index("pathway")
        for name, members in sets.items():
            inside = scores.index.isin(members)
            ref = stats.mannwhitneyu(
                scores[inside],
                scores[~inside],
                alternative=alternative,
                method="asymptotic",
                use_continuity=True,
            )
            assert res.loc[name, "pvalue"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
            u = ref.statistic
            assert res.loc[name, "auc"] == pytest.approx(u / (inside.sum() * (~inside).sum()))
    assert rank_enrichment(scores, sets).iloc[0]["pathway"] == "top"


def test_no_overlap_and_bad_input_are_clear_errors():
    with pytest.raises(GeneSpaceError, match="shares a gene"):
        hypergeometric_enrichment(["g0"], {"S": ["TP53", "EGFR"]}, UNIVERSE)
    with pytest.raises(GeneSpaceError, match="shares a gene"):
        rank_enrichment(pd.Series(1.0, index=UNIVERSE), {"S": ["TP53", "EGFR"]})
    with pytest.raises(InputDataError, match="selected genes"):
        hypergeometric_enrichment(["TP53"], SETS, UNIVERSE)
    with pytest.raises(InputDataError, match="between"):
        hypergeometric_enrichment(["g0"], SETS, UNIVERSE, min_size=50)
    with pytest.raises(InputDataError, match="non-finite"):
        rank_enrichment(pd.Series([1.0, np.nan, 2.0], index=["g0", "g1", "g2"]), SETS, min_size=1)
    with pytest.raises(InvalidParameterError):
        rank_enrichment(pd.Series(1.0, index=UNIVERSE), SETS, alternative="bigger")
