"""Integrated Gradients: closed form, completeness, Captum parity, engines, baselines, errors."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from captum.attr import IntegratedGradients
from captum.attr._utils.approximation_methods import approximation_parameters
from torch import nn

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError, NonFiniteValueError
from exprlab.explain import (
    METHODS,
    FirstLinear,
    averaged,
    integrated_gradients,
    quadrature,
    split_first_linear,
)
from exprlab.models import ExpressionClassifier, GraphDiffusion, build_module

P, C, N = 24, 4, 6


def randomise_batchnorm(model: nn.Module) -> nn.Module:
    """Non-trivial running statistics so BatchNorm (eval) is a real affine map."""
    gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.BatchNorm1d):
                layer.running_mean.copy_(torch.randn(layer.num_features, generator=gen))
                layer.running_var.copy_(torch.rand(layer.num_features, generator=gen) + 0.5)
                layer.weight.copy_(torch.randn(layer.num_features, generator=gen))
                layer.bias.copy_(torch.randn(layer.num_features, generator=gen))
    return model


def diffusion_layer() -> GraphDiffusion:
    rng = np.random.default_rng(2)
    a = sp.random(P, P, density=0.15, random_state=3, data_rvs=lambda k: rng.uniform(0.5, 1, k))
    a = sp.triu(a, 1)
    a = a + a.T + sp.identity(P)
    d = sp.diags(1 / np.sqrt(np.asarray(a.sum(axis=1)).ravel()))
    return GraphDiffusion(d @ a @ d)


def make_model(kind: str, dtype=torch.float64) -> nn.Module:
    torch.manual_seed(5)
    diffusion = diffusion_layer() if kind.startswith("diffuse") else None
    return randomise_batchnorm(build_module(kind, P, C, diffusion=diffusion)).to(dtype).eval()


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(N, P)) * 1.5)
    b = torch.tensor(rng.normal(size=(N, P)) * 0.5)
    t = torch.tensor([0, 1, 2, 3, 1, 2])
    return x, b, t


def captum_ig(model, x, b, t, n_steps, method, output="probability"):
    def forward(v):
        out = model(v)
        return torch.softmax(out, dim=1) if output == "probability" else out

    attr, delta = IntegratedGradients(forward).attribute(
        x, b, target=t, n_steps=n_steps, method=method, return_convergence_delta=True
    )
    return attr.detach().double().numpy(), delta.detach().double().numpy()


def assert_rel(a, b, rtol=1e-5):
    scale = np.abs(b).max()
    assert np.abs(a - b).max() <= rtol * scale, np.abs(a - b).max() / scale


# ---------------------------------------------------------------- quadrature
def test_quadrature_matches_captum_and_hand_values():
    for method in METHODS:
        for m in (2, 7, 50):
            sizes, alphas = (f(m) for f in approximation_parameters(method))
            a, w = quadrature(method, m)
            np.testing.assert_allclose(a, alphas, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(w, sizes, rtol=1e-11)
    a, w = quadrature("gausslegendre", 2)
    np.testing.assert_allclose(a, [0.5 - 0.5 / np.sqrt(3), 0.5 + 0.5 / np.sqrt(3)])
    np.testing.assert_allclose(w, [0.5, 0.5])
    a, w = quadrature("riemann_trapezoid", 5)
    np.testing.assert_allclose(a, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(w, [0.1, 0.2, 0.2, 0.2, 0.1])
    assert quadrature("gausslegendre", 50)[0] is quadrature("gausslegendre", 50)[0]  # cached
    with pytest.raises(InvalidParameterError, match="n_steps"):
        quadrature("riemann_left", 1)
    with pytest.raises(InvalidParameterError, match="unknown method"):
        quadrature("simpson", 10)


# ---------------------------------------------------------------- closed form
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["exact", "generic"])
def test_linear_model_logit_closed_form(batch, method, path):
    x, b, t = batch
    model = nn.Sequential(nn.Linear(P, C)).double()
    w = model[0].weight.detach().numpy()
    attr, delta = integrated_gradients(
        model, x, b, t, n_steps=9, method=method, path=path, output="logit", return_convergence_delta=True
    )
    mass = 1 - 1 / 9 if method == "riemann_trapezoid" else 1.0  # Σ weights
    expected = mass * (x.numpy() - b.numpy()) * w[t.numpy()]
    np.testing.assert_allclose(attr, expected, rtol=1e-12, atol=1e-12)
    if method != "riemann_trapezoid":
        np.testing.assert_allclose(delta, 0.0, atol=1e-12)


def test_completeness_of_probability_attributions(batch):
    x, b, t = batch
    model = make_model("mlp")
    attr, delta = integrated_gradients(model, x, b, t, n_steps=3000, return_convergence_delta=True)
    with torch.no_grad():
        p = torch.softmax(model(x), 1).numpy()[np.arange(N), t.numpy()]
        q = torch.softmax(model(b), 1).numpy()[np.arange(N), t.numpy()]
    np.testing.assert_allclose(attr.sum(axis=1), p - q, atol=2e-5)  # ReLU kinks: O(1/m²)
    np.testing.assert_allclose(delta, attr.sum(axis=1) - (p - q), atol=1e-12)


# ---------------------------------------------------------------- Captum parity
@pytest.mark.parametrize("kind", ["lr", "mlp", "diffuse_mlp"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["exact", "generic"])
def test_captum_parity(batch, kind, method, path):
    x, b, t = batch
    model = make_model(kind)
    ref, ref_delta = captum_ig(model, x, b, t, 16, method)
    attr, delta = integrated_gradients(
        model, x, b, t, n_steps=16, method=method, path=path, return_convergence_delta=True
    )
    assert_rel(attr, ref)
    np.testing.assert_allclose(delta, ref_delta, atol=1e-6)


@pytest.mark.parametrize("kind", ["lr", "mlp", "diffuse_mlp"])
def test_captum_parity_float32_model_and_logit(batch, kind):
    x, b, t = batch
    model = make_model(kind, dtype=torch.float32)
    ref, _ = captum_ig(model, x.float(), b.float(), t, 32, "gausslegendre", output="logit")
    attr = integrated_gradients(model, x.float(), b.float(), t, n_steps=32, output="logit")
    assert_rel(attr, ref, rtol=1e-5)


def test_float32_model_float64_path_agrees_with_a_float64_model(batch):
    x, b, t = batch
    reference = integrated_gradients(make_model("mlp"), x, b, t, n_steps=64)
    single = make_model("mlp", dtype=torch.float32)
    fast = integrated_gradients(single, x.float(), b.float(), t, n_steps=64)
    precise = integrated_gradients(single, x.float(), b.float(), t, n_steps=64, precision="float64")
    assert fast.dtype == np.float32
    assert_rel(precise, reference, rtol=1e-5)
    assert_rel(fast, reference, rtol=1e-4)


# ---------------------------------------------------------------- engines
def test_first_linear_split_and_diffusion_fold():
    model = make_model("diffuse_mlp")
    split = split_first_linear(model)
    assert split is not None
    d = torch.sparse.mm(model[0].matrix(torch.float64), torch.eye(P, dtype=torch.float64))
    torch.testing.assert_close(split.weights[0], model[1].weight @ d)
    assert split_first_linear(make_model("lr")) is not None  # dropout skipped
    conv = nn.Sequential(nn.Unflatten(1, (1, P)), nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(2 * (P - 2), C))
    assert split_first_linear(conv) is None
    with pytest.raises(InvalidParameterError, match="exact path"):
        integrated_gradients(conv, torch.zeros(2, P), path="exact")


@pytest.mark.slow
def test_chunking_does_not_change_results(batch):
    x, b, t = batch
    model = make_model("mlp")
    full = integrated_gradients(model, x, b, t, n_steps=20, path="generic")
    for rows in (1, 7, 19, 20, 45, 10_000):
        for path in ("exact", "generic"):
            chunked = integrated_gradients(model, x, b, t, n_steps=20, path=path, internal_batch_size=rows)
            np.testing.assert_allclose(chunked, full, rtol=1e-10, atol=1e-13)


def test_generic_path_on_a_convolution_first_model_matches_captum(batch):
    x, b, t = batch
    torch.manual_seed(0)
    conv = (
        nn.Sequential(
            nn.Unflatten(1, (1, P)), nn.Conv1d(1, 3, 5), nn.Tanh(), nn.Flatten(), nn.Linear(3 * (P - 4), C)
        )
        .double()
        .eval()
    )
    ref, _ = captum_ig(conv, x, b, t, 25, "gausslegendre")
    assert_rel(integrated_gradients(conv, x, b, t, n_steps=25, internal_batch_size=33), ref)


def test_target_none_explains_the_predicted_class(batch):
    x, b, _ = batch
    model = make_model("mlp")
    predicted = model(x).argmax(1)
    np.testing.assert_allclose(
        integrated_gradients(model, x, b), integrated_gradients(model, x, b, predicted), rtol=1e-12
    )


class TwoTower(nn.Module):
    """A two-input model (drug, disease) with a linear first layer per input."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.a, self.b = nn.Linear(P, 5), nn.Linear(P - 4, 5)
        self.out = nn.Linear(5, 1)

    def head(self, za, zb):
        return self.out(torch.tanh(za) * torch.sigmoid(zb))

    def forward(self, xa, xb):
        return self.head(self.a(xa), self.b(xb))


class TwoTowerSplit(TwoTower):
    def split_first_linear(self):
        return FirstLinear((self.a.weight, self.b.weight), (self.a.bias, self.b.bias), self.head)


def test_multi_input_models_both_paths_match_captum():
    rng = np.random.default_rng(4)
    xa, xb = torch.tensor(rng.normal(size=(5, P))), torch.tensor(rng.normal(size=(5, P - 4)))
    model = TwoTower().double()
    ref = IntegratedGradients(lambda u, v: torch.sigmoid(model(u, v))).attribute((xa, xb), n_steps=30)
    generic = integrated_gradients(model, (xa, xb), n_steps=30)
    exact = integrated_gradients(TwoTowerSplit().double(), (xa, xb), n_steps=30, path="exact")
    for ours in (generic, exact):
        assert isinstance(ours, tuple) and len(ours) == 2
        for a, r in zip(ours, ref):
            assert_rel(a, r.detach().numpy())


# ---------------------------------------------------------------- adaptive refinement
def test_adaptive_refinement_reaches_the_tolerance(batch):
    x, b, t = batch
    model = make_model("mlp")
    _, coarse = integrated_gradients(
        model, x, b * 4, t, n_steps=2, method="riemann_left", return_convergence_delta=True
    )
    assert np.abs(coarse).max() > 1e-3
    _, delta, steps = integrated_gradients(
        model,
        x,
        b * 4,
        t,
        n_steps=2,
        method="riemann_left",
        adaptive=True,
        tolerance=1e-3,
        max_steps=4096,
        return_convergence_delta=True,
        return_steps=True,
    )
    assert np.all(np.abs(delta) <= 1e-3)
    assert steps.max() > 2 and np.all(np.log2(steps) == np.round(np.log2(steps)))
    fine = integrated_gradients(model, x, b * 4, t, n_steps=int(steps[0]), method="riemann_left")
    first = integrated_gradients(
        model,
        x[:1],
        b[:1] * 4,
        t[:1],
        n_steps=2,
        method="riemann_left",
        adaptive=True,
        tolerance=1e-3,
        max_steps=4096,
    )
    np.testing.assert_allclose(first[0], fine[0], rtol=1e-10)
    _, delta, steps = integrated_gradients(
        model,
        x,
        b * 4,
        t,
        n_steps=3,
        method="riemann_left",
        adaptive="paper",
        return_convergence_delta=True,
        return_steps=True,
    )
    assert np.all(100 * np.abs(delta) <= 1)
    assert np.all(steps % 3 == 0)  # the paper adds n_steps at a time


# ---------------------------------------------------------------- baselines with the estimator
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, P))
    labels = np.repeat(["B", "T"], 30)
    x[labels == "T", :3] += 3
    data = ad.AnnData(
        x,
        obs=pd.DataFrame({"lineage": labels}, index=[f"s{i}" for i in range(60)]),
        var=pd.DataFrame(index=[f"G{j}" for j in range(P)]),
    )
    return data, ExpressionClassifier("mlp", seed=0, epochs=3).fit(data, "lineage")


def test_baselines_zero_mean_class_array_and_averaged(fitted):
    data, clf = fitted
    z = clf.transform(data)
    raw = np.asarray(data.X)
    mean, std = raw.mean(0), raw.std(0)
    t_mean = ((raw[data.obs["lineage"] == "T"] - mean) / std).mean(0)  # from scratch
    ig_class = integrated_gradients(clf, data[:5], "class:T", target="B")
    ig_array = integrated_gradients(clf, z[:5], t_mean, target=0)
    assert_rel(ig_class, ig_array, rtol=1e-5)
    ig_zero = integrated_gradients(clf, data[:5], None, target="B")
    assert_rel(integrated_gradients(clf, data[:5], "mean", target="B"), ig_zero, rtol=1e-5)
    assert_rel(integrated_gradients(clf, z[:5], np.zeros((5, P)), target=0), ig_zero)
    per_example = np.random.default_rng(0).normal(size=(5, P))
    ig_per = integrated_gradients(clf, z[:5], per_example, target=0)
    one = integrated_gradients(clf, z[:1], per_example[0], target=0)
    np.testing.assert_allclose(ig_per[:1], one, rtol=1e-5, atol=1e-9)
    avg, delta = integrated_gradients(
        clf, data[:5], averaged("zero", "class:T", per_example), target="B", return_convergence_delta=True
    )
    assert_rel(avg, (ig_zero + ig_class + ig_per) / 3)
    assert delta.shape == (5,)
    assert_rel(integrated_gradients(clf, data[:5], ["zero", "class:T"], target="B"), (ig_zero + ig_class) / 2)


# ---------------------------------------------------------------- bad input
def test_bad_inputs_are_refused(fitted, batch):
    data, clf = fitted
    x, b, t = batch
    model = make_model("mlp")
    with pytest.raises(InvalidParameterError, match="target index 4 is out of range.*4 outputs"):
        integrated_gradients(model, x, b, target=4)
    with pytest.raises(InvalidParameterError, match="target index -1"):
        integrated_gradients(model, x, b, target=[0, 1, 2, 3, -1, 0])
    with pytest.raises(InputDataError, match=r"baseline has shape \(3, 24\)"):
        integrated_gradients(model, x, np.zeros((3, P)))
    with pytest.raises(InputDataError, match=r"baseline has shape \(23,\)"):
        integrated_gradients(model, x, np.zeros(P - 1))
    nan = x.clone()
    nan[2, 3] = float("nan")
    with pytest.raises(NonFiniteValueError, match="row 2"):
        integrated_gradients(model, nan, b)
    with pytest.raises(NonFiniteValueError, match="baseline"):
        integrated_gradients(model, x, np.full(P, np.inf))
    with pytest.raises(NonFiniteValueError, match="row 2"):
        integrated_gradients(model, nan, b, path="generic")
    with pytest.raises(GeneSpaceError, match="G0"):
        integrated_gradients(clf, data[:, 1:], target="B")
    with pytest.raises(InvalidParameterError, match="class 'X' is not one"):
        integrated_gradients(clf, data[:3], "class:X")
    with pytest.raises(InvalidParameterError, match="only known for an ExpressionClassifier"):
        integrated_gradients(model, x, "mean")
    with pytest.raises(InvalidParameterError, match="unknown output"):
        integrated_gradients(model, x, output="softmax")
    with pytest.raises(InputDataError, match="expects 24"):
        integrated_gradients(clf, np.zeros((2, P + 1)))
