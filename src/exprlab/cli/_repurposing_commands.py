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
from exprlab.errors import InvalidParameterError

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
_FORCE_OPTION = typer.Option(
    False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
)


def _label_file(labels: str) -> Path | None:
    """The indication file named by ``--labels`` (``None`` for a catalogue name)."""
    path = Path(labels)
    return path if path.is_file() else None


@match_app.command("benchmark")
def benchmark(
    out: Path = typer.Option(..., "--out", help="Output directory (replaced atomically)."),
    split: str = typer.Option(
        "disease",
        "--split",
        help="disease | disease-cluster (near-duplicate diseases never straddle train and test) | drug | pair",
    ),
    folds: int = typer.Option(5, "--folds", help="Number of grouped folds."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds, training and bootstrap."),
    labels: str = _LABELS_OPTION,
    drugs: Path = _DRUGS_OPTION,
    diseases: Path = _DISEASES_OPTION,
    methods: str = typer.Option("", "--methods", help="Comma-separated subset of methods."),
    train_labels: str = typer.Option(
        None, "--train-labels", help="Cross-catalogue: train on this catalogue (name or TSV)."
    ),
    test_labels: str = typer.Option(
        None,
        "--test-labels",
        help="Cross-catalogue: evaluate on this catalogue's pairs the training catalogue lacks.",
    ),
    disease_map: Path = typer.Option(
        None, "--disease-map", help="TSV (name, disease) mapping catalogue disease names to EFO ids/terms."
    ),
    jobs: int = typer.Option(
        1, "--jobs", help="Folds scored at once, each in its own process (the scores do not depend on it)."
    ),
    force: bool = _FORCE_OPTION,
) -> None:
    """Grouped k-fold retrieval benchmark; writes metrics.tsv, per_disease.tsv, predictions, plots.

    With --train-labels A --test-labels B: train on catalogue A, evaluate on B's pairs that A does
    not contain (each disease's A-drugs removed from its candidates); the run also writes
    disease_mapping.tsv and unmapped_diseases.tsv.
    """
    from exprlab.datasets import load_benchmark  # deferred: keeps --help fast
    from exprlab.report import now_utc  # deferred: keeps --help fast
    from exprlab.workflows import run_benchmark, run_cross_catalogue  # deferred: keeps --help fast

    started = now_utc()
    check_count(folds, "--folds", minimum=2)
    check_count(jobs, "--jobs", minimum=1)
    cross = _cross_catalogue_pair(train_labels, test_labels, split)
    catalogues = [train_labels, test_labels] if cross else [labels]
    inputs = [drugs, diseases, disease_map, *(_label_file(c) for c in catalogues)]
    chosen = [m.strip() for m in methods.split(",") if m.strip()] or None
    with claim_output(out, kind="match-benchmark", inputs=inputs, force=force, folder=True):
        benches = [
            load_benchmark(c, drugs=drugs, diseases=diseases, disease_map=disease_map) for c in catalogues
        ]
        if cross:
            result = run_cross_catalogue(benches[0], benches[1], seed=seed, methods=chosen)
            split, folds, labels = "cross-catalogue", 1, f"{train_labels} -> {test_labels}"
        else:
            result = run_benchmark(
                benches[0], split=split, n_folds=folds, seed=seed, methods=chosen, n_jobs=jobs
            )
        _write_benchmark(result, out, split, folds, seed, labels, chosen, drugs, diseases, started)
    _print_benchmark(result, out)


def _cross_catalogue_pair(train_labels: str | None, test_labels: str | None, split: str) -> bool:
    """Whether ``match benchmark`` runs across catalogues (both options given, no --split)."""
    if train_labels is None and test_labels is None:
        return False
    if train_labels is None or test_labels is None:
        raise InvalidParameterError(
            "--train-labels and --test-labels go together",
            where="match benchmark",
            fix="give both catalogues, or neither (then --labels is used)",
        )
    if split != "disease":
        raise InvalidParameterError(
            f"--split {split} does not apply across catalogues",
            where="match benchmark",
            fix="drop --split: the test pairs are the test catalogue's pairs the training one lacks",
        )
    return True


def _write_benchmark(result, out, split, folds, seed, labels, chosen, drugs, diseases, started) -> None:
    """The run folder of ``match benchmark``, with its manifest."""
    from exprlab.report import input_provenance  # deferred: keeps --help fast
    from exprlab.workflows import write_benchmark  # deferred: keeps --help fast

    parameters = {"split": split, "folds": folds, "seed": seed, "labels": labels, "methods": chosen or "all"}
    provenance = input_provenance(_data_roles(labels, drugs, diseases))
    write_benchmark(result, out, parameters=parameters, provenance=provenance, started=started)


def _print_benchmark(result, out) -> None:
    """What ``match benchmark`` prints: data used, metrics table, gene dependence, MAP ratios."""
    from exprlab.evaluate import gene_dependence_words  # deferred: scikit-learn keeps --help slow

    rep = result.report
    print(
        f"{rep['n_indications_used']} indications used of {rep['n_indications_given']}; "
        f"{rep['n_rows_drug_without_signature']} rows name a drug without signature, "
        f"{rep['n_rows_disease_without_signature']} a disease without signature."
    )
    if rep.get("split") == "cross-catalogue":
        print(
            f"trained on {rep['train_labels']} ({rep['n_train_pairs']} pairs); tested on "
            f"{rep['test_labels']}: {rep['n_test_pairs_new']} of its {rep['n_test_pairs']} pairs are "
            f"new, over {rep['n_test_diseases']} diseases ({rep['n_shared_diseases']} diseases shared); "
            "disease mapping in disease_mapping.tsv, unmapped names in unmapped_diseases.tsv."
        )
    cols = [
        "method",
        "n_diseases",
        "val_map",
        "sel_map",
        "average_precision",
        "average_precision_lo",
        "average_precision_hi",
        "precision_at_10",
        "ndcg_at_10",
        "roc_auc",
    ]
    _print_table(result.metrics, cols)
    if "drug_r2" in result.metrics:
        _print_table(
            result.metrics,
            [
                "method",
                "drug_r2",
                "drug_r2_lo",
                "drug_r2_hi",
                "drug_only_ap",
                "remainder_ap",
                "remainder_ap_lo",
                "remainder_ap_hi",
            ],
        )
        for line in gene_dependence_words(result.metrics):
            print(line)
    if not result.ratios.empty:
        print("best methods chosen on selection MAP (a part of the training labels no method used):")
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


#: the files of the data directory each public input is read from (datasets/_indications.py,
#: _cmap02.py, _opentargets.py), so that a manifest records their sizes and checksums
_PUBLIC_FILES = {
    "opentargets": ("opentargets/drug_disease_indications.tsv",),
    "repodb": ("indications/repodb.tsv",),
    "pharmacotherapydb": ("indications/pharmacotherapydb_indications.tsv",),
    "drugcentral": ("indications/drugcentral_indications.tsv",),
    "drugs": ("cmap02/CmapUp100.gmt.xz", "cmap02/CmapDn100.gmt.xz", "cmap02/cmap_instances_02.txt"),
    "diseases": ("opentargets/disease_degs_expression_atlas.tsv.gz",),
}


def _public_roles(role: str, key: str) -> dict:
    """Role → file of the data directory for a public input (``drugs (CmapUp100.gmt.xz)`` ...)."""
    from exprlab.datasets import data_file  # deferred: keeps --help fast

    return {f"{role} ({Path(name).name})": data_file(name) for name in _PUBLIC_FILES[key]}


def _data_roles(labels: str, drugs: Path | None, diseases: Path | None) -> dict:
    """The data a matching command read, for its manifest: its files, public ones included.

    A catalogue name (``opentargets``, or ``A -> B`` across catalogues) and the public drug and
    disease signatures are recorded as the files of the data directory they were read from,
    with their sizes and checksums; anything else as given.
    """
    roles: dict = {}
    names = [n.strip() for n in str(labels).split("->")]
    for name in names:
        if name in _PUBLIC_FILES and name not in ("drugs", "diseases"):
            roles.update(_public_roles("labels", name))
        else:
            roles["labels" if len(names) == 1 else f"labels ({name})"] = name
    roles.update({"drugs": drugs} if drugs else _public_roles("drugs", "drugs"))
    roles.update({"diseases": diseases} if diseases else _public_roles("diseases", "diseases"))
    return roles


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
    """Print the drugs ranked for a disease signature, best first: rank, drug, score, popularity share.

    The popularity share (0-1) is how much of the drug's place the model's drug-only order
    explains; a warning goes to stderr when the whole list is mostly drug popularity.
    """
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
            roles = {"model": model, "disease": disease}
            roles.update({"drugs": drugs} if drugs else _public_roles("drugs", "drugs"))
            predict_output(out, ranked, started, params, roles)
    # a ranking that is mostly drug popularity is reported by the workflow's warning (stderr)
    for _, r in ranked.iterrows():
        print(f"{int(r['rank'])}\t{r['drug']}\t{r['score']:.4f}\t{r['popularity_share']:.3f}")
    if out is not None:
        print(f"wrote {out}")
