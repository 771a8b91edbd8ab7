"""The probabilities behind prediction gaps, computed with a torch classifier.

:func:`exprlab.evaluate.prediction_gaps` needs f_y, the softmax probability of the target class,
after features are replaced by a baseline cumulatively, ``gap`` at a time (docs/methods.md §3).
That costs p / gap forward passes per example and order (1,500 for 15,000 genes). When the model
starts with a linear map z ↦ W z + c (every exprlab classifier does, the fixed diffusion and
dropout folded in, :func:`~exprlab.explain.split_first_linear`), replacing a block of features
changes the first layer's output by W[:, block] (b − z)[block]; the cumulative first-layer outputs
of all steps are one cumulative sum, and only the small rest of the network runs on them. Any
other torch model runs through a batched generic path (all steps of an example in one forward).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from exprlab._validation import check_count
from exprlab.errors import InputDataError
from exprlab.explain._integrated_gradients import split_first_linear

__all__ = ["PredictionGapModel"]


class PredictionGapModel:
    """The softmax probability of the target class after cumulative replacement by a baseline.

    ``curves(z, y, orders)`` returns, for every example, f_y at each of the ``ceil(p / gap)``
    replacement steps; when the module starts with a linear layer the steps are computed in
    first-layer space (exact; each step costs gap × hidden operations there instead of a
    p × hidden first-layer product). Pass it to :func:`exprlab.evaluate.prediction_gaps`.

    Parameters
    ----------
    module
        Torch module mapping (standardised) inputs to logits; it is put in eval mode.
    baseline
        (p,) replacement values (zeros: the training mean after z-scoring).
    gap
        Features replaced per step (the paper's 10).
    batch_size
        Examples per forward batch.
    dtype
        Precision of the computation (default: the module's own).
    """

    def __init__(
        self,
        module: nn.Module,
        baseline: np.ndarray,
        *,
        gap: int = 10,
        batch_size: int = 128,
        dtype: torch.dtype | None = None,
    ):
        self.gap = check_count(gap, "gap", minimum=1)
        self.module = module.eval()
        self.batch_size = max(1, int(batch_size))
        if dtype is None:  # compute in the module's own precision
            first = next(iter(module.parameters()), None)
            dtype = first.dtype if first is not None else torch.float32
        self.dtype = dtype
        self.baseline = torch.as_tensor(np.asarray(baseline, dtype=np.float64), dtype=dtype)
        split = split_first_linear(module)
        self.linear_path = split is not None and len(split.weights) == 1
        if split is not None and self.linear_path:
            self.W = split.weights[0].to(dtype)
            self.c = split.biases[0].to(dtype)
            self.WT = np.ascontiguousarray(self.W.T.numpy())
            self.rest = split.head
            if isinstance(self.rest, nn.Module):
                self.rest.eval()

    @property
    def path(self) -> str:
        """``"first-linear"`` when the fast path applies, else ``"generic"``."""
        return "first-linear" if self.linear_path else "generic"

    def _check(self, z: np.ndarray) -> None:
        p = np.asarray(z).shape[1]
        if tuple(self.baseline.shape) != (p,):
            raise InputDataError(
                f"baseline has shape {tuple(self.baseline.shape)}, expected ({p},)",
                where="baseline",
                fix="pass one value per feature",
            )

    def _prob(self, hidden_or_input: torch.Tensor, y: torch.Tensor, *, after_first: bool):
        net = self.rest if after_first else self.module
        with torch.no_grad():
            logits = net(hidden_or_input)
            logp = torch.log_softmax(logits, dim=-1).gather(-1, y[:, None])[:, 0]
        return torch.exp(logp.double())

    def full(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """f_y at the unmodified inputs.

        Parameters
        ----------
        z
            (n, p) inputs.
        y
            Target index of each example.

        Returns
        -------
        numpy.ndarray
            (n,) probabilities.
        """
        self._check(z)
        zt = torch.as_tensor(z, dtype=self.dtype)
        return self._prob(zt, torch.as_tensor(y, dtype=torch.long), after_first=False).numpy()

    def curves(self, z: np.ndarray, y: np.ndarray, orders: np.ndarray) -> np.ndarray:
        """f_y after each cumulative replacement step.

        Parameters
        ----------
        z
            (n, p) inputs.
        y
            Target index of each example.
        orders
            (p,) one replacement order for all examples, or (n, p) one per example.

        Returns
        -------
        numpy.ndarray
            (n, ceil(p / gap)) probabilities.
        """
        self._check(z)
        z = np.asarray(z)
        n, p = z.shape
        orders = np.asarray(orders)
        shared = orders.ndim == 1
        n_steps = -(-p // self.gap)
        out = np.empty((n, n_steps))
        yt_all = torch.as_tensor(np.asarray(y), dtype=torch.long)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            zt = torch.as_tensor(z[start:stop], dtype=self.dtype)
            order = torch.as_tensor(orders if shared else orders[start:stop], dtype=torch.long)
            yt = yt_all[start:stop]
            if self.linear_path:
                out[start:stop] = self._linear_steps(zt, yt, order, n_steps)
            else:
                out[start:stop] = self._generic_steps(zt, yt, order, n_steps, shared)
        return out

    def _linear_steps(
        self, zt: torch.Tensor, yt: torch.Tensor, order: torch.Tensor, n_steps: int
    ) -> np.ndarray:
        """All steps of a batch in first-layer space: one sparse product and a cumulative sum."""
        m, p = zt.shape
        h0 = zt @ self.W.T + self.c  # (m, H)
        delta = (self.baseline[None, :] - zt).numpy()  # (m, p)
        order_np = np.broadcast_to(order.numpy(), (m, p))
        # one sparse row per (example, step) holding that step's features and their
        # changes; times Wᵀ gives each step's change of the first layer's output
        values = np.take_along_axis(delta, order_np, axis=1).ravel()
        bounds = np.minimum(np.arange(n_steps) * self.gap, p)
        indptr = np.append((np.arange(m)[:, None] * p + bounds[None, :]).ravel(), m * p)
        jumps = sp.csr_matrix((values, order_np.ravel(), indptr), shape=(m * n_steps, p))
        steps = torch.from_numpy(np.asarray(jumps @ self.WT)).reshape(m, n_steps, -1)
        hidden = h0[:, None, :] + torch.cumsum(steps, dim=1)
        probs = self._prob(hidden.reshape(m * n_steps, -1), yt.repeat_interleave(n_steps), after_first=True)
        return probs.reshape(m, n_steps).numpy()

    def _generic_steps(
        self, zt: torch.Tensor, yt: torch.Tensor, order: torch.Tensor, n_steps: int, shared: bool
    ) -> np.ndarray:
        """All steps of each example of a batch in one forward of the whole module."""
        m, p = zt.shape
        out = np.empty((m, n_steps))
        for i in range(m):
            o = order if shared else order[i]
            step_of = torch.empty(p, dtype=torch.long)
            step_of[o] = torch.arange(p) // self.gap
            # x̃_k keeps feature j while its step index is ≥ k (steps are 1-based)
            keep = step_of[None, :] >= torch.arange(1, n_steps + 1)[:, None]
            xs = torch.where(keep, zt[i][None, :], self.baseline[None, :])
            out[i] = self._prob(xs, yt[i].repeat(n_steps), after_first=False).numpy()
        return out
