"""The explanation-evaluation study of arXiv:2303.11336, end to end and resumable.

For every dataset (a simulation preset or an expression file with labels), every model and every
run: split 60/40 (stratified, seeded by the run), train the classifier, explain the correctly
classified test examples with Integrated Gradients (softmax probability of the true class,
baseline = training mean, i.e. zero after z-scoring), then measure

* balanced test accuracy and IG completeness;
* feature agreement with the simulated informative genes, local and global (summed
  attributions; also the paper code's pooled variant);
* prediction gaps PGI / PGU (local: each example's ranking; global: its class's ranking) and
  PGR (30 random orders);
* optionally keep/remove retraining curves against several random gene sets (``curve_n_random``
  per K and run), and pathway-level scores.

Each finished run writes ``runs/<dataset>/<model>/run<r>/metrics.json`` last (atomically), so an
interrupted study resumes where it stopped. ``summary.tsv`` has one row per dataset × model with
the mean and sd over runs of every metric (``balanced_accuracy_mean``, ``fa_local_mean``,
``fa_global_mean``, ``pgi_local_mean`` …), and the stability of the global rankings across runs;
``stability_models.tsv`` compares the models' rankings run by run; ``curves_summary.tsv`` gives
every point of the keep/remove curves its mean and 95% interval over runs. File names come from the
run-folder contract (:data:`exprlab._runs.XAI_STUDY`).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from exprlab._atomic import atomic_path
from exprlab._defaults import N_STEPS
from exprlab._logging import log_to
from exprlab._progress import track
from exprlab._runs import XAI_STUDY
from exprlab._validation import check_choice, check_choices, check_count, check_interval
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.evaluate import (
    completeness_stats,
    correct_mask,
    feature_agreement,
    normalize_attributions,
    prediction_gaps,
    topk_stability,
)
from exprlab.explain import (
    PredictionGapModel,
    class_profiles,
    diffuse_attributions,
    diffusion_operator,
    global_rankings,
    integrated_gradients,
    pathway_smooth,
    shrink_to_class,
)
from exprlab.io import read, read_h5ad
from exprlab.models import MODEL_KINDS, ClassifierArch, ExpressionClassifier
from exprlab.report import curve_summary, file_provenance, write_run_manifest, write_study_plots
from exprlab.simulate import is_simulation, simulate_lda
from exprlab.workflows._retraining import retraining_curves

_log = logging.getLogger(__name__)

__all__ = [
    "SIMULATIONS",
    "SUMMARY_METRICS",
    "StudyConfig",
    "run_xai_study",
    "load_study_dataset",
    "summarize_runs",
    "summarize_curves",
    "model_agreement",
]

#: simulation presets a study accepts as dataset names (name → :func:`simulate_lda` preset)
SIMULATIONS = {"simu1": "SIMU1", "simu2": "SIMU2", "simua": "SimuA", "simub": "SimuB", "simuc": "SimuC"}
#: per-run metrics summarised (mean and sd over runs) in ``summary.tsv``
#: the study trains every model with the paper's schedule and loss (docs/methods.md §3)
PAPER_TRAINING: dict[str, Any] = {"training": "paper", "class_weight": "none"}

SUMMARY_METRICS = (
    "balanced_accuracy",
    "fa_local",
    "fa_global",
    "fa_global_pooled",
    "pgi_local",
    "pgu_local",
    "pgi_global",
    "pgu_global",
    "pgr",
    "completeness_delta_mean",
    "n_correct",
    "seconds",
)


@dataclass
class StudyConfig:
    """Options of :func:`run_xai_study` (the paper's defaults, except ``n_steps``).

    Parameters
    ----------
    models
        Classifier architectures to train (:data:`exprlab.models.MODEL_KINDS`).
    runs
        Runs (splits and training seeds) per dataset and model.
    n_steps
        Integrated Gradients quadrature steps (default :data:`exprlab.explain.N_STEPS`; the paper
        uses 3,000).
    n_random
        Random orders for PGR.
    pgr_subsample
        Examples (class-stratified draw) used for PGR only; ``None`` = all.
    curve_tops
        Top sizes K of the keep/remove retraining curves; empty = no curves.
    curve_n_random
        Random gene sets (repeats) per K and run of the keep/remove curves, the random band.
    label
        obs column holding the labels of dataset files.
    log2
        log2(x + 1) before z-scoring; ``None`` = on for simulations (presets, and files written
        by ``exprlab simulate``), off for other files.
    test_size
        Fraction of the examples held out for testing.
    seed
        Seed of run 0 (run r uses seed + r).
    data_seed
        Seed of the simulated data.
    n_per_class, n_genes
        Scale simulations down (samples per class, genes).
    sim_params
        Further options of :func:`exprlab.simulate.simulate_lda`.
    stability_top
        Size of the top gene sets compared across runs and models.
    variants
        Also score post-hoc explanation pipelines (absolute, class shrinkage, pathway, diffusion).
    variant_train_per_class
        Training examples per class explained for the class profiles of the variants.
    variant_diffusion_samples
        Training examples the variants' diffusion operator is learnt on.
    """

    models: tuple[ClassifierArch, ...] = ("lr", "mlp")
    runs: int = 10
    n_steps: int = N_STEPS
    n_random: int = 30
    pgr_subsample: int | None = 330
    curve_tops: tuple[int, ...] = ()
    curve_n_random: int = 3
    label: str | None = None
    log2: bool | None = None
    test_size: float = 0.4
    seed: int = 0
    data_seed: int = 0
    n_per_class: int | None = None
    n_genes: int | None = None
    sim_params: dict = field(default_factory=dict)
    stability_top: int = 100
    variants: bool = False
    variant_train_per_class: int = 20
    variant_diffusion_samples: int = 500


def load_study_dataset(name: str, config: StudyConfig) -> tuple[Any, str, str, dict | None, bool]:
    """Load a dataset of the study: a simulation preset or an expression file with labels.

    Simulated presets (simu1, simu2, simua, simub, simuc) are generated with ``data_seed``; any
    other name is a file read by :func:`exprlab.io.read` with labels in ``config.label``.

    Parameters
    ----------
    name
        A simulation preset or the path of an expression file.
    config
        The study's options (simulation sizes and seed, label column).

    Returns
    -------
    tuple
        (AnnData, label column, label column of the ground truth, ground truth or None,
        default of ``log2``).
    """
    key = str(name).lower()
    if key in SIMULATIONS:
        adata = simulate_lda(
            SIMULATIONS[key],
            n_per_class=config.n_per_class,
            n_genes=config.n_genes,
            seed=config.data_seed,
            **config.sim_params,
        )
        if "subclass" in adata.obs:
            return adata, "class", "subclass", adata.uns["ground_truth_subclass"], True
        return adata, "class", "class", adata.uns["ground_truth"], True
    path = Path(name)
    if not path.exists():
        raise InputDataError(
            f"{name!r} is neither a simulation preset nor an existing file",
            where="--data",
            fix=f"use one of {', '.join(SIMULATIONS)} or the path of an expression file",
        )
    adata = read(path)
    label = config.label
    if label is None:
        raise InputDataError(
            "a dataset file needs the name of its label column",
            where=str(path),
            fix="pass --label KEY (an obs column)",
        )
    if label not in adata.obs.columns:
        raise InputDataError(
            f"the dataset has no label column {label!r} (obs columns: "
            f"{', '.join(map(str, adata.obs.columns)) or 'none'})",
            where=str(path),
            fix="pass --label with one of the obs columns, or add the labels to the file",
        )
    truth = adata.uns.get("ground_truth")
    # a file written by `exprlab simulate` is preprocessed like the preset it came from, so the
    # same data gives the same study whether it is named by preset or read from its file
    return adata, label, label, truth, is_simulation(adata)


def _split(labels: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(labels.size)
    counts = pd.Series(labels).value_counts()
    stratify = labels if counts.min() >= 2 else None
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(tr), np.sort(te)


def _write_json(obj: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=float))


def _write_tsv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False)


@dataclass
class _Trained:
    """One run's classifier, its test predictions and the correctly classified test examples."""

    clf: ExpressionClassifier
    train: Any
    test: Any
    train_labels: np.ndarray
    test_labels: np.ndarray
    ok: np.ndarray  # correctly classified test examples
    z: np.ndarray  # standardised test inputs
    y: np.ndarray  # target index of each test example


def _train(adata, label: str, arch: ClassifierArch, run: int, run_seed: int, config: StudyConfig, log2: bool):
    """Split, train and predict; returns the trained run and its accuracy metrics."""
    labels = np.asarray(adata.obs[label]).astype(str)
    tr, te = _split(labels, config.test_size, run_seed)
    train, test = adata[tr], adata[te]
    clf = ExpressionClassifier(arch, seed=run_seed, log2=log2, **PAPER_TRAINING).fit(train, label)
    z = clf.transform(test)
    y_lab = labels[te]
    y = np.array([clf.class_index(c) for c in y_lab])
    with torch.no_grad():
        logits = clf.module_.eval()(torch.from_numpy(z)).double()
    pred = np.asarray(clf.classes_)[logits.argmax(dim=1).numpy()].astype(str)
    metrics: dict = {
        "dataset_run": run,
        "seed": run_seed,
        "balanced_accuracy": 100 * balanced_accuracy_score(y_lab, pred),
    }
    ok = correct_mask(y_lab, pred)
    metrics["n_test"] = int(te.size)
    metrics["n_correct"] = int(ok.sum())
    if ok.sum() == 0:
        raise InputDataError(
            "the model classified no test example correctly",
            where=f"{arch} run {run}",
            fix="check the labels and the data; explanations need correct predictions",
        )
    return _Trained(clf, train, test, labels[tr], y_lab, ok, z, y), metrics


def _completeness(t: _Trained, attr: np.ndarray) -> dict[str, float]:
    """How far the attributions are from summing to f(x) − f(baseline)."""
    zc, yc = t.z[t.ok], t.y[t.ok]
    with torch.no_grad():
        prob_x = torch.softmax(t.clf.module_(torch.from_numpy(zc)).double(), 1)
        prob_b = torch.softmax(t.clf.module_(torch.zeros(1, t.z.shape[1])).double(), 1)
    gaps = (prob_x.gather(1, torch.from_numpy(yc)[:, None])[:, 0] - prob_b[0, torch.from_numpy(yc)]).numpy()
    comp = completeness_stats(attr, gaps)
    return {
        "completeness_delta_mean": comp["delta_mean"],
        "completeness_delta_max": comp["delta_max"],
        "completeness_share_above_0.01": comp["share_above_threshold"],
    }


def _agreement(
    adata, t: _Trained, attr, fa_key: str, truth, run_seed: int, run_dir: Path, config: StudyConfig
) -> dict[str, float]:
    """Feature agreement with the ground truth (and of the variants); writes its per-class table."""
    genes = np.asarray(adata.var_names)
    fa_labels = np.asarray(t.test.obs[fa_key]).astype(str)[t.ok]
    fa = feature_agreement(attr, fa_labels, truth, var_names=genes)
    fap = feature_agreement(attr, fa_labels, truth, var_names=genes, global_method="pooled")
    metrics = {
        "fa_local": 100 * fa.local,
        "fa_global": 100 * fa.global_,
        "fa_global_pooled": 100 * fap.global_,
    }
    table = fa.per_class.rename(columns={"fa_global": "fa_global_sum"})
    table["fa_global_pooled"] = fap.per_class["fa_global"].to_numpy()
    _write_tsv(table, run_dir / XAI_STUDY.fa_per_class)
    if config.variants:
        metrics.update(
            _variant_agreements(
                adata,
                t.train,
                t.clf,
                attr,
                fa_labels,
                t.test_labels[t.ok],
                truth,
                t.train_labels,
                run_seed,
                config,
            )
        )
    return metrics


def _one_run(
    adata,
    label: str,
    fa_key: str,
    truth,
    arch: ClassifierArch,
    run: int,
    run_dir: Path,
    config: StudyConfig,
    log2: bool,
) -> dict:
    """Train, explain and measure one model on one split; writes the run's tables."""
    start = time.perf_counter()
    run_seed = config.seed + run
    t, metrics = _train(adata, label, arch, run, run_seed, config, log2)
    zc, yc = t.z[t.ok], t.y[t.ok]
    attr = integrated_gradients(t.clf.module_, zc, None, target=yc, n_steps=config.n_steps)
    metrics.update(_completeness(t, attr))
    if truth is not None:
        metrics.update(_agreement(adata, t, attr, fa_key, truth, run_seed, run_dir, config))
    class_scores = global_rankings(attr, t.test_labels[t.ok])
    pg = prediction_gaps(
        PredictionGapModel(t.clf.module_, np.zeros(zc.shape[1])),
        zc,
        yc,
        attr,
        labels=t.test_labels[t.ok],
        class_scores=class_scores,
        n_random=config.n_random,
        seed=run_seed,
        random_subsample=config.pgr_subsample,
    )
    metrics.update({k: v for k, v in pg.items() if k != "path"})
    metrics["pg_path"] = pg["path"]
    names = sorted(class_scores)
    with atomic_path(run_dir / XAI_STUDY.global_scores) as tmp:
        np.savez_compressed(
            tmp, classes=np.array(names), scores=np.stack([class_scores[c] for c in names]).astype(np.float32)
        )
    tops = [k for k in config.curve_tops if k < adata.n_vars]
    if tops:
        curves = retraining_curves(
            t.train,
            t.test,
            label,
            class_scores,
            tops,
            arch=arch,
            n_random=config.curve_n_random,
            seed=run_seed,
            log2=log2,
            **PAPER_TRAINING,
        )
        _write_tsv(curves, run_dir / XAI_STUDY.curves)
    metrics["seconds"] = time.perf_counter() - start
    return metrics


def _variant_agreements(
    adata, train, clf, attr, fa_labels, classes, truth, train_labels, run_seed: int, config: StudyConfig
) -> dict[str, float]:
    """FA of post-hoc explanation pipelines on the same attributions (the model is unchanged).

    * ``absolute``: rank by |attribution|;
    * ``shrinkW``: (1 − W)·â + W·(class profile), the profile being the mean normalised IG of
      the class over a stratified subsample of correctly classified *training* examples;
    * ``pathway``: each gene scored by the best mean attribution of the pathways it belongs to
      (simulated pathways from ``varm["pathway_membership"]``);
    * ``diffusion``: attributions times the correlation-graph diffusion operator learnt on a
      subsample of the standardised training data;
    * combinations ``shrinkW+pathway``, ``shrinkW+diffusion``.
    """
    rng = np.random.default_rng(run_seed + 10_000)
    genes = np.asarray(adata.var_names)
    picks = []
    for cls in np.unique(train_labels):
        idx = np.flatnonzero(train_labels == cls)
        picks.append(rng.choice(idx, size=min(config.variant_train_per_class, idx.size), replace=False))
    sub = np.sort(np.concatenate(picks))
    z_tr = clf.transform(train[sub])
    y_tr = np.array([clf.class_index(c) for c in train_labels[sub]])
    pred_tr = np.asarray(clf.classes_)[np.argmax(clf.decision_function(train[sub]), 1)]
    ok_tr = correct_mask(train_labels[sub], pred_tr)
    attr_tr = integrated_gradients(clf.module_, z_tr[ok_tr], None, target=y_tr[ok_tr], n_steps=config.n_steps)
    profiles = class_profiles(attr_tr, train_labels[sub][ok_tr])
    base = normalize_attributions(attr)
    pipelines: dict[str, tuple[np.ndarray, str]] = {"absolute": (base, "absolute")}
    shrunk = {}
    for w in (0.25, 0.5, 0.75, 1.0):
        shrunk[w] = shrink_to_class(base, classes, profiles, weight=w)
        pipelines[f"shrink{w:g}"] = (shrunk[w], "signed")
    if "pathway_membership" in adata.varm:
        member = sp.csr_matrix(adata.varm["pathway_membership"])
        pipelines["pathway"] = (pathway_smooth(base, member), "signed")
        for w in (0.5, 1.0):
            pipelines[f"shrink{w:g}+pathway"] = (pathway_smooth(shrunk[w], member), "signed")
    take = rng.choice(train.n_obs, size=min(config.variant_diffusion_samples, train.n_obs), replace=False)
    operator = diffusion_operator(clf.transform(train[np.sort(take)]))
    pipelines["diffusion"] = (diffuse_attributions(base, operator), "signed")
    for w in (0.5, 1.0):
        pipelines[f"shrink{w:g}+diffusion"] = (diffuse_attributions(shrunk[w], operator), "signed")
    out = {}
    for name, (values, ranking) in pipelines.items():
        fa = feature_agreement(values, fa_labels, truth, var_names=genes, ranking=ranking)  # type: ignore[arg-type]
        out[f"fa_local__{name}"] = 100 * fa.local
        out[f"fa_global__{name}"] = 100 * fa.global_
    return out


def _class_scores(path: Path) -> dict[str, np.ndarray]:
    """A run's ``global_scores.npz`` read once: class name → its global gene scores."""
    with np.load(path) as z:
        return dict(zip(z["classes"].tolist(), z["scores"], strict=True))


def _ranking_agreement(runs: list[dict[str, np.ndarray]], top: int) -> tuple[float, float] | None:
    """Mean over classes of the mean pairwise top-gene Jaccard / Kendall tau of global rankings.

    ``runs`` holds two or more runs' :func:`_class_scores`; only the classes every run explained
    are compared.
    """
    classes = sorted(set.intersection(*[set(run) for run in runs]))
    jac, tau = [], []
    for cls in classes:
        vecs = [run[cls] for run in runs]
        table = topk_stability(vecs, min(top, vecs[0].size))
        jac.append(table["jaccard"].mean())
        tau.append(table["kendall_tau"].mean())
    return (float(np.mean(jac)), float(np.mean(tau))) if jac else None


def _stability(model_dir: Path, top: int) -> dict[str, float]:
    """Agreement of one model's per-class global rankings across its runs (seeds and splits)."""
    files = XAI_STUDY.run_files(model_dir, XAI_STUDY.global_scores)
    if len(files) < 2:
        return {}
    agreement = _ranking_agreement([_class_scores(f) for f in files], top)
    if agreement is None:
        return {}
    return {"stability_jaccard": agreement[0], "stability_kendall_tau": agreement[1]}


def _pair_agreement(root: Path, dataset: str, a: str, b: str, top: int) -> list[tuple[float, float]]:
    """Agreement of two models' rankings, one entry per run both finished."""
    names = [
        {
            f.parent.name
            for f in XAI_STUDY.run_files(XAI_STUDY.model_dir(root, dataset, m), XAI_STUDY.global_scores)
        }
        for m in (a, b)
    ]
    pairs = [
        _ranking_agreement(
            [
                _class_scores(XAI_STUDY.model_dir(root, dataset, m) / r / XAI_STUDY.global_scores)
                for m in (a, b)
            ],
            top,
        )
        for r in sorted(names[0] & names[1])
    ]
    return [p for p in pairs if p is not None]


def model_agreement(
    out: Path, datasets: Sequence[str], models: Sequence[str], *, top: int = 100
) -> pd.DataFrame:
    """Agreement between models: for each pair, the same run's (same split) global rankings.

    Low values mean the two models explain the same data with different genes even when both
    are accurate.

    Parameters
    ----------
    out
        The study folder.
    datasets
        Dataset names as given to :func:`run_xai_study`.
    models
        Architectures compared pairwise.
    top
        Size of the top gene sets compared.

    Returns
    -------
    pandas.DataFrame
        One row per dataset × model pair (``stability_models.tsv``): mean over matched runs of
        the per-class top-gene Jaccard and Kendall tau.
    """
    rows = []
    for ds in datasets:
        for a, b in combinations(models, 2):
            pairs = _pair_agreement(Path(out), _slug(ds), a, b, top)
            if pairs:
                rows.append(
                    {
                        "dataset": _slug(ds),
                        "model_a": a,
                        "model_b": b,
                        "k": top,
                        "n_runs": len(pairs),
                        "jaccard": float(np.mean([p[0] for p in pairs])),
                        "kendall_tau": float(np.mean([p[1] for p in pairs])),
                    }
                )
    return pd.DataFrame(rows)


def summarize_runs(
    out: Path, datasets: Sequence[str], models: Sequence[str], *, top: int = 100
) -> pd.DataFrame:
    """Summarise the finished runs: mean and sd over runs of every metric (``summary.tsv``).

    Parameters
    ----------
    out
        The study folder.
    datasets
        Dataset names as given to :func:`run_xai_study`.
    models
        Architectures summarised.
    top
        Size of the top gene sets compared for the stability across runs.

    Returns
    -------
    pandas.DataFrame
        One row per dataset × model with finished runs.
    """
    rows = []
    for dataset, model, model_dir in _model_dirs(out, datasets, models):
        runs = [json.loads(f.read_text()) for f in XAI_STUDY.run_files(model_dir, XAI_STUDY.run_metrics)]
        if not runs:
            continue
        table = pd.DataFrame(runs)
        row: dict = {"dataset": dataset, "model": model, "n_runs": len(runs)}
        extra = sorted(c for c in table.columns if "__" in c)
        for metric in list(SUMMARY_METRICS) + extra:
            if metric in table:
                values = pd.to_numeric(table[metric], errors="coerce")
                row[f"{metric}_mean"] = float(values.mean())
                row[f"{metric}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        if "pgr_n_examples" in table:
            row["pgr_n_examples"] = int(table["pgr_n_examples"].min())
        row.update(_stability(model_dir, top))
        rows.append(row)
    return pd.DataFrame(rows)


def _model_dirs(out: Path, datasets: Sequence[str], models: Sequence[str]):
    """``(dataset slug, model, folder)`` of every dataset x model of a study, in order."""
    for ds in datasets:
        for model in models:
            yield _slug(ds), model, XAI_STUDY.model_dir(Path(out), _slug(ds), model)


def summarize_curves(out: Path, datasets: Sequence[str], models: Sequence[str]) -> pd.DataFrame:
    """Keep/remove curves of the finished runs with their intervals (``curves_summary.tsv``).

    Parameters
    ----------
    out
        The study folder.
    datasets
        Dataset names as given to :func:`run_xai_study`.
    models
        Architectures summarised.

    Returns
    -------
    pandas.DataFrame
        One row per dataset × model × setting × selection × K: balanced accuracy in %, mean
        and 95% t interval over runs (random repeats averaged within a run first;
        docs/methods.md §3), with ``n_runs`` and ``n_repeats``. Empty without curves.
    """
    parts = []
    for dataset, model, model_dir in _model_dirs(out, datasets, models):
        table = curve_summary(model_dir)
        if table is not None:
            parts.append(
                pd.concat(
                    [pd.DataFrame({"dataset": dataset, "model": model}, index=table.index), table], axis=1
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _slug(name: str) -> str:
    key = str(name).lower()
    return key if key in SIMULATIONS else Path(name).name.split(".")[0]


def _configure(datasets: list[str], config: StudyConfig | None, options: dict) -> StudyConfig:
    """The study's options, checked before any work starts."""
    cfg = config or StudyConfig()
    for key, value in options.items():
        setattr(cfg, check_choice(key, "study option", sorted(vars(cfg))), value)
    if not datasets:
        raise InvalidParameterError("no dataset given", where="--data", fix="name at least one dataset")
    check_choices(cfg.models, "models", MODEL_KINDS)
    check_count(cfg.runs, "runs", minimum=1)
    check_count(cfg.curve_n_random, "curve_n_random", minimum=1)
    simulation_only = [
        name
        for name, value in (
            ("sim_params", cfg.sim_params),
            ("n_per_class", cfg.n_per_class),
            ("n_genes", cfg.n_genes),
        )
        if value
    ]
    if simulation_only and not any(str(d).lower() in SIMULATIONS for d in datasets):
        raise InvalidParameterError(
            f"{', '.join(simulation_only)} only shape simulated datasets, and none is requested",
            where="--data",
            fix="drop those options for dataset files (--jitter, --n-genes, "
            "--n-per-class), or add a simulation preset to --data",
        )
    check_interval(cfg.test_size, "test_size", 0.0, 1.0, closed="neither")
    return cfg


def _write_outputs(out: Path, datasets: list[str], cfg: StudyConfig) -> pd.DataFrame:
    """Summary, model agreement, per-run table, manifest and plots of the finished runs."""
    summary = summarize_runs(out, datasets, cfg.models, top=cfg.stability_top)
    _write_tsv(summary, out / XAI_STUDY.summary)
    agreement = model_agreement(out, datasets, cfg.models, top=cfg.stability_top)
    if not agreement.empty:
        _write_tsv(agreement, out / XAI_STUDY.model_agreement)
    per_run = []
    for ds in datasets:
        for model in cfg.models:
            for f in XAI_STUDY.run_files(XAI_STUDY.model_dir(out, _slug(ds), model), XAI_STUDY.run_metrics):
                per_run.append(json.loads(f.read_text()))
    _write_tsv(pd.DataFrame(per_run), out / XAI_STUDY.runs_table)
    curves = summarize_curves(out, datasets, cfg.models)
    if not curves.empty:
        _write_tsv(curves, out / XAI_STUDY.curves_summary)
    write_run_manifest(out, XAI_STUDY.kind, _study_parameters(datasets, cfg), _study_inputs(datasets))
    write_study_plots(out, summary)
    return summary


def _study_parameters(datasets: list[str], cfg: StudyConfig) -> dict:
    """The study's options as applied: ``log2`` resolved per dataset when left to its default."""
    params = {"datasets": datasets, **vars(cfg)}
    if cfg.log2 is None:  # the default load_study_dataset applies to each dataset
        params["log2"] = {str(ds): _default_log2(ds) for ds in datasets}
    return params


def _default_log2(dataset: str) -> bool:
    """``log2`` left to its default: on for presets and for files ``exprlab simulate`` wrote.

    The rule of :func:`load_study_dataset` (:func:`exprlab.simulate.is_simulation`), decided
    from the file's metadata alone (an h5ad read without its matrix), so that the manifest
    records the value the runs applied.
    """
    if str(dataset).lower() in SIMULATIONS:
        return True
    if not str(dataset).lower().endswith(".h5ad") or not Path(dataset).is_file():
        return False  # other formats carry no simulation record
    adata = read_h5ad(dataset, backed="r")
    try:
        return is_simulation(adata)
    finally:
        adata.file.close()


def _study_inputs(datasets: list[str]) -> list[dict]:
    """Provenance of the datasets: path, size and checksum of files; simulations by name."""
    return [
        {"name": ds, "kind": "simulation"}
        if ds.lower() in SIMULATIONS or not Path(ds).exists()  # a missing file is reported when read
        else dict(file_provenance(ds, name=ds), kind="file")
        for ds in map(str, datasets)
    ]


def run_xai_study(
    data: Sequence[str] | str, out: str | Path, *, config: StudyConfig | None = None, **options: Any
) -> pd.DataFrame:
    """Run (or resume) the explanation study on ``data`` and write its folder ``out``.

    Parameters
    ----------
    data
        Dataset names: simulation presets (:data:`SIMULATIONS`) or expression files.
    out
        The study folder (created; a folder of an earlier call with the same options resumes).
    config
        The options (default :class:`StudyConfig`).
    **options
        Fields of :class:`StudyConfig` overriding ``config`` (models, runs, n_steps, n_random,
        pgr_subsample, curve_tops, label, log2, seed, data_seed, n_per_class, n_genes, ...).

    Returns
    -------
    pandas.DataFrame
        The summary table (``summary.tsv``): one row per dataset × model.
    """
    datasets = [data] if isinstance(data, str) else list(data)
    cfg = _configure(datasets, config, options)
    out = Path(out)
    created = not out.exists()
    try:  # the folder is made inside: a stop signal right after it is made still removes it
        out.mkdir(parents=True, exist_ok=True)
        _check_resume(out, cfg)
        # a manifest from the start: the report of a stopped study counts its runs and says how to resume
        write_run_manifest(
            out,
            XAI_STUDY.kind,
            _study_parameters(datasets, cfg),
            _study_inputs(datasets),
            summary={"planned_runs": len(datasets) * len(cfg.models) * cfg.runs},
            finished=False,
        )
        with log_to(out):
            _run_datasets(datasets, out, cfg)
    except BaseException:
        # a study that fails before finishing any run leaves no empty output folder behind
        if created and not any(out.rglob(XAI_STUDY.run_metrics)):
            shutil.rmtree(out, ignore_errors=True)
        raise
    return _write_outputs(out, datasets, cfg)


# Options that change what a run computes: a folder's runs must all share them. ``models``,
# ``runs`` and the datasets may grow from one call to the next; these may not. Each is stored in
# the study's options file under the name on the right (the names of earlier releases, so that
# existing study folders still resume).
_RUN_DEFINING = {
    "n_steps": "steps",
    "n_random": "n_random",
    "pgr_subsample": "pgr_subsample",
    "curve_tops": "curve_ks",
    "curve_n_random": "curve_n_random",
    "label": "label_key",
    "log2": "log2",
    "test_size": "test_size",
    "seed": "seed",
    "data_seed": "data_seed",
    "n_per_class": "n_per_class",
    "n_genes": "n_genes",
    "sim_params": "sim_params",
    "variants": "variants",
    "variant_train_per_class": "variant_train_per_class",
    "variant_diffusion_samples": "variant_diffusion_samples",
}

# Run-defining options added after the first releases, with the value the runs of an older
# folder were computed with (its study.json does not record them).
_LEGACY_OPTIONS = {"curve_n_random": 1}


def _check_resume(out: Path, cfg: StudyConfig) -> None:
    """Refuse to resume a study folder with options that would mix incomparable runs.

    The first call records the run-defining options in ``study.json``; a later call into the same
    folder must repeat them, otherwise finished runs would be summarised together with runs
    computed differently.
    """
    current = json.loads(
        json.dumps({stored: getattr(cfg, name) for name, stored in _RUN_DEFINING.items()}, default=str)
    )
    path = out / XAI_STUDY.options
    if path.exists():
        try:
            recorded = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise InputDataError(
                f"{XAI_STUDY.options} is not valid JSON",
                where=str(path),
                fix="restore it, or start the study in a new --out folder",
            ) from None
        recorded = {**_LEGACY_OPTIONS, **recorded}
        if not recorded.get("curve_ks") and not current["curve_ks"]:
            recorded["curve_n_random"] = current["curve_n_random"]  # no curves: nothing to mix
        changed = sorted(k for k in _RUN_DEFINING.values() if recorded.get(k) != current[k])
        if changed:
            detail = ", ".join(f"{k}: {recorded.get(k)!r} then, {current[k]!r} now" for k in changed)
            raise InvalidParameterError(
                f"this study folder was started with other options ({detail})",
                where=str(out),
                fix="repeat the first call's options to resume, or write to a new --out folder",
            )
        return
    _write_json(current, path)


def _run_datasets(datasets: list[str], out: Path, cfg: StudyConfig) -> None:
    """Compute every run of every dataset not finished yet (its ``metrics.json`` is missing)."""
    for ds in datasets:
        todo = [
            (m, r)
            for r in range(cfg.runs)
            for m in cfg.models  # run-major order
            if not (XAI_STUDY.run_dir(out, _slug(ds), m, r) / XAI_STUDY.run_metrics).exists()
        ]
        if not todo:
            continue
        adata, label, fa_key, truth, sim_log2 = load_study_dataset(ds, cfg)
        if cfg.curve_tops and min(cfg.curve_tops) >= adata.n_vars:
            # no curve could be computed: refused before any run rather than written empty
            check_count(min(cfg.curve_tops), "curve_tops", minimum=1, maximum=adata.n_vars - 1)
        log2 = sim_log2 if cfg.log2 is None else cfg.log2
        for model, run in track(todo, f"xai study {_slug(ds)}"):
            run_dir = XAI_STUDY.run_dir(out, _slug(ds), model, run)
            run_dir.mkdir(parents=True, exist_ok=True)
            metrics = _one_run(adata, label, fa_key, truth, model, run, run_dir, cfg, log2)
            metrics.update({"dataset": _slug(ds), "model": model})
            _write_json(metrics, run_dir / XAI_STUDY.run_metrics)
            _log.info(
                "%s %s run %d: balanced accuracy %.1f, FA local %s, %.1f s",
                _slug(ds),
                model,
                run,
                metrics.get("balanced_accuracy", float("nan")),
                "n/a" if metrics.get("fa_local") is None else f"{metrics['fa_local']:.1f}",
                metrics.get("seconds", float("nan")),
            )
        del adata
