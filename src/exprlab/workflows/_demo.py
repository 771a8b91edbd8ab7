"""The end-to-end demo: both halves of exprlab on data with a known answer, in about a minute.

Part 1, explanations: a labelled expression dataset is simulated with the LDA generator (a
scaled-down SIMU1 design, :func:`exprlab.simulate.simulate_lda`), classifiers are trained and
explained with Integrated Gradients, and the explanations are scored against the simulated
informative genes (:func:`exprlab.workflows.run_xai_study`).

Part 2, matching: diseases, drugs and indications with planted reversal mechanisms
(:func:`exprlab.simulate.simulate_planted`) are scored with the connectivity methods of
the matching engine, the learned matchers are trained, and retrieval is evaluated on held-out
diseases against the random and popularity baselines (:func:`exprlab.workflows.run_benchmark`).

With ``real=True`` the same two parts run on the public data instead: the Golub leukaemia
cohort (no ground truth: prediction gaps and keep/remove curves instead of feature agreement)
and the Open Targets / CMap 02 repurposing benchmark.

The output folder is written atomically (a failed demo leaves nothing behind) and holds
``run.json``, ``exprlab.log``, one sub-folder per part and ``report.html``
(:data:`exprlab._runs.DEMO`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from exprlab import datasets
from exprlab._atomic import atomic_dir, atomic_path
from exprlab._config import data_dir
from exprlab._defaults import N_STEPS
from exprlab._logging import attach_log_file, close_log_file
from exprlab._progress import make_progress
from exprlab._runs import DEMO, MATCH_BENCHMARK, REPORT, XAI_STUDY
from exprlab._validation import check_count
from exprlab.evaluate import choose_method
from exprlab.io import write_h5ad
from exprlab.models import torch_threads
from exprlab.report import (
    fa_random_expectation,
    file_provenance,
    map_summary,
    now_utc,
    read_run_manifest,
    render_report,
    write_run_manifest,
)
from exprlab.simulate import simulate_planted
from exprlab.workflows._repurposing import (
    CONNECTIVITY,
    LEARNED,
    LearnedSettings,
    connectivity_scores,
    load_benchmark,
    run_benchmark,
    write_benchmark,
)
from exprlab.workflows._xai_study import StudyConfig, load_study_dataset, run_xai_study

__all__ = ["DemoConfig", "DemoResult", "run_demo", "summarize"]

log = logging.getLogger("exprlab.demo")


@dataclass
class DemoConfig:
    """Sizes of the demo (the defaults run in about a minute on two cores).

    Parameters
    ----------
    seed
        Seed of the simulations, splits and training.
    lda_preset, lda_classes, n_per_class, n_genes
        Part 1: the LDA simulation preset, its classes, samples per class and genes.
    models
        Part 1: classifier architectures.
    runs
        Part 1: runs (splits) per model.
    n_steps
        Part 1: Integrated Gradients quadrature steps.
    n_random
        Part 1: random orders of PGR.
    curve_tops
        Part 1: top sizes of the keep/remove retraining curves.
    n_diseases, n_drugs
        Part 2: size of the planted benchmark.
    n_folds
        Part 2: held-out-disease folds.
    n_boot
        Part 2: bootstrap resamples of the intervals.
    methods
        Part 2: connectivity and learned methods compared.
    max_epochs, steps_per_epoch, batch_size
        Part 2: training of the learned matchers.
    real_cohort, real_label, real_folds
        Real-data variant: the cohort loader, its label column, and the benchmark's folds.
    """

    seed: int = 0
    # part 1: LDA simulation and explanation study
    lda_preset: str = "simu1"
    lda_classes: int = 6
    n_per_class: int = 60
    n_genes: int = 2000
    models: tuple[str, ...] = ("lr", "mlp")
    runs: int = 2
    n_steps: int = N_STEPS
    n_random: int = 10
    curve_tops: tuple[int, ...] = (10, 50, 200)
    # part 2: planted drug-disease mechanisms and retrieval benchmark
    n_diseases: int = 40
    n_drugs: int = 150
    n_folds: int = 3
    n_boot: int = 1000
    methods: tuple[str, ...] = (
        "random",
        "popularity",
        "ks",
        "wtcs",
        "xsum",
        "cosine",
        "overlap",
        "paper",
        "twotower",
    )
    max_epochs: int = 10
    steps_per_epoch: int = 6
    batch_size: int = 128
    # real-data variant
    real_cohort: str = "golub_leukemia"
    real_label: str = "label"
    real_folds: int = 5

    def validate(self) -> None:
        """Refuse sizes below one before any work starts."""
        for name in (
            "lda_classes",
            "n_per_class",
            "n_genes",
            "runs",
            "n_steps",
            "n_diseases",
            "n_drugs",
            "n_folds",
            "n_boot",
            "max_epochs",
            "steps_per_epoch",
        ):
            check_count(int(getattr(self, name)), name, minimum=1)


@dataclass
class DemoResult:
    """Where the demo wrote its output and its headline numbers.

    Parameters
    ----------
    out
        The demo folder.
    report
        Its HTML report.
    summary
        Headline text, cards and tables (:func:`summarize`) and the wall time.
    seconds
        Wall time of the demo.
    """

    out: Path
    report: Path
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0


def _write_json(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- part 1
def _study_data(cfg: DemoConfig, real: bool, scratch: Path) -> tuple[list[str], dict, list[dict], str, Any]:
    """(datasets, study options, data provenance, dataset name, cohort or None) of part 1."""
    if real:
        adata = getattr(datasets, cfg.real_cohort)()
        path = scratch / f"{cfg.real_cohort}.h5ad"
        write_h5ad(adata, path)
        real_options = {"label": cfg.real_label, "curve_tops": cfg.curve_tops}
        return [str(path)], real_options, _dataset_files(cfg.real_cohort), path.stem, adata
    options: dict[str, Any] = {
        "n_per_class": cfg.n_per_class,
        "n_genes": cfg.n_genes,
        "sim_params": {"n_classes": cfg.lda_classes},
        "data_seed": cfg.seed,
        "curve_tops": cfg.curve_tops,
    }
    provenance = [
        {
            "name": "simulate_lda",
            "preset": cfg.lda_preset,
            "n_classes": cfg.lda_classes,
            "n_per_class": cfg.n_per_class,
            "n_genes": cfg.n_genes,
            "seed": cfg.seed,
        }
    ]
    return [cfg.lda_preset], options, provenance, cfg.lda_preset, None


def _explanations(out: Path, cfg: DemoConfig, real: bool, scratch: Path) -> dict:
    started = now_utc()
    data, options, provenance, name, adata = _study_data(cfg, real, scratch)
    study = dict(
        models=tuple(cfg.models),
        runs=cfg.runs,
        n_steps=cfg.n_steps,
        n_random=cfg.n_random,
        seed=cfg.seed,
        **options,
    )
    log.info("part 1: explanation study on %s (%s), %d run(s)", name, ", ".join(cfg.models), cfg.runs)
    summary = run_xai_study(data, out, **study)
    # gene names (and the simulated ground truth) for the report's heat maps
    truth = None
    if not real:
        adata, _, _, truth, _ = load_study_dataset(
            cfg.lda_preset,
            StudyConfig(**{k: v for k, v in study.items() if k in StudyConfig.__dataclass_fields__}),
        )
    info: dict[str, Any] = {"genes": list(map(str, adata.var_names))}
    if truth is not None:
        info["ground_truth"] = {str(k): list(map(str, v)) for k, v in truth.items()}
    XAI_STUDY.dataset_info(out, name).parent.mkdir(exist_ok=True)
    _write_json(info, XAI_STUDY.dataset_info(out, name))
    write_run_manifest(out, XAI_STUDY.kind, {"data": data, **study}, provenance, started=started)
    return {"summary": summary, "dataset": name}


# ----------------------------------------------------------------------------- part 2
def _real_benchmark(cfg: DemoConfig):
    """The public repurposing benchmark with the default training settings."""
    bench = load_benchmark("opentargets")
    provenance = _dataset_files("repurposing_benchmark") or _dataset_files("cmap02") + _dataset_files(
        "opentargets_disease_signatures"
    )
    params = {"labels": "opentargets", "split": "disease", "n_folds": cfg.real_folds}
    return bench, LearnedSettings(), cfg.real_folds, provenance, params


def _planted_benchmark(cfg: DemoConfig):
    """A planted-mechanism benchmark and small training settings for the learned matchers."""
    bench = simulate_planted(n_diseases=cfg.n_diseases, n_drugs=cfg.n_drugs, seed=cfg.seed)
    small: dict[str, Any] = dict(
        max_epochs=cfg.max_epochs,
        steps_per_epoch=cfg.steps_per_epoch,
        batch_size=cfg.batch_size,
        patience=3,
    )
    defaults = LearnedSettings()
    settings = LearnedSettings(
        max_genes=bench.diseases.n_vars,
        paper=replace(defaults.paper, **small),
        twotower=replace(defaults.twotower, lr=3e-3, **small),
        ensemble_seeds=1,
    )
    provenance = [
        {
            "name": "simulate_planted",
            "n_diseases": cfg.n_diseases,
            "n_drugs": cfg.n_drugs,
            "seed": cfg.seed,
            **bench.report,
        }
    ]
    params = {
        "split": "disease",
        "n_folds": cfg.n_folds,
        "training": {
            "max_epochs": cfg.max_epochs,
            "steps_per_epoch": cfg.steps_per_epoch,
            "batch_size": cfg.batch_size,
        },
    }
    return bench, settings, cfg.n_folds, provenance, params


def _matching(out: Path, cfg: DemoConfig, real: bool) -> dict:
    started = now_utc()
    bench, settings, n_folds, provenance, params = _real_benchmark(cfg) if real else _planted_benchmark(cfg)
    methods = list(cfg.methods)
    conn = [m for m in methods if m in CONNECTIVITY]
    log.info(
        "part 2: connectivity scores (%s) of %d perturbations x %d contrasts",
        ", ".join(conn),
        bench.drugs.n_obs,
        bench.diseases.n_obs,
    )
    scores = connectivity_scores(bench, conn) if conn else {}
    n_steps = n_folds * (len(methods) - ("random" in methods))
    with make_progress() as progress:
        task = progress.add_task("retrieval benchmark", total=n_steps)

        def on_step(text: str) -> None:
            log.debug("benchmark: %s", text)
            progress.advance(task)

        result = run_benchmark(
            bench,
            split="disease",
            n_folds=n_folds,
            seed=cfg.seed,
            methods=methods,
            settings=settings,
            connectivity=scores,
            n_boot=cfg.n_boot,
            on_step=on_step,
        )
    write_benchmark(result, out)
    write_run_manifest(
        out,
        MATCH_BENCHMARK.kind,
        {"methods": methods, "seed": cfg.seed, **params},
        provenance,
        started=started,
    )
    return {"metrics": result.metrics, "ratios": result.ratios, "report": result.report}


def _dataset_files(name: str) -> list[dict]:
    """Provenance entries (path, size, time, checksum) of the files of a named dataset."""
    table = datasets.list_datasets()
    row = table[table["name"].str.startswith(name)]
    if row.empty:
        return []
    root = data_dir()
    assert root is not None  # data_dir() raises rather than return None
    return [
        file_provenance(root / f.strip(), name=f"{name}: {f.strip()}")
        for f in str(row["files"].iloc[0]).split(",")
        if f.strip()
    ]


# ----------------------------------------------------------------------------- summary
def _fmt_interval(mean: float, lo: float, hi: float) -> str:
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def _classifier_rows(summary: pd.DataFrame, xai_dir: Path, cards: list[dict]) -> list[dict]:
    """One row per classifier (accuracy, agreement, gaps); appends its headline cards."""
    rows = []
    for row in summary.itertuples(index=False):
        r = row._asdict()
        entry = {
            "dataset": r["dataset"],
            "model": r["model"],
            "runs": r["n_runs"],
            "balanced_accuracy_%": round(r["balanced_accuracy_mean"], 1),
        }
        cards.append(
            {
                "label": f"{r['model']}: balanced accuracy",
                "value": f"{r['balanced_accuracy_mean']:.1f}%",
                "note": f"sd {r['balanced_accuracy_sd']:.1f} over {r['n_runs']} runs",
            }
        )
        if "fa_local_mean" in r and pd.notna(r.get("fa_local_mean")):
            rand = fa_random_expectation(xai_dir, str(r["dataset"]), str(r["model"]))
            entry.update(
                {
                    "fa_local_%": round(r["fa_local_mean"], 1),
                    "fa_global_%": round(r["fa_global_mean"], 1),
                    "fa_random_%": None if rand is None else round(rand, 1),
                }
            )
            cards.append(
                {
                    "label": f"{r['model']}: feature agreement local / global",
                    "value": f"{r['fa_local_mean']:.0f}% / {r['fa_global_mean']:.0f}%",
                    "note": f"random ranking: {rand:.1f}%" if rand is not None else "",
                }
            )
        if "pgi_local_mean" in r:
            entry.update(
                {"pgi_local_%": round(r["pgi_local_mean"], 1), "pgu_local_%": round(r["pgu_local_mean"], 1)}
            )
        rows.append(entry)
    return rows


def _retrieval_cards(metrics: pd.DataFrame, cards: list[dict]) -> None:
    """MAP cards: best learned and best connectivity method (by selection MAP), the baselines."""
    by = metrics.set_index("method")

    def card(method: str, label: str) -> None:
        if method in by.index:
            r = by.loc[method]
            cards.append(
                {
                    "label": label,
                    "value": f"{r['average_precision']:.3f}",
                    "note": f"95% interval [{r['average_precision_lo']:.3f}, "
                    f"{r['average_precision_hi']:.3f}]",
                }
            )

    selection = by["sel_map"]
    best_learned = choose_method(selection, [x for x in LEARNED if x in by.index])
    best_conn = choose_method(selection, [x for x in CONNECTIVITY if x in by.index])
    if best_learned:
        card(best_learned, f"MAP {best_learned} (best learned, by selection MAP)")
    if best_conn:
        card(best_conn, f"MAP {best_conn} (best connectivity, by selection MAP)")
    card("popularity", "MAP popularity baseline")
    card("random", "MAP random ranking")


def _summary_text(xai: dict, match: dict, xrows: list[dict], mp: pd.DataFrame, real: bool) -> list[str]:
    """The summary's sentences: what ran, the classifiers, the retrieval and its ratios."""
    source = "the public data" if real else "simulated data with a known answer"
    text = [f"This demo ran both halves of exprlab on {source}."]
    acc = ", ".join(f"{e['model']} {e['balanced_accuracy_%']:.1f}%" for e in xrows)
    line = f"Classifiers on {xai['dataset']} (balanced test accuracy): {acc}."
    if any(e.get("fa_local_%") is not None for e in xrows):
        line += (
            " Feature agreement of Integrated Gradients with the simulated informative "
            "genes (local / global): "
            + ", ".join(
                f"{e['model']} {e['fa_local_%']:.0f}% / {e['fa_global_%']:.0f}%"
                for e in xrows
                if e.get("fa_local_%") is not None
            )
            + f"; a random gene ranking would agree {xrows[0].get('fa_random_%')}%."
        )
    text.append(line)
    rep = match["report"]
    maps = ", ".join(
        f"{r.method} {_fmt_interval(r.MAP, r.MAP_lo, r.MAP_hi)}" for r in mp.itertuples(index=False)
    )
    text.append(
        f"Retrieval on held-out diseases ({rep.get('n_folds')} folds, "
        f"{rep.get('n_diseases_evaluated')} diseases, {rep.get('n_candidates')} candidate "
        f"drugs), mean average precision [95% interval]: {maps}."
    )
    for r in match["ratios"].itertuples(index=False):
        text.append(f"MAP ratio {r.numerator} / {r.denominator}: {r.ratio:.2f} [{r.lo:.2f}, {r.hi:.2f}].")
    return text


def summarize(xai: dict, match: dict, xai_dir: Path, real: bool) -> dict:
    """Headline numbers of a demo for the top of its report and the terminal.

    Parameters
    ----------
    xai
        Part 1's result: its ``summary`` table and ``dataset`` name.
    match
        Part 2's result: its ``metrics``, ``ratios`` and ``report`` (benchmark design).
    xai_dir
        Part 1's study folder.
    real
        Whether the demo ran on the public data.

    Returns
    -------
    dict
        ``text`` (sentences), ``cards`` (label, value, note) and ``tables`` (caption → rows).
    """
    cards: list[dict] = []
    xrows = _classifier_rows(xai["summary"], xai_dir, cards)
    mp = map_summary(match["metrics"])
    tables = {
        "Classifiers and explanations": xrows,
        "Retrieval on held-out diseases (MAP, 95% interval)": [
            {"method": r.method, "MAP": round(r.MAP, 4), "lo": round(r.MAP_lo, 4), "hi": round(r.MAP_hi, 4)}
            for r in mp.itertuples(index=False)
        ],
    }
    _retrieval_cards(match["metrics"], cards)
    return {"text": _summary_text(xai, match, xrows, mp, real), "cards": cards, "tables": tables}


# ----------------------------------------------------------------------------- entry point
def run_demo(
    out: str | os.PathLike, *, real: bool = False, config: DemoConfig | None = None, threads: int = 1
) -> DemoResult:
    """Run the demo and write ``out`` (replaced atomically as a whole).

    Parameters
    ----------
    out
        Output folder: ``run.json``, ``exprlab.log``, ``explanations/``, ``matching/``,
        ``report.html``.
    real
        Run on the public data (``EXPRLAB_DATA``) instead of simulations; takes minutes.
    config
        Sizes (:class:`DemoConfig`).
    threads
        torch threads while training (1 is fastest for the demo's small models).

    Returns
    -------
    DemoResult
        Where the demo and its report were written, its headline numbers and wall time.
    """
    cfg = config or DemoConfig()
    cfg.validate()
    if real:
        data_dir()  # fail early, with the fix, when the public data are absent
    start, started = time.perf_counter(), now_utc()
    out = Path(out)
    with atomic_dir(out) as tmp:
        # Scratch files live inside the temporary output, so a killed run leaves them only where
        # the next run's clean-up of dead writers' leftovers finds them.
        scratch = tmp / ".scratch"
        scratch.mkdir()
        attach_log_file(tmp)
        try:
            log.info("exprlab demo (%s data) writing %s", "public" if real else "simulated", out)
            (tmp / DEMO.explanations).mkdir()
            with torch_threads(threads):
                xai = _explanations(tmp / DEMO.explanations, cfg, real, scratch)
                match = _matching(tmp / DEMO.matching, cfg, real)
            summary = summarize(xai, match, tmp / DEMO.explanations, real)
            seconds = time.perf_counter() - start
            summary["seconds"] = round(seconds, 1)
            params = {"real": real, **asdict(cfg)}
            provenance = [
                dict(entry, part=part)
                for part in (DEMO.explanations, DEMO.matching)
                for entry in (read_run_manifest(tmp / part) or {}).get("data_provenance", [])
            ]
            write_run_manifest(tmp, DEMO.kind, params, provenance, started=started, summary=summary)
            render_report(tmp, tmp / REPORT, name=out.name)
            log.info("demo finished in %.0f s", seconds)
        finally:
            close_log_file()
            shutil.rmtree(scratch, ignore_errors=True)
    return DemoResult(out=out, report=out / REPORT, summary=summary, seconds=seconds)
