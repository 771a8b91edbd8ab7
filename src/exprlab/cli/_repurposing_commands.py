"""``exprlab match benchmark|train|predict``: the drug-repurposing study from the command line."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from exprlab._outputs import claim_output
from exprlab._validation import check_count
from exprlab.cli._app import app
from exprlab.cli._run_manifests import predict_output, train_manifest

match_app = typer.Typer(
    no_args_is_help=True,
    help="Learned drug-disease matching: benchmark every method, train a model, rank drugs.",
)
app.add_typer(match_app, name="match")

_LABELS_HELP = "opentargets | repodb | pharmacotherapydb, or a TSV with drug and disease columns."


def _print_table(df, columns) -> None:
    table = Table(show_lines=False)
    for c in columns:
        table.add_column(c, justify="left" if c == "method" else "right")
    for _, row in df.iterrows():
        cells = []
        for c in columns:
            v = row[c]
            cells.append(f"{v:.4f}" if isinstance(v, float) else str(v))
        table.add_row(*cells)
    Console(width=200).print(table)


# Options shared by `match benchmark` and `match train` (the data they read).
_LABELS_OPTION = typer.Option("opentargets", "--labels", help=_LABELS_HELP)
_DRUGS_OPTION = typer.Option(None, "--drugs", help="Drug signature library (GCTX/GCT/h5ad).")
_DISEASES_OPTION = typer.Option(None, "--diseases", help="Disease signatures (GCTX/GCT/h5ad).")
_FORCE_OPTION = typer.Option(False, "--force", help="Replace an existing output of the same command.")


def _label_file(labels: str) -> Path | None:
    """The indication file named by ``--labels`` (``None`` for a catalogue name)."""
    path = Path(labels)
    return path if path.is_file() else None


@match_app.command("benchmark")
def benchmark(
    out: Path = typer.Option(..., "--out", help="Output directory (replaced atomically)."),
    split: str = typer.Option("disease", "--split", help="disease | drug | pair"),
    folds: int = typer.Option(5, "--folds", help="Number of grouped folds."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds, training and bootstrap."),
    labels: str = _LABELS_OPTION,
    drugs: Path = _DRUGS_OPTION,
    diseases: Path = _DISEASES_OPTION,
    methods: str = typer.Option("", "--methods", help="Comma-separated subset of methods."),
    force: bool = _FORCE_OPTION,
) -> None:
    """Grouped k-fold retrieval benchmark; writes metrics.tsv, per_disease.tsv, predictions, plots."""
    from exprlab.datasets import load_benchmark  # deferred: keeps --help fast
    from exprlab.report import now_utc  # deferred: keeps --help fast
    from exprlab.workflows import run_benchmark  # deferred: keeps --help fast

    started = now_utc()
    check_count(folds, "--folds", minimum=2)
    inputs = [drugs, diseases, _label_file(labels)]
    with claim_output(out, kind="match-benchmark", inputs=inputs, force=force, folder=True):
        bench = load_benchmark(labels, drugs=drugs, diseases=diseases)
        chosen = [m.strip() for m in methods.split(",") if m.strip()] or None
        result = run_benchmark(bench, split=split, n_folds=folds, seed=seed, methods=chosen)
        _write_benchmark(result, out, split, folds, seed, labels, chosen, drugs, diseases, started)
    _print_benchmark(result, out)


def _write_benchmark(result, out, split, folds, seed, labels, chosen, drugs, diseases, started) -> None:
    """The run folder of ``match benchmark``, with its manifest."""
    from exprlab.report import input_provenance  # deferred: keeps --help fast
    from exprlab.workflows import write_benchmark  # deferred: keeps --help fast

    parameters = {"split": split, "folds": folds, "seed": seed, "labels": labels, "methods": chosen or "all"}
    provenance = input_provenance(_data_roles(labels, drugs, diseases))
    write_benchmark(result, out, parameters=parameters, provenance=provenance, started=started)


def _print_benchmark(result, out) -> None:
    """What ``match benchmark`` prints: data used, metrics table, MAP ratios."""
    rep = result.report
    print(
        f"{rep['n_indications_used']} indications used of {rep['n_indications_given']}; "
        f"{rep['n_rows_drug_without_signature']} rows name a drug without signature, "
        f"{rep['n_rows_disease_without_signature']} a disease without signature."
    )
    cols = [
        "method",
        "n_diseases",
        "val_map",
        "average_precision",
        "average_precision_lo",
        "average_precision_hi",
        "precision_at_10",
        "ndcg_at_10",
        "roc_auc",
    ]
    _print_table(result.metrics, cols)
    for _, r in result.ratios.iterrows():
        print(
            f"MAP ratio {r['numerator']} / {r['denominator']}: {r['ratio']:.2f} "
            f"[{r['lo']:.2f}, {r['hi']:.2f}]"
        )
    print(f"wrote {out} in {result.timings['total']:.0f} s")


@match_app.command("train")
def train(
    out: Path = typer.Option(..., "--out", help="Model directory to write."),
    arch: str = typer.Option("twotower", "--arch", help="Model architecture: paper | twotower"),
    n_seeds: int = typer.Option(3, "--n-seeds", help="Ensemble size (one model per seed)."),
    seed: int = typer.Option(0, "--seed", help="First seed."),
    labels: str = _LABELS_OPTION,
    drugs: Path = _DRUGS_OPTION,
    diseases: Path = _DISEASES_OPTION,
    force: bool = _FORCE_OPTION,
) -> None:
    """Train a matcher on all labels (early stopping on a held-out-disease validation part)."""
    from exprlab.datasets import load_benchmark  # deferred: keeps --help fast
    from exprlab.report import now_utc  # deferred: keeps --help fast
    from exprlab.workflows import train_models  # deferred: keeps --help fast

    started = now_utc()
    check_count(n_seeds, "--n-seeds", minimum=1)
    inputs = [drugs, diseases, _label_file(labels)]
    with claim_output(out, kind="matcher", inputs=inputs, force=force, folder=True):
        bench = load_benchmark(labels, drugs=drugs, diseases=diseases)
        path = train_models(bench, out, arch=arch, n_seeds=n_seeds, seed=seed)  # type: ignore[arg-type]
        params = {"arch": arch, "n_seeds": n_seeds, "seed": seed, "labels": labels}
        train_manifest(path, started, params, _data_roles(labels, drugs, diseases))
    print(f"wrote {path}")


def _data_roles(labels: str, drugs: Path | None, diseases: Path | None) -> dict:
    """The data a matching command read, for its manifest (the public data when no file is given)."""
    return {
        "labels": labels,
        "drugs": drugs or "CMap 02 (public data)",
        "diseases": diseases or "Open Targets DEGs (public data)",
    }


@match_app.command("predict")
def predict(
    model: Path = typer.Option(..., "--model", help="Directory written by `exprlab match train`."),
    disease: Path = typer.Option(..., "--disease", help="Disease signature (GCT/GCTX/h5ad)."),
    top: int = typer.Option(50, "--top", help="Number of drugs to print."),
    drugs: Path = typer.Option(None, "--drugs", help="Drug library (default CMap 02)."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Also write the ranking (ranking.tsv and run.json) to this folder."
    ),
    force: bool = _FORCE_OPTION,
) -> None:
    """Print the drugs ranked for a disease signature, best first, with their scores."""
    from exprlab.datasets import load_benchmark  # deferred: keeps --help fast
    from exprlab.report import now_utc  # deferred: keeps --help fast
    from exprlab.workflows import predict_drugs  # deferred: keeps --help fast

    started = now_utc()
    check_count(top, "--top", minimum=1)
    bench = load_benchmark("opentargets", drugs=drugs) if drugs else None
    if out is None:
        ranked = predict_drugs(model, disease, bench=bench, top=top)
    else:
        with claim_output(
            out, kind="match-predict", inputs=[model, disease, drugs], force=force, folder=True
        ):
            ranked = predict_drugs(model, disease, bench=bench, top=top)
            params = {"model": str(model), "disease": str(disease), "top": top}
            roles = {"model": model, "disease": disease, "drugs": drugs or "CMap 02 (public data)"}
            predict_output(out, ranked, started, params, roles)
    for _, r in ranked.iterrows():
        print(f"{int(r['rank'])}\t{r['drug']}\t{r['score']:.4f}")
    if out is not None:
        print(f"wrote {out}")
