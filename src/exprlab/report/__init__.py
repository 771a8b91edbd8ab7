"""Tables, plots and self-contained HTML reports of exprlab runs.

:func:`render_report` turns any run (scores, a library, a retrieval benchmark, a trained matcher,
a ranking, an explanation study, an explained match, a demo) into one HTML file, with the renderer
registered for its kind (:func:`register_renderer`); :func:`write_run_manifest` records what a run did in its ``run.json``.
Run folders are read through the file names of the run-folder contract (:mod:`exprlab._runs`).
"""

from exprlab.report import _biomarkers_report, _classifier_report, _search  # noqa: F401  (register their renderers)
from exprlab.report._manifest import (
    file_provenance,
    input_provenance,
    now_utc,
    read_run_manifest,
    software_versions,
    write_run_manifest,
)
from exprlab.report._matching_plots import plot_explanation
from exprlab.report._registry import register_renderer
from exprlab.report._render import detect_kind, render_report
from exprlab.report._render_match import map_summary
from exprlab.report._render_xai import fa_random_expectation
from exprlab.report._repurposing_plots import plot_metric_bars, plot_pr_curves
from exprlab.report._study_plots import curve_summary, write_study_plots

__all__ = [
    "curve_summary",
    "plot_explanation",
    "detect_kind",
    "fa_random_expectation",
    "file_provenance",
    "input_provenance",
    "map_summary",
    "now_utc",
    "plot_metric_bars",
    "plot_pr_curves",
    "read_run_manifest",
    "register_renderer",
    "render_report",
    "software_versions",
    "write_run_manifest",
    "write_study_plots",
]
