"""Independent tasks of a workflow (the folds of a benchmark) run in worker processes.

The learned methods train on one thread each (small sparse batches gain little from more), so a
benchmark's folds are the natural unit to spread over a machine's cores. Each task runs in a
separate process (joblib's process pool, numerical libraries limited to one thread per worker),
its ``exprlab`` log records are collected there and replayed here in task order, and results
come back in the order of the inputs. Every task runs on one thread (torch and the BLAS
libraries), here or in a worker: a matrix product's rounding depends on its thread count, and
the results must be the same for any ``n_jobs``. The tasks must not depend on each other or on
a global random state (each seeds its own generators).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_limits

from exprlab._logging import collect_records, replay_records
from exprlab._progress import track
from exprlab._validation import check_count
from exprlab.models import torch_threads

R = TypeVar("R")


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with torch and every BLAS/OpenMP pool on one thread."""
    with threadpool_limits(1), torch_threads(1):
        yield


def _timed(task: Callable[..., R], args: tuple[Any, ...]) -> tuple[R, list, float]:
    """Run ``task(*args)`` collecting its log records and the CPU seconds of this process."""
    cpu = time.process_time()
    with collect_records() as records, one_thread():
        result = task(*args)
    return result, records, time.process_time() - cpu


def run_tasks(
    task: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]], *, n_jobs: int, description: str
) -> Iterator[tuple[R, float]]:
    """Yield ``(task(*args), worker CPU seconds)`` for each argument tuple, in order.

    Parameters
    ----------
    task
        A module-level function (it is pickled into the workers).
    argument_lists
        One tuple of positional arguments per task.
    n_jobs
        Worker processes; 1 runs the tasks here, one after another (worker CPU seconds are then 0:
        this process's own CPU time already holds them).
    description
        Label of the progress bar.

    Yields
    ------
    tuple
        The task's result and the CPU seconds its worker spent on it.
    """
    n_jobs = check_count(n_jobs, "n_jobs", minimum=1)
    if n_jobs == 1 or len(argument_lists) < 2:
        for args in track(argument_lists, description):
            with one_thread():
                result = task(*args)
            yield result, 0.0
        return
    with parallel_config(backend="loky", inner_max_num_threads=1):
        outputs: Iterable[tuple[R, list, float]] = Parallel(
            n_jobs=min(n_jobs, len(argument_lists)), return_as="generator"
        )(delayed(_timed)(task, args) for args in argument_lists)
        for result, records, cpu in track(outputs, description, total=len(argument_lists)):
            replay_records(records)
            yield result, cpu
