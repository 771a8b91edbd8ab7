"""The chunking driver: scores queries against a library block by block, on one of two backends.

On a gene-major library (format 2), a method that needs only the queries' genes reads just
those (:mod:`exprlab.match._generows`); every other case reads whole signatures block by block.

``backend="memory"`` runs in this process; the library is either held in memory (AnnData or a
prepared library) or streamed from an on-disk library in bounded chunks. ``backend="dask"``
submits blocks to a ``dask.distributed`` cluster (the ``client`` option, or the current default
client) and assembles them in library order, so the numbers are identical. For an on-disk
library of either format only the file's path, the block's bounds and the queries (scattered
once) travel to the workers, which read their blocks themselves, by the same rules as the memory
backend (the queries' genes only where it reads them); the workers must see the file at the same
path. An in-memory library has no file to read: its blocks are shipped to the workers.

Each block's scores go to a sink (:mod:`exprlab.match._sinks`): whole matrices in memory, or a
file written block by block (:func:`exprlab.match.score_to_gctx`), whose memory does not grow
with the library.
"""

from __future__ import annotations

import functools
import os
from typing import Literal

import h5py
import numpy as np

from exprlab._progress import make_progress, track
from exprlab._validation import check_choice, check_count
from exprlab.errors import InvalidParameterError
from exprlab.match import _base
from exprlab.match._genemajor import WHOLE_ROWS, BlockBuffers, GeneMajorLibrary
from exprlab.match._generows import run_on_genes
from exprlab.match._library import DiskLibrary, default_chunk_size, row_sums
from exprlab.match._ranks import doubled_ranks
from exprlab.match._sinks import MatrixSink, Sink
from exprlab.match._threads import PRODUCT_ROWS, aligned

Backend = Literal["memory", "dask"]
BACKENDS: tuple[Backend, ...] = ("memory", "dask")
_TASKS_PER_SLOT = 4  # Dask tasks per worker thread at most: a slow task does not leave the others idle
#: Signatures per Dask task at least (eight product tiles): a task's fixed cost (opening the file,
#: its reads, sending its scores back) is some 20-30 ms, so a short job runs one task per slot.
_MIN_TASK_ROWS = 8 * PRODUCT_ROWS


def block_scores(method_name: str, queries, values, rank2, opts) -> dict[str, np.ndarray]:
    """Run one method on one block (module-level so a Dask worker can import it)."""
    method = _base.REGISTRY[method_name]
    return method.chunk(queries, values, rank2, opts)


def _disk_block(method_name, queries, path, start, stop, ranks, ties, opts, scores_only):
    """Read signatures ``start:stop`` of a format-1 library and score them (a Dask task).

    Reads as :meth:`DiskLibrary.read` does: values were checked finite when the library was
    built; KS reads ranks only.
    """
    method = _base.REGISTRY[method_name]
    with h5py.File(path, "r") as f:
        stored = ranks and "rank2" in f and str(f.attrs["ties"]) == ties
        need_values = method.needs_values or not stored
        values = f["values"][start:stop] if need_values else None
        rank2 = None
        if stored:
            rank2 = f["rank2"][start:stop]
        elif ranks:
            rank2 = doubled_ranks(f["values"][start:stop] if values is None else values, ties)
        if method.needs_vectors and values is not None:  # as the memory path
            sums = (f["sum"][start:stop], f["sumsq"][start:stop]) if "sum" in f else row_sums(values)
            opts = dict(opts, _row_stats=(values.shape[1], *sums))
    return _kept(block_scores(method_name, queries, values, rank2, opts), scores_only)


@functools.lru_cache(maxsize=4)
def _opened(path: str, stamp: tuple[int, int]) -> GeneMajorLibrary:
    """A gene-major library opened once per worker process (``stamp``: its mtime and size)."""
    return GeneMajorLibrary(path)


def _gene_major_block(method_name, queries, path, stamp, start, stop, ties, opts, plan):
    """Read signatures ``start:stop`` of a format-2 library and score them (a Dask task).

    ``plan`` is ``(on_genes, chunk_size, scores_only)``: with ``on_genes`` only the queries'
    genes are read (as the memory backend does for the same method and queries), else whole
    signatures.
    """
    on_genes, chunk_size, scores_only = plan
    lib = _opened(path, stamp)
    method = _base.REGISTRY[method_name]
    if on_genes:
        return run_on_genes(
            queries, lib, method, opts, chunk_size, scores_only=scores_only, rows=(start, stop)
        )
    values, rank2 = lib.read(start, stop, ranks=method.needs_ranks, ties=ties, values=method.needs_values)
    if method.needs_vectors:  # as the memory path: the sums stored at build
        opts = dict(opts, _row_stats=(len(lib.genes), lib.sums[start:stop], lib.sumsq[start:stop]))
    return _kept(block_scores(method_name, queries, values, rank2, opts), scores_only)


def _memory_block(method_name, queries, source, start, stop, ranks, ties, opts):
    method = _base.REGISTRY[method_name]
    values, rank2 = source.read(start, stop, ranks=ranks, ties=ties, values=method.needs_values)
    if method.needs_vectors and hasattr(source, "row_stats"):  # sums stored at build (or kept)
        opts = dict(opts, _row_stats=source.row_stats(start, stop))
    return block_scores(method_name, queries, values, rank2, opts)


def reads_query_genes(source, queries, method, ties: str) -> bool:
    """Whether scoring can read only the queries' genes (gene-major library, method allows it)."""
    gm = getattr(source, "gene_major", None)
    return (
        gm is not None
        and method.query_genes is not None
        and method.query_genes(queries)
        and (not method.needs_ranks or ties == gm.ties)
    )


def _step(source, chunk_size: int | None) -> int:
    """Signatures per block of the whole-signature path (``chunk_size`` when given).

    The default is whole product tiles (``_threads.aligned``), so that both backends multiply
    the same tiles.
    """
    gm = getattr(source, "gene_major", None)
    # a gene-major library is read fastest whole chunks at a time (at most WHOLE_ROWS signatures)
    whole = min(gm.block, WHOLE_ROWS) if gm is not None else default_chunk_size(len(source.genes))
    return int(chunk_size or aligned(whole))


def _bounds(n: int, step: int) -> list[tuple[int, int]]:
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def run(
    queries,
    source,
    method,
    *,
    backend: str,
    chunk_size: int | None,
    ties: str,
    opts: dict,
    client=None,
    scores_only: bool = False,
    sink: Sink | None = None,
) -> dict[str, np.ndarray]:
    """Score ``queries`` against every signature of ``source``; return the named matrices.

    ``scores_only`` keeps the main matrix only (the caller drops the extras), so a batch of
    many queries holds one queries x signatures matrix instead of three. A ``sink`` receives
    each block's matrices instead (:mod:`exprlab.match._sinks`), and nothing is returned.
    """
    check_choice(backend, "backend", BACKENDS)
    check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
    on_genes = reads_query_genes(source, queries, method, ties)
    matrices = MatrixSink(len(queries), 0, source.n, ("score",) if scores_only else None)
    into: Sink = matrices if sink is None else sink
    if backend == "dask":
        _run_dask(queries, source, method, ties, opts, client, (on_genes, chunk_size, scores_only), into)
    elif on_genes:
        run_on_genes(queries, source.gene_major, method, opts, chunk_size, scores_only=scores_only, sink=into)
    else:
        opts = dict(opts, _scratch=BlockBuffers())  # the sink copies each block away before the next
        for lo, hi in track(_bounds(source.n, _step(source, chunk_size)), f"scoring ({method.name})"):
            block = _memory_block(method.name, queries, source, lo, hi, method.needs_ranks, ties, opts)
            into.put(block, slice(None), lo, hi)
    return matrices.out


def _kept(parts: dict[str, np.ndarray], scores_only: bool) -> dict[str, np.ndarray]:
    return {"score": parts["score"]} if scores_only else parts


def dask_client(client=None):
    """``client``, else the current dask.distributed client; a clear error when there is none."""
    try:
        # dask.distributed is heavy and optional: imported only when the dask backend is asked for
        from distributed import get_client
    except ImportError as err:
        raise InvalidParameterError(
            "the dask backend needs dask.distributed, which is not installed",
            where="backend",
            fix="install exprlab[dask] (or dask[distributed]), or use the memory backend",
        ) from err
    if client is not None:
        return client
    try:
        return get_client()
    except ValueError as err:
        raise InvalidParameterError(
            "backend='dask' needs a running dask.distributed client",
            where="backend",
            fix="create one (distributed.Client(...)) or pass client=...",
        ) from err


def _dask_step(source, n_slots: int, plan) -> int:
    """Signatures per Dask task: ``chunk_size`` when given, else enough tasks to keep every slot busy.

    The same number of tasks for every worker thread: one, or up to ``_TASKS_PER_SLOT`` on a
    library long enough for tasks of ``_MIN_TASK_ROWS`` signatures; on a format-1 library no larger than a block
    of the memory backend. On a gene-major library a task may start inside a stored chunk: it
    reads its part of each gene's run (one more ``pread`` per gene), which balances the
    workers better than whole chunks of 16,384 signatures. With the queries' genes read, a given
    ``chunk_size`` sets the blocks read inside each task. A task starts where a block of the
    memory backend would (a multiple of ``chunk_size``, or of ``PRODUCT_ROWS`` by default), so
    the two backends multiply the same tiles and give the same scores bit for bit.
    """
    on_genes, chunk_size, _ = plan
    if chunk_size and not on_genes:
        return int(chunk_size)
    gm = getattr(source, "gene_major", None)
    slots = max(1, n_slots)
    tasks = slots * min(_TASKS_PER_SLOT, max(1, source.n // (slots * _MIN_TASK_ROWS)))
    step = min(_step(source, None) if gm is None else source.n, -(-source.n // tasks))
    return aligned(step, chunk_size, up=True)


def _submit(client, q, source, method, bounds, ties, opts, plan) -> list:
    """One future per block: workers read on-disk libraries themselves (path and bounds only)."""
    on_genes, _, scores_only = plan
    gm = getattr(source, "gene_major", None)
    futures = []
    if isinstance(source, DiskLibrary):
        path = str(source.path.resolve())  # workers may run in another folder
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
    for lo, hi in bounds:
        if isinstance(source, DiskLibrary) and gm is not None:
            args = (method.name, q, path, stamp, lo, hi, ties, opts, plan)
            futures.append(client.submit(_gene_major_block, *args, pure=False))
        elif isinstance(source, DiskLibrary):
            args = (method.name, q, path, lo, hi, method.needs_ranks, ties, opts, scores_only)
            futures.append(client.submit(_disk_block, *args, pure=False))
        else:  # an in-memory library: its blocks travel to the workers
            values, rank2 = source.read(
                lo, hi, ranks=method.needs_ranks, ties=ties, values=method.needs_values
            )
            block_opts = dict(opts, _row_stats=source.row_stats(lo, hi)) if method.needs_vectors else opts
            parts = (method.name, q, values, rank2, block_opts)
            futures.append(client.submit(block_scores, *parts, pure=False))
    return futures


def _run_dask(queries, source, method, ties, opts, client, plan, sink: Sink) -> None:
    """Blocks scored on a dask.distributed cluster, put into ``sink`` as they complete.

    A sink that takes blocks of at most so many signatures (a file written block by block)
    gets tasks of at most that size, whole tiles as the memory backend's blocks.
    """
    client = dask_client(client)
    from distributed import as_completed  # deferred: optional and heavy (see dask_client)

    n_slots = sum(client.nthreads().values())
    step = _dask_step(source, n_slots, plan) if isinstance(source, DiskLibrary) else _step(source, plan[1])
    cap = sink.max_block(len(queries))
    on_genes, chunk_size, _ = plan
    if cap is not None and (on_genes or not chunk_size):
        step = aligned(min(step, cap), chunk_size if on_genes else None)
    bounds = _bounds(source.n, step)
    q = client.scatter(queries, broadcast=True, hash=False)
    futures = _submit(client, q, source, method, bounds, ties, opts, plan)
    order = {f.key: i for i, f in enumerate(futures)}
    with make_progress() as progress:
        task = progress.add_task(f"scoring ({method.name}, dask)", total=len(futures))
        # results come with their futures (no round trip per block)
        for fut, result in as_completed(futures, loop=client.loop, with_results=True):
            lo, hi = bounds[order[fut.key]]
            sink.put(result, slice(None), lo, hi)
            fut.release()  # its memory on the worker is free once written
            progress.advance(task)
