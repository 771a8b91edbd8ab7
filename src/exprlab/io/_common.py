"""Helpers shared by the readers and writers of :mod:`exprlab.io`.

Opening files (plain, gzip or xz, told by content rather than by name), checking that a path
can be read, decoding text, converting metadata columns to sensible types, and validating an
AnnData before it is written. Every failure is an :class:`~exprlab.errors.ExprlabError` that names
the file.
"""

from __future__ import annotations

import gzip
import lzma
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab.errors import DuplicateIdError, FileAccessError, FormatError, InputDataError

#: Cell values that mean "missing" in text metadata (GCT metadata, GCTX string fields).
MISSING_TOKENS = frozenset({"", "na", "NA", "NaN", "nan", "-nan", "N/A", "#N/A", "NULL", "null"})
_MISSING_ARRAY = np.array(sorted(MISSING_TOKENS))
_MISSING_BYTES = np.array(sorted(t.encode() for t in MISSING_TOKENS))
#: The token written for a missing metadata value.
MISSING_OUT = "na"

_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def check_readable(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path after checking that it is an existing, readable file.

    Raises
    ------
    FileAccessError
        When the path is missing, is a directory or cannot be opened for reading.
    """
    p = Path(path)
    if not p.exists():
        raise FileAccessError(
            "the file does not exist", where=p, fix="check the path (and EXPRLAB_DATA for public data)"
        )
    if p.is_dir():
        raise FileAccessError(
            "this is a directory, not a file", where=p, fix="give the path of a file inside it"
        )
    try:
        with open(p, "rb"):
            pass
    except OSError as err:
        raise FileAccessError(
            f"the file cannot be read ({err.strerror or err})",
            where=p,
            fix="check the file's permissions or copy it somewhere readable",
        ) from err
    return p


def head_bytes(path: str | os.PathLike, n: int = 8) -> bytes:
    """The first ``n`` bytes of a readable file (after :func:`check_readable`)."""
    with open(check_readable(path), "rb") as fh:
        return fh.read(n)


def compression_of(path: str | os.PathLike) -> str | None:
    """``"gzip"``, ``"xz"`` or ``None``, told from the file's first bytes (not its name)."""
    head = head_bytes(path, 6)
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    return None


def strip_compression_suffix(name: str) -> tuple[str, str | None]:
    """Split ``'x.gmt.gz'`` into ``('x.gmt', 'gzip')``; ``'x.gmt'`` gives ``('x.gmt', None)``."""
    lower = name.lower()
    if lower.endswith(".gz"):
        return name[:-3], "gzip"
    if lower.endswith(".xz"):
        return name[:-3], "xz"
    return name, None


def read_text(path: str | os.PathLike) -> str:
    r"""Read a whole text file, plain or gzip/xz compressed, as UTF-8 with universal newlines.

    ``\\r\\n`` and ``\\r`` line ends become ``\\n`` and a UTF-8 byte-order mark is dropped.

    Raises
    ------
    FileAccessError
        The file is missing or unreadable.
    FormatError
        The compressed stream is corrupt, or the bytes are not UTF-8 text.
    """
    p = check_readable(path)
    kind = compression_of(p)
    try:
        if kind == "gzip":
            with gzip.open(p, "rb") as fh:
                raw = fh.read()
        elif kind == "xz":
            with lzma.open(p, "rb") as fh:
                raw = fh.read()
        else:
            raw = p.read_bytes()
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as err:
        raise FormatError(
            f"the {kind} stream is corrupt or truncated ({err})",
            where=p,
            fix="download or decompress the file again",
        ) from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise FormatError(
            f"the file is not UTF-8 text (byte {err.start}, line {line})",
            where=p,
            fix="save the file as UTF-8 text, or check that it is the file you meant",
        ) from err
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FormatError(
            f"the file holds a NUL byte on line {line}, so it is not a text file",
            where=p,
            fix="check that this is the text file you meant",
        )
    return text


def write_text(text: str, path: Path, compression: str | None) -> None:
    """Write ``text`` as UTF-8 to ``path`` (already a temporary path), compressed as asked."""
    data = text.encode("utf-8")
    if compression == "gzip":
        with gzip.open(path, "wb", compresslevel=6) as fh:
            fh.write(data)
    elif compression == "xz":
        with lzma.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def infer_column(values: Sequence[str] | np.ndarray) -> np.ndarray:
    """Convert a column of metadata strings to numbers when every present value is a number.

    Missing tokens (:data:`MISSING_TOKENS`) become NaN. A column whose present values all parse
    as numbers becomes int64 (all integers, nothing missing) or float64; any other column stays
    strings (object dtype) with NaN for missing values. CMap's ``-666`` is a number, not missing.
    Parsing is numpy's (vectorised, correctly rounded), so written-then-read floats are identical.
    ``values`` may be text or UTF-8 bytes (as HDF5 returns them).
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "US":
        arr = arr.astype(str)  # NaN / None become 'nan' / 'None'; 'nan' is a missing token
    if arr.size == 0:
        return np.empty(0, dtype=object)
    is_bytes = arr.dtype.kind == "S"
    tokens = _MISSING_BYTES if is_bytes else _MISSING_ARRAY
    first = arr[0].decode("utf-8", "replace") if is_bytes else str(arr[0])
    if first in MISSING_TOKENS or _looks_numeric(first):
        nums = _parse_numbers(arr, integers=True)  # no missing token parses as an integer
        if nums is not None and (nums.dtype.kind == "i" or not np.isin(arr, tokens).any()):
            return nums
        missing = np.isin(arr, tokens)
        present = arr[~missing]
        if present.size == 0:  # every value missing: a float column of NaN
            return np.full(arr.size, np.nan)
        nums = _parse_numbers(present, integers=False)
        if nums is not None:
            full = np.full(arr.size, np.nan)
            full[~missing] = nums
            return full
    if is_bytes:
        try:
            arr = arr.astype(str)  # vectorised for ASCII text
        except UnicodeDecodeError:
            arr = np.array([v.decode("utf-8") for v in arr.tolist()], dtype=str)
    out = arr.astype(object)
    out[np.isin(arr, _MISSING_ARRAY)] = np.nan
    return out


def _looks_numeric(text: str) -> bool:
    """Cheap test on one value, so that text columns skip the vectorised number parse."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_numbers(present: np.ndarray, *, integers: bool) -> np.ndarray | None:
    """int64 (when ``integers`` and all are whole numbers), float64, or None if not all numbers."""
    if integers:
        try:
            return present.astype(np.int64)
        except (ValueError, OverflowError, UnicodeDecodeError):
            pass
    try:
        return present.astype(np.float64)
    except (ValueError, OverflowError, UnicodeDecodeError):
        return None


def metadata_frame(index: Sequence[str], fields: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A DataFrame indexed by ``index`` with one typed column per metadata field (see infer_column)."""
    idx = pd.Index(list(index), dtype=object)
    return pd.DataFrame({name: infer_column(vals) for name, vals in fields.items()}, index=idx)


def column_as_text(col: pd.Series) -> np.ndarray:
    """Format a metadata column as strings for text output; missing values become ``na``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    values = col.to_numpy(dtype=object)
    missing = pd.isna(col).to_numpy()
    out = np.empty(values.size, dtype=object)
    for i, (v, m) in enumerate(zip(values, missing, strict=True)):
        if m:
            out[i] = MISSING_OUT
        elif isinstance(v, float | np.floating):
            out[i] = repr(float(v))
        else:
            out[i] = str(v)
    return out


def check_unique(ids: Iterable[str], *, what: str, where: str | os.PathLike, locate=None) -> None:
    """Raise DuplicateIdError naming the first repeated id (``locate(id)`` adds its position)."""
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            pos = f" ({locate(item)})" if locate is not None else ""
            raise DuplicateIdError(
                f"{what} id '{item}' appears more than once{pos}",
                where=where,
                fix=f"make the {what} ids unique (for example aggregate or rename the repeats)",
            )
        seen.add(item)


def check_text_safe(values: Iterable[str], *, what: str, where: str | os.PathLike) -> None:
    """Refuse values that would break a tab-separated line (tabs, newlines)."""
    for v in values:
        if "\t" in v or "\n" in v or "\r" in v:
            raise InputDataError(
                f"{what} '{v!r}' contains a tab or a line break, which the format cannot hold",
                where=where,
                fix="replace tabs and line breaks in names and metadata before writing",
            )


def validate_adata(adata, *, where: str | os.PathLike) -> np.ndarray:
    """Check an AnnData before writing and return its matrix as a dense 2-D numpy array.

    The matrix must be 2-D with one row per obs and one column per var, obs/var tables must
    match those lengths, and obs and var names must be unique (GCT/GCTX ids are keys).
    """
    if not isinstance(adata, ad.AnnData):
        raise InputDataError(
            f"expected an AnnData, got {type(adata).__name__}",
            where=where,
            fix="wrap the matrix in anndata.AnnData(X, obs=..., var=...) (obs = samples, var = genes)",
        )
    X = adata.X
    if X is None:
        raise InputDataError("the AnnData has no matrix X", where=where, fix="set adata.X before writing")
    n_obs, n_var = len(adata.obs), len(adata.var)
    if X.ndim != 2 or X.shape != (n_obs, n_var):
        raise InputDataError(
            f"the matrix is {X.shape} but obs has {n_obs} rows and var has {n_var} rows "
            "(gene metadata and matrix disagree)",
            where=where,
            fix="make obs match the matrix rows (samples) and var its columns (genes)",
        )
    check_unique(map(str, adata.obs_names), what="sample", where=where)
    check_unique(map(str, adata.var_names), what="gene", where=where)
    if sp.issparse(X):
        X = X.toarray()
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise InputDataError(
            f"the matrix has non-numeric dtype {X.dtype}", where=where, fix="convert adata.X to numbers"
        )
    return X
