"""Report section of a signature search (``exprlab search``): significance and hit enrichment.

Shows, per query, how many connections pass an FDR of 0.05, the p-value distribution (uniform
when nothing connects; a peak near 0 when the query finds real connections), the strongest
connections with their p-values, the perturbagen summaries, and the drug sets enriched among
the top hits (docs/methods.md §1.10-§1.13).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exprlab._runs import SIGNATURE_SEARCH
from exprlab.report import _plots as plots
from exprlab.report._html import HtmlReport, Section
from exprlab.report._registry import guarded, register_renderer, try_read

FDR_LEVEL = 0.05
_SHOWN_QUERIES = 6
#: columns of the search tables as a reader names them (the files keep their own names)
SEARCH_LABELS = {
    "signatures": "signatures",
    "significant": f"FDR ≤ {FDR_LEVEL}",
    "min_pvalue": "smallest p-value",
    "min_fdr": "smallest FDR",
    "max_score": "highest score",
    "min_score": "lowest score",
    "drug_name": "drug",
    "cell_line": "cell line",
    "n_signatures": "signatures",
    "n_cells": "cell lines",
    "summary": "summary score",
    "best": "strongest score",
    "best_signature": "strongest signature",
    "set_size": "drugs in set",
    "overlap": "top hits in set",
    "expected": "expected by chance",
    "fold_enrichment": "fold enrichment",
    "pvalue": "p-value (permutation)",
    "fdr": "FDR (BH)",
}
#: the enrichment table's own columns (its p-values come from a hypergeometric test)
ENRICHMENT_LABELS = {
    **SEARCH_LABELS,
    "pvalue": "p (hypergeometric)",
    "qvalue": "q (BH)",
    "drugs": "top hits in set (names)",
}


def _queries(hits: pd.DataFrame) -> list[str]:
    """The queries in the order of the hits table (the order every section uses)."""
    return [str(q) for q in pd.unique(hits["query"].astype(str))]


def _significance(sec: Section, hits: pd.DataFrame, parameters: dict) -> None:
    n_perm = parameters.get("n_permutations", "?")
    sec.paragraph(
        f"{hits['query'].nunique()} queries × {hits['signature'].nunique()} signatures; p-values from "
        f"{n_perm} random gene-set queries of each query's sizes ({parameters.get('null', '?')} null, "
        f"seed {parameters.get('seed', '?')}), FDR by Benjamini-Hochberg over each query's signatures."
    )
    queries = _queries(hits)
    per_query = (
        hits.assign(query=hits["query"].astype(str))
        .groupby("query", sort=False)
        .agg(
            signatures=("signature", "size"),
            significant=("fdr", lambda f: int((f <= FDR_LEVEL).sum())),
            min_pvalue=("pvalue", "min"),
            max_score=("score", "max"),
            min_score=("score", "min"),
        )
        .reindex(queries)
    )
    sec.table(
        per_query.rename(columns=SEARCH_LABELS),
        caption=f"Connections with FDR ≤ {FDR_LEVEL} per query",
        index=True,
    )  # a cut one links a copy of this summary, not hits.tsv
    shown = queries[:_SHOWN_QUERIES]
    groups = {q: hits.loc[hits["query"].astype(str) == q, "pvalue"].to_numpy() for q in shown}
    more = f"; the first {len(shown)} of {len(queries)} queries" if len(queries) > len(shown) else ""
    sec.image(
        plots.histogram_panels(groups, xlabel="p-value", ylabel="signatures", bins=20, xlim=(0.0, 1.0)),
        f"p-values of each query's signatures (flat when the query connects to nothing, a peak "
        f"at 0 when it finds real connections){more}.",
    )
    for q in shown:
        part = hits[hits["query"].astype(str) == q].assign(_abs=lambda d: d["score"].abs())
        part = part.sort_values("_abs", ascending=False).head(10)
        drug = "drug_name" if "drug_name" in part else "drug"
        cols = [c for c in ("signature", "score", "pvalue", "fdr", drug, "cell_line") if c in part]
        sec.table(part[cols].rename(columns=SEARCH_LABELS), caption=f"{q}: the 10 strongest connections")


def _drug_names(hits: pd.DataFrame) -> dict[str, str]:
    """Normalised drug key → the name the library gives it (``drug_name``), when recorded."""
    if not {"drug", "drug_name"} <= set(hits.columns):
        return {}
    pairs = hits[["drug", "drug_name"]].dropna().drop_duplicates("drug")
    return dict(zip(pairs["drug"].astype(str), pairs["drug_name"].astype(str), strict=True))


def _in_order(table: pd.DataFrame, queries: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """The table's rows per query, queries in ``queries`` order (then any others), at most six."""
    groups = dict(list(table.groupby(table["query"].astype(str), sort=False)))
    order = [q for q in queries if q in groups] + [q for q in groups if q not in queries]
    return [(q, groups[q]) for q in order[:_SHOWN_QUERIES]]


def _perturbagens(
    sec: Section, perts: pd.DataFrame, names: dict, parameters: dict, queries: list[str]
) -> None:
    by = parameters.get("by", "drug")
    sec.paragraph(
        f"Signatures summarised per {by}: the 33rd or 67th percentile of their scores, whichever "
        "is larger in absolute value (clue.io's summary across cell lines)."
    )
    negative = parameters.get("direction", "negative") == "negative"
    for q, part in _in_order(perts, queries):
        top = part.sort_values("summary", ascending=negative).head(10).drop(columns="query")
        if by in top and names:
            top[by] = [names.get(str(d), str(d)) for d in top[by]]
        sec.table(
            top.rename(columns=SEARCH_LABELS),
            caption=f"{q}: top 10 perturbagens ({'reversing' if negative else 'similar'})",
        )


def _enrichment(sec: Section, enrichment: pd.DataFrame, parameters: dict, queries: list[str]) -> None:
    sec.paragraph(
        f"Drug sets over-represented among the top {parameters.get('top', '?')} perturbagens of each "
        "query: one-sided hypergeometric test within the library's perturbagens, "
        "Benjamini-Hochberg q-values over the sets of each source."
    )
    if enrichment.empty:
        sec.note("No drug set was tested (no --targets or --drug-sets, or no perturbagen column).")
        return
    cols = [
        c
        for c in ("source", "set", "set_size", "overlap", "expected", "pvalue", "qvalue", "drugs")
        if c in enrichment
    ]
    for q, part in _in_order(enrichment, queries):
        top = part.sort_values("pvalue").head(10)[cols]
        sec.table(top.rename(columns=ENRICHMENT_LABELS), caption=f"{q}: the 10 most enriched drug sets")


def render_search(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """Add the sections of a signature-search run folder to ``report``.

    Each table is read on its own: a missing or damaged one becomes a note in its section.

    Parameters
    ----------
    report
        The report being built.
    run_dir
        A folder written by ``exprlab search``.
    manifest
        Its ``run.json`` (parameters), or None.

    Returns
    -------
    None
        The sections are added to ``report``.
    """
    parameters = (manifest or {}).get("parameters") or {}
    sec = report.section("Significance")
    hits_path = run_dir / SIGNATURE_SEARCH.hits
    hits = try_read(
        sec,
        hits_path,
        "the significance tables and plot",
        required=("query", "signature", "score", "pvalue", "fdr"),
    )
    if hits is not None:
        guarded(sec, SIGNATURE_SEARCH.hits, lambda: _significance(sec, hits, parameters))
    names = _drug_names(hits) if hits is not None else {}
    queries = _queries(hits) if hits is not None else []
    perts_sec = report.section("Perturbagens")
    perts = try_read(
        perts_sec,
        run_dir / SIGNATURE_SEARCH.perturbagens,
        "the perturbagen summaries",
        required=("query", "summary"),
    )
    if perts is not None:
        guarded(
            perts_sec,
            SIGNATURE_SEARCH.perturbagens,
            lambda: _perturbagens(perts_sec, perts, names, parameters, queries),
        )
    enrich_sec = report.section("What the top hits share")
    enrichment = try_read(
        enrich_sec, run_dir / SIGNATURE_SEARCH.enrichment, "the drug-set enrichment", literal_text=True
    )
    if enrichment is not None:
        guarded(
            enrich_sec,
            SIGNATURE_SEARCH.enrichment,
            lambda: _enrichment(enrich_sec, enrichment, parameters, queries),
        )


register_renderer(SIGNATURE_SEARCH.kind, render_search, title="exprlab signature search")
