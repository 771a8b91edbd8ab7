"""Similarity transfer: score a drug for a disease from the indications of similar diseases.

docs/methods.md §2.6. A test disease q is compared with every training disease t by the
similarity of their signatures; drug d gets the similarity-weighted share of q's ``top`` nearest
training diseases that list d as an indication, blended with the drug's popularity:

    T(q, d) = sum_{t in N_top(q)} s(q, t)+ Y(t, d) / sum_{t in N_top(q)} s(q, t)+
    score(q, d) = (1 - blend) T(q, d) + blend P(d),     P(d) = mean_t Y(t, d)

(on held-out drugs, where the query is a drug, its prior is the popularity of its signature
neighbours: the weighted mean, over its ``top`` nearest training drugs, of each one's share of
the training diseases it is indicated for)

Three similarities of the disease profiles (the mean of a disease's L2-normalised contrasts):
``cosine``, ``spearman`` (Pearson correlation of the genes' ranks) and ``learned`` (cosine after
projecting onto the gene directions that covary most with the training indications: the top
left singular vectors of the cross-covariance of profiles and indication vectors, a PLS-SVD
direction set). On the held-out-drug split the same rule runs along the other axis: a test drug
is scored for a disease from the indications of its most similar training drugs.

``top``, ``blend`` and the similarity are chosen on inner validation folds only
(:func:`choose_transfer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy import stats
from sklearn.metrics import label_ranking_average_precision_score

from exprlab._validation import check_choice, check_count
from exprlab.errors import InputDataError
from exprlab.evaluate import Fold, label_matrix, make_folds

Similarity = Literal["cosine", "spearman", "learned"]
#: signature similarities of the transfer (docs/methods.md §2.6)
SIMILARITIES: tuple[Similarity, ...] = ("cosine", "spearman", "learned")
#: neighbour counts and popularity blends tried on the inner folds (blend 1: the prior alone)
TOPS: tuple[int, ...] = (5, 10, 20, 40, 80)
BLENDS: tuple[float, ...] = (0.0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 1.0)


@dataclass
class Profiles:
    """One signature profile per disease (or per drug): the mean of its L2-normalised rows.

    Parameters
    ----------
    names
        Sorted entity names.
    values
        Dense float32 (entities x genes) profiles over the genes listed by any entity.
    """

    names: np.ndarray
    values: np.ndarray
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def rows(self, names: Sequence[str]) -> np.ndarray:
        """Row positions of the given names (all must be known)."""
        idx = pd.Index(self.names).get_indexer(np.asarray(list(names), dtype=str))
        if (idx < 0).any():
            raise InputDataError(
                f"{int((idx < 0).sum())} names have no signature profile",
                where="similarity transfer",
                fix="score only diseases and drugs that have signatures",
            )
        return idx

    def fixed_similarity(self, kind: Similarity) -> np.ndarray:
        """The label-free similarity of every pair of entities (computed once)."""
        if kind not in self._cache:
            if kind == "cosine":
                z = _unit_rows(self.values)
            else:
                ranks = stats.rankdata(self.values, axis=1).astype(np.float32)
                z = _unit_rows(ranks - ranks.mean(axis=1, keepdims=True))
            self._cache[kind] = z @ z.T
        return self._cache[kind]


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


def signature_profiles(matrix: sp.spmatrix | np.ndarray, names: Sequence[str] | np.ndarray) -> Profiles:
    """Per-entity mean of the L2-normalised signature rows, over the genes any row lists.

    Parameters
    ----------
    matrix
        (rows x genes) signatures, sparse or dense (disease contrasts or drug perturbations).
    names
        The entity (disease or drug) of every row.

    Returns
    -------
    Profiles
        One profile per entity, rows sorted by name.
    """
    m = sp.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    m = sp.csr_matrix(sp.diags(1.0 / norms) @ m)
    used = np.flatnonzero(np.asarray((m != 0).sum(axis=0)).ravel())
    codes, groups = pd.factorize(pd.Series(np.asarray(names).astype(str)), sort=True)
    counts = np.bincount(codes, minlength=len(groups))
    weights = sp.csr_matrix(
        ((1.0 / counts[codes]).astype(np.float32), (codes, np.arange(len(codes)))),
        shape=(len(groups), m.shape[0]),
    )
    values = np.asarray((weights @ m[:, used]).toarray(), dtype=np.float32)
    return Profiles(np.asarray(groups, dtype=str), values)


def learned_projection(profiles: np.ndarray, labels: np.ndarray, *, rank: int = 16) -> np.ndarray:
    """Gene directions that covary most with the indications (PLS-SVD, docs/methods.md §2.6).

    The directions are the top left singular vectors of the cross-covariance
    ``X_cᵀ Y_c`` (centred profiles and indication vectors), scaled by their singular values
    relative to the first; the exact thin SVD is taken through whichever side of the product is
    smaller.

    Parameters
    ----------
    profiles
        (training entities x genes) profiles.
    labels
        (training entities x items) 0/1 indication matrix.
    rank
        Number of directions.

    Returns
    -------
    numpy.ndarray
        (genes x rank) projection; a profile's latent vector is ``profile @ projection``.
    """
    x = (profiles - profiles.mean(axis=0, keepdims=True)).astype(np.float64)
    y = np.asarray(labels, dtype=np.float64)
    y = y - y.mean(axis=0, keepdims=True)
    if y.shape[1] <= x.shape[0]:
        # LAPACK's divide-and-conquer driver (numpy's) can fail to converge on such a tall,
        # partly zero cross-covariance (seen on the real held-out-drug folds); the QR-iteration
        # driver computes the same decomposition without that failure
        u, s, _ = scipy.linalg.svd(x.T @ y, full_matrices=False, lapack_driver="gesvd")
    else:  # x = Q L^(1/2) Vᵀ from the small Gram matrix; cross = V (L^(1/2) Qᵀ y)
        lam, q = np.linalg.eigh(x @ x.T)
        keep = lam > lam.max() * 1e-10
        lam, q = lam[keep], q[:, keep]
        a, s, _ = np.linalg.svd(np.sqrt(lam)[:, None] * (q.T @ y), full_matrices=False)
        u = x.T @ (q / np.sqrt(lam)[None, :] @ a)
    r = max(1, min(rank, len(s)))
    scale = s[:r] / s[0] if s[0] > 0 else np.ones(r)
    return (u[:, :r] * scale).astype(np.float32)


def knn_transfer(similarity: np.ndarray, labels: np.ndarray, *, top: int) -> np.ndarray:
    """Similarity-weighted share of each query's ``top`` nearest references listing each item.

    Parameters
    ----------
    similarity
        (queries x references) similarities; ``-inf`` excludes a reference.
    labels
        (references x items) 0/1 indications.
    top
        Neighbours kept per query (only positive similarities count).

    Returns
    -------
    numpy.ndarray
        (queries x items) scores in [0, 1] (0 for a query without a positive neighbour).
    """
    top = check_count(top, "top", minimum=1)
    s = np.asarray(similarity, dtype=np.float64)
    n_ref = s.shape[1]
    w = np.zeros_like(s)
    if n_ref:
        keep = min(top, n_ref)
        idx = np.argpartition(-s, keep - 1, axis=1)[:, :keep]
        vals = np.take_along_axis(s, idx, axis=1)
        np.put_along_axis(w, idx, np.where(np.isfinite(vals), np.maximum(vals, 0.0), 0.0), axis=1)
    total = w.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return (w @ np.asarray(labels, dtype=np.float64)) / total


@dataclass
class TransferChoice:
    """The transfer settings chosen on inner validation folds and their inner MAP.

    Parameters
    ----------
    similarity
        ``cosine``, ``spearman`` or ``learned``.
    top
        Nearest references used.
    blend
        Weight of popularity in the blend.
    val_map
        Inner-validation mean average precision of the chosen settings.
    grid
        Inner MAP of every setting tried (columns ``similarity``, ``top``, ``blend``,
        ``val_map``).
    """

    similarity: Similarity
    top: int
    blend: float
    val_map: float
    grid: pd.DataFrame = field(default_factory=pd.DataFrame)


def transfer_axis(fold: Fold) -> Literal["disease", "drug"]:
    """Which entities are transferred from: training drugs for held-out drugs, else diseases.

    Parameters
    ----------
    fold
        The fold.

    Returns
    -------
    str
        ``"drug"`` on the held-out-drug split, ``"disease"`` otherwise.
    """
    return "drug" if fold.kind == "drug" else "disease"


def _problem(fold: Fold):
    """(query names, reference names, what the references pass on, item names) of a fold's test part.

    What the references pass on is their (references x items) indication matrix. On held-out
    drugs it has one more column, each training drug's share of the training diseases it is
    indicated for: passed on like the indications, it gives an unseen drug its prior, the
    popularity of its neighbours (§2.6). The share counts every training disease, not only
    the diseases of the test part, which are those with a test indication.
    """
    if transfer_axis(fold) == "drug":
        items = list(fold.test_diseases)
        ref = list(fold.train_drugs)
        y = label_matrix(fold.train, items, ref).to_numpy().T
        counts = fold.train["drug"].value_counts().reindex(ref, fill_value=0).to_numpy(float)
        return list(fold.test_drugs), ref, np.column_stack([y, counts / len(fold.train_diseases)]), items
    ref = list(fold.train_diseases)
    y = label_matrix(fold.train, ref, fold.test_drugs).to_numpy()
    return list(fold.test_diseases), ref, y, list(fold.test_drugs)


def _similarities(
    fold: Fold, profiles: Profiles, kinds: Sequence[Similarity], rank: int, query: list[str], ref: list[str]
):
    """{similarity: (queries x references)} with a query's own row excluded (pair split)."""
    q_rows, r_rows = profiles.rows(query), profiles.rows(ref)
    out = {}
    for kind in kinds:
        if kind == "learned":
            if transfer_axis(fold) == "drug":
                y_all = label_matrix(fold.train, sorted(set(fold.train["disease"])), ref).to_numpy().T
            else:
                y_all = label_matrix(fold.train, ref, sorted(set(fold.train["drug"]))).to_numpy()
            proj = learned_projection(profiles.values[r_rows], y_all, rank=rank)
            zq = _unit_rows(profiles.values[q_rows] @ proj)
            zr = _unit_rows(profiles.values[r_rows] @ proj)
            s = zq @ zr.T
        else:
            s = profiles.fixed_similarity(kind)[np.ix_(q_rows, r_rows)].copy()
        s = s.astype(np.float64)
        s[np.asarray(query)[:, None] == np.asarray(ref)[None, :]] = -np.inf
        out[kind] = s
    return out


def transfer_scores(
    fold: Fold,
    profiles: Profiles,
    *,
    similarity: Similarity = "cosine",
    top: int = 10,
    blend: float = 0.1,
    rank: int = 16,
) -> pd.DataFrame:
    """Transfer scores of a fold's test diseases x test drugs (docs/methods.md §2.6).

    One table of :func:`transfer_tables`.

    Parameters
    ----------
    fold
        The fold: its training labels are transferred to its test part.
    profiles
        Profiles of the transfer axis: diseases, or drugs on the held-out-drug split
        (:func:`transfer_axis`).
    similarity
        ``cosine``, ``spearman`` or ``learned``.
    top
        Nearest training entities used.
    blend
        Weight of popularity, in [0, 1].
    rank
        Directions of the learned similarity.

    Returns
    -------
    pandas.DataFrame
        (test diseases x test drugs) scores.
    """
    return transfer_tables(fold, profiles, similarity=similarity, top=top, blends=(blend,), rank=rank)[0]


def transfer_tables(
    fold: Fold,
    profiles: Profiles,
    *,
    similarity: Similarity = "cosine",
    top: int = 10,
    blends: Sequence[float] = (0.1,),
    rank: int = 16,
) -> list[pd.DataFrame]:
    """Transfer scores of a fold's test part at several popularity blends, from one neighbour search.

    Parameters
    ----------
    fold, profiles, similarity, top, rank
        As in :func:`transfer_scores`.
    blends
        Weights of popularity, each in [0, 1] (1: the prior alone).

    Returns
    -------
    list of pandas.DataFrame
        One (test diseases x test drugs) table per blend, in order.
    """
    check_choice(similarity, "similarity", SIMILARITIES)
    query, ref, y, items = _problem(fold)
    passed = knn_transfer(
        _similarities(fold, profiles, [similarity], rank, query, ref)[similarity], y, top=top
    )
    drug_axis = transfer_axis(fold) == "drug"
    tables = []
    for blend in blends:
        table = pd.DataFrame(_blend(passed, y, blend, drug_axis), index=query, columns=items)
        tables.append(table.T if drug_axis else table)
    return tables


def _blend(passed: np.ndarray, y: np.ndarray, blend: float, drug_axis: bool) -> np.ndarray:
    """Mix the (queries x items) transfer with the popularity prior (docs/methods.md §2.6).

    ``passed`` is what the neighbours passed on (:func:`knn_transfer` of ``y``, the output of
    :func:`_problem`). Along diseases the prior of a drug is the share of training diseases
    listing it. Along drugs the query is an unseen drug with no indications of its own, and
    its prior, the popularity of its neighbours, is the last column passed on; a per-disease
    constant would leave the order of the drugs unchanged.
    """
    if drug_axis:
        transfer, prior = passed[:, :-1], passed[:, -1:]
    else:
        transfer, prior = passed, np.asarray(y, dtype=np.float64).mean(axis=0)[None, :]
    return (1 - blend) * transfer + blend * prior


@dataclass
class _InnerPart:
    """One inner fold prepared for the grid: its problem (:func:`_problem`), evaluated rows and their positives."""

    query: list[str]
    ref: list[str]
    y: np.ndarray
    transposed: bool
    rows: np.ndarray
    truth: np.ndarray
    cand: np.ndarray

    @classmethod
    def of(cls, fold: Fold) -> _InnerPart:
        query, ref, y, items = _problem(fold)
        transposed = transfer_axis(fold) == "drug"
        index, columns = (items, query) if transposed else (query, items)
        pos = fold.positives().reindex(index=index, columns=columns).to_numpy()
        cand = fold.candidates().reindex(index=index, columns=columns).to_numpy()
        truth = pos & cand
        rows = np.flatnonzero(truth.sum(axis=1) > 0)
        return cls(query, ref, y, transposed, rows, truth[rows], cand[rows])

    def scores(self, passed: np.ndarray, blend: float) -> np.ndarray:
        values = _blend(passed, self.y, blend, self.transposed)
        values = values.T if self.transposed else values
        return np.where(self.cand, values[self.rows], -1.0)


def _inner_map(parts: list[_InnerPart], transfers: list[np.ndarray], blend: float) -> float:
    """Mean per-disease average precision over all inner folds (label-ranking AP, candidates only)."""
    total, count = 0.0, 0
    for part, transfer in zip(parts, transfers, strict=True):
        if len(part.rows):
            total += label_ranking_average_precision_score(part.truth, part.scores(transfer, blend)) * len(
                part.rows
            )
            count += len(part.rows)
    return total / max(1, count)


def choose_transfer(
    fold: Fold,
    profiles: Profiles,
    *,
    similarities: Sequence[Similarity] = SIMILARITIES,
    n_inner: int = 5,
    rank: int = 16,
    seed: int = 0,
) -> dict[str, TransferChoice]:
    """Choose ``top`` and ``blend`` of each similarity on inner folds of ``fold``'s training part.

    The training labels are split again into ``n_inner`` folds of the same kind (the benchmark
    passes a fold whose training part already lacks its selection part); every (``top``, ``blend``) pair of
    :data:`TOPS` x :data:`BLENDS` is scored on every inner fold, and the pair with the highest
    mean average precision over all inner test diseases wins. The outer test part is never read.

    Parameters
    ----------
    fold
        The outer fold.
    profiles
        Profiles of the transfer axis (:func:`transfer_axis`).
    similarities
        Similarities to tune.
    n_inner
        Inner folds.
    rank
        Directions of the learned similarity.
    seed
        Seed of the inner split.

    Returns
    -------
    dict
        ``{similarity: TransferChoice}``.
    """
    n_inner = check_count(n_inner, "n_inner", minimum=2)
    inner = make_folds(
        fold.train,
        split=fold.kind,
        n_folds=n_inner,
        seed=seed,
        drugs=fold.train_drugs,
        diseases=fold.train_diseases,
        clusters=fold.clusters or None,  # near-duplicate diseases stay together inside too
    )
    parts = [_InnerPart.of(f) for f in inner]
    sims = [
        _similarities(f, profiles, similarities, rank, p.query, p.ref)
        for f, p in zip(inner, parts, strict=True)
    ]
    out: dict[str, TransferChoice] = {}
    for kind in similarities:
        rows = []
        for top in TOPS:
            transfers = [knn_transfer(s[kind], p.y, top=top) for s, p in zip(sims, parts, strict=True)]
            for blend in BLENDS:
                rows.append(
                    {
                        "similarity": kind,
                        "top": top,
                        "blend": blend,
                        "val_map": _inner_map(parts, transfers, blend),
                    }
                )
        grid = pd.DataFrame(rows)
        best = grid.loc[grid["val_map"].idxmax()]
        out[kind] = TransferChoice(kind, int(best["top"]), float(best["blend"]), float(best["val_map"]), grid)
    return out
