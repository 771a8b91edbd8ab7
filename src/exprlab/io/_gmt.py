"""GMT gene-set files (plain, ``.gz`` or ``.xz``).

One set per line: ``name<TAB>description<TAB>gene<TAB>gene...``.

Policies
--------
* A gene repeated within a set is kept once, at its first position (order otherwise kept).
* A set name that appears twice is an error (:class:`~exprlab.errors.DuplicateIdError`) naming
  both lines: silently merging or overwriting sets changes results.
* An empty line between sets is an error naming the line (trailing newlines are fine); a set
  with no gene is an error naming the set and its line. Empty cells (e.g. trailing tabs) are
  ignored and surrounding spaces are stripped from genes.
* :func:`filter_gene_sets` restricts sets to a gene universe and refuses (or, on request, drops)
  sets left with fewer than ``min_size`` genes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from exprlab._atomic import atomic_path
from exprlab._validation import check_choice, check_count
from exprlab.errors import (
    DuplicateIdError,
    FormatError,
    GeneSpaceError,
    InputDataError,
)
from exprlab.io._common import read_text, strip_compression_suffix, write_text

__all__ = ["GeneSets", "read_gmt", "write_gmt", "filter_gene_sets"]

SmallSetRule = Literal["raise", "drop"]


class GeneSets(dict):
    """A ``dict`` of set name -> list of genes (file order) that also carries descriptions.

    Behaves exactly as a dict (equality, iteration), so any code taking gene sets as a dict
    takes it; ``.descriptions`` keeps the GMT description (second column) for writing back.

    Parameters
    ----------
    sets
        Set name -> genes, as ``dict()`` accepts it (a mapping or (name, genes) pairs).
    descriptions
        Set name -> description; none by default.
    """

    def __init__(self, sets: Any = (), descriptions: Mapping[str, str] | None = None):
        super().__init__(sets)
        self.descriptions: dict[str, str] = dict(descriptions or {})


def read_gmt(
    path: str | os.PathLike,
    *,
    universe: Iterable[str] | None = None,
    min_size: int = 1,
    on_small: SmallSetRule = "raise",
) -> GeneSets:
    """Read a GMT file into {set name: [genes...]} (in file order), with descriptions.

    Parameters
    ----------
    path
        ``.gmt``, ``.gmt.gz`` or ``.gmt.xz`` (compression is told from the content).
    universe
        Optional gene universe; each set keeps only its genes in the universe
        (see :func:`filter_gene_sets`).
    min_size, on_small
        With ``universe``: a set left with fewer than ``min_size`` genes raises
        :class:`~exprlab.errors.GeneSpaceError` (``on_small="raise"``) or is dropped
        (``on_small="drop"``).

    Returns
    -------
    GeneSets
        A dict subclass; ``.descriptions`` holds the second column.

    Raises
    ------
    FileAccessError, FormatError, DuplicateIdError, GeneSpaceError
        Unreadable file; a malformed line (named); a repeated set name; a set too small in
        ``universe``.
    """
    where = Path(path)
    text = read_text(where)
    body = text.rstrip("\n")
    if not body.strip():
        raise FormatError(
            "the file holds no gene set",
            where=where,
            fix="a GMT file has one line per set: name, description, genes (tab-separated)",
        )
    sets: dict[str, list[str]] = {}
    desc: dict[str, str] = {}
    line_of: dict[str, int] = {}
    for lineno, line in enumerate(body.split("\n"), start=1):
        name, description, genes = _parse_gmt_line(line, lineno, where)
        if name in sets:
            raise DuplicateIdError(
                f"gene set name '{name}' appears on lines {line_of[name]} and {lineno}",
                where=where,
                fix="rename or merge the repeated sets",
            )
        sets[name] = genes
        desc[name] = description
        line_of[name] = lineno
    result = GeneSets(sets, desc)
    if universe is not None:
        result = filter_gene_sets(result, universe, min_size=min_size, on_small=on_small, where=where)
    return result


def _parse_gmt_line(line: str, lineno: int, where: Path) -> tuple[str, str, list[str]]:
    """Name, description and genes (repeats kept once) of one GMT line, checked."""
    if not line.strip():
        raise FormatError(
            f"line {lineno} is empty",
            where=where,
            fix="remove empty lines between gene sets (one set per line)",
        )
    cells = line.split("\t")
    name = cells[0].strip()
    if not name:
        raise FormatError(
            f"line {lineno} has no set name in its first cell",
            where=where,
            fix="start each line with the set name",
        )
    if len(cells) < 2:
        raise FormatError(
            f"line {lineno} (set '{name[:60]}') has no tab: expected name, description, genes",
            where=where,
            fix="separate the name, the description and each gene with tabs",
        )
    genes = list(dict.fromkeys(g for g in (c.strip() for c in cells[2:]) if g))
    if not genes:
        raise FormatError(
            f"gene set '{name}' on line {lineno} has no gene",
            where=where,
            fix="remove the set or add its genes after the description column",
        )
    return name, cells[1], genes


def filter_gene_sets(
    sets: Mapping[str, Sequence[str]],
    universe: Iterable[str],
    *,
    min_size: int = 1,
    on_small: SmallSetRule = "raise",
    where: str | os.PathLike | None = None,
) -> GeneSets:
    """Keep only the genes of each set that are in ``universe``.

    Parameters
    ----------
    sets
        Set name -> genes.
    universe
        The genes that exist (for example an AnnData's ``var_names``).
    min_size
        Smallest acceptable set size after filtering (at least 1).
    on_small
        ``"raise"`` (default): a set left with fewer than ``min_size`` genes raises
        :class:`~exprlab.errors.GeneSpaceError` naming the set; ``"drop"``: such sets are left out.
    where
        The file the sets came from, named in error messages.

    Returns
    -------
    GeneSets
        Filtered sets in their original order (descriptions carried over).
    """
    min_size = check_count(min_size, "min_size", minimum=1)
    on_small = check_choice(on_small, "on_small", ("raise", "drop"))
    keep = set(universe)
    if not keep:
        raise GeneSpaceError(
            "the gene universe is empty", where=where or "filter_gene_sets", fix="pass the genes of your data"
        )
    out: dict[str, list[str]] = {}
    for name, genes in sets.items():
        kept = [g for g in genes if g in keep]
        if len(kept) < min_size:
            if on_small == "drop":
                continue
            sample = ", ".join(list(genes)[:3])
            raise GeneSpaceError(
                f"gene set '{name}' keeps {len(kept)} of its {len(genes)} genes in the universe "
                f"(minimum {min_size}); its genes start with {sample}",
                where=where or "filter_gene_sets",
                fix="check that the sets use the same gene identifiers as the data (symbols vs Entrez ids), "
                "or pass on_small='drop' to leave such sets out",
            )
        out[name] = kept
    descriptions = getattr(sets, "descriptions", {})
    return GeneSets(out, {k: v for k, v in descriptions.items() if k in out})


def write_gmt(
    sets: Mapping[str, Sequence[str]],
    path: str | os.PathLike,
    descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Write gene sets as GMT, atomically; ``.gz``/``.xz`` names are compressed.

    Parameters
    ----------
    sets
        Set name -> genes (order kept; repeats are written once).
    path
        Output file.
    descriptions
        Set name -> description; defaults to ``sets.descriptions`` when present, else ``na``.

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    if descriptions is None:
        descriptions = getattr(sets, "descriptions", {}) or {}
    if not sets:
        raise InputDataError("no gene set to write", where=where, fix="pass at least one set")
    lines = []
    for name, genes in sets.items():
        if isinstance(genes, str):
            raise InputDataError(
                f"set '{name}' is a string, not a list of genes",
                where=where,
                fix="give each set as a list of gene ids",
            )
        name = str(name)
        clean = list(dict.fromkeys(str(g) for g in genes))
        description = str(descriptions.get(name, "na")) or "na"
        for item, what in [(name, "set name"), (description, "description"), *((g, "gene") for g in clean)]:
            if "\t" in item or "\n" in item or "\r" in item or (what != "description" and not item.strip()):
                raise InputDataError(
                    f"{what} {item!r} of set '{name}' is empty or holds a tab or line break",
                    where=where,
                    fix="GMT cells cannot be empty or contain tabs/newlines; clean the names first",
                )
        if not clean:
            raise InputDataError(
                f"gene set '{name}' has no gene", where=where, fix="remove empty sets before writing"
            )
        lines.append("\t".join([name, description, *clean]))
    _, compression = strip_compression_suffix(where.name)
    with atomic_path(where) as tmp:
        write_text("\n".join(lines) + "\n", tmp, compression)
    return where
