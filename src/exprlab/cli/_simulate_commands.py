"""Simulation and explanation-study commands: ``exprlab simulate``, ``exprlab xai-study``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from exprlab._defaults import N_STEPS
from exprlab._outputs import claim_output, discard_output
from exprlab._validation import check_count
from exprlab.cli._app import app
from exprlab.errors import InvalidParameterError


def _ints(text: str | None, option: str) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidParameterError(
            f"{text!r} is not a comma-separated list of integers", where=option, fix="write e.g. 10,100,1000"
        ) from None


JITTER_HELP = (
    "Add Uniform(0, JITTER) noise to every value (the paper's generator: 1e-4); "
    "0 keeps genes in no pathway exactly zero."
)


@app.command("simulate")
def simulate(
    preset: str = typer.Option("simu1", help="simu1, simu2, simua, simub or simuc."),
    out: Path = typer.Option(..., help="Output .h5ad file."),
    n_per_class: int = typer.Option(None, help="Samples per generated class (default: preset)."),
    n_genes: int = typer.Option(None, help="Genes (pathways and P scale with it)."),
    n_classes: int = typer.Option(None, help="Generated classes (default: preset)."),
    n_pathways: int = typer.Option(None, help="Pathways (default: preset, scaled)."),
    n_overexpressed: int = typer.Option(None, help="Over-expressed pathways per class (P)."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same counts."),
    jitter: float = typer.Option(0.0, help=JITTER_HELP),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Simulate LDA expression data with known informative genes (docs/methods.md §3)."""
    # deferred: keeps `exprlab --help` fast
    from exprlab.io import write_h5ad
    from exprlab.simulate import simulate_lda  # deferred

    params: dict[str, Any] = {
        k: v
        for k, v in {
            "n_classes": n_classes,
            "n_pathways": n_pathways,
            "n_overexpressed": n_overexpressed,
        }.items()
        if v is not None
    }
    if jitter:
        params["jitter"] = jitter
    with claim_output(out, kind="matrix", force=force, suffixes=(".h5ad",)):
        adata = simulate_lda(preset, n_per_class=n_per_class, n_genes=n_genes, seed=seed, **params)
        write_h5ad(adata, out)
    print(
        f"wrote {out}: {adata.n_obs} samples x {adata.n_vars} genes, {adata.obs['class'].nunique()} classes"
    )


@app.command("xai-study")
def xai_study(
    data: str = typer.Option(
        ...,
        help="Comma-separated: simu1, simu2, simua, simub, simuc "
        "or paths of expression files (.h5ad, .gct ...).",
    ),
    out: Path = typer.Option(..., help="Output folder (resumable)."),
    models: str = typer.Option(
        "lr,mlp", help="Comma-separated architectures: lr, mlp, diffuse_lr, diffuse_mlp, deep_mlp."
    ),
    runs: int = typer.Option(10, help="Runs (splits and training seeds) per dataset and model."),
    n_steps: int = typer.Option(
        N_STEPS, help="Integrated Gradients quadrature steps (the paper uses 3000: pass --n-steps 3000)."
    ),
    label: str = typer.Option(None, help="obs column with the labels (dataset files)."),
    n_random: int = typer.Option(30, help="Random orders for PGR."),
    pgr_subsample: int = typer.Option(
        330,
        help="Examples (class-stratified draw) used for "
        "PGR only; 0 = all correctly classified test examples.",
    ),
    curves: str = typer.Option(
        "",
        help="K values of keep/remove retraining curves, e.g. "
        "10,100,1000 (default: none for simulations, 10,50,100,500 for "
        "dataset files).",
    ),
    curve_n_random: int = typer.Option(
        3,
        help="Random gene sets per K and run of the keep/remove curves (the random band; "
        "curves get 95% intervals over runs and these repeats).",
    ),
    log2: bool = typer.Option(
        None,
        "--log2/--no-log2",
        help="log2(x + 1) before z-scoring (default: on for simulations and files written by `exprlab simulate`, "
        "off for other files).",
        metavar="",
    ),
    n_per_class: int = typer.Option(None, help="Scale simulations down: samples per class."),
    n_genes: int = typer.Option(None, help="Scale simulations down: genes."),
    seed: int = typer.Option(0, help="Seed of run 0 (run r uses seed + r)."),
    data_seed: int = typer.Option(0, help="Seed of the simulated data."),
    jitter: float = typer.Option(0.0, help=JITTER_HELP),
    variants: bool = typer.Option(
        False,
        "--variants/--no-variants",
        help="Also score post-hoc explanation pipelines (absolute, class shrinkage, pathway, diffusion).",
        metavar="",
    ),
    force: bool = typer.Option(
        False,
        "--force/--no-force",
        help="Start over: replace an existing study folder instead of resuming it.",
        metavar="",
    ),
) -> None:
    """Run the explanation-evaluation study; writes summary.tsv, runs.tsv, per-run tables, plots."""
    # Long by its option declarations; the body only forwards them to the workflow.
    # deferred: keeps `exprlab --help` from loading torch
    # Over 80 lines only with its option declarations; the body builds the study configuration and runs it.
    from exprlab.workflows import SIMULATIONS, run_xai_study

    datasets = [d.strip() for d in data.split(",") if d.strip()]
    ks = _ints(curves, "--curves")
    for k in ks:
        check_count(k, "--curves", minimum=1)
    check_count(runs, "--runs", minimum=1)
    check_count(n_steps, "--n-steps", minimum=1)
    check_count(n_random, "--n-random", minimum=1)
    check_count(curve_n_random, "--curve-n-random", minimum=1)
    check_count(pgr_subsample, "--pgr-subsample", minimum=0)
    if not ks and any(d.lower() not in SIMULATIONS for d in datasets):
        ks = (10, 50, 100, 500)
    inputs = [d for d in datasets if d.lower() not in SIMULATIONS]
    with claim_output(out, kind="xai-study", inputs=inputs, folder=True, resume=True):
        if force:
            discard_output(out)
        summary = run_xai_study(
            datasets,
            out,
            models=tuple(m.strip() for m in models.split(",") if m.strip()),
            runs=runs,
            n_steps=n_steps,
            label=label,
            n_random=n_random,
            pgr_subsample=pgr_subsample or None,
            curve_tops=ks,
            curve_n_random=curve_n_random,
            log2=log2,
            n_per_class=n_per_class,
            n_genes=n_genes,
            seed=seed,
            data_seed=data_seed,
            variants=variants,
            sim_params={"jitter": jitter} if jitter else {},
        )
    columns = [
        c
        for c in (
            "dataset",
            "model",
            "n_runs",
            "balanced_accuracy_mean",
            "fa_local_mean",
            "fa_global_mean",
            "pgi_local_mean",
            "pgu_local_mean",
            "pgr_mean",
        )
        if c in summary
    ]
    print(summary[columns].round(2).to_string(index=False))
    print(f"wrote {out / 'summary.tsv'}")
