"""Data commands: ``exprlab info``, ``exprlab convert``, ``exprlab datasets``."""

from __future__ import annotations

from exprlab.cli import app


@app.command()
def version() -> None:
    """Print the exprlab version."""
    from exprlab import __version__

    print(__version__)
