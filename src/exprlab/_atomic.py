"""Atomic output: every file is written under a temporary name and renamed when complete.

A run that fails half way therefore leaves nothing partial where the user expects a result.
Temporary entries are named ``.<name>.part-<pid>-<random>`` beside their target, so that the
next run writing the same output recognises the leftovers of a run killed without warning
(SIGKILL, out of memory) by their dead writer and removes them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from exprlab.errors import FileAccessError

__all__ = [
    "FILE_MODE",
    "DIR_MODE",
    "atomic_path",
    "atomic_dir",
    "remove_leftovers",
    "dead_leftover",
    "pid_alive",
    "os_error",
    "MANIFESTS",
    "deferred_signals",
    "temp_name",
]

#: the signals that stop a run (the CLI turns them into an exception where the program runs)
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGALRM") if hasattr(signal, name)
)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold back stop signals for the few statements of a step that must not be cut in two.

    A stop signal arriving inside the block is recorded and delivered, to the handler in place
    before, when the block ends: a lock is never left half-written, and a lock just taken never
    escapes its release. The handlers are swapped rather than the signals masked because in a
    process with other threads (numba, torch, BLAS) the kernel hands a signal to any thread that
    does not mask it. Outside the main thread the block runs unprotected (Python runs handlers
    in the main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: object) -> None:
        pending.append(signum)

    previous = {}
    for sig in _STOP_SIGNALS:
        handler = signal.getsignal(sig)
        if handler is not None:  # a handler set outside Python cannot be restored: leave it
            previous[sig] = handler
            signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in pending:
            signal.raise_signal(signum)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Results get the permissions any ordinary new file or folder would get, so collaborators and
# pipelines can read them.
_UMASK = _umask()
FILE_MODE = 0o666 & ~_UMASK
DIR_MODE = 0o777 & ~_UMASK

_TAG = re.compile(r"\.(?:part|old)-(\d+)-[0-9a-f]+")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a permission error means it does)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def os_error(err: OSError, target: str | os.PathLike) -> FileAccessError:
    """One-line :class:`FileAccessError` for an operating-system error while writing ``target``."""
    code = err.errno
    if code is None:  # HDF5 reports the system error inside its message only
        found = re.search(r"errno = (\d+)", str(err))
        code = int(found.group(1)) if found else None
    reason = os.strerror(code) if code else (err.strerror or str(err))
    fixes = {
        errno.ENOSPC: "free disk space or write to another disk",
        errno.EDQUOT: "free disk space or write to another disk",
        errno.EROFS: "write to a writable disk",
        errno.EACCES: "write to a folder you may write to",
        errno.EPERM: "write to a folder you may write to",
        errno.EISDIR: "name a file, not a folder, as the output",
        errno.ENOTDIR: "put the output in a folder, not under a file",
        errno.ENAMETOOLONG: "choose a shorter output name",
    }
    where = err.filename if err.filename else target
    error = FileAccessError(
        f"cannot write ({reason.rstrip('.').lower()})",
        where=where,
        fix=fixes.get(code or 0, "check the output path"),
    )
    error.os_errno = code  # type: ignore[attr-defined]  # lets the CLI tell a full disk
    return error


_NEARLY_FULL = 256 * 1024


def _disk_full(folder: Path) -> bool:
    """Whether the disk of ``folder`` is (nearly) full: a writer's error there means no space.

    Libraries report a full disk in their own words (HDF5 and torch raise ``RuntimeError``), so a
    failed write is read as a full disk when almost no space is left where it was writing.
    """
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def temp_name(target: Path, kind: str) -> Path:
    """A fresh temporary name beside ``target``: ``.<name>.<kind>-<pid>-<random>``.

    :func:`remove_leftovers` recognises such names of ``kind`` ``part`` or ``old`` and removes
    them once their writer is no longer alive.
    """
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _writer_gone(tag: re.Match | None) -> bool:
    """Whether ``tag`` (a match of ``.part-<pid>-<random>``) names a writer no longer alive."""
    return tag is not None and not pid_alive(int(tag.group(1)))


def dead_leftover(name: str) -> bool:
    """Whether the entry ``name`` is a temporary (:func:`temp_name`) whose writer is no longer alive.

    A run killed outright while writing a file into its output folder leaves such an entry; the
    folder then holds nothing of the user's, and the next run may take it over.
    """
    return name.startswith(".") and _writer_gone(_TAG.search(name, 1))


def remove_leftovers(target: str | os.PathLike) -> list[Path]:
    """Remove temporary entries of ``target`` left by writers that are no longer alive.

    Parameters
    ----------
    target
        The output whose leftovers (``.<name>.part-<pid>-*``, ``.<name>.old-<pid>-*``) are looked for.

    Returns
    -------
    list of pathlib.Path
        The entries removed.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    prefix = f".{target.name}."
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not _writer_gone(_TAG.match(entry.name, len(prefix) - 1)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary file keeps the target's suffix so writers that dispatch on the extension
    (pandas, h5py, anndata) behave as for the final name.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise FileAccessError(
            f"the output folder {parent} does not exist",
            where=target,
            fix="create the folder first or choose another output path",
        )
    remove_leftovers(target)
    tmp = Path(f"{temp_name(target, 'part')}{''.join(target.suffixes)}")
    try:
        try:
            tmp.touch(mode=FILE_MODE, exist_ok=False)
        except OSError as err:
            raise os_error(err, target) from None
        yield tmp
        try:
            if tmp.exists():
                os.chmod(tmp, FILE_MODE)
            os.replace(tmp, target)
        except OSError as err:
            raise os_error(err, target) from None
    except (OSError, RuntimeError) as err:
        full = _disk_full(parent)
        tmp.unlink(missing_ok=True)
        if full:
            raise os_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), target) from err
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def partial_dir(path: str | os.PathLike) -> Path:
    """The work folder ``.<name>.partial`` of a resumable output (kept when a run is interrupted)."""
    target = Path(path)
    return target.parent / f".{target.name}.partial"


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, resumable: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; move it onto ``path`` only on success.

    An existing directory at ``path`` is replaced as a whole once the new one is complete: it is
    renamed aside, the new one renamed into place, then the old one deleted, so that concurrent
    writers never lose a folder or leave a stray one. Whether ``path`` may be replaced at all is
    decided before, by :func:`exprlab._outputs.prepare_output`.

    With ``resumable=True`` the work folder is :func:`partial_dir` and survives a failure or an
    interruption, so that the next call continues from what it holds (checkpoints); the caller
    holds the output's lock (:func:`exprlab._outputs.output_lock`) so no two runs share it.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise os_error(err, target) from None
    _check_replaceable(target)
    remove_leftovers(target)
    tmp = partial_dir(target) if resumable else temp_name(target, "part")
    try:
        try:
            tmp.mkdir(mode=0o700, exist_ok=resumable)
        except OSError as err:
            raise os_error(err, target) from None
        yield tmp
        try:
            os.chmod(tmp, DIR_MODE)
            _swap_in(tmp, target)
        except OSError as err:
            raise os_error(err, target) from None
    except BaseException as err:
        full = isinstance(err, (OSError, RuntimeError)) and _disk_full(parent)
        if not resumable:
            shutil.rmtree(tmp, ignore_errors=True)
        if full:
            raise os_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), target) from err
        raise


#: files by which a folder is recognised as one exprlab wrote (see :mod:`exprlab._outputs`)
MANIFESTS = ("run.json", "study.json", "metadata.json", "model.json", "summary.json")


def _check_replaceable(target: Path) -> None:
    """The last line of defence of API callers: never replace a file or a folder of the user's."""
    try:
        mode = os.lstat(target).st_mode  # one look: a concurrent writer may be swapping it
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise FileAccessError(
            "a file is in the way of the output folder; it is left untouched",
            where=target,
            fix="choose another output path",
        )
    try:
        names = os.listdir(target)
    except FileNotFoundError:  # absent (or being replaced by a concurrent writer)
        return
    if names and not set(names) & set(MANIFESTS):
        raise FileAccessError(
            "the output folder exists and was not written by exprlab; it is left untouched",
            where=target,
            fix="choose another output path",
        )


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` onto ``target``, moving an existing ``target`` aside first, then deleting it."""
    while True:
        old = temp_name(target, "old")
        try:
            os.rename(target, old)
        except FileNotFoundError:
            old = None  # type: ignore[assignment]
        try:
            os.rename(tmp, target)
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
                # another writer put its folder in place between the two renames (it may even have
                # moved it aside again since): the folder we moved aside is stale, go round again
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                continue
            if old is not None:
                try:
                    os.rename(old, target)  # put the previous result back
                except OSError:  # a concurrent writer's newer folder is in place: keep that one
                    shutil.rmtree(old, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
