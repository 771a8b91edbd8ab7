"""Reports of drug-disease matching runs: the retrieval benchmark, a trained matcher, a ranking.

``match-benchmark`` (``exprlab match benchmark``) states its key finding in one sentence, shows
the metric table, metric bars with the random and popularity baselines, the paired comparisons
read as method against baseline, precision-recall curves and the training curves;
``match-train`` (``exprlab match train``) the ensemble members and their validation MAP;
``match-predict`` (``exprlab match predict --out``) the ranked drugs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._runs import MATCH_BENCHMARK, MATCH_EXPLANATION, MATCH_PREDICT, MATCH_TRAIN
from exprlab.errors import FormatError
from exprlab.evaluate import GENE_DEPENDENCE, MOSTLY_DRUG_ONLY, choose_method, gene_dependence_words
from exprlab.report import _plots as plots
from exprlab.report._format import fmt, fmt_interval, label, with_intervals
from exprlab.report._html import HtmlReport, Section
from exprlab.report._manifest import read_run_manifest
from exprlab.report._registry import guarded, progress_hint, read_table, register_renderer, try_read
from exprlab.report._repurposing_plots import RECALL_GRID, mean_pr_curve

__all__ = ["map_summary", "key_finding", "render_match", "render_explanation", "SHOWN_METRICS"]

#: the retrieval metrics (a selection of :data:`exprlab.evaluate.METRICS`) the report shows
SHOWN_METRICS = (
    "average_precision",
    "precision_at_10",
    "recall_at_50",
    "ndcg_at_10",
    "reciprocal_rank",
    "roc_auc",
    "hits_at_10",
)
_BASELINES = ("random", "popularity")


def map_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Method, MAP and its interval, as text-friendly columns (for summaries).

    Parameters
    ----------
    metrics
        A retrieval benchmark's summary table.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``n_diseases``, ``MAP``, ``MAP_lo``, ``MAP_hi`` (those present).
    """
    cols = [
        c
        for c in ("method", "n_diseases", "average_precision", "average_precision_lo", "average_precision_hi")
        if c in metrics
    ]
    return metrics[cols].rename(
        columns={
            "average_precision": "MAP",
            "average_precision_lo": "MAP_lo",
            "average_precision_hi": "MAP_hi",
        }
    )


def _interval(row: pd.Series, metric: str) -> str:
    lo, hi = row.get(f"{metric}_lo"), row.get(f"{metric}_hi")
    return f" {fmt_interval(lo, hi)}" if lo is not None and hi is not None else ""


def _versus_baselines(table: pd.DataFrame, method: str, ratios: pd.DataFrame | None) -> list[str]:
    """``1.84× popularity [1.2, 2.5]`` for each baseline (interval when the ratio table has it)."""
    parts = []
    for base in _BASELINES[::-1]:
        if base not in table.index:
            continue
        hit = None
        if ratios is not None and not ratios.empty:
            rows = ratios[(ratios["numerator"] == method) & (ratios["denominator"] == base)]
            hit = rows.iloc[0] if len(rows) else None
        if hit is not None:
            parts.append(f"{fmt(hit['ratio'])}× {base} [{fmt(hit['lo'])}, {fmt(hit['hi'])}]")
        elif float(table.loc[base, "average_precision"]) > 0:
            ratio = float(table.loc[method, "average_precision"]) / float(
                table.loc[base, "average_precision"]
            )
            parts.append(f"{fmt(ratio)}× {base}")
    return parts


def key_finding(metrics: pd.DataFrame, ratios: pd.DataFrame | None = None, split: str = "disease") -> str:
    """The benchmark's result in one sentence, computed from its metric and ratio tables.

    The method named is the one with the highest selection MAP among all but the baselines (a
    choice made on a part of the training labels no method used, never on the test folds;
    docs/methods.md §2.4). A run folder written before the selection part existed has only a
    validation MAP, and a run without inner parts neither: the method is then the one with the
    highest validation MAP, or the highest test MAP, and the sentence says which. When the
    benchmark's ratio table compares another method (its best learned one), a second clause
    gives that method too.

    Parameters
    ----------
    metrics
        ``metrics.tsv``: ``method``, ``average_precision`` (+ ``_lo``/``_hi``, ``val_map``,
        ``sel_map``).
    ratios
        ``ratios.tsv`` (``numerator``, ``denominator``, ``ratio``, ``lo``, ``hi``), if any.
    split
        What the folds hold out (``disease``, ``drug``, ``pair``).

    Returns
    -------
    str
        E.g. ``Best method on held-out diseases (chosen on selection MAP): xsum, MAP 0.625
        [0.549, 0.702], 1.9× popularity, 5.48× random.``
    """
    table = metrics.set_index(metrics["method"].astype(str))
    methods = [m for m in table.index if m not in _BASELINES]
    if not methods:
        return "Only baselines were run: there is no method to compare with them."
    best, how = None, "highest test MAP, no validation choice recorded"
    for column, words in (("sel_map", "chosen on selection MAP"), ("val_map", "chosen on validation MAP")):
        if column in table:
            best = choose_method(table[column].astype(float), methods)
        if best is not None:
            how = words
            break
    if best is None:
        best = str(table.loc[methods, "average_precision"].astype(float).idxmax())
    held = {"disease": "held-out diseases", "drug": "held-out drugs", "pair": "held-out pairs"}.get(
        split, f"held-out {split}s"
    )
    row = table.loc[best]
    first = f"Best method on {held} ({how}): {best}, MAP {fmt(row['average_precision'])}"
    sentence = ", ".join(
        [first + _interval(row, "average_precision"), *_versus_baselines(table, best, ratios)]
    )
    learned = str(ratios["numerator"].iloc[0]) if ratios is not None and not ratios.empty else best
    if learned != best and learned in table.index:
        other = table.loc[learned]
        clause = f"best learned method: {learned}, MAP {fmt(other['average_precision'])}"
        clause += _interval(other, "average_precision")
        sentence += "; " + ", ".join([clause, *_versus_baselines(table, learned, ratios)])
    return sentence + "."


def _overview(sec: Section, run_dir: Path, metrics: pd.DataFrame) -> None:
    """The benchmark's design (from its info file) and the metric table."""
    info = _design(run_dir)
    if not info:
        sec.note(
            f"{MATCH_BENCHMARK.info} is missing or damaged: the split, folds and data sizes are not known."
        )
    else:
        sec.paragraph(
            f"Split by held-out {info.get('split', '?')}, {info.get('n_folds', '?')} folds "
            f"(seed {info.get('seed', '?')}); {info.get('n_indications_used', '?')} indications "
            f"over {info.get('n_diseases_evaluated', '?')} diseases; "
            f"{info.get('n_candidates', '?')} candidate drugs ranked for every test disease; "
            f"{info.get('n_genes', '?')} genes."
        )
    sec.paragraph(
        "Each metric is the mean over test diseases followed by its 95% bootstrap interval over "
        f"diseases in brackets (the ends are separate columns in {MATCH_BENCHMARK.metrics}). "
        "'random' is the exact expectation under a random ranking; 'popularity' ranks drugs by "
        "their number of training indications and reads no gene."
    )
    shown = ["method", "n_diseases"] + [c for c in ("val_map", "sel_map") if c in metrics]
    for m in SHOWN_METRICS:
        if m in metrics:
            shown += [m] + [c for c in (f"{m}_lo", f"{m}_hi") if c in metrics]
    sec.table(
        with_intervals(metrics[[c for c in shown if c in metrics]]),
        caption=MATCH_BENCHMARK.metrics,
        source=run_dir / MATCH_BENCHMARK.metrics,
    )
    _gene_dependence(sec, metrics)


def _gene_dependence(sec: Section, metrics: pd.DataFrame) -> None:
    """How much of each ranking a drug-only score explains, in words and numbers."""
    words = gene_dependence_words(metrics)
    if not words:
        return
    sec.heading("What each ranking is made of")
    sec.paragraph(
        "Each test disease's scores are fitted by an affine function of a drug-only score "
        "(the drug's mean score over the fold's test diseases; docs/methods.md §2). The drug-only R² "
        "is the share of score variance that fit explains, the remainder MAP the MAP of what is "
        f"left (the disease-specific part). Above R² = {MOSTLY_DRUG_ONLY} a ranking is "
        "called mostly drug popularity."
    )
    for line in words:
        sec.paragraph(line)
    cols = ["method"] + [c for g in GENE_DEPENDENCE for c in (g, f"{g}_lo", f"{g}_hi") if c in metrics]
    sec.table(with_intervals(metrics[cols]), caption="Drug-only fit of each ranking (from metrics.tsv)")


def _bars(sec: Section, metrics: pd.DataFrame) -> None:
    """MAP and nDCG@10 per method, each with its random and popularity baselines."""
    for metric, title in (
        ("average_precision", "Mean average precision (MAP) per method"),
        ("ndcg_at_10", "nDCG@10 per method"),
    ):
        if metric not in metrics:
            continue
        ref = {}
        for name in _BASELINES:
            row = metrics[metrics["method"] == name]
            if len(row) and np.isfinite(float(row[metric].iloc[0])):
                ref[f"{name} baseline"] = float(row[metric].iloc[0])
        sec.image(
            plots.bars_with_intervals(
                metrics["method"].astype(str).tolist(),
                metrics[metric],
                metrics.get(f"{metric}_lo"),
                metrics.get(f"{metric}_hi"),
                title=f"{title} (95% bootstrap interval)",
                ylabel=f"{label(metric)} (mean over test diseases)",
                reference=ref,
            ),
            f"{label(metric)} with 95% intervals; dashed lines: the random and popularity baselines.",
        )


def _comparisons(sec: Section, run_dir: Path) -> None:
    """MAP ratios and paired tests, each read as method against baseline (> 1 / > 0: method better)."""
    ratios_path = run_dir / MATCH_BENCHMARK.ratios
    tests_path = run_dir / MATCH_BENCHMARK.paired_tests
    for path in (ratios_path, tests_path):
        if not path.is_file():
            sec.note(f"{path.name} is missing from the run folder, so its comparisons are not shown.")
    if ratios_path.is_file() and ratios_path.stat().st_size > 1:
        r = read_table(ratios_path, required=("numerator", "denominator", "ratio", "lo", "hi"))
        sec.table(
            pd.DataFrame(
                {
                    "method": r["numerator"],
                    "baseline": r["denominator"],
                    "ratio (method / baseline; > 1: method better)": r["ratio"],
                    "95% low": r["lo"],
                    "95% high": r["hi"],
                    "diseases": r.get("n"),
                }
            ),
            caption="MAP ratios of the learned method chosen on selection MAP to the best connectivity "
            "method, popularity and random (bootstrap over diseases)",
            source=ratios_path,
        )
    if tests_path.is_file() and tests_path.stat().st_size > 1:
        t = read_table(
            tests_path, required=("method", "reference", "metric", "n", "mean_diff", "wins", "losses")
        )
        # the file holds reference - other; the reference is the method, the other the baseline
        sec.table(
            pd.DataFrame(
                {
                    "method": t["reference"],
                    "baseline": t["method"],
                    "metric": t["metric"].map(label),
                    "diseases": t["n"],
                    "mean difference (method − baseline; > 0: method better)": t["mean_diff"],
                    "method better on": t["wins"],
                    "baseline better on": t["losses"],
                    "p (Wilcoxon, two-sided)": t["p_value"],
                }
            ),
            caption="Paired tests over diseases: the learned method chosen on selection MAP against every other",
            source=tests_path,
        )


def _choice(sec: Section, path: Path) -> None:
    """Each method's validation MAP (what it was stopped or tuned on) and selection MAP (what chose)."""
    table = read_table(path, required=("method", "fold", "val_map", "sel_map"))
    by = table.groupby("method", sort=False)
    summary = pd.DataFrame(
        {
            "method": list(by.groups),
            "val_map": by["val_map"].mean().to_numpy(),
            "sel_map": by["sel_map"].mean().to_numpy(),
            "lowest selection MAP of a fold": by["sel_map"].min().to_numpy(),
            "highest selection MAP of a fold": by["sel_map"].max().to_numpy(),
        }
    )
    sec.paragraph(
        "Which part chose: the best methods are those with the highest mean selection MAP, "
        "measured on a part of each fold's training labels that no method was trained, stopped, "
        "tuned or fitted on (docs/methods.md §2.4). The validation MAP is what each method was "
        "stopped or tuned on; for an early-stopped network it is the best of its epochs, so it "
        "flatters the network and chooses nothing."
    )
    sec.table(summary, caption="Validation and selection MAP (means over folds)", source=path)


def _per_disease(sec: Section, path: Path) -> None:
    """Average precision of every method on every test disease (diseases × methods)."""
    table = read_table(path, required=("method", "disease", "average_precision"))
    wide = table.pivot_table(index="disease", columns="method", values="average_precision", sort=False)
    wide = wide[[m for m in table["method"].drop_duplicates() if m in wide.columns]]
    sec.table(
        wide.reset_index(),
        caption="Average precision per test disease (one column per method)",
    )  # a cut one links a copy of this wide table, not the long per_disease.tsv


def _predictions(sec: Section, pred_path: Path, metrics: pd.DataFrame) -> None:
    """Precision-recall curves and score distributions of the test pairs."""
    pred = read_table(pred_path, required=("method", "fold", "disease", "rank", "indicated", "score"))
    curves = {str(m): (RECALL_GRID, mean_pr_curve(p)) for m, p in pred.groupby("method", sort=False)}
    ref = {}
    if "random" in set(metrics["method"]):
        ref["random ranking (expected precision)"] = float(
            metrics.loc[metrics["method"] == "random", "average_precision"].iloc[0]
        )
    sec.heading("Precision-recall")
    sec.image(
        plots.curves_xy(
            curves,
            title="Precision-recall (mean over test diseases)",
            xlabel="recall",
            ylabel="interpolated precision",
            xlim=(0, 1),
            reference=ref,
        ),
        "Interpolated precision-recall curves averaged over test diseases, each method in its own "
        "colour and line style; black dashed: the precision expected of a random ranking.",
    )
    sec.heading("Score distributions")
    for method, part in pred.groupby("method", sort=False):
        if str(method) in _BASELINES:
            continue
        ind = part["indicated"].fillna(False).astype(bool).to_numpy()
        sec.image(
            plots.distributions(
                {
                    "indicated pairs": part["score"].to_numpy()[ind],
                    "other candidate pairs": part["score"].to_numpy()[~ind],
                },
                title=f"{method}: scores of test pairs",
                xlabel=f"score given by {method} (higher = ranked first)",
                central=0.99,
            ),
            f"{method}: distribution of scores of indicated vs other test pairs "
            "(the central 99% of all scores; the most extreme 1% are left out of the axis).",
        )


def _training_curves(sec: Section, history_path: Path, metrics: pd.DataFrame) -> None:
    """Validation MAP per epoch of every learned model, next to the method's test MAP."""
    hist = read_table(history_path, required=("method", "fold", "member", "epoch", "val_map", "chosen"))
    sec.heading("Training curves")
    test_map = metrics.set_index("method")["average_precision"]
    for method, part in hist.groupby("method", sort=False):
        curves = {
            f"fold {f}" + (f" seed {m}" if part["member"].nunique() > 1 else ""): (
                g["epoch"].to_numpy(),
                g["val_map"].to_numpy(),
            )
            for (f, m), g in part.groupby(["fold", "member"], sort=True)
        }
        chosen = part[part["chosen"].astype(bool)]["val_map"]
        test = test_map.get(method, float("nan"))
        sec.image(
            plots.curves_xy(
                curves,
                title=f"{method}: validation MAP per epoch ({len(curves)} models)",
                xlabel="epoch",
                ylabel="validation MAP",
                integer_x=True,
                reference={"test MAP of the method": float(test)} if np.isfinite(test) else None,
            ),
            f"{method}: inner-validation MAP after each epoch, one line per fold (and "
            f"seed). Early stopping keeps each curve's best epoch: mean {fmt(chosen.mean())} "
            f"at the chosen epochs against {fmt(part['val_map'].mean())} over all epochs; "
            f"test MAP {fmt(test)}. A chosen maximum over a noisy curve is optimistic.",
        )


def read_run_manifest_quietly(run_dir: Path) -> dict | None:
    """The run's manifest, ``None`` when it is missing or damaged (the report says so at its end)."""
    try:
        return read_run_manifest(run_dir)
    except (OSError, ValueError, FormatError):
        return None


def _design(run_dir: Path) -> dict:
    """The benchmark's design as its info file records it (empty when missing or damaged)."""
    try:
        return dict(json.loads((run_dir / MATCH_BENCHMARK.info).read_text()).get("report", {}))
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def render_match(report: HtmlReport, run_dir: Path, title: str = "Retrieval benchmark") -> None:
    """The sections of a retrieval benchmark folder (``exprlab match benchmark``).

    Parameters
    ----------
    report
        The report being built.
    run_dir
        The benchmark folder.
    title
        Title of the main section.

    Returns
    -------
    None
    """
    sec = report.section(title)
    progress_hint(sec, read_run_manifest_quietly(run_dir))
    metrics = try_read(
        sec,
        run_dir / MATCH_BENCHMARK.metrics,
        "the key finding, metric table and plots",
        required=("method", "average_precision"),
    )
    if metrics is None:
        guarded(sec, "ratios and paired tests", lambda: _comparisons(sec, run_dir))
        return
    ratios = None
    ratios_path = run_dir / MATCH_BENCHMARK.ratios
    # a benchmark without a learned method writes an empty ratios.tsv: no ratios, not damage
    if ratios_path.is_file() and ratios_path.stat().st_size > 1:
        ratios = try_read(
            sec,
            ratios_path,
            "the intervals of the key finding",
            required=("numerator", "denominator", "ratio", "lo", "hi"),
        )
    split = _design(run_dir).get("split", "disease")
    guarded(sec, "key finding", lambda: sec.finding(key_finding(metrics, ratios, split)))
    guarded(sec, "design and metric table", lambda: _overview(sec, run_dir, metrics))
    guarded(sec, "metric bars", lambda: _bars(sec, metrics))
    guarded(sec, "ratios and paired tests", lambda: _comparisons(sec, run_dir))
    guarded(sec, MATCH_BENCHMARK.validation, lambda: _choice(sec, run_dir / MATCH_BENCHMARK.validation))
    guarded(
        sec, MATCH_BENCHMARK.per_disease, lambda: _per_disease(sec, run_dir / MATCH_BENCHMARK.per_disease)
    )
    pred_path = run_dir / MATCH_BENCHMARK.predictions
    guarded(sec, MATCH_BENCHMARK.predictions, lambda: _predictions(sec, pred_path, metrics))
    history_path = run_dir / MATCH_BENCHMARK.training_history
    if history_path.is_file():
        guarded(sec, MATCH_BENCHMARK.training_history, lambda: _training_curves(sec, history_path, metrics))
    else:
        sec.note(
            f"No training curves: {history_path.name} is not in the run folder (it is written when "
            "learned methods ran)."
        )


def _render_train(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """A trained matcher folder (``exprlab match train``): architecture, members, labels used."""
    sec = report.section("Trained matcher")
    try:
        meta = json.loads((run_dir / MATCH_TRAIN.model).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        sec.note(f"{MATCH_TRAIN.model} could not be read, so the model is not described: {err}")
        return
    members = pd.DataFrame(meta.get("members") or [])
    n_genes = "?"
    if (run_dir / MATCH_TRAIN.genes).is_file():
        n_genes = str(len((run_dir / MATCH_TRAIN.genes).read_text().split()))
    sec.finding(
        f"A {meta.get('architecture', '?')} matcher, {len(members)} ensemble "
        f"member{'s' if len(members) != 1 else ''} on {n_genes} genes"
        + (
            f"; validation MAP {fmt(members['val_map'].mean())} (mean over members)"
            if "val_map" in members
            else ""
        )
        + "."
    )
    sec.paragraph(
        "Each member is trained on every label with early stopping on a held-out-disease "
        "validation part; its validation MAP is the maximum over epochs, so it is optimistic. "
        "Held-out performance is measured by `exprlab match benchmark`, not here."
    )
    if not members.empty:
        sec.table(members, caption="Ensemble members")
    labels_used = meta.get("labels") or {}
    if labels_used:
        sec.heading("Labels")
        sec.key_values({label(k): fmt(v) for k, v in labels_used.items() if not isinstance(v, dict | list)})
    training = meta.get("training")
    if isinstance(training, dict):
        sec.heading("Training settings")
        sec.key_values(
            {label(k): json.dumps(v) if isinstance(v, dict | list) else fmt(v) for k, v in training.items()}
        )


def _popularity_words(sec: Section, summary: dict, ranking: pd.DataFrame) -> None:
    """How much of a predicted list is drug popularity, and what its two extra columns mean."""
    r2 = summary.get("drug_r2")
    if r2 is not None and np.isfinite(float(r2)):
        verdict = (
            "this list is mostly drug popularity: the same drugs lead for most diseases"
            if float(r2) > MOSTLY_DRUG_ONLY
            else "the list depends on the disease"
        )
        sec.paragraph(
            f"A drug-only score (each drug's mean score over reference diseases) explains "
            f"R² = {fmt(r2)} of this disease's scores: {verdict} (threshold {fmt(MOSTLY_DRUG_ONLY)}; "
            "docs/methods.md §2.5)."
        )
    if {"drug_only", "popularity_share"} <= set(ranking.columns):
        sec.paragraph(
            "Columns: drug-only score = the part of the score a shared drug order predicts; "
            "popularity share = how much of the drug's distance from an average drug that order "
            "accounts for (1: all of it, 0: none)."
        )


def _render_predict(report: HtmlReport, run_dir: Path, manifest: dict | None) -> None:
    """A ranking of drugs for one disease signature (``exprlab match predict --out``)."""
    sec = report.section("Drugs ranked for the disease")
    ranking = try_read(
        sec, run_dir / MATCH_PREDICT.ranking, "the ranking and its plot", required=("rank", "drug", "score")
    )
    if ranking is None:
        return
    params = (manifest or {}).get("parameters") or {}
    if len(ranking):
        best = ranking.iloc[0]
        sec.finding(
            f"Top drug for {Path(str(params.get('disease', 'the disease'))).name}: {best['drug']} "
            f"(score {fmt(best['score'])}); the {len(ranking)} best drugs as ranked by the matcher "
            f"in {Path(str(params.get('model', '?'))).name}/."
        )
    _popularity_words(sec, (manifest or {}).get("summary") or {}, ranking)
    sec.table(ranking, caption="Ranked drugs, best first", source=run_dir / MATCH_PREDICT.ranking)
    guarded(
        sec,
        "score plot",
        lambda: sec.image(
            plots.bars_with_intervals(
                ranking["drug"].astype(str).head(30).tolist(),
                ranking["score"].head(30),
                title="Match score of the best-ranked drugs",
                ylabel="match score (model output)",
            ),
            f"Scores of the first {min(30, len(ranking))} drugs of the ranking.",
        ),
    )


def render_explanation(report: HtmlReport, run_dir: Path, title: str | None = None) -> None:
    """One explained match (``exprlab match explain``): score, top genes, pathways, plot."""
    try:
        summary = json.loads((run_dir / MATCH_EXPLANATION.summary).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        summary = {"error": f"{MATCH_EXPLANATION.summary} could not be read: {err}"}
    drug, disease = summary.get("drug", "?"), summary.get("disease", "?")
    sec = report.section(title or f"Why {drug} for {disease}")
    if "error" in summary:
        sec.note(str(summary["error"]))
    sec.paragraph(
        f"Match score of {drug} for {disease}: {fmt(summary.get('score'))} "
        f"(largest completeness gap of the attributions: "
        f"{fmt(summary.get('max_abs_delta'))}). Integrated Gradients "
        "split the score over the disease's and the drug's genes; pathways aggregate "
        "the gene attributions."
    )
    if (run_dir / MATCH_EXPLANATION.plot).is_file():
        guarded(
            sec,
            "explanation plot",
            lambda: sec.image(
                (run_dir / MATCH_EXPLANATION.plot).read_bytes(), f"Top genes and pathways: {drug} / {disease}"
            ),
        )
    guarded(
        sec,
        MATCH_EXPLANATION.genes,
        lambda: sec.table(
            read_table(run_dir / MATCH_EXPLANATION.genes, required=("gene",)),
            caption="Top genes by attribution",
            source=run_dir / MATCH_EXPLANATION.genes,
        ),
    )
    if summary.get("top_pathways") and not (run_dir / MATCH_EXPLANATION.pathways).is_file():
        sec.note(f"{MATCH_EXPLANATION.pathways} is missing, so the enriched pathways are not listed.")
    if (run_dir / MATCH_EXPLANATION.pathways).is_file():
        guarded(
            sec,
            MATCH_EXPLANATION.pathways,
            lambda: sec.table(
                read_table(run_dir / MATCH_EXPLANATION.pathways, required=("pathway",)),
                caption="Top pathways",
                source=run_dir / MATCH_EXPLANATION.pathways,
            ),
        )


register_renderer(
    MATCH_BENCHMARK.kind,
    lambda report, path, manifest: render_match(report, path),
    title="exprlab drug-disease retrieval benchmark",
)
register_renderer(MATCH_TRAIN.kind, _render_train, title="exprlab trained matcher")
register_renderer(MATCH_PREDICT.kind, _render_predict, title="exprlab drug ranking")
register_renderer(
    MATCH_EXPLANATION.kind,
    lambda report, path, manifest: render_explanation(report, path),
    title="exprlab match explanation",
)
