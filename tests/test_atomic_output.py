"""Atomic outputs: complete or absent, and readable like any other new file."""

from __future__ import annotations

import os
import stat

import pytest

from exprlab._atomic import atomic_dir, atomic_path


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
