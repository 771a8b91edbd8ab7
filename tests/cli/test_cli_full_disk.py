"""A full disk and a read-only disk: one line, exit 2, no crash, nothing left on the disk.

A small tmpfs is mounted under the test's folder (where the system allows mounting; elsewhere the
tests are skipped with the reason). Each command runs in its own process, so that a crash of the
interpreter (the HDF5 library on a full disk) would show as a signal, not pass unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _mount(point: Path, options: str) -> str | None:
    """Mount a tmpfs at ``point``; the reason when it cannot be done."""
    point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True
        )
    except FileNotFoundError:
        return "no mount command"
    if done.returncode != 0:
        return f"mounting a tmpfs is not allowed here ({done.stderr.strip() or done.returncode})"
    return None


@pytest.fixture
def disk(tmp_path):
    """(folder of inputs, a 1 MB tmpfs, a read-only tmpfs)."""
    full, readonly = tmp_path / "full", tmp_path / "readonly"
    for point, options in ((full, "size=1m"), (readonly, "size=1m,ro")):
        reason = _mount(point, options)
        if reason:
            subprocess.run(["umount", str(full)], capture_output=True)
            pytest.skip(reason)
    rng = np.random.default_rng(0)
    n, g = 400, 1000
    adata = ad.AnnData(
        rng.normal(size=(n, g)).astype(np.float32),
        obs=pd.DataFrame({"label": ["a", "b"] * (n // 2)}, index=[f"s{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(g)]),
    )
    adata.write_h5ad(tmp_path / "in.h5ad")
    yield tmp_path, full, readonly
    for point in (full, readonly):
        subprocess.run(["umount", str(point)], capture_output=True)


COMMANDS = {
    "library-build": (["library", "build", "{in}", "--out", "{d}/lib.h5"], "lib.h5"),
    "simulate": (["simulate", "--preset", "simu1", "--n-genes", "3000", "--out", "{d}/sim.h5ad"], "sim.h5ad"),
    "score": (["score", "--query", "{in}", "--library", "{in}", "--out", "{d}/scores.tsv"], "scores.tsv"),
    "convert-gct": (["convert", "{in}", "{d}/copy.gct"], "copy.gct"),
    "convert-h5ad": (["convert", "{in}", "{d}/copy.h5ad"], "copy.h5ad"),
    "train": (
        ["train", "--data", "{in}", "--label", "label", "--epochs", "1", "--out", "{d}/model"],
        "model",
    ),
}


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    code = "from exprlab.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, "-q", *argv], capture_output=True, text=True, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("place", ["full", "readonly"])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_disk_that_cannot_take_the_output(disk, name, place):
    inputs, full, readonly = disk
    target = full if place == "full" else readonly
    if place == "full" and name == "train":
        (target / "filler").write_bytes(b"\0" * (1024 * 1024 - 8192))  # leave a few kB
    before = sorted(p.name for p in target.iterdir())
    argv, written = COMMANDS[name]
    done = _run([a.replace("{in}", str(inputs / "in.h5ad")).replace("{d}", str(target)) for a in argv])
    assert done.returncode == 2, done.stderr  # not a signal (a crash), not a traceback
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    reason = "no space left on device" if place == "full" else "read-only file system"
    assert reason in lines[0].lower() and written in lines[0]
    assert sorted(p.name for p in target.iterdir()) == before
