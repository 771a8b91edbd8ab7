"""Tabular inputs: DEG tables, disease contrasts, indication catalogues, gene and CSV tables.

The readers cover differential-expression tables, disease contrasts, indication catalogues, the
L1000 gene table and plain expression CSV matrices.

Differential-expression (DEG) long tables
-----------------------------------------
A DEG table lists, per disease comparison, only the genes found differentially expressed
(Open Targets / Expression Atlas: ``efo.id, efo.term, ensembl.id, gene.symbol, comparison, lfc,
pval``). :func:`read_deg_table` pivots it to an AnnData with one signature per (disease,
comparison) pair. Genes a comparison does not list get the value ``fill`` (0.0 by default: "not
differentially expressed"; pass ``fill=float("nan")`` for "unknown"), p-value 1.0 (NaN with a
NaN fill), and the boolean layer ``"listed"`` records which genes were listed. When one
comparison lists a gene twice (several probes or experiments share a comparison name), the row
with the smallest p-value is kept (ties: the larger absolute fold change, then the first row);
the number of rows dropped is reported in ``uns["deg_report"]``.

Indication catalogues
---------------------
:func:`read_indications` turns Open Targets, repoDB, PharmacotherapyDB, DrugCentral or a user
TSV into one tidy table with columns :data:`INDICATION_COLUMNS`: ``drug`` is the normalised drug
name (:func:`exprlab.drugs.normalize_drug_name`, the key catalogues join on), ``drug_name`` the
name as written in the source, ``disease`` the disease identifier that serves as join key (the
catalogue's own ontology: EFO / MONDO / Orphanet ids for Open Targets, ``UMLS:C...`` for repoDB,
``DOID:...`` for PharmacotherapyDB and DrugCentral; equal to ``disease_id``), ``disease_name``
as written, ``status`` (repoDB status, or the PharmacotherapyDB / DrugCentral category DM, SYM,
NOT) and ``phase`` (clinical phase; repoDB gives none for approved pairs, which are recorded as
phase 4, the approved phase).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import anndata as ad
import numpy as np
import pandas as pd

from exprlab._drug_names import normalize_drug_name
from exprlab._validation import check_choice
from exprlab.errors import (
    DuplicateIdError,
    FileAccessError,
    FormatError,
    NonFiniteValueError,
)

INDICATION_COLUMNS = [
    "drug",
    "drug_name",
    "disease",
    "disease_name",
    "drug_id",
    "disease_id",
    "status",
    "phase",
    "source",
]

DEG_COLUMNS = {
    "efo.id": "disease",
    "efo.term": "disease_name",
    "ensembl.id": "ensembl",
    "gene.symbol": "symbol",
    "comparison": "comparison",
    "lfc": "lfc",
    "pval": "pval",
}
_DEG_REQUIRED = ("efo.id", "gene.symbol", "comparison", "lfc")


# --------------------------------------------------------------------------- reading helpers
def read_delimited(path: str | os.PathLike, *, sep: str = "\t", **kw: Any) -> pd.DataFrame:
    """Read a delimited text table with :func:`pandas.read_csv`, turning its failures into exprlab errors.

    A missing or unreadable file raises :class:`~exprlab.errors.FileAccessError`, an empty or
    unparsable one :class:`~exprlab.errors.FormatError`, both naming the file, so that every
    table reader of exprlab fails the same way.

    Parameters
    ----------
    path
        The table (optionally ``.gz``/``.xz`` compressed).
    sep
        Field separator.
    **kw
        Passed to :func:`pandas.read_csv` (``dtype``, ``index_col``, ``keep_default_na`` ...).

    Returns
    -------
    pandas.DataFrame
        The table as pandas reads it.
    """
    path = Path(path)
    if not path.exists():
        raise FileAccessError("file not found", where=path, fix="check the path")
    try:
        return pd.read_csv(path, sep=sep, **kw)
    except (PermissionError, IsADirectoryError) as err:
        raise FileAccessError(
            f"cannot read the file ({err.__class__.__name__})",
            where=path,
            fix="check the path and its permissions",
        ) from err
    except pd.errors.EmptyDataError as err:
        raise FormatError("the file is empty", where=path, fix="pass a non-empty table") from err
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as err:
        msg = " ".join(str(err).split())[:200]
        raise FormatError(
            f"cannot parse the table ({msg})",
            where=path,
            fix="pass a tab- or comma-separated text table (optionally .gz/.xz)",
        ) from err


def require_columns(df: pd.DataFrame, required: Sequence[str], where: str | os.PathLike, what: str) -> None:
    """Raise :class:`~exprlab.errors.FormatError` naming the columns ``df`` lacks.

    Parameters
    ----------
    df
        The table read.
    required
        Column names it must have.
    where
        The file (or place) named in the message.
    what
        What the table is, for the message (``"the DEG table"``).
    """
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FormatError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))} (found: "
            f"{', '.join(map(str, list(df.columns)[:12]))})",
            where=where,
            fix=f"provide a header row with the columns {', '.join(required)}",
        )


def _numeric_column(
    df: pd.DataFrame, col: str, where, *, allow_missing: bool = False, line_offset: int = 2
) -> np.ndarray:
    """Column as float64; a non-numeric (or, unless allowed, missing) cell names its line."""
    raw = df[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & (raw.notna() if allow_missing else True)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(
            f"column {col!r} holds a non-numeric or missing value {raw.iloc[pos]!r} "
            f"({int(bad.sum())} such rows)",
            where=f"{where}, line {pos + line_offset}",
            fix=f"make every {col} value a number",
        )
    out = values.to_numpy(dtype=np.float64)
    finite = np.isfinite(out) | np.isnan(out)
    if not finite.all():
        pos = int(np.flatnonzero(~finite)[0])
        raise NonFiniteValueError(
            f"column {col!r} holds an infinite value",
            where=f"{where}, line {pos + line_offset}",
            fix=f"replace infinite {col} values by finite numbers",
        )
    return out


def _nonempty_text(df: pd.DataFrame, col: str, where, *, line_offset: int = 2) -> pd.Series:
    raw = df[col]
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    bad = text == ""
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(
            f"column {col!r} is empty ({int(bad.sum())} such rows)",
            where=f"{where}, line {pos + line_offset}",
            fix=f"fill in {col} on every row or remove those rows",
        )
    return text


# --------------------------------------------------------------------------- gene table
def read_gene_info(path: str | os.PathLike) -> pd.DataFrame:
    """Read the L1000 gene table (``geneinfo_beta.txt``), the source of gene identifier mapping.

    Parameters
    ----------
    path
        ``geneinfo_beta.txt`` (optionally compressed) with at least the columns ``gene_id``,
        ``gene_symbol`` and ``ensembl_id``.

    Returns
    -------
    pandas.DataFrame
        Columns ``entrez`` (str), ``symbol`` (upper-case), ``ensembl`` (str, ``""`` when
        unknown, version suffix removed), ``gene_title``, ``gene_type``, ``feature_space``, in
        file order.
    """
    df = read_delimited(path, dtype=str, keep_default_na=False)
    require_columns(df, ["gene_id", "gene_symbol", "ensembl_id"], path, "the gene table")
    out = pd.DataFrame(
        {
            "entrez": df["gene_id"].str.strip(),
            "symbol": df["gene_symbol"].str.strip().str.upper(),
            "ensembl": df["ensembl_id"]
            .str.strip()
            .str.replace('"', "", regex=False)
            .str.upper()
            .str.replace(r"\.\d+$", "", regex=True),
        }
    )
    for col in ("gene_title", "gene_type", "feature_space"):
        out[col] = df[col] if col in df.columns else ""
    if out["entrez"].duplicated().any():
        dup = out.loc[out["entrez"].duplicated(), "entrez"].iloc[0]
        raise DuplicateIdError(f"Entrez id {dup} appears twice", where=path, fix="keep one row per gene_id")
    return out


# --------------------------------------------------------------------------- DEG tables
DuplicateRule = Literal["min_pval", "error"]


def read_deg_table(
    path: str | os.PathLike,
    *,
    fill: float = 0.0,
    duplicates: DuplicateRule = "min_pval",
    genes: Iterable[str] | None = None,
    dtype: Any = "float32",
) -> ad.AnnData:
    """Read a long differential-expression table into an AnnData of signatures.

    Parameters
    ----------
    path
        TSV (optionally compressed) with the Open Targets columns ``efo.id, gene.symbol,
        comparison, lfc`` and optionally ``pval, efo.term, ensembl.id`` (without ``pval`` the
        p-value layer is all NaN and duplicates are merged by the larger absolute lfc).
    fill
        Value of genes a comparison does not list (default 0.0, "not differentially
        expressed"); ``float("nan")`` marks them unknown (their p-value is then NaN, else 1.0).
    duplicates
        ``"min_pval"`` keeps, per comparison and gene, the row with the smallest p-value (ties:
        larger absolute lfc, then the first row); ``"error"`` raises
        :class:`~exprlab.errors.DuplicateIdError`.
    genes
        Optional gene space (symbols; upper-cased) for ``var``; rows of other genes are dropped
        and counted. By default the sorted set of symbols in the table.
    dtype
        Float type of ``X`` and ``layers["pval"]`` (float32 halves memory; p-values below about
        1e-45 then become 0).

    Returns
    -------
    anndata.AnnData
        One obs per (disease, comparison) pair, in order of first appearance; obs_names
        ``"<efo id>|<comparison>"``; obs columns ``disease`` (EFO id), ``disease_name`` (first
        term of that id), ``comparison``, ``n_listed``. var_names upper-case symbols, var column
        ``ensembl`` (first Ensembl id seen for the symbol, ``""`` when none). X = log fold
        change, ``layers["pval"]``, ``layers["listed"]`` (bool). ``uns["deg_report"]``: counts
        of rows, duplicate rows dropped, rows outside ``genes``.
    """
    df = read_delimited(
        path, dtype={"efo.id": str, "comparison": str, "gene.symbol": str, "efo.term": str, "ensembl.id": str}
    )
    return deg_table_to_anndata(
        df, fill=fill, duplicates=duplicates, genes=genes, dtype=dtype, where=str(path)
    )


def deg_table_to_anndata(
    df: pd.DataFrame,
    *,
    fill: float = 0.0,
    duplicates: DuplicateRule = "min_pval",
    genes: Iterable[str] | None = None,
    dtype: Any = "float32",
    where: str = "DEG table",
) -> ad.AnnData:
    """Pivot a DEG table already in memory into signatures (the work behind :func:`read_deg_table`).

    Parameters
    ----------
    df
        The long table, with the columns :func:`read_deg_table` describes.
    fill, duplicates, genes, dtype
        As in :func:`read_deg_table`.
    where
        How to name the table in error messages (a file name, a source).

    Returns
    -------
    anndata.AnnData
        As :func:`read_deg_table` returns.
    """
    duplicates = check_choice(duplicates, "duplicates", ("min_pval", "error"))
    require_columns(df, _DEG_REQUIRED, where, "the DEG table")
    if df.empty:
        raise FormatError("the DEG table has no rows", where=where, fix="pass a non-empty table")
    long, has_p = _deg_long_table(df.reset_index(drop=True), where)
    n_rows = len(long)
    first_rows = long[["disease", "comparison"]].drop_duplicates()
    obs_uniques = list(zip(first_rows["disease"], first_rows["comparison"]))
    name_of = long.drop_duplicates("disease").set_index("disease")["disease_name"]
    long, n_dup_rows = _one_row_per_gene(long, duplicates, where)

    if genes is None:
        var_names = pd.Index(np.sort(long["symbol"].unique()))
    else:
        var_names = pd.Index(pd.Series(list(genes), dtype=object).astype(str).str.upper().unique())
    var_code = var_names.get_indexer(long["symbol"])
    inside = var_code >= 0
    n_outside = int((~inside).sum())
    long, var_code = long[inside], var_code[inside]

    n_obs, n_var = len(obs_uniques), len(var_names)
    nan_fill = fill is None or (isinstance(fill, float) and np.isnan(fill))
    X = np.full((n_obs, n_var), np.nan if nan_fill else fill, dtype=dtype)
    P = np.full((n_obs, n_var), np.nan if (nan_fill or not has_p) else 1.0, dtype=dtype)
    listed = np.zeros((n_obs, n_var), dtype=bool)
    oc = long["obs"].to_numpy()
    X[oc, var_code] = long["lfc"].to_numpy()
    P[oc, var_code] = long["pval"].to_numpy()
    listed[oc, var_code] = True

    obs_d = [d for d, _ in obs_uniques]
    obs = pd.DataFrame(
        {
            "disease": obs_d,
            "disease_name": name_of.reindex(obs_d).to_numpy(),
            "comparison": [c for _, c in obs_uniques],
            "n_listed": listed.sum(axis=1),
        },
        index=pd.Index([f"{d}|{c}" for d, c in obs_uniques], dtype=str),
    )
    ens = long[long["ensembl"] != ""].drop_duplicates("symbol").set_index("symbol")["ensembl"]
    var = pd.DataFrame(
        {"ensembl": ens.reindex(var_names).fillna("").to_numpy(dtype=object)}, index=var_names.astype(str)
    )
    report = {
        "n_rows": n_rows,
        "n_comparisons": n_obs,
        "n_diseases": int(obs["disease"].nunique()),
        "n_genes": n_var,
        "n_duplicate_rows_dropped": int(n_dup_rows),
        "n_rows_outside_genes": n_outside,
        "duplicates": duplicates,
        "fill": float("nan") if nan_fill else float(fill),
    }
    return ad.AnnData(X=X, obs=obs, var=var, layers={"pval": P, "listed": listed}, uns={"deg_report": report})


def _deg_long_table(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, bool]:
    """The checked DEG rows as one frame, with ``obs`` coding the (disease, comparison) pair.

    Also returns whether the table has p-values.
    """
    disease = _nonempty_text(df, "efo.id", where)
    comparison = _nonempty_text(df, "comparison", where)
    symbol = _nonempty_text(df, "gene.symbol", where).str.upper()
    lfc = _numeric_column(df, "lfc", where)
    has_p = "pval" in df.columns
    pval = _numeric_column(df, "pval", where) if has_p else np.full(len(df), np.nan)
    bad_p = (pval < 0) | (pval > 1)
    if bad_p.any():
        pos = int(np.flatnonzero(bad_p)[0])
        raise FormatError(
            f"pval {pval[pos]!r} is outside [0, 1]",
            where=f"{where}, line {pos + 2}",
            fix="give p-values between 0 and 1",
        )
    disease_name = (
        (df["efo.term"].astype(object) if "efo.term" in df.columns else disease).fillna("").astype(str)
    )
    ensembl = (
        df["ensembl.id"].astype(object).fillna("").astype(str)
        if "ensembl.id" in df.columns
        else pd.Series("", index=df.index)
    )
    long = pd.DataFrame(
        {
            "disease": disease.to_numpy(),
            "comparison": comparison.to_numpy(),
            "symbol": symbol.to_numpy(),
            "lfc": lfc,
            "pval": pval,
            "abs": -np.abs(lfc),
            "ensembl": ensembl.to_numpy(),
            "disease_name": disease_name.to_numpy(),
        }
    )
    long["obs"] = long.groupby(["disease", "comparison"], sort=False).ngroup().to_numpy()
    return long, has_p


def _one_row_per_gene(long: pd.DataFrame, duplicates: str, where: str) -> tuple[pd.DataFrame, int]:
    """Apply the ``duplicates`` rule to genes listed twice in a comparison; count rows dropped."""
    if not long.duplicated(["obs", "symbol"], keep=False).any():
        return long, 0
    if duplicates == "error":
        pos = int(np.flatnonzero(long.duplicated(["obs", "symbol"], keep="first").to_numpy())[0])
        raise DuplicateIdError(
            f"gene {long.at[pos, 'symbol']!r} is listed twice in comparison "
            f"{long.at[pos, 'comparison']!r} of {long.at[pos, 'disease']}",
            where=f"{where}, line {pos + 2}",
            fix="keep one row per gene and comparison, or use duplicates='min_pval'",
        )
    long = long.assign(row=np.arange(len(long)))
    long = long.sort_values(["obs", "symbol", "pval", "abs", "row"], kind="stable")
    before = len(long)
    long = long.drop_duplicates(["obs", "symbol"], keep="first").sort_values("row")
    return long, before - len(long)


# --------------------------------------------------------------------------- dgem contrasts
_DGEM_REQUIRED = ("GeneIndex", "Name", "Log2FoldChange", "AdjustedPValue")


def read_dgem_contrast(
    path: str | os.PathLike,
    *,
    padj_threshold: float | None = None,
    name: str | None = None,
    dtype: Any = "float32",
) -> ad.AnnData:
    """Read one disease contrast of the drug-matching paper's public code (``dgem/``).

    Parameters
    ----------
    path
        CSV with columns ``GeneIndex, Name, Log2FoldChange, AdjustedPValue`` (a leading unnamed
        index column is allowed).
    padj_threshold
        The paper's rule, as an option: set the fold change of genes whose adjusted p-value is
        ``>= padj_threshold`` to 0 (the paper uses 0.3). ``None`` keeps the file's values (the
        public files already have it applied).
    name
        obs name of the signature; default the file name without extensions.
    dtype
        Float type of ``X`` and ``layers["pval"]``.

    Returns
    -------
    anndata.AnnData
        1 x genes. var_names upper-case gene names; var column ``gene_index``; X = log2 fold
        change; ``layers["pval"]`` = the *adjusted* p-values. A name listed twice keeps its row
        with the smallest adjusted p-value (ties: larger absolute fold change, then first).
    """
    path = Path(path)
    df = read_delimited(path, sep=",", dtype={"Name": str})
    require_columns(df, _DGEM_REQUIRED, path, "the contrast table")
    if df.empty:
        raise FormatError("the contrast has no rows", where=path, fix="pass a non-empty table")
    genes = _nonempty_text(df, "Name", path).str.upper()
    lfc = _numeric_column(df, "Log2FoldChange", path)
    padj = _numeric_column(df, "AdjustedPValue", path)
    gidx = _numeric_column(df, "GeneIndex", path).astype(np.int64)
    tab = pd.DataFrame(
        {
            "gene": genes.to_numpy(),
            "lfc": lfc,
            "padj": padj,
            "abs": -np.abs(lfc),
            "gene_index": gidx,
            "row": np.arange(len(df)),
        }
    )
    tab = (
        tab.sort_values(["gene", "padj", "abs", "row"], kind="stable")
        .drop_duplicates("gene")
        .sort_values("row")
    )
    values = tab["lfc"].to_numpy()
    if padj_threshold is not None:
        values = np.where(tab["padj"].to_numpy() >= padj_threshold, 0.0, values)
    sig = name or path.name.split(".")[0]
    var = pd.DataFrame(
        {"gene_index": tab["gene_index"].to_numpy()}, index=pd.Index(tab["gene"].to_numpy(), dtype=str)
    )
    obs = pd.DataFrame({"comparison": [sig]}, index=pd.Index([sig], dtype=str))
    return ad.AnnData(
        X=values[None, :].astype(dtype),
        obs=obs,
        var=var,
        layers={"pval": tab["padj"].to_numpy()[None, :].astype(dtype)},
        uns={
            "n_duplicate_names_dropped": int(len(df) - len(tab)),
            "padj_threshold": padj_threshold if padj_threshold is not None else "none",
        },
    )


# --------------------------------------------------------------------------- indications
_SOURCES = {
    "opentargets": ("efo.id", "efo.term", "chembl.id", "chembl.name", "phase"),
    "repodb": ("drug_name", "drug_id", "ind_name", "ind_id", "status"),
    "pharmacotherapydb": ("doid_id", "drugbank_id", "disease", "drug", "category"),
    "drugcentral": ("doid_id", "drugbank_id", "disease", "drug", "category"),
    "user": ("drug", "disease"),
}
INDICATION_SOURCES = tuple(_SOURCES)


def _detect_indication_source(columns) -> str | None:
    cols = set(columns)
    if {"chembl.name", "efo.id"} <= cols:
        return "opentargets"
    if {"ind_id", "drug_name"} <= cols:
        return "repodb"
    if {"doid_id", "drugbank_id", "category"} <= cols:
        return "pharmacotherapydb" if "n_curators" in cols else "drugcentral"
    if {"drug", "disease"} <= cols:
        return "user"
    return None


def _phase_from_text(text: pd.Series) -> pd.Series:
    """'Phase 1/Phase 2' -> 2.0 (the highest phase named); empty -> NaN."""
    nums = text.astype("string").str.findall(r"\d+")
    return nums.map(lambda xs: float(max(map(int, xs))) if isinstance(xs, list) and xs else np.nan)


IndicationSource = Literal["opentargets", "repodb", "pharmacotherapydb", "drugcentral", "user"]


def read_indications(
    path: str | os.PathLike,
    source: IndicationSource | None = None,
    *,
    incomplete: Literal["error", "drop"] = "error",
) -> pd.DataFrame:
    """Read an indication catalogue into exprlab's tidy indication table.

    Parameters
    ----------
    path
        A TSV: Open Targets ``drug_disease_indications.tsv``, ``repodb.tsv``,
        ``pharmacotherapydb_indications.tsv``, ``drugcentral_indications.tsv``, or a user table
        with at least ``drug`` and ``disease`` columns (optional ``drug_id``, ``disease_id``,
        ``disease_name``, ``status``, ``phase``).
    source
        ``"opentargets"``, ``"repodb"``, ``"pharmacotherapydb"``, ``"drugcentral"``, ``"user"``;
        ``None`` detects it from the columns.
    incomplete
        What to do with rows whose drug name or disease id is empty: ``"error"`` raises
        :class:`~exprlab.errors.FormatError` naming the first such line; ``"drop"`` removes them
        and records how many in ``df.attrs["n_incomplete_rows_dropped"]`` (repoDB has 260 rows
        with a DrugBank id but no drug name; the ``repodb()`` loader drops them this way).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INDICATION_COLUMNS` (see the module docstring), one row per input row, in
        file order; ``phase`` float (NaN when the source has none).
    """
    path = Path(path)
    df = read_delimited(path, dtype=str, keep_default_na=False, na_values=[""])
    chosen = _detect_indication_source(df.columns) if source is None else source
    if chosen is None:
        raise FormatError(
            f"cannot tell which indication catalogue this is from its columns "
            f"({', '.join(map(str, df.columns[:10]))})",
            where=path,
            fix="pass source=... or give the table 'drug' and 'disease' columns",
        )
    chosen = check_choice(chosen, "source", INDICATION_SOURCES)
    require_columns(df, _SOURCES[chosen], path, f"the {chosen} indication table")
    if df.empty:
        raise FormatError("the indication table has no rows", where=path, fix="pass a non-empty table")
    where = str(path)
    incomplete = check_choice(incomplete, "incomplete", ("error", "drop"))
    n_dropped = 0
    if incomplete == "drop":
        df, n_dropped = _drop_incomplete(df, chosen, path)
    out = _indication_fields(df, chosen, where)
    table = pd.DataFrame({k: (v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in out.items()})
    table["drug"] = normalize_drug_name(table["drug_name"]).to_numpy()
    empty = table["drug"] == ""
    if empty.any():
        pos = int(np.flatnonzero(empty.to_numpy())[0])
        raise FormatError(
            f"drug name {table.at[pos, 'drug_name']!r} has no letter or digit",
            where=f"{where}, line {pos + 2}",
            fix="give a real drug name",
        )
    table["source"] = chosen
    table.attrs["n_incomplete_rows_dropped"] = n_dropped
    for col in ("drug_name", "disease", "disease_name", "drug_id", "disease_id", "status"):
        table[col] = table[col].astype(object)
    return table[INDICATION_COLUMNS]


def _drop_incomplete(df: pd.DataFrame, source: str, path: Path) -> tuple[pd.DataFrame, int]:
    """Remove the rows whose drug name or disease id is empty; count them."""
    key_cols = {
        "opentargets": ("chembl.name", "efo.id"),
        "repodb": ("drug_name", "ind_id"),
        "user": ("drug", "disease"),
    }.get(source, ("drug", "doid_id"))
    blank = np.zeros(len(df), dtype=bool)
    for col in key_cols:
        text = df[col].astype("string").str.strip()
        # a nullable comparison keeps <NA> where the value is missing: those rows are blank too
        blank |= (text.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
    df = df[~blank].reset_index(drop=True)
    if df.empty:
        raise FormatError(
            "the indication table has no complete row",
            where=path,
            fix="fill in drug names and disease ids",
        )
    return df, int(blank.sum())


def _indication_fields(df: pd.DataFrame, source: str, where: str) -> dict[str, Any]:
    """The columns of the tidy table but ``drug`` and ``source``, from one catalogue's columns."""
    nan = pd.Series(np.nan, index=df.index, dtype=object)
    if source == "opentargets":
        drug_name = _nonempty_text(df, "chembl.name", where)
        disease_id = _nonempty_text(df, "efo.id", where)
        return dict(
            drug_name=drug_name,
            disease=disease_id,
            disease_name=df["efo.term"],
            drug_id=df["chembl.id"],
            disease_id=disease_id,
            status=nan,
            phase=_numeric_column(df, "phase", where, allow_missing=True),
        )
    if source == "repodb":
        drug_name = _nonempty_text(df, "drug_name", where)
        disease_id = "UMLS:" + _nonempty_text(df, "ind_id", where)
        phase = _phase_from_text(df["phase"]) if "phase" in df.columns else nan.astype(float)
        phase = phase.where(df["status"].str.lower() != "approved", 4.0)
        return dict(
            drug_name=drug_name,
            disease=disease_id,
            disease_name=df["ind_name"],
            drug_id=df["drug_id"],
            disease_id=disease_id,
            status=df["status"],
            phase=phase.to_numpy(dtype=float),
        )
    if source in ("pharmacotherapydb", "drugcentral"):
        drug_name = _nonempty_text(df, "drug", where)
        disease_id = _nonempty_text(df, "doid_id", where)
        return dict(
            drug_name=drug_name,
            disease=disease_id,
            disease_name=df["disease"],
            drug_id=df["drugbank_id"],
            disease_id=disease_id,
            status=df["category"],
            phase=np.full(len(df), np.nan),
        )
    drug_name = _nonempty_text(df, "drug", where)
    disease = _nonempty_text(df, "disease", where)
    return dict(
        drug_name=drug_name,
        disease=disease,
        disease_name=df["disease_name"] if "disease_name" in df.columns else disease,
        drug_id=df["drug_id"] if "drug_id" in df.columns else nan,
        disease_id=df["disease_id"] if "disease_id" in df.columns else disease,
        status=df["status"] if "status" in df.columns else nan,
        phase=(
            _numeric_column(df, "phase", where, allow_missing=True)
            if "phase" in df.columns
            else np.full(len(df), np.nan)
        ),
    )


# --------------------------------------------------------------------------- CSV matrices
def read_expression_csv(
    path: str | os.PathLike, *, genes_as: Literal["rows", "columns"] = "rows", sep: str = ","
) -> ad.AnnData:
    """Read a plain expression matrix (CSV with a header row and an id column) into AnnData.

    Parameters
    ----------
    path
        CSV (optionally compressed); the first column holds row ids.
    genes_as
        ``"rows"`` when genes are rows and samples columns (transposed on reading), ``"columns"``
        when samples are rows.
    sep
        Field separator.

    Returns
    -------
    anndata.AnnData
        samples x genes, float32; obs_names and var_names as in the file. Non-numeric cells
        raise :class:`~exprlab.errors.FormatError`, repeated ids
        :class:`~exprlab.errors.DuplicateIdError`.
    """
    genes_as = check_choice(genes_as, "genes_as", ("rows", "columns"))
    df = read_delimited(path, sep=sep, index_col=0)
    df.index = df.index.astype(str)
    df.columns = df.columns.astype(str)
    for axis, ids in (("row", df.index), ("column", df.columns)):
        if ids.duplicated().any():
            raise DuplicateIdError(
                f"{axis} id {ids[ids.duplicated()][0]!r} appears twice", where=path, fix="make the ids unique"
            )
    bad_cols = [c for c, t in df.dtypes.items() if not np.issubdtype(t, np.number)]
    if bad_cols:
        col = bad_cols[0]
        conv = pd.to_numeric(df[col], errors="coerce")
        pos = (
            int(np.flatnonzero(conv.isna() & df[col].notna())[0])
            if (conv.isna() & df[col].notna()).any()
            else 0
        )
        raise FormatError(
            f"column {col!r} holds a non-numeric value {df[col].iloc[pos]!r}",
            where=f"{path}, line {pos + 2}",
            fix="make every cell a number",
        )
    X = df.to_numpy(dtype=np.float32)
    if genes_as == "rows":
        return ad.AnnData(X=X.T.copy(), obs=pd.DataFrame(index=df.columns), var=pd.DataFrame(index=df.index))
    return ad.AnnData(X=X, obs=pd.DataFrame(index=df.index), var=pd.DataFrame(index=df.columns))


def read_label_csv(path: str | os.PathLike, *, id_column: int | str = 0, label: int | str = 1) -> pd.Series:
    """Read a (sample id, label) CSV into a Series of labels indexed by sample id.

    Parameters
    ----------
    path
        Comma-separated table with a header row.
    id_column
        The column of sample ids: its position or its name.
    label
        The column of labels: its position or its name.

    Returns
    -------
    pandas.Series
        Labels as strings, indexed by sample id (unique, non-empty), named after the label
        column.
    """
    df = read_delimited(path, sep=",", dtype=str)
    cols = list(df.columns)
    idc = cols[id_column] if isinstance(id_column, int) else id_column
    lab = cols[label] if isinstance(label, int) else label
    require_columns(df, [idc, lab], path, "the label table")
    ids = _nonempty_text(df, idc, path)
    if ids.duplicated().any():
        raise DuplicateIdError(
            f"sample id {ids[ids.duplicated()].iloc[0]!r} appears twice",
            where=path,
            fix="give each sample one label",
        )
    return pd.Series(df[lab].to_numpy(), index=pd.Index(ids.to_numpy(), dtype=str), name=lab)


def read_gene_values(
    path: str | os.PathLike,
    *,
    gene_column: Any,
    value_column: Any,
    sep: str = "\t",
    name: str = "signature",
    header: Any = "infer",
) -> ad.AnnData:
    """Read a (gene, value) table into a 1 x genes AnnData signature.

    Parameters
    ----------
    path
        The table (optionally compressed).
    gene_column, value_column
        The columns of gene names and of values, as pandas names them (a header name, or a
        position with ``header=None``).
    sep
        Field separator.
    name
        obs name of the signature.
    header
        As in :func:`pandas.read_csv`: ``"infer"`` for a header row, ``None`` for none.

    Returns
    -------
    anndata.AnnData
        1 x genes, float32; var_names the upper-cased gene names; a gene listed twice keeps its
        largest absolute value (``uns["n_duplicate_genes_dropped"]`` counts the rows dropped).
    """
    df = read_delimited(path, sep=sep, header=header)
    require_columns(df, [gene_column, value_column], path, "the signature table")
    genes = _nonempty_text(df, gene_column, path).str.upper()
    values = _numeric_column(df, value_column, path)
    tab = pd.DataFrame(
        {"gene": genes.to_numpy(), "v": values, "a": -np.abs(values), "row": np.arange(len(df))}
    )
    tab = tab.sort_values(["gene", "a", "row"], kind="stable").drop_duplicates("gene").sort_values("row")
    return ad.AnnData(
        X=tab["v"].to_numpy(dtype=np.float32)[None, :],
        obs=pd.DataFrame(index=pd.Index([name], dtype=str)),
        var=pd.DataFrame(index=pd.Index(tab["gene"].to_numpy(), dtype=str)),
        uns={"n_duplicate_genes_dropped": int(len(df) - len(tab))},
    )
