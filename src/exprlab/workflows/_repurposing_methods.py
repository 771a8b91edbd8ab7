"""The benchmark's label-reading methods of one outer fold: transfer, learned models, ranker.

Called by :func:`exprlab.workflows._repurposing.run_benchmark` for every outer fold, after the
label-free methods (popularity and connectivity) are scored:

``transfer_cosine``, ``transfer_spearman``, ``transfer_learned``
    similarity transfer (docs/methods.md §2.6), ``top`` and the popularity blend chosen on five
    inner folds of the training part without its selection part;
``paper``, ``twotower``, ``twotower_ens``
    the learned matchers (docs/methods.md §2.1-2.2); the two-tower models also read, as pair
    features, the drug's popularity (on held-out drugs, that of its signature neighbours) and
    the similarity transfer, both computed without the
    scored disease's own labels (leave-one-out), so that a feature never contains the label
    the model is trained to predict; the models train and are validated with these features
    computed from the inner training labels, and score the test part with them computed from
    the whole training part, so that neither a validation nor a test pair's features hold a
    label of its own part;
``ranker``
    the combined ranker (docs/methods.md §2.7), fitted on the tuning part with features
    computed from the inner training part only, then applied to the test part with features
    from the whole training part.

Every method also scores the selection part (:func:`~exprlab.evaluate.inner_parts`), with
features and neighbours from the training part without it, so that methods are compared on
labels none of them was trained, stopped, tuned or fitted on. Nothing here reads the outer test
labels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from exprlab.datasets import standardise_features
from exprlab.evaluate import Fold, InnerParts, label_matrix, mean_average_precision
from exprlab.models import (
    PairData,
    Profiles,
    SeedEnsemble,
    TransferChoice,
    aggregate_scores,
    choose_transfer,
    fit_ranker,
    knn_transfer,
    rank_drugs,
    select_genes,
    signature_profiles,
    train_matcher,
    transfer_axis,
    transfer_scores,
    transfer_tables,
)

#: transfer methods and their similarity
TRANSFER_METHODS: dict[str, str] = {
    "transfer_cosine": "cosine",
    "transfer_spearman": "spearman",
    "transfer_learned": "learned",
}
TRANSFER = tuple(TRANSFER_METHODS)
RANKER = "ranker"

_PROFILES: dict[tuple[int, str], Profiles] = {}


def axis_profiles(data: PairData, axis: str) -> Profiles:
    """Disease (or drug) profiles of the data, computed once per data object."""
    rows = data.drugs if axis == "drug" else data.diseases
    key = (id(rows), axis)
    if key not in _PROFILES:
        if len(_PROFILES) > 4:
            _PROFILES.clear()
        names = data.instance_drug if axis == "drug" else data.contrast_disease
        _PROFILES[key] = signature_profiles(rows.matrix, names)
    return _PROFILES[key]


@dataclass(frozen=True)
class MethodScores:
    """One method's scores on one outer fold.

    Parameters
    ----------
    test
        Scores of the outer test part (test diseases x test drugs).
    selection
        Scores of the selection part, from the training part without it.
    val_map
        The MAP the method was stopped or tuned on (early stopping, inner folds, the ranker's
        fit), or its MAP on the tuning part when it has nothing to tune.
    """

    test: pd.DataFrame
    selection: pd.DataFrame
    val_map: float


def fixed_scores(mat: np.ndarray, data: PairData, fold: Fold) -> pd.DataFrame:
    """A label-free (contrasts x perturbations) score matrix on a fold's test part (§2 ranking rule)."""
    c_rows, i_rows = data.contrast_rows(fold.test_diseases), data.instance_rows(fold.test_drugs)
    return aggregate_scores(
        mat[np.ix_(c_rows, i_rows)], data.contrast_disease[c_rows], data.instance_drug[i_rows]
    )


def popularity_scores(fold: Fold) -> pd.DataFrame:
    """Every drug's number of indications in the fold's training part, on its test part."""
    counts = fold.train["drug"].value_counts().reindex(list(fold.test_drugs), fill_value=0)
    values = np.broadcast_to(counts.to_numpy(dtype=float), (len(fold.test_diseases), len(fold.test_drugs)))
    return pd.DataFrame(values.copy(), index=list(fold.test_diseases), columns=list(fold.test_drugs))


def tuning_map(scores: pd.DataFrame, tune: Fold) -> float:
    """MAP of scores of the tuning part (the quick form early stopping uses)."""
    return mean_average_precision(scores, tune.positives(), candidates=tune.candidates())


def score_label_methods(
    data: PairData,
    fold: Fold,
    parts: InnerParts,
    methods,
    connectivity: dict[str, np.ndarray],
    settings: Any,
    seed: int,
) -> tuple[dict[str, MethodScores], list[pd.DataFrame], float, dict[str, Any]]:
    """Test and selection scores of the transfer, learned and ranker methods of one fold.

    Parameters
    ----------
    data
        Signatures with the label-free pair features (cosine reversal, connectivity).
    fold
        The outer fold.
    parts
        Its tuning part (early stopping, ranker fit) and selection part (method choice only).
    methods
        The run's methods.
    connectivity
        Connectivity reversal scores (contrasts x perturbations) by method.
    settings
        The run's ``LearnedSettings``.
    seed
        The run's seed.

    Returns
    -------
    tuple
        ``{method: MethodScores}``, training histories, seconds spent on learned methods, and a
        dict of the choices made (for the report).
    """
    learned = [m for m in methods if m in ("paper", "twotower", "twotower_ens")]
    wanted = [m for m in methods if m in TRANSFER or m == RANKER] + learned
    out: dict[str, MethodScores] = {}
    if not wanted:
        return out, [], 0.0, {}
    t0 = time.perf_counter()
    select = parts.selection
    prof = axis_profiles(data, transfer_axis(fold))
    choices = choose_transfer(select, prof, seed=seed)  # inner folds of the training part without selection
    for m, kind in TRANSFER_METHODS.items():
        if m in methods:
            c = choices[kind]
            test, sel = (
                transfer_scores(f, prof, similarity=c.similarity, top=c.top, blend=c.blend)
                for f in (fold, select)
            )
            out[m] = MethodScores(test, sel, c.val_map)
    feature = max((choices["cosine"], choices["spearman"]), key=lambda c: c.val_map)
    info: dict[str, Any] = {
        "transfer": {k: {"top": c.top, "blend": c.blend, "val_map": c.val_map} for k, c in choices.items()},
        "transfer_feature": feature.similarity,
    }
    histories: list[pd.DataFrame] = []
    t_learn = 0.0
    if learned or RANKER in methods:
        t1 = time.perf_counter()
        # features from the labels each part may read: inner training (fit), training part
        # without selection (selection), whole training part (test)
        featured = {
            part: with_fold_features(data, f, prof, feature)
            for part, f in (("tuning", parts.tuning), ("selection", select), ("test", fold))
        }
        need = learned + ([RANKER] if RANKER in methods else [])
        scores, histories, tables = _learned_fold(featured, fold, parts, need, settings)
        t_learn = time.perf_counter() - t1
        out.update({m: scores[m] for m in learned})
        if RANKER in methods:
            out[RANKER], info["ranker"] = _ranker(
                data, fold, parts, prof, feature, connectivity, tables, seed
            )
    info["seconds"] = time.perf_counter() - t0
    return out, histories, t_learn, info


def with_fold_features(data: PairData, fold: Fold, prof: Profiles, choice: TransferChoice) -> PairData:
    """The data with two more pair features: leave-one-out popularity and similarity transfer.

    For a disease q and drug d (held-out-disease and pair splits): popularity is the number of
    training indications of d other than (q, d); transfer is the rule of docs/methods.md §2.6
    with q itself excluded from the neighbours and no popularity blend. On the held-out-drug
    split the transfer runs over drugs (d excluded from its own neighbours), and popularity is
    that of d's neighbours (the sum of its transfer over the diseases), for training and test
    drugs alike: a test drug has no indications of its own. Popularity is log1p-transformed and
    both are z-scored like the other pair features.
    """
    all_dis = sorted(set(data.contrast_disease))
    all_drugs = sorted(set(data.instance_drug))
    sim = prof.fixed_similarity(choice.similarity)
    if transfer_axis(fold) == "drug":
        ents, ref = all_drugs, list(fold.train_drugs)
        y = label_matrix(fold.train, all_dis, ref).to_numpy().T
    else:
        ents, ref = all_dis, list(fold.train_diseases)
        y = label_matrix(fold.train, ref, all_drugs).to_numpy()
    s = sim[np.ix_(prof.rows(ents), prof.rows(ref))].astype(np.float64)
    s[np.asarray(ents)[:, None] == np.asarray(ref)[None, :]] = -np.inf
    trans = knn_transfer(s, y, top=choice.top)
    if transfer_axis(fold) == "drug":
        trans = trans.T
        # the expected number of indications among the drug's signature neighbours (§2.6)
        pop = np.broadcast_to(trans.sum(axis=0, keepdims=True), trans.shape)
    else:
        counts = fold.train["drug"].value_counts().reindex(all_drugs, fill_value=0).to_numpy(float)
        pop = counts[None, :] - label_matrix(fold.train, all_dis, all_drugs).to_numpy(float)
    c_idx = pd.Index(all_dis).get_indexer(data.contrast_disease)
    i_idx = pd.Index(all_drugs).get_indexer(data.instance_drug)
    mats = {
        "popularity_loo": np.log1p(pop)[np.ix_(c_idx, i_idx)],
        "transfer_loo": trans[np.ix_(c_idx, i_idx)],
    }
    extra, _ = standardise_features(mats)
    base = data.extras if data.extras is not None else np.zeros((0, len(c_idx), len(i_idx)), np.float32)
    return replace(
        data,
        extras=np.concatenate([base, extra]),
        extra_names=(*data.extra_names, *mats),
    )


def _history(result, fold: int, method: str, member: int) -> pd.DataFrame:
    h = result.history.copy()
    h.insert(0, "member", member)
    h.insert(0, "method", method)
    h.insert(0, "fold", fold)
    h["chosen"] = h["epoch"] == result.best_epoch
    return h


def _learned_fold(featured: dict[str, PairData], fold: Fold, parts: InnerParts, learned, settings):
    """Train the learned methods of one fold (gene space from training signatures only).

    ``featured["tuning"]`` carries the pair features computed from the inner training labels: the
    models train and are stopped with it, so a tuning pair's features, like a test pair's, hold
    no label of its own part (on the held-out-drug split the whole-training-part popularity of a
    tuning drug would be its number of tuning indications). ``featured["selection"]`` carries
    them from the training part without the selection part, ``featured["test"]`` from the whole
    outer training part; the selection and test parts are scored with these. The gene space is
    chosen from the signatures of the training part without the selection part.

    Returns ``{method: MethodScores}``, the training histories and ``{part: {model: scores}}``
    (the paper network and the two-tower ensemble on the tuning, selection and test parts, for
    the ranker).
    """
    tune, select = parts.tuning, parts.selection
    fitted = featured["tuning"]
    c_rows = fitted.contrast_rows(select.train_diseases)
    i_rows = fitted.instance_rows(select.train_drugs)
    genes = select_genes(fitted, contrast_rows=c_rows, instance_rows=i_rows, max_genes=settings.max_genes)
    subs = {part: d.subset_genes(genes) for part, d in featured.items()}
    where = {"tuning": tune, "selection": select, "test": fold}

    def rank_all(model) -> dict[str, pd.DataFrame]:
        return {
            part: rank_drugs(model, subs[part], f.test_diseases, f.test_drugs) for part, f in where.items()
        }

    out: dict[str, MethodScores] = {}
    histories: list[pd.DataFrame] = []
    tables: dict[str, dict[str, pd.DataFrame]] = {part: {} for part in where}
    if "paper" in learned:
        res = train_matcher(subs["tuning"], tune, tune, settings.paper)
        histories.append(_history(res, fold.index, "paper", 0))
        ranked = rank_all(res.model)
        out["paper"] = MethodScores(ranked["test"], ranked["selection"], res.best_val_map)
        for part in where:
            tables[part]["paper"] = ranked[part]
    if not {"twotower", "twotower_ens", RANKER} & set(learned):
        return out, histories, tables
    n = settings.ensemble_seeds if "twotower_ens" in learned else 1
    members = []
    for k in range(n):
        cfg = replace(settings.twotower, seed=settings.twotower.seed + k)
        members.append(train_matcher(subs["tuning"], tune, tune, cfg))
        histories.append(_history(members[-1], fold.index, "twotower", k))
    ens = rank_all(SeedEnsemble([m.model for m in members]))
    for part in where:
        tables[part]["twotower"] = ens[part]
    if "twotower" in learned:
        one = ens if n == 1 else rank_all(members[0].model)
        out["twotower"] = MethodScores(one["test"], one["selection"], members[0].best_val_map)
    if "twotower_ens" in learned:
        out["twotower_ens"] = MethodScores(ens["test"], ens["selection"], tuning_map(ens["tuning"], tune))
    return out, histories, tables


def _ranker_features(data, f: Fold, prof, choice, connectivity, learned: dict[str, pd.DataFrame]):
    """Score tables of every ranker input on fold ``f``'s test part, from ``f``'s training labels."""
    # the transfer's prior (popularity, or on held-out drugs that of the signature neighbours)
    # and the transfer alone, from one neighbour search
    prior, transfer = transfer_tables(
        f, prof, similarity=choice.similarity, top=choice.top, blends=(1.0, 0.0)
    )
    feats = {"popularity": prior, "transfer": transfer}
    for name, mat in connectivity.items():
        feats[name] = fixed_scores(mat, data, f)
    feats.update(learned)
    return feats


def _ranker(data, fold, parts: InnerParts, prof, choice, connectivity, tables, seed):
    """Fit the ranker on the tuning part; score the selection and the outer test parts."""
    tune = parts.tuning
    feats = {
        part: _ranker_features(data, f, prof, choice, connectivity, tables[part])
        for part, f in (("tuning", tune), ("selection", parts.selection), ("test", fold))
    }
    ranker = fit_ranker(feats["tuning"], tune.positives(), candidates=tune.candidates(), seed=seed)
    info = {
        "strength": ranker.strength,
        "weights": ranker.weights.round(4).to_dict(),
        "val_map": ranker.val_map,
    }
    return MethodScores(ranker.score(feats["test"]), ranker.score(feats["selection"]), ranker.val_map), info
