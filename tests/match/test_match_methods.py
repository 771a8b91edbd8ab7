"""Each scoring method on a tiny example worked out by hand, plus score properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData
from scipy.stats import fisher_exact

import exprlab.match as match
from exprlab.match._aggregate import aggregate_queries, aggregate_references, ncs_ct_matrix
from exprlab.match._base import combine_up_down
from exprlab.match._ks import scale_ks
from exprlab.match._wtcs import normalise_ncs, tau_from_background

GENES = [f"g{i}" for i in range(1, 11)]


def lib_from_rows(rows, genes=GENES, obs=None, kind=None) -> AnnData:
    x = np.asarray(rows, dtype=np.float32)
    names = [f"r{i}" for i in range(len(x))]
    out = AnnData(x, obs=obs if obs is not None else pd.DataFrame(index=names), var=pd.DataFrame(index=genes))
    if kind:
        out.uns["library_kind"] = kind
    return out


# ---------------------------------------------------------------- KS (CMap 2006)
def test_up_and_down_statistics_combine_by_hand():
    up = np.array([[0.3, -0.2, 0.0, 0.4], [0.3, -0.2, 0.0, 0.4], [0.3, -0.2, 0.0, 0.4]])
    down = np.array([[-0.1, -0.4, 0.5, 0.2], [-0.1, -0.4, 0.5, 0.2], [-0.1, -0.4, 0.5, 0.2]])
    n_up, n_down = [5, 5, 0], [5, 0, 5]  # both sets; an up set only; a down set only
    wtcs = combine_up_down(up, down, n_up, n_down, rule="sign_differs")
    # signs differ in columns 0 (+/-) and 2 (0/+): (up - down) / 2; same signs: 0
    np.testing.assert_allclose(wtcs[0], [0.2, 0.0, -0.25, 0.0], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(wtcs[1], up[1])
    np.testing.assert_array_equal(wtcs[2], -down[2])
    ks = combine_up_down(up, down, n_up, n_down, rule="opposite")
    # opposite signs (product < 0) in column 0 only: up - down; a zero is not opposite
    np.testing.assert_allclose(ks[0], [0.4, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)
    into = np.full((3, 4), np.nan)
    assert combine_up_down(up, down, n_up, n_down, rule="opposite", out=into) is into
    np.testing.assert_array_equal(into, ks)


def test_ks_hand_example():
    # ref0: values 10..1 on g1..g10, so rank(g_i) = i.
    #   up {g1,g2,g4}: V = 1,2,4, t=3, n=10
    #     a = max(1/3-.1, 2/3-.2, 1-.4) = 0.6 ; b = max(.1-0, .2-1/3, .4-2/3) = 0.1 -> KS_up = 0.6
    #   down {g7,g9,g10}: V = 7,9,10
    #     a = max(1/3-.7, 2/3-.9, 1-1) = 0 ; b = max(.7, .9-1/3, 1-2/3) = 0.7 -> KS_down = -0.7
    #   raw = 0.6 - (-0.7) = 1.3 (opposite signs)
    # ref1: reversed values -> KS_up = -0.7, KS_down = 0.6, raw = -1.3
    # ref2: ranks g1=1,g2=2,g7=3,g4=4,g9=5,g10=6 then g3,g5,g6,g8:
    #   up V = 1,2,4 -> 0.6 ; down V = 3,5,6: a = max(1/3-.3, 2/3-.5, 1-.6) = .4,
    #   b = max(.3, .5-1/3, .6-2/3) = .3 -> 0.4 ; same sign -> raw 0
    ref0 = np.arange(10, 0, -1)
    order2 = ["g1", "g2", "g7", "g4", "g9", "g10", "g3", "g5", "g6", "g8"]
    ref2 = np.array([10 - order2.index(g) for g in GENES])
    lib = lib_from_rows([ref0, ref0[::-1], ref2])
    q = {"q": (["g1", "g2", "g4"], ["g7", "g9", "g10"])}
    res = match.score_details(q, lib, "ks")
    np.testing.assert_allclose(res.extra["up"].to_numpy()[0], [0.6, -0.7, 0.6], atol=1e-12)
    np.testing.assert_allclose(res.extra["down"].to_numpy()[0], [-0.7, 0.6, 0.4], atol=1e-12)
    np.testing.assert_allclose(match.score(q, lib, "ks_raw").to_numpy()[0], [1.3, -1.3, 0.0], atol=1e-12)
    # scaled: 1.3 / max = 1 ; -(-1.3) / min(-1.3) = -1 ; 0 stays 0
    np.testing.assert_allclose(res.scores.to_numpy()[0], [1.0, -1.0, 0.0], atol=1e-12)


def test_ks_scaling_by_hand():
    # max positive 0.5, min negative -0.4: 0.5->1, 0.25->0.5, -0.2->-0.5, -0.4->-1
    raw = np.array([[0.5, 0.25, -0.2, -0.4, 0.0]])
    np.testing.assert_allclose(scale_ks(raw), [[1.0, 0.5, -0.5, -1.0, 0.0]])


# ---------------------------------------------------------------- WTCS
def test_wtcs_hand_example():
    # reference r = 5,4,3,2,1,-1,-2,-3,-4,-5 on g1..g10 (already sorted), N = 10
    # up {g2,g5}: weights 4,1 (sum 5), miss = 1/(10-2) = 0.125
    #   running sum: -.125, +.8 -> .675, .55, .425, +.2 -> .625, .5, ... 0 ; ES_up = .675
    # down {g6,g9}: weights 1,4: five misses -> -.625, +.2 -> -.425, -.55, -.675, +.8 -> .125, 0
    #   max .125, min -.675 -> ES_down = -.675
    # WTCS = (.675 - (-.675)) / 2 = .675 ; the negated reference gives -.675
    # down {g3,g4} instead: ES_down > 0 (same sign as ES_up) -> WTCS = 0
    r = np.array([5, 4, 3, 2, 1, -1, -2, -3, -4, -5])
    lib = lib_from_rows([r, -r])
    q = {"a": (["g2", "g5"], ["g6", "g9"]), "b": (["g2", "g5"], ["g3", "g4"])}
    res = match.score_details(q, lib, "wtcs", min_genes=4)
    np.testing.assert_allclose(res.extra["up"].loc["a"].to_numpy(), [0.675, -0.675], atol=1e-7)
    np.testing.assert_allclose(res.extra["down"].loc["a"].to_numpy(), [-0.675, 0.675], atol=1e-7)
    np.testing.assert_allclose(res.scores.loc["a"].to_numpy(), [0.675, -0.675], atol=1e-7)
    assert res.scores.loc["b", "r0"] == 0.0


def test_wtcs_symmetric_example():
    # up {g1,g3}: weights 5,3 (sum 8), miss 1/8: .625, .5, .875 (max), then down to 0 -> .875
    # down {g8,g10}: 7 misses -> -.875 (min), +3/8 -> -.5, -.625, +5/8 -> 0 -> -.875
    # WTCS = (.875 + .875) / 2 = .875
    r = np.array([5, 4, 3, 2, 1, -1, -2, -3, -4, -5])
    lib = lib_from_rows([r])
    got = match.score({"q": (["g1", "g3"], ["g8", "g10"])}, lib, "wtcs", min_genes=4)
    assert got.iloc[0, 0] == pytest.approx(0.875)


def test_ncs_by_hand():
    # group A: positive mean (.6+.2)/2 = .4, negative |mean| (.3+.1)/2 = .2
    #   -> 1.5, .5, -1.5, -.5 ; group B: .5/.5 = 1, -.4/.4 = -1
    w = np.array([[0.6, 0.2, -0.3, -0.1, 0.5, -0.4]])
    codes = np.array([0, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(normalise_ncs(w, codes), [[1.5, 0.5, -1.5, -0.5, 1.0, -1.0]])


def test_ncs_groups_by_cell_line_and_type():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 40))
    obs = pd.DataFrame(
        {"cell_line": ["A"] * 6 + ["B"] * 6, "pert_type": ["trt_cp", "trt_sh"] * 6},
        index=[f"r{i}" for i in range(12)],
    )
    genes = [f"g{i}" for i in range(40)]
    lib = lib_from_rows(x, genes, obs)
    q = {"q": (genes[:6], genes[-6:])}
    w = match.score(q, lib, "wtcs").to_numpy()[0]
    ncs = match.score(q, lib, "ncs")
    assert ncs.attrs["ncs_groups"] == ["cell_line", "pert_type"]
    for (_, _), idx in obs.reset_index().groupby(["cell_line", "pert_type"]).groups.items():
        vals = w[idx]
        pos, neg = vals[vals > 0], vals[vals < 0]
        expected = np.where(
            vals > 0,
            vals / (pos.mean() if len(pos) else 1),
            np.where(vals < 0, vals / (np.abs(neg).mean() if len(neg) else 1), 0),
        )
        np.testing.assert_allclose(ncs.to_numpy()[0][idx], expected)


def test_tau_by_hand():
    # ref 1: |background| = .2, 2, 1, .5 ; three below 1.5 -> 75
    # ref 2: |background| = 1, .1, .7, .6 ; one below .5 -> 25, sign of -.5 -> -25
    ncs = np.array([[1.5, -0.5]])
    bg = np.array([[0.2, 1.0], [-2.0, 0.1], [1.0, -0.7], [0.5, 0.6]])
    np.testing.assert_allclose(tau_from_background(ncs, bg), [[75.0, -25.0]])


def test_tau_is_seeded_and_bounded():
    rng = np.random.default_rng(0)
    genes = [f"g{i}" for i in range(60)]
    lib = lib_from_rows(rng.normal(size=(15, 60)), genes)
    q = {"q": (genes[:8], genes[8:16])}
    a = match.score(q, lib, "tau", seed=1, n_background=50)
    b = match.score(q, lib, "tau", seed=1, n_background=50)
    c = match.score(q, lib, "tau", seed=2, n_background=50)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert (a.abs().to_numpy() <= 100).all()
    ncs = match.score(q, lib, "ncs").to_numpy()
    assert (np.sign(a.to_numpy()) == np.sign(ncs)).all()


def test_ncs_ct_by_hand():
    # drug x: NCS 1, 2, -4 -> sorted -4, 1, 2: q33 = -4 + .66*5 = -0.7, q67 = 1 + .34*1 = 1.34 -> 1.34
    # drug y: -3, -1, .5: q33 = -3 + .66*2 = -1.68, q67 = -1 + .34*1.5 = -.49 -> -1.68
    ncs = np.array([[1.0, -3.0, 2.0, -1.0, -4.0, 0.5]])
    labels = np.array(["x", "y", "x", "y", "x", "y"])
    out, names = ncs_ct_matrix(ncs, labels)
    assert names == ["x", "y"]
    np.testing.assert_allclose(out, [[1.34, -1.68]])


# ---------------------------------------------------------------- XSum / XCos
def test_xsum_xcos_hand_example():
    # r = 5,4,3,2,1,-1,-2,-3,-4,-5 ; k = 2 keeps g1,g2 (top) and g9,g10 (bottom)
    # up {g1,g3,g9}: kept g1 (5), g9 (-4) ; down {g2,g10,g5}: kept g2 (4), g10 (-5)
    # XSum = (5 - 4) - (4 - 5) = 2
    # XCos over {g1,g9,g2,g10}: q = 1,1,-1,-1 ; r = 5,-4,4,-5 ; dot = 5-4-4+5 = 2
    #   |q| = 2, |r| = sqrt(82) -> 1/sqrt(82)
    r = np.array([5, 4, 3, 2, 1, -1, -2, -3, -4, -5])
    lib = lib_from_rows([r])
    q = {"q": (["g1", "g3", "g9"], ["g2", "g10", "g5"])}
    assert match.score(q, lib, "xsum", top=2).iloc[0, 0] == pytest.approx(2.0)
    assert match.score(q, lib, "xcos", top=2).iloc[0, 0] == pytest.approx(1 / np.sqrt(82))


# ---------------------------------------------------------------- correlations
def test_correlations_on_shared_genes_by_hand():
    # query a..e = 1,2,3,4,5 (+ gene z absent from the library, dropped)
    # reference (gene order e,d,c,b,a,f) -> on a..e: 4,5,2,3,1 ; f is not in the query
    # cosine = (4+10+6+12+5) / (sqrt(55) sqrt(55)) = 37/55
    # pearson: centred q = -2,-1,0,1,2 ; r = 1,2,-1,0,-2 ; sum = -8 ; var sums 10, 10 -> -0.8
    # spearman: ranks of r are 4,5,2,3,1 = r -> -0.8 ; chardir distance = 1 - 37/55
    q = AnnData(
        np.array([[1.0, 2, 3, 4, 5, 9]]),
        obs=pd.DataFrame(index=["q"]),
        var=pd.DataFrame(index=["a", "b", "c", "d", "e", "z"]),
    )
    lib = lib_from_rows([[1, 3, 2, 5, 4, 100]], genes=["e", "d", "c", "b", "a", "f"])
    cos = match.score(q, lib, "cosine")
    assert cos.iloc[0, 0] == pytest.approx(37 / 55)
    assert cos.attrs["n_dropped"] == {"q": 1}
    assert match.score(q, lib, "pearson").iloc[0, 0] == pytest.approx(-0.8)
    assert match.score(q, lib, "spearman").iloc[0, 0] == pytest.approx(-0.8)
    assert match.score(q, lib, "chardir").iloc[0, 0] == pytest.approx(1 - 37 / 55)


# ---------------------------------------------------------------- overlap
def test_overlap_hand_example():
    # reference: R_up = {g1,g2,g3}, R_down = {g8,g9} (gene-set library, signs)
    # query up {g8,g1,g4}, down {g2,g3,g10}: n = 6 genes
    # reverse = |{g8}| + |{g2,g3}| = 3 -> 0.5 ; mimic = |{g1}| + 0 = 1 -> 1/6
    # p(reverse): X ~ Hypergeom(G=10, m=5, n=6); P(X>=3) = (100+50+5)/210 = 155/210
    row = [1, 1, 1, 0, 0, 0, 0, -1, -1, 0]
    lib = lib_from_rows([row], kind="genesets")
    q = {"q": (["g8", "g1", "g4"], ["g2", "g3", "g10"])}
    rev = match.score_long(q, lib, "overlap_reverse")
    assert rev["score"].iloc[0] == pytest.approx(0.5)
    assert rev["pvalue"].iloc[0] == pytest.approx(155 / 210)
    assert rev["pvalue"].iloc[0] == pytest.approx(
        fisher_exact([[3, 3], [2, 2]], alternative="greater").pvalue
    )
    assert match.score(q, lib, "overlap_mimic").iloc[0, 0] == pytest.approx(1 / 6)


def test_overlap_top_rule_for_full_signatures():
    # full signature r = 5..-5: top 2 = {g1,g2}, bottom 2 = {g9,g10}
    # query up {g9, g5, g6}, down {g1, g7, g8}: reverse hits g9 (up in R_down), g1 (down in R_up) -> 2/6
    r = np.array([5, 4, 3, 2, 1, -1, -2, -3, -4, -5])
    lib = lib_from_rows([r])
    q = {"q": (["g9", "g5", "g6"], ["g1", "g7", "g8"])}
    got = match.score(q, lib, "overlap_reverse", ref_up=2, ref_down=2)
    assert got.iloc[0, 0] == pytest.approx(2 / 6)


# ---------------------------------------------------------------- ties
def test_midrank_ties_by_hand():
    # values g1..g8 = 3, 1, 1, 1, 0, 0, 0, -2 -> midranks g1=1, g2..g4=3, g5..g7=6, g8=8
    # KS of up {g1,g3,g6}, t=3, n=8: V = 1,3,6
    #   a = max(1/3-1/8, 2/3-3/8, 1-6/8) = 7/24 ; b = max(1/8, 3/8-1/3, 6/8-2/3) = 1/8 -> 7/24
    # ES: weights 3,1,0 (sum 4), miss = 1/(8-3) = .2, misses before hit j = V - j:
    #   hit1: before 0, after .75 ; hit2: before .75-.2 = .55, after 1-.2 = .8 ;
    #   hit3: before 1-.6 = .4, after .4 -> ES = .8
    genes = [f"g{i}" for i in range(1, 9)]
    vals = [3, 1, 1, 1, 0, 0, 0, -2]
    q = {"q": (["g1", "g3", "g6"], [])}
    lib = lib_from_rows([vals], genes)
    assert match.score(q, lib, "ks_raw", min_genes=3).iloc[0, 0] == pytest.approx(7 / 24)
    assert match.score(q, lib, "wtcs", min_genes=3).iloc[0, 0] == pytest.approx(0.8)
    # gene order of tied genes does not matter with midranks; it does with ties="first"
    perm = [0, 2, 3, 1, 5, 6, 4, 7]
    lib_p = lib_from_rows([[vals[i] for i in perm]], [genes[i] for i in perm])
    for method in ("ks_raw", "wtcs", "xsum", "overlap_reverse"):
        a = match.score(q, lib, method, min_genes=3, top=2).iloc[0, 0]
        b = match.score(q, lib_p, method, min_genes=3, top=2).iloc[0, 0]
        assert a == pytest.approx(b)
    first = match.score(q, lib, "ks_raw", min_genes=3, ties="first").iloc[0, 0]
    first_p = match.score(q, lib_p, "ks_raw", min_genes=3, ties="first").iloc[0, 0]
    assert first != pytest.approx(first_p)


def test_es_tied_hits_are_centred_in_their_block():
    # values A..F = 3, 2, 2, 2, 1, 0 -> B, C, D tie at ranks 2..4 (midrank 3); set {B, C}, t = 2
    # weights |2|, |2| -> .5 each; miss = 1/(6-2) = .25
    # the two tied hits sit together at the block's centre with the block's one miss (D) split
    # evenly around them: misses before them = 1 (A) + .5 = 1.5 -> dip -.375, then +1 -> .625,
    # then the other .5 of D, E, F bring it back to 0; ES = .625 (a gene-order walk could give
    # .75 or .5 depending on where D falls; the centred value lies between and never leaves [-1, 1])
    genes = list("ABCDEF")
    vals = [3, 2, 2, 2, 1, 0]
    lib = lib_from_rows([vals], genes)
    res = match.score_details({"q": (["B", "C"], [])}, lib, "wtcs", min_genes=2)
    assert res.extra["up"].iloc[0, 0] == pytest.approx(0.625)
    # a self-match on heavily tied values stays within [-1, 1]
    rng = np.random.default_rng(0)
    tied = np.round(rng.normal(size=(1, 200)), 1)
    names = [f"h{i}" for i in range(200)]
    order = np.argsort(-tied[0], kind="stable")
    q = {"self": ([names[i] for i in order[:30]], [names[i] for i in order[-30:]])}
    score = match.score(q, lib_from_rows(tied, names), "wtcs").iloc[0, 0]
    assert 0.9 < score <= 1.0


# ---------------------------------------------------------------- aggregation
def test_aggregation_by_hand():
    scores = pd.DataFrame([[1.0, -2.0, 3.0, 0.5]], index=["q"], columns=["a1", "a2", "b1", "b2"])
    drugs = ["a", "a", "b", "b"]
    assert aggregate_references(scores, drugs, "max").loc["q"].tolist() == [1.0, 3.0]
    assert aggregate_references(scores, drugs, "min").loc["q"].tolist() == [-2.0, 0.5]
    assert aggregate_references(scores, drugs, "mean").loc["q"].tolist() == [-0.5, 1.75]
    assert aggregate_references(scores, drugs, "maxabs").loc["q"].tolist() == [-2.0, 3.0]
    two = pd.DataFrame([[1.0, 2.0], [3.0, -4.0], [5.0, 0.0]], index=["c1", "c2", "c3"], columns=["s", "t"])
    dis = aggregate_queries(two, ["d1", "d1", "d2"], "sum")
    assert dis.loc["d1"].tolist() == [4.0, -2.0]
    assert aggregate_queries(two, ["d1", "d1", "d2"], "mean").loc["d1"].tolist() == [2.0, -1.0]


def test_score_aggregate_option():
    rng = np.random.default_rng(5)
    genes = [f"g{i}" for i in range(30)]
    obs = pd.DataFrame({"drug": ["a", "a", "b", "c"]}, index=["i1", "i2", "i3", "i4"])
    lib = lib_from_rows(rng.normal(size=(4, 30)), genes, obs)
    q = {"q": (genes[:5], genes[5:10])}
    full = match.score(q, lib, "wtcs")
    agg = match.score(q, lib, "wtcs", aggregate="max")
    assert list(agg.columns) == ["a", "b", "c"]
    assert agg.loc["q", "a"] == max(full.loc["q", "i1"], full.loc["q", "i2"])


# ---------------------------------------------------------------- properties
ALL_SIGNED = ["wtcs", "xsum", "xcos", "cosine", "pearson", "spearman"]


@pytest.fixture(scope="module")
def random_lib():
    rng = np.random.default_rng(11)
    # 199 genes (prime): KS's a = j/t - V/n and b = V'/n - (j'-1)/t then almost never tie, a tie
    # being the one case where KS = a if a > b else -b is not odd under negation
    genes = [f"G{i}" for i in range(199)]
    x = rng.normal(size=(40, 199))
    obs = pd.DataFrame({"drug": [f"d{i % 10}" for i in range(40)]}, index=[f"r{i}" for i in range(40)])
    return lib_from_rows(x, genes, obs)


@pytest.mark.parametrize("method", ALL_SIGNED + ["ks", "overlap_mimic", "ncs"])
def test_self_match_scores_highest(random_lib, method):
    query = random_lib[[7]].copy()
    got = match.score(query, random_lib, method, up=20, down=20, top=50, ref_up=20, ref_down=20)
    assert got.iloc[0].idxmax() == random_lib.obs_names[7]


@pytest.mark.parametrize("method", ALL_SIGNED)
def test_negated_reference_negates_score(random_lib, method):
    query = random_lib[[3]].copy()
    neg = random_lib.copy()
    neg.X = -neg.X
    a = match.score(query, random_lib, method, up=20, down=20, top=50).to_numpy()
    b = match.score(query, neg, method, up=20, down=20, top=50).to_numpy()
    np.testing.assert_allclose(b, -a, atol=1e-9)


def test_negated_reference_ks_within_one_rank_step(random_lib):
    # Reversing a reference maps rank V to n + 1 - V, so Lamb's a and b swap up to 1/n:
    # a' = b - 1/n, b' = a + 1/n. KS is therefore odd under negation up to 1/n (exactly when
    # a and b are not within 2/n of each other).
    n = random_lib.n_vars
    query = random_lib[[3]].copy()
    neg = random_lib.copy()
    neg.X = -neg.X
    a = match.score_details(query, random_lib, "ks_raw", up=20, down=20).extra
    b = match.score_details(query, neg, "ks_raw", up=20, down=20).extra
    for key in ("up", "down"):
        close = np.abs(b[key].to_numpy() + a[key].to_numpy()) <= 1 / n + 1e-12
        assert close.mean() > 0.9


@pytest.mark.parametrize("method", list(match.METHODS))
def test_gene_order_does_not_matter(random_lib, method):
    rng = np.random.default_rng(2)
    perm = rng.permutation(random_lib.n_vars)
    shuffled = random_lib[:, perm].copy()
    q = {"q": (list(random_lib.var_names[:15]), list(random_lib.var_names[15:30]))}
    a = match.score(q, random_lib, method, top=50, n_background=20)
    b = match.score(q, shuffled, method, top=50, n_background=20)
    if method == "tau":  # the background draws genes by position, so compare its input, NCS
        a = match.score(q, random_lib, "ncs")
        b = match.score(q, shuffled, "ncs")
    # float32 products sum in gene order: equal to float32 rounding (docs/user-guide-scoring.md)
    atol = 1e-6 if method in ("cosine", "pearson", "xsum", "xcos") else 1e-12
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=atol)


def test_gene_set_query_correlations_match_scipy(random_lib):
    # a gene-set query is the vector +1 (up) / -1 (down) / 0 over all library genes
    from scipy.stats import pearsonr, spearmanr

    genes = list(random_lib.var_names)
    q = {"q": (genes[:12], genes[12:20])}
    vec = np.zeros(len(genes))
    vec[:12], vec[12:20] = 1, -1
    x = np.asarray(random_lib.X, dtype=float)
    cos = match.score(q, random_lib, "cosine").to_numpy()[0]
    pea = match.score(q, random_lib, "pearson").to_numpy()[0]
    spe = match.score(q, random_lib, "spearman").to_numpy()[0]
    for i in (0, 5, 17):
        assert cos[i] == pytest.approx(vec @ x[i] / np.linalg.norm(vec) / np.linalg.norm(x[i]))
        assert pea[i] == pytest.approx(pearsonr(vec, x[i]).statistic)
        assert spe[i] == pytest.approx(spearmanr(vec, x[i]).statistic)


def test_ks_exact_tie_follows_the_definition():
    # n = 6, up set at ranks 2 and 4 (t = 2):
    #   a = max(1/2 - 2/6, 1 - 4/6) = 1/3 ; b = max(2/6 - 0, 4/6 - 1/2) = 1/3
    # a > b is false, so KS = -b = -1/3 (in floating point 1 - 4/6 > 2/6 would say +1/3)
    genes = [f"g{i}" for i in range(1, 7)]
    lib = lib_from_rows([[6, 5, 4, 3, 2, 1]], genes)
    got = match.score({"q": (["g2", "g4"], [])}, lib, "ks_raw", min_genes=2)
    assert got.iloc[0, 0] == pytest.approx(-1 / 3)


@pytest.mark.parametrize("ties,scipy_method", [("midrank", "average"), ("first", "ordinal")])
def test_doubled_ranks_match_scipy(ties, scipy_method):
    from scipy.stats import rankdata

    from exprlab.match._ranks import doubled_ranks

    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (300, 40)).astype(np.float32)  # many ties
    x[::3] = rng.normal(size=(100, 40))  # and rows without ties
    expected = 2 * rankdata(-x, axis=1, method=scipy_method)
    np.testing.assert_array_equal(doubled_ranks(x, ties), expected)


def test_score_refuses_empty_query_sets_from_the_api():
    import anndata as ad
    import numpy as np
    import pytest

    from exprlab.errors import InvalidParameterError
    from exprlab.match import score

    lib = ad.AnnData(np.arange(12, dtype=np.float32).reshape(3, 4))
    with pytest.raises(InvalidParameterError, match="both 0"):
        score(lib[:1].copy(), lib, method="wtcs", up=0, down=0)
