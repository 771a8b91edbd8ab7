"""Integrated Gradients baselines: zero, training mean, class mean, arrays, averages.

A baseline *spec* is one of

* ``None`` or ``"zero"``: the zero vector. After z-scoring this is also the training mean.
* ``"mean"``: the training mean of the model's inputs (needs an
  :class:`~exprlab.models.ExpressionClassifier`, or use :func:`mean_of` on reference data).
  The inputs are z-scored with the training mean, so this vector is zero and ``"mean"``
  equals ``"zero"``; a warning says so. A mean that differs from zero is defined in the raw
  expression space by :func:`raw_mean` (docs/methods.md §3).
* ``"class:NAME"``: the mean standardised training input of class NAME (estimator only).
* an array of shape (p,) (one baseline for every example) or (n, p) (one per example).
* a list of specs: several baselines, whose attributions are averaged
  (:func:`averaged` builds one explicitly).

For a model with several inputs (``inputs`` a tuple), ``baselines`` is a tuple with one spec
per input, or a single spec applied to every input, as in Captum.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from exprlab.errors import InputDataError, InvalidParameterError, NonFiniteValueError


class Averaged(list):
    """Several baselines whose attributions are averaged (a list of baseline specs)."""


def averaged(*specs) -> Averaged:
    """Baselines whose attributions are averaged: ``averaged("zero", "class:B", array)``.

    Averaging over several baselines (expected gradients in the limit) makes attributions less
    dependent on one arbitrary reference point.

    Parameters
    ----------
    *specs
        Baseline specs as :func:`integrated_gradients` accepts them: ``"zero"``, ``"mean"``,
        ``"class:NAME"``, a vector or a per-example array.

    Returns
    -------
    Averaged
        A list of the specs that :func:`integrated_gradients` averages over.
    """
    if not specs:
        raise InvalidParameterError("averaged() needs at least one baseline", where="baselines")
    return Averaged(specs)


def mean_of(reference) -> np.ndarray:
    """The mean input vector of a reference matrix (n, p): a "training mean" baseline.

    Parameters
    ----------
    reference
        (n, p) reference inputs, n >= 1 (typically the training inputs).

    Returns
    -------
    numpy.ndarray
        (p,) column means, float64.
    """
    values = np.asarray(reference, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise InputDataError(
            f"a reference matrix (n, p) with n >= 1 is needed, got shape {values.shape}", where="baselines"
        )
    return values.mean(axis=0)


def raw_mean(model, reference) -> np.ndarray:
    """The mean of raw reference expression, mapped into the model's input space: a baseline.

    The mean is taken before any preprocessing (in the units of the data, before log2 and
    z-score) and then preprocessed as the model preprocesses a sample. It differs from the
    zero vector when the model log-transforms (the log of the mean is not the mean of the
    logs) or when the reference is not the model's training set (the model standardises with
    a different mean); for the model's own training set without log2 it is zero, and a
    warning says that it coincides with ``"zero"`` (docs/methods.md §3).

    Parameters
    ----------
    model
        A fitted :class:`~exprlab.models.ExpressionClassifier`.
    reference
        Raw reference expression: an AnnData (genes matched by name) or an (n, p) array in the
        model's training gene order, n >= 1.

    Returns
    -------
    numpy.ndarray
        (p,) baseline in the model's input space, float64.
    """
    if not hasattr(model, "transform"):
        raise InvalidParameterError(
            "a raw-space mean needs the model's preprocessing",
            where="baselines",
            fix="pass a fitted ExpressionClassifier",
        )
    if hasattr(reference, "obs") and hasattr(reference, "var"):
        values = model.preprocessor_.align(reference, layer=model.layer, where="reference")
    else:
        values = np.asarray(reference, dtype=np.float64)
    mean = mean_of(values).reshape(1, -1)
    vector = np.asarray(model.transform(mean), dtype=np.float64).reshape(-1)
    if np.allclose(vector, 0.0, atol=1e-6):
        warnings.warn(
            "the raw-space mean baseline is the model's own standardisation mean: it equals the "
            "zero baseline",
            stacklevel=2,
        )
    return vector


def class_mean(reference, labels, name) -> np.ndarray:
    """The mean input vector of the reference rows labelled ``name``: a class baseline.

    Parameters
    ----------
    reference
        (n, p) reference inputs.
    labels
        The class of each reference row.
    name
        The class whose mean is the baseline (compared as text).

    Returns
    -------
    numpy.ndarray
        (p,) mean of the rows of that class, float64.
    """
    values = np.asarray(reference, dtype=np.float64)
    mask = np.asarray(labels).astype(str) == str(name)
    if not mask.any():
        raise InvalidParameterError(
            f"no reference example has class {name!r}",
            where="baselines",
            fix="name a class present in the labels",
        )
    return values[mask].mean(axis=0)


def _as_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


def _one(spec, x: np.ndarray | torch.Tensor, model, index: int) -> np.ndarray:
    """One baseline for one input ``x`` (n, p): shape (1, p) when shared, else (n, p)."""
    where = "baselines" if index == 0 else f"baselines[{index}]"
    n, p = x.shape
    if spec is None or (isinstance(spec, str) and spec == "zero"):
        return np.zeros((1, p))
    if isinstance(spec, str):
        if spec == "mean" or spec.startswith("class:"):
            if model is None or not hasattr(model, "class_means_"):
                raise InvalidParameterError(
                    f"baseline {spec!r} needs the training data: it is only known for an "
                    "ExpressionClassifier",
                    where=where,
                    fix="pass the ExpressionClassifier as the model, or an array baseline "
                    "(e.g. exprlab.explain.mean_of(training_inputs))",
                )
            vector = (
                model.input_mean_
                if spec == "mean"
                else model.class_means_[model.class_index(spec[len("class:") :])]
            )
            if spec == "mean" and np.allclose(vector, 0.0, atol=1e-6):
                warnings.warn(
                    "baseline 'mean' is the training mean of the z-scored inputs, which is zero: "
                    "it equals 'zero' (exprlab.explain.raw_mean gives a mean in raw expression units)",
                    stacklevel=4,
                )
            return np.asarray(vector, dtype=np.float64).reshape(1, p).copy()
        raise InvalidParameterError(
            f"unknown baseline {spec!r}",
            where=where,
            fix="use 'zero', 'mean', 'class:NAME', an array or a list",
        )
    values = _as_numpy(spec)
    if not np.isfinite(values).all():
        raise NonFiniteValueError(
            "the baseline has NaN or infinite values", where=where, fix="give finite baseline values"
        )
    if values.ndim == 0:
        return np.full((1, p), float(values))
    if values.shape == (p,) or values.shape == (1, p):
        return values.reshape(1, p).copy()
    if values.shape == (n, p):
        return values.copy()
    raise InputDataError(
        f"the baseline has shape {values.shape}; the inputs have shape {(n, p)}",
        where=where,
        fix=f"give one baseline of shape ({p},) or one per example, shape ({n}, {p})",
    )


def resolve_baselines(
    baselines, inputs: Sequence[np.ndarray | torch.Tensor], *, model=None, multi_input: bool = False
) -> list[tuple[np.ndarray, ...]]:
    """Expand a baseline spec to a list (averaged) of tuples (one per input) of arrays.

    Each array is (1, p) for a baseline shared by all examples or (n, p) per example.
    """
    specs = list(baselines) if isinstance(baselines, list) else [baselines]
    if not specs:
        raise InvalidParameterError(
            "an empty list of baselines",
            where="baselines",
            fix="give at least one baseline, or None for zero",
        )
    resolved = []
    for spec in specs:
        if multi_input and isinstance(spec, tuple):
            if len(spec) != len(inputs):
                raise InputDataError(
                    f"{len(spec)} baselines for {len(inputs)} inputs",
                    where="baselines",
                    fix="give one baseline per input",
                )
            per_input = spec
        else:
            per_input = (spec,) * len(inputs)
        resolved.append(tuple(_one(s, x, model, i) for i, (s, x) in enumerate(zip(per_input, inputs))))
    return resolved
