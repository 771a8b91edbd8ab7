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
from exprlab.report._html import HtmlReport
from exprlab.report._registry import register_renderer

FDR_LEVEL = 0.05
_SHOWN_QUERIES = 6


def _significance(report: HtmlReport, hits: pd.DataFrame, parameters: dict) -> None:
    sec = report.section("Significance")
    n_perm = parameters.get("n_permutations", "?")
    sec.paragraph(
        f"{hits['query'].nunique()} queries x {hits['signature'].nunique()} signatures; p-values from "
        f"{n_perm} random gene-set queries of each query's sizes ({parameters.get('null', '?')} null, "
        f"seed {parameters.get('seed', '?')}), FDR by Benjamini-Hochberg over each query's signatures."
    )
    per_query = hits.groupby("query", sort=False).agg(
        signatures=("signature", "size"),
        fdr_le_005=("fdr", lambda f: int((f <= FDR_LEVEL).sum())),
        min_pvalue=("pvalue", "min"),
        max_score=("score", "max"),
        min_score=("score", "min"),
    )
    sec.table(per_query, caption=f"Connections with FDR <= {FDR_LEVEL} per query", index=True)
    shown = list(per_query.index[:_SHOWN_QUERIES])
    groups = {q: hits.loc[hits["query"] == q, "pvalue"].to_numpy() for q in shown}
    sec.image(
        plots.distributions(groups, title="p-values per query", xlabel="p-value", bins=20),
        "Distribution of p-values per query (flat when the query connects to nothing).",
    )
    for q in shown:
        part = hits[hits["query"] == q].assign(_abs=lambda d: d["score"].abs())
        part = part.sort_values("_abs", ascending=False).head(10)
        cols = [c for c in ("signature", "score", "pvalue", "fdr", "drug", "cell_line") if c in part]
        sec.table(part[cols], caption=f"{q}: the 10 strongest connections")


def _perturbagens(report: HtmlReport, perts: pd.DataFrame, parameters: dict) -> None:
    sec = report.section("Perturbagens")
    by = parameters.get("by", "drug")
    sec.paragraph(
        f"Signatures summarised per {by}: the 33rd or 67th percentile of their scores, whichever "
        "is larger in absolute value (clue.io's summary across cell lines)."
    )
    negative = parameters.get("direction", "negative") == "negative"
    for q, part in list(perts.groupby("query", sort=False))[:_SHOWN_QUERIES]:
        top = part.sort_values("summary", ascending=negative).head(10)
        sec.table(top, caption=f"{q}: top 10 perturbagens ({'reversing' if negative else 'similar'})")


def _enrichment(report: HtmlReport, enrichment: pd.DataFrame, parameters: dict) -> None:
    sec = report.section("What the top hits share")
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
    for q, part in list(enrichment.groupby("query", sort=False))[:_SHOWN_QUERIES]:
        sec.table(part.sort_values("pvalue").head(10)[cols], caption=f"{q}: the 10 most enriched drug sets")


def render_search(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """Add the sections of a signature-search run folder to ``report``.

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
    hits = pd.read_csv(run_dir / SIGNATURE_SEARCH.hits, sep="\t")
    _significance(report, hits, parameters)
    if (run_dir / SIGNATURE_SEARCH.perturbagens).is_file():
        _perturbagens(report, pd.read_csv(run_dir / SIGNATURE_SEARCH.perturbagens, sep="\t"), parameters)
    if (run_dir / SIGNATURE_SEARCH.enrichment).is_file():
        _enrichment(report, pd.read_csv(run_dir / SIGNATURE_SEARCH.enrichment, sep="\t"), parameters)


register_renderer(SIGNATURE_SEARCH.kind, render_search, title="exprlab signature search")
