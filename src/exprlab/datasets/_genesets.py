"""Pathway and gene-set collections: MSigDB Hallmark, KEGG, Reactome, GO BP, blood modules."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, get_args

from exprlab._validation import check_choice
from exprlab.datasets._registry import GENESET_FILES, _key
from exprlab.io import read_gmt


@lru_cache(maxsize=8)
def _gmt_cached(path: str) -> dict[str, list[str]]:
    return read_gmt(path)


GenesetName = Literal["hallmark", "kegg", "reactome", "go_bp", "btm"]


def genesets(name: GenesetName) -> dict[str, list[str]]:
    """A pathway / gene-set collection, for enrichment of explanations and matches.

    Parameters
    ----------
    name
        ``"hallmark"`` (MSigDB Hallmark, 50 sets), ``"kegg"`` (186), ``"reactome"`` (674),
        ``"go_bp"`` (Enrichr GO Biological Process 2021, 6,036), ``"btm"`` (blood transcription
        modules, 346).

    Returns
    -------
    dict
        ``{set name: [gene symbols]}`` in file order (a fresh copy on every call).
    """
    name = check_choice(name, "name", get_args(GenesetName))
    sets = _gmt_cached(_key(GENESET_FILES[name]))
    return {k: list(v) for k, v in sets.items()}
