"""``exprlab import``: a user's cohort (matrix, phenotypes, probe annotation) into one h5ad."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import typer

from exprlab._validation import check_choice
from exprlab.cli._app import app

_COLLAPSE = ("max_mean", "mean", "max_variance")
_MULTI = ("drop", "first")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(out: Path, report: dict) -> str:
    parts = [
        f"wrote {out}: {report['n_samples']} samples x {report['n_genes']} genes ({report['format']}, genes as {report['genes_as']} in the file)"
    ]
    ph = report.get("phenotypes")
    if ph is not None:
        if ph["join"] == "by sample id":
            parts.append(
                f"phenotypes: {_n(ph['n_matched'], 'sample')} joined, unmatched: "
                f"{_n(ph['expression_only']['count'], 'matrix sample')}, "
                f"{_n(ph['phenotype_only']['count'], 'phenotype row')}"
            )
        else:
            parts.append(f"phenotypes: {ph['n_matched']} CLS labels joined by position")
    probes = report["probes"]
    text = f"{_n(probes['n_controls'], 'control probe')} dropped"
    if "n_genes" in probes:
        text += (
            f", {_n(probes['n_unannotated'], 'probe')} without a gene dropped, "
            f"{_n(probes['n_multi_gene'], 'probe')} with several genes "
            f"{'dropped' if probes['multi_gene'] == 'drop' else 'mapped to the first'}, "
            f"{_n(probes['n_collapsed'], 'probe')} collapsed into its gene's kept probe ({probes['collapse']})"
        )
    parts.append(text)
    return "; ".join(parts)


@app.command("import")
def import_(
    data: Path = typer.Argument(
        ...,
        help="Expression matrix: .csv/.tsv/.txt[.gz], .gct[.gz], .gctx, *_series_matrix.txt[.gz] or .h5ad.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output .h5ad (written atomically)."),
    genes_as: str = typer.Option(
        "auto", help="Which axis of the file holds the genes: auto, rows or columns."
    ),
    pheno: Path = typer.Option(
        None, help="Phenotype table (CSV/TSV, one row per sample), a GEO series matrix, or a CLS file."
    ),
    sample_column: str = typer.Option(
        None, help="Phenotype column of sample ids (default: the first column)."
    ),
    annotation: Path = typer.Option(None, help="Probe annotation table mapping probe ids to genes."),
    probe_column: str = typer.Option(None, help="Annotation column of probe ids (default: the first)."),
    gene_column: str = typer.Option(
        None,
        help="Annotation column of genes (default: one named like 'Gene Symbol'); without "
        "--annotation, a text column of the matrix itself.",
    ),
    collapse: str = typer.Option("max_mean", help="Several probes per gene: max_mean, mean or max_variance."),
    multi_gene: str = typer.Option(
        "drop", help="A probe annotated 'A /// B': drop, or first (its first gene)."
    ),
    keep_controls: bool = typer.Option(
        False, "--keep-controls/--no-keep-controls", help="Keep the AFFX- control probes.", metavar=""
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Import a cohort: matrix in either orientation, phenotypes joined by sample id, probes mapped to genes.

    Writes an h5ad that every command reads (docs/methods.md §4); what was dropped, collapsed or
    left unmatched is printed and recorded in uns["import"].
    """
    from exprlab.workflows import import_expression  # deferred: keeps `exprlab --help` light

    check_choice(genes_as, "--genes-as", ("auto", "rows", "columns"))
    check_choice(collapse, "--collapse", _COLLAPSE)
    check_choice(multi_gene, "--multi-gene", _MULTI)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, report = import_expression(
            data,
            out=out,
            genes_as=genes_as,  # type: ignore[arg-type]  # checked above
            pheno=pheno,
            sample_column=sample_column,
            annotation=annotation,
            probe_column=probe_column,
            gene_column=gene_column,
            collapse=collapse,  # type: ignore[arg-type]
            multi_gene=multi_gene,  # type: ignore[arg-type]
            keep_controls=keep_controls,
            force=force,
        )
    for w in caught:
        if w.filename and "exprlab" in w.filename.replace("\\", "/"):
            print(f"warning: {' '.join(str(w.message).split())}", file=sys.stderr)
    print(_summary(out, report))
