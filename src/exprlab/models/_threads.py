"""Torch's intra-op thread count for the duration of a block.

``torch.set_num_threads`` is process-wide: :func:`torch_threads` sets the count for a ``with``
block and restores the previous one afterwards, also when the block fails. Small models train
fastest on one thread (batches of a few hundred rows gain little from more, and do not fight
other processes for the cores); the explanation engine chooses its count from the size of its
operations (:mod:`exprlab.explain._torch_threads`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the previous count.

    Parameters
    ----------
    n
        Threads for the block.

    Yields
    ------
    None
        Control, for the duration of the block.
    """
    before = torch.get_num_threads()
    # set even when torch already reports n: after another library changed the OpenMP limit
    # (threadpoolctl), the count torch reports and the one its kernels use can differ
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
