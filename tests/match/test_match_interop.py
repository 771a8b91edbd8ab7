"""clue.io metadata on libraries, gene spaces, signatureSearch HDF5, AnnData in and out."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from anndata import AnnData

import exprlab.match as match
from exprlab.errors import FormatError, GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.io import read_clue_geneinfo, read_signaturesearch_h5, write_signaturesearch_h5

GENES = [str(1000 + i) for i in range(40)]  # Entrez-like ids
SPACE = ["landmark"] * 10 + ["best inferred"] * 20 + ["inferred"] * 10


def make_lib(n=12, seed=0) -> AnnData:
    rng = np.random.default_rng(seed)
    ids = [f"SIG_{i}" for i in range(n)]
    return AnnData(
        rng.normal(size=(n, len(GENES))).astype(np.float32),
        obs=pd.DataFrame({"batch": ["b"] * n}, index=ids),
        var=pd.DataFrame(index=GENES),
    )


@pytest.fixture()
def geneinfo(tmp_path):
    path = tmp_path / "geneinfo.txt"
    table = pd.DataFrame(
        {
            "gene_id": GENES,
            "gene_symbol": [f"SYM{i}" for i in range(40)],
            "gene_type": "protein-coding",
            "feature_space": SPACE,
        }
    )
    table.to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture()
def siginfo(tmp_path):
    path = tmp_path / "siginfo.txt"
    table = pd.DataFrame(
        {
            "sig_id": ["SIG_0", "SIG_3", "OTHER_9"],
            "pert_iname": ["vorinostat", "aspirin", "x"],
            "cell_iname": ["MCF7", "PC3", "A375"],
            "pert_type": ["trt_cp", "trt_cp", "trt_sh"],
            "pert_dose": [10.0, 1.0, 5.0],
        }
    )
    table.to_csv(path, sep="\t", index=False)
    return path


@pytest.mark.parametrize("layout", ["signature_major", "gene_major"])
def test_build_attaches_siginfo_and_geneinfo(tmp_path, siginfo, geneinfo, layout):
    out = match.build_library(
        make_lib(), tmp_path / "lib.h5", layout=layout, siginfo=siginfo, geneinfo=geneinfo, gene_space="bing"
    )
    lib = match.DiskLibrary(out)
    assert list(lib.genes) == GENES[:30]  # landmark + best inferred, in order
    assert list(lib.var["gene_symbol"]) == [f"SYM{i}" for i in range(30)]
    assert lib.var["feature_space"].tolist() == SPACE[:30]
    assert lib.obs.loc["SIG_0", "pert_iname"] == "vorinostat"
    assert lib.obs.loc["SIG_3", "cell_iname"] == "PC3"
    assert lib.obs.loc["SIG_3", "pert_dose"] == 1.0
    assert np.isnan(lib.obs.loc["SIG_1", "pert_dose"])  # no siginfo row: missing
    assert lib.obs.loc["SIG_1", "batch"] == "b"  # the source's own metadata stays
    # ranks are among the kept genes: the top gene of a signature has doubled rank 2
    values, rank2 = lib.read(0, lib.n, ranks=True, ties="midrank")
    assert (rank2.max(axis=1) == 2 * 30).all()
    np.testing.assert_array_equal(values, make_lib().X[:, :30])


def test_landmark_space_and_symbol_ids(tmp_path, geneinfo):
    lib = make_lib()
    lib.var_names = [f"SYM{i}" for i in range(40)]  # symbols instead of Entrez ids
    out = match.build_library(lib, tmp_path / "lib.h5", geneinfo=geneinfo, gene_space="landmark")
    got = match.DiskLibrary(out)
    assert list(got.genes) == [f"SYM{i}" for i in range(10)]
    assert got.var["gene_id"].tolist() == GENES[:10]


def test_old_library_without_var_or_sums_still_loads(tmp_path):
    out = match.build_library(make_lib(), tmp_path / "lib.h5")
    with h5py.File(out, "a") as f:  # what a library written before the optional datasets holds
        for name in ("sum", "sumsq", "var"):
            if name in f:
                del f[name]
    lib = match.DiskLibrary(out)
    assert lib.var.shape == (40, 0)
    x = make_lib().X.astype(np.float64)
    n, total, sq = lib.row_stats(0, lib.n)
    np.testing.assert_allclose(total, x.sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(sq, (x * x).sum(axis=1), rtol=1e-6)
    q = {"q": (GENES[:6], GENES[30:36])}
    np.testing.assert_allclose(
        match.score(q, lib, "cosine").to_numpy(), match.score(q, make_lib(), "cosine").to_numpy(), atol=1e-6
    )


def test_siginfo_joining_nothing_is_refused(tmp_path):
    path = tmp_path / "siginfo.txt"
    pd.DataFrame({"sig_id": ["A", "B"], "pert_iname": ["x", "y"]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputDataError, match="names none of the library"):
        match.build_library(make_lib(), tmp_path / "lib.h5", siginfo=path)
    assert not (tmp_path / "lib.h5").exists()


def test_geneinfo_without_feature_space_is_refused(tmp_path):
    path = tmp_path / "geneinfo.txt"
    pd.DataFrame({"gene_id": GENES, "gene_symbol": GENES}).to_csv(path, sep="\t", index=False)
    assert "feature_space" not in read_clue_geneinfo(path).columns
    with pytest.raises(FormatError, match="feature_space"):
        match.build_library(make_lib(), tmp_path / "lib.h5", geneinfo=path, gene_space="landmark")


def test_unknown_gene_space_is_refused(tmp_path, geneinfo):
    with pytest.raises(InvalidParameterError, match="gene_space"):
        match.build_library(make_lib(), tmp_path / "lib.h5", geneinfo=geneinfo, gene_space="l1000")


def test_gene_space_naming_no_gene_is_refused(tmp_path, geneinfo):
    lib = make_lib()
    lib.var_names = [f"ENSG{i}" for i in range(40)]
    with pytest.raises(GeneSpaceError, match="landmark space"):
        match.build_library(lib, tmp_path / "lib.h5", geneinfo=geneinfo, gene_space="landmark")


def test_signaturesearch_layout_round_trip(tmp_path, data_dir):
    ref = h5py.File(data_dir / "lincs" / "lincs_level5_sample_100x5000.h5", "r")
    lib = make_lib()
    out = write_signaturesearch_h5(lib, tmp_path / "sigs.h5")
    with h5py.File(out, "r") as f:
        for name in ("assay", "colnames", "rownames"):
            assert f[name].dtype == ref[name].dtype, name  # float64, S1000, S100
            assert f[name].ndim == ref[name].ndim
        assert f["assay"].shape == (12, 40)  # signatures x genes, as in the reference file
        assert ref["assay"].shape == (ref["colnames"].shape[1], ref["rownames"].shape[1])
        assert f["colnames"].shape == (1, 12) and f["rownames"].shape == (1, 40)
    back = read_signaturesearch_h5(out)
    assert list(back.obs_names) == list(lib.obs_names) and list(back.var_names) == GENES
    np.testing.assert_array_equal(back.X, lib.X.astype(np.float64))


def test_convert_to_h5_writes_signaturesearch(tmp_path, data_dir):
    from exprlab.io import convert

    src = data_dir / "lincs" / "lincs_level5_sample_100x5000.h5"
    out = convert(src, tmp_path / "copy.h5")
    a, b = read_signaturesearch_h5(src), read_signaturesearch_h5(out)
    np.testing.assert_array_equal(a.X, b.X)
    assert list(a.obs_names) == list(b.obs_names) and list(a.var_names) == list(b.var_names)


def _wtcs_query():
    return {"q1": (GENES[:8], GENES[30:38]), "q2": (GENES[10:20], GENES[20:28])}


def test_score_accepts_gctx_h5ad_and_library_paths(tmp_path):
    from exprlab.io import write

    lib = make_lib()
    expected = match.score(_wtcs_query(), lib, "wtcs")
    paths = [write(lib, tmp_path / "lib.gctx"), write(lib, tmp_path / "lib.h5ad")]
    paths.append(match.build_library(lib, tmp_path / "lib.h5"))
    for path in paths:
        for given in (path, str(path)):
            got = match.score(_wtcs_query(), given, "wtcs")
            np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1e-12, err_msg=str(path))


def test_key_added_writes_obsm_dataframe_and_layer_is_read(tmp_path):
    lib = make_lib()
    rng = np.random.default_rng(3)
    q = AnnData(np.zeros((3, 40), dtype=np.float32), var=pd.DataFrame(index=GENES))
    q.obs_names = ["cellA", "cellB", "cellC"]
    q.layers["lognorm"] = rng.normal(size=(3, 40))
    got = match.score(q, lib, "cosine", layer="lognorm", key_added="cmap")
    frame = q.obsm["cmap"]
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["cellA", "cellB", "cellC"] and list(frame.columns) == list(lib.obs_names)
    # independent cosine over all 40 genes, from the layer (X is all zeros and would give NaN)
    x, v = q.layers["lognorm"], lib.X.astype(np.float64)
    ref = (x @ v.T) / np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(v, axis=1))
    np.testing.assert_allclose(frame.to_numpy(), ref, atol=1e-5)
    np.testing.assert_allclose(got.to_numpy(), ref, atol=1e-5)
    assert q.uns["cmap"]["params"]["method"] == "cosine"
    assert q.uns["cmap"]["params"]["layer"] == "lognorm"
    q.write_h5ad(tmp_path / "q.h5ad")  # what scverse users do next: it must save


def _rank_genes_groups_uns(groups: dict[str, list[tuple[str, float]]]) -> dict:
    """scanpy's structure: record arrays with one field per group, rows sorted by score."""
    n = len(next(iter(groups.values())))
    names = np.rec.fromarrays(
        [np.array([g for g, _ in v], dtype=object) for v in groups.values()], names=list(groups)
    )
    scores = np.rec.fromarrays(
        [np.array([s for _, s in v], dtype=np.float32) for v in groups.values()], names=list(groups)
    )
    lfc = np.rec.fromarrays([np.zeros(n, dtype=np.float32) for _ in groups], names=list(groups))
    return {
        "params": {"groupby": "leiden", "method": "wilcoxon"},
        "names": names,
        "scores": scores,
        "logfoldchanges": lfc,
    }


def test_queries_from_rank_genes_groups_land_in_uns():
    lib = make_lib()
    order = np.random.default_rng(5).permutation(40)
    ranked = [(GENES[i], float(20 - k)) for k, i in enumerate(order)]  # 20 positive, 20 negative (one 0)
    ranked_b = ranked[::-1]
    ranked_b = [(g, -s) for g, s in ranked_b]
    q = AnnData(np.zeros((4, 40), dtype=np.float32), var=pd.DataFrame(index=GENES))
    q.uns["rank_genes_groups"] = _rank_genes_groups_uns({"0": ranked, "1": ranked_b})
    sets = match.rank_genes_groups_queries(q, up=5, down=6)
    assert sets["0"][0] == [GENES[i] for i in order[:5]]  # top 5 positive scores
    assert sets["0"][1] == [GENES[i] for i in order[::-1][:6]]  # 6 most negative, most negative first
    got = match.score(q, lib, "wtcs", groups_key="rank_genes_groups", up=5, down=6, key_added="cmap")
    expected = match.score(sets, lib, "wtcs")
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    stored = q.uns["cmap"]["scores"]
    assert list(stored.index) == ["0", "1"]
    np.testing.assert_array_equal(stored.to_numpy(), expected.to_numpy())
    assert "cmap" not in q.obsm


def test_gene_space_at_scoring_drops_query_genes(tmp_path, geneinfo):
    lib = make_lib()
    query = {"q": (GENES[:5] + GENES[30:35], GENES[10:15] + GENES[35:40])}
    got = match.score(query, lib, "wtcs", gene_space="landmark", geneinfo=geneinfo, min_genes=1)
    # landmark genes are GENES[:10]: only the up genes GENES[:5] remain
    expected = match.score({"q": (GENES[:5], [])}, lib, "wtcs", min_genes=1)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert got.attrs["n_dropped"] == {"q": 0}
    # the library's own gene metadata is used when no table is given
    built = match.build_library(lib, tmp_path / "lib.h5", geneinfo=geneinfo)
    again = match.score(query, built, "wtcs", gene_space="landmark", min_genes=1)
    np.testing.assert_array_equal(again.to_numpy(), expected.to_numpy())
    with pytest.raises(FormatError, match="feature_space"):
        match.score(query, lib, "wtcs", gene_space="bing")
    with pytest.raises(InvalidParameterError, match="gene_space"):
        match.score(query, lib, "wtcs", gene_space="bingo", geneinfo=geneinfo)


def test_clue_export_size_rule():
    big = {"q": ([f"G{i}" for i in range(160)], [f"D{i}" for i in range(12)])}
    with pytest.raises(InputDataError, match="up set of query 'q' has 160 genes; clue.io takes 10 to 150"):
        match.clue_query_sets(big)
    ups, downs = match.clue_query_sets(big, trim=True)
    assert ups["q"] == [f"G{i}" for i in range(150)] and downs["q"] == [f"D{i}" for i in range(12)]
    small = {"q": ([f"G{i}" for i in range(20)], [f"D{i}" for i in range(9)])}
    with pytest.raises(InputDataError, match="down set of query 'q' has 9 genes"):
        match.clue_query_sets(small, trim=True)  # too small cannot be trimmed into the rule
    # full signatures: the strongest genes, in order
    x = np.arange(40, dtype=np.float32)[None, :]
    q = AnnData(x, var=pd.DataFrame(index=GENES))
    ups, downs = match.clue_query_sets(q, up=12, down=10)
    assert ups["0"] == GENES[::-1][:12] and downs["0"] == GENES[:10]


def _run(args: list[str]) -> int:
    """The CLI's exit status (0 on success)."""
    from exprlab.cli import main

    try:
        main(args)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_cli_build_export_and_wide_score(tmp_path, siginfo, geneinfo):
    from exprlab.io import read_gmt, read_table, write

    src = write(make_lib(), tmp_path / "lib.h5ad")
    lib = tmp_path / "lib.h5"
    args = [
        "library",
        "build",
        str(src),
        "-o",
        str(lib),
        "--siginfo",
        str(siginfo),
        "--geneinfo",
        str(geneinfo),
    ]
    assert _run([*args, "--gene-space", "bing"]) == 0
    assert match.DiskLibrary(lib).obs.loc["SIG_0", "pert_iname"] == "vorinostat"
    assert _run(["library", "build", str(src), "-o", str(tmp_path / "x.h5"), "--gene-space", "nope"]) == 2
    qpath = tmp_path / "q.gmt"
    qpath.write_text("q1_up\tna\t" + "\t".join(GENES[:12]) + "\nq1_dn\tna\t" + "\t".join(GENES[20:30]) + "\n")
    out = tmp_path / "up.gmt"
    assert (
        _run(["export", str(qpath), "--to", "clue", "-o", str(out), "--out-down", str(tmp_path / "dn.gmt")])
        == 0
    )
    assert dict(read_gmt(out)) == {"q1": GENES[:12]} and dict(read_gmt(tmp_path / "dn.gmt")) == {
        "q1": GENES[20:30]
    }
    assert _run(["export", str(qpath), "--to", "clue", "-o", str(tmp_path / "u2.gmt"), "--out-down", str(tmp_path / "d2.gmt"), "--gene-space", "landmark", "--geneinfo", str(geneinfo)]) == 2  # fmt: skip
    h5 = tmp_path / "sigs.h5"
    assert _run(["export", str(lib), "--to", "signaturesearch", "-o", str(h5)]) == 0
    back = read_signaturesearch_h5(h5)
    np.testing.assert_array_equal(back.X, make_lib().X[:, :30].astype(np.float64))
    wide = tmp_path / "wide.tsv"
    assert _run(["score", "-l", str(lib), "--query", str(qpath), "-o", str(wide), "--wide"]) == 0
    table = read_table(wide)
    expected = match.score(match.split_up_down(read_gmt(qpath)), lib, "wtcs")
    assert list(table.columns) == ["query", *expected.columns]
    np.testing.assert_allclose(table.iloc[:, 1:].to_numpy(), expected.to_numpy(), atol=1e-9)


def test_float32_products_stay_within_the_documented_tolerance():
    """Cosine/Pearson/XSum/XCos in float32 against float64 computed here, on offset data."""
    rng = np.random.default_rng(11)
    g, top = 300, 40
    x = (rng.normal(size=(50, g)) + 5.0).astype(np.float32)  # a large mean: Pearson must centre
    genes = [f"G{i}" for i in range(g)]
    lib = AnnData(x, var=pd.DataFrame(index=genes))
    lib.obs_names = [f"s{i}" for i in range(50)]
    qv = rng.normal(size=g)
    q = AnnData(qv[None, :], var=pd.DataFrame(index=genes))
    x64 = x.astype(np.float64)
    cos = (x64 @ qv) / (np.linalg.norm(x64, axis=1) * np.linalg.norm(qv))
    xc, qc = x64 - x64.mean(axis=1, keepdims=True), qv - qv.mean()
    pear = (xc @ qc) / (np.linalg.norm(xc, axis=1) * np.linalg.norm(qc))
    np.testing.assert_allclose(match.score(q, lib, "cosine").to_numpy()[0], cos, atol=1e-5)
    np.testing.assert_allclose(match.score(q, lib, "pearson").to_numpy()[0], pear, atol=1e-5)
    up, dn = list(range(0, 30)), list(range(30, 60))
    order = np.argsort(-x64, axis=1)
    ranks = np.empty_like(order)
    ranks[np.arange(50)[:, None], order] = np.arange(1, g + 1)
    kept = (ranks <= top) | (ranks > g - top)
    xsum = np.where(kept[:, up], x64[:, up], 0).sum(axis=1) - np.where(kept[:, dn], x64[:, dn], 0).sum(axis=1)
    sets = {"q": ([genes[i] for i in up], [genes[i] for i in dn])}
    got = match.score(sets, lib, "xsum", top=top).to_numpy()[0]
    np.testing.assert_allclose(got, xsum, rtol=1e-5, atol=1e-5 * np.abs(x64).max() * 60)


def test_in_memory_library_is_ranked_once_and_refreshed_when_replaced(monkeypatch):
    from exprlab.match import _library

    calls = []
    real = _library.all_ranks
    monkeypatch.setattr(_library, "all_ranks", lambda *a, **k: calls.append(1) or real(*a, **k))
    lib = make_lib(n=30)
    q = _wtcs_query()
    first = match.score(q, lib, "wtcs")
    for _ in range(3):
        np.testing.assert_array_equal(match.score(q, lib, "wtcs").to_numpy(), first.to_numpy())
    assert len(calls) == 1  # ranked at the first call only
    lib.X = -lib.X  # a new matrix: the kept ranks must not be served
    flipped = match.score(q, lib, "wtcs")
    assert len(calls) == 2
    expected = match.score(q, match.MemoryLibrary(lib.X.copy(), lib.var_names, lib.obs), "wtcs")
    np.testing.assert_array_equal(flipped.to_numpy(), expected.to_numpy())


def test_metadata_added_after_the_first_call_is_seen():
    lib = make_lib(n=20)
    q = _wtcs_query()
    match.score(q, lib, "wtcs")
    lib.obs["drug"] = [f"d{i % 4}" for i in range(20)]  # added in place after the library was kept
    got = match.score(q, lib, "wtcs", aggregate="max", by="drug")
    assert sorted(got.columns) == ["d0", "d1", "d2", "d3"]


def test_clue_export_refuses_a_gmt_outside_the_size_rule(tmp_path):
    path = tmp_path / "q.gmt"
    path.write_text(
        "big_up\tna\t" + "\t".join(f"G{i}" for i in range(151)) + "\n"
        "big_dn\tna\t" + "\t".join(f"D{i}" for i in range(10)) + "\n"
    )
    with pytest.raises(InputDataError, match="151 genes"):
        match.clue_query_sets(path)
    ups, _ = match.clue_query_sets(path, trim=True)
    assert len(ups["big"]) == 150
