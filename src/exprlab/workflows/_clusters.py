"""Clusters of near-duplicate diseases of a triangle, for the disease-cluster split.

Names come from the disease signatures' ``disease_name`` column (the disease id when absent);
signature similarity is the cosine between the diseases' mean contrast signatures over the
whole gene space (docs/methods.md §2.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab.evaluate import SIMILARITY_THRESHOLD, disease_clusters


def mean_signature_similarity(bench: Any, diseases: Sequence[str]) -> pd.DataFrame:
    """Cosine similarity of the diseases' mean contrast signatures.

    Parameters
    ----------
    bench
        A triangle whose ``diseases`` AnnData has an obs column ``disease``.
    diseases
        The diseases compared (each must have at least one contrast).

    Returns
    -------
    pandas.DataFrame
        Diseases x diseases, 0 for a disease whose mean signature is all zeros.
    """
    obs = bench.diseases.obs["disease"].astype(str).to_numpy()
    codes = pd.Index(list(diseases)).get_indexer(obs)
    rows = np.flatnonzero(codes >= 0)
    counts = np.bincount(codes[rows], minlength=len(diseases)).astype(float)
    weights = sp.csr_matrix((1.0 / counts[codes[rows]], (codes[rows], rows)), shape=(len(diseases), len(obs)))
    X = bench.diseases.X
    means = weights @ (X if sp.issparse(X) else np.asarray(X, dtype=float))
    means = means.toarray() if sp.issparse(means) else np.asarray(means, dtype=float)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    unit = means / np.where(norms > 0, norms, 1.0)
    return pd.DataFrame(unit @ unit.T, index=list(diseases), columns=list(diseases))


def triangle_clusters(
    bench: Any, diseases: Sequence[str], *, threshold: float = SIMILARITY_THRESHOLD
) -> tuple[pd.Series, dict[str, Any]]:
    """Near-duplicate clusters of the labelled diseases of a triangle, and what they hold.

    Parameters
    ----------
    bench
        The triangle.
    diseases
        The labelled diseases.
    threshold
        Signature similarity above which two diseases are near-duplicates.

    Returns
    -------
    (clusters, report)
        The cluster of every disease (:func:`exprlab.evaluate.disease_clusters`) and a report:
        ``n_clusters``, ``largest_cluster`` and every cluster of more than one disease by name.
    """
    obs = bench.diseases.obs
    if "disease_name" in obs.columns:
        named = obs.drop_duplicates("disease").set_index(
            obs.drop_duplicates("disease")["disease"].astype(str)
        )
        names = named["disease_name"].reindex(list(diseases))
        names = names.where(names.notna(), pd.Series(list(diseases), index=names.index))
    else:
        names = pd.Series(list(diseases), index=list(diseases))
    clusters = disease_clusters(
        names, similarity=mean_signature_similarity(bench, diseases), threshold=threshold
    )
    sizes = clusters.value_counts()
    groups = [sorted(str(names[d]) for d in clusters.index[clusters == c]) for c in sizes.index[sizes > 1]]
    report = {
        "n_clusters": int(len(sizes)),
        "largest_cluster": int(sizes.iloc[0]),
        "similarity_threshold": threshold,
        "clusters_of_several": groups,
    }
    return clusters, report
