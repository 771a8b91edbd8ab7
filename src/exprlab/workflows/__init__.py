"""The studies users run end to end: repurposing benchmark, explanation study, cohorts, demo.

Workflows orchestrate the library layers below (data, models, explanations, metrics) and write
run folders that :mod:`exprlab.report` renders.
"""

from exprlab.workflows._cohorts import (
    TASKS,
    CohortTask,
    evaluate_cohorts,
    evaluate_task,
    stratified_split,
    top_attributed_genes,
)
from exprlab.workflows._cross_catalogue import run_cross_catalogue
from exprlab.workflows._demo import DemoConfig, DemoResult, run_demo
from exprlab.workflows._explain_matches import (
    FoldModel,
    explain_real,
    target_permutation_test,
    train_fold_model,
    validate_planted,
    write_explanation,
)
from exprlab.workflows._repurposing import (
    LearnedSettings,
    connectivity_scores,
    load_benchmark,
    predict_drugs,
    run_benchmark,
    train_models,
    write_benchmark,
)
from exprlab.workflows._retraining import retraining_curves
from exprlab.workflows._xai_study import (
    SIMULATIONS,
    SUMMARY_METRICS,
    StudyConfig,
    load_study_dataset,
    model_agreement,
    run_xai_study,
    summarize_runs,
)

__all__ = [
    "SIMULATIONS",
    "SUMMARY_METRICS",
    "TASKS",
    "CohortTask",
    "DemoConfig",
    "DemoResult",
    "FoldModel",
    "LearnedSettings",
    "StudyConfig",
    "connectivity_scores",
    "evaluate_cohorts",
    "evaluate_task",
    "explain_real",
    "load_benchmark",
    "load_study_dataset",
    "model_agreement",
    "predict_drugs",
    "retraining_curves",
    "run_benchmark",
    "run_cross_catalogue",
    "run_demo",
    "run_xai_study",
    "stratified_split",
    "summarize_runs",
    "target_permutation_test",
    "top_attributed_genes",
    "train_fold_model",
    "train_models",
    "validate_planted",
    "write_benchmark",
    "write_explanation",
]
