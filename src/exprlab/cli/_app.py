"""The Typer application, its global options and the one-line error contract of ``main``."""

from __future__ import annotations

import errno
import os
import signal
import sys
import warnings

import typer

from exprlab._atomic import os_error
from exprlab._logging import configure_logging
from exprlab._progress import progress_mode, set_quiet
from exprlab.errors import ExprlabError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="exprlab: drug-disease matching by transcriptomic signatures, and tested explanations "
    "of gene-expression classifiers.",
)


class Interrupted(BaseException):
    """A termination signal, raised where the program runs so that temporary outputs are removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_SWALLOWED: list[int] = []


def _raise_interrupted(signum: int, frame) -> None:
    raise Interrupted(signum)


def _raise_again(signum: int, frame) -> None:
    if _SWALLOWED:
        raise Interrupted(_SWALLOWED.pop())


def _unraisable(info, previous=sys.unraisablehook) -> None:
    """A signal that arrived inside a finalizer is swallowed there: raise it again at once."""
    if isinstance(info.exc_value, Interrupted):
        _SWALLOWED.append(info.exc_value.signum)
        signal.setitimer(signal.ITIMER_REAL, 0.01)  # SIGALRM raises it where the program runs
        return
    previous(info)


def _install_signal_handlers() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C: temporary outputs removed, exit 128 + signal."""
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, _raise_interrupted)
            except ValueError:  # not the main thread (the CLI called from a worker thread)
                return
    if hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _raise_again)
        sys.unraisablehook = _unraisable


_WRITE_ERRORS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.ENAMETOOLONG,
    errno.ENOENT,
    errno.EEXIST,
}


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn exprlab's own errors into one line on stderr and exit status 2.

    Operating-system errors (full or read-only disk, permissions, a file in the way) are reported
    the same way; SIGTERM, SIGHUP and Ctrl-C stop the run with exit status 143, 129 and 130 after
    the temporary outputs are removed.
    """
    _install_signal_handlers()
    argv = hoist_global_flags(sys.argv[1:] if argv is None else list(argv))
    try:
        with warnings.catch_warnings():
            # warnings of dependencies never add lines to a one-line error; the log keeps them
            warnings.simplefilter("ignore")
            warnings.filterwarnings("default", module=r"exprlab(\.|$)")
            # a file left open by a run stopped mid-read is closed at exit: not the user's concern
            warnings.filterwarnings("ignore", category=ResourceWarning)
            result = app(args=argv, standalone_mode=False)
    except ExprlabError as err:
        _fail(str(err), getattr(err, "os_errno", None))
    except OSError as err:
        if err.errno not in _WRITE_ERRORS:
            raise
        _fail(str(os_error(err, err.filename or "output")), err.errno)
    except Interrupted as stop:
        print(f"error: stopped by {signal.Signals(stop.signum).name}.", file=sys.stderr)
        sys.exit(128 + stop.signum)
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except typer.Abort:
        print("error: interrupted.", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as err:  # usage errors: unknown option, bad value ...
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        if message.strip():  # help shown for a bare command carries no message
            print(f"error: {' '.join(message.split())}", file=sys.stderr)
        sys.exit(getattr(err, "exit_code", 2) or 2)
    if isinstance(result, int) and result:
        sys.exit(result)


#: the root options, accepted anywhere on the command line (``exprlab score ... --quiet``)
_GLOBAL_FLAGS = ("--quiet", "-q", "--no-quiet", "--verbose", "-v", "--no-verbose")


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Move the root's ``--quiet`` / ``--verbose`` flags to the front, wherever they were typed.

    Click reads root options only before the command name; users type them after it, like every
    other option. Tokens after a ``--`` separator are left alone.

    Parameters
    ----------
    argv
        The command line without the program name.

    Returns
    -------
    list of str
        The same tokens with the root flags first.
    """
    cut = argv.index("--") if "--" in argv else len(argv)
    flags = [t for t in argv[:cut] if t in _GLOBAL_FLAGS]
    rest = [t for t in argv[:cut] if t not in _GLOBAL_FLAGS]
    return flags + rest + argv[cut:]


def _fail(message: str, os_errno: int | None = None) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    if os_errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
        # After a failed write on a full disk, the HDF5 library may crash while it closes its
        # files at interpreter exit; our temporary outputs are already removed, so leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2)
    sys.exit(2)


@app.callback()
def _root(
    quiet: bool = typer.Option(
        False, "--quiet/--no-quiet", "-q", help="No progress bars or info messages.", metavar=""
    ),
    verbose: bool = typer.Option(
        False, "--verbose/--no-verbose", "-v", help="Debug messages on the terminal.", metavar=""
    ),
) -> None:
    """exprlab: drug-disease matching and tested explanations of expression classifiers.

    --quiet and --verbose may be typed anywhere on the command line. Progress bars show on a
    terminal; EXPRLAB_PROGRESS=always shows them in logs too, EXPRLAB_PROGRESS=never hides them.
    """
    progress_mode()  # a mistyped EXPRLAB_PROGRESS is refused before any work starts
    set_quiet(quiet)
    configure_logging(None, verbose=verbose, quiet=quiet)


def resolved_log2(log2: bool | None, adata) -> bool:
    """``--log2`` as given, or its default for these data: on for files written by `exprlab simulate`.

    The one rule of ``train``, ``biomarkers`` and ``xai-study`` (simulated counts are
    log-transformed, other data are taken as they are), so the same file gives the same model in
    every command; run.json records the resolved value.
    """
    from exprlab.simulate import is_simulation  # deferred: keeps `exprlab --help` light

    return is_simulation(adata) if log2 is None else bool(log2)
