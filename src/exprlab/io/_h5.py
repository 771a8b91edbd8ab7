"""The signatureSearch (Bioconductor) HDF5 signature layout to AnnData.

signatureSearch stores a signature database as three datasets: ``assay`` (the values),
``colnames`` (signature ids such as ``vorinostat__SKB__trt_cp``) and ``rownames`` (gene ids,
Entrez for LINCS). R writes matrices column-major, so depending on the writer ``assay`` shows up
in HDF5 as signatures x genes or genes x signatures; the orientation is decided from the lengths
of ``colnames`` and ``rownames``. The result is obs = signatures (colnames), var = genes
(rownames, as strings).
"""

from __future__ import annotations

import os
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from exprlab.errors import FormatError
from exprlab.io._common import check_unique
from exprlab.io._gct import check_finite
from exprlab.io._gctx import decode_strings, open_h5

__all__ = ["read_signaturesearch_h5", "is_signaturesearch_h5"]

_NEEDED = ("assay", "colnames", "rownames")


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
