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
