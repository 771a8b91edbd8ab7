"""Reports of connectivity scoring: score tables (``exprlab score``) and libraries (``library build``).

A score run is one table file (tidy ``query``/``score`` rows or a queries × signatures matrix)
or one GCTX score matrix (``exprlab score --out FILE.gctx``: rows = signatures, columns =
queries, read a few queries at a time) with its manifest beside it (``<table>.run.json``), or a
folder of such tables; a library run is one HDF5 library file with its manifest beside it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._runs import LIBRARY, SCORE
from exprlab.errors import FormatError
from exprlab.io import gctx_ids, read_gctx
from exprlab.report import _plots as plots
from exprlab.report._format import fmt
from exprlab.report._html import HtmlReport, Section
from exprlab.report._registry import RENDER_ERRORS, guarded, read_table, register_renderer

__all__ = ["score_tables", "render_score", "render_library"]

_TABLE_SUFFIXES = SCORE.suffixes
#: scores read at a time from a GCTX score matrix (a few queries, all their signatures): 256 MB
_GCTX_VALUES = 1 << 26
#: queries whose score distributions are drawn
_BOXES = 40


def score_tables(p: Path) -> list[Path]:
    """The tidy score tables (``query`` and ``score`` columns) directly inside folder ``p``.

    Parameters
    ----------
    p
        A folder.

    Returns
    -------
    list of Path
        The tables, sorted by name.
    """
    out = []
    for f in sorted(p.iterdir()):
        if f.is_file() and f.name.lower().endswith(_TABLE_SUFFIXES) and not f.name.startswith("."):
            try:
                cols = read_table(f, nrows=5).columns
            except RENDER_ERRORS:
                continue
            if "score" in cols and "query" in cols:
                out.append(f)
    return out


def _long_scores(df: pd.DataFrame, where: Path) -> pd.DataFrame:
    if {"query", "score"} <= set(df.columns):
        return df
    first = df.columns[0]
    numeric = [c for c in df.columns[1:] if pd.api.types.is_numeric_dtype(df[c])]
    if not numeric:
        raise FormatError(
            "the table has neither query/score columns nor numeric score columns",
            where=where,
            fix="pass a table written by `exprlab score`",
        )
    return df.melt(id_vars=[first], value_vars=numeric, var_name="signature", value_name="score").rename(
        columns={first: "query"}
    )


#: the FDR level whose passing connections the summary counts
FDR_LEVEL = 0.05


def _per_query(df: pd.DataFrame) -> pd.DataFrame:
    """Per query (in the table's order): count, mean, sd and range of its scores.

    A table with permutation p-values (``pvalue``, ``fdr``: ``exprlab score --n-permutations``)
    also gets the smallest p-value and the number of entries with FDR <= 0.05.
    """
    groups = df.groupby(df["query"].astype(str), sort=False)
    out = groups["score"].describe()[["count", "mean", "std", "min", "max"]]
    if {"pvalue", "fdr"} <= set(df.columns):
        out["smallest p-value"] = groups["pvalue"].min()
        out[f"FDR ≤ {FDR_LEVEL}"] = groups["fdr"].apply(lambda f: int((f <= FDR_LEVEL).sum()))
    out.index.name = "query"
    return out


def _score_section(sec: Section, table_path: Path, method: str, parameters: dict | None = None) -> None:
    """Summary, distribution plot and extremes of one score table."""
    try:
        df = _long_scores(read_table(table_path), table_path)
    except FormatError as err:
        raise FormatError(
            f"not a readable score table ({err.args[0] if err.args else err})",
            where=table_path.name,
            fix="pass a .parquet or .tsv table written by `exprlab score`",
        ) from None
    target = "signature" if "signature" in df else df.columns[1]
    queries = pd.unique(df["query"].astype(str))
    sec.paragraph(
        f"{len(queries)} queries × {df[target].nunique()} library entries; {len(df)} scores"
        + (f" ({method})." if method else ".")
    )
    per_query = _per_query(df)
    if {"pvalue", "fdr"} <= set(df.columns):
        n_perm = (parameters or {}).get("n_permutations")
        sec.paragraph(
            f"p-values from {fmt(n_perm) if n_perm else 'random'} random queries of each query's sizes "
            f"(permutation null), FDR by Benjamini-Hochberg over each query's library entries."
        )
    # derived tables: a cut one links a copy of itself, not the score table it summarises
    sec.table(per_query, caption="Score summary per query", index=True)
    shown = queries[:40]
    groups = {q: df.loc[df["query"].astype(str) == q, "score"].to_numpy() for q in shown}
    _score_boxes(sec, groups, len(queries), method)
    sec.table(_extremes(df, target), caption="Best and worst library entries per query (score)")


def _score_boxes(sec: Section, groups: dict[str, np.ndarray], n_queries: int, method: str) -> None:
    """One box per query of ``groups`` (the first of ``n_queries``): its scores over the library."""
    sec.image(
        plots.boxes(
            groups,
            title="Scores of each query",
            xlabel=f"connectivity score{f' ({method})' if method else ''}",
        ),
        "Distribution of each query's scores over the library (box: quartiles, line: median)"
        + (f"; first {len(groups)} of {n_queries} queries." if n_queries > len(groups) else "."),
    )


def _best_worst(query: str, names: np.ndarray, values: np.ndarray, n: int) -> dict[str, str]:
    """A query's ``n`` best and ``n`` worst entries with their scores (``values`` in decreasing order)."""

    def entries(picked: slice) -> str:
        return ", ".join(f"{t} ({fmt(v)})" for t, v in zip(names[picked], values[picked], strict=True))

    return {
        "query": query,
        f"best {n}": entries(slice(None, n)),
        f"worst {n}": entries(slice(None, -n - 1, -1)),
    }


def _gctx_section(sec: Section, path: Path, method: str, n: int = 3) -> None:
    """Summary, distribution plot and extremes of a GCTX score matrix, a few queries at a time.

    The file may hold more scores than memory (1,000 queries x 1,000,000 signatures): the
    queries are read in blocks of about ``_GCTX_VALUES`` scores.
    """
    signatures, queries = gctx_ids(path)
    ids = np.asarray(signatures, dtype=object)
    step = max(1, _GCTX_VALUES // max(1, len(signatures)))
    stats: list[dict] = []
    extremes: list[dict] = []
    shown: dict[str, np.ndarray] = {}
    for lo in range(0, len(queries), step):
        block = read_gctx(path, cidx=range(lo, min(len(queries), lo + step)), meta=False)
        for name, row in zip(block.obs_names, np.asarray(block.X, dtype=np.float64), strict=True):
            kept = ~np.isnan(row)
            v, names = row[kept], ids[kept]
            order = np.argsort(-v, kind="stable")
            stats.append(
                {
                    "query": name,
                    "count": float(v.size),
                    "mean": v.mean() if v.size else np.nan,
                    "std": v.std(ddof=1) if v.size > 1 else np.nan,
                    "min": v.min() if v.size else np.nan,
                    "max": v.max() if v.size else np.nan,
                }
            )
            extremes.append(_best_worst(name, names[order], v[order], n))
            if len(shown) < _BOXES:
                shown[str(name)] = v
    sec.paragraph(
        f"{len(queries)} queries × {len(signatures)} library entries; {len(queries) * len(signatures)} "
        f"scores (GCTX matrix)" + (f" ({method})." if method else ".")
    )
    sec.table(pd.DataFrame(stats).set_index("query"), caption="Score summary per query", index=True)
    _score_boxes(sec, shown, len(queries), method)
    sec.table(pd.DataFrame(extremes), caption="Best and worst library entries per query (score)")


def _extremes(df: pd.DataFrame, target: str, n: int = 3) -> pd.DataFrame:
    """One row per query: its ``n`` best and ``n`` worst library entries with their scores."""
    rows = []
    for q, part in df.groupby(df["query"].astype(str), sort=False):
        ordered = part.sort_values("score", ascending=False)
        rows.append(_best_worst(q, ordered[target].to_numpy(), ordered["score"].to_numpy(), n))
    return pd.DataFrame(rows)


def render_score(
    report: HtmlReport, path: Path, title: str = "Connectivity scores", manifest: dict | None = None
) -> None:
    """The sections of a score run: one table, or every score table of a folder.

    Parameters
    ----------
    report
        The report being built.
    path
        A score table or a folder of them.
    title
        Title of the section.
    manifest
        The run's manifest (its method is named in the text).

    Returns
    -------
    None
    """
    tables = [path] if path.is_file() else score_tables(path)
    if not tables and path.is_dir():
        tables = [f for f in sorted(path.iterdir()) if f.name.lower().endswith(_TABLE_SUFFIXES)]
    sec = report.section(title)
    if not tables:
        sec.note("No score table (.parquet or .tsv) was found.")
        return
    parameters = (manifest or {}).get("parameters") or {}
    method = str(parameters.get("method", ""))
    for table_path in tables:
        sec.heading(table_path.name)
        if path.is_file() and path.name.lower().endswith(".gctx"):  # exprlab score --out FILE.gctx
            _gctx_section(sec, table_path, method)
        elif path.is_file():  # the table the user named: an unreadable one is an error, not a note
            _score_section(sec, table_path, method, parameters)
        else:
            guarded(sec, table_path.name, partial(_score_section, sec, table_path, method, parameters))


def render_library(report: HtmlReport, path: Path, manifest: dict | None) -> None:
    """An on-disk signature library (``exprlab library build``): its size, layout and entries.

    Parameters
    ----------
    report
        The report being built.
    path
        The library file.
    manifest
        Its manifest (``<library>.run.json``).

    Returns
    -------
    None
    """
    sec = report.section("Signature library")
    params = (manifest or {}).get("parameters") or {}
    summary = (manifest or {}).get("summary") or {}
    if not path.is_file():
        sec.note(f"The library file {path.name} is missing: rebuild it with `exprlab library build`.")
    else:
        sec.finding(
            f"{fmt(summary.get('n_signatures'))} signatures × {fmt(summary.get('n_genes'))} genes "
            f"({summary.get('kind', '?')}, {params.get('layout', '?')} layout, ties {params.get('ties', '?')})."
        )
    fields = summary.get("obs_fields")
    if fields:
        sec.paragraph(f"Metadata columns: {', '.join(map(str, fields))}.")
    first = summary.get("first_signatures")
    if first:
        sec.table(pd.DataFrame({"signature": first}), caption="First signatures")


register_renderer(
    SCORE.kind,
    lambda report, path, manifest: render_score(report, path, manifest=manifest),
    title="exprlab connectivity scores",
)
register_renderer(LIBRARY.kind, render_library, title="exprlab signature library")
