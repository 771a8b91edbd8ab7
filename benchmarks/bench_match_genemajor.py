"""Gene-major (format 2) against signature-major (format 1) on-disk libraries, same run.

Generates a synthetic library of ``--n`` x ``--genes`` signatures (standard normal float32,
seeded) block by block into both layouts (ranks computed once per block and given to both
writers), unless the files exist. Each scoring case runs in a child process, which reports wall
and CPU time and its peak resident memory (``VmHWM``); the library is opened once per case,
before its repeats (the time to open it is printed), and every repeat finds it open. Cases: one 150/150 WTCS / KS /
XSum / gene-set cosine query on both layouts; batches of ``--batches`` WTCS queries on format 2
(one pass, the union of the queries' genes read once per block) and ``--v1-batch`` on format 1
(the peer: every query streams every gene); batches of ``--stream`` WTCS queries on format 2
written to a GCTX file block by block (into ``--out-dir``, removed after), against the same
batch in memory (peak memory of each). Also printed: the bytes one query must read and the
time to gather them against a plain sequential read of as many bytes (the bound), and a plain
per-signature numpy loop on ``--plain`` signatures (scores asserted equal, time per signature).
Per-signature costs are printed so that two sizes (100,000 and 200,000) can be compared and
extrapolated to 1,000,000. ``--cold`` drops the page cache before the first repeat of each
single-query case (needs root). ``--format2-only`` generates and scores format 2 alone (half the
disk space; the gather bound and the plain loop remain as peers).

    nice -n 10 python benchmarks/bench_match_genemajor.py --dir /tmp/bench --n 100000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from _synthetic import genes_of, queries_of


def peak_gb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2  # kB -> GiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def generate(v1: Path | None, v2: Path, n: int, g: int, seed: int, chunk: int = 4096) -> None:
    """Both layouts (format 2 only when ``v1`` is None) from the same generated blocks.

    Ranks are computed once per block, on two threads, and given to every writer.
    """
    from exprlab.match import GeneMajorWriter, LibraryWriter
    from exprlab.match._ranks import doubled_ranks

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(GeneMajorWriter(v2, genes_of(g)))]
        if v1 is not None:
            writers.append(stack.enter_context(LibraryWriter(v1, genes_of(g))))
        pool = stack.enter_context(ThreadPoolExecutor(2))
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            x = rng.standard_normal((m, g), dtype=np.float32)
            halves = [x[: m // 2], x[m // 2 :]]
            r2 = np.concatenate(list(pool.map(doubled_ranks, halves)))
            obs = pd.DataFrame(index=[f"s{i}" for i in range(lo, lo + m)])
            for w in writers:
                w.append(x, obs, rank2=r2)
    which = "both layouts" if v1 is not None else "format 2"
    print(f"generated {n:,} x {g:,} into {which} in {time.perf_counter() - t0:.0f} s")


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def child_score(
    path: str, method: str, n_queries: int, seed: int, repeats: int, cold: bool, out: str
) -> dict:
    """Score in memory, or with ``out`` to a GCTX file written block by block (removed after)."""
    import exprlab.match as match

    t_open = time.perf_counter()
    lib = match.opened_library(path)  # what the first call with the path pays; the repeats reuse it
    t_open = time.perf_counter() - t_open
    assert lib is not None, f"{path} is not a library file"
    q = queries_of(n_queries, len(lib.genes), seed)
    warm_up(match, q, lib, method, path)
    walls, cpus = [], []
    for r in range(repeats):
        if cold and r == 0:
            drop_caches()
        t0, c0 = time.perf_counter(), time.process_time()
        if out:
            written = match.score_to_gctx(q, path, method, top=500, out=out, force=True)
        else:
            s = match.score(q, path, method, top=500)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if out:
        import h5py

        with h5py.File(written.path, "r") as f:  # GCTX stores (queries, signatures)
            head = f["0/DATA/0/matrix"][0, :400].astype(np.float64)
        shape = [written.shape[1], written.shape[0]]
        size = written.path.stat().st_size
        written.path.unlink()
        written.path.with_name(f".{written.path.name}.exprlab.json").unlink(missing_ok=True)
    else:
        head, shape, size = s.to_numpy()[0, :400], list(s.shape), 0
    return {
        "walls": walls,
        "cpus": cpus,
        "open": t_open,
        "peak_gb": peak_gb(),
        "shape": shape,
        "head": head.tolist(),
        "file_bytes": size,
    }


def child_convert(path: str, out: str) -> dict:
    """Build a format-2 library from a format-1 one (stored ranks reused), with peak memory."""
    import exprlab.match as match

    t0 = time.perf_counter()
    match.build_library(path, out, layout="gene_major")
    return {"wall": time.perf_counter() - t0, "peak_gb": peak_gb()}


def warm_up(match, queries: dict, lib, method: str, path: str) -> None:
    """Load the compiled kernels (numba cache) on a tiny library of the same layout and genes."""
    import tempfile

    from anndata import AnnData

    x = np.random.default_rng(0).standard_normal((16, len(lib.genes))).astype(np.float32)
    tiny = AnnData(x, obs=pd.DataFrame(index=[f"w{i}" for i in range(16)]), var=pd.DataFrame(index=lib.genes))
    with tempfile.TemporaryDirectory() as tmp:
        small = match.build_library(tiny, Path(tmp) / "tiny.h5", layout=lib.layout)
        match.score(queries, small, method, top=500)


def child_gather(path: str, seed: int) -> dict:
    """Time to gather one query's 300 genes (ranks + values) against a sequential read of as many bytes.

    Both from the page cache (each read once before it is timed), into memory already touched
    (the scorer's way: kept buffers), on one thread (the scorer's way for a cached file).
    """
    from exprlab.match._genemajor import BlockBuffers, GeneMajorLibrary

    lib = GeneMajorLibrary(path)
    u, d = queries_of(1, len(lib.genes), seed)["q0"]
    pos = {g: i for i, g in enumerate(lib.genes)}
    genes = np.sort(np.array([pos[x] for x in u + d]))
    fd = os.open(path, os.O_RDONLY)
    step = lib.block
    memory = BlockBuffers()

    def gather() -> int:  # as the scorer reads: values and ranks together
        nbytes = 0
        for lo in range(0, lib.n, step):
            runs = lib.read_runs(("matrix", "rank2"), genes, lo, min(lib.n, lo + step), fd, buffers=memory)
            nbytes += sum(a.nbytes for a in runs.values())
        return nbytes

    buf = bytearray(1 << 24)
    size = os.fstat(fd).st_size

    def plain(nbytes: int) -> None:
        done, off = 0, 0
        while done < nbytes:
            got = os.preadv(fd, [buf], off % max(1, size - len(buf)))
            done += got
            off += got

    nbytes = gather()
    plain(nbytes)
    times = {"gather": [], "plain": []}
    for _ in range(3):
        t0 = time.perf_counter()
        gather()
        times["gather"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain(nbytes)
        times["plain"].append(time.perf_counter() - t0)
    os.close(fd)
    return {"bytes": nbytes, "gather": min(times["gather"]), "plain": min(times["plain"])}


def run_child(args: list[str]) -> dict:
    res = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def plain_check(v1: Path | None, v2: Path, n_plain: int, seed: int, engine_head: list[float]) -> float:
    """Plain per-signature loop (argsort + running sum) on the first signatures; seconds per signature.

    The values are read from format 1 when it was built, else from format 2.
    """
    import h5py

    from exprlab.match._genemajor import GeneMajorLibrary

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_match_genesets import plain_pair  # midranks, as the library was built with

    if v1 is not None:
        with h5py.File(v1, "r") as f:
            x = f["values"][:n_plain].astype(np.float64)
    else:
        vals, _ = GeneMajorLibrary(v2).read(0, n_plain, ranks=False, ties="midrank")
        x = vals.astype(np.float64)
    pos = {g: i for i, g in enumerate(genes_of(x.shape[1]))}
    u, d = queries_of(1, x.shape[1], seed)["q0"]
    up, dn = np.array([pos[g] for g in u]), np.array([pos[g] for g in d])
    t0 = time.perf_counter()
    plain = np.array([plain_pair(row, up, dn, "wtcs") for row in x])
    per = (time.perf_counter() - t0) / n_plain
    np.testing.assert_allclose(np.array(engine_head[:n_plain]), plain, rtol=0, atol=1e-12)
    return per


def report(label: str, info: dict, n: int, n_queries: int) -> float:
    best = min(info["walls"])
    per_sig = best / n
    runs = ", ".join(f"{w:.2f}" for w in info["walls"])
    print(
        f"{label}: {n_queries} quer{'y' if n_queries == 1 else 'ies'} x {n:,} in {best:.2f} s wall, best "
        f"of runs {runs} (the first after dropping the page cache with --cold); CPU {min(info['cpus']):.2f} s; "
        f"peak RSS {info['peak_gb']:.2f} GB; {per_sig * 1e6:.3f} us/signature -> "
        f"{per_sig * 1e6:.1f} s at 1,000,000; opening the library {info['open']:.3f} s (once, "
        f"before the repeats, not in their times)"
    )
    return per_sig


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--dir", type=Path, default=Path("bench_libraries"), help="folder of the two library files"
    )
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--genes", type=int, default=12_328)
    p.add_argument("--batches", default="100,1000", help="batch sizes scored on format 2")
    p.add_argument("--methods", default="wtcs,ks_raw,xsum,cosine", help="single-query methods")
    p.add_argument("--v1-batch", type=int, default=10, help="batch size scored on format 1 (the peer)")
    p.add_argument("--plain", type=int, default=300, help="signatures scored by the plain loop (0: none)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cold", action="store_true", help="drop the page cache first (root)")
    p.add_argument("--skip-build", action="store_true", help="skip the timed build from format 1")
    p.add_argument(
        "--format2-only",
        action="store_true",
        help="generate and score format 2 only (no format-1 peer; half the disk space)",
    )
    p.add_argument("--stream", default="1000", help="WTCS batch sizes scored to a GCTX file, block by block")
    p.add_argument(
        "--out-dir", type=Path, default=None, help="folder of the streamed GCTX files (default --dir)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", default="", help=argparse.SUPPRESS)
    p.add_argument("--out", default="", help=argparse.SUPPRESS)
    p.add_argument("--path", default="", help=argparse.SUPPRESS)
    p.add_argument("--method", default="wtcs", help=argparse.SUPPRESS)
    p.add_argument("--queries", type=int, default=1, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child == "score":
        print(json.dumps(child_score(a.path, a.method, a.queries, a.seed, a.repeats, a.cold, a.out)))
        return
    if a.child == "convert":
        print(json.dumps(child_convert(a.path, a.method)))
        return
    if a.child == "gather":
        print(json.dumps(child_gather(a.path, a.seed)))
        return
    a.dir.mkdir(parents=True, exist_ok=True)
    v2 = a.dir / f"lib_{a.n}_v2.gctx"
    v1 = None if a.format2_only else a.dir / f"lib_{a.n}_v1.h5"
    if not (v2.exists() and (v1 is None or v1.exists())):
        generate(v1, v2, a.n, a.genes, a.seed)
    size = v2.stat().st_size
    size_v1 = f"format 1 {v1.stat().st_size / 1e9:.2f} GB" if v1 is not None else "format 1 not built"
    print(
        f"library {a.n:,} x {a.genes:,}; on disk: format 2 {size / 1e9:.2f} GB "
        f"({size / a.n / 1e3:.1f} kB/signature), {size_v1}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    common = ["--seed", str(a.seed), "--repeats", str(a.repeats)] + (["--cold"] if a.cold else [])
    methods = [m for m in a.methods.split(",") if m]
    head = single_queries(v1, v2, a.n, methods[:2], common)
    gather_bound(v2, a.seed)
    batches(v1, v2, a, [int(x) for x in a.batches.split(",") if x])
    streamed(v2, a, [int(x) for x in a.stream.split(",") if x])
    single_queries(v1, v2, a.n, methods[2:], common)
    if not a.skip_build and v1 is not None:
        conv = a.dir / f"lib_{a.n}_converted.gctx"
        c = run_child(["--child", "convert", "--path", str(v1), "--method", str(conv)])
        conv.unlink()
        print(
            f"build of format 2 from format 1 (streamed, ranks reused): {c['wall']:.0f} s, peak RSS {c['peak_gb']:.2f} GB"
        )
    if a.plain and head:  # the plain loop checks format 2's first WTCS scores
        per_plain = plain_check(v1, v2, a.plain, a.seed, head)
        print(
            f"plain numpy loop: {per_plain * 1e3:.2f} ms/signature -> {per_plain * 1e6 / 3600:.1f} h per query "
            f"at 1,000,000; scores equal to format 2's on the {a.plain} signatures checked"
        )


def single_queries(v1: Path | None, v2: Path, n: int, methods: list[str], common: list[str]) -> list[float]:
    """One 150/150 query per method on both layouts; returns format 2's first WTCS scores."""
    head: list[float] = []
    for method in methods:
        per = {}
        for tag, path in (("format 1", v1), ("format 2", v2)):
            if path is None:
                continue
            info = run_child(["--child", "score", "--path", str(path), "--method", method, *common])
            per[tag] = report(f"{method} {tag}", info, n, 1)
            head = info["head"] if method == "wtcs" and tag == "format 2" else head
        if len(per) == 2:
            print(f"  {method}: format 2 is x{per['format 1'] / per['format 2']:.1f} faster than format 1")
    return head


def gather_bound(v2: Path, seed: int) -> None:
    g = run_child(["--child", "gather", "--path", str(v2), "--seed", str(seed)])
    print(
        f"one query must read {g['bytes'] / 1e9:.3f} GB (300 genes x ranks + values): gathered in "
        f"{g['gather']:.3f} s ({g['bytes'] / g['gather'] / 1e9:.1f} GB/s); a plain sequential read of "
        f"as many bytes {g['plain']:.3f} s ({g['bytes'] / g['plain'] / 1e9:.1f} GB/s); both from memory; ratio "
        f"x{g['gather'] / g['plain']:.1f}"
    )


def batches(v1: Path | None, v2: Path, a, sizes: list[int]) -> None:
    """WTCS batches: format 2 (one pass) against format 1 (the peer, when built)."""
    one = ["--repeats", "1", "--seed", str(a.seed)]
    per_v1 = None
    if v1 is not None:
        info = run_child(["--child", "score", "--path", str(v1), "--queries", str(a.v1_batch), *one])
        per_v1 = report("wtcs format 1 batch", info, a.n, a.v1_batch) / a.v1_batch
    for b in sizes:
        info = run_child(["--child", "score", "--path", str(v2), "--queries", str(b), *one])
        per_v2 = report("wtcs format 2 batch", info, a.n, b) / b
        peer = "" if per_v1 is None else f", format 1 {per_v1 * 1e9:.0f} ns (x{per_v1 / per_v2:.1f})"
        print(
            f"  per (query, signature): format 2 {per_v2 * 1e9:.0f} ns{peer}; "
            f"{b} queries at 1,000,000: {per_v2 * b * 1e6 / 60:.1f} min"
        )


def streamed(v2: Path, a, sizes: list[int]) -> None:
    """WTCS batches on format 2 written to a GCTX file block by block, against the in-memory result."""
    one = ["--repeats", "1", "--seed", str(a.seed)]
    folder = a.out_dir or a.dir
    folder.mkdir(parents=True, exist_ok=True)
    for b in sizes:
        out = folder / f"scores_{a.n}_{b}.gctx"
        info = run_child(
            ["--child", "score", "--path", str(v2), "--queries", str(b), "--out", str(out), *one]
        )
        report("wtcs format 2 batch to GCTX", info, a.n, b)
        mem = run_child(["--child", "score", "--path", str(v2), "--queries", str(b), *one])
        report("wtcs format 2 batch in memory", mem, a.n, b)
        same = np.allclose(info["head"], mem["head"], rtol=0, atol=1e-6)
        print(
            f"  GCTX file {info['file_bytes'] / 1e9:.2f} GB (float32); peak RSS {info['peak_gb']:.2f} GB "
            f"written against {mem['peak_gb']:.2f} GB in memory; first scores equal to float32 "
            f"rounding: {same}"
        )


if __name__ == "__main__":
    main()
