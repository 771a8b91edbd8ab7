"""How the compiled kernels share the cores: thread count and the split of a block into jobs."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def n_threads() -> int:
    """Threads used by the kernels (all cores; ``EXPRLAB_THREADS`` overrides)."""
    env = os.environ.get("EXPRLAB_THREADS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)


def run_blocks(fn, n_rows: int, n_sets: int, *, min_rows: int = 4096, min_sets: int = 16) -> None:
    """Call ``fn(rows, sets)`` (two slices) over blocks, on a thread pool when worthwhile.

    Large chunks are split by reference rows; a few references scored against many sets (e.g.
    thousands of drug gene sets against hundreds of disease signatures) are split by sets. The
    kernel releases the GIL, so threads use every core without copying the chunk.
    """
    workers = n_threads()
    every = slice(None)
    if workers > 1 and n_rows >= 2 * min_rows:
        bounds = np.linspace(0, n_rows, workers + 1).astype(int)
        jobs = [(slice(bounds[i], bounds[i + 1]), every) for i in range(workers)]
    elif workers > 1 and n_sets >= 2 * min_sets:
        bounds = np.linspace(0, n_sets, workers + 1).astype(int)
        jobs = [(every, slice(bounds[i], bounds[i + 1])) for i in range(workers)]
    else:
        fn(every, every)
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda job: fn(*job), jobs))
