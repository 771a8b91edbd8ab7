"""``exprlab match explain``: why a trained matcher ranks a drug for a disease."""

from __future__ import annotations

from pathlib import Path

import typer

from exprlab._defaults import N_STEPS
from exprlab._outputs import claim_output
from exprlab._validation import check_count
from exprlab.cli._repurposing_commands import match_app
from exprlab.cli._run_manifests import explain_manifest

_COLLECTIONS = ("hallmark", "kegg", "reactome", "go_bp", "btm")


def _library_needed(*names: str):
    """The public benchmark, loaded only when a disease or drug is given by name."""
    if all(Path(n).is_file() for n in names):
        return None
    from exprlab.datasets import load_benchmark  # deferred: loads the public data only when needed

    return load_benchmark("opentargets")


@match_app.command("explain")
def explain(
    model: Path = typer.Option(..., "--model", help="Directory written by `exprlab match train`."),
    disease: str = typer.Option(..., "--disease", help="Disease id of the benchmark, or a signature file."),
    drug: str = typer.Option(..., "--drug", help="Drug name of the benchmark, or a signature file."),
    out: Path = typer.Option(..., "--out", help="Output directory (replaced atomically)."),
    genesets: str = typer.Option(
        None, "--genesets", help="GMT file, or hallmark | kegg | reactome | go_bp | btm."
    ),
    top: int = typer.Option(50, "--top", help="Top genes tested for pathway enrichment."),
    n_steps: int = typer.Option(N_STEPS, "--n-steps", help="Integrated Gradients quadrature steps."),
    effect: str = typer.Option("total", "--effect", help="total | interaction"),
    instances: str = typer.Option(
        "max", "--instances", help="max (the ranking rule) | all (mean over perturbations)"
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Attribute a match score to disease and drug genes; write tables, pathways and a plot."""
    from exprlab.report import now_utc  # deferred: keeps --help fast

    started = now_utc()
    check_count(top, "--top", minimum=1)
    check_count(n_steps, "--n-steps", minimum=1)
    inputs: list[str | Path] = [model, *(p for p in (disease, drug, genesets) if p and Path(p).exists())]
    with claim_output(out, kind="match-explanation", inputs=inputs, force=force, folder=True):
        expl = _explain(model, disease, drug, out, genesets, top, n_steps, effect, instances)
        params = {
            "model": str(model),
            "disease": disease,
            "drug": drug,
            "genesets": genesets or "none",
            "top": top,
            "n_steps": n_steps,
            "effect": effect,
            "instances": instances,
        }
        roles = {"model": model, "disease": disease, "drug": drug, "genesets": genesets}
        explain_manifest(out, started, params, roles, float(expl.score))
    _print_explanation(expl, out)


def _explain(
    model: Path,
    disease: str,
    drug: str,
    out: Path,
    genesets: str | None,
    top: int,
    n_steps: int,
    effect: str,
    instances: str,
):
    """Compute the explanation and write its folder (the body of ``match explain``)."""
    from exprlab.explain import explain_match  # deferred: keeps --help fast
    from exprlab.workflows import write_explanation  # deferred: keeps --help fast

    sets = None
    if genesets:
        if genesets in _COLLECTIONS and not Path(genesets).is_file():
            from exprlab.datasets import genesets as collection  # deferred: keeps --help fast

            sets = collection(genesets)  # type: ignore[arg-type]  # a name of _COLLECTIONS
        else:
            from exprlab.io import read_gmt  # deferred: keeps --help fast

            sets = read_gmt(genesets)
    library = _library_needed(disease, drug)
    expl = explain_match(
        model,
        disease,
        drug,
        library=library,
        gene_sets=sets,
        top=top,
        n_steps=n_steps,
        effect=effect,  # type: ignore[arg-type]  # checked by explain_match
        instances=instances,  # type: ignore[arg-type]  # checked by explain_match
    )
    write_explanation(expl, out)
    return expl


def _print_explanation(expl, out) -> None:
    print(
        f"score {expl.score:.4f} for {expl.drug} / {expl.disease} "
        f"(max completeness gap {expl.pairs['delta'].abs().max():.2g})"
    )
    for _, r in expl.genes.head(10).iterrows():
        print(
            f"{int(r['rank'])}\t{r['gene']}\t{r['combined']:.4f}\t"
            f"disease {r['disease_attribution']:.4f}\tdrug {r['drug_attribution']:.4f}"
        )
    if expl.pathways is not None:
        for _, r in expl.pathways.head(5).iterrows():
            print(
                f"{r['pathway']}\toverlap {int(r['overlap'])}\tp {r['hyper_pvalue']:.3g}\t"
                f"q {r['hyper_qvalue']:.3g}"
            )
    print(f"wrote {out}")
