"""Signature search with significance, per-perturbagen summaries and enrichment of the top hits.

The answer clue.io and signatureSearch users expect from one query: every library signature
with its score, permutation p-value and FDR; the perturbagens ranked by their summary across
cell lines; and what the top perturbagens share (drug targets, drug classes). Definitions:
docs/methods.md §1.10-§1.13.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from anndata import AnnData

from exprlab._atomic import atomic_dir
from exprlab._runs import SIGNATURE_SEARCH
from exprlab._validation import check_choice, check_count
from exprlab.datasets import drugcentral_targets
from exprlab.explain import drug_sets_from_table, hit_enrichment
from exprlab.match import (
    DiskLibrary,
    MemoryLibrary,
    parse_signature_ids,
    significance,
    summarise_perturbagens,
)
from exprlab.report import file_provenance, write_run_manifest

Direction = Literal["negative", "positive"]
DIRECTIONS: tuple[Direction, ...] = ("negative", "positive")


@dataclass
class SearchResult:
    """What :func:`search_signatures` returns.

    Parameters
    ----------
    hits
        One row per (query, signature): ``score``, ``pvalue``, ``fdr``, ``rank`` and the
        signature's metadata.
    perturbagens
        One row per (query, perturbagen) (:func:`exprlab.match.summarise_perturbagens`), or
        None without a perturbagen column.
    enrichment
        One row per (query, drug-set source, set): hypergeometric enrichment of the top hits.
    info
        Parameters and counts of the search.
    """

    hits: pd.DataFrame
    perturbagens: pd.DataFrame | None
    enrichment: pd.DataFrame
    info: dict = field(default_factory=dict)


def library_metadata(library, pattern: str | None = None) -> pd.DataFrame:
    """Signature metadata of a library, with the columns parsed from its ids when ``pattern``.

    Parameters
    ----------
    library
        AnnData, prepared library or on-disk library path.
    pattern
        ``"drug__cell__type"`` or a regular expression with named groups
        (:func:`exprlab.match.parse_signature_ids`); parsed columns replace obs columns of the
        same name.

    Returns
    -------
    pandas.DataFrame
        One row per signature, indexed by signature id.
    """
    if isinstance(library, AnnData):
        obs = library.obs.copy()
    elif isinstance(library, MemoryLibrary):
        obs = library.obs.copy()
    else:
        obs = DiskLibrary(library).obs.copy()
    obs.index = obs.index.astype(str)
    if pattern is None:
        return obs
    parsed = parse_signature_ids(obs.index, pattern)
    return pd.concat([obs.drop(columns=[c for c in parsed.columns if c in obs.columns]), parsed], axis=1)


def _drug_set_sources(targets, drug_sets) -> dict[str, dict[str, list[str]]]:
    sources: dict[str, dict[str, list[str]]] = {}
    if isinstance(targets, str) and targets == "drugcentral":
        sources["drugcentral_targets"] = drug_sets_from_table(
            drugcentral_targets(), drug="drug", group="symbol"
        )
    elif isinstance(targets, pd.DataFrame):
        sources["targets"] = drug_sets_from_table(targets, drug="drug", group="symbol")
    elif targets is not None:
        check_choice(targets, "targets", ("drugcentral",))
    if drug_sets is not None:
        sources["drug_sets"] = {str(k): [str(d) for d in v] for k, v in dict(drug_sets).items()}
    return sources


def _enrichment(
    perts: pd.DataFrame, by: str, universe, sources, top: int, direction: str, min_size: int = 2
) -> pd.DataFrame:
    """Enrichment of each query's top perturbagens (by summary) for every drug-set source."""
    tables = []
    for query, rows in perts.groupby("query", sort=False):
        ordered = rows.sort_values("summary", ascending=direction == "negative", kind="stable")
        hits = ordered[by].head(top).tolist()
        for name, sets in sources.items():
            table = hit_enrichment(hits, sets, universe, min_size=min_size)
            tables.append(table.assign(query=query, source=name, n_hits=len(hits)))
    if not tables:
        return pd.DataFrame(columns=["query", "source", "set", "pvalue", "qvalue"])
    out = pd.concat(tables, ignore_index=True)
    first = ["query", "source", "set"]
    return out[first + [c for c in out.columns if c not in first]]


def search_signatures(
    query,
    library,
    *,
    method: Literal["ks", "ks_raw", "wtcs", "xsum"] = "wtcs",
    n_permutations: int = 1000,
    seed=0,
    null: Literal["signature", "pooled"] = "signature",
    up: int = 150,
    down: int = 150,
    pattern: str | None = None,
    by: str = "drug",
    top: int = 20,
    direction: Direction = "negative",
    targets: str | pd.DataFrame | None = None,
    drug_sets: Mapping | None = None,
    min_size: int = 2,
) -> SearchResult:
    """Search a library with p-values and FDR, summarise perturbagens, annotate the top hits.

    Parameters
    ----------
    query, library
        As in :func:`exprlab.match.score`.
    method, n_permutations, seed, null
        As in :func:`exprlab.match.significance`.
    up, down
        Set sizes taken from full-signature queries.
    pattern
        Parse signature ids into metadata (``"drug__cell__type"`` or a regular expression with
        named groups); None uses the library's obs as they are.
    by
        Metadata column naming the perturbagen (summaries and enrichment need it).
    top
        Number of top perturbagens whose drug sets are tested.
    direction
        ``"negative"``: the hits are the most reversing perturbagens (lowest summary, as for a
        disease signature); ``"positive"``: the most similar.
    targets
        ``"drugcentral"`` (DrugCentral drug targets from the data directory), a table with
        ``drug`` and ``symbol`` columns, or None.
    drug_sets
        Set name -> drugs (a user's drug classes, e.g. read from a GMT), or None.
    min_size
        Drug sets with fewer drugs in the library are not tested.

    Returns
    -------
    SearchResult
        Hits, perturbagen summaries and enrichment tables.
    """
    check_choice(direction, "direction", DIRECTIONS)
    check_count(top, "top", minimum=1)
    check_count(min_size, "min_size", minimum=1)
    meta = library_metadata(library, pattern)
    if isinstance(library, AnnData) and pattern is not None:
        library = library.copy()
        library.obs = meta.reindex(library.obs_names.astype(str))
    sources = _drug_set_sources(targets, drug_sets)
    sig = significance(
        query, library, method, n_permutations=n_permutations, seed=seed, null=null, up=up, down=down
    )
    long = sig.long()
    hits = long.join(meta, on="signature")
    perts = None
    enrichment = _enrichment(pd.DataFrame(columns=["query", "summary", by]), by, [], {}, top, direction)
    if by in meta.columns:
        cell = next((c for c in ("cell_line", "cell_id", "cell") if c in meta.columns), None)
        perts = summarise_perturbagens(long, meta, by=by, cell=cell)
        universe = meta[by].dropna().astype(str).unique().tolist()
        enrichment = _enrichment(perts, by, universe, sources, top, direction, min_size)
    elif sources:
        summarise_perturbagens(long, meta, by=by)  # raises: the metadata has no perturbagen column
    info = dict(sig.info, top=top, direction=direction, by=by, pattern=pattern, sources=list(sources))
    info.pop("query_report", None)
    return SearchResult(hits, perts, enrichment, info)


def write_search(
    result: SearchResult, out: str | Path, *, inputs: Sequence = (), started: str | None = None
) -> Path:
    """Write a search run folder: ``hits.tsv``, ``perturbagens.tsv``, ``enrichment.tsv``, ``run.json``.

    Parameters
    ----------
    result
        What :func:`search_signatures` returned.
    out
        The output directory (replaced atomically); ``exprlab report`` renders it.
    inputs
        Input files recorded as data provenance in ``run.json`` (paths; others are skipped).
    started
        ISO time the search started (default: now).

    Returns
    -------
    pathlib.Path
        The output directory.
    """
    out = Path(out)
    provenance = [file_provenance(p) for p in inputs if isinstance(p, (str, Path)) and Path(p).is_file()]
    with atomic_dir(out) as tmp:
        result.hits.to_csv(tmp / SIGNATURE_SEARCH.hits, sep="\t", index=False, float_format="%.6g")
        if result.perturbagens is not None:
            result.perturbagens.to_csv(
                tmp / SIGNATURE_SEARCH.perturbagens, sep="\t", index=False, float_format="%.6g"
            )
        result.enrichment.to_csv(
            tmp / SIGNATURE_SEARCH.enrichment, sep="\t", index=False, float_format="%.6g"
        )
        summary = {
            "pairs": len(result.hits),
            "fdr_le_005": int((result.hits["fdr"] <= 0.05).sum()),
            "sets_q_le_005": int((result.enrichment["qvalue"] <= 0.05).sum())
            if len(result.enrichment)
            else 0,
        }
        write_run_manifest(
            tmp, SIGNATURE_SEARCH.kind, result.info, provenance, started=started, summary=summary
        )
    return out
