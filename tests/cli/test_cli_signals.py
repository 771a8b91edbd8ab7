"""Signals, kills and concurrent runs, on real processes.

SIGTERM and SIGHUP end a run like Ctrl-C: exit 128 + signal, one line, temporary outputs removed.
A run killed without warning (SIGKILL) leaves a lock and maybe a temporary entry; the next run
writing the same output removes them. A second run writing an output being written refuses at
once, naming the first. Processes are paused with SIGSTOP while they hold the output's lock, so
that the signal reaches them in the middle of their work whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.simulate import simulate_planted

SRC = Path(__file__).resolve().parents[2] / "src"
PATIENCE_S = 300  # only a bound against a hung test, never an assertion on speed


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    code = "from exprlab.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "-q", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, proc: subprocess.Popen) -> bool:
    """Poll until ``predicate()`` holds; False if the process ended first."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return predicate()
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the run neither started writing nor ended")


def _lock(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    t = tmp_path_factory.mktemp("signals")
    rng = np.random.default_rng(0)
    n, g = 3000, 2000
    adata = ad.AnnData(
        rng.normal(size=(n, g)).astype(np.float32),
        obs=pd.DataFrame({"drug": [f"d{i % 50}" for i in range(n)]}, index=[f"s{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(g)]),
    )
    adata.write_h5ad(t / "big.h5ad")
    sim = simulate_planted(
        n_diseases=20, n_drugs=40, n_genes=300, n_pathways=10, pathway_size=10, set_size=15, seed=5
    )
    for side in ("drugs", "diseases"):
        part = getattr(sim, side).copy()
        part.layers = {}
        part.write_h5ad(t / f"{side}.h5ad")
    sim.indications[["drug", "disease"]].to_csv(t / "labels.tsv", sep="\t", index=False)
    return t


def _commands(data: Path) -> dict[str, list[str]]:
    return {
        "library-build": [
            "library",
            "build",
            str(data / "big.h5ad"),
            "--out",
            "{out}.h5",
            "--chunk-size",
            "50",
        ],
        "simulate": ["simulate", "--preset", "simu1", "--n-genes", "3000", "--out", "{out}.h5ad"],
        "xai-study": [
            "xai-study",
            "--data",
            "simu1",
            "--models",
            "lr",
            "--runs",
            "1",
            "--n-steps",
            "20",
            "--n-per-class",
            "10",
            "--n-genes",
            "400",
            "--n-random",
            "2",
            "--out",
            "{out}",
        ],
        "demo": ["demo", "--out", "{out}"],
        "match-train": [
            "match",
            "train",
            "--drugs",
            str(data / "drugs.h5ad"),
            "--diseases",
            str(data / "diseases.h5ad"),
            "--labels",
            str(data / "labels.tsv"),
            "--n-seeds",
            "2",
            "--out",
            "{out}",
        ],
    }


def _interrupt(args: list[str], work: Path, out: Path, signum: int) -> subprocess.Popen:
    """Run, pause while the run holds the lock, deliver ``signum``, let it go on."""
    for _ in range(3):
        proc = _start(args, work)
        if _wait_for(lambda: _lock(out).exists(), proc) and proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
            if _lock(out).exists():
                proc.send_signal(signum)
                proc.send_signal(signal.SIGCONT)
                proc.wait(PATIENCE_S)
                return proc
            proc.send_signal(signal.SIGCONT)
        proc.wait(PATIENCE_S)
        for p in work.iterdir():  # the run ended before the signal: clean and try again
            if p.is_dir():
                import shutil

                shutil.rmtree(p)
            else:
                p.unlink()
    pytest.fail("the run was never caught holding its lock")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["library-build", "simulate", "xai-study", "demo", "match-train"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_ends_the_run_and_removes_temporaries(data, tmp_path, name, signum):
    out = tmp_path / "result"
    args = [a.replace("{out}", str(out)) for a in _commands(data)[name]]
    target = Path(next(a for a in args if a.startswith(str(out))))
    proc = _interrupt(args, tmp_path, target, signum)
    err = proc.stderr.read()
    assert proc.returncode == 128 + signum, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [f"error: stopped by {signal.Signals(signum).name}."]
    assert _temporaries(tmp_path) == []
    assert not _lock(target).exists()
    # the output is absent, or (signal after the final rename) complete
    assert not target.exists() or name in ("simulate", "library-build")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["library-build", "simulate", "xai-study", "match-train"])
def test_leftovers_of_a_killed_run_are_removed_by_the_next(data, tmp_path, name):
    out = tmp_path / "result"
    args = [a.replace("{out}", str(out)) for a in _commands(data)[name]]
    target = Path(next(a for a in args if a.startswith(str(out))))
    proc = _interrupt(args, tmp_path, target, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert _lock(target).exists()  # a stale lock, as after an out-of-memory kill
    rerun = _start(args, tmp_path)
    _, err = rerun.communicate(timeout=PATIENCE_S)
    assert rerun.returncode == 0, err
    assert _temporaries(tmp_path) == []
    assert not _lock(target).exists()
    assert target.exists()


@pytest.mark.slow
def test_a_second_run_on_the_same_output_refuses_at_once(data, tmp_path):
    out = tmp_path / "lib.h5"
    args = ["library", "build", str(data / "big.h5ad"), "--out", str(out), "--chunk-size", "50"]
    first = _start(args, tmp_path)
    _wait_for(lambda: _lock(out).exists(), first)
    first.send_signal(signal.SIGSTOP)
    try:
        held = json.loads(_lock(out).read_text())
        second = _start(args, tmp_path)
        _, err = second.communicate(timeout=PATIENCE_S)
    finally:
        first.send_signal(signal.SIGCONT)
    first.wait(PATIENCE_S)
    assert second.returncode == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and f"pid {held['pid']}" in lines[0] and "another exprlab run" in lines[0]
    assert first.returncode == 0
    assert out.exists() and _temporaries(tmp_path) == [] and not _lock(out).exists()


def _replace_many(folder: str, n: int) -> None:
    from exprlab._atomic import atomic_dir

    for i in range(n):
        with atomic_dir(folder) as tmp:
            (Path(tmp) / "run.json").write_text(json.dumps({"kind": "score", "writer": os.getpid(), "i": i}))


def test_folder_replacement_under_six_concurrent_writers(tmp_path):
    import multiprocessing

    target = tmp_path / "run"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_replace_many, args=(str(target), 60)) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(PATIENCE_S)
    assert [w.exitcode for w in workers] == [0] * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing lost, nothing stray
    assert sorted(p.name for p in target.iterdir()) == ["run.json"]
    assert json.loads((target / "run.json").read_text())["i"] == 59
