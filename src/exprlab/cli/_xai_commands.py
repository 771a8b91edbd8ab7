"""Classifier commands: ``exprlab train`` and ``exprlab explain``."""

from __future__ import annotations

from pathlib import Path

import typer

from exprlab._outputs import claim_output
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.cli._app import app


@app.command("train")
def train(
    data: Path = typer.Option(..., help="Expression data (.h5ad, .gct ...): obs = samples."),
    label: str = typer.Option(..., help="obs column holding the class labels."),
    arch: str = typer.Option("lr", help="Architecture: lr, mlp, diffuse_lr, diffuse_mlp or deep_mlp."),
    out: Path = typer.Option(..., help="Output model directory (written atomically)."),
    seed: int = typer.Option(0, help="Random seed: same seed, same weights."),
    log2: bool = typer.Option(
        False, "--log2/--no-log2", help="log2(x + 1) before z-scoring (for counts).", metavar=""
    ),
    epochs: int = typer.Option(25, help="Training epochs (paper: 25)."),
    test_fraction: float = typer.Option(
        0.0,
        help="Hold out this stratified fraction and report its balanced accuracy (0: train on everything).",
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Train a phenotype classifier with the paper's schedule and save it."""
    # deferred: keeps `exprlab --help` from loading torch
    from exprlab.io import read
    from exprlab.models import ExpressionClassifier  # deferred (torch)
    from exprlab.workflows import stratified_split  # deferred: loads torch

    check_fraction(test_fraction, "--test-fraction", closed="left")
    check_count(epochs, "--epochs", minimum=1)
    clf = ExpressionClassifier(arch, seed=seed, log2=log2, epochs=epochs)  # type: ignore[arg-type]
    with claim_output(out, kind="classifier", inputs=[data], force=force, folder=True):
        adata = read(data)
        test = None
        if test_fraction > 0:
            adata, test = stratified_split(adata, label, test_size=test_fraction, seed=seed)
        clf.fit(adata, label)
        clf.save(out)
    message = (
        f"wrote {out}: {arch} on {adata.n_obs} samples x {adata.n_vars} genes, "
        f"{len(clf.classes_)} classes; training balanced accuracy "
        f"{clf.score(adata):.3f}"
    )
    if test is not None:
        message += f"; held-out ({test.n_obs} samples) balanced accuracy {clf.score(test):.3f}"
    print(message)


def _baseline(spec: str) -> str:
    if spec.startswith("class:"):
        return spec
    return check_choice(spec, "--baseline", ("zero", "mean", "class:NAME"))


@app.command("explain")
def explain(
    model: Path = typer.Option(..., help="Model directory written by `exprlab train`."),
    data: Path = typer.Option(..., help="Expression data to explain (genes matched by name)."),
    out: Path = typer.Option(..., help="Output attributions .h5ad (data's obs and var)."),
    baseline: str = typer.Option("zero", help="zero, mean (training mean) or class:NAME."),
    n_steps: int = typer.Option(50, help="Quadrature steps (the paper uses 3000)."),
    method: str = typer.Option("gausslegendre", help="gausslegendre or riemann_left/right/middle/trapezoid."),
    target: str = typer.Option(
        "predicted", help="predicted, true (the training label column) or a class name."
    ),
    output: str = typer.Option("probability", help="probability (softmax) or logit."),
    adaptive: bool = typer.Option(
        False,
        "--adaptive/--no-adaptive",
        help="Recompute examples with a large convergence delta using the paper's rule.",
        metavar="",
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Integrated Gradients attributions of a trained classifier, one row per sample."""
    # deferred: keeps `exprlab --help` from loading torch
    from exprlab.explain import attributions_anndata
    from exprlab.io import read, write_h5ad  # deferred
    from exprlab.models import ExpressionClassifier  # deferred (torch)

    check_count(n_steps, "--n-steps", minimum=1)
    with claim_output(out, kind="attributions", inputs=[model, data], force=force, suffixes=(".h5ad",)):
        clf = ExpressionClassifier.load(model)
        adata = read(data)
        result = attributions_anndata(
            clf,
            adata,
            baselines=_baseline(baseline),
            target=target,
            n_steps=n_steps,
            method=method,  # type: ignore[arg-type]  # checked by attributions_anndata
            output=output,  # type: ignore[arg-type]
            adaptive="paper" if adaptive else False,
        )
        write_h5ad(result, out)
    delta = abs(result.obs["ig_delta"])
    print(
        f"wrote {out}: {result.n_obs} samples x {result.n_vars} genes; "
        f"|convergence delta| max {delta.max():.2e}, median {delta.median():.2e}"
    )
