"""The chunking driver: scores queries against a library block by block, on one of two backends.

On a gene-major library (format 2), a method that needs only the queries' genes reads just
those (:mod:`exprlab.match._generows`); every other case reads whole signatures block by block.

``backend="memory"`` runs in this process; the library is either held in memory (AnnData or a
prepared library) or streamed from an on-disk library in bounded chunks. ``backend="dask"``
submits the same block function to a ``dask.distributed`` cluster (the ``client`` option, or the
current default client) and assembles the blocks in library order, so the numbers are identical.
"""

from __future__ import annotations

from typing import Literal

import h5py
import numpy as np

from exprlab._progress import make_progress, track
from exprlab._validation import check_choice, check_count
from exprlab.errors import InvalidParameterError
from exprlab.match import _base
from exprlab.match._generows import run_on_genes
from exprlab.match._library import DiskLibrary, default_chunk_size, row_sums
from exprlab.match._ranks import doubled_ranks

Backend = Literal["memory", "dask"]
BACKENDS: tuple[Backend, ...] = ("memory", "dask")


def block_scores(method_name: str, queries, values, rank2, opts) -> dict[str, np.ndarray]:
    """Run one method on one block (module-level so a Dask worker can import it)."""
    method = _base.REGISTRY[method_name]
    return method.chunk(queries, values, rank2, opts)


def _disk_block(method_name, queries, path, names, start, stop, ranks, ties, opts):
    """Read signatures ``start:stop`` of a format-1 library and score them (Dask task).

    Values were checked finite when the library was built; KS reads ranks only.
    """
    with h5py.File(path, "r") as f:
        stored = ranks and "rank2" in f and str(f.attrs["ties"]) == ties
        need_values = _base.REGISTRY[method_name].needs_values or not stored
        values = f["values"][start:stop] if need_values else None
        rank2 = None
        if stored:
            rank2 = f["rank2"][start:stop]
        elif ranks:
            rank2 = doubled_ranks(f["values"][start:stop] if values is None else values, ties)
        if _base.REGISTRY[method_name].needs_vectors and values is not None:  # as the memory path
            sums = (f["sum"][start:stop], f["sumsq"][start:stop]) if "sum" in f else row_sums(values)
            opts = dict(opts, _row_stats=(values.shape[1], *sums))
    return block_scores(method_name, queries, values, rank2, opts)


def _memory_block(method_name, queries, source, start, stop, ranks, ties, opts):
    method = _base.REGISTRY[method_name]
    values, rank2 = source.read(start, stop, ranks=ranks, ties=ties, values=method.needs_values)
    if method.needs_vectors and hasattr(source, "row_stats"):  # sums stored at build (or kept)
        opts = dict(opts, _row_stats=source.row_stats(start, stop))
    return block_scores(method_name, queries, values, rank2, opts)


def reads_query_genes(source, queries, method, ties: str, backend: str) -> bool:
    """Whether scoring can read only the queries' genes (gene-major library, method allows it)."""
    gm = getattr(source, "gene_major", None)
    return (
        backend == "memory"
        and gm is not None
        and method.query_genes is not None
        and method.query_genes(queries)
        and (not method.needs_ranks or ties == gm.ties)
    )


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
) -> dict[str, np.ndarray]:
    """Score ``queries`` against every signature of ``source``; return the named matrices.

    ``scores_only`` keeps the main matrix only (the caller drops the extras), so a batch of
    many queries holds one queries x signatures matrix instead of three.
    """
    check_choice(backend, "backend", BACKENDS)
    check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
    if reads_query_genes(source, queries, method, ties, backend):
        return run_on_genes(queries, source.gene_major, method, opts, chunk_size, scores_only=scores_only)
    n = source.n
    gm = getattr(source, "gene_major", None)
    # a gene-major library is read fastest a whole chunk (8,192 signatures) at a time
    step = int(chunk_size or (gm.block if gm is not None else default_chunk_size(len(source.genes))))
    bounds = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    ranks = method.needs_ranks
    if backend == "memory":
        blocks = [
            _kept(_memory_block(method.name, queries, source, lo, hi, ranks, ties, opts), scores_only)
            for lo, hi in track(bounds, f"scoring ({method.name})")
        ]
    else:
        blocks = _run_dask(queries, source, method, bounds, ranks, ties, opts, client)
    keys = blocks[0].keys()
    return {k: np.concatenate([b[k] for b in blocks], axis=1) for k in keys}


def _kept(parts: dict[str, np.ndarray], scores_only: bool) -> dict[str, np.ndarray]:
    return {"score": parts["score"]} if scores_only else parts


def _run_dask(queries, source, method, bounds, ranks, ties, opts, client):
    try:
        # dask.distributed is heavy: imported only when the dask backend is asked for
        from distributed import as_completed, get_client
    except ImportError as err:  # pragma: no cover - dask is a dependency
        raise InvalidParameterError(
            "dask.distributed is not installed",
            where="backend",
            fix="install dask[distributed] or use backend='memory'",
        ) from err
    if client is None:
        try:
            client = get_client()
        except ValueError as err:
            raise InvalidParameterError(
                "backend='dask' needs a running dask.distributed client",
                where="backend",
                fix="create one (distributed.Client(...)) or pass client=...",
            ) from err
    q = client.scatter(queries, broadcast=True, hash=False)
    futures = []
    for lo, hi in bounds:
        if isinstance(source, DiskLibrary) and source.gene_major is None:
            names = source.obs.index[lo:hi].to_numpy()
            fut = client.submit(
                _disk_block, method.name, q, str(source.path), names, lo, hi, ranks, ties, opts, pure=False
            )
        else:
            values, rank2 = source.read(lo, hi, ranks=ranks, ties=ties, values=method.needs_values)
            block_opts = dict(opts, _row_stats=source.row_stats(lo, hi)) if method.needs_vectors else opts
            fut = client.submit(block_scores, method.name, q, values, rank2, block_opts, pure=False)
        futures.append(fut)
    order = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(futures)
    with make_progress() as progress:
        task = progress.add_task(f"scoring ({method.name}, dask)", total=len(futures))
        for fut in as_completed(futures):
            results[order[fut.key]] = fut.result()
            progress.advance(task)
    return results
