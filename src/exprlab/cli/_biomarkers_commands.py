"""``exprlab biomarkers``: a per-class gene list with its stability over training draws."""

from __future__ import annotations

from pathlib import Path

import typer

from exprlab._defaults import N_STEPS
from exprlab._outputs import claim_output
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.cli._app import app, resolved_log2


@app.command("biomarkers")
def biomarkers(
    data: Path = typer.Option(..., help="Expression data (.h5ad, .gct ...): obs = samples."),
    label: str = typer.Option(..., help="obs column holding the class labels."),
    out: Path = typer.Option(..., "--out", "-o", help="Output run folder (written atomically)."),
    arch: str = typer.Option(
        "lr", help="Architecture of the models: lr, mlp, diffuse_lr, diffuse_mlp, deep_mlp."
    ),
    n_draws: int = typer.Option(50, help="Training draws B (models fitted)."),
    draw: str = typer.Option("bootstrap", help="bootstrap (out-of-bag held out) or subsample."),
    fraction: float = typer.Option(0.5, help="Share of each class a subsample trains on."),
    top: int = typer.Option(100, help="Size of the top lists counted (selection frequency, Jaccard)."),
    seed: int = typer.Option(0, help="Seed of the draws and fits."),
    group: str = typer.Option(None, help="obs column of subjects kept whole on one side of every draw."),
    rule: str = typer.Option(
        "mean", help="Per-class aggregation: mean (signed) or pooled (the paper's vote)."
    ),
    baseline: str = typer.Option("zero", help="zero, or mean (raw-space training mean of each draw)."),
    log2: bool = typer.Option(
        None,
        "--log2/--no-log2",
        help="log2(x + 1) before z-scoring (default: on for files written by `exprlab simulate`, off for other files).",
        metavar="",
    ),
    n_steps: int = typer.Option(
        N_STEPS, help="Integrated Gradients quadrature steps for non-linear models (LR is exact)."
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Rank genes per class by Integrated Gradients on held-out samples, with their stability."""
    # deferred: keeps `exprlab --help` from loading torch
    from exprlab.io import read
    from exprlab.models import MODEL_KINDS  # deferred (torch)
    from exprlab.workflows import find_biomarkers, write_biomarkers  # deferred (torch)

    check_choice(arch, "--arch", MODEL_KINDS)
    check_count(n_draws, "--n-draws", minimum=1)
    check_count(top, "--top", minimum=1)
    check_count(n_steps, "--n-steps", minimum=1)
    check_choice(draw, "--draw", ("bootstrap", "subsample"))
    check_choice(rule, "--rule", ("mean", "pooled"))
    check_choice(baseline, "--baseline", ("zero", "mean"))
    check_fraction(fraction, "--fraction", closed="neither")
    with claim_output(out, kind="biomarkers", inputs=[data], force=force, folder=True):
        adata = read(data)
        log2 = resolved_log2(log2, adata)
        check_count(top, "--top", minimum=1, maximum=adata.n_vars)
        result = find_biomarkers(
            adata,
            label,
            arch=arch,  # type: ignore[arg-type]  # checked above
            n_draws=n_draws,
            draw=draw,  # type: ignore[arg-type]
            fraction=fraction,
            top=top,
            seed=seed,
            group=group,
            rule=rule,  # type: ignore[arg-type]
            baseline=baseline,
            log2=log2,
            n_steps=n_steps,
        )
        write_biomarkers(result, out, data=data)
    _print_summary(result, out)


def _print_summary(result, out: Path) -> None:
    accuracy = result.draws["balanced_accuracy"].mean()
    print(
        f"wrote {out}: {result.genes['class'].nunique()} classes x "
        f"{result.genes['gene'].nunique()} genes over {len(result.draws)} draws; "
        f"held-out balanced accuracy {accuracy:.3f} (mean over draws)"
    )
    for row in result.stability.itertuples():
        if not row.n:
            print(f"  top-{row.top} Jaccard {row.method:>12} {row.mode:>8}: - (needs at least 2 draws)")
            continue
        print(
            f"  top-{row.top} Jaccard {row.method:>12} {row.mode:>8}: {row.jaccard_mean:.3f} "
            f"[{row.jaccard_lo:.3f}, {row.jaccard_hi:.3f}]"
        )
