"""The exprlab command line: a thin shell over the workflow functions.

Each command group lives in its own module and registers itself on ``app``. Every
:class:`~exprlab.errors.ExprlabError` is printed as one line and the process exits with status 2.
"""

from __future__ import annotations

import sys

import typer

from exprlab.errors import ExprlabError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="exprlab: drug-disease matching by transcriptomic signatures, and tested explanations "
    "of gene-expression classifiers.",
)

# Command modules register their commands on ``app`` when imported.
from exprlab.cli import data_commands  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn exprlab's own errors into one line on stderr and exit status 2."""
    try:
        app(args=argv, standalone_mode=False)
    except ExprlabError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except typer.Abort:
        print("error: aborted.", file=sys.stderr)
        sys.exit(1)
    except Exception as err:  # click usage errors
        import click

        if isinstance(err, click.exceptions.ClickException):
            print(f"error: {err.format_message()}", file=sys.stderr)
            sys.exit(2)
        raise
