"""``exprlab search``: a signature search with p-values, FDR, perturbagen summaries and enrichment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import typer

from exprlab._outputs import claim_output
from exprlab._validation import check_choice, check_count
from exprlab.cli._app import app
from exprlab.cli._match_commands import load_library, load_query
from exprlab.cli._score_significance import SIGNIFICANCE_METHODS as _SIGNIFICANCE_METHODS


def _drug_sets(path: Path | None, drug: str, group: str):
    """Drug sets from a GMT (set -> drugs) or a table with ``drug`` and ``group`` columns."""
    if path is None:
        return None
    from exprlab.explain import drug_sets_from_table  # deferred: keeps `exprlab --help` fast
    from exprlab.io import read_gmt, read_table  # deferred: keeps `exprlab --help` fast

    if path.name.lower().endswith((".gmt", ".gmt.gz", ".gmt.xz")):
        return read_gmt(path)
    return drug_sets_from_table(read_table(path), drug=drug, group=group)


def _targets(value: str | None):
    if value is None or value == "drugcentral":
        return value
    from exprlab.io import read_table  # deferred: keeps `exprlab --help` fast

    return read_table(value)


@app.command()
def search(
    library: Path = typer.Option(..., "--library", "-l", help="On-disk library, GMT or signature matrix."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (replaced atomically)."),
    query: Path = typer.Option(
        None, "--query", help="Query signatures or a GMT of <name>_up/<name>_dn sets."
    ),
    query_up: Path = typer.Option(
        None, "--query-up", help="GMT of up sets (paired by name with --query-down)."
    ),
    query_down: Path = typer.Option(None, "--query-down", help="GMT of down sets."),
    method: str = typer.Option("wtcs", "--method", "-m", help="ks, ks_raw, wtcs or xsum."),
    n_permutations: int = typer.Option(1000, "--n-permutations", help="Random queries of the null (>= 1)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random queries."),
    null: str = typer.Option("signature", "--null", help="signature (per-signature null) or pooled."),
    up: int = typer.Option(150, help="Up-set size taken from full-signature queries."),
    down: int = typer.Option(150, help="Down-set size taken from full-signature queries."),
    parse_ids: str = typer.Option(
        None,
        "--parse-ids",
        help="Parse signature ids into metadata: drug__cell__type or a regex with named groups.",
    ),
    by: str = typer.Option("drug", "--by", help="Metadata column naming the perturbagen."),
    top: int = typer.Option(20, "--top", help="Top perturbagens tested for enrichment."),
    direction: str = typer.Option("negative", "--direction", help="negative (reversal hits) or positive."),
    targets: str = typer.Option(
        None, "--targets", help="drugcentral, or a table with drug and symbol columns (drug targets)."
    ),
    drug_sets: Path = typer.Option(
        None, "--drug-sets", help="GMT of drug classes, or a table (--set-column)."
    ),
    set_column: str = typer.Option("class", "--set-column", help="Column of --drug-sets naming the set."),
    min_size: int = typer.Option(
        2, "--min-size", help="Drug sets with fewer drugs in the library are not tested."
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Search a library: scores with p-values and FDR, perturbagen summaries, enrichment of the top hits."""
    # Over 80 lines only with its option declarations; the body checks, searches and writes.
    from exprlab.report import now_utc  # deferred: keeps `exprlab --help` fast
    from exprlab.workflows import search_signatures, write_search  # deferred: keeps --help fast

    started = now_utc()
    check_choice(method, "--method", _SIGNIFICANCE_METHODS)
    check_count(n_permutations, "--n-permutations", minimum=1)
    check_count(top, "--top", minimum=1)
    check_count(min_size, "--min-size", minimum=1)
    inputs = [library, query, query_up, query_down, drug_sets]
    with claim_output(out, kind="signature-search", inputs=inputs, force=force, folder=True):
        result = search_signatures(
            load_query(query, query_up, query_down),
            load_library(library),
            method=cast(Literal["ks", "ks_raw", "wtcs", "xsum"], method),
            n_permutations=n_permutations,
            seed=seed,
            null=cast(Literal["signature", "pooled"], null),
            up=up,
            down=down,
            pattern=parse_ids,
            by=by,
            top=top,
            direction=cast(Literal["negative", "positive"], direction),
            targets=_targets(targets),
            drug_sets=_drug_sets(drug_sets, "drug", set_column),
            min_size=min_size,
        )
        write_search(result, out, inputs=inputs, started=started)
    n_sig = int((result.hits["fdr"] <= 0.05).sum())
    n_enriched = int((result.enrichment["qvalue"] <= 0.05).sum()) if len(result.enrichment) else 0
    print(
        f"{method}: {len(result.hits)} query x signature pairs, {n_sig} with FDR <= 0.05; "
        f"{n_enriched} drug sets enriched (q <= 0.05) among the top {top}; wrote {out}"
    )
