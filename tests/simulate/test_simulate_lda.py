"""Hierarchical LDA simulation: structure of the presets, exact sampling, seeds, bad designs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from exprlab.errors import InvalidParameterError
from exprlab.simulate import simulate_lda
from exprlab.simulate._lda import sample_counts


def small_simu1(**kw):
    params = dict(n_genes=500, n_classes=4, n_per_class=20, n_overexpressed=3, seed=7)
    params.update(kw)
    return simulate_lda("SIMU1", **params)


def test_same_seed_same_counts_and_other_seed_differs():
    a = small_simu1()
    b = small_simu1()
    c = small_simu1(seed=8)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)


def test_thread_count_does_not_change_the_draws():
    a = small_simu1(n_per_class=70, n_jobs=1)
    b = small_simu1(n_per_class=70, n_jobs=2)
    np.testing.assert_array_equal(a.X, b.X)


def test_simu1_structure_scaled_down():
    a = small_simu1()
    assert a.shape == (80, 500)
    assert a.X.dtype == np.float32
    # counts per million: every sample has exactly 1.5e6 reads → rows sum to 1e6
    np.testing.assert_allclose(a.X.sum(axis=1, dtype=np.float64), 1e6, rtol=1e-5)
    assert list(a.obs["class"].cat.categories) == ["C0", "C1", "C2", "C3"]
    assert (a.obs["class"].value_counts() == 20).all()
    # 500 genes → 50 disjoint contiguous pathways of 10 genes; class c over-expresses 3c..3c+2
    assert len(a.uns["pathway_names"]) == 50
    expected_c1 = [f"G{g:03d}" for g in range(30, 60)]
    assert a.uns["ground_truth"]["C1"] == expected_c1
    assert a.var.loc["G035", "pathways"] == "P03"
    assert a.var.loc["G035", "informative_for"] == "C1"
    member = sp.csr_matrix(a.varm["pathway_membership"])
    assert (np.asarray(member.sum(axis=1)).ravel() == 1).all()


def test_overexpressed_pathways_are_more_expressed_in_their_class():
    a = small_simu1(n_per_class=40)
    x = np.asarray(a.X)
    cls = np.asarray(a.obs["class"])
    genes = [a.var_names.get_loc(g) for g in a.uns["ground_truth"]["C2"]]
    inside = x[cls == "C2"][:, genes].sum(axis=1).mean()
    outside = x[cls != "C2"][:, genes].sum(axis=1).mean()
    # α = 8 vs 4 over 50 pathways: the 3 pathways' share is ≈ 24/212 inside vs 12/212 outside
    assert inside / outside == pytest.approx((24 / 212) / (12 / 212), rel=0.25)


def test_simu2_random_overlapping_pathways():
    a = simulate_lda("SIMU2", n_genes=3000, n_classes=4, n_per_class=5, seed=3)
    member = sp.csc_matrix(a.varm["pathway_membership"])
    sizes = np.diff(member.indptr)
    assert member.shape == (3000, 600)  # 3,000 pathways scaled by 3,000/15,000
    assert sizes.min() >= 3
    # each gene in each pathway with probability 10/3000, 600 pathways: P(no pathway) ≈ e^-2
    none = (np.asarray(member.sum(axis=1)).ravel() == 0).mean()
    assert none == pytest.approx(np.exp(-2), abs=0.03)
    # genes in no pathway are never expressed
    unexpressed = np.asarray(member.sum(axis=1)).ravel() == 0
    assert np.asarray(a.X)[:, unexpressed].sum() == 0
    assert (a.var["n_pathways"] > 1).any()  # overlapping


def test_jitter_adds_bounded_noise_without_changing_the_counts():
    params = dict(n_genes=3000, n_classes=4, n_per_class=5, seed=3)
    plain = simulate_lda("SIMU2", **params)
    noisy = simulate_lda("SIMU2", jitter=1e-4, **params)
    diff = np.asarray(noisy.X, dtype=np.float64) - np.asarray(plain.X, dtype=np.float64)
    unexpressed = np.asarray(plain.X).sum(axis=0) == 0
    assert unexpressed.any()
    # genes in no pathway become small positive noise: every value in (0, 1e-4), none repeated
    noise = np.asarray(noisy.X)[:, unexpressed]
    assert noise.min() > 0 and noise.max() < 1e-4
    assert np.unique(noise).size > 0.9 * noise.size
    # elsewhere the counts are the same draws (the jitter is drawn after them)
    assert np.abs(diff).max() < 1e-3
    assert plain.uns["ground_truth"] == noisy.uns["ground_truth"]


def test_two_class_subclass_presets_relabel_and_share_ground_truth():
    a = simulate_lda("SimuB", n_genes=2000, n_per_class=6, seed=1)
    assert a.obs["class"].value_counts().to_dict() == {"C0": 18, "C1": 6}
    assert set(a.obs["subclass"]) == {"S0", "S1", "S2", "S3"}
    # P scaled 500 → 20 pathways of 10 genes per generated class
    sub = a.uns["ground_truth_subclass"]
    own_s0 = {f"G{g:04d}" for g in range(0, 200)}
    own_s3 = {f"G{g:04d}" for g in range(600, 800)}
    assert set(sub["S0"]) == own_s0 | own_s3  # two-class rule: the other class's genes too
    assert set(a.uns["ground_truth"]["C1"]) == {f"G{g:04d}" for g in range(0, 800)}


def test_multinomial_sampler_mean_matches_expectation():
    rng = np.random.default_rng(0)
    theta = np.tile(np.array([[0.2, 0.5, 0.3]]), (400, 1))
    B = np.array([[0.5, 0.5, 0, 0, 0], [0, 0, 1.0, 0, 0], [0, 0, 0, 0.25, 0.75]])
    counts = sample_counts(theta, sp.csr_matrix(B), 10_000, rng)
    expected = 10_000 * theta[0] @ B  # [1000, 1000, 5000, 750, 2250]
    np.testing.assert_allclose(expected, [1000, 1000, 5000, 750, 2250])
    np.testing.assert_array_equal(counts.sum(axis=1), 10_000)
    sd = np.sqrt(10_000 * (expected / 10_000) * (1 - expected / 10_000))
    # mean of 400 draws: standard error sd / 20; allow 5 standard errors
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 5 * sd / 20)


def test_full_reads_mean_matches_theta_b_for_one_preset():
    a = simulate_lda("SimuA", n_genes=500, n_per_class=50, seed=2)
    # class means of counts ≈ n_reads · E[θ]·B with E[θ] = α / Σα; check per pathway totals
    x = np.asarray(a.X, dtype=np.float64) * 1.5  # back to counts
    member = sp.csc_matrix(a.varm["pathway_membership"])
    c0 = np.asarray(a.obs["class"]) == "C0"
    per_pathway = x[c0] @ member.toarray()  # disjoint pathways: reads per pathway
    alpha = np.full(50, 4.0)
    alpha[:5] = 8.0
    expected = 1.5e6 * alpha / alpha.sum()
    np.testing.assert_allclose(per_pathway.mean(axis=0), expected, rtol=0.2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_overexpressed=20), "informative pathways, more than"),
        (dict(n_per_class=0), "at least 1 sample"),
        (dict(n_classes=1), "at least 2 classes"),
        (dict(pathway_size=20), "disjoint pathways"),
        (dict(n_per_class=[5, 5]), "2 values for 4"),
        (dict(alpha_over=0), "alpha_over must be positive"),
        (dict(bogus=1), "unknown simulation parameter"),
        (dict(jitter=-1e-4), "jitter must be zero or positive"),
    ],
)
def test_impossible_designs_are_refused(kwargs, message):
    params = dict(n_genes=500, n_classes=4, n_per_class=5, n_overexpressed=3)
    params.update(kwargs)
    with pytest.raises(InvalidParameterError, match=message) as info:
        simulate_lda("SIMU1", **params)
    assert "Fix:" in str(info.value)


def test_unknown_preset():
    with pytest.raises(InvalidParameterError, match="unknown simulation preset"):
        simulate_lda("SIMU9")


def test_cli_simulate_writes_h5ad(tmp_path):
    import anndata as ad

    from exprlab.cli import main

    out = tmp_path / "s.h5ad"
    main(
        [
            "simulate",
            "--preset",
            "simu1",
            "--n-genes",
            "300",
            "--n-classes",
            "3",
            "--n-per-class",
            "4",
            "--n-overexpressed",
            "2",
            "--out",
            str(out),
        ]
    )
    back = ad.read_h5ad(out)
    assert back.shape == (12, 300)
    assert back.uns["ground_truth"]["C0"].tolist() == [f"G{g:03d}" for g in range(20)]


def test_cli_simulate_bad_design_exits_2(tmp_path, capsys):
    from exprlab.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["simulate", "--preset", "simu1", "--n-genes", "100", "--out", str(tmp_path / "x.h5ad")])
    assert stop.value.code == 2
    assert "more than the 10 pathways" in capsys.readouterr().err
    assert not (tmp_path / "x.h5ad").exists()


def test_cli_simulate_jitter(tmp_path, capsys):
    import anndata as ad

    from exprlab.cli import main

    out = tmp_path / "j.h5ad"
    main(
        [
            "simulate",
            "--preset",
            "simu2",
            "--n-genes",
            "3000",
            "--n-classes",
            "4",
            "--n-per-class",
            "5",
            "--jitter",
            "1e-4",
            "--out",
            str(out),
        ]
    )
    X = np.asarray(ad.read_h5ad(out).X)
    assert X.min() > 0  # genes in no pathway carry the noise instead of zeros
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "simulate",
                "--preset",
                "simu2",
                "--n-genes",
                "3000",
                "--n-classes",
                "4",
                "--jitter",
                "-1",
                "--out",
                str(tmp_path / "bad.h5ad"),
            ]
        )
    assert stop.value.code == 2
    assert "jitter must be zero or positive" in capsys.readouterr().err
    assert not (tmp_path / "bad.h5ad").exists()
