"""Attributions: Integrated Gradients and gene-to-pathway aggregation."""

from exprlab.explain._baselines import averaged, class_mean, mean_of
from exprlab.explain._integrated_gradients import (
    FirstLinear,
    attributions_anndata,
    integrated_gradients,
    split_first_linear,
)
from exprlab.explain._prediction_gaps import PredictionGapModel
from exprlab.explain._quadrature import METHODS, quadrature

__all__ = [
    "METHODS",
    "FirstLinear",
    "PredictionGapModel",
    "attributions_anndata",
    "averaged",
    "class_mean",
    "integrated_gradients",
    "mean_of",
    "quadrature",
    "split_first_linear",
]
from exprlab.explain._match import MatchExplanation, MatchModel, explain_match, load_match_model  # noqa: F401
