"""The studies users run end to end: data import, repurposing benchmark, explanation study, cohorts, demo.

Workflows orchestrate the library layers below (data, models, explanations, metrics) and write
run folders that :mod:`exprlab.report` renders.
"""

from exprlab.workflows._biomarkers import (
    BIOMARKER_METHODS,
    BiomarkerResult,
    find_biomarkers,
    fit_draw_model,
    write_biomarkers,
)
from exprlab.workflows._cohorts import (
    TASKS,
    CohortTask,
    evaluate_cohorts,
    evaluate_task,
    stratified_split,
    task_data,
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
from exprlab.workflows._import import import_expression
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
from exprlab.workflows._signature_search import (
    SearchResult,
    library_metadata,
    search_signatures,
    write_search,
)
from exprlab.workflows._train import SAMPLE_SETS, TrainingRun, explain_model, select_samples, train_model
from exprlab.workflows._xai_study import (
    SIMULATIONS,
    SUMMARY_METRICS,
    StudyConfig,
    load_study_dataset,
    model_agreement,
    run_xai_study,
    summarize_curves,
    summarize_runs,
)

__all__ = [
    "BIOMARKER_METHODS",
    "BiomarkerResult",
    "find_biomarkers",
    "fit_draw_model",
    "write_biomarkers",
    "SAMPLE_SETS",
    "TrainingRun",
    "explain_model",
    "select_samples",
    "train_model",
    "SearchResult",
    "library_metadata",
    "search_signatures",
    "write_search",
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
    "import_expression",
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
    "summarize_curves",
    "summarize_runs",
    "task_data",
    "target_permutation_test",
    "top_attributed_genes",
    "train_fold_model",
    "train_models",
    "validate_planted",
    "write_benchmark",
    "write_explanation",
]
