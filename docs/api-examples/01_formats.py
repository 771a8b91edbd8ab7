"""Read and write the field's file formats: GCT, GCTX (with a column subset) and GMT.

Everything exprlab reads becomes an AnnData with obs = samples or signatures and var = genes.
"""

import tempfile
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

import exprlab.io as eio

rng = np.random.default_rng(0)
genes = [f"GENE{i}" for i in range(20)]
samples = [f"sample{i}" for i in range(6)]
adata = ad.AnnData(
    rng.normal(size=(6, 20)).astype(np.float32),
    obs=pd.DataFrame({"treatment": ["drug", "control"] * 3}, index=samples),
    var=pd.DataFrame(index=genes),
)

with tempfile.TemporaryDirectory() as folder:
    folder = Path(folder)
    eio.write_gct(adata, folder / "example.gct")
    back = eio.read_gct(folder / "example.gct")
    assert list(back.obs_names) == samples and list(back.var_names) == genes
    assert np.allclose(back.X, adata.X, atol=1e-5)
    assert list(back.obs["treatment"]) == list(adata.obs["treatment"])

    eio.write_gctx(adata, folder / "example.gctx")
    two = eio.read_gctx(folder / "example.gctx", cid=["sample1", "sample4"])
    assert two.shape == (2, 20)

    eio.write_gmt({"UP": genes[:5], "DOWN": genes[-5:]}, folder / "sets.gmt")
    sets = eio.read_gmt(folder / "sets.gmt")
    assert list(sets["UP"]) == genes[:5]
    print(f"GCT round trip {back.shape}, GCTX subset {two.shape}, GMT sets {sorted(sets)}")
