"""Generators with known ground truth: LDA expression data and planted drug-disease mechanisms."""

from exprlab.simulate._lda import PRESETS, LDADesign, resolve_design, simulate_lda

__all__ = ["PRESETS", "LDADesign", "resolve_design", "simulate_lda"]
from exprlab.simulate._planted import PlantedBenchmark, simulate_planted  # noqa: F401
