"""The run manifest: ``run.json`` records what ran, with which software, on which data.

A report rendered months later must say how its numbers were made. Every workflow that writes a
run directory calls :func:`write_run_manifest` with the kind of run, its parameters and where its
data came from; :func:`read_run_manifest` reads it back (``None`` when absent, so reports also
work on directories written without one).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from exprlab import __version__
from exprlab._atomic import atomic_path
from exprlab._outputs import file_sha256
from exprlab._runs import manifest_path
from exprlab.errors import FileAccessError, FormatError

__all__ = [
    "now_utc",
    "software_versions",
    "file_provenance",
    "input_provenance",
    "write_run_manifest",
    "read_run_manifest",
]
_HASH_LIMIT = 2**31  # files larger than this (2 GiB) are described by size and time only


def now_utc() -> str:
    """The current UTC time, as run manifests record when a run started and finished.

    Returns
    -------
    str
        ISO 8601 time with seconds and the UTC offset.
    """
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def software_versions() -> dict[str, str]:
    """Versions of exprlab, Python and the numerical libraries a run depends on.

    Returns
    -------
    dict
        Distribution name → version (``"not installed"`` when absent).
    """
    versions = {"exprlab": __version__, "python": platform.python_version()}
    for dist in ("numpy", "scipy", "pandas", "anndata", "torch", "scikit-learn", "matplotlib"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def file_provenance(path: str | os.PathLike, *, name: str | None = None) -> dict:
    """Describe an input file so a report can say which data a run read.

    Parameters
    ----------
    path
        The file (or folder).
    name
        Name shown in the report (default: the file name).

    Returns
    -------
    dict
        ``name``, ``path`` (absolute), ``bytes``, ``modified`` and ``sha256`` (for a folder: the
        total size of its files and no checksum; for a file over 2 GiB the checksum is
        replaced by a note).
    """
    p = Path(path)
    if not p.exists():
        raise FileAccessError("the input file does not exist", where=p, fix="check the path of the data")
    stat = p.stat()
    size = stat.st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    entry: dict = {
        "name": name or p.name,
        "path": str(p.resolve()),
        "bytes": int(size),
        "modified": _dt.datetime.fromtimestamp(stat.st_mtime, _dt.UTC).isoformat(timespec="seconds"),
    }
    if p.is_file() and stat.st_size > _HASH_LIMIT:
        entry["sha256"] = "not computed (file over 2 GiB)"
    elif p.is_file():
        entry["sha256"] = file_sha256(p)
    return entry


def input_provenance(inputs: Mapping[str, object]) -> list[dict]:
    """The provenance of a command's inputs: files described by :func:`file_provenance`.

    Parameters
    ----------
    inputs
        Role of each input (``"library"``, ``"query"`` ...) → a path, or a name that is not a
        file (a catalogue such as ``opentargets``, recorded as given); ``None`` entries are
        skipped.

    Returns
    -------
    list of dict
        One entry per input, in order.
    """
    entries = []
    for role, value in inputs.items():
        if value is None or value == "":
            continue
        path = Path(str(value))
        if path.exists():
            entries.append(file_provenance(path, name=role))
        else:
            entries.append({"name": role, "path": str(value), "bytes": None, "sha256": None})
    return entries


def command_line(argv: Sequence[str]) -> str:
    """The command that ran, as a user would type it again in a shell.

    ``python -m exprlab ...`` runs the same command line as ``exprlab ...`` (its ``argv[0]`` is
    the package's ``__main__.py``), so both are written ``exprlab ...``; arguments are quoted
    where a shell needs it.

    Parameters
    ----------
    argv
        The process's arguments (``sys.argv``).

    Returns
    -------
    str
        The command line; empty when there are no arguments.
    """
    if not argv:
        return ""
    program = Path(argv[0]).name
    if program == "__main__.py" and Path(argv[0]).parent.name == "exprlab":
        program = "exprlab"
    return shlex.join([program, *argv[1:]])


def write_run_manifest(
    run_dir: str | os.PathLike,
    kind: str,
    parameters: Mapping,
    data_provenance: Sequence[Mapping] | Mapping | None = None,
    *,
    started: str | None = None,
    summary: Mapping | None = None,
    finished: bool = True,
) -> Path:
    """Write ``<run_dir>/run.json`` atomically and return its path.

    Parameters
    ----------
    run_dir
        The (existing) run directory, or the result file of a one-file command (its manifest is
        then ``<file>.run.json``, :func:`exprlab._runs.manifest_path`).
    kind
        One of :data:`exprlab._runs.KINDS` (other names are stored as given; reports then list the files).
    parameters
        The options of the run, JSON-serialisable (other objects are stored as text).
    data_provenance
        Where the data came from: a list of entries such as :func:`file_provenance` returns, or
        a mapping (e.g. the parameters of a simulation).
    started
        ISO time the run started (default: now); ``finished`` is always now.
    summary
        Key numbers of the run, shown at the top of its report.
    finished
        ``False`` for the manifest a resumable run writes when it starts: ``finished`` is then
        empty and ``status`` is ``"running"`` until the run rewrites it at its end.

    Returns
    -------
    Path
        The written ``run.json``.
    """
    folder = Path(run_dir)
    if not folder.exists():
        raise FileAccessError(
            "the run directory does not exist",
            where=folder,
            fix="create the run directory before writing its manifest",
        )
    if isinstance(data_provenance, Mapping):
        data_provenance = [dict(data_provenance)]
    record = {
        "kind": str(kind),
        "parameters": dict(parameters),
        "data_provenance": [dict(d) for d in (data_provenance or [])],
        "versions": software_versions(),
        "started": started or now_utc(),
        "finished": now_utc() if finished else None,
        "status": "finished" if finished else "running",
        "command": command_line(sys.argv),
        "platform": f"{platform.system()} {platform.machine()}",
    }
    if summary is not None:
        record["summary"] = dict(summary)
    path = manifest_path(folder)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_run_manifest(run_dir: str | os.PathLike) -> dict | None:
    """The manifest of a run directory (or of a one-file result), ``None`` when there is none.

    Parameters
    ----------
    run_dir
        The run directory, or a result file with its ``<file>.run.json`` beside it.

    Returns
    -------
    dict or None
        The manifest's record.

    Raises
    ------
    FormatError
        ``run.json`` exists but is not a JSON object.
    """
    path = manifest_path(Path(run_dir))
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise FormatError(
            f"the run manifest is not valid JSON ({err})",
            where=path,
            fix="delete run.json or rewrite it from the run's parameters",
        ) from None
    if not isinstance(record, dict):
        raise FormatError(
            "the run manifest is not a JSON object",
            where=path,
            fix="delete run.json or rewrite it from the run's parameters",
        )
    return record
