"""The run-folder contract: the kinds of run and the files each kind writes and the report reads.

Every command that writes a run folder names its files from here, and :mod:`exprlab.report`
reads them by the same names, so a file is renamed in one place. The kind of a run is stored in
its manifest (``run.json``); the values are those of existing run folders and do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from exprlab._logging import LOG_FILE

__all__ = [
    "MANIFEST",
    "REPORT",
    "LOG",
    "RunKind",
    "KINDS",
    "SCORE",
    "MATCH_BENCHMARK",
    "XAI_STUDY",
    "MATCH_EXPLANATION",
    "DEMO",
    "BIOMARKERS",
    "BiomarkerFiles",
    "CLASSIFIER",
    "EXPLANATION",
    "ClassifierFiles",
    "ExplanationFiles",
    "SIGNATURE_SEARCH",
    "ScoreFiles",
    "MatchBenchmarkFiles",
    "XaiStudyFiles",
    "MatchExplanationFiles",
    "DemoFiles",
    "SignatureSearchFiles",
    "LIBRARY",
    "MATCH_TRAIN",
    "MATCH_PREDICT",
    "LibraryFiles",
    "MatchTrainFiles",
    "MatchPredictFiles",
    "manifest_path",
]

#: the manifest every run folder holds: kind, parameters, versions, data provenance
MANIFEST = "run.json"
#: the HTML report rendered into a run folder
REPORT = "report.html"
#: the run's own log (debug level)
LOG = LOG_FILE

RunKind = Literal[
    "score",
    "match-benchmark",
    "xai-study",
    "demo",
    "match-explanation",
    "biomarkers",
    "classifier",
    "explanation",
    "signature-search",
    "library",
    "matcher",
    "match-predict",
]
#: the kinds of run a report knows how to render
KINDS: tuple[RunKind, ...] = (
    "score",
    "match-benchmark",
    "xai-study",
    "demo",
    "match-explanation",
    "biomarkers",
    "classifier",
    "explanation",
    "signature-search",
    "library",
    "matcher",
    "match-predict",
)


def manifest_path(output: Path) -> Path:
    """Where the manifest of an output lives: ``<folder>/run.json``, or ``<file>.run.json`` beside a file.

    Commands whose result is one file (``exprlab score``, ``exprlab library build``) keep their
    manifest beside it, so that several results can share a folder.

    Parameters
    ----------
    output
        A run folder, or the result file of a one-file command.

    Returns
    -------
    Path
        The manifest's path (it may not exist).
    """
    output = Path(output)
    if output.is_dir():
        return output / MANIFEST
    return output.with_name(output.name + "." + MANIFEST)


@dataclass(frozen=True)
class ScoreFiles:
    """``exprlab score``: one or more score tables (tidy ``query``/``score`` or a matrix)."""

    kind: RunKind = "score"
    suffixes: tuple[str, ...] = (".parquet", ".tsv")


@dataclass(frozen=True)
class MatchBenchmarkFiles:
    """``exprlab match benchmark``: retrieval metrics of every method on held-out folds."""

    kind: RunKind = "match-benchmark"
    metrics: str = "metrics.tsv"
    per_disease: str = "per_disease.tsv"
    predictions: str = "predictions.parquet"
    paired_tests: str = "paired_tests.tsv"
    ratios: str = "ratios.tsv"
    validation: str = "validation.tsv"
    training_history: str = "training_history.tsv"
    info: str = "report.json"
    pr_curves_plot: str = "pr_curves.png"
    metric_bars_plot: str = "metric_bars.png"


@dataclass(frozen=True)
class XaiStudyFiles:
    """``exprlab xai-study``: per-run folders ``runs/<dataset>/<model>/runNN`` and summaries."""

    kind: RunKind = "xai-study"
    summary: str = "summary.tsv"
    runs_table: str = "runs.tsv"
    model_agreement: str = "stability_models.tsv"
    options: str = "study.json"
    runs: str = "runs"
    datasets: str = "datasets"
    # inside one run folder; ``metrics.json`` is written last and marks the run finished
    run_metrics: str = "metrics.json"
    fa_per_class: str = "fa_per_class.tsv"
    global_scores: str = "global_scores.npz"
    curves: str = "curves.tsv"
    # keep/remove curves of every dataset × model: mean and interval over runs and random repeats
    curves_summary: str = "curves_summary.tsv"
    fa_plot: str = "fa_bars.png"
    pg_plot: str = "pg_bars.png"

    def model_dir(self, root: Path, dataset: str, model: str) -> Path:
        """The folder holding one dataset × model's runs."""
        return Path(root) / self.runs / dataset / model

    def run_dir(self, root: Path, dataset: str, model: str, run: int) -> Path:
        """The folder of one run (``run00``, ``run01`` ...)."""
        return self.model_dir(root, dataset, model) / f"run{run:02d}"

    def run_files(self, model_dir: Path, name: str) -> list[Path]:
        """The file ``name`` of every run of a dataset × model, in run order."""
        return sorted(Path(model_dir).glob(f"run*/{name}"))

    def dataset_info(self, root: Path, dataset: str) -> Path:
        """Gene names (and the simulated ground truth) of a dataset, for the report."""
        return Path(root) / self.datasets / f"{dataset}.json"

    def curves_plot(self, dataset: str, model: str) -> str:
        """File name of one dataset × model's retraining-curve plot."""
        return f"curves_{dataset}_{model}.png"


@dataclass(frozen=True)
class MatchExplanationFiles:
    """``exprlab match explain``: why a matcher ranks one drug for one disease."""

    kind: RunKind = "match-explanation"
    summary: str = "summary.json"
    genes: str = "genes.tsv"
    pairs: str = "pairs.tsv"
    pathways: str = "pathways.tsv"
    plot: str = "explanation.png"


@dataclass(frozen=True)
class SignatureSearchFiles:
    """``exprlab search``: scores with p-values and FDR, perturbagen summaries, hit enrichment."""

    kind: RunKind = "signature-search"
    hits: str = "hits.tsv"
    perturbagens: str = "perturbagens.tsv"
    enrichment: str = "enrichment.tsv"


@dataclass(frozen=True)
class DemoFiles:
    """``exprlab demo``: one sub-folder per part, each a run of its own kind."""

    kind: RunKind = "demo"
    explanations: str = "explanations"
    matching: str = "matching"


@dataclass(frozen=True)
class BiomarkerFiles:
    """``exprlab biomarkers``: a gene list per class with its stability over training draws."""

    kind: RunKind = "biomarkers"
    genes: str = "genes.tsv"
    stability: str = "stability.tsv"
    draws: str = "draws.tsv"


@dataclass(frozen=True)
class ClassifierFiles:
    """``exprlab train``: the model folder, with its held-out evaluation and design checks.

    ``run.json``'s summary holds the evaluation (``holdout``, ``cv`` or ``none``) and the
    held-out balanced accuracy (``cv``: mean and sd over folds).
    """

    kind: RunKind = "classifier"
    metadata: str = "metadata.json"
    weights: str = "weights.pt"
    preprocess: str = "preprocess.npz"
    # sample, label, predicted, fold, one probability column per class (``p_<class>``)
    heldout: str = "heldout.tsv"
    # one row per fold of ``--cv`` (fold, n_train, n_test, balanced_accuracy)
    folds: str = "folds.tsv"
    # label x batch association and batch predictability (``--batch``)
    confounding: str = "confounding.json"


@dataclass(frozen=True)
class ExplanationFiles:
    """``exprlab explain`` with a folder as ``--out``: attributions and their manifest."""

    kind: RunKind = "explanation"
    attributions: str = "attributions.h5ad"


class LibraryFiles:
    """``exprlab library build``: one HDF5 library file, its manifest beside it."""

    kind: RunKind = "library"
    suffixes: tuple[str, ...] = (".h5", ".hdf5", ".gctx")


@dataclass(frozen=True)
class MatchTrainFiles:
    """``exprlab match train``: a model folder (weights, gene space, ``model.json``).

    Its kind is ``matcher``, the kind :mod:`exprlab._outputs` knows model folders by, so that
    ``--force`` replaces a model folder whether or not it has a manifest.
    """

    kind: RunKind = "matcher"
    model: str = "model.json"
    genes: str = "genes.txt"


@dataclass(frozen=True)
class MatchPredictFiles:
    """``exprlab match predict --out``: the drugs ranked for one disease signature."""

    kind: RunKind = "match-predict"
    ranking: str = "ranking.tsv"


SCORE = ScoreFiles()
LIBRARY = LibraryFiles()
MATCH_TRAIN = MatchTrainFiles()
MATCH_PREDICT = MatchPredictFiles()
MATCH_BENCHMARK = MatchBenchmarkFiles()
XAI_STUDY = XaiStudyFiles()
MATCH_EXPLANATION = MatchExplanationFiles()
SIGNATURE_SEARCH = SignatureSearchFiles()
DEMO = DemoFiles()
BIOMARKERS = BiomarkerFiles()
CLASSIFIER = ClassifierFiles()
EXPLANATION = ExplanationFiles()
