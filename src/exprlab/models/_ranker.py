"""A combined ranker: logistic regression over per-(disease, drug) scores of several methods.

docs/methods.md §2.7. Every input is a (diseases x drugs) score table (popularity, similarity
transfer, connectivity scores, learned interactions). Each table is z-scored within each
disease (so only the order of drugs inside a disease matters and tables of different scales
and label counts are comparable), the pairs of all diseases are stacked, and a class-balanced
L2 logistic regression (scikit-learn) predicts the indication. Its regularisation is chosen by
grouped cross-validation over the training diseases, on mean average precision; the ranker's
own validation MAP is that of the chosen setting's out-of-fold predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from exprlab._validation import check_count
from exprlab.errors import InputDataError
from exprlab.evaluate import mean_average_precision

#: inverse regularisation strengths tried by the grouped cross-validation
STRENGTHS: tuple[float, ...] = (0.01, 0.1, 1.0)


def _stack(features: Mapping[str, pd.DataFrame], index, columns) -> np.ndarray:
    """(diseases x drugs x features) array, each feature z-scored within each disease."""
    layers = []
    for name, table in features.items():
        t = table.reindex(index=index, columns=columns)
        if t.isna().to_numpy().any():
            raise InputDataError(
                f"the score table {name!r} misses some (disease, drug) pairs",
                where="combined ranker",
                fix="give every feature a score for every disease and drug ranked",
            )
        v = t.to_numpy(dtype=np.float64)
        sd = v.std(axis=1, keepdims=True)
        sd[sd == 0] = 1.0
        layers.append((v - v.mean(axis=1, keepdims=True)) / sd)
    return np.stack(layers, axis=2)


@dataclass
class CombinedRanker:
    """A fitted combined ranker (see the module docstring).

    Parameters
    ----------
    names
        Feature names, in coefficient order.
    model
        The fitted scikit-learn logistic regression.
    strength
        The chosen inverse regularisation strength ``C``.
    val_map
        Mean average precision of the out-of-fold predictions at ``strength``.
    grid
        Cross-validated MAP of every strength tried.
    """

    names: tuple[str, ...]
    model: LogisticRegression
    strength: float
    val_map: float
    grid: dict = field(default_factory=dict)

    @property
    def weights(self) -> pd.Series:
        """The coefficient of each (within-disease z-scored) feature."""
        return pd.Series(self.model.coef_[0], index=list(self.names))

    def score(self, features: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """(diseases x drugs) ranker scores (log-odds) of new score tables.

        Parameters
        ----------
        features
            One table per feature name of the fit (extra names are ignored).

        Returns
        -------
        pandas.DataFrame
            Scores on the index and columns of the first feature.
        """
        first = features[self.names[0]]
        x = _stack({n: features[n] for n in self.names}, first.index, first.columns)
        flat = self.model.decision_function(x.reshape(-1, len(self.names)))
        return pd.DataFrame(flat.reshape(x.shape[:2]), index=first.index, columns=first.columns)


def fit_ranker(
    features: Mapping[str, pd.DataFrame],
    positives: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None = None,
    n_inner: int = 3,
    seed: int = 0,
) -> CombinedRanker:
    """Fit the combined ranker on training diseases (docs/methods.md §2.7).

    Parameters
    ----------
    features
        Feature name -> (diseases x drugs) score table, out of fold for these diseases (computed
        without their own labels).
    positives
        Boolean (diseases x drugs) table of the indications to predict.
    candidates
        Boolean table of the pairs that count (default all).
    n_inner
        Grouped cross-validation folds over diseases for the regularisation.
    seed
        Seed of the cross-validation split.

    Returns
    -------
    CombinedRanker
        The ranker refitted on all given diseases with the chosen strength.
    """
    n_inner = check_count(n_inner, "n_inner", minimum=2)
    names = tuple(features)
    index, columns = positives.index, positives.columns
    x = _stack(features, index, columns)
    y = positives.to_numpy(dtype=bool)
    cand = (
        np.ones_like(y) if candidates is None else candidates.reindex(index=index, columns=columns).to_numpy()
    )
    rows = np.flatnonzero((y & cand).any(axis=1))
    if len(rows) < n_inner:
        raise InputDataError(
            f"only {len(rows)} training diseases have an indication for the ranker",
            where="combined ranker",
            fix="give the ranker more labelled diseases",
        )
    parts = list(GroupKFold(n_splits=n_inner, shuffle=True, random_state=seed).split(rows, groups=rows))
    grid = {}
    for c in STRENGTHS:
        oof = np.zeros(y.shape)
        for train, test in parts:
            model = _fit(x[rows[train]], y[rows[train]], cand[rows[train]], c)
            oof[rows[test]] = model.decision_function(x[rows[test]].reshape(-1, len(names))).reshape(
                len(test), -1
            )
        grid[c] = mean_average_precision(
            pd.DataFrame(oof[rows], index=index[rows], columns=columns),
            pd.DataFrame(y[rows], index=index[rows], columns=columns),
            candidates=pd.DataFrame(cand[rows], index=index[rows], columns=columns),
        )
    best = max(STRENGTHS, key=lambda c: grid[c])
    return CombinedRanker(names, _fit(x[rows], y[rows], cand[rows], best), best, float(grid[best]), grid)


def _fit(x: np.ndarray, y: np.ndarray, cand: np.ndarray, strength: float) -> LogisticRegression:
    keep = cand.astype(bool).ravel()
    model = LogisticRegression(C=strength, class_weight="balanced", max_iter=1000)
    return model.fit(x.reshape(-1, x.shape[2])[keep], y.ravel()[keep])
