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

import numpy as np
from scipy.special import roots_legendre

from exprlab.errors import InvalidParameterError

METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def check_method(method: str, n_steps: int) -> None:
    """Refuse unknown methods and step counts the method cannot use."""
    if method not in METHODS:
        raise InvalidParameterError(
            f"unknown quadrature method {method!r}", where="method", fix=f"choose one of {', '.join(METHODS)}"
        )
    minimum = 1 if method == "gausslegendre" else 2
    if not isinstance(n_steps, (int, np.integer)) or n_steps < minimum:
        raise InvalidParameterError(
            f"n_steps must be an integer >= {minimum} for {method}, got {n_steps!r}", where="n_steps"
        )


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


def quadrature(method: str = "gausslegendre", n_steps: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(alphas, weights) of ``method`` with ``n_steps`` nodes, float64, read-only and cached."""
    check_method(method, n_steps)
    return _nodes(method, int(n_steps))
