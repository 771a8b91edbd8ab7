"""Positive control on real LINCS level-5 signatures: HDAC inhibitors find each other."""

from __future__ import annotations

import numpy as np
import pytest

import exprlab.match as match
from exprlab.signatures import up_down_sets

HDAC = {"trichostatin-a", "pyroxamide", "HC-toxin"}


@pytest.fixture(scope="module")
def level5(data_dir):
    from exprlab.datasets import lincs_level5_sample

    return lincs_level5_sample()


@pytest.fixture(scope="module")
def vorinostat_query(level5):
    name = next(n for n in level5.obs_names if n.startswith("vorinostat__"))
    return up_down_sets(level5[[name]], up=150, down=150), name


@pytest.mark.parametrize("method", ["wtcs", "ks", "cosine"])
def test_hdac_inhibitors_in_top_5(level5, vorinostat_query, method):
    query, name = vorinostat_query
    scores = match.score(query, level5, method).loc[name].sort_values(ascending=False)
    top5 = {s.split("__")[0] for s in scores.index[:5]}
    assert HDAC <= top5, f"{method}: top 5 = {list(scores.index[:5])}"
    assert scores.index[0] == name  # the query's own signature comes first


def test_hdac_positive_control_from_on_disk_library(level5, vorinostat_query, tmp_path):
    query, name = vorinostat_query
    lib = match.build_library(level5, tmp_path / "l5.h5")
    ranks = match.score(query, lib, "wtcs").loc[name].rank(ascending=False)
    for other in HDAC:
        assert ranks[f"{other}__SKB__trt_cp"] <= 5


def test_library_from_gctx_streams_signatures(data_dir, tmp_path):
    from exprlab.io import read_gctx

    src = data_dir / "lincs" / "sample_n2x12328.gctx"
    out = match.build_library(src, tmp_path / "lib.h5", chunk_size=1)
    lib = match.DiskLibrary(out)
    full = read_gctx(src)
    assert lib.n == full.n_obs == 2 and list(lib.genes) == list(full.var_names)
    assert list(lib.obs.index) == list(full.obs_names)
    values, _ = lib.read(0, 2, ranks=False, ties="midrank")
    np.testing.assert_allclose(values, np.asarray(full.X, dtype=np.float32))
