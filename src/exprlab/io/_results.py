"""Result tables as Parquet or TSV (told by the extension), written atomically.

Tidy tables (scores, metrics, reports) are exprlab's results. Parquet keeps dtypes and the
index; TSV (``.tsv``, ``.tsv.gz``, ``.txt``) is for people and spreadsheets. A DataFrame whose
index is not the default 0..n-1 range has its index written as the first column(s) of a TSV.
"""

from __future__ import annotations

import gzip
import lzma
import os
from pathlib import Path

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

    The same table as ``write_table(frame.reset_index())``, without the copies: for TSV, memory
    stays at the matrix plus one block (``chunk_size`` rows; default about 4 million cells per
    block). Parquet's writer keeps buffers per column (tens of kB each, whatever the number of
    rows), so a Parquet table of very many columns costs memory by itself: prefer TSV or the
    tidy table for wide outputs of many signatures.

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
    step = chunk_size or max(1, (1 << 22) // max(1, frame.shape[1]))
    columns = [str(c) for c in frame.columns]
    if index_name in columns:
        raise InputDataError(
            f"a column is named {index_name!r} like the index column", where=where, fix="rename that column"
        )
    values = frame.to_numpy()
    index = frame.index.astype(str).to_numpy()

    def block(lo: int) -> pd.DataFrame:
        part = pd.DataFrame(values[lo : lo + step], columns=columns, copy=False)
        part.insert(0, index_name, index[lo : lo + step])
        return part

    with atomic_path(where) as tmp:
        if kind == "parquet":
            # pyarrow is heavy: imported only when a wide Parquet table is written
            import pyarrow as pa
            import pyarrow.parquet as pq  # (see above)

            writer = None
            try:
                for lo in range(0, max(1, len(frame)), step):
                    table = pa.Table.from_pandas(block(lo), preserve_index=False)
                    writer = writer or pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()
        else:
            with _binary(tmp, strip_compression_suffix(where.name)[1]) as fh:
                for k, lo in enumerate(range(0, max(1, len(frame)), step)):
                    block(lo).to_csv(fh, sep="\t", index=False, header=k == 0, lineterminator="\n", mode="wb")
    return where


def _binary(path, compression: str | None):
    """A binary file handle for writing, compressing with gzip or xz when asked."""
    if compression == "gzip":
        return gzip.open(path, "wb")
    if compression == "xz":
        return lzma.open(path, "wb")
    return open(path, "wb")
