"""From samples to signatures, and the signature pairs a matcher reads.

Fold change, Welch t, characteristic direction, robust z, MODZ consensus, up/down gene sets;
:class:`PairData` and :class:`SparseRows` (torch-free containers of disease and drug signatures).
"""

from exprlab.signatures._chardir import characteristic_direction, chdir_vector
from exprlab.signatures._foldchange import log_fold_change, welch_t
from exprlab.signatures._gene_graph import diffusion_matrix
from exprlab.signatures._genesets import sets_to_frame, signed_set_matrix, top_bottom_indices, up_down_sets
from exprlab.signatures._pairs import PairData, SparseRows
from exprlab.signatures._robustz import (
    consensus_signatures,
    level5_from_level4,
    modz,
    modz_weights,
    robust_z,
)

__all__ = [
    "characteristic_direction",
    "chdir_vector",
    "log_fold_change",
    "welch_t",
    "up_down_sets",
    "top_bottom_indices",
    "sets_to_frame",
    "signed_set_matrix",
    "robust_z",
    "modz",
    "modz_weights",
    "consensus_signatures",
    "level5_from_level4",
    "diffusion_matrix",
    "PairData",
    "SparseRows",
]
