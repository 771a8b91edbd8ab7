"""The kernel threads: one pool per process, shared by every block's parts and by cached reads."""

from __future__ import annotations

import multiprocessing
import threading
import time

import numpy as np
import pytest

from exprlab.match import _threads


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setenv("EXPRLAB_THREADS", "2")


def test_parts_cover_every_row_once_on_the_kernel_threads(two_threads):
    seen = np.zeros(10_000, dtype=int)
    names = set()
    lock = threading.Lock()

    def part(rows: slice) -> None:
        with lock:
            seen[rows] += 1
            names.add(threading.current_thread().name.rsplit("_", 1)[0])

    _threads.run_row_parts(part, len(seen), min_rows=100)
    assert (seen == 1).all()
    assert names == {"exprlab-kernel"}


def test_one_thread_scores_every_row_in_one_call_on_the_caller(monkeypatch):
    monkeypatch.setenv("EXPRLAB_THREADS", "1")
    calls = []
    _threads.run_row_parts(
        lambda rows: calls.append((rows, threading.current_thread())), 10_000, min_rows=100
    )
    assert calls == [(slice(None), threading.current_thread())]


def test_the_pool_is_kept_and_follows_the_thread_count(monkeypatch):
    monkeypatch.setenv("EXPRLAB_THREADS", "3")
    pool = _threads.kernel_pool()
    assert _threads.kernel_pool() is pool
    assert pool._max_workers == 3
    monkeypatch.setenv("EXPRLAB_THREADS", "2")
    assert _threads.kernel_pool()._max_workers == 2


def test_a_kernel_job_that_splits_its_work_again_runs_it_inline(two_threads):
    """Both kernel threads waiting for parts queued behind them would wait for ever."""
    out = np.zeros((2, 1000))

    def job(i: int) -> None:
        def part(rows: slice) -> None:
            out[i, rows] = i + 1
            time.sleep(0.001)

        _threads.run_row_parts(part, out.shape[1], min_rows=10)

    jobs = [_threads.kernel_pool().submit(job, i) for i in range(2)]
    for j in jobs:
        j.result(timeout=30)
    assert (out == np.array([[1.0], [2.0]])).all()


def test_a_failure_is_raised_once_every_other_part_has_ended(two_threads):
    ended = []

    def part(i: int) -> None:
        if i == 0:
            raise ValueError("part 0")
        time.sleep(0.02)
        ended.append(i)

    with pytest.raises(ValueError, match="part 0"):
        _threads.run_jobs(part, list(range(6)))
    assert sorted(ended) == [1, 2, 3, 4, 5]


def test_an_interrupted_wait_cancels_the_parts_not_started(two_threads, monkeypatch):
    release = threading.Event()
    ran = []

    def part(i: int) -> None:
        ran.append(i)
        release.wait(10)

    real_wait = _threads.wait
    calls = []

    def interrupted(jobs):
        calls.append(len(jobs))
        if len(calls) == 1:  # Ctrl-C while the first two parts run
            while len(ran) < 2:
                time.sleep(0.001)
            threading.Timer(0.05, release.set).start()
            raise KeyboardInterrupt
        return real_wait(jobs)

    monkeypatch.setattr(_threads, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _threads.run_jobs(part, list(range(8)))
    assert sorted(ran) == [0, 1]  # the six waiting were cancelled, the running two awaited
    assert release.is_set()


def _child(queue) -> None:
    seen = np.zeros(1000, dtype=int)
    _threads.run_row_parts(lambda rows: seen.__setitem__(rows, seen[rows] + 1), len(seen), min_rows=10)
    queue.put(int(seen.sum()))


def test_a_forked_child_makes_its_own_kernel_threads(two_threads):
    _threads.run_row_parts(lambda rows: None, 1000, min_rows=10)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the child waited for threads it does not have")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == 1000
