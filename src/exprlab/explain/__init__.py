"""Attributions: Integrated Gradients, gene-to-pathway aggregation, enrichment, explained matches."""

import typing as _typing

from exprlab._defaults import N_STEPS
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
from exprlab.explain._hit_enrichment import drug_sets_from_table, hit_enrichment
from exprlab.explain._order import natural_order
from exprlab.explain._quadrature import METHODS, quadrature

# Members that need torch load on first use, so that aggregation, enrichment and quadrature work
# (and import fast) without it.
_TORCH_MEMBERS = {
    "averaged": "_baselines",
    "class_mean": "_baselines",
    "mean_of": "_baselines",
    "raw_mean": "_baselines",
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
    "CLASS_RULES": "_stability",
    "DRAWS": "_stability",
    "ClassRule": "_stability",
    "Draw": "_stability",
    "DrawKind": "_stability",
    "class_scores": "_stability",
    "linear_weights": "_stability",
    "logit_attributions": "_stability",
    "pairwise_jaccard": "_stability",
    "rank_intervals": "_stability",
    "rank_scores": "_stability",
    "resample_draws": "_stability",
    "selection_frequency": "_stability",
    "split_half_jaccard": "_stability",
    "stability_selected_ranks": "_stability",
    "stability_summary": "_stability",
    "welch_scores": "_stability",
}
__getattr__, __dir__ = _lazy_members(__name__, _TORCH_MEMBERS, globals())

if _typing.TYPE_CHECKING:
    from exprlab.explain._baselines import averaged, class_mean, mean_of, raw_mean
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
    from exprlab.explain._stability import (
        CLASS_RULES,
        DRAWS,
        ClassRule,
        Draw,
        DrawKind,
        class_scores,
        linear_weights,
        logit_attributions,
        pairwise_jaccard,
        rank_intervals,
        rank_scores,
        resample_draws,
        selection_frequency,
        split_half_jaccard,
        stability_selected_ranks,
        stability_summary,
        welch_scores,
    )

__all__ = [
    "CLASS_RULES",
    "DRAWS",
    "METHODS",
    "N_STEPS",
    "ClassRule",
    "Draw",
    "DrawKind",
    "class_scores",
    "linear_weights",
    "logit_attributions",
    "natural_order",
    "pairwise_jaccard",
    "rank_intervals",
    "rank_scores",
    "resample_draws",
    "selection_frequency",
    "split_half_jaccard",
    "stability_selected_ranks",
    "stability_summary",
    "welch_scores",
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
    "raw_mean",
    "refine_attributions",
    "shrink_to_class",
    "simulated_pathways",
    "split_first_linear",
]
