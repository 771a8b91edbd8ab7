"""The benchmark's label-reading methods of one outer fold: transfer, learned models, ranker.

Called by :func:`exprlab.workflows._repurposing.run_benchmark` for every outer fold, after the
label-free methods (popularity and connectivity) are scored:

``transfer_cosine``, ``transfer_spearman``, ``transfer_learned``
    similarity transfer (docs/methods.md §2.6), ``top`` and the popularity blend chosen on five
    inner folds of the training part;
``paper``, ``twotower``, ``twotower_ens``
    the learned matchers (docs/methods.md §2.1-2.2); the two-tower models also read, as pair
    features, the drug's popularity and the similarity transfer, both computed without the
    scored disease's own labels (leave-one-out), so that a feature never contains the label
    the model is trained to predict; the models train and are validated with these features
    computed from the inner training labels, and score the test part with them computed from
    the whole training part, so that neither a validation nor a test pair's features hold a
    label of its own part;
``ranker``
    the combined ranker (docs/methods.md §2.7), fitted on the inner validation part with
    features computed from the inner training part only, then applied to the test part with
    features from the whole training part.

Nothing here reads the outer test labels.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from exprlab.datasets import standardise_features
from exprlab.evaluate import Fold, label_matrix, mean_average_precision
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


def _fixed(mat: np.ndarray, data: PairData, diseases, drugs) -> pd.DataFrame:
    c_rows, i_rows = data.contrast_rows(diseases), data.instance_rows(drugs)
    return aggregate_scores(
        mat[np.ix_(c_rows, i_rows)], data.contrast_disease[c_rows], data.instance_drug[i_rows]
    )


def _popularity(fold: Fold) -> pd.DataFrame:
    counts = fold.train["drug"].value_counts().reindex(list(fold.test_drugs), fill_value=0)
    values = np.broadcast_to(counts.to_numpy(dtype=float), (len(fold.test_diseases), len(fold.test_drugs)))
    return pd.DataFrame(values.copy(), index=list(fold.test_diseases), columns=list(fold.test_drugs))


def score_label_methods(
    data: PairData,
    fold: Fold,
    inner: Fold,
    methods,
    connectivity: dict[str, np.ndarray],
    settings: Any,
    seed: int,
) -> tuple[dict[str, tuple[pd.DataFrame, float]], list[pd.DataFrame], float, dict[str, Any]]:
    """Test scores and validation MAP of the transfer, learned and ranker methods of one fold.

    Parameters
    ----------
    data
        Signatures with the label-free pair features (cosine reversal, connectivity).
    fold
        The outer fold.
    inner
        Its inner validation split (early stopping, ranker fit).
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
        ``{method: (test scores, validation MAP)}``, training histories, seconds spent on
        learned methods, and a dict of the choices made (for the report).
    """
    learned = [m for m in methods if m in ("paper", "twotower", "twotower_ens")]
    wanted = [m for m in methods if m in TRANSFER or m == RANKER] + learned
    out: dict[str, tuple[pd.DataFrame, float]] = {}
    if not wanted:
        return out, [], 0.0, {}
    t0 = time.perf_counter()
    prof = axis_profiles(data, transfer_axis(fold))
    choices = choose_transfer(fold, prof, seed=seed)
    for m, kind in TRANSFER_METHODS.items():
        if m in methods:
            c = choices[kind]
            out[m] = (
                transfer_scores(fold, prof, similarity=c.similarity, top=c.top, blend=c.blend),
                c.val_map,
            )
    feature = max((choices["cosine"], choices["spearman"]), key=lambda c: c.val_map)
    info: dict[str, Any] = {
        "transfer": {k: {"top": c.top, "blend": c.blend, "val_map": c.val_map} for k, c in choices.items()},
        "transfer_feature": feature.similarity,
    }
    histories: list[pd.DataFrame] = []
    val_tables: dict[str, pd.DataFrame] = {}
    t_learn = 0.0
    if learned or RANKER in methods:
        t1 = time.perf_counter()
        fitted = with_fold_features(data, inner, prof, feature)
        applied = with_fold_features(data, fold, prof, feature)
        need = learned + ([RANKER] if RANKER in methods else [])
        scores, histories, val_tables = _learned_fold(fitted, applied, fold, inner, need, settings)
        t_learn = time.perf_counter() - t1
        out.update({m: scores[m] for m in learned if m in scores})
        if RANKER in methods:
            ranker_scores, ranker_info = _ranker(
                data, fold, inner, prof, feature, connectivity, scores, val_tables, seed
            )
            out[RANKER] = ranker_scores
            info["ranker"] = ranker_info
    info["seconds"] = time.perf_counter() - t0
    return out, histories, t_learn, info


def with_fold_features(data: PairData, fold: Fold, prof: Profiles, choice: TransferChoice) -> PairData:
    """The data with two more pair features: leave-one-out popularity and similarity transfer.

    For a disease q and drug d (held-out-disease and pair splits): popularity is the number of
    training indications of d other than (q, d); transfer is the rule of docs/methods.md §2.6
    with q itself excluded from the neighbours and no popularity blend. On the held-out-drug
    split the transfer runs over drugs (d excluded from its own neighbours). Both are log1p
    / z-scored like the other pair features.
    """
    all_dis = sorted(set(data.contrast_disease))
    all_drugs = sorted(set(data.instance_drug))
    counts = fold.train["drug"].value_counts().reindex(all_drugs, fill_value=0).to_numpy(float)
    own = label_matrix(fold.train, all_dis, all_drugs).to_numpy(float)
    pop = counts[None, :] - own
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
    trans = trans.T if transfer_axis(fold) == "drug" else trans
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


def _learned_fold(fitted: PairData, applied: PairData, fold: Fold, inner: Fold, learned, settings):
    """Train the learned methods of one fold (gene space from training signatures only).

    ``fitted`` carries the pair features computed from the inner training labels: the models
    train and are validated with it, so a validation pair's features, like a test pair's, hold
    no label of its own part (on the held-out-drug split the whole-training-part popularity of a
    validation drug would be its number of validation indications). ``applied`` carries the
    features from the whole outer training part, with which the test part is scored.

    Returns ``{method: (test scores, validation MAP)}``, the training histories and
    ``{method: validation scores}`` (the inner validation part, for the ranker).
    """
    c_rows = fitted.contrast_rows(fold.train_diseases)
    i_rows = fitted.instance_rows(fold.train_drugs)
    genes = select_genes(fitted, contrast_rows=c_rows, instance_rows=i_rows, max_genes=settings.max_genes)
    sub = fitted.subset_genes(genes)
    sub_test = replace(sub, extras=applied.extras, extra_names=applied.extra_names)
    out, histories, val = {}, [], {}
    if "paper" in learned:
        res = train_matcher(sub, inner, inner, settings.paper)
        histories.append(_history(res, fold.index, "paper", 0))
        out["paper"] = (
            rank_drugs(res.model, sub_test, fold.test_diseases, fold.test_drugs),
            res.best_val_map,
        )
        val["paper"] = rank_drugs(res.model, sub, inner.test_diseases, inner.test_drugs)
    if not {"twotower", "twotower_ens", RANKER} & set(learned):
        return out, histories, val
    n = settings.ensemble_seeds if "twotower_ens" in learned else 1
    members = []
    for k in range(n):
        cfg = replace(settings.twotower, seed=settings.twotower.seed + k)
        members.append(train_matcher(sub, inner, inner, cfg))
        histories.append(_history(members[-1], fold.index, "twotower", k))
    ens = SeedEnsemble([m.model for m in members])
    val["twotower"] = rank_drugs(ens, sub, inner.test_diseases, inner.test_drugs)
    test = rank_drugs(ens, sub_test, fold.test_diseases, fold.test_drugs)
    if "twotower" in learned:
        one = test if n == 1 else rank_drugs(members[0].model, sub_test, fold.test_diseases, fold.test_drugs)
        out["twotower"] = (one, members[0].best_val_map)
    if "twotower_ens" in learned:
        out["twotower_ens"] = (
            test,
            mean_average_precision(val["twotower"], inner.positives(), candidates=inner.candidates()),
        )
    out["_twotower_test"] = (test, float("nan"))
    return out, histories, val


def _ranker_features(data, f: Fold, prof, choice, connectivity, learned: dict[str, pd.DataFrame]):
    """Score tables of every ranker input on fold ``f``'s test part, from ``f``'s training labels."""
    feats = {
        "popularity": _popularity(f),
        "transfer": transfer_scores(f, prof, similarity=choice.similarity, top=choice.top, blend=0.0),
    }
    for name, mat in connectivity.items():
        feats[name] = _fixed(mat, data, f.test_diseases, f.test_drugs)
    feats.update(learned)
    return feats


def _ranker(data, fold, inner, prof, choice, connectivity, scores, val_tables, seed):
    """Fit the ranker on the inner validation part and score the outer test part."""
    val_learned = {k: v for k, v in val_tables.items()}
    test_learned = {"twotower": scores["_twotower_test"][0]}
    if "paper" in scores:
        test_learned["paper"] = scores["paper"][0]
    val_feats = _ranker_features(data, inner, prof, choice, connectivity, val_learned)
    ranker = fit_ranker(val_feats, inner.positives(), candidates=inner.candidates(), seed=seed)
    test_feats = _ranker_features(data, fold, prof, choice, connectivity, test_learned)
    info = {
        "strength": ranker.strength,
        "weights": ranker.weights.round(4).to_dict(),
        "val_map": ranker.val_map,
    }
    return (ranker.score(test_feats), ranker.val_map), info
