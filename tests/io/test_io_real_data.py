"""Every GCT/GCTX/HDF5 file of the public LINCS data reads with the right shape and metadata,
and round trips through GCT, GCTX and h5ad are identical."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from exprlab.io import (
    read,
    read_cls,
    read_gct,
    read_gctx,
    read_gmt,
    read_h5ad,
    read_signaturesearch_h5,
    write_gct,
    write_gctx,
    write_gmt,
    write_h5ad,
)

# (file, obs = GCT columns, var = GCT rows, column-metadata fields, row-metadata fields)
pytestmark = pytest.mark.realdata

GCT_FILES = [
    ("lincs/l1000_level3_n377x978.gct", 377, 978, 35, 11),
    ("lincs/col_meta_only_example_n355x355.gct", 355, 355, 50, 0),
    ("lincs/row_meta_only_example_n2x1203.gct", 2, 1203, 0, 50),
    ("lincs/p100_example.gct", 96, 96, 19, 11),
    ("expression/Leukemia_hgu95av2.gct.gz", 48, 12564, 0, 1),
]


def _raw_lines(path, n):
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        return [next(fh).rstrip("\n").split("\t") for _ in range(n)]


@pytest.mark.parametrize("rel,n_obs,n_var,n_colmeta,n_rowmeta", GCT_FILES)
def test_gct_files_shape_and_metadata(data_dir, rel, n_obs, n_var, n_colmeta, n_rowmeta):
    path = data_dir / rel
    a = read_gct(path)
    assert a.shape == (n_obs, n_var)
    assert a.obs.shape[1] == n_colmeta and a.var.shape[1] == n_rowmeta
    # independent check against the raw text: header ids, first data line, first metadata line
    head = _raw_lines(path, 4)
    nrm = int(head[1][2]) if head[0][0].startswith("#1.3") else 1
    assert list(a.obs_names) == head[2][1 + nrm :]
    assert all(isinstance(x, str) for x in a.obs_names[:5])


def test_level3_details(data_dir):
    a = read_gct(data_dir / "lincs/l1000_level3_n377x978.gct")
    assert a.var.loc["200814_at", "pr_gene_symbol"] == "PSME1"
    assert a.var["pr_gene_id"].dtype == np.int64 and a.var.loc["200814_at", "pr_gene_id"] == 5720
    assert a.obs["cell_id"].unique().tolist() == ["A375"]
    assert a.obs["pert_type"].value_counts()["ctl_vehicle"] > 0
    assert a.X[0, 0] == 11.3819 and a.X[1, 0] == 11.3336  # first data line: 200814_at ... 11.3819 11.3336
    assert np.isfinite(a.X).all()


def test_p100_keeps_missing_value(data_dir):
    a = read_gct(data_dir / "lincs/p100_example.gct")
    assert int(np.isnan(a.X).sum()) == 1  # one NA cell in the file, kept as NaN
    assert a.var["pr_probe_suitability_manual"].iloc[0] == "TRUE"


def test_level4_gctx(data_dir):
    path = data_dir / "lincs/l1000_level4_n377x978.gctx"
    a = read_gctx(path)
    assert a.shape == (377, 978) and a.X.dtype == np.float32
    assert a.obs.shape[1] == 37 and a.var.shape[1] == 11  # all fields of /0/META/COL and /ROW but id
    with h5py.File(path, "r") as h5:  # independent read: the matrix is (columns x rows)
        raw = h5["0/DATA/0/matrix"][()]
        cids = [x.decode() for x in h5["0/META/COL/id"][()]]
        rids = [x.decode() for x in h5["0/META/ROW/id"][()]]
        iname = [x.decode() for x in h5["0/META/COL/pert_iname"][()]]
    np.testing.assert_array_equal(a.X, raw)
    assert list(a.obs_names) == cids and list(a.var_names) == rids
    assert a.obs["pert_iname"].tolist() == iname
    # same plate as the level-3 GCT: same samples and genes
    l3 = read_gct(data_dir / "lincs/l1000_level3_n377x978.gct")
    assert set(a.obs_names) == set(l3.obs_names) and set(a.var_names) == set(l3.var_names)
    sub = read_gctx(path, cid=[cids[300], cids[7]], rid=[rids[5], rids[900], rids[0]])
    np.testing.assert_array_equal(sub.X, raw[[300, 7]][:, [5, 900, 0]])
    assert sub.obs["pert_iname"].tolist() == [iname[300], iname[7]]


def test_sample_gctx_entrez_ids(data_dir):
    a = read_gctx(data_dir / "lincs/sample_n2x12328.gctx")
    assert a.shape == (2, 12328)
    assert a.var_names[:2].tolist() == ["5720", "466"]


def test_signaturesearch_h5(data_dir):
    a = read_signaturesearch_h5(data_dir / "lincs/lincs_level5_sample_100x5000.h5")
    assert a.shape == (100, 5000)
    assert a.obs_names[0] == "vorinostat__SKB__trt_cp"
    assert {"trichostatin-a__SKB__trt_cp", "pyroxamide__SKB__trt_cp", "HC-toxin__SKB__trt_cp"} <= set(
        a.obs_names
    )
    assert all(v.isdigit() for v in a.var_names[:50])
    assert read(data_dir / "lincs/lincs_level5_sample_100x5000.h5").shape == (100, 5000)


@pytest.mark.parametrize(
    "rel", [r for r, *_ in GCT_FILES] + ["lincs/l1000_level4_n377x978.gctx", "lincs/sample_n2x12328.gctx"]
)
def test_round_trips_are_identical(data_dir, tmp_path, rel):
    a = read(data_dir / rel)
    trips = {
        "gct": read_gct(write_gct(a, tmp_path / "x.gct"), dtype=a.X.dtype),
        "gctx": read_gctx(write_gctx(a, tmp_path / "x.gctx")),
        "h5ad": read_h5ad(write_h5ad(a, tmp_path / "x.h5ad")),
    }
    for name, b in trips.items():
        assert b.X.dtype == a.X.dtype, name
        np.testing.assert_array_equal(b.X, a.X, err_msg=name)
        assert list(b.obs_names) == list(a.obs_names) and list(b.var_names) == list(a.var_names), name
        pd.testing.assert_frame_equal(b.obs, a.obs, check_index_type=False, obj=f"{name} obs")
        pd.testing.assert_frame_equal(b.var, a.var, check_index_type=False, obj=f"{name} var")


def test_gmt_files(data_dir, tmp_path):
    up = read_gmt(data_dir / "cmap02/CmapUp100.gmt.xz")
    assert len(up) == 6100 and all(len(g) == 100 for g in up.values())
    assert next(iter(up)) == "metformin@MCF7#1e-05M_1"
    assert len(read_gmt(data_dir / "genesets/h.all.v7.0.symbols.gmt")) == 50
    assert len(read_gmt(data_dir / "genesets/c2.cp.reactome.v5.0.symbols.gmt.xz")) == 674
    q = read_gmt(data_dir / "lincs/test_gene_sets_n4.gmt")
    assert list(q) == ["MEF2_01", "ELK1_01", "SP1_01", "EVI1_06"]
    back = read_gmt(write_gmt(q, tmp_path / "q.gmt.gz"))
    assert back == q and back.descriptions == q.descriptions


def test_leukemia_cls(data_dir):
    labels = read_cls(data_dir / "expression/Leukemia.cls")
    assert labels.tolist() == ["ALL"] * 24 + ["AML"] * 24
