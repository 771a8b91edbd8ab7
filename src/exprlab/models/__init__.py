"""Torch models: phenotype classifiers and drug-disease matchers, with their training."""

from exprlab.models._classifiers import (
    MLP,
    MODEL_KINDS,
    ClassifierArch,
    DeepMLP,
    DiffuseLR,
    DiffuseMLP,
    ExpressionClassifier,
    LogisticRegression,
    build_module,
    labels_of,
)
from exprlab.models._diffusion import GraphDiffusion
from exprlab.models._matcher_training import (
    TrainConfig,
    TrainResult,
    data_rows,
    load_matcher,
    load_matcher_folder,
    save_matcher,
    select_genes,
    train_matcher,
)
from exprlab.models._matchers import (
    Matcher,
    MatcherArch,
    PairData,
    PaperMatcher,
    ReversalTwoTower,
    SeedEnsemble,
    SparseRows,
    aggregate_scores,
    rank_drugs,
)
from exprlab.models._preprocess import Preprocessor, check_finite
from exprlab.models._training import seed_int

__all__ = [
    "MatcherArch",
    "ClassifierArch",
    "MLP",
    "MODEL_KINDS",
    "DeepMLP",
    "DiffuseLR",
    "DiffuseMLP",
    "ExpressionClassifier",
    "GraphDiffusion",
    "LogisticRegression",
    "Matcher",
    "PairData",
    "PaperMatcher",
    "Preprocessor",
    "ReversalTwoTower",
    "SeedEnsemble",
    "SparseRows",
    "TrainConfig",
    "TrainResult",
    "aggregate_scores",
    "build_module",
    "check_finite",
    "data_rows",
    "labels_of",
    "load_matcher",
    "load_matcher_folder",
    "rank_drugs",
    "save_matcher",
    "seed_int",
    "select_genes",
    "train_matcher",
]
