"""Grouped k-fold splits for drug-disease retrieval: held-out disease (and disease cluster), drug, pair.

Why grouped: a model that has seen a disease (or a drug) in training can recognise it at test
time and recall its indications without reading a gene. Holding out whole diseases measures
whether a method ranks drugs for a disease it has never seen; holding out whole drugs measures
whether it can place a drug it has never seen; random pairs is the easy, optimistic setting the
literature often reports, kept for comparison. Held-out disease clusters go one step further:
near-duplicate disease terms (``lung adenocarcinoma`` / ``non-small cell lung carcinoma``) are
grouped (:func:`disease_clusters`) and never straddle training and test.

Folds come from :class:`sklearn.model_selection.GroupKFold` with ``shuffle=True`` and the seed
(balanced fold sizes, every group in exactly one test fold); random pairs use
:class:`~sklearn.model_selection.KFold` on the positive pairs. Each fold also names which
(disease, drug) cells are evaluated (:meth:`Fold.candidates`) and which are its test positives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import GroupKFold, KFold

from exprlab._validation import check_choice, check_count, check_interval
from exprlab.errors import InputDataError

__all__ = [
    "SPLITS",
    "Split",
    "Fold",
    "label_matrix",
    "make_folds",
    "inner_validation",
    "inner_parts",
    "InnerParts",
    "disease_clusters",
    "NAME_STOP_WORDS",
    "SIMILARITY_THRESHOLD",
]

Split = Literal["disease", "disease-cluster", "drug", "pair"]
#: what a fold holds out: whole diseases, clusters of near-duplicate diseases, whole drugs, or
#: random indication pairs
SPLITS: tuple[Split, ...] = ("disease", "disease-cluster", "drug", "pair")

#: Name tokens that do not make two disease terms near-duplicates: generic words (disease,
#: syndrome, disorder, infection), histology shared across organs (carcinoma, adenocarcinoma,
#: squamous, ductal, neoplasm, cancer, tumor, cell) and qualifiers (acute, chronic, type, primary,
#: metastatic, small, large, multiple, progressive ...). What remains names an organ or a disease
#: proper (lung, leukemia, sclerosis, melanoma, diabetes ...).
NAME_STOP_WORDS = frozenset(
    "disease diseases disorder disorders syndrome infection cancer carcinoma adenocarcinoma "
    "neoplasm neoplasms tumor tumour cell cells squamous ductal invasive serous malignant benign "
    "acute chronic type primary secondary metastatic juvenile childhood idiopathic sporadic "
    "progressive non small large multiple in of and the with".split()
)
#: Cosine similarity of two diseases' mean signatures above which they are near-duplicates. On
#: the public triangle 0.5 is the top 0.1% of disease pairs: Crohn's disease / ulcerative colitis,
#: the glioma subtypes, invasive ductal carcinoma / ductal carcinoma in situ, Becker / Duchenne
#: muscular dystrophy.
SIMILARITY_THRESHOLD = 0.5
_TOKEN = re.compile(r"[^0-9a-z]+")


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
    clusters
        In the disease-cluster split, the cluster of every disease (inner validation splits
        again by the same clusters); empty otherwise.
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
    clusters: dict[str, int] = field(default_factory=dict)

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
    clusters: Mapping[str, int] | pd.Series | None = None,
) -> list[Fold]:
    """Split labelled pairs into grouped folds.

    Parameters
    ----------
    pairs
        Positive indications, columns ``disease`` and ``drug``.
    split
        ``"disease"``: diseases are the groups (test diseases never appear in training);
        ``"disease-cluster"``: clusters of near-duplicate diseases are the groups (``clusters``,
        see :func:`disease_clusters`); ``"drug"``: all candidate drugs are the groups (a test drug's signature and labels never
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
    clusters
        Required by the disease-cluster split: the cluster of every labelled disease.

    Returns
    -------
    list of Fold
        ``n_folds`` folds; every group is in exactly one test part.

    Raises
    ------
    InvalidParameterError
        Unknown split or fewer than 2 folds.
    InputDataError
        Fewer groups than folds (in the disease-cluster split: a cluster so large that too
        few remain for every fold), or a fold whose test part would be empty.
    """
    check_choice(split, "split", SPLITS)
    n_folds = check_count(n_folds, "n_folds", minimum=2)
    pairs, groups, cluster_of, all_diseases, all_drugs = _groups(
        pairs, split, n_folds, drugs=drugs, diseases=diseases, clusters=clusters
    )
    parts = _test_parts(split, groups, cluster_of, n_folds, seed)
    folds = [
        _fold(split, k, set(groups[test_idx].tolist()), test_idx, pairs, all_diseases, all_drugs)
        for k, test_idx in enumerate(parts)
    ]
    if cluster_of:
        folds = [replace(f, clusters=dict(cluster_of)) for f in folds]
    return folds


def _groups(
    pairs: pd.DataFrame,
    split: Split,
    n_folds: int,
    *,
    drugs: Sequence[str] | None,
    diseases: Sequence[str] | None,
    clusters: Mapping[str, int] | pd.Series | None,
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int], tuple[str, ...], tuple[str, ...]]:
    """The checked pairs, the groups a split deals out, the clusters, the diseases and the drugs.

    Groups are the labelled diseases (disease and disease-cluster splits), every candidate drug
    (drug split) or the pairs' row numbers (pair split); ``n_folds`` of them at least.
    """
    pairs = _check_pairs(pairs)
    all_drugs = tuple(sorted(set(drugs) if drugs is not None else set(pairs["drug"])))
    all_diseases = tuple(sorted(set(diseases) if diseases is not None else set(pairs["disease"])))
    pairs = pairs[pairs["drug"].isin(all_drugs) & pairs["disease"].isin(all_diseases)]
    pairs = pairs.reset_index(drop=True)
    cluster_of: dict[str, int] = {}
    if split == "disease-cluster":
        cluster_of = _cluster_map(clusters, sorted(set(pairs["disease"])), n_folds)
    if split in ("disease", "disease-cluster"):
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
    return pairs, groups, cluster_of, all_diseases, all_drugs


def _test_parts(
    split: Split, groups: np.ndarray, cluster_of: dict[str, int], n_folds: int, seed: int
) -> list[np.ndarray]:
    """Indices of ``groups`` in each test part (whole clusters in the disease-cluster split)."""
    if split == "pair":
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        return [test for _, test in splitter.split(groups)]
    labels = np.array([cluster_of[g] for g in groups]) if cluster_of else groups
    grouped = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [test for _, test in grouped.split(groups, groups=labels)]


def _cluster_map(
    clusters: Mapping[str, int] | pd.Series | None, diseases: list[str], n_folds: int
) -> dict[str, int]:
    """The cluster of every labelled disease, checked: all named, enough clusters for the folds."""
    if clusters is None:
        raise InputDataError(
            "the disease-cluster split needs the cluster of every disease",
            where="disease-cluster split",
            fix="pass clusters=disease_clusters(names, similarity=...)",
        )
    table = {str(k): int(v) for k, v in dict(clusters).items()}
    missing = [d for d in diseases if d not in table]
    if missing:
        raise InputDataError(
            f"{len(missing)} labelled disease(s) have no cluster, e.g. {missing[:3]}",
            where="disease-cluster split",
            fix="compute the clusters over every labelled disease",
        )
    sizes = pd.Series([table[d] for d in diseases]).value_counts()
    if len(sizes) < n_folds:
        raise InputDataError(
            f"the {len(diseases)} labelled diseases form only {len(sizes)} cluster(s) of near-duplicates "
            f"(the largest holds {int(sizes.iloc[0])}) for {n_folds} folds: at least one fold would be empty",
            where="disease-cluster split",
            fix="use fewer folds, a higher similarity threshold or fewer shared name tokens "
            "(a stop word list that removes generic words)",
        )
    return {d: table[d] for d in diseases}


def disease_clusters(
    names: Mapping[str, str] | pd.Series,
    *,
    similarity: pd.DataFrame | None = None,
    threshold: float = SIMILARITY_THRESHOLD,
    stop_words: frozenset[str] = NAME_STOP_WORDS,
) -> pd.Series:
    """Clusters of near-duplicate diseases: connected components of a similarity graph.

    Two diseases are linked when their names share an informative token (lower-cased runs of
    letters and digits, longer than one character, not a number, not in ``stop_words``) or when
    their signature similarity exceeds ``threshold``. Clusters are the connected components of
    that graph (docs/methods.md §2.4).

    Parameters
    ----------
    names
        Disease id -> disease name (a term); use the id itself when there is no name.
    similarity
        Optional disease x disease similarity (for example the cosine of the diseases' mean
        signatures), indexed by disease id; diseases it lacks are linked by name only.
    threshold
        Similarity above which two diseases are linked.
    stop_words
        Tokens that link nothing (:data:`NAME_STOP_WORDS`).

    Returns
    -------
    pandas.Series
        Cluster number (0, 1, ... in the order of each cluster's first disease id) indexed by
        disease id, sorted.
    """
    threshold = check_interval(threshold, "threshold", -1.0, 1.0)
    series = pd.Series(dict(names), dtype=object).sort_index()
    ids = [str(i) for i in series.index]
    if not ids:
        raise InputDataError("no disease to cluster", where="disease_clusters", fix="pass disease names")
    tokens = [
        _informative(str(n) if pd.notna(n) else i, stop_words) for i, n in zip(ids, series, strict=True)
    ]
    by_token: dict[str, list[int]] = {}
    for i, toks in enumerate(tokens):
        for t in toks:
            by_token.setdefault(t, []).append(i)
    rows, cols = [], []
    for members in by_token.values():
        rows += [members[0]] * (len(members) - 1)
        cols += members[1:]
    if similarity is not None:
        sim = similarity.reindex(index=ids, columns=ids).to_numpy(dtype=float)
        r, c = np.nonzero(np.nan_to_num(sim, nan=-np.inf) > threshold)
        keep = r != c
        rows += r[keep].tolist()
        cols += c[keep].tolist()
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    _, renumbered = np.unique(labels, return_index=True)
    order = {old: new for new, old in enumerate(labels[np.sort(renumbered)])}
    return pd.Series([order[v] for v in labels], index=pd.Index(ids, name="disease"), name="cluster")


def _informative(name: str, stop_words: frozenset[str]) -> set[str]:
    return {t for t in _TOKEN.split(name.lower()) if len(t) > 1 and not t.isdigit() and t not in stop_words}


def _fold(
    split: Split,
    k: int,
    test_groups: set,
    test_idx: np.ndarray,
    pairs: pd.DataFrame,
    all_diseases: tuple[str, ...],
    all_drugs: tuple[str, ...],
    *,
    name: str = "",
    fix: str = "use fewer folds, another seed or more labelled data",
) -> Fold:
    """Fold ``k`` of a split, from the groups its test part holds (``name`` and ``fix`` for messages)."""
    name = name or f"fold {k}"
    if split in ("disease", "disease-cluster"):
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
            f"{name} of the {split} split has {len(test)} test and {len(train)} training indications",
            where=f"{split} split, {name}",
            fix=fix,
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
        clusters=fold.clusters or None,
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
        clusters=fold.clusters,
    )


_INNER_FIX = "raise the validation fraction, use fewer outer folds, another seed or more labelled data"


@dataclass(frozen=True)
class InnerParts:
    """The two parts an outer fold's validation part is cut into (docs/methods.md §2.4).

    Parameters
    ----------
    tuning
        Training part: the inner training part (the outer training part without the whole
        validation part). Test part: the tuning half, for early stopping, settings and the
        ranker's fit.
    selection
        Training part: the outer training part without the selection half. Test part: the
        selection half, read only to compare methods once every method is trained and tuned.
    """

    tuning: Fold
    selection: Fold


def inner_parts(fold: Fold, *, fraction: float = 0.2, seed: int = 0) -> InnerParts:
    """Cut a fold's training part into inner training, tuning and selection parts, of its kind.

    The validation part is the one :func:`inner_validation` holds out (about ``fraction`` of the
    training groups; the inner training part is the same); its groups are dealt into two halves
    of the same kind (whole diseases, clusters, drugs or pairs), seeded: the tuning half serves
    early stopping and every setting, the selection half only the comparison of methods, so
    that the score that picks a method was not the score any method was fitted or stopped on.

    Parameters
    ----------
    fold
        The outer fold whose training part is cut.
    fraction
        Share of the training groups held out for tuning and selection together, in (0, 1).
    seed
        Seed of both cuts.

    Returns
    -------
    InnerParts
        The tuning and selection folds (same kind and index as ``fold``).

    Raises
    ------
    InputDataError
        The validation part holds fewer than two groups (clusters in the disease-cluster split),
        or a half without an indication.
    """
    fraction = check_interval(fraction, "fraction", 0.0, 1.0, closed="neither")
    n = max(2, int(round(1 / fraction)))
    pairs, groups, cluster_of, all_diseases, all_drugs = _groups(
        fold.train,
        fold.kind,
        n,
        drugs=fold.train_drugs,
        diseases=fold.train_diseases,
        clusters=fold.clusters or None,
    )
    held = _test_parts(fold.kind, groups, cluster_of, n, seed)[0]
    units = {cluster_of[g] for g in groups[held]} if cluster_of else set(groups[held].tolist())
    if len(units) < 2:
        unit = "cluster" if cluster_of else "pair" if fold.kind == "pair" else fold.kind
        raise InputDataError(
            f"the validation part of fold {fold.index} holds {len(units)} {unit}(s): it cannot be cut "
            "into a tuning part and a selection part",
            where=f"{fold.kind} split, fold {fold.index}, inner parts",
            fix=_INNER_FIX,
        )
    tune_at, select_at = _test_parts(fold.kind, groups[held], cluster_of, 2, seed)
    tune_idx, select_idx = held[tune_at], held[select_at]
    selection = _fold(
        fold.kind,
        fold.index,
        set(groups[select_idx].tolist()),
        select_idx,
        pairs,
        all_diseases,
        all_drugs,
        name=f"the selection part of fold {fold.index}",
        fix=_INNER_FIX,
    )
    # the tuning fold lives inside the selection fold's training part (rows renumbered)
    kept = np.setdiff1d(np.arange(len(pairs)), select_idx)
    tuning = _fold(
        fold.kind,
        fold.index,
        set(groups[tune_idx].tolist()),
        np.searchsorted(kept, tune_idx),
        selection.train,
        selection.train_diseases,
        selection.train_drugs,
        name=f"the tuning part of fold {fold.index}",
        fix=_INNER_FIX,
    )
    return InnerParts(replace(tuning, clusters=fold.clusters), replace(selection, clusters=fold.clusters))
