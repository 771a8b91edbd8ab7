"""Quadrature rules on [0, 1] for the Integrated Gradients path integral, cached.

The rules are defined as Captum defines them, so attributions agree number for number:

* ``gausslegendre``: Gauss–Legendre nodes t_k and weights v_k on [−1, 1], mapped to
  α_k = (1 + t_k) / 2 and w_k = v_k / 2 (ascending α). Captum takes them from numpy's
  ``leggauss`` (an O(m³) eigenproblem: seconds at m = 3,000); scipy's ``roots_legendre`` gives
  the same values (to ~1e-13) in O(m) for large m.
* ``riemann_left`` / ``riemann_right`` / ``riemann_middle``: m equal weights 1/m at α_k = k/m,
  (k + 1)/m or (k + ½)/m, k = 0 … m − 1.
* ``riemann_trapezoid``: α_k = k/(m − 1) with weights 1/m, the two end weights halved (Captum's
  rule; its weights sum to 1 − 1/m).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from scipy.special import roots_legendre

from exprlab._defaults import N_STEPS
from exprlab._validation import check_choice, check_count

Method = Literal["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"]
METHODS: tuple[Method, ...] = (
    "gausslegendre",
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
)


def check_method(method: str, n_steps: int) -> None:
    """Refuse unknown methods and step counts the method cannot use (the trapezoid needs two)."""
    check_choice(method, "method", METHODS)
    check_count(n_steps, "n_steps", minimum=1 if method == "gausslegendre" else 2)


@lru_cache(maxsize=64)
def _nodes(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    m = int(n_steps)
    if method == "gausslegendre":
        t, v = roots_legendre(m)
        alphas, weights = 0.5 * (1.0 + t), 0.5 * v
    else:
        weights = np.full(m, 1.0 / m)
        k = np.arange(m, dtype=np.float64)
        if method == "riemann_left":
            alphas = k / m
        elif method == "riemann_right":
            alphas = (k + 1.0) / m
        elif method == "riemann_middle":
            alphas = (k + 0.5) / m
        else:  # trapezoid
            alphas = k / (m - 1)
            weights[0] /= 2.0
            weights[-1] /= 2.0
    alphas.setflags(write=False)
    weights.setflags(write=False)
    return alphas, weights


def quadrature(method: Method = "gausslegendre", n_steps: int = N_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of an Integrated Gradients quadrature on [0, 1] (docs/methods.md §3).

    Parameters
    ----------
    method
        One of :data:`METHODS`: Gauss–Legendre or a Riemann rule.
    n_steps
        Number of nodes (at least 2 for the Riemann rules; default :data:`exprlab.explain.N_STEPS`).

    Returns
    -------
    alphas : numpy.ndarray
        (n_steps,) path positions, float64, read-only and cached.
    weights : numpy.ndarray
        (n_steps,) weights summing to one, float64, read-only and cached.
    """
    check_method(method, n_steps)
    return _nodes(method, int(n_steps))
