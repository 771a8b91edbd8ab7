"""The signatureSearch (Bioconductor) HDF5 signature layout to AnnData.

signatureSearch stores a signature database as three datasets: ``assay`` (the values),
``colnames`` (signature ids such as ``vorinostat__SKB__trt_cp``) and ``rownames`` (gene ids,
Entrez for LINCS). R writes matrices column-major, so depending on the writer ``assay`` shows up
in HDF5 as signatures x genes or genes x signatures; the orientation is decided from the lengths
of ``colnames`` and ``rownames``. The result is obs = signatures (colnames), var = genes
(rownames, as strings).

The writer produces the layout of signatureSearch's own database files (as in its LINCS level-5
test file): ``assay`` float64 of HDF5 shape (n_signatures, n_genes), which R reads as the genes x
signatures matrix it expects; ``colnames`` of shape (1, n_signatures), fixed-length byte strings
of 1,000 characters; ``rownames`` of shape (1, n_genes), fixed-length byte strings of 100
characters; all three gzip-compressed and extendable along the signature axis.
"""

from __future__ import annotations

import os
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab.errors import FormatError, InputDataError
from exprlab.io._common import check_unique
from exprlab.io._gct import check_finite
from exprlab.io._gctx import decode_strings, open_h5

__all__ = [
    "read_signaturesearch_h5",
    "is_signaturesearch_h5",
    "write_signaturesearch_h5",
    "SignatureSearchWriter",
]

_NEEDED = ("assay", "colnames", "rownames")
_COLNAME_BYTES = 1000  # fixed string widths of signatureSearch's files
_ROWNAME_BYTES = 100


def is_signaturesearch_h5(h5: h5py.File) -> bool:
    """True when an open HDF5 file has the ``assay``/``colnames``/``rownames`` datasets."""
    return all(isinstance(h5.get(name), h5py.Dataset) for name in _NEEDED)


def read_signaturesearch_h5(path: str | os.PathLike, *, allow_nan: bool = True) -> ad.AnnData:
    """Read a signatureSearch HDF5 signature file into an AnnData (obs = signatures, var = genes).

    Parameters
    ----------
    path
        The ``.h5`` file with datasets ``assay``, ``colnames`` and ``rownames``.
    allow_nan
        Keep NaN values (default) or refuse them; infinite values are always refused.

    Returns
    -------
    AnnData
        obs = signatures (``colnames``), var = genes (``rownames``, as strings); the matrix
        keeps the file's dtype.

    Raises
    ------
    FormatError
        A dataset is missing, or the matrix shape does not match the name lengths.
    DuplicateIdError
        Repeated signature or gene names.
    """
    where = Path(path)
    with open_h5(where) as h5:
        missing = [n for n in _NEEDED if not isinstance(h5.get(n), h5py.Dataset)]
        if missing:
            raise FormatError(
                f"no dataset(s) {', '.join('/' + m for m in missing)} of the signatureSearch layout",
                where=where,
                fix="a signatureSearch HDF5 needs /assay, /colnames and /rownames; GCTX files are read with read_gctx",
            )
        signatures = decode_strings(h5["colnames"][()])
        genes = decode_strings(h5["rownames"][()])
        assay = h5["assay"]
        if assay.ndim != 2:
            raise FormatError(f"/assay is {assay.ndim}-D, expected 2-D", where=where, fix="check the file")
        ns, ng = len(signatures), len(genes)
        if assay.shape == (ns, ng):
            X = assay[()]
        elif assay.shape == (ng, ns):
            X = assay[()].T
        else:
            raise FormatError(
                f"/assay has shape {assay.shape} but there are {ns} colnames and {ng} rownames",
                where=where,
                fix="the matrix must have one row or column per name",
            )
    check_unique(signatures, what="signature", where=where)
    check_unique(genes, what="gene", where=where)
    X = np.ascontiguousarray(X)
    if X.dtype.kind == "f":
        check_finite(
            X, allow_nan=allow_nan, where=where, gene_ids=genes, sample_ids=signatures, genes_on_rows=False
        )
    return ad.AnnData(
        X=X,
        obs=pd.DataFrame(index=pd.Index(signatures, dtype=object)),
        var=pd.DataFrame(index=pd.Index(genes, dtype=object)),
    )


def _fixed_strings(names, width: int, what: str, where: Path) -> np.ndarray:
    """Names as a (1, n) array of fixed-width byte strings, refusing names that do not fit."""
    encoded = [str(n).encode("utf-8") for n in names]
    long = [n.decode() for n in encoded if len(n) > width][:3]
    if long:
        raise InputDataError(
            f"{what} longer than {width} bytes cannot be stored in the signatureSearch layout: {long}",
            where=where,
            fix=f"shorten the {what}",
        )
    return np.asarray(encoded, dtype=f"S{width}")[None, :]


def _name_chunks(names: np.ndarray) -> tuple[int, int]:
    return (1, max(1, min(names.shape[1], 4096)))


class SignatureSearchWriter:
    """Write a signatureSearch HDF5 file block by block (atomically: the file appears on close).

    Use as a context manager; :meth:`append` adds signatures, so a library larger than memory
    can be written from its blocks. The layout is described in the module docstring.

    Parameters
    ----------
    path
        Output ``.h5`` file.
    genes
        Gene ids (``rownames``), unique.
    """

    def __init__(self, path: str | os.PathLike, genes):
        self.path = Path(path)
        genes = [str(g) for g in genes]
        check_unique(genes, what="gene", where=self.path)
        self._n_genes = len(genes)
        self._ids: list[str] = []
        rownames = _fixed_strings(genes, _ROWNAME_BYTES, "gene ids", self.path)
        self._ctx = atomic_path(self.path)
        self._file = h5py.File(self._ctx.__enter__(), "w")
        opts = dict(compression="gzip", compression_opts=6)
        self._file.create_dataset(
            "rownames", data=rownames, maxshape=(1, None), chunks=_name_chunks(rownames), **opts
        )
        g = max(1, self._n_genes)
        self._assay = self._file.create_dataset(
            "assay", shape=(0, g), maxshape=(None, None), dtype="<f8", chunks=(1, g), **opts
        )

    def append(self, values: np.ndarray, ids) -> None:
        """Add signatures: rows of ``values`` (signatures x genes), ids ``ids``."""
        values = np.asarray(values, dtype=np.float64)
        ids = [str(i) for i in ids]
        if values.shape != (len(ids), self._n_genes):
            raise InputDataError(
                f"a block of shape {values.shape} does not match {len(ids)} ids x {self._n_genes} genes",
                where=self.path,
                fix="append one row per signature over the writer's genes",
            )
        n0 = self._assay.shape[0]
        self._assay.resize(n0 + len(ids), axis=0)
        self._assay[n0:] = values
        self._ids.extend(ids)

    def close(self, error: BaseException | None = None) -> None:
        """Write the signature ids and rename the file into place, or discard it on ``error``."""
        try:
            if error is None:
                check_unique(self._ids, what="signature", where=self.path)
                colnames = _fixed_strings(self._ids, _COLNAME_BYTES, "signature ids", self.path)
                self._file.create_dataset(
                    "colnames",
                    data=colnames,
                    maxshape=(1, None),
                    chunks=_name_chunks(colnames),
                    compression="gzip",
                )
        except BaseException as err:
            error = err
            raise
        finally:
            self._file.close()
            if error is None:
                self._ctx.__exit__(None, None, None)
            else:
                self._ctx.__exit__(type(error), error, error.__traceback__)

    def __enter__(self) -> SignatureSearchWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


def write_signaturesearch_h5(adata: ad.AnnData, path: str | os.PathLike, *, chunk_size: int = 4096) -> Path:
    """Write an AnnData (obs = signatures, var = genes) in signatureSearch's HDF5 layout.

    The file is what signatureSearch's ``gess_*`` functions take as a reference database and
    what :func:`read_signaturesearch_h5` reads back (values as float64).

    Parameters
    ----------
    adata
        Signatures x genes (dense or sparse; NaN is kept).
    path
        Output ``.h5`` file, written atomically.
    chunk_size
        Signatures converted to float64 and written at a time.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    with SignatureSearchWriter(path, adata.var_names) as w:
        for lo in range(0, adata.n_obs, chunk_size):
            block = adata.X[lo : lo + chunk_size]
            block = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
            w.append(block, adata.obs_names[lo : lo + chunk_size])
    return Path(path)
