"""What ``exprlab info`` says about the files and folders exprlab itself writes.

Libraries (format 1, signature-major HDF5; format 2, gene-major GCTX), run folders and their
manifests (``run.json``, ``<file>.run.json``), model folders (classifiers of ``exprlab train``,
matchers of ``exprlab match train``), arrays (``.npz``), JSON summaries, figures, reports and
logs. Each description is a ``format`` and a list of ``(field, value)`` rows; the matrix, gene-set
and table formats are described by :func:`exprlab.io.describe` itself. Only headers and small
JSON files are read: a library of any size is described without loading its values.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from exprlab._runs import MANIFEST, XAI_STUDY, manifest_path

__all__ = ["describe_exprlab_output", "manifest_rows"]

_LIBRARY_FORMAT = "exprlab-library"  # the format attribute of an on-disk library (both layouts)
_SHOWN = 8


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _first(names: list[str], limit: int = _SHOWN) -> str:
    shown = ", ".join(names[:limit])
    return f"{len(names)}: {shown}{' ...' if len(names) > limit else ''}" if names else "(none)"


def _json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} TB"


def _library(path: Path) -> dict | None:
    """An on-disk signature library: layout, size, ranks, genes and metadata, from its header."""
    try:
        with h5py.File(path, "r") as f:
            if _text(f.attrs.get("format", "")) != _LIBRARY_FORMAT:
                return None
            version = int(f.attrs.get("library_version", 1))
            rows = [("kind", _text(f.attrs.get("kind", "?"))), ("ties", _text(f.attrs.get("ties", "?")))]
            if version == 2:
                shape = f["0/DATA/0/matrix"].shape
                genes = [_text(g) for g in f["0/META/ROW/id"][:_SHOWN]]
                n_genes = f["0/META/ROW/id"].shape[0]
                fields = sorted(k for k in f["0/META/COL"].keys() if k != "id")
                layout = f"gene_major (format 2, GCTX-compatible; block of {int(f.attrs.get('block', 0))} signatures)"
                ranks = "exprlab/rank2" in f
            else:
                shape = f["values"].shape
                genes = [_text(g) for g in f["genes"][:_SHOWN]]
                n_genes = f["genes"].shape[0]
                fields = sorted(k for k in f["obs"].keys() if not k.startswith("_")) if "obs" in f else []
                layout = "signature_major (format 1)"
                ranks = "rank2" in f
    except (OSError, KeyError):
        return None
    rows = [
        ("layout", layout),
        ("shape", f"{shape[0]} signatures x {shape[1]} genes"),
        *rows,
        ("precomputed ranks", "yes" if ranks else "no"),
        ("genes", f"{n_genes}: {', '.join(genes)}{' ...' if n_genes > len(genes) else ''}"),
        ("metadata fields", _first(fields)),
    ]
    return {"format": "exprlab library", "rows": rows}


def _manifest_rows(record: dict, folder: Path | None = None) -> list[tuple[str, str]]:
    """The rows summarising a run manifest: kind, status, times, parameters, inputs."""
    rows = [
        ("run kind", _text(record.get("kind", "?"))),
        ("status", _text(record.get("status", "finished"))),
        ("command", _text(record.get("command", ""))),
        ("started / finished (UTC)", f"{record.get('started', '?')} / {record.get('finished') or 'not yet'}"),
        ("exprlab version", _text((record.get("versions") or {}).get("exprlab", "?"))),
    ]
    params = record.get("parameters") or {}
    rows += [(f"parameter {k}", _text(v)) for k, v in params.items()]
    for entry in record.get("data_provenance") or []:
        if isinstance(entry, dict):
            size = _size(entry["bytes"]) if isinstance(entry.get("bytes"), int | float) else "-"
            digest = str(entry.get("sha256") or "-")[:16]
            rows.append(
                (f"input {entry.get('name', '')}", f"{entry.get('path', '-')} ({size}, sha256 {digest}...)")
            )
    if folder is not None and record.get("kind") == XAI_STUDY.kind:
        done = len(list((folder / XAI_STUDY.runs).glob(f"*/*/run*/{XAI_STUDY.run_metrics}")))
        planned = (record.get("summary") or {}).get("planned_runs")
        rows.append(("runs finished", f"{done}/{planned}" if planned else str(done)))
    return rows


def _model_rows(path: Path) -> tuple[str, list[tuple[str, str]]] | None:
    """What a model folder holds: a classifier (``exprlab train``) or a matcher (``match train``)."""
    meta = _json(path / "metadata.json")
    if meta is not None and meta.get("format") == "exprlab-classifier":
        return "exprlab classifier (model folder)", [
            ("architecture", _text(meta.get("model"))),
            ("classes", _first([_text(c) for c in meta.get("classes", [])])),
            ("genes (features)", _text(meta.get("n_features"))),
            ("label column", _text(meta.get("label_key"))),
            ("log2", _text(meta.get("log2"))),
            ("seed", _text(meta.get("seed"))),
        ]
    model = _json(path / "model.json")
    if model is not None and "members" in model:
        genes = (path / "genes.txt").read_text().split() if (path / "genes.txt").is_file() else []
        members = model.get("members") or []
        return "exprlab matcher (model folder)", [
            ("architecture", _text(model.get("architecture"))),
            ("ensemble members", str(len(members))),
            ("validation MAP", ", ".join(f"{m.get('val_map', float('nan')):.3g}" for m in members)),
            ("genes", _first(genes)),
        ]
    return None


def _folder(path: Path) -> dict:
    """A run folder (by its manifest), a model folder, or any folder (its files)."""
    files = [f for f in path.rglob("*") if f.is_file()]
    listing = ("files", f"{len(files)} ({_size(sum(f.stat().st_size for f in files))})")
    record = _json(path / MANIFEST)
    model = _model_rows(path)
    if model is not None:
        rows = [r for r in _manifest_rows(record, path) if r[0] != "run kind"] if record is not None else []
        return {"format": model[0], "rows": [*model[1], *rows, listing]}
    if record is not None:
        return {"format": "exprlab run folder", "rows": [*_manifest_rows(record, path), listing]}
    if (path / XAI_STUDY.options).is_file():
        done = len(list((path / XAI_STUDY.runs).glob(f"*/*/run*/{XAI_STUDY.run_metrics}")))
        return {
            "format": "exprlab explanation study (no manifest yet)",
            "rows": [("runs finished", str(done)), listing],
        }
    names = sorted(str(f.relative_to(path)) for f in files)
    return {"format": "folder (not an exprlab run)", "rows": [listing, ("first files", _first(names))]}


def _small_file(path: Path) -> dict | None:
    """Arrays, JSON, figures, reports and logs exprlab writes into its run folders."""
    name = path.name.lower()
    size = ("size", _size(path.stat().st_size))
    if name.endswith(".run.json") or name == MANIFEST:
        record = _json(path)
        if record is not None and "kind" in record:
            return {"format": "exprlab run manifest", "rows": _manifest_rows(record)}
    if name.endswith(".npz"):
        with np.load(path) as z:
            rows = [(f"array {k}", f"{z[k].dtype} {tuple(z[k].shape)}") for k in z.files]
        return {"format": "numpy arrays (.npz)", "rows": [*rows, size]}
    if name.endswith(".json"):
        record = _json(path)
        keys = list(record) if record is not None else []
        return {"format": "JSON", "rows": [("keys", _first(keys)), size]}
    for suffix, what in (
        (".png", "PNG figure"),
        (".svg", "SVG figure"),
        (".html", "HTML report"),
        (".pt", "torch weights"),
    ):
        if name.endswith(suffix):
            return {"format": what, "rows": [size]}
    if name.endswith(".log"):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return {
            "format": "log",
            "rows": [("lines", str(len(lines))), ("last", lines[-1] if lines else ""), size],
        }
    return None


def describe_exprlab_output(path: str | os.PathLike) -> dict | None:
    """A description of an exprlab output, or ``None`` when ``path`` is a plain data file.

    Parameters
    ----------
    path
        A file or folder.

    Returns
    -------
    dict or None
        ``format`` and ``rows`` (a list of ``(field, value)`` strings); for a data file with a
        manifest beside it (a score table), ``None`` and :func:`exprlab.io.describe` adds it.
    """
    p = Path(path)
    if not p.exists():
        return None  # exprlab.io.describe then says the file is missing
    if p.is_dir():
        return _folder(p)
    if p.suffix.lower() in (".h5", ".hdf5", ".gctx"):
        found = _library(p)
        if found is not None:
            side = _json(manifest_path(p))
            if side is not None:
                found["rows"] += [r for r in _manifest_rows(side) if r[0] != "run kind"]
            return found
    return _small_file(p)


def manifest_rows(path: str | os.PathLike) -> list[tuple[str, str]]:
    """The manifest rows of a one-file result (``<file>.run.json`` beside it), if it has one."""
    record = _json(manifest_path(Path(path)))
    return _manifest_rows(record) if record is not None else []
