"""The exprlab command line: a thin shell over the public API.

Each command group lives in its own module and registers itself on the application of
:mod:`exprlab.cli._app` when imported. Every :class:`~exprlab.errors.ExprlabError` is printed as
one line and the process exits with status 2.
"""

# Command modules register their commands on ``app`` when imported; one line per module.
from exprlab.cli import (  # noqa: F401
    _biomarkers_commands,
    _data_commands,
    _datasets_commands,
    _import_commands,
    _match_commands,
    _match_explain_commands,
    _report_commands,
    _repurposing_commands,
    _search_commands,
    _simulate_commands,
    _xai_commands,
)
from exprlab.cli._app import app, main

__all__ = ["app", "main"]
