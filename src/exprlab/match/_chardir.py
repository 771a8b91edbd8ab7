"""Characteristic-direction matching (L1000CDS2 signature mode): cosine distance.

distance = 1 - cos(b_query, b_reference) over the genes they share, in [0, 2]. In reverse mode
(the usual drug-repurposing question) the largest distances rank first; in mimic mode the
smallest. Both the query and the library are expected to hold characteristic directions
(:func:`exprlab.signatures.characteristic_direction`).
"""

from __future__ import annotations

from exprlab.match._base import Method, register
from exprlab.match._correlation import vector_scores


def _chunk(queries, values, rank2, opts):
    return {"score": 1.0 - vector_scores("cosine", queries, values)}


CHARDIR = register(
    Method(
        "chardir",
        _chunk,
        needs_vectors=True,
        description="characteristic-direction cosine distance (L1000CDS2)",
    )
)
