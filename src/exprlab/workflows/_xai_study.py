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
* optionally keep/remove retraining curves against random genes, and pathway-level scores.

Each finished run writes ``runs/<dataset>/<model>/run<r>/metrics.json`` last (atomically), so an
interrupted study resumes where it stopped. ``summary.tsv`` has one row per dataset × model with
the mean and sd over runs of every metric (``balanced_accuracy_mean``, ``fa_local_mean``,
``fa_global_mean``, ``pgi_local_mean`` …), and the stability of the global rankings across runs;
``stability_models.tsv`` compares the models' rankings run by run.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab._logging import log_to

_log = logging.getLogger(__name__)

__all__ = ["StudyConfig", "run_xai_study", "load_study_dataset", "summarize_runs", "model_agreement"]

SIMULATIONS = {"simu1": "SIMU1", "simu2": "SIMU2", "simua": "SimuA", "simub": "SimuB", "simuc": "SimuC"}
METRICS = (
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
    """Options of :func:`run_xai_study` (all have the paper's defaults)."""

    models: tuple[str, ...] = ("lr", "mlp")
    runs: int = 10
    steps: int = 3000
    n_random: int = 30
    pgr_subsample: int | None = 330
    curve_ks: tuple[int, ...] = ()
    label_key: str | None = None
    log2: bool | None = None
    test_size: float = 0.4
    seed: int = 0
    data_seed: int = 0
    n_per_class: int | None = None
    n_genes: int | None = None
    sim_params: dict = field(default_factory=dict)
    stability_k: int = 100
    variants: bool = False
    variant_train_per_class: int = 20
    variant_diffusion_samples: int = 500


def load_study_dataset(name: str, config: StudyConfig):
    """(AnnData, label key, fa label key, ground truth or None, log2 default) for a dataset name.

    Simulated presets (simu1, simu2, simua, simub, simuc) are generated with ``data_seed``; any
    other name is a file read by :func:`exprlab.io.read` with labels in ``config.label_key``.
    """
    key = str(name).lower()
    if key in SIMULATIONS:
        from exprlab.simulate import simulate_lda

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
    from exprlab.io import read

    adata = read(path)
    label = config.label_key
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
    return adata, label, label, truth, False


def _split(labels: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

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


def _one_run(
    adata, label_key, fa_key, truth, model_kind, run, run_dir: Path, config: StudyConfig, log2: bool
) -> dict:
    """Train, explain and measure one model on one split; writes the run's tables."""
    import torch

    from exprlab.evaluate._curves import retraining_curves
    from exprlab.evaluate._explanations import (
        completeness_stats,
        correct_mask,
        feature_agreement,
        prediction_gaps,
    )
    from exprlab.explain import integrated_gradients
    from exprlab.explain._aggregate import global_rankings
    from exprlab.models import ExpressionClassifier

    start = time.perf_counter()
    run_seed = config.seed + run
    labels = np.asarray(adata.obs[label_key]).astype(str)
    tr, te = _split(labels, config.test_size, run_seed)
    train, test = adata[tr], adata[te]
    clf = ExpressionClassifier(model_kind, seed=run_seed, log2=log2).fit(train, label_key)
    z = clf.transform(test)
    y_lab = labels[te]
    y = np.array([clf.class_index(c) for c in y_lab])
    with torch.no_grad():
        logits = clf.module_.eval()(torch.from_numpy(z)).double()
    pred_idx = logits.argmax(dim=1).numpy()
    pred = np.asarray(clf.classes_)[pred_idx].astype(str)
    from sklearn.metrics import balanced_accuracy_score

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
            where=f"{model_kind} run {run}",
            fix="check the labels and the data; explanations need correct predictions",
        )
    zc, yc = z[ok], y[ok]
    attr = integrated_gradients(clf.module_, zc, None, target=yc, n_steps=config.steps)
    with torch.no_grad():
        prob_x = torch.softmax(clf.module_(torch.from_numpy(zc)).double(), 1)
        prob_b = torch.softmax(clf.module_(torch.zeros(1, z.shape[1])).double(), 1)
    gaps = (prob_x.gather(1, torch.from_numpy(yc)[:, None])[:, 0] - prob_b[0, torch.from_numpy(yc)]).numpy()
    comp = completeness_stats(attr, gaps)
    metrics["completeness_delta_mean"] = comp["delta_mean"]
    metrics["completeness_delta_max"] = comp["delta_max"]
    metrics["completeness_share_above_0.01"] = comp["share_above_threshold"]

    genes = np.asarray(adata.var_names)
    if truth is not None:
        fa_labels = np.asarray(test.obs[fa_key]).astype(str)[ok]
        fa = feature_agreement(attr, fa_labels, truth, var_names=genes)
        fap = feature_agreement(attr, fa_labels, truth, var_names=genes, global_method="pooled")
        metrics["fa_local"] = 100 * fa.local
        metrics["fa_global"] = 100 * fa.global_
        metrics["fa_global_pooled"] = 100 * fap.global_
        table = fa.per_class.rename(columns={"fa_global": "fa_global_sum"})
        table["fa_global_pooled"] = fap.per_class["fa_global"].to_numpy()
        _write_tsv(table, run_dir / "fa_per_class.tsv")
        if config.variants:
            metrics.update(
                _variant_agreements(
                    adata, train, clf, attr, fa_labels, y_lab[ok], truth, labels[tr], run_seed, config
                )
            )
    class_scores = global_rankings(attr, y_lab[ok])
    pg = prediction_gaps(
        clf.module_,
        zc,
        yc,
        attr,
        labels=y_lab[ok],
        class_scores=class_scores,
        n_random=config.n_random,
        seed=run_seed,
        random_subsample=config.pgr_subsample,
    )
    metrics.update({k: v for k, v in pg.items() if k != "path"})
    metrics["pg_path"] = pg["path"]
    names = sorted(class_scores)
    with atomic_path(run_dir / "global_scores.npz") as tmp:
        np.savez_compressed(
            tmp, classes=np.array(names), scores=np.stack([class_scores[c] for c in names]).astype(np.float32)
        )
    if config.curve_ks:
        ks = [k for k in config.curve_ks if k < adata.n_vars]
        curves = retraining_curves(
            train, test, label_key, class_scores, ks, model=model_kind, seed=run_seed, log2=log2
        )
        _write_tsv(curves, run_dir / "curves.tsv")
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
    import scipy.sparse as sp

    from exprlab.evaluate._explanations import correct_mask, feature_agreement, normalize_attributions
    from exprlab.explain import integrated_gradients
    from exprlab.explain._aggregate import (
        class_profiles,
        diffuse_attributions,
        diffusion_operator,
        pathway_smooth,
        shrink_to_class,
    )

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
    attr_tr = integrated_gradients(clf.module_, z_tr[ok_tr], None, target=y_tr[ok_tr], n_steps=config.steps)
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
        fa = feature_agreement(values, fa_labels, truth, var_names=genes, ranking=ranking)
        out[f"fa_local__{name}"] = 100 * fa.local
        out[f"fa_global__{name}"] = 100 * fa.global_
    return out


def _class_scores(path: Path) -> dict[str, np.ndarray]:
    """A run's ``global_scores.npz`` read once: class name → its global gene scores."""
    with np.load(path) as z:
        return dict(zip(z["classes"].tolist(), z["scores"], strict=True))


def _ranking_agreement(runs: list[dict[str, np.ndarray]], k: int) -> tuple[float, float] | None:
    """Mean over classes of the mean pairwise top-k Jaccard / Kendall tau of global rankings.

    ``runs`` holds two or more runs' :func:`_class_scores`; only the classes every run explained
    are compared.
    """
    from exprlab.evaluate._explanations import topk_stability

    classes = sorted(set.intersection(*[set(run) for run in runs]))
    jac, tau = [], []
    for cls in classes:
        vecs = [run[cls] for run in runs]
        table = topk_stability(vecs, min(k, vecs[0].size))
        jac.append(table["jaccard"].mean())
        tau.append(table["kendall_tau"].mean())
    return (float(np.mean(jac)), float(np.mean(tau))) if jac else None


def _stability(model_dir: Path, k: int) -> dict[str, float]:
    """Agreement of one model's per-class global rankings across its runs (seeds and splits)."""
    files = sorted(model_dir.glob("run*/global_scores.npz"))
    if len(files) < 2:
        return {}
    agreement = _ranking_agreement([_class_scores(f) for f in files], k)
    if agreement is None:
        return {}
    return {"stability_jaccard": agreement[0], "stability_kendall_tau": agreement[1]}


def model_agreement(
    out: Path, datasets: Sequence[str], models: Sequence[str], *, k: int = 100
) -> pd.DataFrame:
    """Agreement between models: for each pair, the same run's (same split) global rankings.

    One row per dataset × model pair: mean over matched runs of the per-class top-k Jaccard
    and Kendall tau (``stability_models.tsv``). Low values mean the two models explain the
    same data with different genes even when both are accurate.
    """
    from itertools import combinations

    rows = []
    for ds in datasets:
        root = out / "runs" / _slug(ds)
        for a, b in combinations(models, 2):
            runs = sorted(
                {f.parent.name for f in (root / a).glob("run*/global_scores.npz")}
                & {f.parent.name for f in (root / b).glob("run*/global_scores.npz")}
            )
            pairs = [
                _ranking_agreement(
                    [
                        _class_scores(root / a / r / "global_scores.npz"),
                        _class_scores(root / b / r / "global_scores.npz"),
                    ],
                    k,
                )
                for r in runs
            ]
            pairs = [p for p in pairs if p is not None]
            if pairs:
                rows.append(
                    {
                        "dataset": _slug(ds),
                        "model_a": a,
                        "model_b": b,
                        "k": k,
                        "n_runs": len(pairs),
                        "jaccard": float(np.mean([p[0] for p in pairs])),
                        "kendall_tau": float(np.mean([p[1] for p in pairs])),
                    }
                )
    return pd.DataFrame(rows)


def summarize_runs(
    out: Path, datasets: Sequence[str], models: Sequence[str], *, stability_k: int = 100
) -> pd.DataFrame:
    """summary.tsv: one row per dataset × model, mean and sd over the finished runs."""
    rows = []
    for ds in datasets:
        for model in models:
            model_dir = out / "runs" / _slug(ds) / model
            runs = [json.loads(f.read_text()) for f in sorted(model_dir.glob("run*/metrics.json"))]
            if not runs:
                continue
            table = pd.DataFrame(runs)
            row: dict = {"dataset": _slug(ds), "model": model, "n_runs": len(runs)}
            extra = sorted(c for c in table.columns if "__" in c)
            for metric in list(METRICS) + extra:
                if metric in table:
                    values = pd.to_numeric(table[metric], errors="coerce")
                    row[f"{metric}_mean"] = float(values.mean())
                    row[f"{metric}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            if "pgr_n_examples" in table:
                row["pgr_n_examples"] = int(table["pgr_n_examples"].min())
            row.update(_stability(model_dir, stability_k))
            rows.append(row)
    return pd.DataFrame(rows)


def _slug(name: str) -> str:
    key = str(name).lower()
    return key if key in SIMULATIONS else Path(name).name.split(".")[0]


def _plots(out: Path, summary: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if summary.empty:
        return
    labels = [f"{d}\n{m}" for d, m in zip(summary["dataset"], summary["model"], strict=True)]
    x = np.arange(len(labels))
    for name, metrics in (
        ("fa_bars.png", ["fa_local", "fa_global"]),
        ("pg_bars.png", ["pgi_local", "pgu_local", "pgi_global", "pgu_global", "pgr"]),
    ):
        present = [m for m in metrics if f"{m}_mean" in summary]
        if not present:
            continue
        fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(labels) * len(present) / 2), 3.5))
        width = 0.8 / len(present)
        for i, m in enumerate(present):
            ax.bar(
                x + i * width, summary[f"{m}_mean"], width, yerr=summary.get(f"{m}_sd"), label=m, capsize=2
            )
        ax.set_xticks(x + 0.4 - width / 2, labels)
        ax.set_ylabel("%")
        ax.legend(fontsize=7)
        fig.tight_layout()
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, dpi=120)
        plt.close(fig)
    for (ds, model), _ in summary.groupby(["dataset", "model"]):
        files = sorted((out / "runs" / ds / model).glob("run*/curves.tsv"))
        if not files:
            continue
        curves = pd.concat([pd.read_csv(f, sep="\t") for f in files])
        mean = curves.groupby(["setting", "selection", "k"])["balanced_accuracy"].mean()
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for (setting, selection), series in mean.groupby(level=[0, 1]):
            ax.plot(
                series.index.get_level_values("k"),
                100 * series.to_numpy(),
                marker="o",
                linestyle="-" if selection == "attribution" else "--",
                label=f"{setting} top-K ({selection})",
            )
        ax.set_xscale("log")
        ax.set_xlabel("K (genes per class)")
        ax.set_ylabel("balanced accuracy (%)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        with atomic_path(out / f"curves_{ds}_{model}.png") as tmp:
            fig.savefig(tmp, dpi=120)
        plt.close(fig)


def run_xai_study(
    data: Sequence[str] | str, out, *, config: StudyConfig | None = None, **options
) -> pd.DataFrame:
    """Run (or resume) the study on ``data`` and write ``out``; returns the summary table.

    ``options`` are fields of :class:`StudyConfig` (models, runs, steps, n_random,
    pgr_subsample, curve_ks, label_key, log2, seed, data_seed, n_per_class, n_genes, ...).
    """
    from exprlab.models import MODEL_KINDS

    cfg = config or StudyConfig()
    for key, value in options.items():
        if not hasattr(cfg, key):
            raise InvalidParameterError(
                f"unknown study option {key!r}", where="run_xai_study", fix=f"use one of {sorted(vars(cfg))}"
            )
        setattr(cfg, key, value)
    datasets = [data] if isinstance(data, str) else list(data)
    if not datasets:
        raise InvalidParameterError("no dataset given", where="--data", fix="name at least one dataset")
    bad = [m for m in cfg.models if m not in MODEL_KINDS]
    if bad or not cfg.models:
        raise InvalidParameterError(
            f"unknown model(s) {bad or '(none)'}",
            where="--models",
            fix=f"choose among {', '.join(MODEL_KINDS)}",
        )
    if int(cfg.runs) < 1:
        raise InvalidParameterError(
            f"runs must be at least 1, got {cfg.runs}", where="--runs", fix="pass --runs 1 or more"
        )
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
    if not 0 < cfg.test_size < 1:
        raise InvalidParameterError(
            f"test_size={cfg.test_size} is outside (0, 1)", where="test_size", fix="use e.g. 0.4"
        )
    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    _check_resume(out, cfg)
    try:
        with log_to(out):
            _run_datasets(datasets, out, cfg)
    except BaseException:
        # a study that fails before finishing any run leaves no empty output folder behind
        if created and not any(out.rglob("metrics.json")):
            shutil.rmtree(out, ignore_errors=True)
        raise
    summary = summarize_runs(out, datasets, cfg.models, stability_k=cfg.stability_k)
    _write_tsv(summary, out / "summary.tsv")
    agreement = model_agreement(out, datasets, cfg.models, k=cfg.stability_k)
    if not agreement.empty:
        _write_tsv(agreement, out / "stability_models.tsv")
    per_run = []
    for ds in datasets:
        for model in cfg.models:
            for f in sorted((out / "runs" / _slug(ds) / model).glob("run*/metrics.json")):
                per_run.append(json.loads(f.read_text()))
    _write_tsv(pd.DataFrame(per_run), out / "runs.tsv")
    from exprlab.report._manifest import write_run_manifest

    write_run_manifest(
        out,
        "xai-study",
        {"datasets": datasets, **vars(cfg)},
        [
            {"name": ds, "kind": "simulation" if ds.lower() in SIMULATIONS else "file"}
            for ds in map(str, datasets)
        ],
    )
    _plots(out, summary)
    return summary


# Options that change what a run computes: a folder's runs must all share them. ``models``,
# ``runs`` and the datasets may grow from one call to the next; these may not.
_RUN_DEFINING = (
    "steps",
    "n_random",
    "pgr_subsample",
    "curve_ks",
    "label_key",
    "log2",
    "test_size",
    "seed",
    "data_seed",
    "n_per_class",
    "n_genes",
    "sim_params",
    "variants",
    "variant_train_per_class",
    "variant_diffusion_samples",
)
STUDY_OPTIONS = "study.json"


def _check_resume(out: Path, cfg: StudyConfig) -> None:
    """Refuse to resume a study folder with options that would mix incomparable runs.

    The first call records the run-defining options in ``study.json``; a later call into the same
    folder must repeat them, otherwise finished runs would be summarised together with runs
    computed differently.
    """
    current = json.loads(json.dumps({k: getattr(cfg, k) for k in _RUN_DEFINING}, default=str))
    path = out / STUDY_OPTIONS
    if path.exists():
        try:
            recorded = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise InputDataError(
                f"{STUDY_OPTIONS} is not valid JSON",
                where=str(path),
                fix="restore it, or start the study in a new --out folder",
            ) from None
        changed = sorted(k for k in _RUN_DEFINING if recorded.get(k) != current[k])
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
    from exprlab._progress import track

    for ds in datasets:
        todo = [
            (m, r)
            for r in range(cfg.runs)
            for m in cfg.models  # run-major order
            if not (out / "runs" / _slug(ds) / m / f"run{r:02d}" / "metrics.json").exists()
        ]
        if not todo:
            continue
        adata, label_key, fa_key, truth, sim_log2 = load_study_dataset(ds, cfg)
        log2 = sim_log2 if cfg.log2 is None else cfg.log2
        for model, run in track(todo, f"xai study {_slug(ds)}"):
            run_dir = out / "runs" / _slug(ds) / model / f"run{run:02d}"
            run_dir.mkdir(parents=True, exist_ok=True)
            metrics = _one_run(adata, label_key, fa_key, truth, model, run, run_dir, cfg, log2)
            metrics.update({"dataset": _slug(ds), "model": model})
            _write_json(metrics, run_dir / "metrics.json")
            _log.info(
                "%s %s run %d: balanced accuracy %.4f, FA local %s, %.1f s",
                _slug(ds),
                model,
                run,
                metrics.get("balanced_accuracy", float("nan")),
                metrics.get("fa_local", "n/a"),
                metrics.get("seconds", float("nan")),
            )
        del adata
