"""Tables, plots and self-contained HTML reports of exprlab runs.

:func:`render_report` turns any run directory (scores, retrieval benchmark, explanation study,
demo) into one HTML file; :func:`write_run_manifest` records what a run did in its ``run.json``.
Run folders are read through the file names of the run-folder contract (:mod:`exprlab._runs`).
"""

from exprlab.report._manifest import (
    file_provenance,
    now_utc,
    read_run_manifest,
    software_versions,
    write_run_manifest,
)
from exprlab.report._matching_plots import plot_explanation
from exprlab.report._render import detect_kind, fa_random_expectation, map_summary, render_report
from exprlab.report._repurposing_plots import plot_metric_bars, plot_pr_curves
from exprlab.report._study_plots import write_study_plots

__all__ = [
    "plot_explanation",
    "detect_kind",
    "fa_random_expectation",
    "file_provenance",
    "map_summary",
    "now_utc",
    "plot_metric_bars",
    "plot_pr_curves",
    "read_run_manifest",
    "render_report",
    "software_versions",
    "write_run_manifest",
    "write_study_plots",
]
