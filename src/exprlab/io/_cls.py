"""CLS class-label files (GSEA's categorical phenotype format).

Three lines::

    48 2 1
    # ALL AML
    ALL ALL ... AML

Line 1: number of samples, number of classes, and 1. Line 2: ``#`` then the class names.
Line 3: one label per sample (space or tab separated). When the labels are the class names they
are used as they are; otherwise (numeric codes, as GSEA allows) the k-th distinct label in order
of first appearance stands for the k-th class name. Continuous phenotypes (``#numeric``) are not
class labels and are refused.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from exprlab._atomic import atomic_path
from exprlab.errors import FormatError, InputDataError
from exprlab.io._common import read_text, write_text

__all__ = ["read_cls", "write_cls"]

_FIX = "a CLS file has three lines: 'nsamples nclasses 1', '# class names', then one label per sample"


def read_cls(path: str | os.PathLike) -> pd.Series:
    """Read sample class labels from a CLS file.

    Parameters
    ----------
    path
        The CLS file (plain, ``.gz`` or ``.xz``).

    Returns
    -------
    pandas.Series
        Categorical labels (categories in the order of line 2), one per sample in file order,
        indexed 0..n-1 and named ``label``.

    Raises
    ------
    FileAccessError, FormatError
        Unreadable file; counts that disagree with the labels, or a continuous phenotype.
    """
    where = Path(path)
    lines = [ln for ln in read_text(where).split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 3:
        raise FormatError(f"the file has {len(lines)} line(s), expected 3", where=where, fix=_FIX)
    if lines[1].strip().lower().startswith("#numeric"):
        raise FormatError(
            "this is a continuous (#numeric) phenotype, not class labels",
            where=where,
            fix="read continuous phenotypes as a table; read_cls handles categorical labels",
        )
    head = lines[0].split()
    try:
        n_samples, n_classes = int(head[0]), int(head[1])
    except (IndexError, ValueError):
        raise FormatError(
            f"line 1 must start with two whole numbers, found '{lines[0][:60]}'", where=where, fix=_FIX
        ) from None
    if not lines[1].lstrip().startswith("#"):
        raise FormatError(
            f"line 2 must start with '#' and list the class names, found '{lines[1][:60]}'",
            where=where,
            fix=_FIX,
        )
    names = lines[1].strip()[1:].split()
    labels = " ".join(lines[2:]).split()
    if len(labels) != n_samples:
        raise FormatError(
            f"line 1 announces {n_samples} samples but line 3 has {len(labels)} labels", where=where, fix=_FIX
        )
    distinct = list(dict.fromkeys(labels))
    if len(distinct) != n_classes:
        raise FormatError(
            f"line 1 announces {n_classes} classes but the labels hold {len(distinct)}", where=where, fix=_FIX
        )
    if names and len(names) != n_classes:
        raise FormatError(
            f"line 2 names {len(names)} classes but line 1 announces {n_classes}", where=where, fix=_FIX
        )
    if not names:
        names = distinct
    if set(distinct) <= set(names):
        values = labels
    else:
        mapping = dict(zip(distinct, names, strict=True))
        values = [mapping[v] for v in labels]
    return pd.Series(pd.Categorical(values, categories=names), name="label")


def write_cls(labels: Sequence | pd.Series, path: str | os.PathLike) -> Path:
    """Write categorical sample labels as a CLS file, atomically.

    Parameters
    ----------
    labels
        One label per sample; a categorical's categories (those used) give the class names and
        their order, otherwise the labels in order of first appearance.
    path
        Output file.

    Returns
    -------
    Path
        The written file.
    """
    where = Path(path)
    series = pd.Series(labels)
    if series.isna().any():
        raise InputDataError("labels contain missing values", where=where, fix="give every sample a class")
    if isinstance(series.dtype, pd.CategoricalDtype):
        names = [str(c) for c in series.cat.categories if (series == c).any()]
    else:
        names = [str(c) for c in dict.fromkeys(series)]
    values = [str(v) for v in series]
    for n in names:
        if not n or any(ch.isspace() for ch in n):
            raise InputDataError(
                f"class name {n!r} is empty or has spaces", where=where, fix="use class names without spaces"
            )
    text = f"{len(values)} {len(names)} 1\n# {' '.join(names)}\n{' '.join(values)}\n"
    with atomic_path(where) as tmp:
        write_text(text, tmp, None)
    return where
