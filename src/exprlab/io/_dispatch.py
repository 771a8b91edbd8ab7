"""One entry point for every format: detect it, read it, write it, convert it, describe it.

Formats are told from the file name (``.gct``/``.gct.gz``/``.gct.xz``, ``.gctx``, ``.h5ad``,
``.gmt``/``.gmt.gz``/``.gmt.xz``, ``.cls``, ``.parquet``, ``.csv``/``.tsv``/``.txt``, each text
format optionally ``.gz``/``.xz``); ``.h5``/``.hdf5`` files and files with an unknown extension
are recognised from their content (HDF5 layout, ``#1.2``/``#1.3`` first line), and a GEO series
matrix by its name (``*_series_matrix.txt``) or its ``!Series_`` lines. Delimited text is read
as an expression matrix when it is one (numbers, ids on both axes, orientation detected; see
:func:`exprlab.io.read_expression_table`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import scipy.sparse as sp

from exprlab._outputs import refuse_inputs
from exprlab.errors import FormatError, InputDataError, InvalidParameterError, UnknownFormatError
from exprlab.io._anndata_io import read_h5ad, write_h5ad
from exprlab.io._cls import read_cls
from exprlab.io._common import HDF5_MAGIC, check_readable, head_bytes, read_text, strip_compression_suffix
from exprlab.io._expression_text import (
    is_series_matrix,
    read_expression_table,
    read_geo_series_matrix,
)
from exprlab.io._gct import read_gct, write_gct
from exprlab.io._gctx import MATRIX_PATH, open_h5, read_gctx, write_gctx
from exprlab.io._gmt import read_gmt, write_gmt
from exprlab.io._h5 import is_signaturesearch_h5, read_signaturesearch_h5, write_signaturesearch_h5
from exprlab.io._ids import guess_id_kind
from exprlab.io._outputs_info import describe_exprlab_output, manifest_rows
from exprlab.io._results import read_table
from exprlab.io._tables import read_delimited

__all__ = [
    "MATRIX_FORMATS",
    "detect_format",
    "format_from_name",
    "read",
    "write",
    "convert",
    "describe",
    "guess_id_kind",
]

#: Formats that hold an expression matrix (read into AnnData); csv and tsv when numeric.
MATRIX_FORMATS = ("gct", "gctx", "signaturesearch", "h5ad", "csv", "tsv", "geo_series")
_TEXT_MATRIX = ("csv", "tsv")
#: Formats :func:`write` / :func:`convert` can produce from an AnnData.
_WRITABLE = ("gct", "gctx", "h5ad", "signaturesearch")
_BY_SUFFIX = {
    ".gct": "gct",
    ".gctx": "gctx",
    ".h5ad": "h5ad",
    ".gmt": "gmt",
    ".cls": "cls",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".tab": "tsv",
    ".csv": "csv",
}
_KNOWN = (
    ".gct[.gz|.xz], .gctx, .h5 (GCTX or signatureSearch layout), .h5ad, .gmt[.gz|.xz], .cls, .parquet, "
    ".csv/.tsv/.txt[.gz|.xz], *_series_matrix.txt[.gz]"
)


def format_from_name(path: str | os.PathLike) -> str | None:
    """The format implied by a file name alone, or None (``.h5`` and unknown names)."""
    name, compression = strip_compression_suffix(Path(path).name)
    suffix = Path(name).suffix.lower()
    fmt = _BY_SUFFIX.get(suffix)
    if compression is not None and fmt not in ("gct", "gmt", "tsv", "csv"):
        return None
    if fmt == "tsv" and name.lower().endswith("_series_matrix.txt"):
        return "geo_series"
    return fmt


def _hdf5_layout(path: Path) -> str:
    with open_h5(path) as h5:
        if MATRIX_PATH in h5:
            return "gctx"
        if is_signaturesearch_h5(h5):
            return "signaturesearch"
        encoding = h5.attrs.get("encoding-type", b"")
        if (encoding.decode() if isinstance(encoding, bytes) else str(encoding)) == "anndata" or (
            "X" in h5 and "obs" in h5
        ):
            return "h5ad"
        keys = ", ".join(sorted(h5.keys())[:8]) or "none"
    raise FormatError(
        f"an HDF5 file with no known layout (top-level entries: {keys})",
        where=path,
        fix="exprlab reads GCTX (/0/DATA/0/matrix), signatureSearch (assay, colnames, rownames) and h5ad files",
    )


def detect_format(path: str | os.PathLike) -> str:
    """Tell the format of an existing file, from its name or else from its content.

    Parameters
    ----------
    path
        An existing file. ``.h5``/``.hdf5`` and unknown extensions are told from the content
        (HDF5 layout, a ``#1.2``/``#1.3`` first line).

    Returns
    -------
    str
        One of ``gct``, ``gctx``, ``signaturesearch``, ``h5ad``, ``gmt``, ``cls``, ``parquet``,
        ``csv``, ``tsv``, ``geo_series``.

    Raises
    ------
    FileAccessError
        Missing/unreadable file.
    UnknownFormatError
        Neither the name nor the content identifies a supported format.
    """
    p = check_readable(path)
    fmt = format_from_name(p)
    if fmt == "tsv" and is_series_matrix(p):
        return "geo_series"
    if fmt is not None:
        return fmt
    head = head_bytes(p, 8)
    if head.startswith(HDF5_MAGIC):
        return _hdf5_layout(p)
    suffix = "".join(p.suffixes).lower()
    if suffix.endswith((".h5", ".hdf5")):
        raise FormatError(
            "the file is named .h5 but is not HDF5", where=p, fix="check that the file is complete"
        )
    try:
        first = read_text(p).split("\n", 1)[0].strip()
    except FormatError:
        first = ""
    if first.split("\t")[0] in ("#1.2", "#1.3"):
        return "gct"
    if first.startswith(("!Series_", "!Sample_", "^SERIES")):
        return "geo_series"
    raise UnknownFormatError(
        f"unknown file format (extension '{suffix or 'none'}')",
        where=p,
        fix=f"use one of {_KNOWN}",
    )


def read(path: str | os.PathLike, **kwargs: Any) -> ad.AnnData:
    """Read any expression-matrix format into an AnnData (obs = samples, var = genes).

    Gene-set (GMT), label (CLS) and table files are refused with a pointer to their reader.

    Parameters
    ----------
    path
        A GCT, GCTX, signatureSearch HDF5, h5ad, delimited text (CSV/TSV) or GEO series matrix
        file (see :func:`detect_format`).
    **kwargs
        Passed to the format's reader (e.g. ``cid=`` for GCTX, ``allow_nan=``, ``genes_as=``
        for CSV/TSV).

    Returns
    -------
    anndata.AnnData
        The matrix with its metadata, as the format's reader returns it.
    """
    fmt = detect_format(path)
    if fmt == "gct":
        return read_gct(path, **kwargs)
    if fmt == "gctx":
        return read_gctx(path, **kwargs)
    if fmt == "signaturesearch":
        return read_signaturesearch_h5(path, **kwargs)
    if fmt == "h5ad":
        return read_h5ad(path, **kwargs)
    if fmt in _TEXT_MATRIX:
        return read_expression_table(path, **kwargs)
    if fmt == "geo_series":
        return read_geo_series_matrix(path, **kwargs)
    reader = {"gmt": "read_gmt", "cls": "read_cls", "parquet": "read_table"}[fmt]
    raise InvalidParameterError(
        f"a {fmt} file holds no expression matrix",
        where=path,
        fix=f"use exprlab.io.{reader} for this file",
    )


def _output_format(path: str | os.PathLike) -> str | None:
    """The format an output name asks for: ``.h5``/``.hdf5`` mean the signatureSearch layout."""
    if Path(path).name.lower().endswith((".h5", ".hdf5")):
        return "signaturesearch"
    return format_from_name(path)


def _writable_format(path: str | os.PathLike) -> str:
    fmt = _output_format(path)
    if fmt not in _WRITABLE:
        raise UnknownFormatError(
            f"cannot write an expression matrix to '{Path(path).name}'",
            where=path,
            fix="name the output .gct (optionally .gct.gz/.gct.xz), .gctx, .h5ad or .h5 (signatureSearch)",
        )
    return fmt


def write(adata: ad.AnnData, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Write an AnnData in the format named by the extension, atomically.

    Parameters
    ----------
    adata
        obs = samples / signatures, var = genes.
    path
        Output file: ``.gct`` (optionally ``.gct.gz``/``.gct.xz``), ``.gctx``, ``.h5ad`` or
        ``.h5``/``.hdf5`` (signatureSearch's layout, :func:`write_signaturesearch_h5`).
    **kwargs
        Passed to the format's writer (e.g. ``version=`` for GCT, ``compression=``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    fmt = _writable_format(path)
    if fmt == "gct":
        return write_gct(adata, path, **kwargs)
    if fmt == "gctx":
        return write_gctx(adata, path, **kwargs)
    if fmt == "signaturesearch":
        return write_signaturesearch_h5(adata, path, **kwargs)
    return write_h5ad(adata, path, **kwargs)


def convert(src: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Convert a matrix between formats, or gene sets between GMT files.

    Matrices go from gct, gctx, signatureSearch h5 or h5ad to gct, gctx, h5ad or
    signatureSearch h5 (an output named ``.h5``/``.hdf5``); gene sets from
    GMT to GMT (changing the compression). Pairs that make no sense (a gene-set file to a
    matrix, labels to anything, ...) are refused before anything is read or written.

    Parameters
    ----------
    src
        The input file (format detected as in :func:`detect_format`).
    out
        The output file; its extension names the format. Written atomically.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    refuse_inputs(out, [src])
    out_name = _output_format(out)
    fmt_in = detect_format(src)
    if fmt_in == "gmt":
        if out_name != "gmt":
            raise InvalidParameterError(
                f"cannot convert gene sets (gmt) to {out_name or Path(out).name}",
                where=src,
                fix="gene sets convert only to another .gmt/.gmt.gz/.gmt.xz file",
            )
        sets = read_gmt(src)
        return write_gmt(sets, out)
    if fmt_in not in MATRIX_FORMATS:
        raise InvalidParameterError(
            f"cannot convert a {fmt_in} file",
            where=src,
            fix="convert works on gct, gctx, h5 and h5ad matrices, and gmt gene sets",
        )
    if out_name not in _WRITABLE:
        raise InvalidParameterError(
            f"cannot convert a {fmt_in} matrix to '{Path(out).name}'",
            where=out,
            fix="name the output .gct (optionally .gct.gz/.gct.xz), .gctx, .h5ad or .h5 (signatureSearch)",
        )
    return write(read(src), out)


def _value_summary(X) -> dict:
    arr = X.toarray() if sp.issparse(X) else np.asarray(X)
    arr = arr.astype(np.float64, copy=False)
    n_nan = int(np.isnan(arr).sum())
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return {"min": None, "median": None, "max": None, "nan": n_nan}
    return {
        "min": float(finite.min()),
        "median": float(np.median(finite)),
        "max": float(finite.max()),
        "nan": n_nan,
    }


def describe(path: str | os.PathLike, *, n_first: int = 5) -> dict:
    """A summary of a file for ``exprlab info``: format, shape, gene space, metadata, values.

    Parameters
    ----------
    path
        Any file :func:`detect_format` recognises, or a file or folder exprlab wrote (on-disk
        library, run or model folder, manifest, ``.npz`` ...).
    n_first
        How many ids (genes, samples, sets) to show as examples.

    Returns
    -------
    dict
        ``format`` and ``rows`` (``(field, value)`` pairs: everything said about exprlab's own
        outputs, and the run manifest beside a result file); for matrices ``shape`` (obs x
        var), ``gene_space`` (kind, count, first ids),
        ``obs_fields``, ``var_fields``, ``values`` (min/median/max over finite values, NaN
        count) and, for text matrices, ``orientation``; a CSV/TSV that is not a matrix is
        described as a table with a ``note`` saying why; for GMT the number of sets and their sizes; for CLS the class counts; for
        tables rows and columns.
    """
    own = describe_exprlab_output(path)
    if own is not None:  # a library, run folder, model folder, manifest or run file
        return {"path": str(path), **own}
    fmt = detect_format(path)
    info: dict = {"path": str(path), "format": fmt, "rows": manifest_rows(path)}
    adata = None
    if fmt in _TEXT_MATRIX:
        try:
            adata = read_expression_table(path)
        except (InputDataError, FormatError) as err:
            info["note"] = f"not read as an expression matrix: {err}"
    elif fmt in MATRIX_FORMATS:
        adata = read(path)
    if adata is not None:
        info.update(_matrix_summary(adata, n_first))
    elif fmt == "gmt":
        sets = read_gmt(path)
        sizes = np.array([len(g) for g in sets.values()])
        universe = list(dict.fromkeys(g for genes in sets.values() for g in genes))
        info.update(
            n_sets=len(sets),
            set_sizes={"min": int(sizes.min()), "median": float(np.median(sizes)), "max": int(sizes.max())},
            gene_space={"kind": guess_id_kind(universe), "count": len(universe), "first": universe[:n_first]},
            first_sets=list(sets)[:n_first],
        )
    elif fmt == "cls":
        labels = read_cls(path)
        info.update(
            n_samples=len(labels),
            classes={str(k): int(v) for k, v in labels.value_counts(sort=False).items()},
        )
    else:
        table = read_delimited(path, sep=",") if fmt == "csv" else read_table(path)
        info.update(shape=table.shape, columns=list(map(str, table.columns)))
    return info


def _matrix_summary(adata: ad.AnnData, n_first: int) -> dict:
    genes = list(map(str, adata.var_names))
    summary = dict(
        shape=(adata.n_obs, adata.n_vars),
        gene_space={"kind": guess_id_kind(genes), "count": len(genes), "first": genes[:n_first]},
        obs_names={"count": adata.n_obs, "first": list(map(str, adata.obs_names[:n_first]))},
        obs_fields=list(map(str, adata.obs.columns)),
        var_fields=list(map(str, adata.var.columns)),
        values=_value_summary(adata.X),
        dtype=str(adata.X.dtype),
    )
    layout = adata.uns.get("layout")
    if isinstance(layout, dict) and "genes_as" in layout:
        summary["orientation"] = f"genes as {layout['genes_as']} in the file ({layout.get('rule', '')})"
    return summary
