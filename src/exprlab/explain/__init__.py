"""Attributions: Integrated Gradients, gene-to-pathway aggregation, enrichment, explained matches."""

from exprlab.explain._aggregate import (
    class_profiles,
    diffuse_attributions,
    diffusion_operator,
    global_rankings,
    pathway_matrix,
    pathway_scores,
    pathway_smooth,
    pathways_to_genes,
    rank_genes,
    refine_attributions,
    shrink_to_class,
    simulated_pathways,
)
from exprlab.explain._baselines import averaged, class_mean, mean_of
from exprlab.explain._enrichment import bh_adjust, hypergeometric_enrichment, rank_enrichment
from exprlab.explain._hit_enrichment import drug_sets_from_table, hit_enrichment
from exprlab.explain._integrated_gradients import (
    FirstLinear,
    attributions_anndata,
    integrated_gradients,
    split_first_linear,
)
from exprlab.explain._match import (
    MatchExplanation,
    MatchModel,
    explain_match,
    load_match_model,
    pathway_table,
)
from exprlab.explain._prediction_gaps import PredictionGapModel
from exprlab.explain._quadrature import METHODS, quadrature

__all__ = [
    "METHODS",
    "FirstLinear",
    "MatchExplanation",
    "MatchModel",
    "PredictionGapModel",
    "attributions_anndata",
    "averaged",
    "bh_adjust",
    "class_mean",
    "class_profiles",
    "diffuse_attributions",
    "diffusion_operator",
    "drug_sets_from_table",
    "hit_enrichment",
    "explain_match",
    "global_rankings",
    "hypergeometric_enrichment",
    "integrated_gradients",
    "load_match_model",
    "mean_of",
    "pathway_matrix",
    "pathway_scores",
    "pathway_smooth",
    "pathway_table",
    "pathways_to_genes",
    "quadrature",
    "rank_enrichment",
    "rank_genes",
    "refine_attributions",
    "shrink_to_class",
    "simulated_pathways",
    "split_first_linear",
]
