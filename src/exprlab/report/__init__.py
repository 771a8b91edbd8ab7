"""Tables, plots and self-contained HTML reports of exprlab runs.

:func:`render_report` turns any run directory (scores, retrieval benchmark, explanation study,
demo) into one HTML file; :func:`write_run_manifest` records what a run did in its ``run.json``.
"""

from exprlab.report._manifest import file_provenance, read_run_manifest, write_run_manifest
from exprlab.report._render import detect_kind, render_report

__all__ = ["detect_kind", "file_provenance", "read_run_manifest", "render_report", "write_run_manifest"]
