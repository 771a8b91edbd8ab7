"""The torch kernel of KS and WTCS (run on CPU) against the numba kernels and a literal walk."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from anndata import AnnData

import exprlab.match as match
from exprlab.errors import InvalidParameterError
from exprlab.match._ranks import doubled_ranks, set_statistics
from exprlab.match._torch_kernels import resolve_device, torch_set_statistics
from exprlab.match._walk import MIN_SETS


def _sets(rng, n_genes: int, count: int) -> list[np.ndarray]:
    # sizes 0, 1, 2, n - 1 and n (0 and n score 0 by definition) plus random ones
    sizes = [0, 1, 2, n_genes - 1, n_genes, *rng.integers(1, n_genes, count - 5).tolist()]
    return [rng.choice(n_genes, size=int(k), replace=False) for k in sizes]


@pytest.mark.parametrize("ties", ["midrank", "first"])
@pytest.mark.parametrize("statistic", ["es", "ks"])
def test_torch_equals_both_numba_kernels_on_tied_blocks(ties, statistic):
    rng = np.random.default_rng(7)
    n_genes = 45
    # integer values: many tied values (midranks) and many exact ties of the ES extremes
    values = rng.integers(-3, 4, size=(60, n_genes)).astype(np.float32)
    rank2 = doubled_ranks(values, ties)
    if ties == "midrank":
        assert (rank2 % 2 == 1).any()  # half-integer midranks present
    sets = _sets(rng, n_genes, MIN_SETS + 16)
    walked = set_statistics(sets, rank2, values, statistic=statistic)  # the walk over all sets
    per_set = set_statistics(sets[:40], rank2, values, statistic=statistic)  # the per-set kernel
    got = torch_set_statistics(sets, rank2, values, statistic=statistic, device="cpu")
    assert got.shape == (len(sets), 60)
    assert np.abs(got - walked).max() < 1e-6
    assert np.abs(got[:40] - per_set).max() < 1e-6
    assert np.abs(got).max() > 0.3  # not trivially zero
    assert (got[[0, 4]] == 0).all() and (got[3] != 0).any()  # t = 0 and t = n; t = n - 1


def test_a_block_split_into_steps_and_a_restricted_gene_space_give_the_same_numbers(monkeypatch):
    import exprlab.match._torch_kernels as tk

    rng = np.random.default_rng(3)
    values = rng.normal(size=(30, 40)).astype(np.float32)
    rank2 = doubled_ranks(values)
    sets = [np.array([1, 5, 9]), np.array([2, 3, 30, 31, 39]), np.array([0])]
    expected = set_statistics(sets, rank2, values, statistic="es")
    monkeypatch.setattr(tk, "_BUDGET", 7)  # about one reference per step
    assert np.abs(torch_set_statistics(sets, rank2, values, statistic="es") - expected).max() < 1e-12
    # only the sets' genes, as a gene-major library reads them, with the full gene count given
    cols = np.unique(np.concatenate(sets))
    local = [np.searchsorted(cols, s) for s in sets]
    got = torch_set_statistics(local, rank2[:, cols], values[:, cols], statistic="es", n_genes=40)
    assert np.abs(got - expected).max() < 1e-12


# ------------------------------------------------ literal walk down the sorted list, exact arithmetic
def _blocks(x: np.ndarray, ties: str) -> list[list[int]]:
    """Genes in decreasing value, grouped into tie blocks (single genes with ties="first")."""
    order = sorted(range(len(x)), key=lambda g: (-float(x[g]), g))
    if ties == "first":
        return [[g] for g in order]
    out: list[list[int]] = []
    for g in order:
        if out and x[out[-1][0]] == x[g]:
            out[-1].append(g)
        else:
            out.append([g])
    return out


def _walk_es(x: np.ndarray, s: set[int], ties: str) -> Fraction:
    n, t = len(x), len(s)
    weight = {g: abs(Fraction(float(x[g]))) for g in s}
    total = sum(weight.values(), Fraction(0))
    if t == 0 or t >= n or total == 0:
        return Fraction(0)
    miss = Fraction(1, n - t)
    run, seen = Fraction(0), [Fraction(0)]
    for block in _blocks(x, ties):
        hits = [g for g in block if g in s]
        half = Fraction(len(block) - len(hits), 2) * miss  # the block's misses, split around its hits
        run -= half
        seen.append(run)
        run += sum((weight[g] for g in hits), Fraction(0)) / total
        seen.append(run)
        run -= half
        seen.append(run)
    hi, lo = max(seen), min(seen)
    return hi if hi > -lo else lo


def _literal_ks(x: np.ndarray, s: set[int], ties: str) -> Fraction:
    n, t = len(x), len(s)
    if t == 0 or t >= n:
        return Fraction(0)
    rank, pos = {}, 0
    for block in _blocks(x, ties):
        for g in block:
            rank[g] = Fraction(2 * pos + len(block) + 1, 2)  # (first + last position) / 2, 1-based
        pos += len(block)
    v = sorted(rank[g] for g in s)
    a = max(Fraction(j, t) - v[j - 1] / n for j in range(1, t + 1))
    b = max(v[j - 1] / n - Fraction(j - 1, t) for j in range(1, t + 1))
    return a if a > b else -b


@pytest.mark.parametrize("ties", ["midrank", "first"])
def test_tiny_case_against_a_literal_walk_in_exact_arithmetic(ties):
    rng = np.random.default_rng(11)
    values = rng.integers(-2, 3, size=(25, 9)).astype(np.float32)
    values[0] = 1.0  # one block of nine tied genes
    values[1] = [3, 1, 1, 1, 0, 0, -1, -1, -3]  # symmetric weights: exact ties of the extremes
    sets = [np.array(s) for s in ([0], [4], [0, 8], [1, 2], [3, 4, 5], [0, 2, 4, 6], [1, 2, 3, 6, 7, 8])]
    rank2 = doubled_ranks(values, ties)
    es = torch_set_statistics(sets, rank2, values, statistic="es")
    ks = torch_set_statistics(sets, rank2, values, statistic="ks")
    es_numba = set_statistics(sets, rank2, values, statistic="es")
    ks_numba = set_statistics(sets, rank2, values, statistic="ks")
    for q, s in enumerate(sets):
        for r, x in enumerate(values):
            assert es[q, r] == pytest.approx(float(_walk_es(x, set(s.tolist()), ties)), abs=1e-12)
            assert ks[q, r] == pytest.approx(float(_literal_ks(x, set(s.tolist()), ties)), abs=1e-12)
    assert np.abs(es - es_numba).max() < 1e-12
    assert np.abs(ks - ks_numba).max() < 1e-12


# ---------------------------------------------------------------- through score()
def _library(rng, n_sig: int, n_genes: int) -> AnnData:
    x = rng.integers(-4, 5, size=(n_sig, n_genes)).astype(np.float32)
    obs = pd.DataFrame({"cell_id": rng.choice(["A", "B"], n_sig)}, index=[f"s{i}" for i in range(n_sig)])
    return AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{i}" for i in range(n_genes)]))


@pytest.mark.parametrize("method", ["wtcs", "ncs", "ks", "ks_raw"])
def test_score_on_the_torch_cpu_device_equals_the_numba_kernels(method):
    rng = np.random.default_rng(5)
    lib = _library(rng, 70, 50)
    queries = {
        "small": (["g1", "g2", "g3", "absent1"], ["g40", "g41", "g42", "g43", "absent2"]),
        "wide": ([f"g{i}" for i in range(0, 40, 2)], [f"g{i}" for i in range(1, 19, 2)]),
        "up_only": ([f"g{i}" for i in range(10, 22)], []),
        "down_only": ([], [f"g{i}" for i in range(30, 37)]),
    }
    ref = match.score(queries, lib, method, device="numba", min_genes=1)
    got = match.score(queries, lib, method, device="cpu", min_genes=1)
    assert ref.attrs["device"] == "numba" and got.attrs["device"] == "cpu"
    assert got.attrs["n_dropped"]["small"] == 2
    assert np.abs(got.to_numpy() - ref.to_numpy()).max() < 1e-6
    assert (got.loc["up_only"] != 0).any() and (got.loc["down_only"] != 0).any()


def test_auto_uses_numba_without_cuda_and_torch_with_it(monkeypatch):
    import exprlab.match._torch_kernels as kernels

    monkeypatch.setattr(kernels, "cuda_possible", lambda: True)  # a driver present: torch decides
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "numba"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"  # the choice only; nothing runs on CUDA here
    assert resolve_device("numba") == "numba"
    assert resolve_device("cpu") == "cpu"


def test_unknown_or_absent_devices_are_refused(monkeypatch):
    lib = _library(np.random.default_rng(0), 5, 12)
    with pytest.raises(InvalidParameterError, match="unknown device 'gpu7'"):
        match.score({"q": (["g1", "g2"], ["g3"])}, lib, "wtcs", device="gpu7", min_genes=1)
    with pytest.raises(InvalidParameterError, match="device"):
        resolve_device(0)  # type: ignore[arg-type]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidParameterError, match="'cuda:0' is not available"):
        resolve_device("cuda:0")


def test_cli_device_option_scores_alike_and_is_recorded(tmp_path):
    import json

    from exprlab.cli import main

    rng = np.random.default_rng(2)
    _library(rng, 12, 30).write_h5ad(tmp_path / "lib.h5ad")
    (tmp_path / "q.gmt").write_text("a_up\t\tg1\tg2\tg3\tg4\na_dn\t\tg20\tg21\tg22\n")
    tables = {}
    for device in ("numba", "cpu"):
        out = tmp_path / f"{device}.tsv"
        argv = ["score", "--query", str(tmp_path / "q.gmt"), "--library", str(tmp_path / "lib.h5ad")]
        main([*argv, "--out", str(out), "--device", device])
        tables[device] = pd.read_csv(out, sep="\t")
        assert json.loads((tmp_path / f"{device}.tsv.run.json").read_text())["parameters"]["device"] == device
    assert np.abs(tables["cpu"]["score"] - tables["numba"]["score"]).max() < 1e-6
    assert (tables["cpu"]["score"] != 0).any()


def test_auto_without_a_cuda_driver_never_imports_torch():
    """With no NVIDIA driver, "auto" picks numba before torch is loaded (it costs a second)."""
    code = (
        "import sys, exprlab.match._torch_kernels as k; k.cuda_possible = lambda: False; "
        "print(k.resolve_device('auto'), 'torch' in sys.modules)"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": src}
    )
    assert out.stdout.split() == ["numba", "False"], out.stderr
