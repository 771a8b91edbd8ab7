"""Train on one indication catalogue, evaluate on another's new pairs (``--train-labels/--test-labels``).

Catalogues disagree: repoDB lists approved uses Open Targets does not, and the other way round.
:func:`run_cross_catalogue` trains every method on catalogue A's pairs (all of them: there is
no held-out part of A) and ranks drugs for the diseases of catalogue B that have a pair A does
not contain; each disease's known A-drugs are removed from its candidates (they are known, not
predictions), and only B's pairs outside A count as positives. It is one fold of the ``pair``
kind (docs/methods.md §2.4): early stopping and the choice of the best methods use an inner
validation split of A's pairs only.

Both catalogues are joined to the same signatures (diseases by EFO id or by name, with the
mapping steps of :mod:`exprlab.datasets`); the run writes every catalogue disease's mapping to
``disease_mapping.tsv`` and the ones that found no signature to ``unmapped_diseases.tsv``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from exprlab._validation import check_choices
from exprlab.datasets import (
    CONNECTIVITY,
    check_labels,
    connectivity_scores,
    cosine_reversal,
    join_summary,
    pair_data,
    standardise_features,
)
from exprlab.errors import InputDataError
from exprlab.evaluate import Fold
from exprlab.workflows._repurposing import (
    ALL_METHODS,
    BenchmarkResult,
    LearnedSettings,
    _fold_tables,
    _keep_log,
    _result,
    _score_fold,
)

__all__ = ["run_cross_catalogue", "cross_catalogue_fold", "disease_mapping_tables"]


def cross_catalogue_fold(train: Any, test: Any, drugs: Sequence[str]) -> tuple[Fold, dict[str, Any]]:
    """The one fold of a cross-catalogue evaluation, and what it holds.

    Parameters
    ----------
    train, test
        Triangles over the same signatures whose indications are catalogue A and catalogue B.
    drugs
        Candidate drugs (every drug with a signature).

    Returns
    -------
    (fold, report)
        A ``pair`` fold: training = A's pairs, test = B's pairs not in A, test diseases = the
        diseases of those pairs; the report counts the pairs and diseases of each side.

    Raises
    ------
    InputDataError
        When the catalogues share no disease (check the disease mapping), or every pair of B
        is already in A.
    """
    a, rep_a = check_labels(train)
    b, rep_b = check_labels(test)
    shared = set(a["disease"]) & set(b["disease"])
    if not shared:
        raise InputDataError(
            f"the training catalogue ({a['disease'].nunique()} diseases) and the test catalogue "
            f"({b['disease'].nunique()} diseases) share no disease with signatures",
            where="cross-catalogue evaluation",
            fix="check that both catalogues name the same diseases (see unmapped diseases; add "
            "rows to a --disease-map table) or pick catalogues that overlap",
        )
    known = set(zip(a["disease"], a["drug"], strict=True))
    in_a = np.array([p in known for p in zip(b["disease"], b["drug"], strict=True)], dtype=bool)
    new = b[~in_a].reset_index(drop=True)
    if new.empty:
        raise InputDataError(
            f"all {len(b)} pairs of the test catalogue are pairs of the training catalogue",
            where="cross-catalogue evaluation",
            fix="evaluate on a catalogue with pairs the training catalogue lacks",
        )
    fold = Fold(
        "pair",
        0,
        a,
        new,
        tuple(sorted(set(a["disease"]))),
        tuple(drugs),
        tuple(sorted(set(new["disease"]))),
        tuple(drugs),
    )
    rep_a.update(join_summary(train))
    rep_b.update(join_summary(test))
    report = {
        **{f"train_{k}": v for k, v in rep_a.items()},
        **rep_b,
        "n_train_pairs": int(len(a)),
        "n_test_pairs": int(len(b)),
        "n_test_pairs_in_train": int(in_a.sum()),
        "n_test_pairs_new": int(len(new)),
        "n_shared_diseases": len(shared),
        "n_test_diseases": int(new["disease"].nunique()),
        "n_test_diseases_unseen_in_train": int(len(set(new["disease"]) - set(a["disease"]))),
    }
    return fold, report


def disease_mapping_tables(train: Any, test: Any) -> dict[str, pd.DataFrame]:
    """Every catalogue disease with its EFO id and how it was mapped, and the unmapped ones.

    Parameters
    ----------
    train, test
        The two triangles (their ``report`` holds the mapping of name-joined catalogues).

    Returns
    -------
    dict
        ``disease_mapping.tsv`` (``catalogue``, ``side``, ``disease``, ``disease_name``,
        ``efo``, ``how``; ``how`` is ``EFO id`` for catalogues joined by identifier) and
        ``unmapped_diseases.tsv`` (the rows without ``efo``).
    """
    parts = []
    for side, bench in (("train", train), ("test", test)):
        rows = pd.DataFrame(getattr(bench, "report", {}).get("disease_mapping", []))
        if rows.empty:
            ind = bench.indications.drop_duplicates("disease")
            rows = pd.DataFrame(
                {
                    "disease": ind["disease"].astype(str),
                    "disease_name": ind.get("disease_name", ind["disease"]).astype(str),
                    "efo": ind["disease"].astype(str),
                    "how": "EFO id",
                }
            )
        parts.append(rows.assign(catalogue=str(getattr(bench, "labels", side)), side=side))
    table = pd.concat(parts, ignore_index=True)[
        ["catalogue", "side", "disease", "disease_name", "efo", "how"]
    ]
    unmapped = table[table["efo"].fillna("").astype(str) == ""]
    return {"disease_mapping.tsv": table, "unmapped_diseases.tsv": unmapped.reset_index(drop=True)}


@_keep_log
def run_cross_catalogue(
    train: Any,
    test: Any,
    *,
    methods: Sequence[str] | None = None,
    settings: LearnedSettings | None = None,
    connectivity: dict[str, np.ndarray] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Train on catalogue A, evaluate on B's pairs A lacks (see the module docstring).

    Parameters
    ----------
    train, test
        Triangles over the same signatures: ``train.indications`` is catalogue A,
        ``test.indications`` catalogue B.
    methods
        Subset of the benchmark's methods (default all).
    settings
        Training settings of the learned methods.
    connectivity
        Precomputed connectivity scores (computed when needed and not given).
    n_boot
        Bootstrap resamples of the intervals.
    seed
        Seed of the inner split, training and bootstrap.
    on_step
        Called with a short text after each method (progress).

    Returns
    -------
    BenchmarkResult
        As :func:`~exprlab.workflows.run_benchmark` (one fold), with ``tables`` holding the
        disease mapping and the unmapped diseases.
    """
    methods = check_choices(methods, "methods", ALL_METHODS) if methods else list(ALL_METHODS)
    settings = settings or LearnedSettings()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = pair_data(train)
    fold, report = cross_catalogue_fold(train, test, sorted(set(data.instance_drug)))
    conn_methods = [m for m in methods if m in CONNECTIVITY]
    if connectivity is None:
        connectivity = connectivity_scores(train, conn_methods) if conn_methods else {}
    features = {"cosine_reversal": cosine_reversal(data), **connectivity}
    extras, _ = standardise_features(features)
    data = replace(data, extras=extras, extra_names=tuple(features))
    timings["prepare"] = time.perf_counter() - t0
    rows: list[pd.DataFrame] = []
    preds: list[pd.DataFrame] = []
    val_rows: list[dict[str, Any]] = []
    _, scored, histories, timings["learned"] = _score_fold(data, fold, methods, connectivity, settings, seed)
    positives, candidates = fold.positives(), fold.candidates()
    _fold_tables(fold, scored, positives, candidates, methods, seed, on_step, rows, val_rows, preds)
    report.update(
        split="cross-catalogue",
        train_labels=str(getattr(train, "labels", "train")),
        test_labels=str(getattr(test, "labels", "test")),
        n_folds=1,
        seed=seed,
        n_candidates=len(fold.test_drugs),
        n_genes=len(data.genes),
    )
    result = _result(rows, val_rows, preds, histories, report, timings, n_boot=n_boot, seed=seed)
    result.tables = disease_mapping_tables(train, test)
    return result
