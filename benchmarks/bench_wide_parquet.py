"""Peak memory of writing a wide score table (queries x signatures) as Parquet.

``exprlab score --wide --out x.parquet`` writes the queries x signatures matrix with
``exprlab.io.write_wide_table``. Three writers of the same table are compared, each in a
fresh process (so that one run's freed memory does not hide another's peak):

* ``pandas``: ``frame.reset_index().to_parquet()`` (what writing the table in one piece costs);
* ``blocks of 4M cells``: blocks of about 4 million cells, each converted with
  ``pyarrow.Table.from_pandas`` and written as one row group (exprlab's previous writer; only
  with ``--writers``, as at 100,000 columns its row groups' metadata can exhaust the memory);
* ``write_wide_table``: exprlab's writer (run the script with an older exprlab on
  ``PYTHONPATH`` to measure an older writer).

Each process builds the matrix, resets its peak-RSS counter (Linux ``/proc/self/clear_refs``),
writes the file and prints the peak resident memory above what it held before writing
(``VmHWM`` − ``VmRSS``), the time and the file size. The written file is read back with
``pandas.read_parquet`` and compared with the matrix.

    python benchmarks/bench_wide_parquet.py --queries 200 --signatures 100000
    python benchmarks/bench_wide_parquet.py --writers pandas "blocks of 4M cells" write_wide_table
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WRITERS = ("pandas", "blocks of 4M cells", "write_wide_table")


def status_mb(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def previous_writer(frame: pd.DataFrame, path: Path) -> None:
    """Blocks of about 4 million cells, each through Table.from_pandas, one row group each."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    step = max(1, (1 << 22) // frame.shape[1])
    values, index = frame.to_numpy(), frame.index.astype(str).to_numpy()
    columns = [str(c) for c in frame.columns]
    writer = None
    try:
        for lo in range(0, len(frame), step):
            part = pd.DataFrame(values[lo : lo + step], columns=columns, copy=False)
            part.insert(0, "query", index[lo : lo + step])
            table = pa.Table.from_pandas(part, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def child(writer: str, n_queries: int, n_signatures: int, path: Path, seed: int) -> None:
    from exprlab.io import write_wide_table

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.standard_normal((n_queries, n_signatures)),
        index=pd.Index([f"query_{i}" for i in range(n_queries)]),
        columns=[f"sig_{j}" for j in range(n_signatures)],
    )
    frame.iloc[0, 0] = np.nan
    import pyarrow.parquet  # noqa: F401  (imported before the measurement, by every writer)

    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current resident size
    before = status_mb("VmRSS")
    start = time.perf_counter()
    if writer == "pandas":
        frame.reset_index(names="query").to_parquet(path, index=False)
    elif writer == "blocks of 4M cells":
        previous_writer(frame, path)
    else:
        write_wide_table(frame, path)
    seconds = time.perf_counter() - start
    extra = status_mb("VmHWM") - before
    back = pd.read_parquet(path)
    same = list(back.columns) == ["query", *frame.columns] and np.array_equal(
        back.iloc[:, 1:].to_numpy(), frame.to_numpy(), equal_nan=True
    )
    same = same and list(back["query"]) == list(frame.index)
    print(f"{extra:.1f} {seconds:.3f} {path.stat().st_size / 1e6:.1f} {int(same)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--writers", nargs="+", choices=WRITERS, default=["pandas", "write_wide_table"])
    parser.add_argument("--child", choices=WRITERS, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.queries, args.signatures, args.path, args.seed)
        return
    matrix_mb = args.queries * args.signatures * 8 / 2**20
    print(f"{args.queries} queries x {args.signatures} signatures, float64 ({matrix_mb:.0f} MB in memory)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, writer in enumerate(args.writers):
            path = Path(tmp) / f"wide_{k}.parquet"
            command = [sys.executable, __file__, "--child", writer, "--path", str(path)]
            command += ["--queries", str(args.queries), "--signatures", str(args.signatures)]
            command += ["--seed", str(args.seed)]
            out = subprocess.run(command, capture_output=True, text=True, env=os.environ)
            if out.returncode:
                print(
                    f"  {writer:<20} failed (exit status {out.returncode}): {out.stderr[-300:]}", flush=True
                )
                continue
            extra, seconds, size, same = out.stdout.split()
            results[writer] = float(extra)
            print(
                f"  {writer:<20} peak extra {float(extra):8.1f} MB   {float(seconds):7.2f} s   "
                f"file {float(size):6.1f} MB   read back equal: {'yes' if same == '1' else 'NO'}",
                flush=True,
            )
            if same != "1":
                raise SystemExit(f"{writer}: the file read back differs from the matrix")
    ours = results.get("write_wide_table")
    for peer in ("pandas", "blocks of 4M cells"):
        if ours is not None and peer in results:
            print(f"  peak extra memory, write_wide_table / {peer} = {ours / results[peer]:.2f}")


if __name__ == "__main__":
    main()
