"""GCTX (the HDF5 form of GCT used by CMap / LINCS) to and from AnnData.

Standard layout (as written by the Broad's tools and read by cmapPy / cmapR)::

    /                      attribute version = "GCTX1.0"
    /0/DATA/0/matrix       the values; shape (n_columns, n_rows) = (samples, genes)
    /0/META/ROW/id         gene ids;   /0/META/ROW/<field> one dataset per row-metadata field
    /0/META/COL/id         sample ids; /0/META/COL/<field> one dataset per column field

HDF5 is row-major, so the matrix's first axis is the GCT column (sample / signature): one
signature is one contiguous HDF5 row, which is why AnnData's obs x var maps onto it directly.
A file whose matrix is stored the other way round (genes x samples) is recognised from the
id lengths and read correctly as well.

:func:`read_gctx` reads only the selected rows/columns (HDF5 selections on sorted indices,
then reordered to the requested order), so a few signatures of a million-signature file cost
a few chunk reads. :func:`write_gctx` chunks the matrix by signature (about 512 KiB per chunk) so
that such selections stay fast, with optional gzip/lzf compression.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab._progress import track
from exprlab._validation import check_choice
from exprlab.errors import DuplicateIdError, FormatError, InputDataError, InvalidParameterError
from exprlab.io._common import check_readable, check_unique, column_as_text, infer_column, validate_adata
from exprlab.io._gct import check_finite

__all__ = [
    "read_gctx",
    "write_gctx",
    "GctxWriter",
    "gctx_ids",
    "MATRIX_PATH",
    "ROW_META_PATH",
    "COL_META_PATH",
]

MATRIX_PATH = "0/DATA/0/matrix"
ROW_META_PATH = "0/META/ROW"
COL_META_PATH = "0/META/COL"
_CHUNK_BYTES = 512 * 1024
#: Above this many selected indices that are also dense in their span, reading the span and
#: subsetting in memory beats an HDF5 point-list selection.
_FANCY_MAX = 256
#: Bytes per job of a direct whole-matrix read (read and checked finite by one thread).
_DIRECT_BYTES = 32 << 20


def open_h5(path: str | os.PathLike) -> h5py.File:
    """Open an HDF5 file read-only, turning "not HDF5" into a FormatError."""
    p = check_readable(path)
    try:
        return h5py.File(p, "r")
    except OSError as err:
        raise FormatError(
            f"not a readable HDF5 file ({err})",
            where=p,
            fix="check that the file is a complete GCTX/HDF5 file (a truncated download fails this way)",
        ) from err


def decode_strings(values: np.ndarray) -> np.ndarray:
    """HDF5 string/number dataset values as a numpy unicode array.

    Bytes are decoded as UTF-8; integer (or integer-valued float) ids become their decimal text,
    so ids read back as strings even when a file stores them as numbers.
    """
    arr = np.asarray(values).reshape(-1)
    if arr.dtype.kind == "S":
        try:
            return arr.astype(str)  # vectorised; ASCII only
        except UnicodeDecodeError:
            return np.array([v.decode("utf-8") for v in arr.tolist()], dtype=str)
    if arr.dtype.kind == "O":
        return np.array(
            [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in arr.tolist()], dtype=str
        )
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(str)
    if arr.dtype.kind == "f":
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return arr.astype(np.int64).astype(str)
        return np.array([repr(float(v)) for v in arr.tolist()], dtype=str)
    if arr.dtype.kind == "b":
        return np.array([str(bool(v)) for v in arr.tolist()], dtype=str)
    raise TypeError(f"cannot read dtype {arr.dtype} as strings")


def _dataset(h5: h5py.File, name: str, where: Path) -> h5py.Dataset:
    obj = h5.get(name)
    if not isinstance(obj, h5py.Dataset):
        raise FormatError(
            f"no dataset /{name} ({'it is a group' if obj is not None else 'missing'})",
            where=where,
            fix="a GCTX file needs /0/DATA/0/matrix, /0/META/ROW/id and /0/META/COL/id; "
            "write it with exprlab.io.write_gctx or check that it is a GCTX file",
        )
    return obj


def _raw_ids(h5: h5py.File, group: str, where: Path) -> np.ndarray:
    """The undecoded values of ``/<group>/id`` as a 1-D array."""
    return read_whole(_dataset(h5, f"{group}/id", where)).reshape(-1)


def _decode_ids(raw: np.ndarray, group: str, where: Path) -> np.ndarray:
    try:
        return decode_strings(raw)
    except (TypeError, UnicodeDecodeError) as err:
        raise FormatError(
            f"/{group}/id cannot be read as text ({err})", where=where, fix="store ids as strings"
        ) from err


def _read_ids(h5: h5py.File, group: str, where: Path) -> np.ndarray:
    return _decode_ids(_raw_ids(h5, group, where), group, where)


def gctx_ids(path: str | os.PathLike) -> tuple[list[str], list[str]]:
    """The gene and sample ids of a GCTX file, without reading its matrix.

    Useful to choose what to read from a large file (``read_gctx(path, cid=...)``).

    Parameters
    ----------
    path
        The GCTX file.

    Returns
    -------
    tuple of (list of str, list of str)
        The gene ids (GCT rows) and the sample / signature ids (GCT columns), in file order.
    """
    where = Path(path)
    with open_h5(where) as h5:
        return list(_read_ids(h5, ROW_META_PATH, where)), list(_read_ids(h5, COL_META_PATH, where))


def read_whole(ds: h5py.Dataset | h5py.h5d.DatasetID) -> np.ndarray:
    """Read a whole dataset through the low-level API.

    This costs a fraction of ``ds[()]``'s overhead, which matters for files with dozens of small
    metadata datasets.
    """
    dsid = ds.id if isinstance(ds, h5py.Dataset) else ds
    dtype, shape = dsid.dtype, dsid.shape
    if dtype.kind not in "iufbS" or shape is None:  # variable-length strings, empty datasets
        return np.asarray(h5py.Dataset(dsid)[()])
    out = np.empty(shape, dtype=dtype)
    if out.size:
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, out)
    return out


def _read_1d(dsid: h5py.h5d.DatasetID, sel: np.ndarray | None) -> np.ndarray:
    """A 1-D dataset, or only its ``sel`` entries (sorted HDF5 selection, then reordered)."""
    if sel is None:
        return read_whole(dsid).reshape(-1)
    ds = h5py.Dataset(dsid)
    if ds.ndim != 1:
        return np.asarray(ds[()]).reshape(-1)[sel]
    hsel, pos = _axis_plan(sel, ds.shape[0])
    if hsel is None:
        return np.asarray(ds[:0])
    vals = np.asarray(ds[hsel])
    return vals if pos is None else vals[pos]


def _read_meta(
    h5: h5py.File, group: str, n: int, sel: np.ndarray | None, where: Path, *, fields: bool = True
) -> pd.DataFrame:
    """Every dataset of a META group except ``id``, as typed columns (selection applied).

    With ``fields=False`` the frame has no column (only the ids will be read). Uses h5py's
    low-level objects: a CMap file has dozens of small metadata datasets and the high-level
    wrappers would cost more than the reading itself.
    """
    if not fields:
        return pd.DataFrame(index=range(n if sel is None else sel.size))
    columns: dict[str, np.ndarray] = {}
    grp = h5[group]
    gid = grp.id
    for name in grp:  # creation order when the writer tracked it (exprlab does), else by name
        if name == "id":
            continue
        raw_name = name.encode("utf-8")
        dsid = h5py.h5o.open(gid, raw_name)
        if not isinstance(dsid, h5py.h5d.DatasetID):
            continue
        shape = dsid.shape or ()
        size = int(np.prod(shape)) if shape else 1
        if size != n or (len(shape) > 1 and max(shape) != n):
            raise FormatError(
                f"metadata field /{group}/{name} has {size} values for {n} ids",
                where=where,
                fix="every metadata dataset needs exactly one value per id",
            )
        vals = _read_1d(dsid, sel)
        if vals.dtype.kind in "SOU":
            try:
                columns[name] = infer_column(vals if vals.dtype.kind == "S" else decode_strings(vals))
            except UnicodeDecodeError as err:
                raise FormatError(
                    f"metadata field /{group}/{name} holds text that is not UTF-8 ({err.reason})",
                    where=where,
                    fix="store metadata strings as UTF-8",
                ) from err
        elif vals.dtype.kind in "iufb":
            columns[name] = vals
        else:
            raise FormatError(
                f"metadata field /{group}/{name} has unsupported type {vals.dtype}",
                where=where,
                fix="store metadata as numbers or strings",
            )
    return pd.DataFrame(columns, index=pd.RangeIndex(n if sel is None else sel.size))


def _id_words(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-width byte ids as rows of 8-byte words (zero-padded), and a hash of each row.

    Finding a few ids in a long id array by comparing hashes, then the few rows whose hash
    matches word by word, is one pass over the array whatever prefix the ids share (LINCS ids
    share their first dozen bytes); numpy's comparison of byte strings walks every id character
    by character, once per wanted id.
    """
    n_words = max(1, -(-raw.dtype.itemsize // 8))
    padded = np.zeros(raw.shape[0], dtype=f"S{8 * n_words}")
    padded[:] = raw
    words = padded.view(np.uint64).reshape(raw.shape[0], n_words)
    return words, _row_hashes(words)


def _row_hashes(words: np.ndarray) -> np.ndarray:
    """A 64-bit multiplicative hash of each row of words (wrapping arithmetic)."""
    h = np.zeros(words.shape[0], dtype=np.uint64)
    for j in range(words.shape[1]):
        h = (h * np.uint64(0x9E3779B97F4A7C15)) ^ words[:, j]
    return h


def _word_hits(table: tuple[np.ndarray, np.ndarray], wanted: bytes) -> np.ndarray:
    """Rows of :func:`_id_words` equal to the id ``wanted`` (byte strings ignore trailing NULs)."""
    words, hashes = table
    wanted = wanted.rstrip(b"\0")
    if len(wanted) > 8 * words.shape[1]:
        return np.zeros(0, dtype=np.int64)  # longer than any id the file can hold
    key = np.frombuffer(wanted.ljust(8 * words.shape[1], b"\0"), dtype=np.uint64)
    hits = np.flatnonzero(hashes == _row_hashes(key[None, :])[0])
    return hits[(words[hits] == key).all(axis=1)]


def _positions_of(raw: np.ndarray, want: list[str], group: str, where: Path) -> np.ndarray:
    """Positions of the ids ``want`` in the raw id array (-1 when absent)."""
    if raw.dtype.kind == "S" and len(want) <= 16:  # a few ids: compare bytes, decode nothing
        pos = np.full(len(want), -1, dtype=np.int64)
        words = _id_words(raw)
        for k, w in enumerate(want):
            hits = _word_hits(words, w.encode("utf-8"))
            if hits.size > 1:
                raise DuplicateIdError(
                    f"id '{w}' appears {hits.size} times in /{group}/id",
                    where=where,
                    fix="make the file's ids unique",
                )
            if hits.size:
                pos[k] = hits[0]
        return pos
    ids = pd.Index(_decode_ids(raw, group, where), dtype=object)
    if not ids.is_unique:
        check_unique(ids, what="id", where=where)
    return ids.get_indexer(pd.Index(want, dtype=object))


def _resolve(
    raw: np.ndarray,
    by_id: Sequence[str] | None,
    by_idx: Sequence[int] | None,
    *,
    axis: str,
    names: tuple[str, str],
    group: str,
    where,
) -> np.ndarray | None:
    """Positions selected by id or by index (None = all), checking every request."""
    if by_id is not None and by_idx is not None:
        raise InvalidParameterError(
            f"both {names[0]}= and {names[1]}= were given",
            where=where,
            fix=f"select {axis}s by id or by index, not both",
        )
    n = len(raw)
    if by_id is not None:
        if isinstance(by_id, str):
            by_id = [by_id]
        want = [str(v) for v in by_id]
        pos = _positions_of(raw, want, group, where)
        missing = [w for w, p in zip(want, pos, strict=True) if p < 0]
        if len(missing):
            raise InputDataError(
                f"{len(missing)} requested {axis} id(s) are not in the file, e.g. {', '.join(map(repr, missing[:5]))}",
                where=where,
                fix=f"check the {axis} ids ({names[0]}=); exprlab.io.gctx_ids(path) lists them",
            )
    elif by_idx is not None:
        pos = np.asarray(by_idx).reshape(-1)
        if pos.dtype.kind == "b":
            if pos.size != n:
                raise InvalidParameterError(
                    f"the boolean {names[1]} mask has {pos.size} entries for {n} {axis}s",
                    where=where,
                    fix="give one entry per id",
                )
            pos = np.flatnonzero(pos)
        if pos.size and pos.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"{names[1]}= must hold integers", where=where, fix="give integer positions"
            )
        pos = pos.astype(np.int64)
        bad = pos[(pos < -n) | (pos >= n)]
        if bad.size:
            raise InvalidParameterError(
                f"{axis} index {int(bad[0])} is out of range (the file has {n} {axis}s)",
                where=where,
                fix=f"use {names[1]} values between 0 and {n - 1}",
            )
        pos = np.where(pos < 0, pos + n, pos)
    else:
        return None
    if len(np.unique(pos)) != len(pos):
        raise InvalidParameterError(
            f"the {axis} selection repeats an entry",
            where=where,
            fix="select each id once (AnnData names must be unique)",
        )
    return np.asarray(pos, dtype=np.int64)


def _axis_plan(sel: np.ndarray | None, n: int):
    """How to read one axis: (HDF5 selection, positions within what it returns) for ``sel``."""
    if sel is None:
        return slice(None), None
    if sel.size == 0:
        return None, None
    order = np.sort(sel)
    lo, hi = int(order[0]), int(order[-1]) + 1
    if hi - lo == order.size or (order.size > _FANCY_MAX and order.size * 4 >= hi - lo):
        return slice(lo, hi), sel - lo  # contiguous or dense enough: one hyperslab
    return order, np.searchsorted(order, sel)  # sparse: point list on sorted indices


def read_block(ds: h5py.Dataset, sel0: np.ndarray | None, sel1: np.ndarray | None) -> np.ndarray:
    """Read ``ds[sel0][:, sel1]`` touching only what is needed, in the requested order.

    h5py accepts one index list per read, so with two lists the axis whose list reads the fewer
    cells is taken as a list and the other as the span of its selection, subset in memory.
    """
    n0, n1 = ds.shape
    if sel0 is None and sel1 is None:
        return read_whole(ds)
    plan0, plan1 = _axis_plan(sel0, n0), _axis_plan(sel1, n1)
    if plan0[0] is None or plan1[0] is None:  # an empty selection: nothing to read
        shape = (n0 if sel0 is None else sel0.size, n1 if sel1 is None else sel1.size)
        return np.empty(shape, dtype=ds.dtype)
    (h0, p0), (h1, p1) = plan0, plan1
    if isinstance(h0, np.ndarray) and isinstance(h1, np.ndarray):

        def span(a):
            return int(a[-1]) - int(a[0]) + 1

        assert sel0 is not None and sel1 is not None  # index lists come from selections
        if h0.size * span(h1) <= span(h0) * h1.size:  # list on axis 0, span on axis 1
            block = ds[h0, int(h1[0]) : int(h1[-1]) + 1]
            p1 = sel1 - int(h1[0])
        else:
            block = ds[int(h0[0]) : int(h0[-1]) + 1, h1]
            p0 = sel0 - int(h0[0])
    else:
        block = ds[h0, h1]
    if p0 is not None:
        block = block[p0]
    if p1 is not None:
        block = block[:, p1]
    return np.ascontiguousarray(block)


def read_gctx(
    path: str | os.PathLike,
    rid: Sequence[str] | None = None,
    cid: Sequence[str] | None = None,
    ridx: Sequence[int] | None = None,
    cidx: Sequence[int] | None = None,
    *,
    allow_nan: bool = True,
    meta: bool = True,
) -> ad.AnnData:
    """Read a GCTX file, or the selected part of it, into an AnnData.

    Parameters
    ----------
    path
        The GCTX (or GCTX-layout ``.h5``) file.
    rid, ridx
        Genes (GCT rows) to read, by id or by position (list, array or boolean mask); the
        result keeps the requested order. Default: all.
    cid, cidx
        Samples / signatures (GCT columns) to read, by id or position. Default: all.
    allow_nan
        Keep NaN values (default); ``False`` refuses them. Infinite values are always refused.
    meta
        Read the row and column metadata fields (default) or only the ids.

    Returns
    -------
    AnnData
        obs = selected columns (samples) with column metadata, var = selected rows (genes) with
        row metadata; the matrix keeps the file's dtype.

    Raises
    ------
    FileAccessError, FormatError
        Unreadable file; not HDF5, or no ``/0/DATA/0/matrix`` / id datasets, or shapes that
        disagree.
    InputDataError, InvalidParameterError
        Requested ids absent, indices out of range, repeated, or both id and index given.
    NonFiniteValueError
        Infinite values (or NaN when ``allow_nan=False``) in what was read.
    """
    where = Path(path)
    with open_h5(where) as h5:
        ds = _dataset(h5, MATRIX_PATH, where)
        row_raw = _raw_ids(h5, ROW_META_PATH, where)
        col_raw = _raw_ids(h5, COL_META_PATH, where)
        nr, nc = len(row_raw), len(col_raw)
        genes_first = _genes_first(ds, nr, nc, where)
        rsel = _resolve(
            row_raw, rid, ridx, axis="row (gene)", names=("rid", "ridx"), group=ROW_META_PATH, where=where
        )
        csel = _resolve(
            col_raw,
            cid,
            cidx,
            axis="column (sample)",
            names=("cid", "cidx"),
            group=COL_META_PATH,
            where=where,
        )
        finite = None
        if rsel is None and csel is None:
            X, finite = read_matrix(ds)
            X = X.T if genes_first else X
        else:
            X = read_block(ds, rsel, csel).T if genes_first else read_block(ds, csel, rsel)
        var = _read_meta(h5, ROW_META_PATH, nr, rsel, where, fields=meta)
        obs = _read_meta(h5, COL_META_PATH, nc, csel, where, fields=meta)
    genes = _unique_index(row_raw if rsel is None else row_raw[rsel], ROW_META_PATH, "gene", where)
    samples = _unique_index(col_raw if csel is None else col_raw[csel], COL_META_PATH, "sample", where)
    var.index = genes
    obs.index = samples
    if X.dtype.kind == "f" and not (_surely_finite(X) if finite is None else finite):
        check_finite(
            X, allow_nan=allow_nan, where=where, gene_ids=genes, sample_ids=samples, genes_on_rows=False
        )
    return ad.AnnData(X=X, obs=obs, var=var)


def _surely_finite(X: np.ndarray) -> bool:
    """True when every value is finite, decided in one pass without a temporary array.

    The sum of squares (a BLAS dot product of the values with themselves, several times faster
    than ``np.isfinite(X).all()``) is finite exactly when no value is NaN or infinite, unless
    it overflows; False therefore sends the caller to the cell-by-cell check, which names the
    first bad value or finds none.
    """
    if not X.size:
        return True
    flat = X.ravel(order="K")  # a view of a C- or F-contiguous block
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)))


def _direct_pieces(dsid: h5py.h5d.DatasetID) -> list[tuple[int, int, int]] | None:
    """Where a 2-D matrix's rows lie in its file, when they can be read as plain bytes.

    Returns ``(first row, rows, byte offset)`` pieces in row order, merged where the file holds
    them back to back, for a matrix stored contiguously or in chunks of whole rows, without
    filters, every chunk written, in the machine's byte order; None otherwise (compressed,
    chunks narrower than a row, unwritten chunks holding the fill value...), and the caller
    reads through HDF5.
    """
    shape, dtype = dsid.shape, dsid.dtype
    if len(shape) != 2 or 0 in shape or dtype.kind not in "fiu" or not dtype.isnative:
        return None
    plist = dsid.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.CONTIGUOUS:
        offset = dsid.get_offset()
        return None if offset is None else [(0, shape[0], offset)]
    if layout != h5py.h5d.CHUNKED or plist.get_nfilters() or plist.get_chunk()[1] != shape[1]:
        return None
    step = plist.get_chunk()[0]
    found: list[tuple[int, int]] = []
    dsid.chunk_iter(lambda info: found.append((info.chunk_offset[0], info.byte_offset)))
    if len(found) != -(-shape[0] // step):
        return None
    pieces: list[tuple[int, int, int]] = []
    row_bytes = shape[1] * dtype.itemsize
    for first, offset in sorted(found):
        rows = min(step, shape[0] - first)
        if (
            pieces
            and pieces[-1][0] + pieces[-1][1] == first
            and pieces[-1][2] + pieces[-1][1] * row_bytes == offset
        ):
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + rows, pieces[-1][2])
        else:
            pieces.append((first, rows, offset))
    return pieces


def read_matrix(ds: h5py.Dataset) -> tuple[np.ndarray, bool | None]:
    """A whole 2-D matrix, and whether it is surely finite (None when not decided).

    Where :func:`_direct_pieces` finds the rows as plain bytes, they are read straight into
    the result by several threads (``os.preadv`` releases the GIL, which HDF5 holds), each job
    of about ``_DIRECT_BYTES`` checked finite (:func:`_surely_finite`) while its bytes are still
    in the cache: the read costs less than HDF5's single-threaded one, and the check costs
    almost nothing. Otherwise the matrix is read through HDF5 and the check is left to the caller.
    """
    pieces = _direct_pieces(ds.id)
    if pieces is None:
        return read_whole(ds), None
    n_rows, n_cols = ds.shape
    out = np.empty((n_rows, n_cols), dtype=ds.dtype)
    row_bytes = n_cols * out.itemsize
    per_job = max(1, _DIRECT_BYTES // row_bytes)
    jobs = [
        (first + lo, min(rows - lo, per_job), offset + lo * row_bytes)
        for first, rows, offset in pieces
        for lo in range(0, rows, per_job)
    ]
    raw = memoryview(out.reshape(-1).view(np.uint8).data)
    fd = os.open(ds.file.filename, os.O_RDONLY)

    def job(piece: tuple[int, int, int]) -> bool:
        first, rows, offset = piece
        view, done = raw[first * row_bytes : (first + rows) * row_bytes], 0
        while done < len(view):
            got = os.preadv(fd, [view[done:]], offset + done)
            if got <= 0:
                raise FormatError(
                    f"/{MATRIX_PATH} ends before its last value",
                    where=ds.file.filename,
                    fix="the file is truncated: download or write it again",
                )
            done += got
        return out.dtype.kind != "f" or _surely_finite(out[first : first + rows])

    try:
        with ThreadPoolExecutor(min(len(jobs), os.cpu_count() or 1)) as pool:
            finite = all(list(pool.map(job, jobs)))
    finally:
        os.close(fd)
    return out, finite


def _unique_index(raw: np.ndarray, group: str, what: str, where: Path) -> pd.Index:
    """Decoded ids as an Index, refused (naming the first repeat) when not unique.

    The hash-based test is cached on the Index, so AnnData's own uniqueness check costs nothing.
    """
    index = pd.Index(_decode_ids(raw, group, where), dtype=object)
    if not index.is_unique:
        check_unique(index, what=what, where=where)
    return index


def _genes_first(ds: h5py.Dataset, nr: int, nc: int, where: Path) -> bool:
    """Whether the matrix is stored genes x samples (the standard is samples x genes); checks it."""
    if ds.ndim != 2:
        raise FormatError(f"/{MATRIX_PATH} is {ds.ndim}-D, expected 2-D", where=where, fix="check the file")
    if ds.shape == (nc, nr):
        genes_first = False
    elif ds.shape == (nr, nc):
        genes_first = True
    else:
        raise FormatError(
            f"/{MATRIX_PATH} has shape {ds.shape} but there are {nr} row ids and {nc} column ids",
            where=where,
            fix="the matrix must be (columns x rows) as in the GCTX standard",
        )
    if ds.dtype.kind not in "fiu":
        raise FormatError(f"/{MATRIX_PATH} holds {ds.dtype}, not numbers", where=where, fix="store numbers")
    return genes_first


def _string_dataset(group: h5py.Group, name: str, values: Sequence[str] | np.ndarray, **opts) -> None:
    """Store strings as fixed-length UTF-8 (what cmapPy / cmapR read), at least 1 byte wide."""
    encoded = [str(v).encode("utf-8") for v in values]
    width = max([len(b) for b in encoded] + [1])
    data = np.array(encoded, dtype=h5py.string_dtype("utf-8", width))
    group.create_dataset(name, data=data, **opts)


def _write_meta(group: h5py.Group, ids: Sequence[str], frame: pd.DataFrame, **opts) -> None:
    _string_dataset(group, "id", ids, **opts)
    for col in frame.columns:
        name = str(col)
        if name == "id":
            raise InputDataError(
                "a metadata column is named 'id', which GCTX reserves for the ids",
                where=group.file.filename,
                fix="rename that obs/var column before writing",
            )
        series = frame[col]
        kind = series.dtype.kind if not isinstance(series.dtype, pd.CategoricalDtype) else "O"
        if kind in "iuf" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
            group.create_dataset(name, data=series.to_numpy(), **opts)
        else:
            _string_dataset(group, name, column_as_text(series), **opts)


def write_gctx(
    adata: ad.AnnData,
    path: str | os.PathLike,
    *,
    compression: Literal["gzip", "lzf"] | None = None,
    compression_opts: int | None = None,
    chunk_size: int | None = None,
    dtype: np.dtype | type | str | None = None,
) -> Path:
    """Write an AnnData as a standard-layout GCTX file, atomically.

    String metadata is stored as fixed-length UTF-8, numeric metadata as numbers, missing
    string values as ``na``; the root attribute ``version`` is ``GCTX1.0``.

    Parameters
    ----------
    adata
        obs = samples / signatures (GCTX columns), var = genes (GCTX rows).
    path
        Output file (``.gctx``).
    compression, compression_opts
        HDF5 filter for the matrix and metadata: None (default, fastest reads), ``"gzip"``
        (level in ``compression_opts``, default 4) or ``"lzf"``.
    chunk_size
        Signatures per HDF5 chunk; default about 512 KiB of data per chunk, so a few signatures
        are read without touching the rest.
    dtype
        Matrix dtype to store; default the AnnData's (CMap files use float32).

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    compression = check_choice(compression, "compression", (None, "gzip", "lzf"))
    X = validate_adata(adata, where=where)
    if dtype is not None:
        X = X.astype(dtype, copy=False)
    if X.dtype.kind not in "fiu":
        X = X.astype(np.float32)
    obs_ids = [str(s) for s in adata.obs_names]
    var_ids = [str(g) for g in adata.var_names]
    if X.dtype.kind == "f":
        check_finite(
            X, allow_nan=True, where=where, gene_ids=var_ids, sample_ids=obs_ids, genes_on_rows=False
        )
    n_obs, n_var = X.shape
    chunks = _chunk_shape(n_obs, n_var, X.dtype.itemsize, chunk_size)
    filt: dict[str, Any] = {}
    if compression is not None:
        filt = {"compression": compression}
        if compression == "gzip":
            filt["compression_opts"] = 4 if compression_opts is None else compression_opts
    with atomic_path(where) as tmp:
        with h5py.File(tmp, "w") as h5:
            _mark_gctx(h5, where)
            ds = h5.create_dataset(MATRIX_PATH, shape=(n_obs, n_var), dtype=X.dtype, chunks=chunks, **filt)
            if chunks is not None:
                step = max(
                    1, chunks[0] * max(1, (64 * 1024 * 1024) // (chunks[0] * n_var * X.dtype.itemsize))
                )
                for start in track(range(0, n_obs, step), "writing gctx", total=-(-n_obs // step)):
                    ds[start : start + step] = X[start : start + step]
            # track_order keeps the metadata fields in the AnnData's column order
            _write_meta(
                h5.create_group(ROW_META_PATH, track_order=True),
                var_ids,
                adata.var,
                **(filt if n_var else {}),
            )
            _write_meta(
                h5.create_group(COL_META_PATH, track_order=True),
                obs_ids,
                adata.obs,
                **(filt if n_obs else {}),
            )
    return where


def _mark_gctx(h5: h5py.File, where: Path) -> None:
    """The root attributes of a standard GCTX file: ``version`` and ``src`` (the file's name)."""
    h5.attrs["version"] = np.bytes_(b"GCTX1.0")
    h5.attrs["src"] = np.bytes_(where.name.encode("utf-8"))


#: Bytes of HDF5 chunk cache a :class:`GctxWriter` keeps at most: writes that end inside a chunk
#: (blocks not aligned on the chunks) complete it from the cache rather than reading it back.
_WRITER_CACHE_BYTES = 64 << 20


class GctxWriter:
    """Write a standard-layout GCTX file piece by piece (atomically: the file appears on close).

    For a matrix too large to hold in memory, such as the scores of many queries against a
    library of a million signatures: the ids are written first, then :meth:`write` fills any
    rectangle of the matrix, in any order. Use as a context manager; a failure (or leaving the
    block with an exception) discards the temporary file, so nothing partial is left at
    ``path``. The layout is that of :func:`write_gctx` (AnnData orientation: ``obs`` = GCT
    columns, ``var`` = GCT rows; the matrix is stored (n_columns, n_rows)); a part never
    written holds NaN.

    Parameters
    ----------
    path
        Output file (``.gctx``).
    obs_ids
        GCT column ids (``/0/META/COL/id``), unique.
    var_ids
        GCT row ids (``/0/META/ROW/id``), unique.
    dtype
        Matrix dtype (``float32``, as CMap files, or ``float64``).
    chunks
        HDF5 chunk shape (columns, rows) of the matrix; default about 512 KiB per chunk. Writes
        that cover whole chunks are the fastest.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        obs_ids: Sequence[str],
        var_ids: Sequence[str],
        *,
        dtype: np.dtype | type | str = np.float32,
        chunks: tuple[int, int] | None = None,
    ):
        self.path = Path(path)
        obs = [str(i) for i in obs_ids]
        var = [str(i) for i in var_ids]
        check_unique(obs, what="column", where=self.path)
        check_unique(var, what="row", where=self.path)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise InvalidParameterError(
                f"dtype {self.dtype} is not a float type", where="dtype", fix="use float32 or float64"
            )
        self.shape = (len(obs), len(var))
        if chunks is None:
            chunks = _chunk_shape(len(obs), len(var), self.dtype.itemsize, None)
        elif all(self.shape):
            chunks = (max(1, min(self.shape[0], chunks[0])), max(1, min(self.shape[1], chunks[1])))
        else:
            chunks = None
        cache = _WRITER_CACHE_BYTES
        if chunks is not None:  # a band of chunks across every column, twice: about enough for any write
            band = -(-self.shape[0] // chunks[0]) * chunks[0] * chunks[1] * self.dtype.itemsize
            cache = min(cache, 2 * band)
        self._ctx = atomic_path(self.path)
        tmp = self._ctx.__enter__()
        try:
            self._file = h5py.File(tmp, "w", rdcc_nbytes=cache, rdcc_nslots=100_003, rdcc_w0=1.0)
            _mark_gctx(self._file, self.path)
            self._matrix = self._file.create_dataset(
                MATRIX_PATH, shape=self.shape, dtype=self.dtype, chunks=chunks, fillvalue=np.nan
            )
            _write_meta(self._file.create_group(ROW_META_PATH, track_order=True), var, pd.DataFrame())
            _write_meta(self._file.create_group(COL_META_PATH, track_order=True), obs, pd.DataFrame())
        except BaseException as err:
            self._abandon(err)
            raise

    def write(self, values: np.ndarray, obs: slice, var: slice) -> None:
        """Store ``values`` (columns x rows, cast to the writer's dtype) at ``[obs, var]``.

        Parameters
        ----------
        values
            The block, shaped as the selection.
        obs, var
            The columns and rows it fills (slices with step 1).
        """
        self._matrix[obs, var] = np.asarray(values, dtype=self.dtype)

    def _abandon(self, error: BaseException) -> None:
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()
        self._ctx.__exit__(type(error), error, error.__traceback__)

    def close(self, error: BaseException | None = None) -> None:
        """Close the file and rename it into place, or discard it on ``error``."""
        if error is not None:
            self._abandon(error)
            return
        try:
            self._file.close()
        except BaseException as err:
            self._ctx.__exit__(type(err), err, err.__traceback__)
            raise
        self._ctx.__exit__(None, None, None)

    def __enter__(self) -> GctxWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


def _chunk_shape(n_obs: int, n_var: int, item: int, chunk_size: int | None) -> tuple[int, int] | None:
    """HDF5 chunk shape of the matrix: ``chunk_size`` (or ~512 KiB of) signatures by all genes.

    ``None`` (no chunking) for an empty matrix.
    """
    if not (n_obs and n_var):
        return None
    var_chunk = min(n_var, max(1, _CHUNK_BYTES // item))
    obs_chunk = chunk_size or max(1, _CHUNK_BYTES // (var_chunk * item))
    return (min(n_obs, obs_chunk), var_chunk)
