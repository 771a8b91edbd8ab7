"""Metrics: retrieval metrics, splits, explanation metrics."""

from exprlab.evaluate._curves import retraining_curves
from exprlab.evaluate._explanations import (
    completeness_stats,
    correct_mask,
    feature_agreement,
    normalize_attributions,
    prediction_gaps,
    random_orders,
    topk_stability,
)
from exprlab.evaluate._retrieval import mean_average_precision
from exprlab.evaluate._splits import Fold

__all__ = [
    "Fold",
    "mean_average_precision",
    "completeness_stats",
    "correct_mask",
    "feature_agreement",
    "normalize_attributions",
    "prediction_gaps",
    "random_orders",
    "retraining_curves",
    "topk_stability",
]
from exprlab.evaluate._retrieval import (
    METRICS,
    bootstrap_summary,
    paired_tests,
    per_disease_metrics,
    ranking_metrics,
)
