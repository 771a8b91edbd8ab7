"""Atomic outputs: complete or absent, and readable like any other new file."""

from __future__ import annotations

import os
import signal
import stat

import pytest

from exprlab._atomic import atomic_dir, atomic_path, deferred_signals, remove_leftovers
from exprlab.errors import FileAccessError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_written_file_gets_the_ordinary_permissions(tmp_path):
    target = tmp_path / "table.tsv"
    with atomic_path(target) as tmp:
        tmp.write_text("a\tb\n")
    assert target.read_text() == "a\tb\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["table.tsv"]


def test_written_folder_gets_the_ordinary_permissions(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "weights.pt").write_text("w")
    assert (target / "weights.pt").read_text() == "w"
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~_umask()


def test_failed_writes_leave_nothing_and_keep_the_previous_result(tmp_path):
    target = tmp_path / "table.tsv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    folder = tmp_path / "model"
    with pytest.raises(RuntimeError):
        with atomic_dir(folder) as tmp:
            (tmp / "x").write_text("x")
            raise RuntimeError("writer failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.tsv"]


def test_a_folder_of_the_user_is_never_replaced(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "x.h5ad").write_text("data")
    with pytest.raises(FileAccessError, match="not written by exprlab"):
        with atomic_dir(folder) as tmp:
            (tmp / "weights.pt").write_text("w")
    assert (folder / "x.h5ad").read_text() == "data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    file = tmp_path / "model"
    file.write_text("a file")
    with pytest.raises(FileAccessError, match="in the way"):
        with atomic_dir(file):
            pass
    assert file.read_text() == "a file"


def test_an_exprlab_folder_is_replaced_whole(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text('{"kind": "score"}')
    (folder / "old.tsv").write_text("old")
    with atomic_dir(folder) as tmp:
        (tmp / "run.json").write_text('{"kind": "score"}')
    assert sorted(p.name for p in folder.iterdir()) == ["run.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_leftovers_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)  # a process that has exited
    stale_file = tmp_path / f".table.tsv.part-{pid}-abcd1234.tsv"
    stale_dir = tmp_path / f".model.part-{pid}-abcd1234"
    live = tmp_path / f".table.tsv.part-{os.getpid()}-abcd1234.tsv"
    other = tmp_path / ".table.tsv.notes"
    stale_file.write_text("half")
    stale_dir.mkdir()
    (stale_dir / "w").write_text("half")
    live.write_text("being written")
    other.write_text("not ours")
    assert remove_leftovers(tmp_path / "table.tsv") == [stale_file]
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "run.json").write_text("{}")
    assert not stale_dir.exists()
    assert live.exists() and other.exists()


def test_api_writers_refuse_to_write_onto_their_input(tmp_path):
    import anndata as ad
    import numpy as np

    from exprlab.errors import InvalidParameterError
    from exprlab.io import convert
    from exprlab.match import build_library

    src = tmp_path / "in.h5ad"
    ad.AnnData(np.ones((3, 4), dtype=np.float32)).write_h5ad(src)
    before = src.read_bytes()
    with pytest.raises(InvalidParameterError, match="is the input"):
        convert(src, src)
    with pytest.raises(InvalidParameterError, match="is the input"):
        build_library(src, src)
    assert src.read_bytes() == before


def test_a_stop_signal_waits_for_the_end_of_a_deferred_step():
    """A SIGTERM sent inside the block reaches its handler only once the block has ended."""
    seen: list[str] = []

    def handler(signum, frame):
        seen.append("signal")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # bytecodes run: an unmasked signal would be handled here
                pass
            seen.append("block ended")
        seen.append("after")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == ["block ended", "signal", "after"]
