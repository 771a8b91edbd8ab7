"""Pure metrics, statistics and splits: retrieval, explanation quality, grouped folds.

Everything here needs only numpy, scipy and scikit-learn, so models and workflows can use it.
Retrieval metrics and splits follow docs/methods.md §2, explanation metrics docs/methods.md §3.
"""

from exprlab.evaluate._confounding import CRAMERS_V_WARNING, batch_predictability, label_batch_association
from exprlab.evaluate._explanations import (
    FeatureAgreement,
    GapModel,
    completeness_stats,
    correct_mask,
    feature_agreement,
    ground_truth_indices,
    per_class_mean,
    prediction_gap_curves,
    prediction_gaps,
    random_orders,
    topk_stability,
)
from exprlab.evaluate._holdout import cv_indices, holdout_indices
from exprlab.evaluate._rankings import (
    GLOBAL_METHODS,
    RANKINGS,
    GlobalMethod,
    Ranking,
    global_ranking_scores,
    normalize_attributions,
    ranking_scores,
    top_indices,
)
from exprlab.evaluate._retrieval import (
    METRICS,
    bootstrap_summary,
    expected_random_metrics,
    mean_average_precision,
    paired_tests,
    per_disease_metrics,
    random_per_disease,
    ranking_metrics,
    ratio_interval,
    strict_order,
)
from exprlab.evaluate._splits import SPLITS, Fold, Split, inner_validation, label_matrix, make_folds

__all__ = [
    "CRAMERS_V_WARNING",
    "batch_predictability",
    "cv_indices",
    "holdout_indices",
    "label_batch_association",
    "Split",
    "GlobalMethod",
    "Ranking",
    "GLOBAL_METHODS",
    "METRICS",
    "RANKINGS",
    "SPLITS",
    "FeatureAgreement",
    "Fold",
    "GapModel",
    "bootstrap_summary",
    "completeness_stats",
    "correct_mask",
    "expected_random_metrics",
    "feature_agreement",
    "global_ranking_scores",
    "ground_truth_indices",
    "inner_validation",
    "label_matrix",
    "make_folds",
    "mean_average_precision",
    "normalize_attributions",
    "paired_tests",
    "per_class_mean",
    "per_disease_metrics",
    "prediction_gap_curves",
    "prediction_gaps",
    "random_orders",
    "random_per_disease",
    "ranking_metrics",
    "ranking_scores",
    "ratio_interval",
    "strict_order",
    "top_indices",
    "topk_stability",
]
