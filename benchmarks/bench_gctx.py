"""GCTX read speed: column subsets of a large synthetic file, and the real 377 x 978 file.

1. Writes a synthetic GCTX (default 100,000 signatures x 978 genes, float32) with
   ``exprlab.io.write_gctx`` in a temporary folder, then times ``read_gctx(path, cid=10 ids)``
   against ``read_gctx(path)`` (the whole file). Target: the subset takes < 1/20 of the full read.
2. Times ``read_gctx`` on the real L1000 level-4 GCTX (377 x 978, with all metadata) against
   a plain h5py read of the matrix, ids and metadata plus pandas DataFrame construction, in the
   same process. Target: ratio exprlab / plain <= 1.

Each timing is the median of ``--repeats`` runs. Run: ``python benchmarks/bench_gctx.py``
(``EXPRLAB_DATA`` names the public data directory; part 2 is skipped without it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from exprlab._config import data_dir
from exprlab.io import read_gctx, write_gctx


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def plain_h5py_read(path: Path) -> pd.DataFrame:
    """What a user would write without exprlab: read everything with h5py, build DataFrames."""
    with h5py.File(path, "r") as h5:
        matrix = h5["0/DATA/0/matrix"][()]
        rids = [x.decode() for x in h5["0/META/ROW/id"][()]]
        cids = [x.decode() for x in h5["0/META/COL/id"][()]]
        frames = {}
        for axis in ("ROW", "COL"):
            cols = {}
            for name, ds in h5[f"0/META/{axis}"].items():
                if name == "id":
                    continue
                vals = ds[()]
                if vals.dtype.kind == "S":
                    vals = np.array([x.decode() for x in vals], dtype=object)
                cols[name] = vals
            frames[axis] = pd.DataFrame(cols, index=rids if axis == "ROW" else cids)
    data = pd.DataFrame(matrix, index=cids, columns=rids)
    return data, frames


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-signatures", type=int, default=100_000)
    parser.add_argument("--n-genes", type=int, default=978)
    parser.add_argument("--n-select", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.gctx"
        X = rng.standard_normal((args.n_signatures, args.n_genes), dtype=np.float32)
        adata = ad.AnnData(
            X=X,
            obs=pd.DataFrame(
                {"pert_iname": rng.choice(["a", "b", "c"], args.n_signatures)},
                index=[f"sig_{i}" for i in range(args.n_signatures)],
            ),
            var=pd.DataFrame(index=[str(1000 + j) for j in range(args.n_genes)]),
        )
        t0 = time.perf_counter()
        write_gctx(adata, path)
        t_write = time.perf_counter() - t0
        del X, adata
        size_mb = path.stat().st_size / 1e6
        cid = [f"sig_{i}" for i in rng.choice(args.n_signatures, args.n_select, replace=False)]
        sub = read_gctx(path, cid=cid)
        assert list(sub.obs_names) == cid
        t_sub = median_time(lambda: read_gctx(path, cid=cid), args.repeats)
        t_all = median_time(lambda: read_gctx(path), args.repeats)
        print(
            f"synthetic GCTX {args.n_signatures} x {args.n_genes} float32 ({size_mb:.0f} MB), written in {t_write:.2f} s"
        )
        print(f"  read {args.n_select} columns by id: {t_sub * 1e3:.2f} ms   read all: {t_all * 1e3:.1f} ms")
        print(f"  ratio subset / all = {t_sub / t_all:.5f} (1/{t_all / t_sub:.0f}; target < 1/20)")

    try:
        real = data_dir() / "lincs" / "l1000_level4_n377x978.gctx"
    except Exception as err:  # the public data is optional for this script
        print(f"real-data part skipped: {err}")
        return
    ours = read_gctx(real)
    data, _ = plain_h5py_read(real)
    assert np.array_equal(ours.X, data.to_numpy()) and list(ours.obs_names) == list(data.index)
    t_ours = median_time(lambda: read_gctx(real), max(args.repeats, 20))
    t_plain = median_time(lambda: plain_h5py_read(real), max(args.repeats, 20))
    print(
        f"real GCTX 377 x 978 with metadata: read_gctx {t_ours * 1e3:.2f} ms, plain h5py + DataFrame {t_plain * 1e3:.2f} ms"
    )
    print(f"  ratio read_gctx / plain = {t_ours / t_plain:.2f} (target <= 1)")


if __name__ == "__main__":
    main()
