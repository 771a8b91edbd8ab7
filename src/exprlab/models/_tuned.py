"""Tuned training: cross-validated regularisation for the linear models, early stopping for the rest.

docs/methods.md §3 ("Tuned training"). The paper's schedule (:mod:`exprlab.models._training`)
trains every model with the same SGD settings; on real cohorts with p ≫ n and unequal classes
this under-fits or diverges. Here:

* linear models (``lr``, ``diffuse_lr``) are fitted by scikit-learn's
  :class:`~sklearn.linear_model.LogisticRegressionCV`: the inverse penalty C (and, for the
  elastic net, the L1 ratio) is chosen by inner stratified K-fold cross-validation on the
  training samples, with class weights; the fitted coefficients are then loaded into the torch
  module so that Integrated Gradients and everything downstream run on the same torch model.
  With the L2 penalty and more genes than samples the fit runs on the samples' coordinates in
  the row space of X (a thin SVD, X = U S Vᵀ): the penalised optimum w lies in that space
  (w = V β), X w = (U S) β and ‖w‖ = ‖β‖, so fitting on U S and mapping back gives the same
  coefficients at a fraction of the cost.
* the other models are trained with Adam on a seeded stratified inner split, keeping the
  weights of the epoch with the lowest validation loss (early stopping).
"""

from __future__ import annotations

import copy
import warnings
from typing import Literal

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from exprlab._progress import track

Penalty = Literal["l2", "elasticnet"]
PENALTIES: tuple[Penalty, ...] = ("l2", "elasticnet")
ClassWeight = Literal["balanced", "none"]
CLASS_WEIGHTS: tuple[ClassWeight, ...] = ("balanced", "none")
#: candidate inverse penalties C (log-spaced, scikit-learn's default grid)
C_GRID = np.logspace(-4, 4, 10)
#: candidate L1 ratios of the elastic net
L1_RATIOS = (0.1, 0.5, 0.9)
#: learning rate of the Adam optimiser of early-stopping training
ADAM_LR = 1e-2


def inner_folds_for(y: np.ndarray, inner_folds: int) -> int:
    """The inner fold count: at most ``inner_folds``, at most the smallest class size, at least 2.

    Parameters
    ----------
    y
        Class indices of the training samples.
    inner_folds
        The requested number of folds.

    Returns
    -------
    int
        The number of folds used.
    """
    return max(2, min(int(inner_folds), int(np.bincount(y).min())))


def fit_linear_cv(
    x: np.ndarray,
    y: np.ndarray,
    *,
    penalty: Penalty = "l2",
    class_weight: ClassWeight = "balanced",
    inner_folds: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Fit a logistic regression whose penalty is chosen by inner stratified cross-validation.

    Parameters
    ----------
    x
        Standardised training inputs (n, p).
    y
        Class indices 0..C-1.
    penalty
        ``l2`` or ``elasticnet`` (L1 ratio chosen among :data:`L1_RATIOS`).
    class_weight
        ``balanced`` (weights inversely proportional to class frequency) or ``none``.
    inner_folds
        Folds of the inner cross-validation (capped by the smallest class).
    seed
        Seed of the inner folds and of the solver.

    Returns
    -------
    tuple
        (coef (C, p), intercept (C,), info) where the logits are ``x @ coef.T + intercept``
        (a binary model gets two symmetric logits) and info records C, l1_ratio and folds.
    """
    from sklearn.exceptions import ConvergenceWarning  # deferred: scikit-learn is heavy
    from sklearn.linear_model import LogisticRegressionCV  # deferred: scikit-learn is heavy
    from sklearn.model_selection import StratifiedKFold  # deferred: scikit-learn is heavy

    folds = inner_folds_for(y, inner_folds)
    x = np.asarray(x, dtype=np.float64)
    basis = None
    if penalty == "l2" and x.shape[1] > x.shape[0]:
        _, s, vt = np.linalg.svd(x, full_matrices=False)
        keep = s > s[0] * 1e-10
        basis = vt[keep]  # (r, p): the row space of x
        features = x @ basis.T
    else:
        features = x
    model = LogisticRegressionCV(
        Cs=C_GRID,
        l1_ratios=(0.0,) if penalty == "l2" else L1_RATIOS,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        solver="lbfgs" if penalty == "l2" else "saga",
        scoring="balanced_accuracy",
        class_weight="balanced" if class_weight == "balanced" else None,
        max_iter=5000,
        random_state=seed,
        use_legacy_attributes=False,
    )
    # the fits are small (n x min(n, p)); BLAS threads only contend with each other here
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)  # large C on separable folds
        model.fit(features, y)
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if basis is not None:
        coef = coef @ basis
    if coef.shape[0] == 1:  # binary: logit(class 1) - logit(class 0) = w·x + b
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    info = {
        "C": float(np.ravel(model.C_)[0]),
        "l1_ratio": float(np.ravel(model.l1_ratio_)[0]),
        "inner_folds": folds,
        "row_space_fit": basis is not None,
    }
    return coef, intercept, info


def load_linear(linear: nn.Linear, coef: np.ndarray, intercept: np.ndarray) -> None:
    """Copy fitted coefficients into a torch Linear layer (in place).

    Parameters
    ----------
    linear
        The layer, of shape (C, p).
    coef, intercept
        Coefficients (C, p) and intercepts (C,).
    """
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(coef, dtype=linear.weight.dtype))
        linear.bias.copy_(torch.as_tensor(intercept, dtype=linear.bias.dtype))


def class_weights(y: np.ndarray, n_classes: int, rule: ClassWeight) -> np.ndarray:
    """Per-class loss weights: n / (C · n_c) for ``balanced`` (scikit-learn's rule), else ones.

    Parameters
    ----------
    y
        Class indices.
    n_classes
        Number of classes C.
    rule
        ``balanced`` or ``none``.

    Returns
    -------
    numpy.ndarray
        One weight per class.
    """
    if rule == "none":
        return np.ones(n_classes)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    return y.size / (n_classes * np.maximum(counts, 1.0))


def train_early_stopping(
    module: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    class_weight: ClassWeight = "balanced",
    validation_fraction: float = 0.2,
    max_epochs: int = 200,
    patience: int = 20,
    batch_size: int = 32,
    seed: int = 0,
) -> tuple[list[float], dict]:
    """Train with Adam, stopping on the validation loss of a seeded stratified inner split.

    Parameters
    ----------
    module
        The torch module, trained in place and left in eval mode with the best weights.
    x, y
        Standardised inputs and class indices.
    class_weight
        ``balanced`` or ``none`` (weights of the cross-entropy).
    validation_fraction
        Fraction of the training samples held out for the stopping rule.
    max_epochs, patience
        At most this many epochs; stop after ``patience`` epochs without improvement.
    batch_size
        Mini-batch size.
    seed
        Seed of the split, the batch order, the initial dropout draws.

    Returns
    -------
    tuple
        (training loss per epoch, info with best_epoch and best validation loss).
    """
    from sklearn.model_selection import train_test_split  # deferred: scikit-learn is heavy

    n_classes = int(y.max()) + 1
    fit_idx, val_idx = train_test_split(
        np.arange(y.size), test_size=validation_fraction, stratify=y, random_state=seed
    )
    weights = torch.as_tensor(class_weights(y[fit_idx], n_classes, class_weight), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    inputs = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
    targets = torch.as_tensor(y, dtype=torch.long)
    optimiser = torch.optim.Adam(module.parameters(), lr=ADAM_LR, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    history: list[float] = []
    best = (np.inf, 0, copy.deepcopy(module.state_dict()))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for epoch in track(range(max_epochs), "training (early stopping)"):
            module.train()
            total = 0.0
            order = fit_idx[rng.permutation(fit_idx.size)]
            for start in range(0, order.size, batch_size):
                batch = torch.from_numpy(order[start : start + batch_size])
                if batch.numel() < 2:  # BatchNorm cannot normalise one example
                    continue
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(module(inputs[batch]), targets[batch])
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * batch.numel()
            history.append(total / fit_idx.size)
            module.eval()
            with torch.no_grad():
                val = float(loss_fn(module(inputs[val_idx]), targets[val_idx]))
            if val < best[0] - 1e-6:
                best = (val, epoch, copy.deepcopy(module.state_dict()))
            elif epoch - best[1] >= patience:
                break
    module.load_state_dict(best[2])
    module.eval()
    return history, {"best_epoch": best[1] + 1, "validation_loss": best[0], "n_validation": int(val_idx.size)}
