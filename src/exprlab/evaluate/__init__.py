"""Metrics: retrieval metrics, splits, explanation metrics."""

from exprlab.evaluate.explanations import (
    completeness_stats,
    correct_mask,
    feature_agreement,
    normalize_attributions,
    prediction_gaps,
    random_orders,
    topk_stability,
)
from exprlab.evaluate.curves import retraining_curves

__all__ = [
    "completeness_stats",
    "correct_mask",
    "feature_agreement",
    "normalize_attributions",
    "prediction_gaps",
    "random_orders",
    "retraining_curves",
    "topk_stability",
]
from exprlab.evaluate.retrieval import METRICS, bootstrap_summary, paired_tests, per_disease_metrics, ranking_metrics  # noqa: E402,F401,E501
