"""h5ad files (AnnData's own HDF5 format) through anndata, with exprlab's checks and atomic output."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import anndata as ad

from exprlab._atomic import atomic_path
from exprlab._validation import check_choice
from exprlab.errors import FormatError, InputDataError
from exprlab.io._common import check_readable

__all__ = ["read_h5ad", "write_h5ad"]


def read_h5ad(path: str | os.PathLike, *, backed: Literal["r"] | None = None) -> ad.AnnData:
    """Read an ``.h5ad`` file.

    Parameters
    ----------
    path
        The file.
    backed
        ``None`` (load into memory) or ``"r"`` to leave the matrix on disk (anndata's backed mode).

    Returns
    -------
    AnnData
        The AnnData as anndata reads it.

    Raises
    ------
    FileAccessError
        Missing or unreadable file.
    FormatError
        The file is not a valid h5ad (not HDF5, or not written by anndata).
    """
    where = check_readable(path)
    backed = check_choice(backed, "backed", (None, "r"))
    try:
        return ad.read_h5ad(where, backed=backed)
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise FormatError(
            f"not a readable h5ad file ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})",
            where=where,
            fix="check that the file was written by anndata and is complete",
        ) from err


def write_h5ad(
    adata: ad.AnnData, path: str | os.PathLike, *, compression: Literal["gzip", "lzf"] | None = None
) -> Path:
    """Write an AnnData as ``.h5ad``, atomically, without changing it.

    String columns are kept as they are (anndata's automatic conversion of strings to
    categoricals is switched off so that what is read back equals what was written).

    Parameters
    ----------
    adata
        The AnnData.
    path
        Output file.
    compression
        None, ``"gzip"`` or ``"lzf"`` (anndata's options).

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    if not isinstance(adata, ad.AnnData):
        raise InputDataError(
            f"expected an AnnData, got {type(adata).__name__}",
            where=where,
            fix="wrap the matrix in anndata.AnnData",
        )
    compression = check_choice(compression, "compression", (None, "gzip", "lzf"))
    with atomic_path(where) as tmp:
        adata.write_h5ad(tmp, compression=compression, convert_strings_to_categoricals=False)
    return where
