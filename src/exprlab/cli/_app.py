"""The Typer application, its global options and the one-line error contract of ``main``."""

from __future__ import annotations

import sys

import typer

from exprlab._logging import configure_logging
from exprlab._progress import set_quiet
from exprlab.errors import ExprlabError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="exprlab: drug-disease matching by transcriptomic signatures, and tested explanations "
    "of gene-expression classifiers.",
)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn exprlab's own errors into one line on stderr and exit status 2."""
    try:
        result = app(args=argv, standalone_mode=False)
    except ExprlabError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except typer.Abort:
        print("error: aborted.", file=sys.stderr)
        sys.exit(1)
    except typer.TyperException as err:  # usage errors: unknown option, bad value ...
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        if message.strip():  # help shown for a bare command carries no message
            print(f"error: {' '.join(message.split())}", file=sys.stderr)
        sys.exit(getattr(err, "exit_code", 2) or 2)
    if isinstance(result, int) and result:
        sys.exit(result)


@app.callback()
def _root(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or info messages."),
    verbose: bool = typer.Option(False, "--verbose", help="Debug messages on the terminal."),
) -> None:
    """exprlab: drug-disease matching and tested explanations of expression classifiers."""
    set_quiet(quiet)
    configure_logging(None, verbose=verbose, quiet=quiet)
