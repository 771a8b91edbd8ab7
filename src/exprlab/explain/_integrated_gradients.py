"""Integrated Gradients, exact and fast for models whose first operation is linear.

IG_i(x) = (x_i − x′_i) ∫_0^1 ∂f(x′ + α(x − x′))/∂x_i dα, approximated by a quadrature
Σ_k w_k (:mod:`exprlab.explain._quadrature`, rules as Captum defines them).

Two engines compute the same numbers:

* **after the first layer** (``path="exact"``): when the model starts with a linear map
  z = W x + c (dropout, which is the identity in eval mode, and the fixed gene diffusion are
  folded into W), the straight input path maps to the straight path z′ + α(z − z′), so
  IG(x) = (x − x′) ⊙ Wᵀ Σ_k w_k ∇_z g(z′ + α_k (z − z′)) with g the rest of the network. The
  quadrature runs on the small network g (20 units for the paper's MLP instead of 15,000 genes)
  in float64, and one product with W maps it back to genes.
* **generic** (``path="generic"``): any torch model, inputs interpolated and differentiated
  in chunks of (example, step) rows bounded by ``internal_batch_size`` or a memory budget.

``path="auto"`` (default) picks the exact engine when the model allows it. Models with
several inputs take a tuple of inputs (and baselines), as in Captum; a model can offer the
exact engine for them by defining ``split_first_linear()`` returning a :class:`FirstLinear`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd
import torch
from torch import nn

from exprlab._defaults import N_STEPS
from exprlab._progress import track
from exprlab._validation import check_choice, check_count
from exprlab.errors import InputDataError, InvalidParameterError, NonFiniteValueError
from exprlab.explain._baselines import resolve_baselines
from exprlab.explain._quadrature import Method, check_method, quadrature
from exprlab.explain._torch_threads import choose_threads
from exprlab.models import GraphDiffusion, check_finite, labels_of, torch_threads

Output = Literal["probability", "logit"]
IGPath = Literal["auto", "exact", "generic"]
OUTPUTS: tuple[Output, ...] = ("probability", "logit")
PATHS: tuple[IGPath, ...] = ("auto", "exact", "generic")
DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes of activations per chunk


@dataclass
class FirstLinear:
    """A model split after its first linear maps: z_j = x_j W_jᵀ + c_j, output = head(z_1, ...).

    The split lets Integrated Gradients integrate after the first layer, where the path is
    cheap, and map the gradients back exactly (docs/methods.md §3).

    Parameters
    ----------
    weights
        ``weights[j]`` is the (h_j, p_j) matrix of input j.
    biases
        ``biases[j]`` is the (h_j,) bias of input j.
    head
        Maps the z's to the model's output (logits or scores).
    """

    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    head: Callable[..., torch.Tensor]


def _leaves(module: nn.Module) -> list[nn.Module] | None:
    """The layers of a plain (possibly nested) Sequential, or None if it is not one."""
    if not isinstance(module, nn.Sequential) or type(module).forward is not nn.Sequential.forward:
        return None
    out: list[nn.Module] = []
    for child in module:
        inner = _leaves(child) if isinstance(child, nn.Sequential) else [child]
        if inner is None:
            return None
        out.extend(inner)
    return out


def split_first_linear(model: nn.Module) -> FirstLinear | None:
    """Split ``model`` after its first linear operation, or None when it does not start so.

    Leading dropout/identity layers are skipped (the model is evaluated in eval mode), fixed
    :class:`~exprlab.models.GraphDiffusion` layers are folded into the following
    ``nn.Linear``. A model may also define ``split_first_linear()`` itself.

    Parameters
    ----------
    model
        A torch module (plain or nested ``nn.Sequential``, or one with its own hook).

    Returns
    -------
    FirstLinear or None
        The split, or None when the exact after-first-layer path does not apply.
    """
    hook = getattr(model, "split_first_linear", None)
    if callable(hook):
        return hook()
    layers = _leaves(model)
    if not layers:
        return None
    folded: list[GraphDiffusion] = []
    for position, layer in enumerate(layers):
        if isinstance(layer, (nn.Dropout, nn.Identity)):
            continue
        if isinstance(layer, GraphDiffusion):
            folded.append(layer)
            continue
        if isinstance(layer, nn.Linear):
            weight = layer.weight.detach()
            for diffusion in reversed(folded):  # folded in float64, back to the layer's dtype
                weight = diffusion.fold_into(weight.double())
            weight = weight.to(layer.weight.dtype)
            bias = (
                layer.bias.detach()
                if layer.bias is not None
                else torch.zeros(weight.shape[0], dtype=weight.dtype)
            )
            return FirstLinear((weight,), (bias,), nn.Sequential(*layers[position + 1 :]))
        return None
    return None


# ---------------------------------------------------------------------------- helpers
def _module_of(model) -> nn.Module:
    module = getattr(model, "module_", model)
    if not isinstance(module, nn.Module):
        raise InvalidParameterError(
            f"the model is a {type(model).__name__}, not a torch module or a fitted ExpressionClassifier",
            where="model",
            fix="pass a torch.nn.Module or a fitted exprlab.models.ExpressionClassifier",
        )
    return module


def _as_inputs(model, inputs) -> tuple[tuple[torch.Tensor, ...], bool, list]:
    """Inputs as a tuple of (n, p_j) float tensors; AnnData goes through the estimator.

    Also returns, per input, what :func:`_check_finite_inputs` needs to name a bad value.
    """
    multi = isinstance(inputs, tuple)
    items = inputs if multi else (inputs,)
    tensors, labels = [], []
    for j, item in enumerate(items):
        where = "inputs" if not multi else f"inputs[{j}]"
        if hasattr(item, "obs") and hasattr(item, "var"):
            if not hasattr(model, "transform"):
                raise InvalidParameterError(
                    "AnnData inputs need an ExpressionClassifier (which knows the preprocessing)",
                    where=where,
                    fix="pass the estimator as the model, or pass preprocessed arrays",
                )
            values = torch.from_numpy(np.asarray(model.transform(item)))
        elif isinstance(item, torch.Tensor):
            values = item.detach().cpu()
        else:
            values = torch.from_numpy(np.asarray(item))
        if not values.is_floating_point():
            values = values.double()
        if values.ndim == 1:
            values = values.reshape(1, -1)
        if values.ndim != 2 or values.shape[0] == 0:
            raise InputDataError(
                f"inputs must be a non-empty (n, p) matrix, got shape {tuple(values.shape)}", where=where
            )
        tensors.append(values)
        labels.append((getattr(item, "obs_names", None), getattr(item, "var_names", None), where))
    if len({t.shape[0] for t in tensors}) != 1:
        raise InputDataError("the inputs have different numbers of examples", where="inputs")
    return tuple(tensors), multi, labels


def _check_finite_inputs(tensors, labels) -> None:
    """Raise :class:`NonFiniteValueError` naming the first NaN/infinite input value."""
    for values, (obs_names, var_names, where) in zip(tensors, labels):
        # one summation pass: a NaN or infinity makes the sum non-finite; then locate it
        if not bool(torch.isfinite(values.sum())):
            check_finite(values.numpy(), obs_names=obs_names, var_names=var_names, where=where)


def _select(raw: torch.Tensor, targets: torch.Tensor, output: str) -> torch.Tensor:
    """The explained scalar per row: softmax (or sigmoid for one output) or logit of target."""
    if raw.ndim == 1:
        raw = raw.unsqueeze(1)
    if output == "probability":
        if raw.shape[1] == 1:
            return torch.sigmoid(raw[:, 0])
        return torch.softmax(raw, dim=1).gather(1, targets.view(-1, 1)).squeeze(1)
    return raw.gather(1, targets.view(-1, 1)).squeeze(1)


def _resolve_targets(model, target, raw: torch.Tensor) -> np.ndarray:
    """Per-example output indices from None (predicted class), int, labels or an array."""
    n = raw.shape[0]
    n_out = 1 if raw.ndim == 1 else raw.shape[1]
    if target is None:
        return raw.argmax(dim=1).numpy() if raw.ndim == 2 and n_out > 1 else np.zeros(n, dtype=np.int64)
    values = target.detach().cpu().numpy() if isinstance(target, torch.Tensor) else target
    values = np.asarray(values, dtype=object).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, n)
    if values.size != n:
        raise InputDataError(
            f"{values.size} targets for {n} examples",
            where="target",
            fix="give one target, or one per example",
        )
    out = np.empty(n, dtype=np.int64)
    for i, value in enumerate(values):
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            out[i] = int(value)
        elif hasattr(model, "class_index"):
            out[i] = model.class_index(value)
        else:
            raise InvalidParameterError(
                f"target {value!r} is not an output index", where="target", fix="give integer output indices"
            )
    bad = (out < 0) | (out >= n_out)
    if bad.any():
        raise InvalidParameterError(
            f"target index {int(out[bad][0])} is out of range for a model with {n_out} "
            f"output{'s' if n_out > 1 else ''}",
            where="target",
            fix=f"use indices 0 to {n_out - 1}",
        )
    return out


def _rows_per_chunk(row_bytes: int, internal_batch_size: int | None, budget: int) -> int:
    if internal_batch_size is not None:
        return check_count(internal_batch_size, "internal_batch_size", minimum=1)
    return max(1, int(budget // max(row_bytes, 1)))


# ---------------------------------------------------------------------------- engines
class _Engine:
    """Path-gradient integrator shared by both engines: chunks of (example, step) rows."""

    dtype: torch.dtype
    row_bytes: int
    output: str
    width: int  # widest activation of one (example, step) row: sets the thread count

    def forward(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def finish(self, grads: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Map integrated gradients at the quadrature space back to input space."""
        return grads

    def sums(self, grads, deltas, attrs) -> torch.Tensor:
        """Σ_i IG_i per example (float64)."""
        return sum(a.sum(dim=1).double() for a in attrs)

    def prepare(self, xs, bs):
        """Path start (the baseline's image), path direction and input-space x − x′.

        Inputs and baselines arrive in any float dtype and are converted here once.
        """
        diffs = tuple(_difference(x, b, self.dtype) for x, b in zip(xs, bs))
        return tuple(b.to(self.dtype) for b in bs), diffs, diffs

    def integrate(
        self,
        starts,
        deltas,
        targets: torch.Tensor,
        alphas: np.ndarray,
        weights: np.ndarray,
        rows_per_chunk: int,
    ) -> tuple[torch.Tensor, ...]:
        """Σ_k w_k ∇ g(start + α_k · delta) per example, for each input.

        ``starts`` may hold one row (a baseline shared by every example). Work goes in blocks
        of whole examples × all steps when ``rows_per_chunk`` allows, else one example at a
        time over consecutive step ranges; each block is built by broadcasting (no gathers)
        and its gradients are contracted with the weights in one product.
        """
        n, m = deltas[0].shape[0], alphas.size
        alpha = torch.tensor(alphas, dtype=self.dtype)
        weight = torch.tensor(weights, dtype=self.dtype)
        totals = tuple(torch.zeros_like(d) for d in deltas)
        per_block = max(1, rows_per_chunk // m)
        step_chunk = m if rows_per_chunk >= m else rows_per_chunk
        with torch.enable_grad():
            for i0 in range(0, n, per_block):
                i1 = min(i0 + per_block, n)
                block_targets = targets[i0:i1]
                for k0 in range(0, m, step_chunk):
                    k1 = min(k0 + step_chunk, m)
                    a = alpha[k0:k1].view(1, -1, 1)
                    points = []
                    for s, d in zip(starts, deltas):
                        s_block = s if s.shape[0] == 1 else s[i0:i1]
                        point = torch.addcmul(s_block.unsqueeze(1), a, d[i0:i1].unsqueeze(1))
                        points.append(point.reshape((i1 - i0) * (k1 - k0), -1).requires_grad_(True))
                    rows_targets = block_targets.repeat_interleave(k1 - k0)
                    value = _select(self.forward(points), rows_targets, self.output)
                    grads = torch.autograd.grad(value.sum(), points)
                    w = weight[k0:k1]
                    for total, grad in zip(totals, grads):
                        g = grad.view(i1 - i0, k1 - k0, -1)
                        total[i0:i1] += torch.einsum("s,isp->ip", w, g)
        return totals


class _Generic(_Engine):
    def __init__(self, module: nn.Module, output: str, dims: Sequence[int]):
        self.module = module
        self.output = output
        param = next(iter(module.parameters()), None)
        self.dtype = param.dtype if param is not None else torch.float32
        item = torch.tensor([], dtype=self.dtype).element_size()
        self.row_bytes = 8 * item * int(sum(dims))
        self.width = int(sum(dims))

    def forward(self, xs):
        return self.module(*xs)


class _Exact(_Engine):
    """The quadrature in z-space; only two products touch the gene dimension.

    z − z′ = W (x − x′) before the quadrature and Wᵀ Σ_k w_k ∇_z g after it run in the
    precision of the model's weights (float32 for a float32 model, as the model itself and
    Captum compute); the path through the small network g runs in ``dtype`` (default: the
    same precision; float64 on request).
    """

    def __init__(self, split: FirstLinear, output: str, dtype: torch.dtype | None = None):
        self.output = output
        self.big_dtype = split.weights[0].dtype if split.weights[0].is_floating_point() else torch.float32
        self.dtype = dtype or self.big_dtype
        self.weights = tuple(w.detach().to(self.big_dtype) for w in split.weights)
        self.path_weights = tuple(w.detach().to(self.dtype) for w in split.weights)
        self.biases = tuple(b.detach().to(self.dtype) for b in split.biases)
        head = split.head
        if isinstance(head, nn.Module):
            dtypes = {p.dtype for p in (*head.parameters(), *head.buffers()) if p.is_floating_point()}
            if dtypes - {self.dtype}:  # a private copy in the path's dtype
                head = copy.deepcopy(head).to(self.dtype)
            head.eval()
        self.head = head
        widths = [w.shape[0] for w in self.weights]
        if isinstance(head, nn.Module):
            widths += [layer.out_features for layer in head.modules() if isinstance(layer, nn.Linear)]
        self.row_bytes = 8 * torch.tensor([], dtype=self.dtype).element_size() * int(sum(widths) + 1)
        self.width = int(max(widths))

    def prepare(self, xs, bs):
        """z′ = W x′ + c, z − z′ = W (x − x′), and x − x′ (in the weights' dtype)."""
        diffs = tuple(_difference(x, b, self.big_dtype) for x, b in zip(xs, bs))
        starts = tuple(b.to(self.dtype) @ w.T + c for b, w, c in zip(bs, self.path_weights, self.biases))
        deltas = tuple((d @ w.T).to(self.dtype) for d, w in zip(diffs, self.weights))
        return starts, deltas, diffs

    def forward(self, zs):
        return self.head(*zs)

    def finish(self, grads):
        return tuple(g.to(self.big_dtype) @ w for g, w in zip(grads, self.weights))

    def sums(self, grads, deltas, attrs) -> torch.Tensor:
        """Σ_i IG_i = Σ_i (x − x′)_i (Wᵀ G)_i = G · W (x − x′), computed in z-space (float64).

        No pass over the genes is needed.
        """
        return sum((g * d).sum(dim=1) for g, d in zip(grads, deltas))


def _difference(x: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """X − x′ in ``dtype``; a shared all-zero baseline costs no pass over the data."""
    x = x.to(dtype)
    if b.shape[0] == 1 and not bool(b.any()):
        return x
    return x - b.to(dtype)


# ---------------------------------------------------------------------------- driver
def _ends(starts, deltas):
    return tuple(s + d for s, d in zip(starts, deltas))


def _attribute(engine: _Engine, prepared, targets, method, n_steps, rows):
    """Attributions (tuple) and convergence deltas for one baseline, from ``prepare``'s output.

    A baseline with a single row is shared by every example (broadcast, never copied).
    """
    starts, deltas, diffs = prepared
    alphas, weights = quadrature(method, n_steps)
    n = deltas[0].shape[0]
    path_grads = engine.integrate(starts, deltas, targets, alphas, weights, rows)
    attrs = tuple(g.mul_(d) for g, d in zip(engine.finish(path_grads), diffs))
    with torch.no_grad():
        start_rows = tuple(s.expand(n, -1) if s.shape[0] == 1 else s for s in starts)
        gap = _select(engine.forward(_ends(starts, deltas)), targets, engine.output) - _select(
            engine.forward(start_rows), targets, engine.output
        )
    return attrs, engine.sums(path_grads, deltas, attrs) - gap.double()


def _subset(prepared, index):
    return tuple(tuple(t if t.shape[0] == 1 else t[index] for t in group) for group in prepared)


def _next_steps(steps: int, base: int, rule: str) -> int:
    return steps + base if rule == "paper" else 2 * steps


def integrated_gradients(
    model,
    inputs,
    baselines=None,
    target=None,
    n_steps: int = N_STEPS,
    method: Method = "gausslegendre",
    internal_batch_size: int | None = None,
    return_convergence_delta: bool = False,
    output: Output = "probability",
    *,
    path: IGPath = "auto",
    adaptive: bool | Literal["paper"] = False,
    tolerance: float | None = None,
    max_steps: int | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    return_steps: bool = False,
    precision: Literal["model", "float64"] = "model",
    threads: int | None = None,
):
    """Integrated Gradients attributions of ``model`` at ``inputs`` (docs/methods.md §3).

    Parameters
    ----------
    model
        A torch module returning logits (or one score per example), or a fitted
        :class:`~exprlab.models.ExpressionClassifier` (then AnnData inputs are preprocessed,
        and the baselines "mean" and "class:NAME" and class-name targets are available).
    inputs
        (n, p) array/tensor, an AnnData (estimator only), or a tuple of them for a model with
        several inputs.
    baselines
        See :func:`averaged`, :func:`mean_of`, :func:`class_mean` (None = zero; a list =
        averaged over the baselines).
    target
        Output index (int), one per example, class label(s) (estimator), or None for the
        predicted class.
    n_steps, method
        The quadrature (:func:`quadrature`).
    internal_batch_size
        (example, step) rows per forward/backward pass; by default as many as fit in
        ``memory_budget`` bytes.
    return_convergence_delta
        Also return Σ_i IG_i − (f(x) − f(x′)) per example.
    output
        "probability" (softmax of the target, as the paper; sigmoid for a single output) or
        "logit" (the raw output).
    path
        "auto" (exact after-first-layer engine when possible), "exact" or "generic".
    adaptive
        False; True to recompute examples whose |delta| exceeds ``tolerance`` with twice the
        steps until ``max_steps``; "paper" for the paper's rule (recompute when
        100·|delta| > 1, adding n_steps steps; applied per example, where the paper reruns the
        whole batch).
    tolerance
        |delta| above which an example is recomputed (default 1e-3; 0.01 for "paper").
    max_steps
        Most steps an adaptive recomputation may use (default 16 × n_steps).
    memory_budget
        Bytes of activations per chunk when ``internal_batch_size`` is not given.
    return_steps
        Also return the number of steps used per example.
    precision
        "model" (compute in the model's dtype, as Captum does) or "float64" (the exact path
        integrates through the network after the first layer in float64).
    threads
        Torch intra-op threads for this call (restored afterwards). Default: the environment
        variable ``EXPRLAB_THREADS`` if set, else chosen from the size of the operations (one
        thread for the small batched operations of the exact path, up to the cores for large
        chunks), because splitting small operations over threads makes them wait on each
        other, several times over on a busy machine.

    Returns
    -------
    attributions : numpy.ndarray or tuple of numpy.ndarray
        Of the inputs' shape (a tuple for tuple inputs), in the model's float dtype (float32
        for a float32 model, like the model's own computations).
    deltas : numpy.ndarray
        (n,) convergence deltas, if ``return_convergence_delta``.
    steps : numpy.ndarray
        (n,) steps used per example, if ``return_steps``.
    """
    # Long only by its documented options: the body is the driver, its steps are helpers below.
    # Over 80 lines only with its docstring (Captum's parameters, documented one by one); the body dispatches to the path helpers.
    _check_options(method, n_steps, output, precision, path, adaptive)
    check_count(threads, "threads", minimum=1, allow_none=True)  # type: ignore[arg-type]
    rule = "paper" if adaptive == "paper" else "double"
    tol = tolerance if tolerance is not None else (0.01 if rule == "paper" else 1e-3)
    cap = max_steps if max_steps is not None else 16 * n_steps
    module = _module_of(model)
    arrays, multi, labels = _as_inputs(model, inputs)
    expected = getattr(model, "n_features_in_", None)
    if not multi and expected is not None and arrays[0].shape[1] != expected:
        raise InputDataError(
            f"inputs have {arrays[0].shape[1]} features; the model expects {expected}",
            where="inputs",
            fix="pass data with the model's genes (an AnnData is aligned by gene name)",
        )
    resolved = resolve_baselines(baselines, arrays, model=model, multi_input=multi)

    was_training = module.training
    module.eval()
    try:
        engine = _make_engine(module, arrays, path, output, precision)
        rows = _rows_per_chunk(engine.row_bytes, internal_batch_size, memory_budget)
        pass_rows = min(rows, arrays[0].shape[0] * n_steps)  # (example, step) rows per pass
        with torch_threads(choose_threads(pass_rows * engine.width, threads)):
            if isinstance(engine, _Generic):
                _check_finite_inputs(arrays, labels)
            prepared = _prepare(engine, arrays, resolved[0], labels)
            with torch.no_grad():
                raw = engine.forward(_ends(*prepared[:2])).detach().cpu()
            targets = torch.as_tensor(_resolve_targets(model, target, raw))
            plan = _Plan(method, n_steps, rows, bool(adaptive), tol, cap, rule)
            sums, delta_sum, steps_max = _over_baselines(engine, arrays, resolved, prepared, targets, plan)
    finally:
        module.train(was_training)
    k = len(resolved)
    result = tuple((s / k if k > 1 else s).numpy() for s in sums)
    attributions = result if multi else result[0]
    extras: list[np.ndarray] = []
    if return_convergence_delta:
        extras.append(delta_sum / k)
    if return_steps:
        extras.append(steps_max)
    return (attributions, *extras) if extras else attributions


@dataclass(frozen=True)
class _Plan:
    """The quadrature and the adaptive rule of one :func:`integrated_gradients` call."""

    method: str
    n_steps: int
    rows: int
    adaptive: bool
    tol: float
    cap: int
    rule: str


def _over_baselines(engine: _Engine, arrays, resolved, prepared, targets, plan: _Plan):
    """Attributions summed over the baselines, summed deltas and the most steps per example."""
    n = arrays[0].shape[0]
    sums: list[torch.Tensor] = []
    delta_sum = np.zeros(n)
    steps_max = np.full(n, plan.n_steps, dtype=np.int64)
    for number, base in enumerate(resolved):
        if number:
            prepared = engine.prepare(arrays, tuple(torch.from_numpy(b) for b in base))
        attrs, delta_t = _attribute(engine, prepared, targets, plan.method, plan.n_steps, plan.rows)
        delta = delta_t.numpy().copy()
        steps = np.full(n, plan.n_steps, dtype=np.int64)
        if plan.adaptive:
            _refine(engine, prepared, targets, plan, attrs, delta, steps)
        if not sums:
            sums = list(attrs)
        else:
            for total, a in zip(sums, attrs):
                total += a
        delta_sum += delta
        steps_max = np.maximum(steps_max, steps)
        del prepared
    return sums, delta_sum, steps_max


def _check_options(method, n_steps, output, precision, path, adaptive) -> None:
    check_method(method, n_steps)
    check_choice(output, "output", OUTPUTS)
    check_choice(precision, "precision", ("model", "float64"))
    check_choice(path, "path", PATHS)
    check_choice(adaptive, "adaptive", (False, True, "paper"))


def _make_engine(module: nn.Module, arrays, path: str, output: str, precision: str) -> _Engine:
    """The exact after-first-layer engine when the model allows it (and ``path`` does), else generic."""
    split = split_first_linear(module) if path != "generic" else None
    if path == "exact" and split is None:
        raise InvalidParameterError(
            "the model does not start with a linear layer, so the exact path is not available",
            where="path",
            fix="use path='auto' or 'generic'",
        )
    if split is None:
        return _Generic(module, output, [a.shape[1] for a in arrays])
    return _Exact(split, output, torch.float64 if precision == "float64" else None)


def _prepare(engine: _Engine, arrays, baseline, labels):
    """The engine's path starts and deltas for the first baseline; an overflow is an error."""
    prepared = engine.prepare(arrays, tuple(torch.from_numpy(b) for b in baseline))
    if isinstance(engine, _Exact) and not all(
        bool(torch.isfinite(t).all()) for t in (*prepared[0], *prepared[1])
    ):
        # a NaN/infinity in x reaches W x: only then look for it in the inputs
        _check_finite_inputs(arrays, labels)
        raise NonFiniteValueError(
            "the first layer overflows on these inputs",
            where="inputs",
            fix="check the scale of the inputs",
        )
    return prepared


def _refine(engine: _Engine, prepared, targets, plan: _Plan, attrs, delta, steps) -> None:
    """Recompute, in place, the examples whose |delta| exceeds the tolerance with more steps."""
    current = plan.n_steps
    bad = np.flatnonzero(np.abs(delta) > plan.tol)
    while bad.size and _next_steps(current, plan.n_steps, plan.rule) <= plan.cap:
        current = _next_steps(current, plan.n_steps, plan.rule)
        index = torch.as_tensor(bad)
        sub = _subset(prepared, index)
        sub_a, sub_d = _attribute(engine, sub, targets[index], plan.method, current, plan.rows)
        for a, s in zip(attrs, sub_a):
            a[index] = s
        delta[bad] = sub_d.numpy()
        steps[bad] = current
        bad = bad[np.abs(delta[bad]) > plan.tol]


def attributions_anndata(
    model,
    adata,
    *,
    baselines="zero",
    target="predicted",
    n_steps: int = N_STEPS,
    method: Method = "gausslegendre",
    output: Output = "probability",
    chunk_size: int = 256,
    **options,
):
    """Integrated Gradients of an :class:`~exprlab.models.ExpressionClassifier` as an AnnData.

    What ``exprlab explain`` writes: attributions that keep the data's annotations.

    Parameters
    ----------
    model
        A fitted :class:`~exprlab.models.ExpressionClassifier`.
    adata
        Data to explain (genes matched by name).
    baselines
        As in :func:`integrated_gradients` (``"zero"``, ``"mean"``, ``"class:NAME"``, arrays).
    target
        "predicted" (each example's predicted class), "true" (the label column the model was
        trained on, read from ``adata.obs``) or a class name.
    n_steps, method
        The quadrature (:func:`quadrature`).
    output
        "probability" or "logit".
    chunk_size
        Examples per call, shown with a progress bar.
    **options
        Further keywords of :func:`integrated_gradients` (e.g. ``adaptive``).

    Returns
    -------
    anndata.AnnData
        X holds the attributions (float32); obs is the data's obs plus ``ig_target``,
        ``ig_prediction`` and ``ig_delta`` (the convergence delta); var is restricted to the
        model's genes in model order.
    """
    # Over 80 lines only with its docstring; the body is one loop over chunks and the assembly.
    if not hasattr(model, "transform"):
        raise InvalidParameterError("attributions_anndata needs a fitted ExpressionClassifier", where="model")
    inputs = model.transform(adata)
    module = model.module_.eval()
    with torch.no_grad():
        predicted = np.asarray(model.classes_)[module(torch.from_numpy(inputs)).argmax(1).numpy()]
    if target == "predicted":
        targets = predicted
    elif target == "true":
        targets = labels_of(adata, model.label_key_, where=f"obs[{model.label_key_!r}]")
    else:
        model.class_index(target)
        targets = np.repeat(np.asarray([target], dtype=object), adata.n_obs)
    index = np.asarray([model.class_index(t) for t in targets], dtype=np.int64)
    n = inputs.shape[0]
    spans = [(i, min(i + chunk_size, n)) for i in range(0, n, chunk_size)]
    attrs = np.empty(inputs.shape, dtype=np.float32)
    deltas = np.empty(n)
    shared = not (isinstance(baselines, np.ndarray) and baselines.ndim == 2 and baselines.shape[0] == n)
    for i0, i1 in track(spans, "integrated gradients"):
        base = baselines if shared else baselines[i0:i1]
        attrs[i0:i1], deltas[i0:i1] = integrated_gradients(
            model,
            inputs[i0:i1],
            base,
            index[i0:i1],
            n_steps=n_steps,
            method=method,
            output=output,
            return_convergence_delta=True,
            **options,
        )
    obs = adata.obs.copy()
    obs["ig_target"] = pd.Categorical(np.asarray(model.classes_)[index].astype(str))
    obs["ig_prediction"] = pd.Categorical(np.asarray(predicted).astype(str))
    obs["ig_delta"] = deltas
    var = adata.var.reindex(pd.Index(model.genes_)).copy()
    var.index = pd.Index(model.genes_).astype(str)
    return ad.AnnData(
        attrs,
        obs=obs,
        var=var,
        uns={
            "integrated_gradients": {
                "n_steps": int(n_steps),
                "method": method,
                "output": output,
                "baseline": str(baselines) if isinstance(baselines, str) else "array",
            }
        },
    )
