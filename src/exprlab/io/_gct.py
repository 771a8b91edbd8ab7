"""GCT 1.2 and 1.3 text matrices (Broad Institute / Connectivity Map) to and from AnnData.

Layout
------
GCT stores genes as rows and samples as columns; exprlab transposes so that obs = samples
(GCT columns) and var = genes (GCT rows).

* GCT 1.2: ``#1.2``; ``nrow<TAB>ncol``; header ``Name<TAB>Description<TAB>sample...``; one line
  per gene ``id<TAB>description<TAB>values...``. The description becomes ``var["Description"]``
  (dropped when every description is missing).
* GCT 1.3: ``#1.3``; ``nrow<TAB>ncol<TAB>nrowmeta<TAB>ncolmeta``; header
  ``id<TAB>rowfield...<TAB>sample...``; ``ncolmeta`` lines ``field<TAB>filler x nrowmeta<TAB>
  values...`` (column metadata); then one line per gene ``id<TAB>rowmeta...<TAB>values...``.

Policies
--------
* Values: ``NA``/``NaN``/``nan``/empty cells are missing and kept as NaN (real CMap files such as
  the P100 example contain them); ``allow_nan=False`` refuses them. Infinite values are always
  refused (:class:`~exprlab.errors.NonFiniteValueError`): no method downstream can use them.
* Metadata: a field whose present values are all numbers becomes int64 (all integers, none
  missing) or float64; other fields stay strings. ``na``, ``NA``, ``NaN``, empty ... are missing.
  CMap's ``-666`` placeholder is kept as the number it is.
* Ids are kept exactly as written (strings) and must be unique.
* Numbers are parsed with pandas' C reader in round-trip precision and written in the shortest
  form that reads back to the same float64, so ``read_gct(write_gct(a))`` reproduces values,
  ids and metadata.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab._validation import check_choice
from exprlab.errors import (
    DuplicateIdError,
    FormatError,
    InputDataError,
    NonFiniteValueError,
)
from exprlab.io._common import (
    MISSING_OUT,
    MISSING_TOKENS,
    check_text_safe,
    check_unique,
    column_as_text,
    metadata_frame,
    read_text,
    strip_compression_suffix,
    validate_adata,
    write_text,
)

__all__ = ["read_gct", "write_gct", "check_finite"]

_FIX_DIMS = "the second line must give the numbers of rows and columns (GCT 1.2: 'nrow ncol'; GCT 1.3: 'nrow ncol nrowmeta ncolmeta')"
_NA_VALUES = sorted(MISSING_TOKENS)


def _split_head(text: str, n: int) -> tuple[list[str], int]:
    """The first ``n`` lines of ``text`` (fewer if it ends) and the offset just after them."""
    lines: list[str] = []
    pos = 0
    for _ in range(n):
        if pos >= len(text):
            break
        end = text.find("\n", pos)
        if end < 0:
            lines.append(text[pos:])
            pos = len(text)
            break
        lines.append(text[pos:end])
        pos = end + 1
    return lines, pos


def _cells(line: str, *, trim: bool = False) -> list[str]:
    """Split a line on tabs; with ``trim``, drop trailing empty cells (padding some tools add)."""
    cells = line.split("\t")
    if trim:
        while len(cells) > 1 and cells[-1].strip() == "":
            cells.pop()
    return cells


def _parse_dims(line: str, version: str, where: Path) -> tuple[int, int, int, int]:
    parts = line.split()
    want = 4 if version == "1.3" else 2
    if len(parts) != want:
        raise FormatError(
            f"line 2 (dimension line) has {len(parts)} numbers, GCT {version} needs {want}: '{line[:80]}'",
            where=where,
            fix=_FIX_DIMS,
        )
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise FormatError(
            f"line 2 (dimension line) is not made of whole numbers: '{line[:80]}'",
            where=where,
            fix=_FIX_DIMS,
        ) from None
    if min(nums) < 0:
        raise FormatError(
            f"line 2 (dimension line) has a negative number: '{line[:80]}'", where=where, fix=_FIX_DIMS
        )
    if version == "1.2":
        return nums[0], nums[1], 1, 0  # the Description column acts as one row-metadata field
    return nums[0], nums[1], nums[2], nums[3]


def read_gct(
    path: str | os.PathLike,
    *,
    allow_nan: bool = True,
    dtype: np.dtype | type | str = np.float64,
) -> ad.AnnData:
    """Read a GCT 1.2 or 1.3 file (plain, ``.gz`` or ``.xz``) into an AnnData.

    Parameters
    ----------
    path
        The GCT file.
    allow_nan
        Keep missing values (``NA``, ``NaN``, empty cells) as NaN (default). With ``False`` a
        missing value raises :class:`~exprlab.errors.NonFiniteValueError`.
    dtype
        Floating dtype of the returned matrix (values are parsed in float64 first).

    Returns
    -------
    AnnData
        obs = GCT columns (samples) with the column metadata, var = GCT rows (genes) with the
        row metadata; ``uns["gct_version"]`` is ``"1.2"`` or ``"1.3"``.

    Raises
    ------
    FileAccessError, FormatError, DuplicateIdError, NonFiniteValueError
        Missing/unreadable file; malformed content (with the line and the fix);
        repeated ids; infinite (or, when refused, missing) values.
    """
    where = Path(path)
    text = read_text(where)
    version, (nrow, ncol, nrm, ncm) = _read_version_and_dims(text, where)
    head, data_start = _split_head(text, 3 + ncm)
    sample_ids, row_fields, col_fields = _read_header_block(head, version, ncol, nrm, ncm, where)

    first_data_line = 4 + ncm
    body = text[data_start:].rstrip("\n")
    lines = _data_lines(body, nrow, 1 + nrm + ncol, first_data_line, where)
    split_meta = [line.split("\t", nrm + 1) for line in lines]
    gene_ids = [cells[0] for cells in split_meta]
    check_unique(
        gene_ids,
        what="gene",
        where=where,
        locate=lambda g: f"lines {[first_data_line + i for i, v in enumerate(gene_ids) if v == g][:2]}",
    )
    row_meta = {f: [cells[1 + j] for cells in split_meta] for j, f in enumerate(row_fields)}
    del split_meta

    values = _parse_matrix(body, nrm, ncol, where, first_data_line, gene_ids, sample_ids)
    check_finite(
        values,
        allow_nan=allow_nan,
        where=where,
        gene_ids=gene_ids,
        sample_ids=sample_ids,
        first_line=first_data_line,
    )

    var = metadata_frame(gene_ids, row_meta)
    if version == "1.2":
        var = var.rename(columns={row_fields[0]: "Description"}) if nrm else var
        if "Description" in var and var["Description"].isna().all():
            var = var.drop(columns="Description")
    obs = metadata_frame(sample_ids, col_fields)
    X = np.ascontiguousarray(values.T, dtype=dtype)
    adata = ad.AnnData(X=X, obs=obs, var=var)
    adata.uns["gct_version"] = version
    return adata


def _read_version_and_dims(text: str, where: Path) -> tuple[str, tuple[int, int, int, int]]:
    """The GCT version of line 1 and the (nrow, ncol, nrowmeta, ncolmeta) of line 2."""
    head, _ = _split_head(text, 2)
    if not head or not head[0].strip():
        raise FormatError(
            "the file is empty or its first line is blank",
            where=where,
            fix="a GCT file starts with '#1.2' or '#1.3'",
        )
    version_line = _cells(head[0], trim=True)[0].strip()
    if version_line not in ("#1.2", "#1.3"):
        raise FormatError(
            f"line 1 must be '#1.2' or '#1.3', found '{head[0][:40]}'",
            where=where,
            fix="check that this is a GCT file; GCTX files are read with read_gctx",
        )
    version = version_line[1:]
    if len(head) < 2:
        raise FormatError("the file ends after line 1 (no dimension line)", where=where, fix=_FIX_DIMS)
    return version, _parse_dims(head[1], version, where)


def _read_header_block(
    head: list[str], version: str, ncol: int, nrm: int, ncm: int, where: Path
) -> tuple[list[str], list[str], dict[str, Sequence[str]]]:
    """Sample ids, row-metadata fields and column metadata from the header and metadata lines."""
    if len(head) < 3 + ncm:
        raise FormatError(
            f"the file is truncated: it ends at line {len(head)}, before the header and the "
            f"{ncm} column-metadata lines announced on line 2",
            where=where,
            fix="the file is incomplete; download or export it again",
        )
    width = 1 + nrm + ncol
    header = _cells(head[2], trim=True)
    if len(header) != width:
        raise FormatError(
            f"line 3 (header) has {len(header)} cells, the dimension line announces {width} "
            f"(1 id + {nrm} {'description' if version == '1.2' else 'row-metadata'} + {ncol} sample columns)",
            where=where,
            fix="make the dimension line (line 2) agree with the header",
        )
    sample_ids = header[1 + nrm :]
    row_fields = header[1 : 1 + nrm]
    check_unique(
        sample_ids,
        what="sample",
        where=where,
        locate=lambda s: f"line 3, columns {[i + 2 + nrm for i, v in enumerate(sample_ids) if v == s][:2]}",
    )
    if version == "1.3":
        check_unique(row_fields, what="row-metadata field", where=where, locate=lambda s: "line 3")
    col_fields: dict[str, Sequence[str]] = {}
    for k in range(ncm):
        cells = head[3 + k].split("\t")
        lineno = 4 + k
        if len(cells) != width:
            raise FormatError(
                f"line {lineno} (column metadata '{cells[0][:40]}') has {len(cells)} cells, expected {width}",
                where=where,
                fix="every column-metadata line needs the field name, one filler per row-metadata field and one value per sample",
            )
        name = cells[0]
        if name in col_fields:
            raise DuplicateIdError(
                f"column-metadata field '{name}' appears twice (line {lineno})",
                where=where,
                fix="rename or remove the repeated field",
            )
        col_fields[name] = cells[1 + nrm :]
    return sample_ids, row_fields, col_fields


def _data_lines(body: str, nrow: int, width: int, first_data_line: int, where: Path) -> list[str]:
    """The data lines, checked against the announced row count and the header width."""
    lines = body.split("\n") if body else []
    if len(lines) < nrow:
        raise FormatError(
            f"the file is truncated: line 2 announces {nrow} data rows but only {len(lines)} follow "
            f"(the file ends at line {first_data_line + len(lines) - 1})",
            where=where,
            fix="the file is incomplete; export it again, or correct the row count on line 2",
        )
    if len(lines) > nrow:
        raise FormatError(
            f"line 2 announces {nrow} data rows but {len(lines)} follow (first extra row on line {first_data_line + nrow})",
            where=where,
            fix="correct the row count on line 2 or remove the extra lines",
        )
    ntabs = np.fromiter(map(str.count, lines, ["\t"] * len(lines)), dtype=np.int64, count=len(lines))
    bad = np.flatnonzero(ntabs != width - 1)
    if bad.size:
        i = int(bad[0])
        what = "is empty" if not lines[i] else f"has {ntabs[i] + 1} cells, expected {width}"
        raise FormatError(
            f"line {first_data_line + i} {what}",
            where=where,
            fix="every data line needs the gene id, its row metadata and one value per sample, separated by tabs",
        )
    return lines


def _parse_matrix(body, nrm, ncol, where, first_line, gene_ids, sample_ids) -> np.ndarray:
    """Parse the numeric block of the data lines with pandas' C reader (round-trip precision)."""
    if not gene_ids or ncol == 0:
        return np.zeros((len(gene_ids), ncol))
    usecols = list(range(1 + nrm, 1 + nrm + ncol))
    opts = dict(
        sep="\t",
        header=None,
        usecols=usecols,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_values=_NA_VALUES,
        engine="c",
        skip_blank_lines=False,
        low_memory=False,
    )
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=np.float64, float_precision="round_trip", **opts)
    except (ValueError, TypeError, pd.errors.ParserError):
        # Locate the first cell that is neither a number nor a missing token.
        raw = pd.read_csv(io.StringIO(body), dtype=object, **opts)
        for j, col in enumerate(raw.columns):
            series = raw[col]
            num = pd.to_numeric(series, errors="coerce")
            badmask = num.isna() & series.notna()
            if badmask.any():
                i = int(np.flatnonzero(badmask.to_numpy())[0])
                raise FormatError(
                    f"non-numeric value '{str(series.iloc[i])[:40]}' on line {first_line + i} "
                    f"(gene '{gene_ids[i]}', sample '{sample_ids[j]}')",
                    where=where,
                    fix="expression values must be numbers; write missing values as NA",
                ) from None
        raise FormatError(
            "the data lines could not be parsed as numbers",
            where=where,
            fix="check the data lines of the file",
        ) from None
    values = frame.to_numpy(dtype=np.float64)
    if values.shape != (len(gene_ids), ncol):
        raise FormatError(
            f"the data block parsed as {values.shape}, expected {(len(gene_ids), ncol)}",
            where=where,
            fix="check the data lines for stray quotes or separators",
        )
    return values


def check_finite(
    values: np.ndarray,
    *,
    allow_nan: bool,
    where,
    gene_ids: Sequence[str] | np.ndarray,
    sample_ids: Sequence[str] | np.ndarray,
    first_line: int | None = None,
    genes_on_rows: bool = True,
) -> None:
    """Refuse infinite values (always) and NaN (unless ``allow_nan``), naming the first cell.

    ``values`` is genes x samples when ``genes_on_rows`` (GCT layout), samples x genes otherwise.
    """
    finite = np.isfinite(values)
    if finite.all():
        return
    inf = np.isinf(values)
    mask = inf if inf.any() else (None if allow_nan else ~finite)
    if mask is None:
        return
    r, c = (int(a[0]) for a in np.nonzero(mask))
    g, s = (r, c) if genes_on_rows else (c, r)
    kind = "an infinite value" if inf.any() else "a missing (NaN) value"
    line = f" on line {first_line + r}" if first_line is not None else ""
    fix = (
        "replace infinite values (for example by NA, or clip them) before loading"
        if inf.any()
        else "impute or drop missing values, or read with allow_nan=True to keep them as NaN"
    )
    raise NonFiniteValueError(
        f"{kind}{line} (gene '{gene_ids[g]}', sample '{sample_ids[s]}')", where=where, fix=fix
    )


def write_gct(
    adata: ad.AnnData,
    path: str | os.PathLike,
    version: Literal["1.2", "1.3"] = "1.3",
) -> Path:
    """Write an AnnData as GCT (genes as rows), atomically; ``.gz``/``.xz`` names compress.

    Parameters
    ----------
    adata
        obs = samples (GCT columns), var = genes (GCT rows). Every obs column becomes a
        column-metadata line and every var column a row-metadata field (GCT 1.3).
    path
        Output file (``.gct``, ``.gct.gz`` or ``.gct.xz``).
    version
        ``"1.3"`` (default, keeps all metadata) or ``"1.2"`` (keeps only ``var["Description"]``;
        other metadata is dropped with a warning).

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    version = check_choice(version, "version", ("1.2", "1.3"))
    X = validate_adata(adata, where=where)
    obs_ids = [str(s) for s in adata.obs_names]
    var_ids = [str(g) for g in adata.var_names]
    check_text_safe(obs_ids, what="sample id", where=where)
    check_text_safe(var_ids, what="gene id", where=where)
    check_finite(X, allow_nan=True, where=where, gene_ids=var_ids, sample_ids=obs_ids, genes_on_rows=False)
    if version == "1.2":
        lines, row_meta = _gct12_head(adata, var_ids, obs_ids)
    else:
        lines, row_meta = _gct13_head(adata, var_ids, obs_ids, where)
    head = "\n".join(lines) + "\n"

    block = pd.concat(
        [pd.DataFrame({"id": var_ids}), row_meta.reset_index(drop=True), pd.DataFrame(X.T)],
        axis=1,
    )
    body = block.to_csv(
        sep="\t",
        header=False,
        index=False,
        na_rep="NaN",
        lineterminator="\n",
        quoting=csv.QUOTE_NONE,
        escapechar=None,
    )
    _, compression = strip_compression_suffix(where.name)
    with atomic_path(where) as tmp:
        write_text(head + body, tmp, compression)
    return where


def _gct12_head(adata: ad.AnnData, var_ids: list[str], obs_ids: list[str]) -> tuple[list[str], pd.DataFrame]:
    """GCT 1.2 head lines and row metadata (only the Description; the rest dropped with a warning)."""
    dropped = [c for c in adata.var.columns if c != "Description"] + list(adata.obs.columns)
    if dropped:
        warnings.warn(
            f"GCT 1.2 keeps no metadata but Description; dropped: {', '.join(map(str, dropped[:10]))}"
            f"{' ...' if len(dropped) > 10 else ''} (write version='1.3' to keep them)",
            stacklevel=3,
        )
    desc = (
        column_as_text(adata.var["Description"])
        if "Description" in adata.var
        else np.full(len(var_ids), MISSING_OUT, dtype=object)
    )
    lines = ["#1.2", f"{len(var_ids)}\t{len(obs_ids)}", "\t".join(["Name", "Description", *obs_ids])]
    return lines, pd.DataFrame({"Description": desc})


def _gct13_head(
    adata: ad.AnnData, var_ids: list[str], obs_ids: list[str], where: Path
) -> tuple[list[str], pd.DataFrame]:
    """GCT 1.3 head lines (with a line per obs column) and the row metadata (every var column)."""
    row_fields = [str(c) for c in adata.var.columns]
    col_fields = [str(c) for c in adata.obs.columns]
    if "id" in row_fields:
        raise InputDataError(
            "var has a column named 'id', which GCT 1.3 reserves for the gene ids",
            where=where,
            fix="rename that var column before writing",
        )
    check_unique(row_fields, what="row-metadata field", where=where)
    check_unique(col_fields, what="column-metadata field", where=where)
    check_text_safe(row_fields + col_fields, what="metadata field name", where=where)
    row_meta = pd.DataFrame(
        {f: column_as_text(adata.var[c]) for f, c in zip(row_fields, adata.var.columns, strict=True)}
    )
    for f in row_fields:
        check_text_safe(row_meta[f], what=f"value of row field '{f}'", where=where)
    nrm = len(row_fields)
    lines = [
        "#1.3",
        f"{len(var_ids)}\t{len(obs_ids)}\t{nrm}\t{len(col_fields)}",
        "\t".join(["id", *row_fields, *obs_ids]),
    ]
    filler = [MISSING_OUT] * nrm
    for f, c in zip(col_fields, adata.obs.columns, strict=True):
        vals = column_as_text(adata.obs[c])
        check_text_safe(vals, what=f"value of column field '{f}'", where=where)
        lines.append("\t".join([f, *filler, *vals]))
    return lines, row_meta
