"""GCTX read speed: column subsets of a large synthetic file, and the real 377 x 978 file.

1. Writes a synthetic GCTX (default 100,000 signatures x 978 genes, float32) with
   ``exprlab.io.write_gctx`` in a temporary folder, then times ``read_gctx(path, cid=10 ids)``
   against ``read_gctx(path)`` (the whole file). Target: the subset takes < 1/20 of the full read.
2. Times ``read_gctx`` on the real L1000 level-4 GCTX (377 x 978, with all metadata) against
   a plain h5py read of the matrix, ids and metadata plus pandas DataFrame construction, in the
   same process. Target: ratio exprlab / plain <= 1.
3. ``--full``: the whole-file read of a GCTX of CMap's full gene space (default 10,000
   signatures x 12,328 genes, float32, written by ``write_gctx``) against what cmapPy's
   ``parse_gctx`` does for such a file (cmapPy itself does not import under NumPy 2): open with
   h5py, parse the row and column metadata as cmapPy does (arrays to text, numeric where they
   parse, ``id`` as index, -666 as missing), ``read_direct`` the whole matrix into a float32
   array, transpose it, build the genes x signatures DataFrame and run GCToo's checks (unique
   ids, same ids in data and metadata). exprlab additionally refuses infinite values. Both
   readers alternate, so a change of load on the machine hits both. Target: ratio
   exprlab / cmapPy-like <= 1.

Each timing is the median of ``--repeats`` runs. Run: ``python benchmarks/bench_gctx.py``
(``EXPRLAB_DATA`` names the public data directory; part 2 is skipped without it);
``python benchmarks/bench_gctx.py --full`` for part 3 only.
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


def cmappy_meta(group: h5py.Group) -> pd.DataFrame:
    """cmapPy's metadata parsing, from scratch: every dataset read whole into an array, the
    table turned to text, each column made numeric where it parses, ``id`` as the index and
    -666 as missing."""
    values = {}
    for name in group.keys():
        dset = group[name]
        raw = np.empty(dset.shape, dtype=dset.dtype)
        dset.read_direct(raw)
        values[str(name)] = raw
    frame = pd.DataFrame.from_dict(values).astype(str)
    for column in frame.columns:
        try:
            frame[column] = pd.to_numeric(frame[column])
        except (ValueError, TypeError):
            pass
    frame = frame.set_index("id")
    return frame.replace([-666, "-666", -666.0], np.nan)


def cmappy_like_read(path: Path) -> pd.DataFrame:
    """The steps of cmapPy's parse_gctx and GCToo for a whole file, from scratch.

    Row and column metadata as in :func:`cmappy_meta`; the matrix read whole into float32 and
    transposed; the data frame takes the metadata ids; then GCToo's checks: unique index and
    columns of the three frames, and the same id sets in data and metadata.
    """
    with h5py.File(path, "r") as h5:
        row_meta = cmappy_meta(h5["0/META/ROW"])
        col_meta = cmappy_meta(h5["0/META/COL"])
        dset = h5["0/DATA/0/matrix"]
        matrix = np.empty(dset.shape, dtype=np.float32)
        dset.read_direct(matrix)
    data = pd.DataFrame(matrix.T, index=row_meta.index, columns=col_meta.index)
    for frame in (row_meta, col_meta, data):
        if not (frame.index.is_unique and frame.columns.is_unique):
            raise ValueError("repeated ids")
    if set(data.index) != set(row_meta.index) or set(data.columns) != set(col_meta.index):
        raise ValueError("ids differ between data and metadata")
    return data


def full_read(args, rng) -> None:
    """Part 3: whole-file read of a full-gene-space GCTX, exprlab against a cmapPy-like read."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "full.gctx"
        n, g = args.full_signatures, args.full_genes
        adata = ad.AnnData(
            X=rng.standard_normal((n, g), dtype=np.float32),
            obs=pd.DataFrame(index=[f"sig_{i}" for i in range(n)]),
            var=pd.DataFrame(index=[str(1000 + j) for j in range(g)]),
        )
        write_gctx(adata, path)
        del adata
        ours, peer = read_gctx(path), cmappy_like_read(path)
        assert np.array_equal(ours.X, peer.to_numpy().T)
        assert list(ours.var_names) == [str(g) for g in peer.index]
        del ours, peer
        t_ours, t_peer = [], []
        for _ in range(args.repeats):
            t_ours.append(median_time(lambda: read_gctx(path), 1))
            t_peer.append(median_time(lambda: cmappy_like_read(path), 1))
        a, b = statistics.median(t_ours), statistics.median(t_peer)
        print(f"full GCTX {n} x {g} float32 ({path.stat().st_size / 1e6:.0f} MB), whole-file read:")
        print(f"  read_gctx {a * 1e3:.1f} ms, cmapPy-like h5py read + DataFrame {b * 1e3:.1f} ms")
        print(f"  ratio read_gctx / cmapPy-like = {a / b:.2f} (target <= 1)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-signatures", type=int, default=100_000)
    parser.add_argument("--n-genes", type=int, default=978)
    parser.add_argument("--n-select", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="part 3 only")
    parser.add_argument("--full-signatures", type=int, default=10_000)
    parser.add_argument("--full-genes", type=int, default=12_328)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.full:
        full_read(args, rng)
        return

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
