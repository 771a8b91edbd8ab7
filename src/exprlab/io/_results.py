"""Result tables as Parquet or TSV (told by the extension), written atomically.

Tidy tables (scores, metrics, reports) are exprlab's results. Parquet keeps dtypes and the
index; TSV (``.tsv``, ``.tsv.gz``, ``.txt``) is for people and spreadsheets. A DataFrame whose
index is not the default 0..n-1 range has its index written as the first column(s) of a TSV.
"""

from __future__ import annotations

import gzip
import lzma
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab.errors import FormatError, InputDataError, UnknownFormatError
from exprlab.io._common import check_readable, strip_compression_suffix

__all__ = ["write_table", "write_wide_table", "read_table", "table_format"]

_PARQUET = (".parquet", ".pq")
_TSV = (".tsv", ".txt", ".tab")


def table_format(path: str | os.PathLike) -> str:
    """``"parquet"`` or ``"tsv"`` from the file name (``.gz``/``.xz`` allowed on TSV)."""
    name, compression = strip_compression_suffix(Path(path).name)
    lower = name.lower()
    if lower.endswith(_PARQUET) and compression is None:
        return "parquet"
    if lower.endswith(_TSV):
        return "tsv"
    raise UnknownFormatError(
        f"cannot tell the table format from the name '{Path(path).name}'",
        where=path,
        fix="name the file .parquet (or .pq) or .tsv (optionally .tsv.gz)",
    )


def _has_default_index(df: pd.DataFrame) -> bool:
    idx = df.index
    return isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1 and idx.name is None


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a DataFrame as Parquet or TSV (by extension), atomically.

    Parameters
    ----------
    df
        The table. Column names must be strings for Parquet.
    path
        ``.parquet``/``.pq`` or ``.tsv``/``.txt`` (``.gz``/``.xz`` compress TSV).

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    if not isinstance(df, pd.DataFrame):
        raise InputDataError(
            f"expected a pandas DataFrame, got {type(df).__name__}", where=where, fix="pass a DataFrame"
        )
    kind = table_format(where)
    with atomic_path(where) as tmp:
        if kind == "parquet":
            frame = df.copy(deep=False)
            frame.columns = [str(c) for c in frame.columns]
            frame.to_parquet(tmp, index=None if not _has_default_index(df) else False)
        else:
            df.to_csv(
                tmp,
                sep="\t",
                index=not _has_default_index(df),
                lineterminator="\n",
                compression=strip_compression_suffix(where.name)[1],
            )
    return where


def read_table(path: str | os.PathLike, *, index_col: int | str | None = None) -> pd.DataFrame:
    """Read a Parquet or TSV table written by :func:`write_table` (or any such file).

    Parameters
    ----------
    path
        The file.
    index_col
        For TSV: column to use as the index (as in :func:`pandas.read_csv`); Parquet restores
        the index it stored.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    where = check_readable(path)
    kind = table_format(where)
    try:
        if kind == "parquet":
            return pd.read_parquet(where)
        return pd.read_csv(where, sep="\t", index_col=index_col, compression="infer")
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise FormatError(
            f"cannot read the {kind} table ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})",
            where=where,
            fix=f"check that the file is a complete {kind} table",
        ) from err


def write_wide_table(
    frame: pd.DataFrame, path: str | os.PathLike, *, index_name: str = "query", chunk_size: int | None = None
) -> Path:
    """Write a wide numeric matrix (rows x named columns) as Parquet or TSV, a block of rows at a time.

    The same table as ``write_table(frame.reset_index())``, without the copies: memory stays at
    the matrix plus one block of rows (``chunk_size`` rows). For TSV a block is about 4 million
    cells by default. For Parquet a block is one row group: the writer keeps about 1.6 kB of
    metadata per column of every row group until the file is closed, so by default a row group
    holds ``sqrt(200 · n_rows)`` rows (at least 4 million cells), which balances the block
    against that metadata; 200 queries × 100,000 signatures are written in one row group.

    Parameters
    ----------
    frame
        Rows x columns (numeric values); its index becomes the first column, named
        ``index_name``.
    path
        ``.parquet``/``.pq`` or ``.tsv``/``.txt`` (``.gz``/``.xz`` compress TSV), written
        atomically.
    index_name
        Name of the first column.
    chunk_size
        Rows per block.

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    kind = table_format(where)
    columns = [str(c) for c in frame.columns]
    if index_name in columns:
        raise InputDataError(
            f"a column is named {index_name!r} like the index column", where=where, fix="rename that column"
        )
    values = frame.to_numpy()
    index = frame.index.astype(str).to_numpy()
    if kind == "parquet":
        if values.dtype.kind not in "iufb":
            raise InputDataError(
                f"a wide Parquet table holds numbers, not {values.dtype}",
                where=where,
                fix="pass a numeric matrix (or write the tidy table with write_table)",
            )
        rows = chunk_size or _parquet_group_rows(*values.shape)
        with atomic_path(where) as tmp:
            _write_parquet_blocks(tmp, values, index, columns, index_name, rows)
        return where
    step = chunk_size or max(1, (1 << 22) // max(1, frame.shape[1]))

    def block(lo: int) -> pd.DataFrame:
        part = pd.DataFrame(values[lo : lo + step], columns=columns, copy=False)
        part.insert(0, index_name, index[lo : lo + step])
        return part

    with atomic_path(where) as tmp:
        with _binary(tmp, strip_compression_suffix(where.name)[1]) as fh:
            for k, lo in enumerate(range(0, max(1, len(frame)), step)):
                block(lo).to_csv(fh, sep="\t", index=False, header=k == 0, lineterminator="\n", mode="wb")
    return where


#: Parquet keeps about this many bytes of metadata per column chunk (one column of one row
#: group) until the file is closed, i.e. about as much as 200 float64 values (measured with
#: pyarrow 26).
_CHUNK_METADATA_VALUES = 200


def _parquet_group_rows(n_rows: int, n_cols: int) -> int:
    """Rows per Parquet row group of a wide table.

    Peak memory is one row group's values (``rows × n_cols`` cells) plus the metadata of all
    row groups (``ceil(n_rows / rows) × n_cols × 200`` value-equivalents); ``sqrt(200 · n_rows)``
    rows balance the two. Narrow tables get row groups of about 4 million cells.
    """
    balanced = math.ceil(math.sqrt(_CHUNK_METADATA_VALUES * max(1, n_rows)))
    return max(1, min(max(1, n_rows), max(balanced, (1 << 22) // max(1, n_cols))))


def _write_parquet_blocks(tmp: Path, values, index, columns: list[str], index_name: str, rows: int) -> None:
    """Write the wide table one row group at a time, converting only that block to Arrow.

    A block is transposed once into a contiguous array whose rows become the Arrow columns
    without another copy; NaN is stored as null, as pandas does.
    """
    # pyarrow is heavy: imported only when a wide Parquet table is written
    import pyarrow as pa
    import pyarrow.parquet as pq  # (see above)

    value_type = pa.from_numpy_dtype(values.dtype)
    schema = pa.schema([pa.field(index_name, pa.string())] + [pa.field(c, value_type) for c in columns])
    n = values.shape[0]
    # dictionary encoding only pays for the repeated-looking index column; scores are distinct
    with pq.ParquetWriter(tmp, schema, use_dictionary=[index_name]) as writer:
        for lo in range(0, max(1, n), rows):
            block = np.ascontiguousarray(values[lo : lo + rows].T)
            arrays = [pa.array(index[lo : lo + rows], type=pa.string())]
            arrays += [pa.array(block[j], type=value_type, from_pandas=True) for j in range(block.shape[0])]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=max(1, rows))
            del arrays, block


def _binary(path, compression: str | None):
    """A binary file handle for writing, compressing with gzip or xz when asked."""
    if compression == "gzip":
        return gzip.open(path, "wb")
    if compression == "xz":
        return lzma.open(path, "wb")
    return open(path, "wb")
