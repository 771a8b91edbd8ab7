"""Classifier commands: ``exprlab train`` and ``exprlab explain``."""

from __future__ import annotations

from pathlib import Path

import typer

from exprlab._defaults import N_STEPS
from exprlab._outputs import claim_output
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.cli._app import app, resolved_log2


@app.command("train")
def train(
    data: Path = typer.Option(..., help="Expression data (.h5ad, .gct ...): obs = samples."),
    label: str = typer.Option(..., help="obs column holding the class labels."),
    arch: str = typer.Option("lr", help="Architecture: lr, mlp, diffuse_lr, diffuse_mlp or deep_mlp."),
    out: Path = typer.Option(..., "--out", "-o", help="Output model directory (written atomically)."),
    seed: int = typer.Option(0, help="Random seed of the split, folds and training."),
    log2: bool = typer.Option(
        None,
        "--log2/--no-log2",
        help="log2(x + 1) before z-scoring (default: on for files written by `exprlab simulate`, off for other files).",
        metavar="",
    ),
    test_fraction: float = typer.Option(
        0.25, help="Stratified fraction held out and scored (0: train on all samples, with a warning)."
    ),
    cv: int = typer.Option(
        None, help="K-fold cross-validation (mean and sd of held-out accuracy); the model is then fit on all."
    ),
    group: str = typer.Option(
        None, help="obs column of the subject: all samples of a subject stay on one side of a split."
    ),
    batch: str = typer.Option(None, help="obs column of the batch: report label x batch confounding."),
    batch_correct: str = typer.Option(
        "none", help="none or combat (ComBat-style, fitted on training samples only; needs --batch)."
    ),
    training: str = typer.Option(
        "tuned", help="tuned (cross-validated penalty / early stopping) or paper (the paper's SGD schedule)."
    ),
    penalty: str = typer.Option("l2", help="Penalty of tuned linear models: l2 or elasticnet."),
    class_weight: str = typer.Option("balanced", help="balanced or none: class weights of the loss."),
    inner_folds: int = typer.Option(5, help="Inner cross-validation folds choosing the penalty."),
    epochs: int = typer.Option(
        None, help="Epochs: paper schedule (default 25) or most epochs of early stopping (default 200)."
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Train a phenotype classifier, score it on held-out samples and save it with its predictions."""
    # deferred: keeps `exprlab --help` from loading torch
    from exprlab.io import read
    from exprlab.report import file_provenance  # deferred: loads matplotlib
    from exprlab.workflows import train_model  # deferred: loads torch

    check_fraction(test_fraction, "--test-fraction", closed="left")
    if cv is not None:
        check_count(cv, "--cv", minimum=2)
    if epochs is not None:
        check_count(epochs, "--epochs", minimum=1)
    check_count(inner_folds, "--inner-folds", minimum=2)
    options = {
        "training": check_choice(training, "--training", ("tuned", "paper")),
        "penalty": check_choice(penalty, "--penalty", ("l2", "elasticnet")),
        "class_weight": check_choice(class_weight, "--class-weight", ("balanced", "none")),
        "inner_folds": inner_folds,
        "log2": log2,
        "epochs": epochs,
    }
    check_choice(arch, "--arch", ("lr", "mlp", "diffuse_lr", "diffuse_mlp", "deep_mlp"))
    check_choice(batch_correct, "--batch-correct", ("none", "combat"))
    with claim_output(out, kind="classifier", inputs=[data], force=force, folder=True):
        adata = read(data)
        options["log2"] = resolved_log2(log2, adata)
        run = train_model(
            adata,
            label,
            out,
            arch=arch,
            seed=seed,
            test_fraction=test_fraction,
            cv=cv,
            group=group,
            batch=batch,
            batch_correct=batch_correct,
            data_provenance=[file_provenance(data)],
            **options,
        )
    _print_training(run, out, arch, adata)


def _print_training(run, out: Path, arch: str, adata) -> None:
    """The lines `exprlab train` prints: what was written, the held-out score, the design checks."""
    clf, m = run.model, run.metrics
    print(
        f"wrote {out}: {arch} ({clf.training}) on {adata.n_obs} samples x {adata.n_vars} genes, "
        f"{len(clf.classes_)} classes"
    )
    if run.evaluation == "holdout":
        print(
            f"held-out balanced accuracy {m['balanced_accuracy']:.3f} on {m['n_test']} samples "
            f"(trained on {m['n_train']}); predictions in {out / 'heldout.tsv'}"
        )
    elif run.evaluation == "cv":
        print(
            f"cross-validated balanced accuracy {m['balanced_accuracy_mean']:.3f} "
            f"± {m['balanced_accuracy_sd']:.3f} (sd over {m['n_folds']} folds); the saved model is "
            "fit on all samples"
        )
    else:
        print(f"TRAINING balanced accuracy {m['training_balanced_accuracy']:.3f} (no held-out samples)")
    conf = run.confounding
    if conf:
        predicted = conf["batch_balanced_accuracy"]
        shown = "n/a" if predicted is None else f"{predicted:.3f}"
        print(
            f"batch {conf['batch']!r}: label x batch Cramér's V {conf['cramers_v']:.2f} "
            f"(chi-square p = {conf['p_value']:.2g}); batch predicted from expression with balanced "
            f"accuracy {shown} (chance {conf['batch_chance']:.2f})"
        )


def _baseline(spec: str) -> str:
    if spec.startswith("class:"):
        return spec
    return check_choice(spec, "--baseline", ("zero", "mean", "class:NAME"))


@app.command("explain")
def explain(
    model: Path = typer.Option(..., help="Model directory written by `exprlab train`."),
    data: Path = typer.Option(..., help="Expression data holding the samples (genes matched by name)."),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Attributions .h5ad (manifest beside it: FILE.h5ad.run.json), or a run folder without extension (attributions.h5ad, run.json).",
    ),
    samples: str = typer.Option(
        "auto",
        help="heldout (samples the model did not see), train, all, or auto: heldout when the model "
        "folder records them, else all (with a warning).",
    ),
    baseline: str = typer.Option("zero", help="zero, mean (training mean) or class:NAME."),
    n_steps: int = typer.Option(N_STEPS, help="Integrated Gradients quadrature steps (the paper uses 3000)."),
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
    from exprlab.io import read
    from exprlab.report import file_provenance  # deferred: loads matplotlib
    from exprlab.workflows import explain_model  # deferred (torch)

    check_count(n_steps, "--n-steps", minimum=1)
    check_choice(samples, "--samples", ("auto", "heldout", "train", "all"))
    folder = out.suffix == ""  # a name with an extension is a file, which must be .h5ad
    suffixes = () if folder else (".h5ad",)
    with claim_output(
        out, kind="explanation", inputs=[model, data], force=force, folder=folder, suffixes=suffixes
    ):
        adata = read(data)
        result, which = explain_model(
            model,
            adata,
            out,
            samples=samples,
            data_provenance=[file_provenance(data)],
            baselines=_baseline(baseline),
            target=target,
            n_steps=n_steps,
            method=method,
            output=output,
            adaptive="paper" if adaptive else False,
        )
    delta = abs(result.obs["ig_delta"])
    print(
        f"wrote {out}: {result.n_obs} samples x {result.n_vars} genes ({which}); "
        f"|convergence delta| max {delta.max():.2e}, median {delta.median():.2e}"
    )
