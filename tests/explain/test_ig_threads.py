"""Integrated Gradients chooses torch's thread count per call and restores the global one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients
from torch import nn

from exprlab.errors import InvalidParameterError
from exprlab.explain import integrated_gradients
from exprlab.explain._torch_threads import SMALL_OP, choose_threads, usable_cores


class Recording(nn.Module):
    """A conv-first model (generic path) that records torch's thread count at each forward."""

    def __init__(self, genes: int, classes: int):
        super().__init__()
        torch.manual_seed(3)
        self.net = nn.Sequential(
            nn.Unflatten(1, (1, genes)),
            nn.Conv1d(1, 2, 8, 4),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(2 * ((genes - 8) // 4 + 1), classes),
        )
        self.seen: list[int] = []

    def forward(self, x):
        self.seen.append(torch.get_num_threads())
        return self.net(x)


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def data(n=12, genes=2000, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.normal(size=(n, genes)), dtype=torch.float32)
    t = torch.as_tensor(rng.integers(0, classes, n))
    return x, t


def mlp(genes=2000, classes=3):
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(genes, 16), nn.ReLU(), nn.Linear(16, classes)).eval()


@pytest.mark.parametrize("path", ["exact", "generic"])
def test_attributions_do_not_depend_on_the_thread_count(path, restore_threads):
    x, t = data()
    model = mlp()
    # Captum in float64 on a float64 copy: an independent reference
    ref_model = mlp().double()
    ref = IntegratedGradients(lambda v: torch.softmax(ref_model(v), dim=1)).attribute(
        x.double(), torch.zeros_like(x.double()), target=t, n_steps=40
    )
    ref = ref.numpy()
    results = {}
    for threads in (1, 2, 4):
        torch.set_num_threads(1)
        results[threads] = integrated_gradients(model, x, None, t, n_steps=40, path=path, threads=threads)
        assert torch.get_num_threads() == 1
    scale = np.abs(ref).max()
    for threads, attr in results.items():
        assert np.abs(attr - ref).max() <= 1e-4 * scale, threads
        np.testing.assert_allclose(attr, results[1], rtol=0, atol=1e-6 * scale)


def test_the_call_runs_with_the_chosen_count_and_restores_the_global_one(restore_threads, monkeypatch):
    monkeypatch.delenv("EXPRLAB_THREADS", raising=False)
    x, t = data(genes=400)
    model = Recording(400, 3).eval()
    torch.set_num_threads(3)
    integrated_gradients(model, x, None, t, n_steps=10, threads=2)
    assert set(model.seen) == {2} and torch.get_num_threads() == 3
    model.seen.clear()
    integrated_gradients(model, x, None, t, n_steps=10)  # 120 rows x 400 genes: small operations
    assert set(model.seen) == {1} and torch.get_num_threads() == 3
    model.seen.clear()
    monkeypatch.setenv("EXPRLAB_THREADS", "2")
    integrated_gradients(model, x, None, t, n_steps=10)
    assert set(model.seen) == {2} and torch.get_num_threads() == 3


def test_the_global_count_is_restored_when_the_call_fails(restore_threads):
    class Failing(nn.Module):
        def forward(self, x):
            raise RuntimeError("forward failed")

    torch.set_num_threads(3)
    with pytest.raises(RuntimeError, match="forward failed"):
        integrated_gradients(Failing(), np.ones((2, 5)), None, 0, n_steps=4, threads=1)
    assert torch.get_num_threads() == 3


def test_thread_count_rule_and_overrides(monkeypatch):
    monkeypatch.delenv("EXPRLAB_THREADS", raising=False)
    assert choose_threads(SMALL_OP - 1) == 1
    assert choose_threads(0) == 1
    assert choose_threads(10 * SMALL_OP) == min(usable_cores(), 10)
    assert choose_threads(SMALL_OP - 1, threads=5) == 5
    monkeypatch.setenv("EXPRLAB_THREADS", "7")
    assert choose_threads(1) == 7
    assert choose_threads(1, threads=2) == 2
    monkeypatch.setenv("EXPRLAB_THREADS", "zero")
    with pytest.raises(InvalidParameterError, match="EXPRLAB_THREADS"):
        choose_threads(1)
    with pytest.raises(InvalidParameterError):
        integrated_gradients(mlp(), np.ones((1, 2000)), None, 0, threads=0)
