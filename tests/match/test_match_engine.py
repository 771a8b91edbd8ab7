"""The scoring driver: backends give identical numbers, on-disk libraries, bad input, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData

import exprlab.match as match
from exprlab.cli import main
from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError, NonFiniteValueError


def make_lib(n=37, g=120, seed=0) -> AnnData:
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame(
        {
            "drug": [f"d{i % 7}" for i in range(n)],
            "cell_line": [f"c{i % 3}" for i in range(n)],
            "dose": np.arange(n) * 0.5,
        },
        index=[f"sig{i}" for i in range(n)],
    )
    return AnnData(
        rng.normal(size=(n, g)).astype(np.float32),
        obs=obs,
        var=pd.DataFrame(index=[f"G{i}" for i in range(g)]),
    )


QUERY = {
    "qa": ([f"G{i}" for i in range(10)], [f"G{i}" for i in range(10, 22)]),
    "qb": ([f"G{i}" for i in range(50, 58)], [f"G{i}" for i in range(90, 99)] + ["NOT_A_GENE"]),
}


@pytest.fixture(scope="module")
def lib():
    return make_lib()


@pytest.fixture(scope="module")
def disk_lib(lib, tmp_path_factory):
    return match.build_library(lib, tmp_path_factory.mktemp("lib") / "lib.h5", chunk_size=10)


def test_dropped_genes_are_reported(lib):
    got = match.score(QUERY, lib, "wtcs")
    assert got.attrs["n_dropped"] == {"qa": 0, "qb": 1}
    assert got.attrs["query_report"]["qb"]["n_down"] == 9


@pytest.mark.parametrize("method", list(match.METHODS))
def test_disk_and_prepared_libraries_match_memory(lib, disk_lib, method):
    kw = dict(top=30, n_background=20, chunk_size=8)
    mem = match.score(QUERY, lib, method, **kw)
    disk = match.score(QUERY, disk_lib, method, **kw)
    prepared = match.score(QUERY, match.prepare_library(lib), method, **kw)
    np.testing.assert_array_equal(mem.to_numpy(), disk.to_numpy())
    np.testing.assert_array_equal(mem.to_numpy(), prepared.to_numpy())
    assert list(mem.columns) == list(disk.columns)


def test_a_library_path_is_opened_once_until_its_file_changes(tmp_path):
    from exprlab.match import _library

    first, second = make_lib(seed=1), make_lib(seed=2)
    path = match.build_library(first, tmp_path / "lib.gctx", layout="gene_major", chunk_size=8)
    opened = []

    class Counted(_library.DiskLibrary):
        def __init__(self, p):
            opened.append(p)
            super().__init__(p)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_library, "DiskLibrary", Counted)
        a = match.score(QUERY, path, "wtcs")
        b = match.score(QUERY, str(path), "wtcs")
        assert len(opened) == 1  # the second call found the library open
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
        np.testing.assert_array_equal(a.to_numpy(), match.score(QUERY, first, "wtcs").to_numpy())
        # the file rebuilt in its place with other signatures: opened afresh, their scores
        for made in tmp_path.iterdir():  # the library and its marker
            made.unlink()
        match.build_library(second, path, layout="gene_major", chunk_size=8)
        c = match.score(QUERY, path, "wtcs")
        assert len(opened) == 2
        np.testing.assert_array_equal(c.to_numpy(), match.score(QUERY, second, "wtcs").to_numpy())
        assert not np.array_equal(a.to_numpy(), c.to_numpy())
    table = tmp_path / "table.tsv"  # not a library: nothing opened, nothing kept
    table.write_text("a\tb\n1\t2\n")
    assert match.opened_library(table) is None and match.opened_library(tmp_path / "absent.h5") is None


def test_disk_library_keeps_metadata(lib, disk_lib):
    d = match.DiskLibrary(disk_lib)
    assert d.n == lib.n_obs and list(d.genes) == list(lib.var_names)
    assert d.obs["drug"].tolist() == lib.obs["drug"].tolist()
    np.testing.assert_allclose(d.obs["dose"].to_numpy(), lib.obs["dose"].to_numpy())
    vals, r2 = d.read(0, 5, ranks=True, ties="midrank")
    np.testing.assert_array_equal(vals, lib.X[:5])
    # doubled ranks: the largest value of each row has rank2 = 2
    assert (r2[np.arange(5), lib.X[:5].argmax(axis=1)] == 2).all()


def test_dask_backend_identical(lib, disk_lib):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for method in ("wtcs", "ks", "cosine", "overlap_reverse", "tau"):
            kw = dict(top=30, n_background=20, chunk_size=8)
            mem = match.score(QUERY, lib, method, **kw)
            on_disk = match.score(QUERY, disk_lib, method, backend="dask", client=client, **kw)
            in_mem = match.score(QUERY, lib, method, backend="dask", client=client, **kw)
            np.testing.assert_array_equal(mem.to_numpy(), on_disk.to_numpy())
            np.testing.assert_array_equal(mem.to_numpy(), in_mem.to_numpy())


def test_gmt_library_and_queries(tmp_path):
    from exprlab.io import write_gmt

    sets = {"drugA_up": ["G1", "G2", "G3"], "drugA_dn": ["G8", "G9"], "plain": ["G4", "G5", "G6"]}
    path = tmp_path / "sets.gmt"
    write_gmt(sets, path)
    out = match.build_library(path, tmp_path / "gs.h5")
    d = match.DiskLibrary(out)
    assert d.kind == "genesets" and list(d.obs.index) == ["drugA", "plain"]
    vals, _ = d.read(0, 2, ranks=False, ties="midrank")
    row = dict(zip(d.genes, vals[0]))
    assert row["G1"] == 1 and row["G9"] == -1 and row["G4"] == 0
    q = {"q": (["G8", "G9", "G4"], ["G1", "G2", "G3"])}
    rev = match.score(q, out, "overlap_reverse")
    # reverse overlap with drugA: up∩R_down = {G8,G9}, down∩R_up = {G1,G2,G3} -> 5/6
    assert rev.loc["q", "drugA"] == pytest.approx(5 / 6)


def test_long_form(lib):
    long = match.score_long(QUERY, lib, "wtcs")
    wide = match.score(QUERY, lib, "wtcs")
    assert len(long) == wide.size and {"query", "signature", "score", "up", "down", "rank"} <= set(
        long.columns
    )
    row = long[(long["query"] == "qb") & (long["signature"] == "sig5")]
    assert row["score"].item() == wide.loc["qb", "sig5"]
    top = long[long["query"] == "qa"].sort_values("rank").iloc[0]
    assert top["signature"] == wide.loc["qa"].idxmax()


# ------------------------------------------------------------------ bad input
def test_query_with_too_few_genes(lib):
    with pytest.raises(InputDataError, match="'tiny'.*3 gene"):
        match.score({"tiny": (["G1", "G2"], ["G3", "X1", "X2"])}, lib)


def test_nan_in_library_signature(lib, tmp_path):
    bad = lib.copy()
    bad.X[4, 7] = np.nan
    with pytest.raises(NonFiniteValueError, match="sig4"):
        match.score(QUERY, bad, "wtcs")
    with pytest.raises(NonFiniteValueError, match="sig4"):
        match.build_library(bad, tmp_path / "bad.h5")
    assert not (tmp_path / "bad.h5").exists()


def test_gene_ids_of_another_kind(lib):
    entrez = {"q": (["5290", "23645", "54957", "1234", "7157"], ["672", "675"])}
    with pytest.raises(GeneSpaceError, match="Entrez-like.*names/symbols"):
        match.score(entrez, lib)


def test_empty_library(lib, tmp_path):
    with pytest.raises(InputDataError, match="no signatures"):
        match.score(QUERY, lib[:0].copy())
    with pytest.raises(InputDataError, match="empty"):
        match.build_library({}, tmp_path / "e.h5")


def test_bad_options(lib):
    with pytest.raises(InvalidParameterError, match="unknown method"):
        match.score(QUERY, lib, "nope")
    with pytest.raises(InvalidParameterError, match="ties"):
        match.score(QUERY, lib, ties="random")
    with pytest.raises(InvalidParameterError, match="backend"):
        match.score(QUERY, lib, backend="spark")
    with pytest.raises(InputDataError, match="both the up and the down"):
        match.score({"q": (["G1", "G2", "G3"], ["G3", "G4", "G5"])}, lib)


# ------------------------------------------------------------------ CLI
def test_cli_score_and_build(lib, tmp_path, capsys):
    from exprlab.io import read_table, write_gmt, write_h5ad

    lib_file = tmp_path / "lib.h5ad"
    write_h5ad(lib, lib_file)
    main(["library", "build", str(lib_file), "--out", str(tmp_path / "lib.h5")])
    write_gmt({"qa_up": QUERY["qa"][0], "qa_dn": QUERY["qa"][1]}, tmp_path / "q.gmt")
    main(
        [
            "score",
            "--query",
            str(tmp_path / "q.gmt"),
            "--library",
            str(tmp_path / "lib.h5"),
            "--method",
            "wtcs",
            "--out",
            str(tmp_path / "s.tsv"),
        ]
    )
    table = read_table(tmp_path / "s.tsv")
    expected = match.score({"qa": QUERY["qa"]}, lib, "wtcs")
    got = table.set_index("signature")["score"].reindex(expected.columns)
    np.testing.assert_allclose(got.to_numpy(), expected.loc["qa"].to_numpy())
    assert "1 queries scored" in capsys.readouterr().out
    # two files, CMap 02 layout
    write_gmt({"qa": QUERY["qa"][0]}, tmp_path / "up.gmt")
    write_gmt({"qa": QUERY["qa"][1]}, tmp_path / "dn.gmt")
    main(
        [
            "score",
            "--query-up",
            str(tmp_path / "up.gmt"),
            "--query-down",
            str(tmp_path / "dn.gmt"),
            "--library",
            str(lib_file),
            "--method",
            "ks",
            "--wide",
            "--out",
            str(tmp_path / "s.parquet"),
        ]
    )
    wide = read_table(tmp_path / "s.parquet").set_index("query")
    np.testing.assert_allclose(
        wide.loc["qa"].to_numpy(dtype=float), match.score({"qa": QUERY["qa"]}, lib, "ks").loc["qa"].to_numpy()
    )


def test_cli_score_top_reaches_xsum(lib, tmp_path):
    from exprlab.io import read_table, write_gmt, write_h5ad

    write_gmt({"qa_up": QUERY["qa"][0], "qa_dn": QUERY["qa"][1]}, tmp_path / "q.gmt")
    lib_file = tmp_path / "lib.h5ad"
    write_h5ad(lib, lib_file)
    args = ["score", "--query", str(tmp_path / "q.gmt"), "--library", str(lib_file), "--method", "xsum"]
    main([*args, "--top", "7", "--wide", "--out", str(tmp_path / "s.tsv")])
    wide = read_table(tmp_path / "s.tsv").set_index("query")
    expected = match.score({"qa": QUERY["qa"]}, lib, "xsum", top=7)
    np.testing.assert_allclose(wide.loc["qa"].to_numpy(dtype=float), expected.loc["qa"].to_numpy(), rtol=1e-6)
    assert not np.allclose(expected.to_numpy(), match.score({"qa": QUERY["qa"]}, lib, "xsum").to_numpy())


def test_cli_method_help_lists_every_method():
    import typer.main

    from exprlab.cli import app

    command = typer.main.get_command(app)
    score_command = command.commands["score"]  # type: ignore[attr-defined]
    (method,) = [p for p in score_command.params if p.name == "method"]
    listed = method.help.split(":", 1)[1].strip(" .").split(", ")
    assert sorted(listed) == sorted(match.METHODS)


def test_unknown_option_and_bad_counts_are_refused(lib):
    with pytest.raises(InvalidParameterError, match="'k'"):
        match.score(QUERY, lib, "xsum", k=10)
    with pytest.raises(InvalidParameterError, match="top"):
        match.score(QUERY, lib, "xsum", top=0)
    with pytest.raises(InvalidParameterError, match="chunk_size"):
        match.score(QUERY, lib, "wtcs", chunk_size=-1)
    with pytest.raises(InvalidParameterError, match="aggregate"):
        match.score(QUERY, lib, "wtcs", aggregate="sum")


def test_cli_bad_input_exits_2(lib, tmp_path, capsys):
    from exprlab.io import write_gmt, write_h5ad

    write_h5ad(lib, tmp_path / "lib.h5ad")
    write_gmt({"q_up": ["G1", "G2"], "q_dn": ["G3"]}, tmp_path / "q.gmt")
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "score",
                "--query",
                str(tmp_path / "q.gmt"),
                "--library",
                str(tmp_path / "lib.h5ad"),
                "--out",
                str(tmp_path / "s.tsv"),
            ]
        )
    assert stop.value.code == 2
    assert "fewer than the 5 needed" in capsys.readouterr().err
    assert not (tmp_path / "s.tsv").exists()


@pytest.mark.parametrize("shape,n_sets", [((9000, 40), 2), ((12, 40), 40)])
def test_threaded_blocks_match_single_thread(monkeypatch, shape, n_sets):
    # large chunks are split by rows, many sets against few references by sets
    rng = np.random.default_rng(4)
    lib = AnnData(
        rng.normal(size=shape).astype(np.float32), var=pd.DataFrame(index=[f"G{i}" for i in range(shape[1])])
    )
    sets = {f"q{i}": ([f"G{j}" for j in rng.choice(40, 6, replace=False)], []) for i in range(n_sets)}
    for method in ("wtcs", "ks_raw"):
        monkeypatch.setenv("EXPRLAB_THREADS", "2")
        two = match.score(sets, lib, method)
        monkeypatch.setenv("EXPRLAB_THREADS", "1")
        one = match.score(sets, lib, method)
        np.testing.assert_array_equal(two.to_numpy(), one.to_numpy())
