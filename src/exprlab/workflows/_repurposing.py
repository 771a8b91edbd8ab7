"""The drug-repurposing study: benchmark, train and predict with learned and connectivity methods.

One run of :func:`run_benchmark` takes a drug-disease triangle (disease contrast signatures,
drug perturbation signatures, known indications; the real one from
:func:`exprlab.datasets.repurposing_benchmark`, a simulated one from
:func:`exprlab.simulate._planted.simulate_planted`, or user files through
:func:`exprlab.datasets.load_benchmark`), splits the labels into grouped folds (held-out disease, held-out drug or
random pair), and scores every method on every test fold:

``random``
    the exact expected value of each metric under a random ranking (no sampling);
``popularity``
    drugs ranked by their number of indications among the fold's training labels only;
``ks``, ``wtcs``, ``xsum``, ``cosine``, ``overlap``
    connectivity scores of :func:`exprlab.match.score` used as reversal scores;
``paper``
    the network of arXiv:2303.11695 (:class:`~exprlab.models._matchers.PaperMatcher`);
``twotower``, ``twotower_ens``
    our reversal two-tower model (:class:`~exprlab.models._matchers.ReversalTwoTower`), one seed
    and a seed ensemble;
``transfer_cosine``, ``transfer_spearman``, ``transfer_learned``
    similarity transfer (docs/methods.md §2.6);
``ranker``
    the combined ranker (docs/methods.md §2.7).

The label-reading methods of a fold (transfer, learned, ranker) are scored by
:func:`exprlab.workflows._repurposing_methods.score_label_methods`.

Connectivity runs with the drug's up/down sets as the query and each disease contrast as the
ranked reference, turned into a reversal score (see :mod:`exprlab.datasets` and
:data:`exprlab.datasets.CONNECTIVITY`). Every method then uses the ranking rule of docs/methods.md §2: maximum over a drug's
perturbations, sum over a disease's contrasts.

Choices never read the test fold, and the choice of a method never reads what a method was
fitted on: each outer training part is cut once more (:func:`~exprlab.evaluate.inner_parts`, same
kind of split) into an inner training part, a tuning part (early stopping, settings, the
ranker's fit) and a selection part that no method uses; the "best" methods named in the ratios
are those with the highest mean selection MAP (docs/methods.md §2.4).
"""

from __future__ import annotations

import functools
import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._atomic import atomic_dir
from exprlab._logging import collect_log
from exprlab._runs import MATCH_BENCHMARK
from exprlab._validation import check_choice, check_choices, check_count
from exprlab.datasets import (
    CONNECTIVITY,
    check_labels,
    connectivity_scores,
    cosine_reversal,
    join_summary,
    load_benchmark,
    pair_data,
    standardise_features,
)
from exprlab.errors import FileAccessError, GeneSpaceError
from exprlab.evaluate import (
    GENE_DEPENDENCE,
    METRICS,
    Fold,
    Split,
    bootstrap_summary,
    choose_method,
    gene_dependence,
    inner_parts,
    inner_validation,
    label_matrix,
    make_folds,
    paired_tests,
    per_disease_metrics,
    random_per_disease,
    ratio_interval,
)
from exprlab.io import read
from exprlab.models import (
    MatcherArch,
    PairData,
    SeedEnsemble,
    SparseRows,
    TrainConfig,
    load_matcher,
    load_matcher_folder,
    rank_drugs,
    save_matcher,
    select_genes,
    train_matcher,
)
from exprlab.report import plot_metric_bars, plot_pr_curves, write_run_manifest
from exprlab.workflows._clusters import triangle_clusters
from exprlab.workflows._parallel import run_tasks
from exprlab.workflows._popularity_share import popularity_table, reference_drug_scores
from exprlab.workflows._repurposing_methods import (
    RANKER,
    TRANSFER,
    MethodScores,
    fixed_scores,
    popularity_scores,
    score_label_methods,
    tuning_map,
)

_log = logging.getLogger(__name__)

LEARNED = ("paper", "twotower", "twotower_ens", RANKER)
BASELINES = ("random", "popularity")
ALL_METHODS = (*BASELINES, *CONNECTIVITY, *TRANSFER, *LEARNED)

#: Architectures a matcher can be trained with.
ARCHS = get_args(MatcherArch)


@dataclass
class LearnedSettings:
    """Training settings of the learned methods (defaults fit the 10-minute real benchmark).

    Parameters
    ----------
    max_genes
        Genes kept for the models, chosen on training signatures only.
    paper, twotower
        Training configuration of each architecture.
    ensemble_seeds
        Members of the ``twotower_ens`` seed ensemble.
    validation_fraction
        Share of each training part held out, half for early stopping and tuning, half for
        choosing among methods (docs/methods.md §2.4).
    """

    max_genes: int = 2000
    paper: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            arch="paper", max_epochs=20, steps_per_epoch=12, batch_size=256, patience=4
        )
    )
    twotower: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            arch="twotower",
            max_epochs=30,
            steps_per_epoch=16,
            batch_size=256,
            lr=3e-3,
            patience=5,
        )
    )
    ensemble_seeds: int = 3
    validation_fraction: float = 0.2


# --------------------------------------------------------------------------- scoring
@dataclass
class BenchmarkResult:
    """Everything a benchmark run produces (written by :func:`write_benchmark`).

    Parameters
    ----------
    metrics
        One row per method: mean metrics with bootstrap intervals, the validation MAP and the
        selection MAP.
    per_disease
        Metrics of every method, fold and test disease.
    predictions
        Every scored (disease, drug) pair with its rank and whether it is indicated.
    tests
        Paired tests of the best learned method (by selection MAP) against the others.
    ratios
        MAP ratios of the best learned method to the best connectivity method and baselines,
        both chosen by selection MAP.
    validation
        Validation MAP (what each method was stopped or tuned on) and selection MAP (the part
        no method used, which chooses among methods) of every method and fold.
    report
        What was used and excluded (labels, folds, candidates, genes).
    timings
        Seconds spent per stage.
    log
        The run's ``exprlab`` log messages.
    training_history
        Per-epoch loss and validation MAP of every trained model.
    tables
        Further tables written as TSV files by name (the cross-catalogue disease mapping).
    """

    metrics: pd.DataFrame
    per_disease: pd.DataFrame
    predictions: pd.DataFrame
    tests: pd.DataFrame
    ratios: pd.DataFrame
    validation: pd.DataFrame
    report: dict
    timings: dict
    log: list = field(default_factory=list)
    training_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _keep_log(run):
    """Decorate a workflow so the ``exprlab`` messages of its run land in ``result.log``."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        with collect_log() as lines:
            result = run(*args, **kwargs)
        result.log = list(lines)
        return result

    return wrapper


@_keep_log
def run_benchmark(
    bench: Any,
    *,
    split: Split = "disease",
    n_folds: int = 5,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    settings: LearnedSettings | None = None,
    connectivity: dict[str, np.ndarray] | None = None,
    n_boot: int = 2000,
    truth: str | None = None,
    on_step: Callable[[str], None] | None = None,
    n_jobs: int = 1,
) -> BenchmarkResult:
    """Grouped k-fold retrieval benchmark of every method (see the module docstring).

    Parameters
    ----------
    bench
        A triangle with ``diseases``, ``drugs``, ``drug_sets``, ``indications``.
    split, n_folds, seed
        The outer split (:func:`~exprlab.evaluate._splits.make_folds`).
    methods
        Subset of :data:`ALL_METHODS` (default all).
    settings
        :class:`LearnedSettings`.
    connectivity
        Precomputed :func:`~exprlab.datasets.connectivity_scores` (computed here when needed and
        not given).
    n_boot
        Bootstrap resamples of the intervals.
    truth
        Optional boolean column of the indication table: when given, every indication trains
        the models but only the rows where it is True count as test positives (used with
        simulated data to score the recovery of the planted mechanisms only).
    on_step
        Called with a short text after each method and fold (progress).
    n_jobs
        Folds scored at once, each in its own worker process (1: one after another, here). The
        results do not depend on it: a fold's work is seeded by ``seed`` alone.

    Returns
    -------
    BenchmarkResult
        Metrics, per-disease values, predictions, tests, ratios, report and timings
        (``timings["worker_cpu"]``: CPU seconds spent in worker processes, 0 with ``n_jobs=1``).
    """
    methods = check_choices(methods, "methods", ALL_METHODS) if methods else list(ALL_METHODS)
    settings = settings or LearnedSettings()
    timings: dict[str, float] = {}
    labels, report, data, folds, connectivity = _prepare(
        bench, methods, split, n_folds, seed, connectivity, truth, timings
    )
    true_pairs = labels[labels[truth].astype(bool)] if truth is not None else None
    rows: list[pd.DataFrame] = []
    preds: list[pd.DataFrame] = []
    val_rows: list[dict[str, Any]] = []
    histories: list[pd.DataFrame] = []
    timings["learned"] = timings["worker_cpu"] = 0.0
    tasks = [(data, fold, methods, connectivity, settings, seed) for fold in folds]
    for (fold, scored, fold_histories, t_learn), cpu in run_tasks(
        _score_fold, tasks, n_jobs=n_jobs, description="benchmark folds"
    ):
        positives, candidates = fold.positives(), fold.candidates()
        if true_pairs is not None:
            positives &= label_matrix(true_pairs, fold.test_diseases, fold.test_drugs)
        histories.extend(fold_histories)
        timings["learned"] += t_learn
        timings["worker_cpu"] += cpu
        _fold_tables(fold, scored, positives, candidates, methods, seed, on_step, rows, val_rows, preds)
    report.update(
        split=split,
        n_folds=n_folds,
        seed=seed,
        n_candidates=len(set(data.instance_drug)),
        n_genes=len(data.genes),
        excluded_note="diseases without an indicated drug among a fold's candidates are not "
        "scored (their metrics are undefined); n_diseases in metrics.tsv counts those scored",
    )
    return _result(rows, val_rows, preds, histories, report, timings, n_boot=n_boot, seed=seed)


def _prepare(
    bench: Any,
    methods: Sequence[str],
    split: Split,
    n_folds: int,
    seed: int,
    connectivity: dict[str, np.ndarray] | None,
    truth: str | None,
    timings: dict[str, float],
) -> tuple[pd.DataFrame, dict[str, Any], PairData, list[Fold], dict[str, np.ndarray]]:
    """Checked labels and report, signatures with their pair features, folds, connectivity."""
    t0 = time.perf_counter()
    labels, report = check_labels(bench)
    report.update(join_summary(bench))
    if truth is not None:
        check_choice(truth, "truth", list(map(str, labels.columns)))
    data = pair_data(bench)
    all_drugs = sorted(set(data.instance_drug))
    labelled = sorted(set(labels["disease"]))
    clusters = None
    if split == "disease-cluster":
        clusters, report["clusters"] = triangle_clusters(bench, labelled)
    folds = make_folds(
        labels, split=split, n_folds=n_folds, seed=seed, drugs=all_drugs, diseases=labelled, clusters=clusters
    )
    timings["prepare"] = time.perf_counter() - t0
    conn_methods = [m for m in methods if m in CONNECTIVITY]
    t0 = time.perf_counter()
    if connectivity is None:
        connectivity = connectivity_scores(bench, conn_methods) if conn_methods else {}
    timings["connectivity"] = time.perf_counter() - t0
    features = {"cosine_reversal": cosine_reversal(data), **connectivity}
    extras, _ = standardise_features(features)
    data = replace(data, extras=extras, extra_names=tuple(features))
    return labels, report, data, folds, connectivity


def _score_fold(
    data: PairData,
    fold: Fold,
    methods: Sequence[str],
    connectivity: dict[str, np.ndarray],
    settings: LearnedSettings,
    seed: int,
) -> tuple[Fold, dict[str, tuple[pd.DataFrame, float, float]], list[pd.DataFrame], float]:
    """Test scores, validation MAP and selection MAP of every non-random method on one outer fold.

    Returns the fold, ``{method: (test scores, validation MAP, selection MAP)}``, the training
    histories and the seconds spent training the learned methods. The selection MAP is measured
    like the test MAP (ties broken at random, seeded). Runs in a worker process when folds are
    scored in parallel, so it depends on its arguments only.
    """
    parts = inner_parts(fold, fraction=settings.validation_fraction, seed=seed)
    tune, select = parts.tuning, parts.selection
    found: dict[str, MethodScores] = {}
    if "popularity" in methods:
        found["popularity"] = MethodScores(
            popularity_scores(fold), popularity_scores(select), tuning_map(popularity_scores(tune), tune)
        )
    for m in (m for m in methods if m in CONNECTIVITY):
        fixed = [fixed_scores(connectivity[m], data, f) for f in (fold, select, tune)]
        found[m] = MethodScores(fixed[0], fixed[1], tuning_map(fixed[2], tune))
    added, histories, t_learn, info = score_label_methods(
        data, fold, parts, methods, connectivity, settings, seed
    )
    found.update({m: v for m, v in added.items() if m in methods})
    if info:
        _log.info(
            "fold %d: label-reading methods chose %s", fold.index, json.dumps(_rounded(info), default=str)
        )
    positives, candidates = select.positives(), select.candidates()
    scored = {}
    for m, v in found.items():
        table, _ = per_disease_metrics(v.selection, positives, candidates=candidates, seed=seed)
        scored[m] = (v.test, v.val_map, float(table["average_precision"].mean()) if len(table) else np.nan)
    return fold, scored, histories, t_learn


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 4 significant digits, for a log line a person reads."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def _fold_tables(
    fold: Fold,
    scored: dict[str, tuple[pd.DataFrame, float, float]],
    positives: pd.DataFrame,
    candidates: pd.DataFrame,
    methods: Sequence[str],
    seed: int,
    on_step: Callable[[str], None] | None,
    rows: list[pd.DataFrame],
    val_rows: list[dict[str, Any]],
    preds: list[pd.DataFrame],
) -> None:
    """Append one fold's per-disease metrics, validation and selection MAPs and predictions to the run's lists."""
    if "random" in methods:
        table = random_per_disease(positives, candidates=candidates)
        rows.append(table.assign(method="random", fold=fold.index))
        val_rows.append({"method": "random", "fold": fold.index, "val_map": np.nan, "sel_map": np.nan})
    for name, (scores, val_map, sel_map) in scored.items():
        table, _ = per_disease_metrics(scores, positives, candidates=candidates, seed=seed)
        table = table.merge(
            gene_dependence(scores, positives, candidates=candidates, seed=seed), on="disease"
        )
        rows.append(table.assign(method=name, fold=fold.index))
        val_rows.append({"method": name, "fold": fold.index, "val_map": val_map, "sel_map": sel_map})
        preds.append(_long_predictions(scores, positives, candidates, name, fold.index))
        _log.info(
            "fold %d, %s: validation MAP %.4f, selection MAP %.4f, test MAP %.4f over %d diseases",
            fold.index,
            name,
            val_map,
            sel_map,
            table["average_precision"].mean(),
            len(table),
        )
        if on_step is not None:
            on_step(f"fold {fold.index}: {name}")


def _result(
    rows: list[pd.DataFrame],
    val_rows: list[dict[str, Any]],
    preds: list[pd.DataFrame],
    histories: list[pd.DataFrame],
    report: dict[str, Any],
    timings: dict[str, float],
    *,
    n_boot: int,
    seed: int,
) -> BenchmarkResult:
    """Summaries of all folds: bootstrap metrics, validation and selection MAP, paired tests and ratios."""
    per_disease = pd.concat(rows, ignore_index=True)
    per_disease = per_disease.reindex(
        columns=["method", "fold", "disease", *METRICS, *GENE_DEPENDENCE, "n_candidates", "n_positives"]
    )
    metrics = _with_gene_dependence(
        bootstrap_summary(per_disease, n_boot=n_boot, seed=seed), per_disease, n_boot, seed
    )
    validation = pd.DataFrame(val_rows, columns=["method", "fold", "val_map", "sel_map"])
    means = validation.groupby("method", sort=False)[["val_map", "sel_map"]].mean()
    metrics.insert(2, "val_map", metrics["method"].map(means["val_map"]).to_numpy())
    metrics.insert(3, "sel_map", metrics["method"].map(means["sel_map"]).to_numpy())
    tests, ratios = _comparisons(per_disease, means["sel_map"], n_boot=n_boot, seed=seed)
    timings["total"] = sum(v for k, v in timings.items() if k != "worker_cpu")
    return BenchmarkResult(
        metrics=metrics,
        per_disease=per_disease,
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        tests=tests,
        ratios=ratios,
        validation=validation,
        report=report,
        timings=timings,
        training_history=pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(),
    )


def _with_gene_dependence(
    metrics: pd.DataFrame, per_disease: pd.DataFrame, n_boot: int, seed: int
) -> pd.DataFrame:
    """The summary with the gene-dependence columns (docs/methods.md §2) of every ranked method.

    Summarised with the same bootstrap over diseases as the metrics; NaN for the exact random
    baseline, which ranks nothing.
    """
    ranked = per_disease.dropna(subset=["drug_r2", "remainder_ap"], how="all")
    if ranked.empty:
        return metrics.assign(**{c: np.nan for c in GENE_DEPENDENCE})
    with warnings.catch_warnings():
        # a method whose every disease has constant scores (popularity on unseen drugs) has no
        # defined R²: its summary is NaN, which is what numpy warns about
        warnings.simplefilter("ignore", RuntimeWarning)
        dep = bootstrap_summary(ranked, metrics=GENE_DEPENDENCE, n_boot=n_boot, seed=seed)
    return metrics.merge(dep.drop(columns="n_diseases"), on="method", how="left")


def _long_predictions(scores, positives, candidates, method: str, fold: int) -> pd.DataFrame:
    cand = candidates.reindex(index=scores.index, columns=scores.columns).fillna(False)
    s = scores.where(cand.astype(bool))
    long = s.stack().rename("score").reset_index()
    long.columns = ["disease", "drug", "score"]
    long["rank"] = long.groupby("disease")["score"].rank(ascending=False, method="first")
    pos = positives.reindex(index=scores.index, columns=scores.columns).fillna(False)
    lab = pos.stack().rename("indicated").reset_index()
    lab.columns = ["disease", "drug", "indicated"]
    long = long.merge(lab, on=["disease", "drug"], how="left")
    long.insert(0, "fold", fold)
    long.insert(0, "method", method)
    long["rank"] = long["rank"].astype(np.int32)
    return long


def _comparisons(per_disease: pd.DataFrame, selection: pd.Series, *, n_boot: int, seed: int):
    """Paired tests against the best learned method and the headline MAP ratios.

    "Best" = highest mean selection MAP (:func:`~exprlab.evaluate.choose_method`): measured on
    the selection part, which no method was trained, stopped, tuned or fitted on, and never on
    the test folds.
    """
    present = [m for m in ALL_METHODS if m in set(per_disease["method"])]
    learned = choose_method(selection, [m for m in LEARNED if m in present])
    ref = learned or choose_method(selection, [m for m in present if m != "random"])
    tests = pd.DataFrame()
    if ref is not None:
        tests = pd.concat(
            [paired_tests(per_disease, ref, metric=m) for m in ("average_precision", "ndcg_at_10")],
            ignore_index=True,
        )
    ratios = []
    if learned is not None:
        best_conn = choose_method(selection, [m for m in CONNECTIVITY if m in present])
        others = [m for m in (best_conn, "popularity", "random") if m is not None and m in present]
        ratios = [ratio_interval(per_disease, learned, other, n_boot=n_boot, seed=seed) for other in others]
    return tests, pd.DataFrame(ratios)


# --------------------------------------------------------------------------- writing
def write_benchmark(
    result: BenchmarkResult,
    out: str | Path,
    *,
    parameters: dict[str, Any] | None = None,
    provenance: list[Any] | dict[str, Any] | None = None,
    started: str | None = None,
) -> Path:
    """Write metrics.tsv, per_disease.tsv, predictions.parquet, tests, ratios, plots, report.

    With learned methods, ``training_history.tsv`` holds every trained model's per-epoch loss and
    validation MAP (``chosen`` marks the early-stopping epoch), so the optimism of a validation
    MAP picked as a maximum over epochs can be seen next to the test MAP. ``validation.tsv``
    holds every method's validation MAP and selection MAP per fold. The whole directory is
    written atomically: a failed run leaves no partial output.

    Parameters
    ----------
    result
        What :func:`run_benchmark` returned.
    out
        The run directory (replaced atomically).
    parameters, provenance
        What ran, on which data: they go into the run manifest ``run.json`` that
        ``exprlab report`` reads.
    started
        Start time of the run (UTC, ISO format) for the manifest.

    Returns
    -------
    pathlib.Path
        The run directory.
    """
    out = Path(out)
    with atomic_dir(out) as tmp:
        write_run_manifest(
            tmp,
            "match-benchmark",
            parameters or {},
            provenance,
            started=started,
            summary={"timings_s": result.timings},
        )
        result.metrics.to_csv(tmp / "metrics.tsv", sep="\t", index=False, float_format="%.6g")
        result.per_disease.to_csv(tmp / "per_disease.tsv", sep="\t", index=False, float_format="%.6g")
        result.predictions.to_parquet(tmp / "predictions.parquet", index=False)
        result.tests.to_csv(tmp / "paired_tests.tsv", sep="\t", index=False, float_format="%.6g")
        result.ratios.to_csv(tmp / "ratios.tsv", sep="\t", index=False, float_format="%.6g")
        result.validation.to_csv(tmp / MATCH_BENCHMARK.validation, sep="\t", index=False, float_format="%.6g")
        if not result.training_history.empty:
            result.training_history.to_csv(
                tmp / "training_history.tsv", sep="\t", index=False, float_format="%.6g"
            )
        for name, table in result.tables.items():
            table.to_csv(tmp / name, sep="\t", index=False)
        (tmp / "report.json").write_text(
            json.dumps({"report": result.report, "timings": result.timings}, indent=2, default=str)
        )
        if result.log:
            (tmp / "exprlab.log").write_text("\n".join(result.log) + "\n", encoding="utf-8")
        if "method" in result.predictions and not result.predictions.empty:
            # the random baseline is exact (no ranked pairs): with it alone there is no curve
            plot_pr_curves(result.predictions, tmp / "pr_curves.png")
        plot_metric_bars(result.metrics, tmp / "metric_bars.png")
    return out


# --------------------------------------------------------------------------- train / predict
def _whole_fold(labels: pd.DataFrame, all_drugs: list[str]) -> Fold:
    """Every label as the training part of one held-out-disease fold (nothing held out)."""
    return Fold(
        "disease",
        0,
        labels,
        labels.iloc[:0],
        tuple(sorted(set(labels["disease"]))),
        tuple(all_drugs),
        (),
        tuple(all_drugs),
    )


def train_models(
    bench: Any,
    out: str | Path,
    *,
    arch: MatcherArch = "twotower",
    n_seeds: int = 3,
    seed: int = 0,
    settings: LearnedSettings | None = None,
) -> Path:
    """Train a matcher (or a seed ensemble) on all labels and write a model directory.

    Early stopping uses a held-out-disease validation part of the labels. The directory holds
    one weight file per seed, the gene space, the pair-feature standardisation and a JSON
    summary; :func:`predict_drugs` reads it.

    Parameters
    ----------
    bench
        The triangle whose indications are the labels.
    out
        The model directory (replaced atomically).
    arch
        ``"paper"`` or ``"twotower"``.
    n_seeds
        Ensemble size: one model per seed ``seed``, ``seed + 1`` ...
    seed
        The first seed (also the seed of the validation split).
    settings
        :class:`LearnedSettings` (training configuration of each architecture).

    Returns
    -------
    pathlib.Path
        The model directory.
    """
    arch = check_choice(arch, "arch", ARCHS)
    n_seeds = check_count(n_seeds, "n_seeds", minimum=1)
    settings = settings or LearnedSettings()
    labels, report = check_labels(bench)
    data = pair_data(bench)
    all_drugs = sorted(set(data.instance_drug))
    features = {"cosine_reversal": cosine_reversal(data)}
    extras, stats = standardise_features(features)
    data = replace(data, extras=extras, extra_names=tuple(features))
    whole = _whole_fold(labels, all_drugs)
    inner = inner_validation(whole, fraction=settings.validation_fraction, seed=seed)
    genes = select_genes(
        data,
        contrast_rows=data.contrast_rows(whole.train_diseases),
        instance_rows=data.instance_rows(all_drugs),
        max_genes=settings.max_genes,
    )
    sub = data.subset_genes(genes)
    base = settings.paper if arch == "paper" else settings.twotower
    out = Path(out)
    work = {"arch": arch, "seed": seed, "genes": list(map(str, sub.genes)), "settings": repr(base)}
    with atomic_dir(out, resumable=True) as tmp:
        _start_or_resume(tmp, work)
        summary = [_train_member(sub, inner, replace(base, seed=seed + k), tmp, k) for k in range(n_seeds)]
        for stale in tmp.glob("model_*.pt"):  # members of an earlier call with more seeds
            if int(stale.stem.split("_")[1]) >= n_seeds:
                stale.unlink()
        (tmp / "work.json").unlink()
        (tmp / "genes.txt").write_text("\n".join(sub.genes) + "\n")
        (tmp / "model.json").write_text(
            json.dumps(
                {
                    "architecture": arch,
                    "training": _training_record(settings, base),
                    "members": summary,
                    "features": {k: list(v) for k, v in stats.items()},
                    "labels": report,
                },
                indent=2,
                default=str,
            )
        )
    return out


def _training_record(settings: LearnedSettings, base: Any) -> dict:
    """The training settings a model was trained with, as its ``model.json`` records them."""
    return {
        "max_genes": settings.max_genes,
        "validation_fraction": settings.validation_fraction,
        **asdict(base),
    }


def _start_or_resume(work_dir: Path, work: dict) -> None:
    """Keep an interrupted training's checkpoints only when it trained the same model on the same genes."""
    marker = work_dir / "work.json"
    if marker.is_file():
        try:
            same = json.loads(marker.read_text()) == work
        except ValueError:
            same = False
        if same:
            _log.info("resuming the interrupted training in %s", work_dir)
            return
    for entry in work_dir.iterdir():  # another model's leftovers: start over
        if entry.is_file():
            entry.unlink()
    marker.write_text(json.dumps(work))


def _train_member(sub: Any, inner: Any, cfg: Any, work_dir: Path, k: int) -> dict:
    """Train (or resume, or reuse) ensemble member ``k``; its summary row."""
    model_file = work_dir / f"model_{k}.pt"
    if model_file.is_file():
        try:
            _, meta = load_matcher(model_file)
        except FileAccessError:
            meta = {}
        if meta.get("train_config") == asdict(cfg):
            return {"seed": cfg.seed, "best_epoch": meta["best_epoch"], "val_map": meta["val_map"]}
    checkpoint = work_dir / f"checkpoint_{k}.pt"
    res = train_matcher(sub, inner, inner, cfg, checkpoint=checkpoint)
    save_matcher(
        res.model, model_file, train_config=asdict(cfg), best_epoch=res.best_epoch, val_map=res.best_val_map
    )
    checkpoint.unlink()
    return {"seed": cfg.seed, "best_epoch": res.best_epoch, "val_map": res.best_val_map}


def _query_data(disease: ad.AnnData, bench: Any, meta: dict[str, Any]) -> PairData:
    """A disease signature against every drug of the library, on the library's gene space.

    Genes the library does not know are dropped; the cosine reversal is standardised with the
    statistics the model was trained with.
    """
    space = bench.drugs.var_names
    shared = space.intersection(disease.var_names.astype(str))
    if len(shared) < 5:
        raise GeneSpaceError(
            f"only {len(shared)} genes of the disease signature are in the drug gene space",
            where="disease signature",
            fix="use gene symbols (the model's gene space) as the signature's gene ids",
        )
    X = sp.csr_matrix(disease[:, shared].X, dtype=np.float32)
    cols = space.get_indexer(shared)
    full = sp.csr_matrix((X.data, cols[X.indices], X.indptr), shape=(X.shape[0], len(space)))
    data = PairData(
        genes=list(map(str, space)),
        diseases=SparseRows(full),
        drugs=SparseRows(sp.csr_matrix(bench.drugs.X, dtype=np.float32)),
        contrast_disease=np.array(["query"] * X.shape[0]),
        instance_drug=bench.drugs.obs["drug"].astype(str).to_numpy(),
    )
    mu, sd = meta["features"]["cosine_reversal"]
    extras = ((cosine_reversal(data) - mu) / sd)[None].astype(np.float32)
    return replace(data, extras=extras, extra_names=("cosine_reversal",))


def predict_drugs(
    model: str | Path, disease: ad.AnnData | str | Path, *, bench: Any = None, top: int = 50
) -> pd.DataFrame:
    """Rank every candidate drug for one disease signature with a trained model directory.

    Parameters
    ----------
    model
        The directory written by :func:`train_models`.
    disease
        An AnnData of one or more contrasts of the same disease, or a file path read with
        :func:`exprlab.io.read`; genes the model does not know are ignored.
    bench
        The drug library (default the public benchmark, :func:`exprlab.datasets.load_benchmark`).
    top
        Number of best drugs returned.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``drug``, ``score``, ``drug_only`` and ``popularity_share`` of the ``top``
        best drugs, best first; ``attrs["drug_r2"]`` is the share of the query's score variance
        explained by the model's drug-only score (its mean over the library's labelled
        diseases) and ``attrs["mostly_popularity"]`` flags R² above
        :data:`exprlab.evaluate.MOSTLY_DRUG_ONLY` (a warning is logged too; see
        :mod:`exprlab.workflows._popularity_share`).
    """
    model_dir = Path(model)
    meta_path = model_dir / "model.json"
    if not meta_path.is_file():
        raise FileAccessError(
            "not a model directory (model.json is missing)",
            where=model_dir,
            fix="pass the --out directory of `exprlab match train`",
        )
    top = check_count(top, "top", minimum=1)
    meta, members, genes = load_matcher_folder(model_dir)
    if not isinstance(disease, ad.AnnData):
        disease = read(disease)
    bench = bench if bench is not None else load_benchmark()
    data = _query_data(disease, bench, meta)
    sub = data.subset_genes(bench.drugs.var_names.get_indexer(pd.Index(genes)))
    model_genes = bench.drugs.var_names.get_indexer(pd.Index(genes))
    drugs = sorted(set(data.instance_drug))
    ensemble = SeedEnsemble(members)
    scores = rank_drugs(ensemble, sub, ["query"], drugs).iloc[0]
    reference = reference_drug_scores(
        ensemble, bench, lambda dis: _query_data(dis, bench, meta), model_genes, drugs
    )
    return popularity_table(scores, reference, top)
