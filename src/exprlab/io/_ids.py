"""Kinds of gene identifiers told from their spelling (Entrez, Ensembl, probe, symbol)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["guess_id_kind"]

_PATTERNS = {
    "entrez": re.compile(r"^\d+$"),
    "ensembl": re.compile(r"^ENS[A-Z]*G\d{6,}(\.\d+)?$"),
    "probe": re.compile(r"(_[a-z]_at$|_at$|_st$|^AFFX-|^ILMN_\d+$|^A_\d+_P\d+$)"),
    "symbol": re.compile(r"^[A-Za-z][A-Za-z0-9.\-_@/]*$"),
}


def guess_id_kind(ids: Sequence[str], *, threshold: float = 0.8) -> str:
    """Guess the kind of gene identifiers, so that messages and mappings can name it.

    Each id is tested against the patterns in the order entrez, ensembl, probe, symbol (a probe
    id like ``1007_s_at`` is a probe, not a symbol); the first kind matched by at least
    ``threshold`` of the ids wins.

    Parameters
    ----------
    ids
        Gene identifiers (converted to strings).
    threshold
        Fraction of the ids a kind must match.

    Returns
    -------
    str
        ``entrez``, ``ensembl``, ``probe``, ``symbol``, ``mixed`` (no kind reaches the
        threshold) or ``none`` (no ids).
    """
    ids = [str(i) for i in ids]
    if not ids:
        return "none"
    claimed = np.zeros(len(ids), dtype=bool)
    for kind, pattern in _PATTERNS.items():
        hit = np.fromiter((bool(pattern.search(i)) for i in ids), dtype=bool, count=len(ids)) & ~claimed
        if hit.mean() >= threshold:
            return kind
        claimed |= hit
    return "mixed"
