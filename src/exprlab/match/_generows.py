"""Scoring from the query genes' rows of a gene-major library (format 2), queries batched.

A method whose numbers depend only on the queries' genes (``Method.query_genes``: KS, WTCS and
its normalisations, XSum, XCos, and cosine/Pearson of gene-set queries; docs/methods.md §1)
is scored in one pass over the library: the union of every query's genes is read once per
block of signatures (one request per gene and chunk for its values and ranks together; several
requests in flight when the file comes from the disk; the next block read while the kernel
scores the current one, into memory kept from the block before last: from the page cache on
the kernel threads themselves, ahead of the block's parts, from the disk on a thread aside;
a short first block so that scoring starts early), the queries are re-indexed to that union
and the method's own block function scores every query against the block (1,024 queries at a
time). The numbers are those of the
signature-major path: the block function is the same, told the size of the full gene space and
given the per-signature sums stored at build time.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from exprlab._progress import track
from exprlab.match._genemajor import BlockBuffers, GeneMajorLibrary
from exprlab.match._query import Queries
from exprlab.match._sinks import MatrixSink, Sink
from exprlab.match._threads import PRODUCT_ROWS, abandon, aligned, in_kernel_thread, kernel_pool

_READ_BYTES = 3 << 28  # one block read (768 MB while read: runs and transpose; 384 MB held after)
_READ_CHUNKS = 1  # stored chunks per block read at most, so that reading overlaps scoring
_SCORE_BYTES = 3 << 27  # per-set statistics and scores of one block part scored (384 MB)
_READ_THREADS = 8  # requests in flight while reading a block
_QUERY_BATCH = 1024  # queries scored against a block at a time (bounds the per-set temporaries)
_COLD_RATE = 1e9  # bytes/s below which a block is taken to come from the disk, not the page cache


def on_query_genes(queries: Queries) -> tuple[np.ndarray, Queries]:
    """The union of the queries' genes (sorted library positions) and the queries re-indexed to it.

    Parameters
    ----------
    queries
        Queries in the library's gene space.

    Returns
    -------
    tuple
        The union (library gene positions, ascending) and the same queries over the union's
        positions (``n_genes`` = its size; full-signature vectors restricted to it).
    """
    parts = [np.asarray(s, dtype=np.int64) for s in queries.up + queries.down]
    genes = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def local(idx: np.ndarray) -> np.ndarray:
        return np.searchsorted(genes, idx).astype(np.int64)

    vectors = None if queries.vectors is None else queries.vectors[:, genes]
    sub = Queries(
        names=queries.names,
        up=[local(u) for u in queries.up],
        down=[local(d) for d in queries.down],
        n_genes=len(genes),
        vectors=vectors,  # no report: the block functions do not use it
    )
    return genes, sub


def block_rows(lib: GeneMajorLibrary, n_genes: int, n_rows: int, chunk_size: int | None) -> tuple[int, int]:
    """Signatures per block read, and per block scored: ``chunk_size`` for both if given.

    A block read costs about 12 bytes per (gene, signature) while it is read (the runs and
    their transpose; the runs are then dropped) and two blocks are held at a time (one scored
    while the next is read), within ``_READ_BYTES``. It holds whole stored chunks when one
    fits, so that each gene's run is one request per chunk, and at most ``_READ_CHUNKS`` of
    them, so that reading overlaps scoring even on a short library. A block scored costs about
    12 bytes per (set, signature) (the per-set statistics and the combined scores, in memory
    kept from the part before), within ``_SCORE_BYTES``: a batch of many queries scores a
    block read in several parts.
    Both are whole product tiles (``_threads.aligned``, at least one), as the Dask backend's
    tasks are.
    """
    if chunk_size:
        return int(chunk_size), int(chunk_size)
    rows = _READ_BYTES // (12 * max(1, n_genes))
    if rows >= lib.block:
        rows = min(rows - rows % lib.block, _READ_CHUNKS * lib.block)
    rows = aligned(rows)
    score = aligned(_SCORE_BYTES // (12 * max(1, min(n_rows, 2 * _QUERY_BATCH))))
    return int(min(rows, lib.n)), int(min(score, rows, lib.n))


def read_bounds(first: int, last: int, step: int, *, lead: int | None) -> list[tuple[int, int]]:
    """Blocks of signatures ``first:last`` read one after another, ``step`` long from ``first``.

    With ``lead``, the first block is only ``lead`` long (one product tile) and the second one
    ends where a ``step`` block would: nothing is scored until the first block is read, so a
    short first block starts the scoring sooner (at 300 genes, a 16,384-signature block takes
    40 to 60 ms to read into fresh memory, a tile about 10 ms). Every block still starts on a tile
    boundary when ``first`` and ``step`` are multiples of the tile.
    """
    cuts = list(range(first, last, step)) + [last]
    if lead is not None and lead < cuts[1] - first:
        cuts.insert(1, first + lead)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _read_block(
    lib: GeneMajorLibrary,
    fd: int,
    genes: np.ndarray,
    bounds: list[tuple[int, int]],
    i: int,
    names: tuple[str, ...],
    cold: bool | None,
    buffers: tuple[BlockBuffers, BlockBuffers, BlockBuffers],
) -> tuple[dict[str, np.ndarray], float]:
    """Signature-major rows of block ``i`` of each dataset in ``names``, and the read rate.

    ``cold``: whether the block is read from the disk rather than the page cache (None: not
    known; see :func:`_cold`). A cold file's genes are read by ``_READ_THREADS`` threads
    (several requests in flight: a disk is read at its speed, not at one request's latency) and
    the runs of the next block are first announced to the kernel (those of the first block
    too, before it is read, unless it is known to be cached). From the page cache, one thread
    reads and transposes: more would only take cores from the kernel scoring the previous block
    (a 100,000-signature pass of 300 genes costs 0.10 s of CPU on one thread, 0.17 s on eight).
    The gene-major runs are transposed (by tiles, each thread its own genes) into
    signature-major rows, so that the kernels find a signature's genes side by side rather
    than a run apart. The rows land in ``buffers[i % 2]`` (block ``i - 2`` is scored by then)
    and the runs in ``buffers[2]``, memory touched by earlier blocks (:class:`BlockBuffers`).
    """
    if i == 0 and cold is not False:  # the first block may come from the disk: announce it
        lib.advise(names, genes, *bounds[0], fd)
    if cold and i + 1 < len(bounds):
        lib.advise(names, genes, *bounds[i + 1], fd)  # the next block's reads queue up on the disk
    lo, hi = bounds[i]
    t0 = time.perf_counter()
    rows = lib.read_runs(
        names,
        genes,
        lo,
        hi,
        fd,
        threads=1 if cold is False else _READ_THREADS,
        signature_major=True,
        buffers=buffers[i % 2],
        scratch=buffers[2],
    )
    return rows, sum(a.nbytes for a in rows.values()) / max(time.perf_counter() - t0, 1e-9)


def _cold(
    lib: GeneMajorLibrary, fd: int, genes, names, block: tuple[int, int], before: bool | None, rate
) -> bool | None:
    """Whether ``block`` is to be read as from the disk (None: not known).

    Once a block of the pass came from the disk, so is the rest taken to: the blocks after it
    are announced to the kernel and would look cached. Otherwise the page cache is asked
    (:meth:`GeneMajorLibrary.cached`); where it cannot be, a block read slower than
    ``_COLD_RATE`` (``rate``, of the block before; None for the first block) marks the file cold.
    """
    if before:
        return True
    cached = lib.cached(names, genes, *block, fd)
    if cached is not None:
        return not cached
    return None if rate is None else rate < _COLD_RATE


def run_on_genes(
    queries: Queries,
    lib: GeneMajorLibrary,
    method,
    opts: dict,
    chunk_size: int | None,
    *,
    scores_only: bool = False,
    rows: tuple[int, int] | None = None,
    sink: Sink | None = None,
):
    """Score every query against every signature of ``lib``, reading only the queries' genes.

    Parameters
    ----------
    queries
        Queries in the library's gene space (the method's ``query_genes`` accepts them).
    lib
        The gene-major library.
    method
        The registered method (its ``chunk`` scores one block).
    opts
        Method options, passed to every block with the gene-space size and the block's sums.
    chunk_size
        Signatures per block read and scored (default: :func:`block_rows`, about 1 GB in all).
    scores_only
        Keep the main matrix (``"score"``) only, not the method's extras.
    rows
        Score signatures ``rows[0]:rows[1]`` only (one task of the Dask backend); None: all.
    sink
        Where each block's scores go (:mod:`exprlab.match._sinks`); default: matrices in
        memory, returned.

    Returns
    -------
    dict
        The method's named (n_queries, n_signatures) matrices, in library order; empty when
        ``sink`` is given (the sink has the scores).
    """
    genes, sub = on_query_genes(queries)
    first, last = rows if rows is not None else (0, lib.n)
    n = last - first
    step, score_step = block_rows(lib, len(genes), 2 * len(queries), chunk_size)
    matrices = MatrixSink(len(queries), first, n, ("score",) if scores_only else None)
    into: Sink = matrices if sink is None else sink
    bounds = read_bounds(first, last, step, lead=None if chunk_size else PRODUCT_ROWS)
    names = (("matrix",) if method.needs_values else ()) + (("rank2",) if method.needs_ranks else ())
    # the block's statistics and scores: the sink copies each block away before the next
    opts = dict(opts, _scratch=BlockBuffers())
    with _BlockReader(lib, genes, bounds, names) as reader:
        reader.start(0, None)
        # one task of a Dask worker shows no bar: the client shows the tasks done
        steps = bounds if rows is not None else track(bounds, f"scoring ({method.name}, query genes)")
        for i, (lo, hi) in enumerate(steps):
            block, rate = reader.take()
            if i + 1 < len(bounds):
                reader.start(i + 1, rate)
            for slo in range(lo, hi, score_step):
                shi = min(hi, slo + score_step)
                _score_rows(lib, method, sub, block, (lo, slo, shi), opts, into)
            del block  # its buffers take block i + 2
    return matrices.out


class _BlockReader:
    """The blocks of one pass over ``lib``, each read while the block before it is scored.

    Rows of even and odd blocks land in two kept buffers, the runs read before their transpose
    in a third (:func:`_read_block`). A block from the page cache is read on the kernel threads:
    a read from memory is CPU work (copies and a transpose), and queued there ahead of the
    current block's parts it takes a core's turn instead of a third thread competing with the
    two scoring (:mod:`exprlab.match._threads`). A block from the disk is read on a thread of
    its own, which would otherwise hold a kernel thread idle while it waits.
    """

    def __init__(self, lib: GeneMajorLibrary, genes: np.ndarray, bounds: list[tuple[int, int]], names):
        self.lib, self.genes, self.bounds, self.names = lib, genes, bounds, names
        self.buffers = (BlockBuffers(), BlockBuffers(), BlockBuffers())
        self.cold: bool | None = None
        self.reading: list[Future] = []  # the read in flight, if any
        self.fd = os.open(lib.path, os.O_RDONLY)
        self.disk = ThreadPoolExecutor(1, thread_name_prefix="exprlab-reader")

    def start(self, i: int, rate: float | None) -> None:
        """Start reading block ``i``; ``rate``: that of the block before (None for the first)."""
        self.cold = _cold(self.lib, self.fd, self.genes, self.names, self.bounds[i], self.cold, rate)
        cached = self.cold is False and not in_kernel_thread()  # a kernel thread must not wait on its pool
        pool = kernel_pool() if cached else self.disk
        args = (self.lib, self.fd, self.genes, self.bounds, i, self.names, self.cold, self.buffers)
        self.reading.append(pool.submit(_read_block, *args))

    def take(self) -> tuple[dict[str, np.ndarray], float]:
        """The block read last, once read, and its read rate."""
        return self.reading.pop().result()

    def __enter__(self) -> _BlockReader:
        return self

    def __exit__(self, *exc) -> None:
        abandon(self.reading)  # stopped early: a read in flight still uses fd and the buffers
        self.disk.shutdown()
        os.close(self.fd)


def _score_rows(lib, method, sub: Queries, rows: dict, where: tuple[int, int, int], opts, sink: Sink):
    """Score signatures ``slo:shi`` (rows of the block read from ``lo``) into ``sink``."""
    lo, slo, shi = where
    part = slice(slo - lo, shi - lo)
    vals = rows["matrix"][part] if "matrix" in rows else None
    r2 = rows["rank2"][part] if "rank2" in rows else None
    block_opts = dict(opts, _n_genes=len(lib.genes))
    block_opts["_row_stats"] = (len(lib.genes), lib.sums[slo:shi], lib.sumsq[slo:shi])
    for qlo in range(0, len(sub), _QUERY_BATCH):
        batch = slice(qlo, min(len(sub), qlo + _QUERY_BATCH))
        sink.put(method.chunk(sub.subset(batch), vals, r2, block_opts), batch, slo, shi)
