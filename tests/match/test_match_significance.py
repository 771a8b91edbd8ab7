"""Permutation p-values, BH FDR, library-reference tau and id parsing (docs/methods.md §1).

Expected values come from plain loops in this file over null queries drawn the documented way
(``numpy.random.default_rng(seed)``, size pairs in sorted order, ``rng.choice(n_genes, up +
down, replace=False)``, the first ``up`` genes up) and scored with :func:`exprlab.match.score`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData
from scipy import stats
from tests._queries import random_up_down

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.match import (
    bh_fdr,
    build_library,
    parse_signature_ids,
    permutation_pvalues,
    score,
    significance,
    summarise_perturbagens,
    tau_reference,
)

N_GENES = 120


def _library(n_sig: int = 40, n_genes: int = N_GENES, seed: int = 0, obs=None) -> AnnData:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_sig, n_genes)).astype(np.float32)
    lib = AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{i}" for i in range(n_genes)]))
    lib.obs_names = [f"s{i}" for i in range(n_sig)]
    return lib


def _random_queries(n: int, nu: int, nd: int, seed: int, n_genes: int = N_GENES) -> dict:
    return random_up_down(n, n_genes, nu, nd, seed=seed, prefix="g")


def _null_by_hand(sizes, n_perm, seed, lib, method, **kw) -> dict:
    """Null score matrices per size pair, queries drawn as documented, scored by ``score``."""
    rng = np.random.default_rng(seed)
    null = {}
    for nu, nd in sorted(set(sizes)):
        sets = {}
        for k in range(n_perm):
            pick = rng.choice(N_GENES, nu + nd, replace=False)
            sets[f"n{k}"] = ([f"g{i}" for i in pick[:nu]], [f"g{i}" for i in pick[nu:]])
        null[(nu, nd)] = score(sets, lib, method, min_genes=0, **kw).to_numpy()
    return null


def _p_by_loop(s: float, nulls) -> float:
    if s == 0:
        return 1.0
    same = [v for v in nulls if np.sign(v) == np.sign(s)]
    beyond = [v for v in same if abs(v) >= abs(s) - 1e-6 * max(1.0, abs(s))]  # documented tie rule
    return (1 + len(beyond)) / (1 + len(same))


@pytest.mark.parametrize("method", ["wtcs", "ks_raw", "xsum"])
def test_pvalues_match_a_plain_loop_per_signature_and_pooled(method):
    lib = _library()
    queries = {**_random_queries(2, 8, 6, seed=5), "solo": (["g1", "g2", "g3", "g4", "g5", "g6"], [])}
    kw = {"top": 20} if method == "xsum" else {}
    sizes = [(8, 6), (8, 6), (6, 0)]
    null = _null_by_hand(sizes, 25, 11, lib, method, **kw)
    observed = score(queries, lib, method, **kw).to_numpy()
    for kind in ("signature", "pooled"):
        res = significance(queries, lib, method, n_permutations=25, seed=11, null=kind, top=20)
        assert np.allclose(res.statistic.to_numpy(), observed, atol=1e-6)
        for qi, size in enumerate(sizes):
            for j in range(lib.n_obs):
                pool = null[size][:, j] if kind == "signature" else null[size].ravel()
                expected = _p_by_loop(observed[qi, j], pool)
                assert res.pvalue.iat[qi, j] == pytest.approx(expected), (kind, qi, j)


def test_bh_matches_a_hand_computation():
    # sorted p: .01 .03 .04 .2 -> p*m/rank: .04 .06 .0533 .2 -> running minimum from the top
    got = bh_fdr(np.array([[0.01, 0.04, 0.03, 0.2]]))
    assert np.allclose(got, [[0.04, 0.16 / 3, 0.16 / 3, 0.2]])


def test_fdr_is_the_rowwise_bh_of_the_pvalues():
    lib = _library()
    res = significance(_random_queries(2, 10, 10, seed=2), lib, "wtcs", n_permutations=30, seed=0)
    for qi in range(2):
        p = res.pvalue.iloc[qi].to_numpy()
        order = np.argsort(p)
        m = len(p)
        q = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
        expected = np.empty(m)
        expected[order] = np.minimum(q, 1.0)
        assert np.allclose(res.fdr.iloc[qi].to_numpy(), expected)


def test_pooled_and_per_column_counts_on_a_tiny_null():
    null = np.array([[-0.5, 0.1], [0.2, 0.3], [0.4, -0.2], [0.0, 0.3]])
    obs = np.array([[0.2, -0.2]])
    # column 0: positives 0.2, 0.4 -> p(0.2) = (1 + 2) / (1 + 2) = 1
    # column 1: negatives -0.2 -> p(-0.2) = (1 + 1) / (1 + 1) = 1
    assert np.allclose(permutation_pvalues(obs, null.copy()), [[1.0, 1.0]])
    # pooled: positives .1 .2 .3 .4 .3 -> >= .2: 4 -> 5/6; negatives -.5 -.2 -> <= -.2: 2 -> 3/3
    assert np.allclose(permutation_pvalues(obs, null.copy(), null_kind="pooled"), [[5 / 6, 1.0]])
    assert permutation_pvalues(np.array([[0.0, 0.0]]), null.copy())[0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("method", "kind"), [("wtcs", "signature"), ("xsum", "signature"), ("wtcs", "pooled")]
)
def test_pvalues_of_random_queries_are_uniform(method, kind):
    """Random queries against a random library: non-zero scores' p-values ~ U(0, 1)."""
    lib = _library(n_sig=150, n_genes=400, seed=3)
    queries = _random_queries(30, 20, 20, seed=4, n_genes=400)
    res = significance(queries, lib, method, n_permutations=499, seed=9, null=kind, top=50)
    p = res.pvalue.to_numpy()[res.statistic.to_numpy() != 0]
    assert len(p) > 2000
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert abs(np.mean(p <= 0.05) - 0.05) < 0.015


def test_ks_pvalues_are_valid_and_scores_scaled():
    lib = _library(n_sig=150, n_genes=400, seed=3)
    queries = _random_queries(20, 20, 20, seed=6, n_genes=400)
    res = significance(queries, lib, "ks", n_permutations=299, seed=1)
    assert np.allclose(res.scores.to_numpy(), score(queries, lib, "ks").to_numpy())
    assert np.allclose(res.statistic.to_numpy(), score(queries, lib, "ks_raw").to_numpy())
    assert np.mean(res.pvalue.to_numpy() <= 0.05) <= 0.06  # ties make KS p-values conservative


def test_same_seed_same_pvalues_other_seed_others():
    lib = _library()
    q = _random_queries(1, 10, 10, seed=1)
    a = significance(q, lib, n_permutations=40, seed=7).pvalue
    b = significance(q, lib, n_permutations=40, seed=7).pvalue
    c = significance(q, lib, n_permutations=40, seed=8).pvalue
    assert a.equals(b)
    assert not a.equals(c)


def test_full_signature_query_uses_its_top_and_bottom_genes():
    lib = _library()
    qsig = _library(n_sig=1, seed=42)
    res = significance(qsig, lib, "wtcs", n_permutations=20, seed=0, up=10, down=10)
    v = qsig.X[0]
    order = np.argsort(-v, kind="stable")
    sets = {"s0": ([f"g{i}" for i in order[:10]], [f"g{i}" for i in order[::-1][:10]])}
    assert np.allclose(res.scores.to_numpy(), score(sets, lib, "wtcs").to_numpy(), atol=1e-6)


@pytest.mark.parametrize("bad", [0, -3])
def test_permutation_count_below_one_is_refused(bad):
    with pytest.raises(InvalidParameterError, match="n_permutations"):
        significance(_random_queries(1, 5, 5, seed=0), _library(), n_permutations=bad)


def test_unsupported_method_and_null_are_refused():
    q, lib = _random_queries(1, 5, 5, seed=0), _library()
    with pytest.raises(InvalidParameterError, match="method"):
        significance(q, lib, "cosine", n_permutations=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="null"):
        significance(q, lib, null="global", n_permutations=5)  # type: ignore[arg-type]


def test_query_without_library_genes_is_refused():
    with pytest.raises(GeneSpaceError, match="no query gene"):
        significance({"q": (["A1", "A2", "A3"], ["B1", "B2", "B3"])}, _library(), n_permutations=5)


def test_ncs_by_missing_metadata_is_refused():
    q, lib = _random_queries(1, 5, 5, seed=0), _library()
    with pytest.raises(InputDataError, match="no column"):
        score(q, lib, "ncs", group_by=["cell_line", "pert_type"])
    with pytest.raises(InputDataError, match="no column"):
        tau_reference(q, lib, group_by="cell_line", n_background=5)


def test_tau_reference_by_hand():
    obs = pd.DataFrame({"cell_line": ["A", "B"] * 10}, index=[f"s{i}" for i in range(20)])
    lib = _library(n_sig=20, obs=obs)
    q = _random_queries(1, 6, 6, seed=3)
    tau = tau_reference(q, lib, n_background=8, seed=2, group_by="cell_line")
    rows = np.sort(np.random.default_rng(2).choice(20, 8, replace=False))
    assert tau.attrs["tau_reference_rows"] == rows.tolist()
    refs = {}
    for k, r in enumerate(rows):
        v = lib.X[r].astype(np.float64)
        order = np.argsort(-v, kind="stable")
        refs[f"r{k}"] = ([f"g{i}" for i in order[:6]], [f"g{i}" for i in order[::-1][:6]])
    ncs = score({**q, **refs}, lib, "ncs", group_by="cell_line", min_genes=0).to_numpy()
    for j in range(20):
        v = ncs[0, j]
        bg = [ncs[1 + k, j] for k, r in enumerate(rows) if r != j]
        expected = np.sign(v) * 100 * sum(abs(b) < abs(v) for b in bg) / len(bg)
        assert tau.iat[0, j] == pytest.approx(expected)
    assert tau_reference(q, lib, n_background=8, seed=2).shape == (1, 20)


def test_parse_ids_default_and_custom_pattern():
    ids = ["trichostatin-a__SKB__trt_cp", "HC-toxin__A375__trt_cp"]
    meta = parse_signature_ids(ids)
    assert meta["drug"].tolist() == ["trichostatina", "hctoxin"]
    assert meta["drug_name"].tolist() == ["trichostatin-a", "HC-toxin"]
    assert meta["cell_line"].tolist() == ["SKB", "A375"]
    assert meta["pert_type"].tolist() == ["trt_cp", "trt_cp"]
    custom = parse_signature_ids(["CPC001_MCF7_6H:BRD-K1"], r"^(?P<plate>[^_]+)_(?P<cell_line>[^_]+)_")
    assert custom.loc["CPC001_MCF7_6H:BRD-K1"].tolist() == ["CPC001", "MCF7"]
    with pytest.raises(InputDataError, match="do not match"):
        parse_signature_ids(["vorinostat_SKB"])
    with pytest.raises(InvalidParameterError, match="named group"):
        parse_signature_ids(ids, r"(.+)__(.+)")


def test_perturbagen_summary_by_hand():
    table = pd.DataFrame(
        {
            "query": ["q"] * 4,
            "signature": ["a__C1__t", "a__C2__t", "a__C3__t", "b__C1__t"],
            "score": [0.9, -0.2, 0.1, -0.5],
            "fdr": [0.01, 0.5, 0.4, 0.02],
        }
    )
    meta = parse_signature_ids(table["signature"])
    out = summarise_perturbagens(table, meta).set_index("drug")
    # a: scores -0.2, 0.1, 0.9; 33rd pct = -0.2 + 0.66 * 0.3 = -0.002; 67th = 0.1 + 0.34 * 0.8 = 0.372
    assert out.loc["a", "summary"] == pytest.approx(0.372)
    assert out.loc["a", "n_cells"] == 3
    assert out.loc["a", "best_signature"] == "a__C1__t"
    assert out.loc["a", "min_fdr"] == pytest.approx(0.01)
    assert out.loc["b", "summary"] == pytest.approx(-0.5)
    assert out.index.tolist() == ["a", "b"]
    with pytest.raises(InputDataError, match="no column"):
        summarise_perturbagens(table, meta, by="moa")


@pytest.mark.parametrize("layout", ["signature_major", "gene_major"])
def test_on_disk_library_gives_the_in_memory_pvalues(tmp_path, layout):
    lib = _library(n_sig=30)
    path = build_library(lib, tmp_path / f"lib_{layout}.h5", layout=layout)
    q = _random_queries(2, 7, 7, seed=8)
    mem = significance(q, lib, "wtcs", n_permutations=40, seed=2)
    disk = significance(q, str(path), "wtcs", n_permutations=40, seed=2)
    assert np.allclose(disk.statistic.to_numpy(), mem.statistic.to_numpy(), atol=1e-6)
    assert np.array_equal(disk.pvalue.to_numpy(), mem.pvalue.to_numpy())
    tau_mem = tau_reference(q, lib, n_background=10, seed=1)
    tau_disk = tau_reference(q, str(path), n_background=10, seed=1)
    assert np.allclose(tau_disk.to_numpy(), tau_mem.to_numpy())


def test_many_scoring_passes_give_the_one_pass_pvalues(monkeypatch):
    import exprlab.match._significance as sig

    lib = _library(n_sig=30)
    q = {**_random_queries(2, 7, 7, seed=8), "small": (["g1", "g2", "g3", "g4", "g5"], ["g6"])}
    one = significance(q, lib, "xsum", n_permutations=45, seed=4, top=20)
    monkeypatch.setattr(sig, "_PASS_VALUES", 30 * 7)  # 7 null queries per pass: 13 passes
    many = significance(q, lib, "xsum", n_permutations=45, seed=4, top=20)
    assert np.array_equal(one.pvalue.to_numpy(), many.pvalue.to_numpy())
    # XSum sums float32 products: the batch a query is scored in may change the last bits
    np.testing.assert_allclose(one.scores.to_numpy(), many.scores.to_numpy(), rtol=1e-6, atol=1e-6)
