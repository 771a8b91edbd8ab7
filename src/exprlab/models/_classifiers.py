"""Phenotype classifiers on gene expression and their scikit-learn-like estimator.

The torch modules follow docs/methods.md §3 (arXiv:2303.11336):

* ``lr``: Dropout(0.2) → Linear(p, C)
* ``mlp``: Linear(p, 20) → BatchNorm1d → ReLU → Linear(20, C)
* ``diffuse_lr`` / ``diffuse_mlp``: the fixed gene-correlation diffusion
  (:class:`exprlab.models.GraphDiffusion`) in front of the same models
* ``deep_mlp``: a configurable stack of Linear → BatchNorm1d → ReLU → Dropout blocks.

Every module is an ``nn.Sequential`` that maps standardised inputs to logits and starts with
a linear operation, which lets :func:`exprlab.explain.integrated_gradients` run its exact
after-first-layer path. :class:`ExpressionClassifier` wraps preprocessing (log2(x + 1), an
optional ComBat-style batch correction, z-score with training statistics), training (tuned:
cross-validated regularisation or early stopping; or the paper's schedule), prediction,
balanced accuracy and saving/loading of a model directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from exprlab._atomic import atomic_dir
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.errors import ExprlabError, FileAccessError, FormatError, InputDataError, InvalidParameterError
from exprlab.models._combat import BatchCorrection
from exprlab.models._diffusion import GraphDiffusion
from exprlab.models._preprocess import Preprocessor, check_finite, dense_matrix, log2p1
from exprlab.models._training import TrainingSchedule, seed_int, train_classifier
from exprlab.models._tuned import (
    CLASS_WEIGHTS,
    PENALTIES,
    ClassWeight,
    Penalty,
    class_weights,
    fit_linear_cv,
    load_linear,
    train_early_stopping,
)
from exprlab.signatures import diffusion_matrix

ClassifierArch = Literal["lr", "mlp", "diffuse_lr", "diffuse_mlp", "deep_mlp"]
MODEL_KINDS: tuple[ClassifierArch, ...] = ("lr", "mlp", "diffuse_lr", "diffuse_mlp", "deep_mlp")
Training = Literal["tuned", "paper"]
TRAININGS: tuple[Training, ...] = ("tuned", "paper")
BatchCorrect = Literal["none", "combat"]
BATCH_CORRECTIONS: tuple[BatchCorrect, ...] = ("none", "combat")
#: the most epochs of tuned (early-stopping) training when ``epochs`` is not given
TUNED_MAX_EPOCHS = 200
_FORMAT_VERSION = 1


class LogisticRegression(nn.Sequential):
    """Dropout → Linear(p, C): multinomial logistic regression on logits (docs/methods.md §3).

    Parameters
    ----------
    n_features
        Number of input genes p.
    n_classes
        Number of classes C (output logits).
    dropout
        Dropout rate on the inputs (the paper: 0.2).
    """

    def __init__(self, n_features: int, n_classes: int, *, dropout: float = 0.2):
        super().__init__(nn.Dropout(dropout), nn.Linear(n_features, n_classes))


class MLP(nn.Sequential):
    """Linear(p, h) → BatchNorm1d(h) → ReLU → Linear(h, C), the paper's MLP (docs/methods.md §3).

    Parameters
    ----------
    n_features
        Number of input genes p.
    n_classes
        Number of classes C (output logits).
    hidden
        Hidden width h (the paper: 20).
    """

    def __init__(self, n_features: int, n_classes: int, *, hidden: int = 20):
        super().__init__(
            nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )


class DeepMLP(nn.Sequential):
    """A deeper MLP: per hidden width, Linear → BatchNorm1d → ReLU → Dropout; then Linear(·, C).

    Parameters
    ----------
    n_features
        Number of input genes p.
    n_classes
        Number of classes C (output logits).
    hidden
        Widths of the hidden blocks, first to last.
    dropout
        Dropout rate after each hidden block (0: none).
    batch_norm
        Put a BatchNorm1d after each hidden Linear.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        hidden: Sequence[int] = (256, 64),
        dropout: float = 0.2,
        batch_norm: bool = True,
    ):
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers.append(nn.Linear(width, int(size)))
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(size)))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = int(size)
        layers.append(nn.Linear(width, n_classes))
        super().__init__(*layers)


class DiffuseLR(nn.Sequential):
    """Graph diffusion D x → Dropout → Linear(p, C) (docs/methods.md §3).

    Parameters
    ----------
    diffusion
        The fixed gene-correlation diffusion applied first.
    n_classes
        Number of classes C (output logits).
    dropout
        Dropout rate on the diffused inputs.
    """

    def __init__(self, diffusion: GraphDiffusion, n_classes: int, *, dropout: float = 0.2):
        super().__init__(diffusion, nn.Dropout(dropout), nn.Linear(diffusion.n_features, n_classes))


class DiffuseMLP(nn.Sequential):
    """Graph diffusion D x → the paper's MLP (docs/methods.md §3).

    Parameters
    ----------
    diffusion
        The fixed gene-correlation diffusion applied first.
    n_classes
        Number of classes C (output logits).
    hidden
        Hidden width of the MLP.
    """

    def __init__(self, diffusion: GraphDiffusion, n_classes: int, *, hidden: int = 20):
        super().__init__(diffusion, *MLP(diffusion.n_features, n_classes, hidden=hidden))


def normalize_arch(arch: str) -> str:
    """The snake_case spelling of an architecture name (``diffuse-lr`` → ``diffuse_lr``).

    Model folders written before the names were made snake_case store the hyphenated name.
    """
    return arch.replace("-", "_")


def build_module(
    arch: ClassifierArch,
    n_features: int,
    n_classes: int,
    *,
    hidden=None,
    dropout=None,
    diffusion: GraphDiffusion | None = None,
) -> nn.Sequential:
    """Instantiate the torch module of one architecture (weights from torch's current RNG).

    Parameters
    ----------
    arch
        Architecture name, one of :data:`MODEL_KINDS`.
    n_features
        Number of input genes.
    n_classes
        Number of classes (output logits).
    hidden
        Hidden width (``mlp``, ``diffuse_mlp``; default 20) or widths (``deep_mlp``; default
        (256, 64)); ignored by the linear models.
    dropout
        Dropout rate (``lr``, ``diffuse_lr``, ``deep_mlp``; default 0.2).
    diffusion
        The diffusion of the ``diffuse_*`` architectures; default an identity-initialised
        :class:`GraphDiffusion` whose matrix is then loaded from saved weights.

    Returns
    -------
    torch.nn.Sequential
        The untrained module, mapping standardised inputs to logits.
    """
    check_choice(arch, "arch", MODEL_KINDS)
    if arch == "lr":
        return LogisticRegression(n_features, n_classes, dropout=0.2 if dropout is None else dropout)
    if arch == "mlp":
        return MLP(n_features, n_classes, hidden=20 if hidden is None else int(hidden))
    if arch == "deep_mlp":
        return DeepMLP(
            n_features,
            n_classes,
            hidden=(256, 64) if hidden is None else hidden,
            dropout=0.2 if dropout is None else dropout,
        )
    diffusion = diffusion if diffusion is not None else GraphDiffusion(n_features=n_features)
    if arch == "diffuse_lr":
        return DiffuseLR(diffusion, n_classes, dropout=0.2 if dropout is None else dropout)
    return DiffuseMLP(diffusion, n_classes, hidden=20 if hidden is None else int(hidden))


def labels_of(adata, label: str, *, where: str = "data") -> np.ndarray:
    """The class labels in ``adata.obs[label]`` as an array; a missing column or label is an error.

    Parameters
    ----------
    adata
        Data whose obs holds the labels.
    label
        obs column holding the class labels.
    where
        What the error message names as the place of a problem.

    Returns
    -------
    numpy.ndarray
        One label per sample (categories as plain objects).
    """
    check_obs_column(adata, label, "label", where=where)
    series = adata.obs[label]
    missing = series.isna().to_numpy()
    if missing.any():
        names = adata.obs_names[missing][:5].tolist()
        raise InputDataError(
            f"{int(missing.sum())} samples have no label in {label!r}, e.g. {names}",
            where=where,
            fix="drop the unlabelled samples or fill in their labels",
        )
    values = (
        series.astype(object).to_numpy()
        if isinstance(series.dtype, pd.CategoricalDtype)
        else series.to_numpy()
    )
    return values


def check_obs_column(adata, column: str, role: str, *, where: str = "data") -> None:
    """Refuse a missing obs column, listing the columns that exist.

    Parameters
    ----------
    adata
        Data whose obs should hold the column.
    column
        The column name.
    role
        What the column holds, for the message (``label``, ``group``, ``batch``).
    where
        What the error names as the place of the problem.
    """
    if column not in adata.obs.columns:
        raise InputDataError(
            f"{role} column {column!r} is absent (obs columns: "
            f"{', '.join(map(str, adata.obs.columns)) or 'none'})",
            where=where,
            fix=f"name the obs column that holds the {role} of each sample",
        )


def check_class_sizes(labels, label: str, *, minimum: int = 2, why: str = "") -> None:
    """Refuse labels with one class, or a class with fewer than ``minimum`` samples (named).

    Parameters
    ----------
    labels
        One label per sample.
    label
        The obs column they come from (for the message).
    minimum
        Fewest samples a class may have.
    why
        What needs that many samples, appended to the message.
    """
    counts = pd.Series(np.asarray(labels).astype(str)).value_counts()
    if counts.size < 2:
        raise InputDataError(
            f"the labels in {label!r} have a single class ({counts.index[0]!r}); a classifier "
            "needs at least two",
            where=f"obs[{label!r}]",
            fix="train on data that contains samples of at least two classes",
        )
    small = counts[counts < minimum]
    if small.size:
        named = ", ".join(f"{c!r} ({n})" for c, n in small.items())
        raise InputDataError(
            f"classes with fewer than {minimum} samples in {label!r}: {named}{why}",
            where=f"obs[{label!r}]",
            fix="drop or merge the small classes (or collect more samples of them)",
        )


def _python(value):
    """A JSON-safe Python scalar for a class label."""
    return value.item() if isinstance(value, np.generic) else value


class ExpressionClassifier:
    """A phenotype classifier on an AnnData of expression (obs = samples, var = genes).

    Wraps preprocessing, training (docs/methods.md §3), prediction, balanced accuracy and
    saving/loading of a model folder, in the manner of a scikit-learn estimator. The options
    mirror those of ``exprlab train``.

    Parameters
    ----------
    arch
        Architecture: ``lr``, ``mlp``, ``diffuse_lr``, ``diffuse_mlp`` or ``deep_mlp``.
    seed
        Integer or numpy Generator; the same seed gives the same weights and predictions.
    log2
        Apply log2(x + 1) before the z-score (for counts).
    hidden
        Hidden width (``mlp``, ``diffuse_mlp``; default 20) or widths (``deep_mlp``; default
        (256, 64)).
    dropout
        Dropout rate (``lr``, ``diffuse_lr``, ``deep_mlp``; default 0.2).
    diffusion_threshold
        Correlation threshold of the diffusion graph.
    epochs
        Training epochs: the paper schedule's count (default 25), or the most epochs of tuned
        early-stopping training (default 200); unused by tuned linear models.
    batch_size, lr, momentum, weight_decay, milestones, gamma
        The paper's schedule (32, 0.1, 0.9, 1e-4, (12, 22), 0.1); ``training="paper"`` only.
    layer
        Use ``adata.layers[layer]`` instead of ``X``.
    training
        ``tuned`` (default): linear models get their penalty chosen by inner stratified
        cross-validation (scikit-learn), the others early stopping on a seeded inner validation
        split; ``paper``: the explanation paper's SGD schedule (used by ``xai-study``).
    penalty
        ``l2`` or ``elasticnet``: the penalty of tuned linear models.
    class_weight
        ``balanced`` (loss weights inversely proportional to class frequency) or ``none``.
    inner_folds
        Folds of the inner cross-validation of tuned linear models.
    validation_fraction
        Inner validation fraction of tuned early stopping.
    patience
        Epochs without validation improvement before tuned early stopping ends.
    batch
        obs column naming each sample's batch (needed with ``batch_correct="combat"``).
    batch_correct
        ``none`` or ``combat``: a ComBat-style correction fitted on the training samples and
        applied to every later sample with the training estimates (docs/methods.md §3).

    Attributes
    ----------
    module_ : torch.nn.Sequential
        The torch module (eval mode) mapping standardised inputs to logits.
    classes_ : numpy.ndarray
        Class labels, index i ↔ logit i.
    preprocessor_ : Preprocessor
        The learnt preprocessing.
    class_means_ : numpy.ndarray
        (C, p) per-class means of the standardised training inputs (baselines).
    input_mean_ : numpy.ndarray
        (p,) mean of the standardised training inputs (0 up to rounding).
    genes_ : pandas.Index
        The training genes, in input order.
    history_ : list of float
        Mean training loss per epoch (empty for tuned linear models).
    tuning_ : dict
        What tuned training chose (C, l1_ratio, folds, or the early-stopping epoch).
    correction_ : BatchCorrection or None
        The fitted batch correction.
    """

    def __init__(
        self,
        arch: ClassifierArch = "lr",
        seed=0,
        *,
        log2: bool = False,
        hidden=None,
        dropout: float | None = None,
        diffusion_threshold: float = 0.5,
        epochs: int | None = None,
        batch_size: int = 32,
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 1e-4,
        milestones: Sequence[int] = (12, 22),
        gamma: float = 0.1,
        layer: str | None = None,
        training: Training = "tuned",
        penalty: Penalty = "l2",
        class_weight: ClassWeight = "balanced",
        inner_folds: int = 5,
        validation_fraction: float = 0.2,
        patience: int = 20,
        batch: str | None = None,
        batch_correct: BatchCorrect = "none",
    ):
        self.arch = check_choice(arch, "arch", MODEL_KINDS)
        self.seed = seed
        self.log2 = log2
        self.hidden = hidden
        self.dropout = dropout
        self.diffusion_threshold = diffusion_threshold
        self.training = check_choice(training, "training", TRAININGS)
        self.epochs = epochs
        self.schedule = TrainingSchedule(
            25 if epochs is None else epochs, batch_size, lr, momentum, weight_decay, tuple(milestones), gamma
        )
        self.layer = layer
        self.penalty = check_choice(penalty, "penalty", PENALTIES)
        self.class_weight = check_choice(class_weight, "class_weight", CLASS_WEIGHTS)
        self.inner_folds = check_count(inner_folds, "inner_folds", minimum=2)
        self.validation_fraction = check_fraction(
            validation_fraction, "validation_fraction", closed="neither"
        )
        self.patience = check_count(patience, "patience", minimum=1)
        self.batch = batch
        self.batch_correct = check_choice(batch_correct, "batch_correct", BATCH_CORRECTIONS)
        if self.batch_correct != "none" and batch is None:
            raise InvalidParameterError(
                "a batch correction needs the batch of each sample",
                where="batch_correct",
                fix="name the obs column of the batches (batch=..., --batch COL)",
            )

    # ------------------------------------------------------------------ fitting
    def fit(self, adata, label: str) -> ExpressionClassifier:
        """Learn preprocessing and weights from ``adata`` labelled by ``adata.obs[label]``.

        Parameters
        ----------
        adata
            Training data (obs = samples, var = genes).
        label
            obs column holding the class labels.

        Returns
        -------
        ExpressionClassifier
            ``self``, fitted.
        """
        labels = labels_of(adata, label, where=f"obs[{label!r}]")
        check_class_sizes(labels, label, minimum=2 if self.training == "tuned" else 1)
        classes = pd.unique(pd.Series(labels))
        classes = np.asarray(sorted(classes, key=lambda v: (str(type(v)), v)), dtype=object)
        raw = dense_matrix(adata, layer=self.layer, where="training data")
        genes = np.asarray(adata.var_names).astype(str)
        self.correction_ = None
        if self.batch_correct == "combat":
            logged = log2p1(raw, where="training data") if self.log2 else raw
            batches = self._batches_of(adata)
            self.correction_ = BatchCorrection.fit(logged, batches, where=f"obs[{self.batch!r}]")
            corrected = self.correction_.transform(logged, batches)
            self.preprocessor_ = Preprocessor.fit(corrected, genes, where="training data")
            x = self.preprocessor_.transform_values(corrected).astype(np.float32)
        else:
            self.preprocessor_ = Preprocessor.fit(raw, genes, log2=self.log2, where="training data")
            x = self.preprocessor_.transform_values(raw).astype(np.float32)
        index = {c: i for i, c in enumerate(classes)}
        y = np.fromiter((index[v] for v in labels), dtype=np.int64, count=len(labels))
        self.module_ = self._train_module(x, y, classes.size, seed_int(self.seed))
        self.classes_ = classes
        self.label_key_ = label
        self.genes_ = self.preprocessor_.genes
        self.n_features_in_ = x.shape[1]
        self.class_means_ = np.stack([x[y == i].mean(axis=0) for i in range(classes.size)])
        self.input_mean_ = x.astype(np.float64).mean(axis=0)
        return self

    def _train_module(self, x: np.ndarray, y: np.ndarray, n_classes: int, seed: int) -> nn.Sequential:
        """Build the module and train it as ``training`` says; records history_ and tuning_."""
        diffusion = None
        if self.arch.startswith("diffuse"):
            diffusion = GraphDiffusion(diffusion_matrix(x, threshold=self.diffusion_threshold))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = build_module(
                self.arch,
                x.shape[1],
                n_classes,
                hidden=self.hidden,
                dropout=self.dropout,
                diffusion=diffusion,
            )
        self.tuning_: dict = {"training": self.training}
        if self.training == "paper":
            weights = None if self.class_weight == "none" else class_weights(y, n_classes, self.class_weight)
            self.history_ = train_classifier(
                module,
                x,
                y,
                schedule=self.schedule,
                seed=seed,
                description=f"training {self.arch}",
                class_weights=weights,
            )
        elif self.arch in ("lr", "diffuse_lr"):
            features = x
            if diffusion is not None:
                with torch.no_grad():
                    features = diffusion(torch.from_numpy(x)).numpy()
            coef, intercept, info = fit_linear_cv(
                features,
                y,
                penalty=self.penalty,
                class_weight=self.class_weight,
                inner_folds=self.inner_folds,
                seed=seed,
            )
            linear = module[-1]
            assert isinstance(linear, nn.Linear)  # the linear models end in their Linear layer
            load_linear(linear, coef, intercept)
            self.history_ = []
            self.tuning_.update(info)
        else:
            self.history_, info = train_early_stopping(
                module,
                x,
                y,
                class_weight=self.class_weight,
                validation_fraction=self.validation_fraction,
                max_epochs=TUNED_MAX_EPOCHS if self.epochs is None else self.epochs,
                patience=self.patience,
                seed=seed,
            )
            self.tuning_.update(info)
        module.eval()
        return module

    def _batches_of(self, adata) -> np.ndarray:
        """The batch of each sample of ``adata`` (obs column ``batch``), as text."""
        column = str(self.batch)
        check_obs_column(adata, column, "batch", where="data")
        values = adata.obs[column]
        if values.isna().any():
            raise InputDataError(
                f"{int(values.isna().sum())} samples have no batch in {column!r}",
                where=f"obs[{column!r}]",
                fix="fill in the batch of every sample",
            )
        return values.astype(str).to_numpy()

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise InputDataError(
                "the classifier is not fitted",
                where="ExpressionClassifier",
                fix="call fit(adata, label) or load a saved model first",
            )

    # ------------------------------------------------------------------ using
    def transform(self, adata) -> np.ndarray:
        """Preprocessed (standardised) inputs of ``adata`` in training gene order, float32.

        A numpy array is taken as raw values already in the training gene order.
        """
        self._check_fitted()
        if isinstance(adata, np.ndarray):
            values = np.asarray(adata, dtype=np.float64)
            if values.ndim != 2 or values.shape[1] != self.n_features_in_:
                raise InputDataError(
                    f"the array has shape {values.shape}; the model expects (n, {self.n_features_in_})",
                    where="inputs",
                    fix="pass an AnnData (genes matched by name) or an array in training order",
                )
            check_finite(values, where="inputs")
            if getattr(self, "correction_", None) is not None:
                raise InputDataError(
                    f"the model corrects batches ({self.batch!r}) and an array carries no batch",
                    where="inputs",
                    fix=f"pass an AnnData whose obs holds the {self.batch!r} column",
                )
        else:
            values = self.preprocessor_.align(adata, layer=self.layer, where="data")
            correction = getattr(self, "correction_", None)
            if correction is not None:
                if self.batch not in adata.obs.columns:
                    raise InputDataError(
                        f"the model was trained with a batch correction on {self.batch!r}, which the "
                        f"data lacks (obs columns: {', '.join(map(str, adata.obs.columns)) or 'none'})",
                        where="data",
                        fix=f"add the {self.batch!r} column (the batch of each sample) to the data",
                    )
                logged = log2p1(values, where="data") if self.log2 else values
                values = correction.transform(logged, self._batches_of(adata), where="data")
        return self.preprocessor_.transform_values(values, where="data").astype(np.float32)

    def decision_function(self, adata) -> np.ndarray:
        """Logits (n, C)."""
        x = torch.from_numpy(self.transform(adata))
        self.module_.eval()
        with torch.no_grad():
            return self.module_(x).double().numpy()

    def predict_proba(self, adata) -> np.ndarray:
        """Class probabilities (n, C), columns in the order of ``classes_``."""
        logits = self.decision_function(adata)
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        return prob / prob.sum(axis=1, keepdims=True)

    def predict(self, adata) -> np.ndarray:
        """Predicted class labels."""
        self._check_fitted()
        return self.classes_[np.argmax(self.decision_function(adata), axis=1)]

    def score(self, adata, label: str | None = None) -> float:
        """Balanced accuracy on ``adata`` labelled by ``obs[label]`` (default: fit's column)."""
        from sklearn.metrics import balanced_accuracy_score  # scikit-learn loads only when scoring

        key = label or self.label_key_
        truth = labels_of(adata, key, where=f"obs[{key!r}]")
        return float(balanced_accuracy_score(truth.astype(str), self.predict(adata).astype(str)))

    def class_index(self, label) -> int:
        """The logit index of a class label (labels compared as given, then as text)."""
        self._check_fitted()
        for i, c in enumerate(self.classes_):
            if c == label or str(c) == str(label):
                return i
        raise InvalidParameterError(
            f"class {label!r} is not one of the model's classes ({', '.join(map(str, self.classes_))})",
            where="class",
            fix="name one of the classes the model was trained on",
        )

    # ------------------------------------------------------------------ saving
    def save(self, path) -> Path:
        """Write a model directory (weights, preprocessing, metadata), atomically."""
        self._check_fitted()
        target = Path(path)
        meta = {
            "format": "exprlab-classifier",
            "version": _FORMAT_VERSION,
            "model": self.arch,
            "seed": seed_int(self.seed) if not isinstance(self.seed, np.random.Generator) else None,
            "log2": self.log2,
            "hidden": self.hidden,
            "dropout": self.dropout,
            "diffusion_threshold": self.diffusion_threshold,
            "schedule": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self.schedule).items()},
            "layer": self.layer,
            "epochs": self.epochs,
            "training": self.training,
            "penalty": self.penalty,
            "class_weight": self.class_weight,
            "inner_folds": self.inner_folds,
            "validation_fraction": self.validation_fraction,
            "patience": self.patience,
            "batch": self.batch,
            "batch_correct": self.batch_correct,
            "tuning": getattr(self, "tuning_", {}),
            "label_key": self.label_key_,
            "classes": [_python(c) for c in self.classes_],
            "n_features": self.n_features_in_,
            "history": self.history_,
        }
        with atomic_dir(target) as tmp:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o777 & ~mask)  # a normal folder, not the private temporary one
            torch.save(self.module_.state_dict(), tmp / "weights.pt")
            arrays: dict[str, Any] = {
                "class_means": self.class_means_,
                "input_mean": self.input_mean_,
                **self.preprocessor_.to_arrays(),
            }
            if self.correction_ is not None:
                arrays.update(self.correction_.to_arrays())
            np.savez(tmp / "preprocess.npz", **arrays)
            (tmp / "metadata.json").write_text(json.dumps(meta, indent=2))
        return target

    @classmethod
    def load(cls, path) -> ExpressionClassifier:
        """Read a model directory written by :meth:`save`.

        A folder that is not a model, or whose files are truncated or edited, is refused with a
        one-line :class:`~exprlab.errors.FormatError` naming the damaged file.
        """
        root = Path(path)
        if not root.is_dir():
            raise FileAccessError(
                "not an exprlab model directory (no such folder)"
                if not root.exists()
                else "is a file, not a model directory",
                where=root,
                fix="pass a folder written by `exprlab train`",
            )
        files = [root / "metadata.json", root / "weights.pt", root / "preprocess.npz"]
        for file in files:
            if not file.is_file():
                raise FileAccessError(
                    f"{file.name} is missing: not an exprlab model directory",
                    where=root,
                    fix="pass a folder written by `exprlab train`",
                )
        try:
            meta = json.loads(files[0].read_text())
        except (ValueError, UnicodeDecodeError):
            raise _damaged(files[0]) from None
        if not isinstance(meta, dict) or meta.get("format") != "exprlab-classifier":
            raise FormatError(
                "metadata.json does not describe an exprlab classifier",
                where=files[0],
                fix="pass a folder written by `exprlab train`",
            )
        try:
            return cls._from_files(meta, files)
        except ExprlabError:
            raise
        except Exception as err:  # numpy, torch and the JSON fields raise many kinds for a damaged file
            raise _damaged(root, f"{type(err).__name__}: {' '.join(str(err).split())[:200]}") from None

    @classmethod
    def _from_files(cls, meta: dict, files: list[Path]) -> ExpressionClassifier:
        """Rebuild the estimator from its metadata, arrays and weights (the body of :meth:`load`)."""
        sched = dict(meta["schedule"])
        sched["epochs"] = meta.get("epochs", sched.get("epochs"))
        options = {key: meta[key] for key in _TRAINING_KEYS if key in meta}
        if "training" not in meta:  # written before tuned training existed: the paper's schedule
            options.update(training="paper", class_weight="none")
        est = cls(
            normalize_arch(meta["model"]),  # type: ignore[arg-type]
            seed=meta["seed"] or 0,
            log2=meta["log2"],
            hidden=meta["hidden"],
            dropout=meta["dropout"],
            diffusion_threshold=meta["diffusion_threshold"],
            layer=meta["layer"],
            **options,
            **sched,
        )
        est.tuning_ = meta.get("tuning", {"training": meta.get("training", "paper")})
        try:
            arrays = np.load(files[2], allow_pickle=False)
            est.preprocessor_ = Preprocessor.from_arrays(arrays)
            est.class_means_ = np.asarray(arrays["class_means"])
            est.input_mean_ = np.asarray(arrays["input_mean"])
            has_correction = "combat_levels" in arrays.files
            est.correction_ = BatchCorrection.from_arrays(arrays) if has_correction else None
        except Exception as err:  # a truncated or foreign .npz
            raise _damaged(files[2], type(err).__name__) from None
        est.classes_ = np.asarray(meta["classes"], dtype=object)
        est.label_key_ = meta["label_key"]
        est.genes_ = est.preprocessor_.genes
        est.n_features_in_ = int(meta["n_features"])
        est.history_ = meta.get("history", [])
        module = build_module(
            est.arch, est.n_features_in_, len(est.classes_), hidden=est.hidden, dropout=est.dropout
        )
        try:
            module.load_state_dict(torch.load(files[1], weights_only=True))
        except Exception as err:  # a truncated weights file or weights of another model
            raise _damaged(files[1], type(err).__name__) from None
        module.eval()
        est.module_ = module
        return est

    def __repr__(self) -> str:
        return f"ExpressionClassifier(arch={self.arch!r}, seed={self.seed!r})"


#: metadata keys of the training options, passed back to the constructor on loading
_TRAINING_KEYS = (
    "training",
    "penalty",
    "class_weight",
    "inner_folds",
    "validation_fraction",
    "patience",
    "batch",
    "batch_correct",
)


def _damaged(path: Path, detail: str | None = None) -> FormatError:
    """The error for a model file exprlab cannot read back: damaged, truncated or foreign."""
    reason = f" ({detail})" if detail else ""
    return FormatError(
        f"the model file is damaged or not exprlab's{reason}",
        where=path,
        fix="re-run `exprlab train` to write the model again",
    )
