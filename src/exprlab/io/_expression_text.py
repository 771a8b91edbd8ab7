"""Expression matrices and phenotypes from text: CSV/TSV in either orientation, GEO series matrices.

A user's cohort rarely arrives as GCT. This module reads the forms it does arrive in:

* a delimited matrix (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``/``.xz``) whose first
  column holds row ids and whose header holds column ids, genes as rows or as columns; which
  axis holds the genes is detected (:func:`guess_genes_axis`, docs/methods.md §4.1) or forced;
* a GEO series matrix (``*_series_matrix.txt[.gz]``): the ``!Sample_`` lines become obs columns
  (``key: value`` characteristics become one column per key), the table between
  ``!series_matrix_table_begin`` and ``!series_matrix_table_end`` the matrix;
* a phenotype table (one row per sample) and its join to a matrix by sample id
  (docs/methods.md §4.2);
* a probe annotation table (probe id -> gene entry), for :func:`exprlab.genes.collapse_probes`.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd

from exprlab._validation import check_choice
from exprlab.errors import DuplicateIdError, FormatError, InputDataError, InvalidParameterError
from exprlab.io._common import check_readable, compression_of, infer_column, read_text
from exprlab.io._ids import guess_id_kind
from exprlab.io._tables import read_delimited

__all__ = [
    "GenesAs",
    "guess_genes_axis",
    "is_series_matrix",
    "join_phenotypes",
    "read_expression_table",
    "read_geo_series_matrix",
    "read_phenotypes",
    "read_probe_annotation",
    "storable_frame",
]

GenesAs = Literal["auto", "rows", "columns"]
_GENES_AS: tuple[GenesAs, ...] = ("auto", "rows", "columns")
#: sample accessions of the public archives: GEO samples, TCGA barcodes, SRA/ENA runs, BioSamples
_SAMPLE_ID = re.compile(
    r"^(GSM\d+|TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}.*|[SED]RR\d+|[SED]RX\d+|SAM[NED]A?\d+)$", re.I
)
_SHAPE_RATIO = 3
_SHOWN = 10
_NA = ["", "NA", "NaN", "nan", "N/A", "#N/A", "NULL", "null", "na", "-"]
_SERIES_MARK = "!series_matrix_table_begin"


# --------------------------------------------------------------------------- small helpers
def _first_lines(path: Path, n: int) -> list[str]:
    """The first ``n`` lines of a (possibly compressed) text file, without reading the rest."""
    kind = compression_of(path)
    opener = gzip.open if kind == "gzip" else lzma.open if kind == "xz" else open
    lines: list[str] = []
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            for line in fh:
                lines.append(line.rstrip("\r\n"))
                if len(lines) >= n:
                    break
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise FormatError(
            f"cannot read the file ({err})", where=path, fix="check that the file is complete text"
        ) from err
    return lines


def _separator(path: Path, first_line: str, sep: str | None) -> str:
    """The field separator: given, or tab for .tsv/.txt/.tab, comma for .csv, else the commoner one."""
    if sep is not None:
        return sep
    name = path.name.lower()
    for suffix in (".gz", ".xz"):
        name = name.removesuffix(suffix)
    if name.endswith((".tsv", ".txt", ".tab")) and "\t" in first_line:
        return "\t"
    if name.endswith(".csv") and "," in first_line:
        return ","
    return "\t" if first_line.count("\t") >= first_line.count(",") else ","


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [])


def _examples(ids: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(map(str, list(ids)[:limit]))
    return shown + (" ..." if len(ids) > limit else "")


def storable_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Make metadata columns storable in h5ad: text with gaps becomes categorical, ids stay strings.

    Numeric columns are kept; text columns (and mixed text/boolean/missing columns) become
    categoricals of their string values with missing values missing, so that anndata writes
    them and a label column reads back as the same classes; categoricals lose the categories
    no row uses (a class of samples left out by a join is no class).

    Parameters
    ----------
    df
        obs or var table.

    Returns
    -------
    pandas.DataFrame
        A copy with the converted columns; the index as strings.
    """
    out = df.copy()
    out.index = pd.Index([str(i) for i in out.index], dtype=object)
    out.columns = [str(c) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.cat.remove_unused_categories()
            continue
        if pd.api.types.is_numeric_dtype(s.dtype):
            continue
        text = s.astype(object).where(s.notna(), None)
        values = [None if v is None else str(v) for v in text]
        out[col] = pd.Categorical(values)
    return out


# --------------------------------------------------------------------------- orientation
def _axis_kind(ids: Sequence[str]) -> str:
    """The id kind of one axis, with sample accessions and zero-padded numbers told apart."""
    values = [str(i) for i in ids]
    if values and np.mean([bool(_SAMPLE_ID.match(v)) for v in values]) >= 0.8:
        return "sample accession"
    kind = guess_id_kind(values)
    if kind == "entrez" and any(len(v) > 1 and v.startswith("0") for v in values):
        return "number"  # Entrez ids never start with 0; "01005" is a sample number
    if kind == "entrez" and all(v.isdigit() for v in values):
        numbers = sorted(int(v) for v in values)
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))) and numbers[0] in (0, 1):
            return "number"  # 1, 2, ..., n numbers rows or samples; it names no genes
    return kind


def guess_genes_axis(
    row_ids: Sequence[str], column_ids: Sequence[str], *, use_shape: bool = True
) -> tuple[str | None, str]:
    """Tell which axis of a matrix holds the genes, from its ids and its shape (docs/methods.md §4.1).

    The rules, in order: an axis of probe or Ensembl ids holds genes, an axis of sample
    accessions (GEO ``GSM``, TCGA barcodes, SRA runs) holds samples; then an axis of Entrez ids
    (all digits, none zero-padded, not just 1..n) holds genes when the other axis is neither all
    numbers nor three times longer; then an axis at least three times longer than the other
    holds genes. Conflicting or absent evidence leaves the question open.

    Parameters
    ----------
    row_ids, column_ids
        The ids of the rows and of the columns of the matrix as stored.
    use_shape
        Let the shape decide when the ids do not (off for formats with a fixed convention).

    Returns
    -------
    (str or None, str)
        ``"rows"``, ``"columns"`` or ``None`` (undecided), and the reason in words.
    """
    rk, ck = _axis_kind(row_ids), _axis_kind(column_ids)
    said = f"rows look like {rk} ids ({_examples(row_ids)}), columns like {ck} ids ({_examples(column_ids)})"
    strong_rows = rk in ("probe", "ensembl") or ck == "sample accession"
    strong_cols = ck in ("probe", "ensembl") or rk == "sample accession"
    if strong_rows != strong_cols:
        return ("rows" if strong_rows else "columns"), said
    if strong_rows and strong_cols:
        return None, said
    numeric = ("entrez", "number")
    n_rows, n_cols = len(row_ids), len(column_ids)
    # Entrez ids hold genes, unless the other axis is numbers too or is three times longer
    weak_rows = rk == "entrez" and ck not in numeric and n_cols < _SHAPE_RATIO * n_rows
    weak_cols = ck == "entrez" and rk not in numeric and n_rows < _SHAPE_RATIO * n_cols
    if weak_rows != weak_cols:
        return ("rows" if weak_rows else "columns"), said
    if not use_shape:
        return None, said
    if n_rows >= _SHAPE_RATIO * n_cols:
        return "rows", f"{said}; {n_rows} rows vs {n_cols} columns"
    if n_cols >= _SHAPE_RATIO * n_rows:
        return "columns", f"{said}; {n_rows} rows vs {n_cols} columns"
    return None, f"{said}; {n_rows} rows vs {n_cols} columns"


def _orient(genes_as: str, row_ids, column_ids, where, default: str | None = None) -> tuple[str, str]:
    genes_as = check_choice(genes_as, "genes_as", _GENES_AS)
    if genes_as != "auto":
        return genes_as, "forced"
    axis, reason = guess_genes_axis(row_ids, column_ids)
    if axis is not None:
        return axis, f"detected: {reason}"
    if default is not None:
        return default, f"format convention ({reason})"
    raise InputDataError(
        f"cannot tell whether genes are rows or columns: {reason}",
        where=where,
        fix="pass --genes-as rows or --genes-as columns to exprlab import (API: genes_as=)",
    )


# --------------------------------------------------------------------------- matrices
def _split_numeric(df: pd.DataFrame, where, line_offset: int) -> tuple[list[int], list[int]]:
    """Positions of the numeric value columns and of the text annotation columns.

    A mostly-numeric column with a stray word is an error naming its line.
    """
    numeric, text = [], []
    for i in range(df.shape[1]):
        raw = df.iloc[:, i]
        if pd.api.types.is_numeric_dtype(raw.dtype):
            numeric.append(i)
            continue
        conv = pd.to_numeric(raw, errors="coerce")
        bad = conv.isna() & raw.notna()
        if int(bad.sum()) * 2 > int(raw.notna().sum()):
            text.append(i)
            continue
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(
            f"column {df.columns[i]!r} holds a non-numeric value {raw.iloc[pos]!r} ({int(bad.sum())} such cells)",
            where=f"{where}, line {pos + line_offset}",
            fix="make every value a number (missing values may be empty or NA)",
        )
    return numeric, text


def _without_unnamed_empty(df: pd.DataFrame, where) -> pd.DataFrame:
    """Drop columns with no header name and no value (a trailing separator); refuse unnamed data."""
    unnamed = [i for i, c in enumerate(df.columns) if str(c).strip() == ""]
    for i in unnamed:
        if df.iloc[:, i].notna().any():
            raise FormatError(
                f"column {i + 2} holds values but has no name in the header",
                where=where,
                fix="give every column a name in the header row",
            )
    keep = [i for i in range(df.shape[1]) if i not in set(unnamed)]
    return df.iloc[:, keep]


def _frame_to_anndata(
    ids: pd.Series, df: pd.DataFrame, genes_as: str, where, line_offset: int, duplicate_genes: str = "error"
) -> tuple[ad.AnnData, str, str]:
    """Rows = ids, columns = df's columns -> AnnData (obs = samples), orientation detected or forced."""
    if len(ids) == 0 or df.shape[1] == 0:
        raise InputDataError(
            f"the matrix is empty ({len(ids)} rows x {df.shape[1]} columns)",
            where=where,
            fix="pass a table with a header row, an id column and at least one row of values",
        )
    text = ids.astype(object).where(ids.notna(), "").astype(str).str.strip()
    if (text == "").any():
        pos = int(np.flatnonzero((text == "").to_numpy())[0])
        raise FormatError(
            "a row has no id", where=f"{where}, line {pos + line_offset}", fix="give every row an id"
        )
    df = _without_unnamed_empty(df, where)
    numeric_pos, annot_pos = _split_numeric(df, where, line_offset)
    numeric = [str(df.columns[i]) for i in numeric_pos]
    if not numeric:
        raise InputDataError(
            "the table holds no numeric column, so it is not an expression matrix",
            where=where,
            fix="pass a matrix of numbers with ids in the first column and in the header",
        )
    axis, rule = _orient(genes_as, list(text), numeric, where)
    for side, names in (("row", list(text)), ("column", numeric)):
        dup = pd.Index(names)[pd.Index(names).duplicated()]
        holds_genes = (side == "row") == (axis == "rows")
        if len(dup) and not (holds_genes and duplicate_genes == "keep"):
            what = "gene" if holds_genes else "sample"
            raise DuplicateIdError(
                f"{what} id {dup[0]!r} appears more than once as a {side} id ({len(dup)} repeats)",
                where=where,
                fix="make the ids unique; exprlab import collapses repeated gene ids (--collapse)"
                if holds_genes
                else "make the sample ids unique",
            )
    X = df.iloc[:, numeric_pos].to_numpy(dtype=np.float32)
    meta = storable_frame(df.iloc[:, annot_pos].set_axis(list(text)))
    cols = pd.DataFrame(index=pd.Index(numeric, dtype=object))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # repeated gene ids were asked for
        if axis == "rows":
            adata = ad.AnnData(X=X.T.copy(), obs=cols, var=meta)
        else:
            adata = ad.AnnData(X=X, obs=meta, var=cols)
    return adata, axis, rule


def read_expression_table(
    path: str | os.PathLike,
    *,
    genes_as: GenesAs = "auto",
    sep: str | None = None,
    duplicate_genes: Literal["error", "keep"] = "error",
) -> ad.AnnData:
    """Read a delimited expression matrix (CSV/TSV, optionally compressed) in either orientation.

    The first column holds the row ids and the header the column ids (a header one field
    shorter than the rows, as R writes it, is understood). Ids are read as text, so sample
    ``01005`` keeps its zero. Columns that are mostly text (a gene description, a class label)
    become var or obs annotations; a numeric column with a stray word is an error naming the
    line. Which axis holds the genes is detected from the ids and the shape
    (:func:`guess_genes_axis`, docs/methods.md §4.1) unless ``genes_as`` forces it.

    Parameters
    ----------
    path
        The table.
    genes_as
        ``"auto"`` (detect), ``"rows"`` or ``"columns"``.
    sep
        Field separator; by default tab for ``.tsv``/``.txt``/``.tab``, comma for ``.csv``,
        else the commoner of the two in the header.
    duplicate_genes
        ``error`` (a gene id listed twice is refused) or ``keep`` (kept, for a collapse step
        such as :func:`exprlab.genes.collapse_probes`); repeated sample ids are always refused.

    Returns
    -------
    anndata.AnnData
        Samples x genes, float32; ``uns["layout"]`` records the separator, ``genes_as`` and
        the rule that decided it.
    """
    where = check_readable(path)
    lines = _first_lines(where, 2)
    if not lines or not lines[0].strip():
        raise InputDataError(
            "the matrix is empty (no header line)", where=where, fix="pass a non-empty table"
        )
    sep = _separator(where, lines[0], sep)
    header = [h.strip() for h in _split(lines[0], sep)]
    if len(lines) < 2 or not lines[1].strip():
        raise InputDataError(
            "the matrix is empty (a header and no data rows)", where=where, fix="pass a table with values"
        )
    n_fields = len(_split(lines[1], sep))
    names = header if n_fields == len(header) + 1 else header[1:]
    df = read_delimited(where, sep=sep, header=None, skiprows=1, dtype={0: str}, na_values=_NA)
    if df.shape[1] != len(names) + 1:
        raise FormatError(
            f"the header names {len(names)} columns but the rows hold {df.shape[1] - 1} values",
            where=where,
            fix="give every column a name in the header row",
        )
    ids = df.pop(0)
    df.columns = names
    duplicate_genes = check_choice(duplicate_genes, "duplicate_genes", ("error", "keep"))
    adata, axis, rule = _frame_to_anndata(
        ids, df, genes_as, where, line_offset=2, duplicate_genes=duplicate_genes
    )
    adata.uns["layout"] = {"format": "delimited", "sep": sep, "genes_as": axis, "rule": rule}
    return adata


# --------------------------------------------------------------------------- GEO series matrix
def is_series_matrix(path: str | os.PathLike) -> bool:
    """Whether a file is a GEO series matrix (name ``*_series_matrix.txt[.gz]`` or ``!Series_`` lines).

    Parameters
    ----------
    path
        An existing file.

    Returns
    -------
    bool
        True for a series matrix.
    """
    p = Path(path)
    if p.name.lower().removesuffix(".gz").removesuffix(".xz").endswith("_series_matrix.txt"):
        return True
    try:
        first = _first_lines(p, 1)
    except FormatError:
        return False
    return bool(first) and first[0].startswith(("!Series_", "!Sample_", "^SERIES"))


def _sample_fields(rows: list[tuple[str, list[str], int]], where) -> tuple[dict[str, list], int]:
    """``!Sample_`` lines -> column name -> one value per sample (characteristics split on ': ')."""
    n = len(rows[0][1])
    fields: dict[str, list] = {}
    for key, values, line in rows:
        if len(values) != n:
            raise FormatError(
                f"!Sample_{key} holds {len(values)} values but the first !Sample_ line {n}",
                where=f"{where}, line {line}",
                fix="download the series matrix again; every !Sample_ line has one value per sample",
            )
        if key.startswith("characteristics"):
            for i, cell in enumerate(values):
                name, found, value = cell.partition(": ")
                name = name.strip() if found else key
                value = value.strip() if found else cell.strip()
                if not cell.strip():
                    continue
                column = fields.setdefault(name, [None] * n)
                if column[i] is None:
                    column[i] = value
            continue
        name, k = key, 2
        while name in fields:
            name, k = f"{key}_{k}", k + 1
        fields[name] = [v.strip() for v in values]
    return fields, n


def _series_parts(path: str | os.PathLike) -> tuple[Path, list[str], pd.DataFrame, dict[str, str], int]:
    """Split a series matrix into (file, lines, obs, series fields, index of the table's first line)."""
    where = check_readable(path)
    lines = read_text(where).split("\n")
    series: dict[str, list[str]] = {}
    samples: list[tuple[str, list[str], int]] = []
    begin = -1
    for i, line in enumerate(lines):
        if line.startswith(_SERIES_MARK):
            begin = i
            break
        if line.startswith(("!Series_", "!Sample_")):
            cells = _split(line, "\t")
            key, values = cells[0], cells[1:]
            if key.startswith("!Series_"):
                series.setdefault(key[len("!Series_") :], []).append(" ".join(v.strip() for v in values))
            else:
                samples.append((key[len("!Sample_") :], values, i + 1))
    if not samples:
        raise FormatError(
            "no !Sample_ lines: this is not a GEO series matrix",
            where=where,
            fix="pass the *_series_matrix.txt.gz file of a GEO series",
        )
    fields, n = _sample_fields(samples, where)
    if "geo_accession" not in fields:
        raise FormatError("no !Sample_geo_accession line", where=where, fix="pass a complete series matrix")
    index = pd.Index(fields["geo_accession"], dtype=object)
    obs = pd.DataFrame(
        {
            k: infer_column(np.array(["" if v is None else v for v in vals], dtype=object))
            for k, vals in fields.items()
        },
        index=index,
    )
    info = {k: "\n".join(v) for k, v in series.items()}
    return where, lines, storable_frame(obs), info, begin


def read_geo_series_matrix(path: str | os.PathLike) -> ad.AnnData:
    """Read a GEO series matrix file: sample annotations into obs, the data table into X.

    ``!Sample_`` lines become obs columns named after the key (``title``, ``source_name_ch1``,
    ``geo_accession`` ...; a repeated key gets ``_2``, ``_3``); each ``!Sample_characteristics``
    cell ``key: value`` becomes a column ``key``. ``!Series_`` lines go to
    ``uns["geo_series"]``. The table between ``!series_matrix_table_begin`` and
    ``!series_matrix_table_end`` holds probes (rows) x samples (columns); ``null`` and empty
    cells are missing values.

    Parameters
    ----------
    path
        A ``*_series_matrix.txt`` file (plain, ``.gz`` or ``.xz``).

    Returns
    -------
    anndata.AnnData
        Samples (GSM ids, in table order) x probes, float32.

    Raises
    ------
    FormatError
        No table (``!series_matrix_table_begin`` missing or unclosed) or an empty table (GEO
        keeps RNA-seq data in supplementary files; the message says how to import those).
    """
    where, lines, obs, info, begin = _series_parts(path)
    fix_empty = (
        "GEO keeps this series' data (often RNA-seq counts) in supplementary files: import that "
        "table and pass this file as --pheno to take the sample annotations from it"
    )
    if begin < 0:
        raise FormatError(
            "the series matrix holds no data table (no !series_matrix_table_begin line)",
            where=where,
            fix=fix_empty,
        )
    try:
        end = next(i for i in range(begin + 1, len(lines)) if lines[i].startswith("!series_matrix_table_end"))
    except StopIteration:
        raise FormatError(
            "the data table is not closed (no !series_matrix_table_end line)",
            where=where,
            fix="the file is truncated: download it again",
        ) from None
    body = [ln for ln in lines[begin + 1 : end] if ln.strip()]
    if len(body) < 2:
        raise FormatError("the series matrix's data table is empty", where=where, fix=fix_empty)
    header = [h.strip() for h in _split(body[0], "\t")]
    df = pd.read_csv(io.StringIO("\n".join(body[1:])), sep="\t", header=None, dtype={0: str}, na_values=_NA)
    if df.shape[1] != len(header):
        raise FormatError(
            f"the table header names {len(header)} columns but the rows hold {df.shape[1]}",
            where=f"{where}, line {begin + 2}",
            fix="download the series matrix again",
        )
    ids = df.pop(0)
    df.columns = header[1:]
    adata, _, _ = _frame_to_anndata(ids, df, "rows", where, line_offset=begin + 3)
    missing = adata.obs_names.difference(obs.index)
    if len(missing):
        raise FormatError(
            f"table sample {missing[0]!r} has no !Sample_ annotation ({len(missing)} such)",
            where=where,
            fix="download the series matrix again",
        )
    adata.obs = obs.loc[adata.obs_names]
    adata.uns["geo_series"] = info
    adata.uns["layout"] = {"format": "geo_series_matrix", "genes_as": "rows", "rule": "format convention"}
    return adata


# --------------------------------------------------------------------------- phenotypes
def read_phenotypes(
    path: str | os.PathLike, *, sample_column: str | None = None, sep: str | None = None
) -> pd.DataFrame:
    """Read a phenotype table (one row per sample) indexed by sample id (docs/methods.md §4.2).

    A delimited table (CSV/TSV, optionally compressed): the sample ids are ``sample_column`` or
    the first column; every column is typed (numbers when every present value is a number,
    otherwise categorical text). A GEO series matrix is read for its sample annotations (its
    ids are ``geo_accession`` unless ``sample_column`` names another field, e.g. ``title``).

    Parameters
    ----------
    path
        The table or series matrix.
    sample_column
        The column of sample ids (default the first column).
    sep
        Field separator of a delimited table (detected by default, see
        :func:`read_expression_table`).

    Returns
    -------
    pandas.DataFrame
        Indexed by the sample ids (text, unique), one column per phenotype.

    Raises
    ------
    DuplicateIdError
        A sample id appears twice.
    FormatError
        The sample column is missing or has an empty id.
    """
    where = check_readable(path)
    if is_series_matrix(where):
        obs = _series_parts(where)[2]
        if sample_column is None:
            return obs
        return _index_by(obs.reset_index(drop=True), sample_column, where, line_offset=None)
    lines = _first_lines(where, 2)
    if not lines or not lines[0].strip():
        raise FormatError("the phenotype table is empty", where=where, fix="pass a table with a header row")
    sep = _separator(where, lines[0], sep)
    header = [h.strip() for h in _split(lines[0], sep)]
    n_fields = len(_split(lines[1], sep)) if len(lines) > 1 else len(header)
    names = ([""] + header) if n_fields == len(header) + 1 else header
    raw = read_delimited(where, sep=sep, header=None, skiprows=1, dtype=str, keep_default_na=False)
    if raw.shape[1] != len(names):
        raise FormatError(
            f"the header names {len(names)} columns but the rows hold {raw.shape[1]}",
            where=where,
            fix="give every column a name in the header row",
        )
    raw.columns = [n if n else f"column_{i + 1}" for i, n in enumerate(names)]
    column = sample_column if sample_column is not None else raw.columns[0]
    table = pd.DataFrame(
        {
            c: raw[c].to_numpy(dtype=object) if c == column else infer_column(raw[c].to_numpy(dtype=str))
            for c in raw.columns
        }
    )
    return _index_by(table, column, where, line_offset=2)


def _index_by(table: pd.DataFrame, column: str, where, line_offset: int | None) -> pd.DataFrame:
    if column not in table.columns:
        raise FormatError(
            f"the phenotype table has no column {column!r} (columns: {_examples(list(table.columns), 12)})",
            where=where,
            fix="pass --sample-column with the column that holds the sample ids",
        )
    ids = pd.Series(table[column].astype(object).where(table[column].notna(), "").astype(str).str.strip())
    if (ids == "").any():
        pos = int(np.flatnonzero((ids == "").to_numpy())[0])
        place = f"{where}, line {pos + line_offset}" if line_offset is not None else str(where)
        raise FormatError(
            f"a row has no sample id in column {column!r}", where=place, fix="give every row a sample id"
        )
    counts = ids.value_counts(sort=False)
    repeated = counts[counts > 1]
    if len(repeated):
        first = str(repeated.index[0])
        lines = (
            [str(p + line_offset) for p in np.flatnonzero((ids == first).to_numpy())] if line_offset else []
        )
        at = f" (lines {', '.join(lines[:5])})" if lines else ""
        raise DuplicateIdError(
            f"sample id {first!r} appears {int(repeated.iloc[0])} times in the phenotype table{at}; "
            f"{len(repeated)} ids are repeated",
            where=where,
            fix="keep one row per sample (aggregate or remove the repeats), or pass --sample-column "
            "with a column of unique ids",
        )
    out = table.drop(columns=[column])
    out.index = pd.Index(ids.to_numpy(), dtype=object)
    return storable_frame(out)


def join_phenotypes(
    adata: ad.AnnData, pheno: pd.DataFrame, *, where: str | os.PathLike = "phenotype table"
) -> tuple[ad.AnnData, dict]:
    """Join a phenotype table to a matrix by sample id, keeping the samples both hold (docs/methods.md §4.2).

    Parameters
    ----------
    adata
        The matrix (obs_names = sample ids).
    pheno
        Phenotypes indexed by sample id (:func:`read_phenotypes`).
    where
        How to name the phenotype table in messages.

    Returns
    -------
    (anndata.AnnData, dict)
        The samples present in both, in matrix order, with the phenotype columns added to obs
        (a phenotype column replaces an obs column of the same name); and a report:
        ``n_matched``, ``expression_only`` and ``phenotype_only`` (each ``count`` and the
        ``first`` ten ids), ``replaced_columns``.

    Raises
    ------
    InputDataError
        No sample id is in both.
    """
    expr_ids = [str(i) for i in adata.obs_names]
    ph_ids = [str(i) for i in pheno.index]
    known = set(ph_ids)
    matched = [i for i in expr_ids if i in known]
    if not matched:
        folded = {i.strip().lower() for i in ph_ids} & {i.strip().lower() for i in expr_ids}
        hint = f"; {len(folded)} match when case is ignored" if folded else ""
        raise InputDataError(
            f"no sample id joins: none of the {len(expr_ids)} matrix samples ({_examples(expr_ids)}) is "
            f"among the {len(ph_ids)} phenotype rows ({_examples(ph_ids)}){hint}",
            where=where,
            fix="pass --sample-column with the phenotype column that holds the matrix's sample ids, "
            "or check --genes-as (the samples may be the other axis)",
        )
    in_expr = set(expr_ids)
    expr_only = [i for i in expr_ids if i not in known]
    pheno_only = [i for i in ph_ids if i not in in_expr]
    out = adata[matched].copy()
    replaced = [str(c) for c in pheno.columns if c in out.obs.columns]
    obs = out.obs.drop(columns=replaced)
    out.obs = pd.concat([obs, pheno.loc[matched].set_axis(out.obs_names)], axis=1)
    report = {
        "n_matched": len(matched),
        "expression_only": {"count": len(expr_only), "first": expr_only[:_SHOWN]},
        "phenotype_only": {"count": len(pheno_only), "first": pheno_only[:_SHOWN]},
        "replaced_columns": replaced,
    }
    return out, report


# --------------------------------------------------------------------------- probe annotation
_GENE_COLUMNS = ("gene symbol", "gene_symbol", "genesymbol", "symbol", "gene", "gene_assignment_symbol")


def _default_gene_column(columns: list[str], where) -> str:
    lower = {str(c).strip().lower(): str(c) for c in columns}
    for name in _GENE_COLUMNS:
        if name in lower:
            return lower[name]
    raise InvalidParameterError(
        f"no gene column given and none named like a gene symbol column (columns: {_examples(columns, 12)})",
        where=where,
        fix="pass --gene-column with the column of gene symbols or ids",
    )


def read_probe_annotation(
    path: str | os.PathLike,
    *,
    probe_column: str | None = None,
    gene_column: str | None = None,
    sep: str | None = None,
) -> pd.Series:
    """Read a probe annotation table: probe id -> gene entry, as written (see collapse_probes).

    Leading lines starting with ``#`` are comments (GEO platform tables carry them). Entries
    are kept as text; empty, ``---`` and missing entries mean "no gene".

    Parameters
    ----------
    path
        The table (CSV/TSV, optionally compressed).
    probe_column
        The column of probe ids (default the first column).
    gene_column
        The column of gene entries (default the first column named ``Gene Symbol``,
        ``gene_symbol``, ``symbol`` or ``gene``, in any case).
    sep
        Field separator (detected by default).

    Returns
    -------
    pandas.Series
        Gene entries (text, empty for none) indexed by probe id; a probe listed twice keeps
        its first row.
    """
    where = check_readable(path)
    skip = _comment_rows(where)
    lines = _first_lines(where, skip + 1)[skip:]
    if not lines or not lines[0].strip():
        raise FormatError("the annotation table is empty", where=where, fix="pass a table with a header row")
    sep = _separator(where, lines[0], sep)
    table = read_delimited(where, sep=sep, dtype=str, keep_default_na=False, skiprows=skip)
    columns = [str(c) for c in table.columns]
    probe_column = columns[0] if probe_column is None else probe_column
    gene_column = _default_gene_column(columns, where) if gene_column is None else gene_column
    for option, col in (("--probe-column", probe_column), ("--gene-column", gene_column)):
        if col not in table.columns:
            raise InvalidParameterError(
                f"the annotation table has no column {col!r} (columns: {_examples(columns, 12)})",
                where=where,
                fix=f"pass {option} with one of its columns",
            )
    probes = table[probe_column].str.strip()
    genes = table[gene_column].str.strip()
    keep = (probes != "") & ~probes.duplicated()
    return pd.Series(
        genes[keep].to_numpy(dtype=object), index=pd.Index(probes[keep].to_numpy(), dtype=object), name="gene"
    )


def _comment_rows(path: Path) -> int:
    """The number of leading ``#`` comment lines."""
    n, step = 0, 64
    while True:
        wanted = n + step
        lines = _first_lines(path, wanted)
        for line in lines[n:]:
            if not line.startswith("#"):
                return n
            n += 1
        if len(lines) < wanted:  # the file ended inside the comments
            return n
        step *= 4
