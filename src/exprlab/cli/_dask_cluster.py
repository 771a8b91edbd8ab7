"""The compute backend of ``exprlab score``: this process, or a dask.distributed cluster.

``--backend dask`` connects to the scheduler named by ``--scheduler``, or starts a local cluster
of one single-threaded worker process per core (``EXPRLAB_THREADS`` sets the count, as it does
for the memory backend's threads) and closes it when the command ends. The workers read the
on-disk library themselves, so the library must be a file built by ``exprlab library build``
that every worker sees at the same path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exprlab._validation import check_choice
from exprlab.errors import InvalidParameterError

BACKENDS = ("memory", "dask")
SCHEDULER_TIMEOUT = 5.0  # seconds to wait for a scheduler that does not answer


def check_backend(backend: str, scheduler: str | None, library: Path, in_process: str | None) -> None:
    """Refuse a backend request the command cannot honour, before any work starts.

    Parameters
    ----------
    backend
        ``"memory"`` or ``"dask"``.
    scheduler
        The ``--scheduler`` address, or None.
    library
        The ``--library`` file.
    in_process
        The option that makes the command score in this process whatever the backend
        (``"--n-permutations"``...), or None.
    """
    from exprlab.match import is_library_file  # deferred: loads h5py, kept out of `exprlab --help`

    check_choice(backend, "--backend", BACKENDS)
    if scheduler is not None and backend != "dask":
        raise InvalidParameterError(
            "--scheduler names a dask scheduler, used by the dask backend only",
            where="--scheduler",
            fix="add --backend dask, or drop --scheduler",
        )
    if backend != "dask":
        return
    if in_process is not None:
        raise InvalidParameterError(
            f"{in_process} scores in this process; the dask backend does not run it",
            where="--backend",
            fix=f"use --backend memory with {in_process}",
        )
    if library.exists() and not is_library_file(library):
        raise InvalidParameterError(
            "the dask workers read on-disk libraries only, and this file is read whole into memory",
            where=library,
            fix=f"build a library first (exprlab library build {library} --out LIB.h5), or use --backend memory",
        )


def local_workers() -> int:
    """Worker processes of a local cluster: ``EXPRLAB_THREADS``, else the cores this process may use.

    Returns
    -------
    int
        At least 1.
    """
    env = os.environ.get("EXPRLAB_THREADS")
    if env:
        return max(1, int(env))
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(cores))


def local_cluster(n: int):
    """A dask.distributed local cluster of ``n`` single-threaded worker processes.

    Each worker runs one kernel thread (``EXPRLAB_THREADS=1``), so the cluster uses ``n`` cores
    as the memory backend's ``n`` threads would. The cluster is a context manager.
    """
    return _distributed().LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
        env={"EXPRLAB_THREADS": "1"},
    )


def _distributed():
    try:
        # dask.distributed is heavy and optional (the [dask] extra): imported only when asked for
        import distributed
    except ImportError as err:
        raise InvalidParameterError(
            "the dask backend needs dask.distributed, which is not installed",
            where="--backend",
            fix="install exprlab[dask], or use --backend memory",
        ) from err
    return distributed


def _wait_for_workers(client, scheduler: str) -> None:
    """Refuse a scheduler without workers (the tasks would wait for ever)."""
    try:
        client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT)
    except TimeoutError as err:
        raise InvalidParameterError(
            f"the dask scheduler has no workers (none joined within {SCHEDULER_TIMEOUT:g} s)",
            where=f"--scheduler {scheduler}",
            fix=f"start workers (dask worker {scheduler})",
        ) from err


@contextmanager
def backend_client(backend: str, scheduler: str | None) -> Iterator[tuple[object, str]]:
    """The dask client to score with (None for the memory backend) and how to record it.

    Parameters
    ----------
    backend
        ``"memory"`` or ``"dask"``.
    scheduler
        A dask.distributed scheduler address; None starts a local cluster for the command.

    Yields
    ------
    tuple
        The client (None for the memory backend) and the scheduler as the run manifest
        records it (the address, the local cluster's size, or ``"not used"``).
    """
    if backend != "dask":
        yield None, "not used"
        return
    distributed = _distributed()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise InvalidParameterError(
                f"cannot reach the dask scheduler ({type(err).__name__}: {err})",
                where=f"--scheduler {scheduler}",
                fix="start the scheduler and its workers (dask scheduler; dask worker ADDRESS) or correct the address",
            ) from err
        with client:
            _wait_for_workers(client, scheduler)
            yield client, scheduler
        return
    n = local_workers()
    try:
        cluster = local_cluster(n)
    except (OSError, RuntimeError, TimeoutError) as err:
        raise InvalidParameterError(
            f"cannot start a local dask cluster of {n} worker processes ({type(err).__name__}: {err})",
            where="--backend dask",
            fix="start a cluster yourself and pass its address with --scheduler, or use --backend memory",
        ) from err
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client, f"local cluster ({n} single-threaded worker process{'es' if n > 1 else ''})"
