"""Generators with known ground truth: LDA expression data and planted drug-disease mechanisms."""

from exprlab.simulate._lda import (
    PRESETS,
    LDADesign,
    is_simulation,
    resolve_design,
    sample_counts,
    simulate_lda,
)
from exprlab.simulate._planted import PlantedBenchmark, simulate_planted

__all__ = [
    "PRESETS",
    "LDADesign",
    "PlantedBenchmark",
    "is_simulation",
    "resolve_design",
    "sample_counts",
    "simulate_lda",
    "simulate_planted",
]
