"""How the kernels share the cores: thread count, the split of a block into jobs, and products.

:func:`rows_product` is the one place where the scoring methods multiply a block of signatures
by their queries (cosine, Pearson, Spearman, chardir, XSum, XCos). BLAS rounds a product
differently with its thread count and, for some shapes, with its number of rows, so the product
is cut into tiles of ``PRODUCT_ROWS`` signatures, each multiplied on one BLAS thread (the tiles
spread over the kernel threads). Every block the backends score starts at a multiple of
``PRODUCT_ROWS`` in the library (:func:`aligned`), so a signature always falls in the same
tile, multiplied by the same call: the memory and Dask backends give the same scores bit for bit,
whatever their block sizes and thread counts.

Every job of the kernels runs on one pool of threads per process, one per core
(:func:`kernel_pool`), rather than on threads made for each block. Work that must overlap the
scoring (reading the next block of a gene-major library from the page cache) is queued on the
same pool ahead of the block's parts: the first free thread reads, then takes the remaining
parts, so two cores hold two busy threads instead of three sharing them (at 300 genes and
200,000 signatures, one query's pass takes 0.37 s instead of 0.40 to 0.43 s).
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

#: Signatures per BLAS product; block bounds of both backends are multiples of it.
PRODUCT_ROWS = 2048


def n_threads() -> int:
    """Threads used by the kernels (all cores; ``EXPRLAB_THREADS`` overrides)."""
    env = os.environ.get("EXPRLAB_THREADS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)


#: Parts per thread when the rows of a block are dealt out. Equal halves for two threads keep
#: one waiting whenever the other shares its core (with the reader of the next block, or with
#: another program): with four parts each, a slowed thread simply takes fewer.
PARTS_PER_THREAD = 4

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_in_pool = threading.local()


def _mark_pool_thread() -> None:
    _in_pool.flag = True


def kernel_pool() -> ThreadPoolExecutor:
    """The process's kernel threads: :func:`n_threads` of them, made once and kept.

    A new pool is made when the thread count changes (``EXPRLAB_THREADS``) or in a child
    process after a fork (threads do not survive one).
    """
    global _pool, _pool_size
    workers = n_threads()
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(
                workers, thread_name_prefix="exprlab-kernel", initializer=_mark_pool_thread
            )
            _pool_size = workers
        return _pool


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads are gone, and so may be its lock's owner."""
    global _pool, _pool_lock, _pool_size
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def in_kernel_thread() -> bool:
    """Whether the caller is one of the kernel threads (work it queues there may never start)."""
    return getattr(_in_pool, "flag", False)


def abandon(jobs: list[Future]) -> None:
    """Cancel the jobs not started and wait for the running ones (their failures are dropped).

    What a caller stopped early does before it goes on, so that nothing still writes into its
    arrays or reads its files afterwards.
    """
    for job in jobs:
        job.cancel()
    wait(jobs)


def _finish(jobs: list[Future]) -> None:
    """Wait for ``jobs`` and raise the first failure, once none of them runs any more.

    Interrupted (Ctrl-C, a stop signal turned into an exception), the jobs are abandoned
    (:func:`abandon`) before the exception goes on.
    """
    try:
        wait(jobs)
    except BaseException:
        abandon(jobs)
        raise
    for job in jobs:
        job.result()


def run_jobs(fn, args: list) -> None:
    """Call ``fn(a)`` for each ``a`` of ``args`` on the kernel threads, and wait for them all.

    In order, on the calling thread, when there is one kernel thread or when the caller is a
    kernel thread itself (a job that splits its work again must not wait for threads that
    may all be waiting like it).
    """
    if n_threads() == 1 or len(args) < 2 or in_kernel_thread():
        for a in args:
            fn(a)
        return
    pool = kernel_pool()
    _finish([pool.submit(fn, a) for a in args])


def run_row_parts(fn, n_rows: int, *, min_rows: int) -> None:
    """Call ``fn(rows)`` over parts of ``n_rows`` rows (at least ``min_rows`` each), on threads.

    Up to ``PARTS_PER_THREAD`` parts per thread, taken by whichever kernel thread is free; one
    call over every row when there is one thread or too few rows for two parts. The kernels
    release the GIL, so the threads use every core without copying the block.
    """
    workers = n_threads()
    n_parts = min(workers * PARTS_PER_THREAD, n_rows // max(1, min_rows))
    if workers == 1 or n_parts < 2:
        fn(slice(None))
        return
    bounds = np.linspace(0, n_rows, n_parts + 1).astype(int)
    run_jobs(fn, [slice(bounds[i], bounds[i + 1]) for i in range(n_parts)])


def run_blocks(fn, n_rows: int, n_sets: int, *, min_rows: int = 1024, min_sets: int = 16) -> None:
    """Call ``fn(rows, sets)`` (two slices) over blocks, on the kernel threads when worthwhile.

    Large chunks are split by reference rows (:func:`run_row_parts`); a few references scored
    against many sets (e.g. thousands of drug gene sets against hundreds of disease
    signatures) are split by sets.
    """
    workers = n_threads()
    every = slice(None)
    if workers > 1 and n_rows >= 2 * min_rows:
        run_row_parts(lambda rows: fn(rows, every), n_rows, min_rows=min_rows)
    elif workers > 1 and n_sets >= 2 * min_sets:
        bounds = np.linspace(0, n_sets, workers + 1).astype(int)
        run_jobs(lambda i: fn(every, slice(bounds[i], bounds[i + 1])), list(range(workers)))
    else:
        fn(every, every)


def aligned(rows: int, unit: int | None = None, *, up: bool = False) -> int:
    """``rows`` rounded to a multiple of ``unit`` (down, or ``up``), at least one ``unit``.

    Block sizes pass through it so that every block starts on a tile boundary of the library
    (``unit`` defaults to ``PRODUCT_ROWS``).
    """
    unit = unit or PRODUCT_ROWS
    units = -(-rows // unit) if up else rows // unit
    return max(1, units) * unit


@functools.cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded in this process (found once: a scan of the loaded libraries)."""
    return ThreadpoolController().select(user_api="blas")


def rows_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` tile by tile: ``PRODUCT_ROWS`` rows of ``a`` per product, each on one BLAS thread.

    Row ``i`` of the result depends only on the tile holding it (its rows of ``a``) and on
    ``b``, never on the thread count or on how many rows ``a`` has beyond its tile, so a
    signature scored in a block of any tile-aligned bounds gets the same bits (see the module
    docstring). The tiles run on the kernel threads (:func:`n_threads`; BLAS releases the GIL).

    Parameters
    ----------
    a
        Rows to multiply (a block of signatures, or their columns on the queries' genes).
    b
        The right operand (genes x queries).

    Returns
    -------
    numpy.ndarray
        The product, in the dtype numpy gives ``a @ b``.
    """
    n = a.shape[0]
    out = np.empty((n, b.shape[1]), dtype=np.result_type(a, b))
    starts = range(0, n, PRODUCT_ROWS)

    def tile(lo: int) -> None:
        out[lo : lo + PRODUCT_ROWS] = a[lo : lo + PRODUCT_ROWS] @ b

    with _blas().limit(limits=1):
        run_jobs(tile, list(starts))
    return out
