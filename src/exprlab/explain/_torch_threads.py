"""Torch's intra-op thread count for one computation, chosen from the size of its operations.

Splitting an operation over threads pays only when each thread gets enough work: a small
operation split in two makes both halves wait at the end for the slower one, and on a busy
machine the slower one is often a thread the system has not scheduled yet, so a run of many
small operations slows down several times. A computation whose operations hold fewer than
:data:`SMALL_OP` elements therefore runs on one thread; a larger one gets one thread per
:data:`SMALL_OP` elements, up to the cores this process may use.

The count is applied with :func:`exprlab.models.torch_threads` (process-wide, restored after
the block). The environment variable ``EXPRLAB_THREADS`` (also read by the matching kernels) fixes
the count instead; an explicit ``threads=`` argument takes precedence over both.
"""

from __future__ import annotations

import os

from exprlab._validation import check_count
from exprlab.errors import InvalidParameterError

__all__ = ["SMALL_OP", "THREADS_ENV", "choose_threads", "usable_cores"]

#: elements of one operation (e.g. rows × widest layer of a chunk) per thread
SMALL_OP = 1 << 22
THREADS_ENV = "EXPRLAB_THREADS"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def choose_threads(op_elements: int, threads: int | None = None) -> int:
    """Threads for a computation whose typical operation holds ``op_elements`` elements.

    Parameters
    ----------
    op_elements
        Elements of one typical operation of the computation.
    threads
        An explicit count (wins over everything); None to read ``EXPRLAB_THREADS``, then to
        choose from the size.

    Returns
    -------
    int
        1 below :data:`SMALL_OP` elements, else one thread per :data:`SMALL_OP` elements, at
        most :func:`usable_cores`.
    """
    if threads is not None:
        return check_count(threads, "threads", minimum=1)
    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value < 1:
            raise InvalidParameterError(
                f"{THREADS_ENV}={env!r} is not a positive whole number",
                where=THREADS_ENV,
                fix=f"set {THREADS_ENV} to a thread count such as 1 or 4, or unset it",
            )
        return value
    return max(1, min(usable_cores(), int(op_elements) // SMALL_OP))
