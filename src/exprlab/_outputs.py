"""Ownership of outputs: what a command may write, replace or must refuse, decided before work.

Every command and workflow that writes calls :func:`prepare_output` before any computation. It
refuses an output that is one of the inputs or a folder holding one; checks the place (parent
exists or can be created, is writable, no file where a folder is expected and the reverse, the
extension matches the format written); and lets an existing output be replaced only when it is
exprlab's own output of the same kind *and* the caller passed ``force`` (``--force``).

exprlab recognises its own outputs by a marker:

* a folder by its manifest: ``run.json`` (run folders, with their kind), ``study.json`` (an
  explanation study being written), ``metadata.json`` of format ``exprlab-classifier`` (models of
  ``exprlab train``), ``model.json`` with ``members`` (matchers of ``exprlab match train``);
* a file by a hidden sidecar ``.<name>.exprlab.json`` beside it, recording the kind, size and
  sha256 of what exprlab wrote (:func:`record_output`): a file edited or replaced since is never
  treated as exprlab's.

:func:`output_lock` puts a lock ``.<name>.lock`` beside the output (pid, host, command, start
time) so that a second run writing the same output refuses at once, naming the running one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import os
import shutil
import socket
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from exprlab._atomic import dead_leftover, deferred_signals, os_error, pid_alive, remove_leftovers, temp_name
from exprlab.errors import FileAccessError, InvalidParameterError

__all__ = [
    "file_sha256",
    "prepare_output",
    "record_output",
    "output_kind",
    "output_lock",
    "claim_output",
    "sidecar_path",
    "refuse_inputs",
    "discard_output",
    "lock_path",
]

_CHUNK = 1 << 20
#: errors of the disk being written, reported against the output whatever file raised them
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
#: the header by which exprlab recognises the HTML reports it rendered
_HTML_MARK = b'<meta name="generator" content="exprlab">'


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError:
        return b""


def sidecar_path(path: str | os.PathLike) -> Path:
    """The hidden file beside ``path`` that marks it as exprlab's output."""
    p = Path(path)
    return p.parent / f".{p.name}.exprlab.json"


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file beside ``path`` held while a run writes it."""
    p = Path(path)
    return p.parent / f".{p.name}.lock"


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        Its hex digest.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def record_output(path: str | os.PathLike, kind: str) -> None:
    """Mark the file ``path`` just written as exprlab's output of ``kind`` (a sidecar beside it).

    Parameters
    ----------
    path
        The file written.
    kind
        The kind of output (``"library"``, ``"score"``, ``"matrix"`` ...).
    """
    p = Path(path)
    if not p.is_file():
        return
    marker = {"kind": kind, "size": p.stat().st_size, "sha256": file_sha256(p)}
    side = sidecar_path(p)
    tmp = side.parent / f"{side.name}.tmp-{os.getpid()}"
    try:
        tmp.write_text(json.dumps(marker))
        os.replace(tmp, side)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise os_error(err, side) from None


def _json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _folder_kind(path: Path) -> str | None:
    run = _json(path / "run.json")
    if run is not None and isinstance(run.get("kind"), str):
        return run["kind"]
    if _json(path / "study.json") is not None:
        return "xai-study"
    meta = _json(path / "metadata.json")
    if meta is not None and meta.get("format") == "exprlab-classifier":
        return "classifier"
    summary = _json(path / "summary.json")
    if summary is not None and {"disease", "drug", "score"} <= set(summary):
        return "match-explanation"
    model = _json(path / "model.json")
    if model is not None and "members" in model:
        return "matcher"
    return None


def output_kind(path: str | os.PathLike) -> str | None:
    """The kind of exprlab output at ``path``, or ``None`` when it is not (or no longer) exprlab's.

    Parameters
    ----------
    path
        A file or folder.

    Returns
    -------
    str or None
        The kind recorded by its marker; ``None`` for anything exprlab did not write, or a file
        changed since exprlab wrote it.
    """
    p = Path(path)
    if p.is_dir():
        return _folder_kind(p)
    if not p.is_file():
        return None
    if p.name.lower().endswith((".html", ".htm")) and _HTML_MARK in _head(p):
        return "report"
    marker = _json(sidecar_path(p))
    if marker is None or marker.get("size") != p.stat().st_size:
        return None
    return marker.get("kind") if marker.get("sha256") == file_sha256(p) else None


def refuse_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike | None]) -> None:
    """Refuse an output that is one of ``inputs`` or a folder holding one (API entry points).

    Parameters
    ----------
    out
        The output path.
    inputs
        The input paths (``None`` and objects that are not paths are skipped).
    """
    paths = [i for i in inputs if isinstance(i, (str, os.PathLike))]
    _refuse_inputs(Path(out), paths)


def _refuse_inputs(out: Path, inputs: Iterable[str | os.PathLike | None]) -> None:
    resolved = out.resolve()
    for item in inputs:
        if item is None or not Path(item).exists():
            continue
        src = Path(item).resolve()
        if src == resolved:
            raise InvalidParameterError(
                f"the output is the input {item}", where=out, fix="choose an --out that is not an input"
            )
        if resolved in src.parents:
            raise InvalidParameterError(
                f"the output folder holds the input {item}",
                where=out,
                fix="choose an --out that does not contain an input",
            )


def _check_suffix(out: Path, suffixes: tuple[str, ...]) -> None:
    if suffixes and not out.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise InvalidParameterError(
            f"the output name does not end with {' or '.join(suffixes)} (the format written)",
            where=out,
            fix=f"name the output *{suffixes[0]}",
        )


def _writable_place(out: Path, folder: bool) -> None:
    """The nearest existing ancestor of ``out`` is a folder in which an entry can be created."""
    parent = out.parent
    if not folder and not parent.exists() and not parent.is_symlink():
        raise FileAccessError(
            f"the output folder {parent} does not exist",
            where=out,
            fix="create the folder first or choose another output path",
        )
    while not parent.exists():
        if parent.is_symlink() or parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise FileAccessError(
            f"{parent} is a file, not a folder",
            where=out,
            fix="put the output in a folder, not under a file",
        )
    probe = parent / f".{out.name if parent == out.parent else parent.name}.probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as err:
        err.filename = None  # name the output, not the probe
        raise os_error(err, out) from None


#: kinds of outputs earlier releases marked under another name → the kind's name now
_RENAMED_KINDS = {"attributions": "explanation"}  # `exprlab explain --out FILE.h5ad`


def _check_existing(out: Path, kind: str, folder: bool, force: bool, resume: bool) -> None:
    if not (out.exists() or out.is_symlink()):
        return
    what = "folder" if folder else "file"
    if folder and not out.is_dir():
        raise FileAccessError(
            "a file is in the way of the output folder",
            where=out,
            fix="choose another --out (exprlab never replaces a file it did not write)",
        )
    if not folder and out.is_dir():
        raise FileAccessError(
            "a folder is in the way of the output file",
            where=out,
            fix="name a file as the output, not a folder",
        )
    found = output_kind(out)
    found = _RENAMED_KINDS.get(found, found) if found is not None else None
    if found is None and kind == "report" and out.name == "report.html" and output_kind(out.parent):
        found = kind  # the report of an exprlab run folder, rendered by an earlier release
    if folder and found is None and out.is_dir() and all(dead_leftover(e.name) for e in out.iterdir()):
        # an empty folder (made for the output) holds nothing to lose: fill it. So does one holding
        # only the half-written temporary of a run killed outright before its first marker.
        return
    if found != kind:
        detail = f"exprlab {found} output" if found else f"{what} exprlab did not write (or changed since)"
        raise FileAccessError(
            f"the output exists and is a {detail}, not an exprlab {kind} output; it is left untouched",
            where=out,
            fix="choose another --out or move that path away yourself",
        )
    if not (force or resume):
        raise FileAccessError(
            f"the output exists (an earlier exprlab {kind} output)",
            where=out,
            fix="pass --force to replace it, or choose another --out",
        )


def prepare_output(
    out: str | os.PathLike,
    *,
    kind: str,
    inputs: Iterable[str | os.PathLike | None] = (),
    force: bool = False,
    folder: bool = False,
    suffixes: Iterable[str] = (),
    resume: bool = False,
) -> Path:
    """Check that ``out`` may be written, before any computation; raise one-line errors if not.

    Parameters
    ----------
    out
        The output file or folder.
    kind
        The kind of output the caller writes; an existing ``out`` is replaced only when its
        marker says the same kind.
    inputs
        The caller's input paths (``None`` entries are skipped): ``out`` may be none of them and
        no folder holding one.
    force
        Replace an existing exprlab output of the same kind (``--force``).
    folder
        ``out`` is a folder (else a file).
    suffixes
        Accepted name endings of a file output (the format written), e.g. ``(".h5ad",)``.
    resume
        An existing output of the same kind is continued, not replaced (no ``force`` needed).

    Returns
    -------
    pathlib.Path
        ``out`` as a path. Dead writers' leftovers beside it have been removed.
    """
    out = Path(out)
    if str(out) in ("", ".") or out.resolve() == Path(out.resolve().anchor):
        raise InvalidParameterError(
            "the output cannot be the current folder or the root",
            where=out,
            fix="name a new folder",
        )
    _refuse_inputs(out, inputs)
    _check_suffix(out, tuple(suffixes))
    _writable_place(out, folder)
    _check_existing(out, kind, folder, force, resume)
    remove_leftovers(out)
    return out


def discard_output(out: str | os.PathLike) -> None:
    """Remove an existing output folder, once :func:`prepare_output` has found it to be exprlab's.

    The folder is renamed aside (a name with this process's id, recognised as a leftover if the
    run is killed) and then deleted, so no half-deleted output is ever seen at ``out``.

    Parameters
    ----------
    out
        The folder to discard; nothing happens when it does not exist.
    """
    path = Path(out)
    if not path.is_dir() or output_kind(path) is None:
        return
    aside = path.parent / f".{path.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        os.rename(path, aside)
    except OSError as err:
        raise os_error(err, path) from None
    shutil.rmtree(aside, ignore_errors=True)


def _read_lock(path: Path) -> dict | None:
    return _json(path)


@contextlib.contextmanager
def output_lock(out: str | os.PathLike, command: str | None = None) -> Iterator[Path]:
    """Hold ``.<name>.lock`` beside ``out`` while writing it; refuse when another run holds it.

    Parameters
    ----------
    out
        The output being written.
    command
        What runs (default: the command line), recorded for the message of a refused run.

    Yields
    ------
    pathlib.Path
        The lock file. A lock of a writer no longer alive on this host is removed.
    """
    lock = lock_path(out)
    host = socket.gethostname()
    record = {
        "pid": os.getpid(),
        "host": host,
        "command": command or " ".join(["exprlab", *sys.argv[1:]]),
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    try:
        with deferred_signals():  # a lock exists only with its record, and never outlives the run
            _take_lock(lock, record, out)
        yield lock
    finally:
        with deferred_signals():
            mine = _read_lock(lock)
            if mine is not None and mine.get("pid") == os.getpid():
                lock.unlink(missing_ok=True)


def _take_lock(lock: Path, record: dict, out: str | os.PathLike) -> None:
    """Create ``lock`` holding ``record``; remove a stale lock first; refuse a live one.

    The record is written to a temporary file that is then hard-linked to the lock's name, so
    that a lock never exists without its record, even when the process is killed outright
    (SIGKILL, out of memory) half way. File systems without hard links get an exclusive create
    followed by the write.
    """
    remove_leftovers(lock)  # a temporary record of a killed run
    tmp = temp_name(lock, "part")
    try:
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                fh.write(json.dumps(record))
        except OSError as err:
            raise os_error(err, out) from None
        for _ in range(3):
            try:
                _link_or_create(tmp, lock, record)
                return
            except FileExistsError:
                if _stale(lock, record["host"]):
                    lock.unlink(missing_ok=True)
                    continue
                held: dict = _read_lock(lock) or {}
                raise FileAccessError(
                    f"another exprlab run is writing this output (pid {held.get('pid', '?')} on "
                    f"{held.get('host', '?')}, started {held.get('started', '?')}: "
                    f"{held.get('command', '?')})",
                    where=out,
                    fix=f"wait for it to finish, or remove {lock} if that run no longer exists",
                ) from None
            except OSError as err:
                raise os_error(err, out) from None
    finally:
        tmp.unlink(missing_ok=True)
    raise FileAccessError(
        "the output's lock kept reappearing while stale locks were removed",
        where=out,
        fix=f"check that no other program creates {lock}, then run again",
    )


#: seconds after which a lock without a readable record counts as stale (an earlier release
#: created the file before writing its record)
_UNREADABLE_LOCK_S = 30.0


def _stale(lock: Path, host: str) -> bool:
    """Whether ``lock`` belongs to a writer that is gone: dead on this host, or no record left."""
    held = _read_lock(lock)
    if held is None:
        try:
            age = _dt.datetime.now().timestamp() - lock.stat().st_mtime
        except FileNotFoundError:
            return True
        return age > _UNREADABLE_LOCK_S
    pid = int(held.get("pid", 0) or 0)
    return held.get("host") == host and not pid_alive(pid)


def _link_or_create(tmp: Path, lock: Path, record: dict) -> None:
    """Make ``lock`` hold ``record`` in one step; ``FileExistsError`` when it exists."""
    try:
        os.link(tmp, lock)
    except FileExistsError:
        raise
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        with open(lock, "x", encoding="utf-8") as fh:  # no hard links here
            fh.write(json.dumps(record))


@contextlib.contextmanager
def claim_output(
    out: str | os.PathLike,
    *,
    kind: str,
    inputs: Iterable[str | os.PathLike | None] = (),
    force: bool = False,
    folder: bool = False,
    suffixes: Iterable[str] = (),
    resume: bool = False,
) -> Iterator[Path]:
    """:func:`prepare_output`, then hold the output's lock while the caller writes it.

    A file output is marked as exprlab's (:func:`record_output`) when the block ends without
    error. Parameters are those of :func:`prepare_output`.

    Yields
    ------
    pathlib.Path
        The output path.
    """
    path = Path(out)
    prepare_output(
        path, kind=kind, inputs=inputs, force=force, folder=folder, suffixes=suffixes, resume=resume
    )
    created = _make_parents(path)
    try:
        with output_lock(path):
            if not folder:
                sidecar_path(path).unlink(missing_ok=True)  # unmarked until the new file is complete
            try:
                yield path
            except OSError as err:
                if os_error(err, path).os_errno not in _DISK_ERRORS:  # type: ignore[attr-defined]
                    raise
                raise os_error(err, path) from None
            if not folder:
                record_output(path, kind)
    except BaseException:
        for made in created:  # folders made only for this output go when it fails
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


def _make_parents(path: Path) -> list[Path]:
    """Create the missing parents of ``path``; return them, deepest first."""
    missing = []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise os_error(err, path) from None
    return missing
