"""``exprlab biomarkers``: a per-class gene list with its stability over training draws.

For each of B draws (bootstrap or stratified subsample, by group when asked) a classifier is
fitted on the drawn samples and the samples left out are attributed with Integrated Gradients
toward their own class's logit; the attributions are aggregated per class (signed mean over the
class's held-out samples, or the paper's pooled vote) and genes are ranked. Next to that ranking
the same statistics are computed for two references on the same draws: the Welch t statistic
of each class against the rest on the training samples (|t|) and, for a linear model, the
magnitude of the class's coefficient (docs/methods.md §3).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_dir
from exprlab._defaults import N_STEPS
from exprlab._progress import track
from exprlab._runs import BIOMARKERS
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.errors import InputDataError
from exprlab.explain import (
    CLASS_RULES,
    DRAWS,
    ClassRule,
    DrawKind,
    class_scores,
    linear_weights,
    logit_attributions,
    natural_order,
    rank_intervals,
    rank_scores,
    raw_mean,
    resample_draws,
    selection_frequency,
    stability_summary,
    welch_scores,
)
from exprlab.models import MODEL_KINDS, ClassifierArch, ExpressionClassifier, labels_of
from exprlab.report import file_provenance, write_run_manifest

__all__ = [
    "BIOMARKER_METHODS",
    "BiomarkerResult",
    "find_biomarkers",
    "fit_draw_model",
    "write_biomarkers",
]

_log = logging.getLogger(__name__)
#: the rankings compared: attributions, univariate Welch t, model coefficients
BIOMARKER_METHODS = ("ig", "welch_t", "coefficients")
BASELINES = ("zero", "mean")
_SYMBOL_COLUMNS = ("symbol", "gene_symbol", "gene_symbols", "hgnc_symbol", "gene_name")
_LEVELS = (5.0, 95.0)


@dataclass
class BiomarkerResult:
    """What :func:`find_biomarkers` found.

    Parameters
    ----------
    genes
        One row per gene × class: ``gene``, ``symbol``, ``class``, ``direction``,
        ``mean_attribution``, ``welch_t`` and, per method, ``<method>_frequency`` and
        ``<method>_rank_lo`` / ``_median`` / ``_hi``; classes in natural order, genes by IG
        selection frequency.
    stability
        One row per method × mode (``single``: top lists of two draws; ``selected``:
        stability-selected lists of two disjoint halves of the draws): Jaccard mean and
        interval.
    draws
        One row per draw: training and held-out sizes, held-out balanced accuracy, classes
        without held-out samples.
    parameters
        The options of the run.
    ranks
        Method → (B, C, p) ranks of every draw (NaN where a draw did not score a class),
        classes in the order of ``parameters["classes"]``; kept in memory, not written.
    """

    genes: pd.DataFrame
    stability: pd.DataFrame
    draws: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    ranks: dict[str, np.ndarray] = field(default_factory=dict)


def fit_draw_model(adata, label: str, *, arch: ClassifierArch = "lr", seed: int = 0, log2: bool = False):
    """Fit one classifier on one training draw, through the public models API.

    Every draw is fitted here and only here, so a change of the estimator's defaults (its
    regularisation, its stopping rule) reaches every draw.

    Parameters
    ----------
    adata
        The training samples.
    label
        obs column holding the class labels.
    arch
        Architecture (``lr``, ``mlp`` ...).
    seed
        Seed of the fit.
    log2
        log2(x + 1) before the z-score.

    Returns
    -------
    ExpressionClassifier
        The fitted estimator.
    """
    return ExpressionClassifier(arch, seed=seed, log2=log2).fit(adata, label)


def _symbols(adata) -> np.ndarray:
    lower = {str(c).lower(): c for c in adata.var.columns}
    for name in _SYMBOL_COLUMNS:
        if name in lower:
            values = adata.var[lower[name]].astype(object).to_numpy()
            names = np.asarray(adata.var_names).astype(str)
            return np.array([str(v) if pd.notna(v) and str(v) else n for v, n in zip(values, names)])
    return np.asarray(adata.var_names).astype(str)


def _raw_values(adata) -> np.ndarray:
    matrix = adata.X
    values = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class _Options:
    label: str
    arch: ClassifierArch
    seed: int
    log2: bool
    rule: ClassRule
    top: int
    baseline: str
    n_steps: int


def _baseline(model, train_values: np.ndarray, spec: str) -> np.ndarray | None:
    if spec == "zero":
        return None
    with warnings.catch_warnings():  # the coincidence with zero is announced once per run
        warnings.simplefilter("ignore")
        return raw_mean(model, train_values)


def _training_set(adata, rows: np.ndarray):
    with warnings.catch_warnings():  # a bootstrap repeats samples: names are made unique below
        warnings.simplefilter("ignore")
        sub = adata[rows].copy()
        sub.obs_names_make_unique()
    return sub


def _one_draw(adata, values, y, classes, draw, index: int, opt: _Options):
    """IG, Welch and coefficient scores (C, p) of one draw, and its row of the draws table."""
    # scikit-learn's metric loads only when a run scores its draws
    from sklearn.metrics import balanced_accuracy_score

    empty = np.full((len(classes), values.shape[1]), np.nan)
    ig, welch, coef = empty.copy(), empty.copy(), empty.copy()
    row: dict[str, Any] = {
        "draw": index,
        "n_train": int(np.unique(draw.train).size),
        "n_held_out": int(draw.held_out.size),
        "balanced_accuracy": np.nan,
        "classes_without_held_out": "",
        "skipped": "",
    }
    train_y = y[draw.train]
    if np.unique(train_y).size < 2:
        row["skipped"] = "a single class in the training draw"
        return ig, welch, coef, row
    model = fit_draw_model(
        _training_set(adata, draw.train), opt.label, arch=opt.arch, seed=opt.seed + index, log2=opt.log2
    )
    known = np.array([str(c) for c in model.classes_])
    held = draw.held_out[np.isin(y[draw.held_out], known)]
    welch = welch_scores(model.transform(values[draw.train]), train_y, classes)
    weights = linear_weights(model)
    if weights is not None:
        position = {c: i for i, c in enumerate(known)}
        for i, cls in enumerate(classes):
            if cls in position:
                coef[i] = np.abs(weights[position[cls]])
    row["classes_without_held_out"] = ";".join(c for c in classes if not (y[held] == c).any())
    if held.size:
        x = model.transform(values[held])
        targets = np.array([model.class_index(v) for v in y[held]])
        base = _baseline(model, values[draw.train], opt.baseline)
        attributions = logit_attributions(model, x, targets, base, n_steps=opt.n_steps)
        ig = class_scores(attributions, y[held], classes, rule=opt.rule, top=opt.top)
        predicted = np.asarray(model.predict(values[held])).astype(str)
        row["balanced_accuracy"] = float(balanced_accuracy_score(y[held], predicted))
    return ig, welch, coef, row


def _method_ranks(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """(B, C, p) ranks per method: IG by signed score, Welch t and coefficients by magnitude."""
    return {
        "ig": rank_scores(scores["ig"]),
        "welch_t": rank_scores(np.abs(scores["welch_t"])),
        "coefficients": rank_scores(scores["coefficients"]),
    }


def _class_table(c: int, cls: str, ranks, scores, full_t, genes, symbols, top: int) -> pd.DataFrame:
    with warnings.catch_warnings():  # a class no draw could score gives empty means
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_attribution = np.nanmean(scores["ig"][:, c, :], axis=0)
    table = pd.DataFrame(
        {
            "gene": genes,
            "symbol": symbols,
            "class": cls,
            "direction": np.where(full_t[c] >= 0, "up", "down"),
            "mean_attribution": mean_attribution,
            "welch_t": full_t[c],
        }
    )
    for method in BIOMARKER_METHODS:
        r = ranks[method][:, c, :]
        low, median, high = rank_intervals(r, _LEVELS)
        table[f"{method}_frequency"] = selection_frequency(r, top)
        table[f"{method}_rank_lo"] = low
        table[f"{method}_rank_median"] = median
        table[f"{method}_rank_hi"] = high
    return table.sort_values(
        ["ig_frequency", "ig_rank_median", "mean_attribution"],
        ascending=[False, True, False],
        kind="stable",
        na_position="last",
    )


def _check_options(adata, label, arch, n_draws, draw, top, rule, baseline, fraction, group):
    """Every option checked before the first fit; the groups of the samples (or None)."""
    check_choice(arch, "arch", MODEL_KINDS)
    check_count(n_draws, "n_draws", minimum=1)
    check_choice(draw, "draw", DRAWS)
    check_choice(rule, "rule", CLASS_RULES)
    check_choice(baseline, "baseline", BASELINES)
    check_fraction(fraction, "fraction", closed="neither")
    check_count(top, "top", minimum=1, maximum=adata.n_vars)
    if group is None:
        return None
    if group not in adata.obs.columns:
        raise InputDataError(
            f"group column {group!r} is absent (obs columns: {', '.join(map(str, adata.obs.columns))})",
            where="group",
            fix="name the obs column that holds the subject (or other group) of each sample",
        )
    return labels_of(adata, group, where=f"obs[{group!r}]").astype(str)


def _check_coverage(classes: list[str], rows: list[dict], n_draws: int) -> dict[str, int]:
    """Draws without held-out samples per class; an error when a class never had any."""
    used = [r for r in rows if not r["skipped"]]
    if not used:
        raise InputDataError(
            f"none of the {n_draws} draws could train a classifier (every draw held a single class)",
            where="draws",
            fix="use --draw subsample, or check the label and group columns",
        )
    missing = {c: sum(c in r["classes_without_held_out"].split(";") for r in used) for c in classes}
    never = [c for c, k in missing.items() if k == len(used)]
    if never:
        raise InputDataError(
            f"class(es) {', '.join(never)} had no held-out sample in any of the {len(used)} draws",
            where="draws",
            fix="use --draw subsample (it holds out part of every class), more draws, or more "
            "samples of that class",
        )
    for cls, count in missing.items():
        if count:
            _log.warning("class %s had no held-out sample in %d of %d draws", cls, count, len(used))
    return {c: k for c, k in missing.items() if k}


def find_biomarkers(
    adata,
    label: str,
    *,
    arch: ClassifierArch = "lr",
    n_draws: int = 50,
    draw: DrawKind = "bootstrap",
    fraction: float = 0.5,
    top: int = 100,
    seed: int = 0,
    group: str | None = None,
    rule: ClassRule = "mean",
    baseline: str = "zero",
    log2: bool = False,
    n_steps: int = N_STEPS,
) -> BiomarkerResult:
    """Per-class gene rankings by Integrated Gradients, with their stability over training draws.

    Each draw fits one model (:func:`fit_draw_model`) and attributes its held-out samples
    toward their own class's logit; ranks of the same draws by Welch t and by coefficient
    magnitude are computed alongside (docs/methods.md §3).

    Parameters
    ----------
    adata
        Expression (obs = samples, var = genes; raw values, preprocessed by each model).
    label
        obs column holding the class labels (at least two classes).
    arch
        Architecture of the models (``lr``, ``mlp`` ...).
    n_draws
        Number of draws B, at least 1.
    draw
        ``"bootstrap"`` (out-of-bag samples held out) or ``"subsample"``.
    fraction
        Share of each class a subsample trains on.
    top
        Size of the top lists counted by the selection frequency and Jaccard index.
    seed
        Seed of the draws and of the fits (draw b fits with seed + b).
    group
        obs column of groups (subjects) kept whole on one side of every draw.
    rule
        Per-class aggregation: ``"mean"`` (signed mean over the class's held-out samples) or
        ``"pooled"`` (the paper's vote over per-sample top lists).
    baseline
        ``"zero"`` or ``"mean"`` (each draw's raw-space training mean, see
        :func:`exprlab.explain.raw_mean`).
    log2
        log2(x + 1) before the z-score (for counts).
    n_steps
        Quadrature steps for a non-linear model (a linear model's IG is exact).

    Returns
    -------
    BiomarkerResult
        The gene table, the stability summary and the draws table.
    """
    # Over 80 lines only with its docstring (one entry per option); the steps are helpers.
    groups = _check_options(adata, label, arch, n_draws, draw, top, rule, baseline, fraction, group)
    y = labels_of(adata, label, where=f"obs[{label!r}]").astype(str)
    classes = natural_order(y)
    draws = resample_draws(y, n_draws, draw=draw, fraction=fraction, groups=groups, seed=seed)
    if baseline == "mean" and not log2:
        warnings.warn(
            "baseline 'mean' (the raw-space training mean) equals the zero baseline for a z-scored "
            "model without log2",
            stacklevel=2,
        )
    opt = _Options(label, arch, int(seed), bool(log2), rule, int(top), baseline, int(n_steps))
    values = _raw_values(adata)
    per_draw = [
        _one_draw(adata, values, y, classes, d, b, opt)
        for b, d in track(list(enumerate(draws)), "biomarker draws")
    ]
    rows = [r for *_, r in per_draw]
    without = _check_coverage(classes, rows, n_draws)
    scores = {m: np.stack([d[i] for d in per_draw]) for i, m in enumerate(BIOMARKER_METHODS)}
    ranks = _method_ranks(scores)
    table = _gene_table(adata, values, y, classes, ranks, scores, opt)
    parameters = {
        "label": label,
        "arch": arch,
        "n_draws": n_draws,
        "draw": draw,
        "fraction": fraction if draw == "subsample" else None,
        "top": top,
        "seed": seed,
        "group": group,
        "rule": rule,
        "baseline": baseline,
        "log2": log2,
        "classes": classes,
        "draws_without_held_out": without,
    }
    return BiomarkerResult(
        table, stability_summary(ranks, top, seed=seed), pd.DataFrame(rows), parameters, ranks
    )


def _gene_table(adata, values, y, classes, ranks, scores, opt: _Options) -> pd.DataFrame:
    """The gene × class table: direction and Welch t on all samples, stability per method."""
    shown = np.log2(values + 1.0) if opt.log2 else values
    full_t = welch_scores(shown, y, classes)
    genes, symbols = np.asarray(adata.var_names).astype(str), _symbols(adata)
    return pd.concat(
        [
            _class_table(c, cls, ranks, scores, full_t, genes, symbols, opt.top)
            for c, cls in enumerate(classes)
        ],
        ignore_index=True,
    )


def write_biomarkers(result: BiomarkerResult, out, *, data=None) -> Path:
    """Write a biomarker run folder: gene table, stability summary, draws and ``run.json``.

    Parameters
    ----------
    result
        What :func:`find_biomarkers` returned.
    out
        The run folder (replaced atomically).
    data
        Path of the input data, recorded in the manifest's provenance.

    Returns
    -------
    pathlib.Path
        The run folder.
    """
    out = Path(out)
    with atomic_dir(out) as tmp:
        result.genes.to_csv(tmp / BIOMARKERS.genes, sep="\t", index=False, float_format="%.6g")
        result.stability.to_csv(tmp / BIOMARKERS.stability, sep="\t", index=False, float_format="%.6g")
        result.draws.to_csv(tmp / BIOMARKERS.draws, sep="\t", index=False, float_format="%.6g")
        summary = {
            f"{row.method} {row.mode} top-{row.top} Jaccard": round(float(row.jaccard_mean), 4)
            for row in result.stability.itertuples()
        }
        summary["held-out balanced accuracy (mean over draws)"] = round(
            float(result.draws["balanced_accuracy"].mean()), 4
        )
        write_run_manifest(
            tmp,
            BIOMARKERS.kind,
            result.parameters,
            [file_provenance(data)] if data is not None else None,
            summary=summary,
        )
    return out
