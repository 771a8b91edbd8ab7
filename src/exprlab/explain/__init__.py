"""Attributions: Integrated Gradients, gene-to-pathway aggregation, enrichment, explained matches."""

import typing as _typing

from exprlab._faces import lazy_members as _lazy_members
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
from exprlab.explain._enrichment import bh_adjust, hypergeometric_enrichment, rank_enrichment
from exprlab.explain._quadrature import METHODS, quadrature

# Members that need torch load on first use, so that aggregation, enrichment and quadrature work
# (and import fast) without it.
_TORCH_MEMBERS = {
    "averaged": "_baselines",
    "class_mean": "_baselines",
    "mean_of": "_baselines",
    "FirstLinear": "_integrated_gradients",
    "attributions_anndata": "_integrated_gradients",
    "integrated_gradients": "_integrated_gradients",
    "split_first_linear": "_integrated_gradients",
    "MatchExplanation": "_match",
    "MatchModel": "_match",
    "explain_match": "_match",
    "load_match_model": "_match",
    "pathway_table": "_match",
    "PredictionGapModel": "_prediction_gaps",
}
__getattr__, __dir__ = _lazy_members(__name__, _TORCH_MEMBERS, globals())

if _typing.TYPE_CHECKING:
    from exprlab.explain._baselines import averaged, class_mean, mean_of
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
