"""Connectivity scoring of queries against signature libraries: one module per method, one chunking driver.

Methods, query and library forms and the rule for tied ranks are described in :func:`score`;
definitions are in docs/methods.md §1.
"""

from exprlab.match._aggregate import ReferenceRule, aggregate_queries, aggregate_references
from exprlab.match._annotate import parse_signature_ids, summarise_perturbagens
from exprlab.match._genemajor import GeneMajorWriter
from exprlab.match._interop import (
    CLUE_MAX_GENES,
    CLUE_MIN_GENES,
    clue_query_sets,
    export_signaturesearch,
    rank_genes_groups_queries,
)
from exprlab.match._library import (
    LAYOUTS,
    DiskLibrary,
    Layout,
    LibraryWriter,
    MemoryLibrary,
    build_library,
    genesets_to_library,
    is_library_file,
    opened_library,
    prepare_library,
    split_up_down,
)
from exprlab.match._query import Queries, paired_sets
from exprlab.match._ranks import Ties
from exprlab.match._score import METHODS, MatchMethod, MatchResult, score, score_details, score_long
from exprlab.match._significance import (
    NULL_KINDS,
    SIGNIFICANCE_METHODS,
    Significance,
    bh_fdr,
    permutation_pvalues,
    significance,
    tau_reference,
)
from exprlab.match._stream import ScoreDtype, ScoreFile, check_streamable, score_to_gctx

__all__ = [
    "CLUE_MIN_GENES",
    "CLUE_MAX_GENES",
    "clue_query_sets",
    "export_signaturesearch",
    "rank_genes_groups_queries",
    "LAYOUTS",
    "Layout",
    "Ties",
    "ReferenceRule",
    "METHODS",
    "MatchMethod",
    "MatchResult",
    "score",
    "score_long",
    "score_details",
    "score_to_gctx",
    "check_streamable",
    "ScoreFile",
    "ScoreDtype",
    "build_library",
    "prepare_library",
    "genesets_to_library",
    "split_up_down",
    "paired_sets",
    "is_library_file",
    "opened_library",
    "aggregate_references",
    "aggregate_queries",
    "LibraryWriter",
    "GeneMajorWriter",
    "DiskLibrary",
    "MemoryLibrary",
    "Queries",
    "NULL_KINDS",
    "SIGNIFICANCE_METHODS",
    "Significance",
    "bh_fdr",
    "permutation_pvalues",
    "significance",
    "tau_reference",
    "parse_signature_ids",
    "summarise_perturbagens",
]
