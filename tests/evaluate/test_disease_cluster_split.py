"""Disease-cluster split: near-duplicate diseases by name tokens or signatures never straddle folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InputDataError
from exprlab.evaluate import NAME_STOP_WORDS, disease_clusters, inner_validation, make_folds

NAMES = {
    "D1": "lung adenocarcinoma",
    "D2": "non-small cell lung carcinoma",
    "D3": "breast carcinoma",
    "D4": "prostate carcinoma",
    "D5": "type I diabetes mellitus",
    "D6": "type II diabetes mellitus",
    "D7": "Crohn's disease",
    "D8": "ulcerative colitis",
    "D9": "asthma",
    "D10": "psoriasis",
}


def _same(clusters: pd.Series, a: str, b: str) -> bool:
    return bool(clusters[a] == clusters[b])


def test_names_link_on_informative_tokens_only():
    cl = disease_clusters(NAMES)
    assert _same(cl, "D1", "D2")  # "lung"
    assert _same(cl, "D5", "D6")  # "diabetes", "mellitus"
    assert not _same(cl, "D3", "D4")  # only "carcinoma", a stop word
    assert not _same(cl, "D7", "D9")
    # clusters: {D1,D2} {D3} {D4} {D5,D6} {D7} {D8} {D9} {D10}, numbered by first id (sorted as text)
    assert cl.nunique() == 8
    assert cl.index.tolist() == sorted(NAMES)
    assert {"disease", "cancer", "carcinoma", "syndrome"} <= NAME_STOP_WORDS


def test_signature_similarity_links_above_the_threshold():
    sim = pd.DataFrame(0.0, index=list(NAMES), columns=list(NAMES))
    sim.loc["D7", "D8"] = sim.loc["D8", "D7"] = 0.71
    sim.loc["D9", "D10"] = sim.loc["D10", "D9"] = 0.5  # at the threshold: not linked
    cl = disease_clusters(NAMES, similarity=sim, threshold=0.5)
    assert _same(cl, "D7", "D8") and not _same(cl, "D9", "D10")
    assert cl.nunique() == 7


def _pairs(n_clusters: int = 8, per: int = 3, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    rows, clusters = [], {}
    for c in range(n_clusters):
        for k in range(per):
            d = f"c{c}_d{k}"
            clusters[d] = c
            for drug in rng.choice(20, size=3, replace=False):
                rows.append((d, f"drug{drug}"))
    return pd.DataFrame(rows, columns=["disease", "drug"]), pd.Series(clusters)


def test_no_cluster_straddles_train_and_test():
    pairs, clusters = _pairs()
    folds = make_folds(pairs, split="disease-cluster", n_folds=4, seed=3, clusters=clusters)
    assert sorted(d for f in folds for d in f.test_diseases) == sorted(set(pairs["disease"]))
    for f in folds:
        test_c = set(clusters[list(f.test_diseases)])
        train_c = set(clusters[sorted(set(f.train["disease"]))])
        assert not test_c & train_c
        assert f.kind == "disease-cluster"
        inner = inner_validation(f, fraction=0.34, seed=1)
        assert not set(clusters[list(inner.test_diseases)]) & set(
            clusters[sorted(set(inner.train["disease"]))]
        )
    # with every disease its own cluster it is the plain disease split's grouping
    own = pd.Series(range(len(clusters)), index=clusters.index)
    folds = make_folds(pairs, split="disease-cluster", n_folds=4, seed=3, clusters=own)
    assert len(folds) == 4


def test_bad_input_is_refused():
    pairs, clusters = _pairs(n_clusters=3)
    # one giant cluster plus two: three clusters cannot fill five folds
    with pytest.raises(InputDataError, match="only 3 cluster"):
        make_folds(pairs, split="disease-cluster", n_folds=5, clusters=clusters)
    everything = pd.Series(0, index=clusters.index)
    with pytest.raises(InputDataError, match="largest holds 9"):
        make_folds(pairs, split="disease-cluster", n_folds=2, clusters=everything)
    with pytest.raises(InputDataError, match="needs the cluster"):
        make_folds(pairs, split="disease-cluster", n_folds=2)
    with pytest.raises(InputDataError, match="have no cluster"):
        make_folds(pairs, split="disease-cluster", n_folds=2, clusters=clusters.iloc[1:])
    with pytest.raises(InputDataError):
        disease_clusters({})
