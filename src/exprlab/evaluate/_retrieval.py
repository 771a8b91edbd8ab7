"""Retrieval metrics for drug ranking: per-disease scores, bootstrap intervals, paired tests.

Every disease is one retrieval query: all candidate drugs are ranked by a method's score and the
disease's indicated drugs are the relevant items (docs/methods.md §2). Metrics are computed per disease
and then averaged over diseases, with a 95% percentile bootstrap interval obtained by resampling
diseases; two methods are compared by a paired test over the diseases both were scored on.

Ties. Several methods produce tied scores (drug popularity gives every never-indicated drug the
same count; a constant score ties everything). Tied candidates are ordered at random with a fixed
seed before any metric is computed, so every metric is an unbiased draw of its expectation under
random tie-breaking and all metrics see the same strict order. The random baseline is not
simulated: :func:`expected_random_metrics` gives the exact expectation of each metric under a
uniformly random permutation (closed forms below).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln
from sklearn.metrics import average_precision_score, ndcg_score, roc_auc_score

from exprlab._validation import check_choice
from exprlab.errors import InputDataError

__all__ = [
    "METRICS",
    "strict_order",
    "ranking_metrics",
    "expected_random_metrics",
    "per_disease_metrics",
    "random_per_disease",
    "bootstrap_summary",
    "paired_tests",
    "ratio_interval",
    "mean_average_precision",
    "choose_method",
]

#: retrieval metric column names of one ranked disease, in table order
METRICS: tuple[str, ...] = (
    "average_precision",
    "precision_at_10",
    "precision_at_50",
    "recall_at_10",
    "recall_at_50",
    "reciprocal_rank",
    "ndcg_at_10",
    "roc_auc",
    "hits_at_10",
)


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def strict_order(scores: np.ndarray, *, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Candidate indices from best to worst; ties broken by a seeded random permutation.

    Parameters
    ----------
    scores
        One score per candidate, higher = better.
    seed
        Seed (or generator) of the tie-breaking.

    Returns
    -------
    numpy.ndarray
        Candidate indices, best first.
    """
    scores = np.asarray(scores, dtype=float)
    tiebreak = np.asarray(_rng(seed).random(scores.shape[0]))
    return np.lexsort((tiebreak, -scores))


def ranking_metrics(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[bool] | np.ndarray,
    *,
    seed: int | np.random.Generator = 0,
) -> dict[str, float]:
    """All retrieval metrics of one disease.

    Parameters
    ----------
    scores
        One score per candidate drug, higher = ranked earlier. Must be finite.
    labels
        Boolean (or 0/1) per candidate: is the drug indicated for this disease.
    seed
        Seed of the random tie-breaking.

    Returns
    -------
    dict mapping each name of :data:`METRICS` to its value.

    Raises
    ------
    InputDataError
        When there is no positive (the metrics are undefined), no negative, or non-finite scores.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    if s.shape != y.shape or s.ndim != 1:
        raise InputDataError(
            f"scores (shape {s.shape}) and labels (shape {y.shape}) must be 1-D of equal length",
            where="ranking_metrics",
            fix="pass one score and one label per candidate drug",
        )
    if not np.all(np.isfinite(s)):
        raise InputDataError(
            f"{int((~np.isfinite(s)).sum())} scores are NaN or infinite",
            where="ranking_metrics",
            fix="replace missing scores by a value (for example the minimum) before ranking",
        )
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        raise InputDataError(
            f"a disease with {n_pos} positives among {y.size} candidates has undefined metrics",
            where="ranking_metrics",
            fix="exclude diseases without indicated (or without non-indicated) candidates",
        )
    order = strict_order(s, seed=seed)
    ranked = y[order]
    strict = np.empty(s.size)
    strict[order] = np.arange(s.size, 0, -1, dtype=float)  # best gets the largest value
    first = int(np.argmax(ranked)) + 1
    out = {
        "average_precision": float(average_precision_score(y, strict)),
        "reciprocal_rank": 1.0 / first,
        "ndcg_at_10": float(ndcg_score(y[None, :].astype(float), strict[None, :], k=10)),
        "roc_auc": float(roc_auc_score(y, strict)),
    }
    for k in (10, 50):
        hits = float(ranked[:k].sum())
        out[f"precision_at_{k}"] = hits / k
        out[f"recall_at_{k}"] = hits / n_pos
    out["hits_at_10"] = float(ranked[:10].any())
    return {m: out[m] for m in METRICS}


def _log_comb(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def expected_random_metrics(n_candidates: int, n_positives: int) -> dict[str, float]:
    """Exact expectation of every metric for a uniformly random ranking.

    With N candidates of which R are positive:

    * AP: E = (1/N) [H_N + (R-1)/(N-1) (N - H_N)], H_N the harmonic number (the precision at a
      positive in position k has expectation (1 + (R-1)(k-1)/(N-1)) / k);
    * P@k = min(k, N) R / (N k) (= R/N when k <= N); R@k = min(k, N)/N; ROC-AUC = 1/2;
    * hits@k = 1 - C(N-R, k)/C(N, k);
    * reciprocal rank: sum_j P(first positive at j)/j, P(first at j) = C(N-j, R-1)/C(N, R);
    * nDCG@k = (R/N) sum_{i<=k} 1/log2(i+1) divided by the ideal DCG of min(R, k) positives.

    Parameters
    ----------
    n_candidates
        Number of ranked candidates N.
    n_positives
        Number of relevant candidates R, 0 < R < N.

    Returns
    -------
    dict
        Each name of :data:`METRICS` → its expected value.
    """
    N, R = int(n_candidates), int(n_positives)
    if not 0 < R < N:
        raise InputDataError(
            f"expected metrics need 0 < positives < candidates (got {R} of {N})",
            where="expected_random_metrics",
            fix="exclude diseases without positives",
        )
    harmonic = float(np.sum(1.0 / np.arange(1, N + 1)))
    ap = (harmonic + (R - 1) / (N - 1) * (N - harmonic)) / N if N > 1 else 1.0
    j = np.arange(1, N - R + 2)
    p_first = np.exp(_log_comb(N - j, R - 1) - _log_comb(N, R))
    rr = float(np.sum(p_first / j))
    out: dict[str, float] = {"average_precision": float(ap), "reciprocal_rank": rr, "roc_auc": 0.5}
    for k in (10, 50):
        kk = min(k, N)
        out[f"precision_at_{k}"] = kk * R / N / k
        out[f"recall_at_{k}"] = kk / N
    kk = min(10, N)
    out["hits_at_10"] = 1.0 if N - R < kk else float(1.0 - np.exp(_log_comb(N - R, kk) - _log_comb(N, kk)))
    disc = 1.0 / np.log2(np.arange(2, kk + 2))
    out["ndcg_at_10"] = float((R / N) * disc.sum() / disc[: min(R, kk)].sum())
    return {m: out[m] for m in METRICS}


def _aligned(scores: pd.DataFrame, positives: pd.DataFrame, candidates: pd.DataFrame | None):
    """Scores, labels and candidate mask as arrays aligned on the scores' diseases and drugs."""

    def mask(table: pd.DataFrame) -> np.ndarray:
        aligned = table.reindex(index=scores.index, columns=scores.columns)
        return aligned.fillna(False).astype(bool).to_numpy()

    cand = np.ones(scores.shape, dtype=bool) if candidates is None else mask(candidates)
    return scores.to_numpy(dtype=float), mask(positives), cand


def per_disease_metrics(
    scores: pd.DataFrame,
    positives: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Metrics of one method for every disease of a score table.

    Parameters
    ----------
    scores
        Diseases (index) x candidate drugs (columns); higher = better.
    positives
        Boolean table of the same labels (missing cells = not indicated).
    candidates
        Optional boolean table: which drugs count as candidates for each disease (for example the
        held-out drugs of a fold, or every drug except the disease's training indications).
    seed
        Seed of the tie-breaking; each disease gets its own stream derived from it.

    Returns
    -------
    (table, counts): one row per disease with the :data:`METRICS` columns plus ``n_candidates``
    and ``n_positives``; counts says how many diseases were excluded because they have no
    positive among their candidates (``no_positive``) or no negative (``all_positive``).
    """
    S, Y, cand = _aligned(scores, positives, candidates)
    rows, counts = [], {"no_positive": 0, "all_positive": 0}
    seeds = np.random.SeedSequence(seed).spawn(len(scores.index))
    for i, disease in enumerate(scores.index):
        m = cand[i]
        y = Y[i, m]
        if y.sum() == 0:
            counts["no_positive"] += 1
            continue
        if y.all():
            counts["all_positive"] += 1
            continue
        row = ranking_metrics(S[i, m], y, seed=np.random.default_rng(seeds[i]))
        row.update(disease=disease, n_candidates=int(m.sum()), n_positives=int(y.sum()))
        rows.append(row)
    table = pd.DataFrame(rows, columns=["disease", *METRICS, "n_candidates", "n_positives"])
    return table, counts


def random_per_disease(positives: pd.DataFrame, *, candidates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The random baseline's per-disease table: exact expectations, no sampling.

    Parameters
    ----------
    positives
        Boolean table diseases x drugs of the indications (missing cells = not indicated).
    candidates
        Optional boolean table of the drugs ranked for each disease (default: all).

    Returns
    -------
    pandas.DataFrame
        One row per disease with positives and negatives: ``disease``, the :data:`METRICS`
        columns, ``n_candidates`` and ``n_positives``.
    """
    pos = positives.fillna(False).astype(bool)
    cand = (
        np.ones(pos.shape, dtype=bool)
        if candidates is None
        else candidates.reindex(index=pos.index, columns=pos.columns).fillna(False).astype(bool).to_numpy()
    )
    rows = []
    for i, disease in enumerate(pos.index):
        m = cand[i]
        n, r = int(m.sum()), int(pos.to_numpy()[i, m].sum())
        if r == 0 or r == n:
            continue
        row = expected_random_metrics(n, r)
        row.update(disease=disease, n_candidates=n, n_positives=r)
        rows.append(row)
    return pd.DataFrame(rows, columns=["disease", *METRICS, "n_candidates", "n_positives"])


def bootstrap_summary(
    per_disease: pd.DataFrame,
    *,
    metrics: Sequence[str] = METRICS,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean of each metric per method with a percentile bootstrap interval over diseases.

    ``per_disease`` has columns ``method``, ``disease`` (plus ``fold`` optionally) and the
    metrics. Diseases are resampled with replacement, the same resamples for every method (so
    intervals of different methods are comparable).

    Parameters
    ----------
    per_disease
        Per-disease metrics of every method (``method``, ``disease``, optional ``fold``).
    metrics
        Metric columns summarised.
    n_boot
        Bootstrap resamples.
    seed
        Seed of the resamples.
    level
        Coverage of the percentile interval.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``method``, ``n_diseases``, ``<metric>``, ``<metric>_lo``,
        ``<metric>_hi``.
    """
    if per_disease.empty:
        raise InputDataError(
            "no per-disease metrics to summarise",
            where="bootstrap_summary",
            fix="check that the evaluated diseases have indicated drugs among the candidates",
        )
    keys = _unit_keys(per_disease)
    units = pd.Index(sorted(set(keys)))
    rng = _rng(seed)
    boot = rng.integers(0, len(units), size=(n_boot, len(units)))
    alpha = (1 - level) / 2
    rows = []
    for method, grp in per_disease.groupby("method", sort=False):
        pos = units.get_indexer(_unit_keys(grp))
        row: dict[str, object] = {"method": method, "n_diseases": len(grp)}
        for metric in metrics:
            values = np.full(len(units), np.nan)
            values[pos] = grp[metric].to_numpy(dtype=float)
            sample = values[boot]
            means = np.nanmean(sample, axis=1)
            row[metric] = float(np.nanmean(values))
            row[f"{metric}_lo"] = float(np.nanquantile(means, alpha))
            row[f"{metric}_hi"] = float(np.nanquantile(means, 1 - alpha))
        rows.append(row)
    return pd.DataFrame(rows)


def _unit_keys(df: pd.DataFrame) -> list:
    """Resampling unit: the disease, or (fold, disease) when a disease is scored in several folds."""
    if "fold" in df.columns:
        return list(zip(df["fold"], df["disease"], strict=True))
    return list(df["disease"])


def _paired(per_disease: pd.DataFrame, a: str, b: str, metric: str) -> pd.DataFrame:
    left = per_disease[per_disease["method"] == a].assign(_k=lambda d: _unit_keys(d))
    right = per_disease[per_disease["method"] == b].assign(_k=lambda d: _unit_keys(d))
    for name in (a, b):
        check_choice(name, "method", sorted(per_disease["method"].unique()))
    return left[["_k", metric]].merge(right[["_k", metric]], on="_k", suffixes=("_a", "_b"))


def paired_tests(
    per_disease: pd.DataFrame,
    reference: str,
    *,
    metric: str = "average_precision",
) -> pd.DataFrame:
    """Wilcoxon signed-rank test of ``reference`` against every other method, paired by disease.

    Parameters
    ----------
    per_disease
        Per-disease metrics of every method.
    reference
        The method compared with every other.
    metric
        The metric column compared.

    Returns
    -------
    pandas.DataFrame
        One row per other method: ``method``, ``reference``, ``metric``, ``n``, ``mean_diff``
        (reference minus method), ``wins``/``losses`` (diseases where the reference is
        better/worse) and the two-sided ``p_value`` (NaN when all differences are zero).
    """
    rows = []
    for method in per_disease["method"].unique():
        if method == reference:
            continue
        pairs = _paired(per_disease, reference, method, metric)
        diff = pairs[f"{metric}_a"].to_numpy() - pairs[f"{metric}_b"].to_numpy()
        p = float(stats.wilcoxon(diff).pvalue) if np.any(diff != 0) else float("nan")
        rows.append(
            {
                "method": method,
                "reference": reference,
                "metric": metric,
                "n": len(diff),
                "mean_diff": float(diff.mean()) if len(diff) else float("nan"),
                "wins": int((diff > 0).sum()),
                "losses": int((diff < 0).sum()),
                "p_value": p,
            }
        )
    return pd.DataFrame(rows)


def ratio_interval(
    per_disease: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    metric: str = "average_precision",
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float | int | str]:
    """Ratio of two methods' mean metric with a paired bootstrap interval over diseases.

    Parameters
    ----------
    per_disease
        Per-disease metrics of every method.
    numerator, denominator
        The two methods compared.
    metric
        The metric column compared.
    n_boot
        Bootstrap resamples of the paired diseases.
    seed
        Seed of the resamples.
    level
        Coverage of the percentile interval.

    Returns
    -------
    dict
        ``numerator``, ``denominator``, ``metric``, ``ratio``, ``lo``, ``hi`` and ``n`` (paired
        diseases).
    """
    pairs = _paired(per_disease, numerator, denominator, metric)
    a, b = pairs[f"{metric}_a"].to_numpy(), pairs[f"{metric}_b"].to_numpy()
    boot = _rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = a[boot].mean(axis=1) / b[boot].mean(axis=1)
    alpha = (1 - level) / 2
    return {
        "numerator": numerator,
        "denominator": denominator,
        "metric": metric,
        "ratio": float(a.mean() / b.mean()),
        "lo": float(np.nanquantile(ratios, alpha)),
        "hi": float(np.nanquantile(ratios, 1 - alpha)),
        "n": int(len(a)),
    }


def mean_average_precision(
    scores: pd.DataFrame, positives: pd.DataFrame, *, candidates: pd.DataFrame | None = None
) -> float:
    """Mean over diseases of the average precision (diseases without positives are skipped).

    The quick form used for early stopping: sklearn's average precision on the raw scores.

    Parameters
    ----------
    scores
        Diseases (index) x candidate drugs (columns); higher = better.
    positives
        Boolean table of the same labels (missing cells = not indicated).
    candidates
        Optional boolean table of the drugs ranked for each disease (default: all).

    Returns
    -------
    float
        The mean average precision.
    """
    S, Y, cand = _aligned(scores, positives, candidates)
    aps = [
        average_precision_score(Y[i, cand[i]], S[i, cand[i]])
        for i in range(len(S))
        if 0 < Y[i, cand[i]].sum() < cand[i].sum()
    ]
    if not aps:
        raise InputDataError(
            "no disease has an indicated drug among its candidates",
            where="mean_average_precision",
            fix="check the validation split: it must hold at least one indication",
        )
    return float(np.mean(aps))


def choose_method(scores: Mapping[str, float] | pd.Series, pool: Iterable[str]) -> str | None:
    """The method of ``pool`` with the highest score: how the benchmark names its "best" method.

    The benchmark passes each method's mean selection MAP (docs/methods.md §2.4), measured on a
    part of the training labels that no method was trained, stopped, tuned or fitted on.
    Methods without a finite score are never chosen; a tie goes to the first in ``pool``.

    Parameters
    ----------
    scores
        Score of every method (higher = better).
    pool
        The methods to choose among, in order of preference for ties.

    Returns
    -------
    str or None
        The chosen method, or None when no method of ``pool`` has a finite score.
    """
    table = dict(scores)
    finite = [m for m in pool if m in table and np.isfinite(float(table[m]))]
    return max(finite, key=lambda m: float(table[m])) if finite else None
