"""Torch models: phenotype classifiers and drug-disease matchers."""

from exprlab.models._classifiers import (
    MLP,
    MODEL_KINDS,
    DeepMLP,
    DiffuseLR,
    DiffuseMLP,
    ExpressionClassifier,
    LogisticRegression,
    build_module,
)
from exprlab.models._diffusion import GraphDiffusion, diffusion_matrix
from exprlab.models._preprocess import Preprocessor

__all__ = [
    "MLP",
    "MODEL_KINDS",
    "DeepMLP",
    "DiffuseLR",
    "DiffuseMLP",
    "ExpressionClassifier",
    "GraphDiffusion",
    "LogisticRegression",
    "Preprocessor",
    "build_module",
    "diffusion_matrix",
]
from exprlab.models._matchers import PaperMatcher, ReversalTwoTower, SeedEnsemble  # noqa: F401
