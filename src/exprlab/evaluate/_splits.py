"""Grouped k-fold splits for drug-disease retrieval: held-out disease, held-out drug, random pair.

Why grouped: a model that has seen a disease (or a drug) in training can recognise it at test
time and recall its indications without reading a gene. Holding out whole diseases measures
whether a method ranks drugs for a disease it has never seen; holding out whole drugs measures
whether it can place a drug it has never seen; random pairs is the easy, optimistic setting the
literature often reports, kept for comparison.

Folds come from :class:`sklearn.model_selection.GroupKFold` with ``shuffle=True`` and the seed
(balanced fold sizes, every group in exactly one test fold); random pairs use
:class:`~sklearn.model_selection.KFold` on the positive pairs. Each fold also names which
(disease, drug) cells are evaluated (:meth:`Fold.candidates`) and which are its test positives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, KFold

from exprlab._validation import check_choice, check_count, check_interval
from exprlab.errors import InputDataError

__all__ = ["SPLITS", "Split", "Fold", "label_matrix", "make_folds", "inner_validation"]

Split = Literal["disease", "drug", "pair"]
#: what a fold holds out: whole diseases, whole drugs, or random indication pairs
SPLITS: tuple[Split, ...] = ("disease", "drug", "pair")


@dataclass(frozen=True)
class Fold:
    """One train/test partition of the labelled pairs.

    Parameters
    ----------
    kind
        ``"disease"``, ``"drug"`` or ``"pair"``.
    index
        Fold number (0-based).
    train
        Positive (disease, drug) pairs usable for training (columns ``disease``, ``drug``).
    test
        Positive pairs whose retrieval is evaluated.
    train_diseases, train_drugs
        Diseases and drugs whose signatures and labels training may use (negatives are drawn
        among these).
    test_diseases, test_drugs
        Diseases evaluated (rows) and drugs ranked (columns) at test time.
    excluded
        Counts of what the fold left out and why (for reports).
    """

    kind: Split
    index: int
    train: pd.DataFrame
    test: pd.DataFrame
    train_diseases: tuple[str, ...]
    train_drugs: tuple[str, ...]
    test_diseases: tuple[str, ...]
    test_drugs: tuple[str, ...]
    excluded: dict[str, int] = field(default_factory=dict)

    def positives(self) -> pd.DataFrame:
        """Boolean table test diseases x test drugs of the held-out indications."""
        return label_matrix(self.test, self.test_diseases, self.test_drugs)

    def candidates(self) -> pd.DataFrame:
        """Boolean table test diseases x test drugs: which cells are ranked.

        Every cell, except in the random-pair split where a disease's training indications are
        removed from its candidates (they are known, not predictions).
        """
        cand = pd.DataFrame(True, index=list(self.test_diseases), columns=list(self.test_drugs))
        if self.kind == "pair":
            known = label_matrix(self.train, self.test_diseases, self.test_drugs)
            cand &= ~known
        return cand


def label_matrix(pairs: pd.DataFrame, diseases: Sequence[str], drugs: Sequence[str]) -> pd.DataFrame:
    """Boolean diseases x drugs table, True where ``pairs`` lists the (disease, drug) pair.

    Parameters
    ----------
    pairs
        Indications, columns ``disease`` and ``drug``; pairs outside the table are ignored.
    diseases
        Row labels.
    drugs
        Column labels.

    Returns
    -------
    pandas.DataFrame
        Boolean table, diseases (index) x drugs (columns).
    """
    mat = pd.DataFrame(False, index=list(diseases), columns=list(drugs))
    sub = pairs[pairs["disease"].isin(mat.index) & pairs["drug"].isin(mat.columns)]
    r = mat.index.get_indexer(sub["disease"])
    c = mat.columns.get_indexer(sub["drug"])
    values = mat.to_numpy(copy=True)
    values[r, c] = True
    return pd.DataFrame(values, index=mat.index, columns=mat.columns)


def _check_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    missing = {"disease", "drug"} - set(pairs.columns)
    if missing:
        raise InputDataError(
            f"the indication table lacks the column(s) {sorted(missing)}",
            where="splits",
            fix="pass a table with one row per (disease, drug) indication",
        )
    out = pairs[["disease", "drug"]].astype(str).drop_duplicates().reset_index(drop=True)
    if out.empty:
        raise InputDataError(
            "the indication table is empty", where="splits", fix="pass at least one indication"
        )
    return out


def make_folds(
    pairs: pd.DataFrame,
    *,
    split: Split = "disease",
    n_folds: int = 5,
    seed: int = 0,
    drugs: Sequence[str] | None = None,
    diseases: Sequence[str] | None = None,
) -> list[Fold]:
    """Split labelled pairs into grouped folds.

    Parameters
    ----------
    pairs
        Positive indications, columns ``disease`` and ``drug``.
    split
        ``"disease"``: diseases are the groups (test diseases never appear in training);
        ``"drug"``: all candidate drugs are the groups (a test drug's signature and labels never
        appear in training); ``"pair"``: positive pairs are shuffled into folds.
    n_folds
        Number of folds (>= 2).
    seed
        Seed of the shuffling; the same seed gives the same folds.
    drugs
        Candidate drugs (default: the drugs of ``pairs``). In the drug split every candidate
        drug, indicated or not, is assigned to one fold.
    diseases
        Diseases to evaluate (default: the diseases of ``pairs``).

    Returns
    -------
    list of Fold
        ``n_folds`` folds; every group is in exactly one test part.

    Raises
    ------
    InvalidParameterError
        Unknown split or fewer than 2 folds.
    InputDataError
        Fewer groups than folds, or a fold whose test part would be empty.
    """
    check_choice(split, "split", SPLITS)
    n_folds = check_count(n_folds, "n_folds", minimum=2)
    pairs = _check_pairs(pairs)
    all_drugs = tuple(sorted(set(drugs) if drugs is not None else set(pairs["drug"])))
    all_diseases = tuple(sorted(set(diseases) if diseases is not None else set(pairs["disease"])))
    pairs = pairs[pairs["drug"].isin(all_drugs) & pairs["disease"].isin(all_diseases)]
    pairs = pairs.reset_index(drop=True)
    if split == "disease":
        groups = np.array(sorted(set(pairs["disease"])))
    elif split == "drug":
        groups = np.array(all_drugs)
    else:
        groups = np.arange(len(pairs))
    if len(groups) < n_folds:
        raise InputDataError(
            f"only {len(groups)} {split} group(s) for {n_folds} folds: at least one fold would be empty",
            where=f"{split} split",
            fix="use fewer folds or more labelled data",
        )
    if split == "pair":
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        parts = [test for _, test in splitter.split(groups)]
    else:
        splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        parts = [test for _, test in splitter.split(groups, groups=groups)]
    return [
        _fold(split, k, set(groups[test_idx].tolist()), test_idx, pairs, all_diseases, all_drugs)
        for k, test_idx in enumerate(parts)
    ]


def _fold(
    split: Split,
    k: int,
    test_groups: set,
    test_idx: np.ndarray,
    pairs: pd.DataFrame,
    all_diseases: tuple[str, ...],
    all_drugs: tuple[str, ...],
) -> Fold:
    """Fold ``k`` of a split, from the groups its test part holds."""
    if split == "disease":
        is_test = pairs["disease"].isin(test_groups)
        train_diseases = tuple(d for d in all_diseases if d not in test_groups)
        test_diseases = tuple(sorted(test_groups))
        train_drugs = test_drugs = all_drugs
    elif split == "drug":
        is_test = pairs["drug"].isin(test_groups)
        train_drugs = tuple(d for d in all_drugs if d not in test_groups)
        test_drugs = tuple(sorted(test_groups))
        train_diseases = all_diseases
        test_diseases = tuple(sorted(set(pairs.loc[is_test, "disease"])))
    else:
        is_test = pd.Series(np.isin(np.arange(len(pairs)), test_idx))
        train_diseases, train_drugs, test_drugs = all_diseases, all_drugs, all_drugs
        test_diseases = tuple(sorted(set(pairs.loc[is_test, "disease"])))
    test = pairs[is_test.to_numpy()].reset_index(drop=True)
    train = pairs[~is_test.to_numpy()].reset_index(drop=True)
    if test.empty or train.empty:
        raise InputDataError(
            f"fold {k} of the {split} split has {len(test)} test and {len(train)} training indications",
            where=f"{split} split, fold {k}",
            fix="use fewer folds, another seed or more labelled data",
        )
    return Fold(split, k, train, test, train_diseases, train_drugs, test_diseases, test_drugs)


def inner_validation(fold: Fold, *, fraction: float = 0.2, seed: int = 0) -> Fold:
    """Split a fold's training part into inner training and validation, of the same kind.

    Early stopping and every model choice use this validation part only; the outer test fold is
    never looked at. The validation part holds about ``fraction`` of the training groups.

    Parameters
    ----------
    fold
        The outer fold whose training part is split.
    fraction
        Share of the training groups held out for validation, in (0, 1).
    seed
        Seed of the inner split.

    Returns
    -------
    Fold
        A fold of the same kind and index whose test part is the validation set.
    """
    fraction = check_interval(fraction, "fraction", 0.0, 1.0, closed="neither")
    n = max(2, int(round(1 / fraction)))
    inner = make_folds(
        fold.train,
        split=fold.kind,
        n_folds=n,
        seed=seed,
        drugs=fold.train_drugs,
        diseases=fold.train_diseases,
    )[0]
    return Fold(
        fold.kind,
        fold.index,
        inner.train,
        inner.test,
        inner.train_diseases,
        inner.train_drugs,
        inner.test_diseases,
        inner.test_drugs,
    )
