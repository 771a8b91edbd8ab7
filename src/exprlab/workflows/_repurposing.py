"""The drug-repurposing study: benchmark, train and predict with learned and connectivity methods.

One run of :func:`run_benchmark` takes a drug-disease triangle (disease contrast signatures,
drug perturbation signatures, known indications; the real one from
:func:`exprlab.datasets.repurposing_benchmark`, a simulated one from
:func:`exprlab.simulate._planted.simulate_planted`, or user files through
:func:`load_benchmark`), splits the labels into grouped folds (held-out disease, held-out drug or
random pair), and scores every method on every test fold:

``random``
    the exact expected value of each metric under a random ranking (no sampling);
``popularity``
    drugs ranked by their number of indications among the fold's training labels only;
``ks``, ``wtcs``, ``xsum``, ``cosine``, ``overlap``
    connectivity scores of :func:`exprlab.match.score` used as reversal scores;
``paper``
    the network of arXiv:2303.11695 (:class:`~exprlab.models._matchers.PaperMatcher`);
``twotower``, ``twotower_ens``
    our reversal two-tower model (:class:`~exprlab.models._matchers.ReversalTwoTower`), one seed
    and a seed ensemble.

Orientation of connectivity (documented choice). CMap 02 drugs are given as up/down gene sets
(their 100 most up- and down-regulated genes), not full signatures, while a disease signature is
a vector over genes. The drug's sets are therefore the *query* and each disease contrast the
ranked *reference*; the definitions of docs/methods.md §1 apply unchanged. A disease contrast lists
only its differentially expressed genes, so most genes of the reference are 0 and tie; the
reference is ranked with midranks (``ties="midrank"``), which makes every score independent of
gene order. A negative KS / WTCS / XSum / cosine means the drug reverses the disease, so the
reversal score is minus the connectivity; gene-set overlap runs in reverse mode (larger =
more reversal). Every method then uses the ranking rule of docs/methods.md §2: maximum over a drug's
perturbations, sum over a disease's contrasts.

Choices are made on validation data only: each outer training part is split once more
(:func:`~exprlab.evaluate._splits.inner_validation`, same kind of split) for early stopping, and
the "best" learned and connectivity methods named in the ratios are those with the highest mean
validation MAP, never the test MAP.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.evaluate._retrieval import (
    METRICS,
    bootstrap_summary,
    mean_average_precision,
    paired_tests,
    per_disease_metrics,
    random_per_disease,
    ratio_interval,
)
from exprlab.evaluate._splits import Fold, inner_validation, label_matrix, make_folds
from exprlab._logging import collect_log
from exprlab.models._matcher_training import (
    TrainConfig,
    load_matcher,
    save_matcher,
    select_genes,
    train_matcher,
)
from exprlab.models._matchers import PairData, SeedEnsemble, SparseRows, aggregate_scores, rank_drugs

_log = logging.getLogger(__name__)

#: connectivity methods: name -> (engine method, sign turning the score into a reversal score,
#: engine options). Gene-set overlap takes the disease's own DEG lists as its reference sets
#: (lfc > 0 up, < 0 down), not a fixed top-k: a contrast lists about 200 genes, so a top 150 by
#: rank would mostly pick tied, unlisted genes.
CONNECTIVITY: dict[str, tuple[str, float, dict]] = {
    "ks": ("ks", -1.0, {}),
    "wtcs": ("wtcs", -1.0, {}),
    "xsum": ("xsum", -1.0, {}),
    "cosine": ("cosine", -1.0, {}),
    "overlap": ("overlap_reverse", 1.0, {"reference_sets": "sign"}),
}
LEARNED = ("paper", "twotower", "twotower_ens")
BASELINES = ("random", "popularity")
ALL_METHODS = (*BASELINES, *CONNECTIVITY, *LEARNED)


@dataclass
class LearnedSettings:
    """Training settings of the learned methods (defaults fit the 10-minute real benchmark)."""

    max_genes: int = 2000
    paper: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            arch="paper", max_epochs=20, steps_per_epoch=12, batch_size=256, patience=4
        )
    )
    twotower: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            arch="twotower",
            max_epochs=30,
            steps_per_epoch=16,
            batch_size=256,
            lr=3e-3,
            patience=5,
        )
    )
    ensemble_seeds: int = 3
    validation_fraction: float = 0.2


# --------------------------------------------------------------------------- data
def load_benchmark(
    labels: str | Path = "opentargets",
    *,
    drugs: str | Path | None = None,
    diseases: str | Path | None = None,
    set_size: int = 100,
):
    """The drug-disease triangle: the public one, or user files in its place.

    Parameters
    ----------
    labels
        ``opentargets`` | ``repodb`` | ``pharmacotherapydb`` or a TSV of indications with
        ``drug`` and ``disease`` columns.
    drugs
        Optional signature library (GCTX, GCT, h5ad) replacing CMap 02: one obs per perturbation
        with a ``drug`` (or ``pert_iname``) column; each is turned into its top and bottom
        ``set_size`` genes (+1 / -1), like CMap 02.
    diseases
        Optional disease signatures (GCTX, GCT, h5ad) replacing Open Targets: one obs per
        contrast with a ``disease`` column (else each obs is its own disease); zeros mean
        "not listed".
    """
    if drugs is None and diseases is None:
        from exprlab.datasets import repurposing_benchmark

        return repurposing_benchmark(labels)
    return _user_benchmark(labels, drugs, diseases, set_size)


def _user_benchmark(labels, drugs_path, diseases_path, set_size: int):
    """A triangle assembled from user files, with the attributes of the public benchmark."""
    import anndata as ad

    from exprlab.datasets import repurposing_benchmark
    from exprlab.io import read
    from exprlab.io._tables import read_indications

    base = None
    if drugs_path is None or diseases_path is None:
        base = repurposing_benchmark("opentargets")
    if diseases_path is not None:
        dis = read(diseases_path)
        if "disease" not in dis.obs.columns:
            dis.obs["disease"] = dis.obs_names.astype(str)
    else:
        dis = base.diseases
    if drugs_path is not None:
        raw = read(drugs_path)
        col = "drug" if "drug" in raw.obs.columns else "pert_iname"
        if col not in raw.obs.columns:
            raise InputDataError(
                "the drug library has neither a 'drug' nor a 'pert_iname' obs column",
                where=drugs_path,
                fix="add a column naming the drug of every signature",
            )
        X = raw.X.toarray() if sp.issparse(raw.X) else np.asarray(raw.X, dtype=float)
        k = min(set_size, X.shape[1] // 2)
        order = np.argsort(-X, axis=1, kind="stable")
        genes = raw.var_names.astype(str)
        sets = {
            str(n): (genes[order[i, :k]].tolist(), genes[order[i, -k:]].tolist())
            for i, n in enumerate(raw.obs_names)
        }
        from exprlab.drugs import normalize_drug_name

        obs = pd.DataFrame(
            {"drug": normalize_drug_name(raw.obs[col].astype(str)).to_numpy()},
            index=raw.obs_names.astype(str),
        )
    else:
        sets, obs = base.drug_sets, base.drugs.obs[["drug"]]
    gene_space = pd.Index(sorted(set(dis.var_names) | {g for u, d in sets.values() for g in (*u, *d)}))
    dis_X = sp.csr_matrix(dis.X, dtype=np.float32)
    cols = gene_space.get_indexer(dis.var_names)
    dis_X = sp.csr_matrix((dis_X.data, cols[dis_X.indices], dis_X.indptr), shape=(dis.n_obs, len(gene_space)))
    disease_ad = ad.AnnData(
        dis_X, obs=dis.obs[["disease"]].astype(str).copy(), var=pd.DataFrame(index=gene_space)
    )
    drug_ad = ad.AnnData(
        _sets_matrix(obs.index, sets, gene_space), obs=obs.copy(), var=pd.DataFrame(index=gene_space)
    )
    if isinstance(labels, str | Path) and Path(str(labels)).is_file():
        table = read_indications(labels, source="user")
    else:
        table = (base or repurposing_benchmark(labels)).indications
    from exprlab.datasets import RepurposingBenchmark

    return RepurposingBenchmark(
        diseases=disease_ad,
        drugs=drug_ad,
        drug_sets=dict(sets),
        indications=table,
        candidates=sorted(set(drug_ad.obs["drug"])),
        report={"source": "user files"},
        labels=str(labels),
    )


def _sets_matrix(names, sets, genes: pd.Index) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for i, n in enumerate(names):
        up, down = sets[n]
        for g, v in ((up, 1.0), (down, -1.0)):
            idx = genes.get_indexer(g)
            idx = idx[idx >= 0]
            rows.append(np.full(len(idx), i))
            cols.append(idx)
            vals.append(np.full(len(idx), v))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(names), len(genes)),
        dtype=np.float32,
    )


def check_labels(bench) -> tuple[pd.DataFrame, dict[str, object]]:
    """Keep the indications whose drug and disease both have signatures; report the rest.

    Nothing is dropped silently: the report counts the rows naming a drug without a perturbation
    signature and a disease without a contrast (with the names), and the diseases with
    signatures but no indication (not evaluated: their metrics are undefined).
    """
    ind = bench.indications
    if not {"drug", "disease"} <= set(ind.columns):
        raise InputDataError(
            "the indication table needs 'drug' and 'disease' columns",
            where="indications",
            fix="rename the columns or pass a catalogue name",
        )
    ind = ind.assign(drug=ind["drug"].astype(str), disease=ind["disease"].astype(str))
    drugs = set(bench.drugs.obs["drug"].astype(str))
    diseases = set(bench.diseases.obs["disease"].astype(str))
    has_drug, has_dis = ind["drug"].isin(drugs), ind["disease"].isin(diseases)
    kept = ind[has_drug & has_dis].drop_duplicates(["disease", "drug"]).reset_index(drop=True)
    report = {
        "n_indications_given": int(len(ind)),
        "n_indications_used": int(len(kept)),
        "n_rows_drug_without_signature": int((~has_drug).sum()),
        "n_rows_disease_without_signature": int((~has_dis).sum()),
        "drugs_without_signature": sorted(set(ind.loc[~has_drug, "drug"])),
        "diseases_without_signature": sorted(set(ind.loc[~has_dis, "disease"])),
        "n_diseases_without_indication": int(len(diseases - set(kept["disease"]))),
        "n_diseases_evaluated": int(kept["disease"].nunique()),
        "n_drugs_indicated": int(kept["drug"].nunique()),
    }
    if kept.empty:
        raise InputDataError(
            f"none of the {len(ind)} indications names a drug and a disease that have signatures "
            f"({report['n_rows_drug_without_signature']} rows name an unknown drug, "
            f"{report['n_rows_disease_without_signature']} an unknown disease)",
            where="indications",
            fix="match drug names and disease ids to those of the signatures",
        )
    return kept, report


def pair_data(bench) -> PairData:
    """Signatures of the whole triangle over its full gene space, without pair features."""
    dis, drg = bench.diseases, bench.drugs
    if not dis.var_names.equals(drg.var_names):
        raise GeneSpaceError(
            "disease and drug signatures are on different gene spaces",
            where="repurposing benchmark",
            fix="put both on one gene space (exprlab.genes.convert_gene_space) first",
        )
    return PairData(
        genes=list(map(str, dis.var_names)),
        diseases=SparseRows(sp.csr_matrix(dis.X, dtype=np.float32)),
        drugs=SparseRows(sp.csr_matrix(drg.X, dtype=np.float32)),
        contrast_disease=dis.obs["disease"].astype(str).to_numpy(),
        instance_drug=drg.obs["drug"].astype(str).to_numpy(),
    )


def cosine_reversal(data: PairData) -> np.ndarray:
    """Minus the cosine between every contrast and every perturbation (contrasts x instances).

    The two-tower model's built-in pair feature: computed from the sparse signatures over the
    full gene space in one sparse product.
    """
    d = SparseRows(data.diseases.matrix, normalize=True).matrix
    s = SparseRows(data.drugs.matrix, normalize=True).matrix
    return -np.asarray((d @ s.T).toarray(), dtype=np.float32)


def connectivity_scores(
    bench, methods: Sequence[str] = tuple(CONNECTIVITY), *, chunk_size: int | None = None
) -> dict[str, np.ndarray]:
    """Reversal scores (contrasts x perturbations) of the engine's connectivity methods.

    The drug's up/down sets are the query, each disease contrast the reference, ranked with
    midranks; the sign of :data:`CONNECTIVITY` makes larger = stronger reversal.
    """
    from exprlab.match import prepare_library, score

    unknown = [m for m in methods if m not in CONNECTIVITY]
    if unknown:
        raise InvalidParameterError(
            f"unknown connectivity method(s) {unknown}",
            where="methods",
            fix=f"use among {', '.join(CONNECTIVITY)}",
        )
    query = {str(k): (list(v[0]), list(v[1])) for k, v in bench.drug_sets.items()}
    inst = bench.drugs.obs_names.astype(str)
    library = prepare_library(bench.diseases, ties="midrank")  # ranks computed once
    contrasts = bench.diseases.obs_names.astype(str)
    out = {}
    for m in methods:
        engine, sign, options = CONNECTIVITY[m]
        kw = {"ties": "midrank", **options}
        if chunk_size:
            kw["chunk_size"] = chunk_size
        table = score(query, library, method=engine, **kw)
        table = table.reindex(index=inst, columns=contrasts)
        values = sign * table.to_numpy(dtype=np.float64).T
        out[m] = np.nan_to_num(values, nan=0.0).astype(np.float32)
    return out


def standardise_features(mats: dict[str, np.ndarray]) -> tuple[np.ndarray, dict]:
    """Z-score each pair-feature matrix by its own mean and sd; return the stack and the stats.

    The stats are kept with a trained model so prediction applies the same scaling.
    """
    stats, stack = {}, []
    for name, m in mats.items():
        mu, sd = float(m.mean()), float(m.std()) or 1.0
        stats[name] = (mu, sd)
        stack.append((m - mu) / sd)
    return np.stack(stack).astype(np.float32), stats


# --------------------------------------------------------------------------- scoring
def _popularity(fold_train: pd.DataFrame, diseases, drugs) -> pd.DataFrame:
    counts = fold_train["drug"].value_counts().reindex(list(drugs), fill_value=0)
    values = np.broadcast_to(counts.to_numpy(dtype=float), (len(diseases), len(drugs)))
    return pd.DataFrame(values.copy(), index=list(diseases), columns=list(drugs))


def _fixed_scores(mat: np.ndarray, data: PairData, diseases, drugs) -> pd.DataFrame:
    c_rows, i_rows = data.contrast_rows(diseases), data.instance_rows(drugs)
    return aggregate_scores(
        mat[np.ix_(c_rows, i_rows)], data.contrast_disease[c_rows], data.instance_drug[i_rows]
    )


@dataclass
class BenchmarkResult:
    """Everything a benchmark run produces (written by :func:`write_benchmark`)."""

    metrics: pd.DataFrame
    per_disease: pd.DataFrame
    predictions: pd.DataFrame
    tests: pd.DataFrame
    ratios: pd.DataFrame
    validation: pd.DataFrame
    report: dict
    timings: dict
    log: list = field(default_factory=list)
    training_history: pd.DataFrame = field(default_factory=pd.DataFrame)


def _keep_log(run):
    """Decorate a workflow so the ``exprlab`` messages of its run land in ``result.log``."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        with collect_log() as lines:
            result = run(*args, **kwargs)
        result.log = list(lines)
        return result

    return wrapper


@_keep_log
def run_benchmark(
    bench,
    *,
    split: str = "disease",
    n_folds: int = 5,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    settings: LearnedSettings | None = None,
    connectivity: dict[str, np.ndarray] | None = None,
    n_boot: int = 2000,
    truth: str | None = None,
    on_step=None,
) -> BenchmarkResult:
    """Grouped k-fold retrieval benchmark of every method (see the module docstring).

    Parameters
    ----------
    bench
        A triangle with ``diseases``, ``drugs``, ``drug_sets``, ``indications``.
    split, n_folds, seed
        The outer split (:func:`~exprlab.evaluate._splits.make_folds`).
    methods
        Subset of :data:`ALL_METHODS` (default all).
    settings
        :class:`LearnedSettings`.
    connectivity
        Precomputed :func:`connectivity_scores` (computed here when needed and not given).
    n_boot
        Bootstrap resamples of the intervals.
    truth
        Optional boolean column of the indication table: when given, every indication trains
        the models but only the rows where it is True count as test positives (used with
        simulated data to score the recovery of the planted mechanisms only).
    on_step
        Called with a short text after each method and fold (progress).
    """
    methods = list(methods or ALL_METHODS)
    bad = [m for m in methods if m not in ALL_METHODS]
    if bad:
        raise InvalidParameterError(
            f"unknown method(s) {bad}", where="methods", fix=f"use among {', '.join(ALL_METHODS)}"
        )
    settings = settings or LearnedSettings()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    labels, report = check_labels(bench)
    if truth is not None and truth not in labels.columns:
        raise InvalidParameterError(
            f"the indication table has no truth column {truth!r}",
            where="run_benchmark",
            fix=f"use one of {', '.join(map(str, labels.columns))} or leave truth unset",
        )
    data = pair_data(bench)
    all_drugs = sorted(set(data.instance_drug))
    labelled = sorted(set(labels["disease"]))
    folds = make_folds(labels, split=split, n_folds=n_folds, seed=seed, drugs=all_drugs, diseases=labelled)
    timings["prepare"] = time.perf_counter() - t0
    conn_methods = [m for m in methods if m in CONNECTIVITY]
    t0 = time.perf_counter()
    if connectivity is None:
        connectivity = connectivity_scores(bench, conn_methods) if conn_methods else {}
    timings["connectivity"] = time.perf_counter() - t0
    features = {"cosine_reversal": cosine_reversal(data), **connectivity}
    extras, _ = standardise_features(features)
    data = replace(data, extras=extras, extra_names=tuple(features))

    rows, preds, val_rows, histories = [], [], [], []
    t_learn = 0.0
    for fold in folds:
        positives, candidates = fold.positives(), fold.candidates()
        if truth is not None:
            true_pairs = labels[labels[truth].astype(bool)]
            positives &= label_matrix(true_pairs, fold.test_diseases, fold.test_drugs)
        inner = inner_validation(fold, fraction=settings.validation_fraction, seed=seed)
        scored: dict[str, tuple[pd.DataFrame, float]] = {}
        if "popularity" in methods:
            val_scores = _popularity(inner.train, inner.test_diseases, inner.test_drugs)
            scored["popularity"] = (
                _popularity(fold.train, fold.test_diseases, fold.test_drugs),
                mean_average_precision(val_scores, inner.positives(), candidates=inner.candidates()),
            )
        for m in conn_methods:
            val = _fixed_scores(connectivity[m], data, inner.test_diseases, inner.test_drugs)
            scored[m] = (
                _fixed_scores(connectivity[m], data, fold.test_diseases, fold.test_drugs),
                mean_average_precision(val, inner.positives(), candidates=inner.candidates()),
            )
        learned = [m for m in methods if m in LEARNED]
        if learned:
            t1 = time.perf_counter()
            fold_scores, fold_histories = _learned_fold(data, fold, inner, learned, settings)
            scored.update(fold_scores)
            histories.extend(fold_histories)
            t_learn += time.perf_counter() - t1
        if "random" in methods:
            table = random_per_disease(positives, candidates=candidates)
            rows.append(table.assign(method="random", fold=fold.index))
            val_rows.append({"method": "random", "fold": fold.index, "val_map": np.nan})
        for name, (scores, val_map) in scored.items():
            table, _ = per_disease_metrics(scores, positives, candidates=candidates, seed=seed)
            rows.append(table.assign(method=name, fold=fold.index))
            val_rows.append({"method": name, "fold": fold.index, "val_map": val_map})
            preds.append(_long_predictions(scores, positives, candidates, name, fold.index))
            _log.info(
                "fold %d, %s: validation MAP %.4f, test MAP %.4f over %d diseases",
                fold.index,
                name,
                val_map,
                table["average_precision"].mean(),
                len(table),
            )
            if on_step is not None:
                on_step(f"fold {fold.index}: {name}")
    timings["learned"] = t_learn
    per_disease = pd.concat(rows, ignore_index=True)
    per_disease = per_disease[["method", "fold", "disease", *METRICS, "n_candidates", "n_positives"]]
    metrics = bootstrap_summary(per_disease, n_boot=n_boot, seed=seed)
    validation = pd.DataFrame(val_rows).groupby("method", sort=False)["val_map"].mean()
    metrics.insert(2, "val_map", metrics["method"].map(validation).to_numpy())
    tests, ratios = _comparisons(per_disease, validation, n_boot=n_boot, seed=seed)
    timings["total"] = sum(timings.values())
    report.update(
        split=split,
        n_folds=n_folds,
        seed=seed,
        n_candidates=len(all_drugs),
        n_genes=len(data.genes),
        excluded_note="diseases without an indicated drug among a fold's candidates are not "
        "scored (their metrics are undefined); n_diseases in metrics.tsv counts those scored",
    )
    return BenchmarkResult(
        metrics=metrics,
        per_disease=per_disease,
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        tests=tests,
        ratios=ratios,
        validation=validation.rename("val_map").reset_index(),
        report=report,
        timings=timings,
        training_history=pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(),
    )


def _history(result, fold: int, method: str, member: int) -> pd.DataFrame:
    """One trained model's per-epoch loss and validation MAP, the early-stopping epoch flagged."""
    h = result.history.copy()
    h.insert(0, "member", member)
    h.insert(0, "method", method)
    h.insert(0, "fold", fold)
    h["chosen"] = h["epoch"] == result.best_epoch
    return h


def _learned_fold(data, fold: Fold, inner: Fold, learned, settings: LearnedSettings):
    """Train the learned methods of one fold (gene space from training signatures only).

    Returns the scores ``{method: (test scores, validation MAP)}`` and the training histories.
    """
    c_rows = data.contrast_rows(fold.train_diseases)
    i_rows = data.instance_rows(fold.train_drugs)
    genes = select_genes(data, contrast_rows=c_rows, instance_rows=i_rows, max_genes=settings.max_genes)
    sub = data.subset_genes(genes)
    out, histories = {}, []
    if "paper" in learned:
        res = train_matcher(sub, inner, inner, settings.paper)
        histories.append(_history(res, fold.index, "paper", 0))
        out["paper"] = (rank_drugs(res.model, sub, fold.test_diseases, fold.test_drugs), res.best_val_map)
    if "twotower" in learned or "twotower_ens" in learned:
        n = settings.ensemble_seeds if "twotower_ens" in learned else 1
        members = []
        for k in range(n):
            cfg = replace(settings.twotower, seed=settings.twotower.seed + k)
            members.append(train_matcher(sub, inner, inner, cfg))
            histories.append(_history(members[-1], fold.index, "twotower", k))
        if "twotower" in learned:
            out["twotower"] = (
                rank_drugs(members[0].model, sub, fold.test_diseases, fold.test_drugs),
                members[0].best_val_map,
            )
        if "twotower_ens" in learned:
            ens = SeedEnsemble([m.model for m in members])
            val = rank_drugs(ens, sub, inner.test_diseases, inner.test_drugs)
            out["twotower_ens"] = (
                rank_drugs(ens, sub, fold.test_diseases, fold.test_drugs),
                mean_average_precision(val, inner.positives(), candidates=inner.candidates()),
            )
    return out, histories


def _long_predictions(scores, positives, candidates, method: str, fold: int) -> pd.DataFrame:
    cand = candidates.reindex(index=scores.index, columns=scores.columns).fillna(False)
    s = scores.where(cand.astype(bool))
    long = s.stack().rename("score").reset_index()
    long.columns = ["disease", "drug", "score"]
    long["rank"] = long.groupby("disease")["score"].rank(ascending=False, method="first")
    pos = positives.reindex(index=scores.index, columns=scores.columns).fillna(False)
    lab = pos.stack().rename("indicated").reset_index()
    lab.columns = ["disease", "drug", "indicated"]
    long = long.merge(lab, on=["disease", "drug"], how="left")
    long.insert(0, "fold", fold)
    long.insert(0, "method", method)
    long["rank"] = long["rank"].astype(np.int32)
    return long


def _comparisons(per_disease: pd.DataFrame, validation: pd.Series, *, n_boot: int, seed: int):
    """Paired tests against the best learned method and the headline MAP ratios.

    "Best" = highest mean validation MAP (choice on validation folds only).
    """
    present = set(per_disease["method"])
    learned = [m for m in LEARNED if m in present]
    conn = [m for m in CONNECTIVITY if m in present]
    ref = max(learned, key=lambda m: validation.get(m, -np.inf)) if learned else None
    if ref is None:
        ref = max(present - {"random"}, key=lambda m: validation.get(m, -np.inf), default=None)
    tests = pd.DataFrame()
    if ref is not None:
        tests = pd.concat(
            [paired_tests(per_disease, ref, metric=m) for m in ("average_precision", "ndcg_at_10")],
            ignore_index=True,
        )
    ratios = []
    if learned:
        others = []
        if conn:
            others.append(max(conn, key=lambda m: validation.get(m, -np.inf)))
        if "popularity" in present:
            others.append("popularity")
        if "random" in present:
            others.append("random")
        for other in others:
            r = ratio_interval(per_disease, ref, other, n_boot=n_boot, seed=seed)
            ratios.append(r)
    return tests, pd.DataFrame(ratios)


# --------------------------------------------------------------------------- writing
def write_benchmark(
    result: BenchmarkResult,
    out: str | Path,
    *,
    parameters: dict | None = None,
    provenance: list | dict | None = None,
    started: str | None = None,
) -> Path:
    """Write metrics.tsv, per_disease.tsv, predictions.parquet, tests, ratios, plots, report.

    With learned methods, ``training_history.tsv`` holds every trained model's per-epoch loss and
    validation MAP (``chosen`` marks the early-stopping epoch), so the optimism of a validation
    MAP picked as a maximum over epochs can be seen next to the test MAP.

    ``parameters`` and ``provenance`` (what ran, on which data) go into the run manifest
    ``run.json`` that ``exprlab report`` reads. The whole directory is written atomically: a
    failed run leaves no partial output.
    """
    from exprlab._atomic import atomic_dir
    from exprlab.report._manifest import write_run_manifest
    from exprlab.report._repurposing_plots import plot_metric_bars, plot_pr_curves

    out = Path(out)
    with atomic_dir(out) as tmp:
        write_run_manifest(
            tmp,
            "match-benchmark",
            parameters or {},
            provenance,
            started=started,
            summary={"timings_s": result.timings},
        )
        result.metrics.to_csv(tmp / "metrics.tsv", sep="\t", index=False, float_format="%.6g")
        result.per_disease.to_csv(tmp / "per_disease.tsv", sep="\t", index=False, float_format="%.6g")
        result.predictions.to_parquet(tmp / "predictions.parquet", index=False)
        result.tests.to_csv(tmp / "paired_tests.tsv", sep="\t", index=False, float_format="%.6g")
        result.ratios.to_csv(tmp / "ratios.tsv", sep="\t", index=False, float_format="%.6g")
        if not result.training_history.empty:
            result.training_history.to_csv(
                tmp / "training_history.tsv", sep="\t", index=False, float_format="%.6g"
            )
        (tmp / "report.json").write_text(
            json.dumps({"report": result.report, "timings": result.timings}, indent=2, default=str)
        )
        if result.log:
            (tmp / "exprlab.log").write_text("\n".join(result.log) + "\n", encoding="utf-8")
        plot_pr_curves(result.predictions, tmp / "pr_curves.png")
        plot_metric_bars(result.metrics, tmp / "metric_bars.png")
    return out


# --------------------------------------------------------------------------- train / predict
def train_models(
    bench,
    out: str | Path,
    *,
    architecture: str = "twotower",
    seeds: int = 3,
    seed: int = 0,
    settings: LearnedSettings | None = None,
) -> Path:
    """Train a matcher (or a seed ensemble) on all labels and write a model directory.

    Early stopping uses a held-out-disease validation part of the labels. The directory holds
    one weight file per seed, the gene space, the pair-feature standardisation and a JSON
    summary; :func:`predict_drugs` reads it.
    """
    from exprlab._atomic import atomic_dir

    if architecture not in ("paper", "twotower"):
        raise InvalidParameterError(
            f"unknown architecture {architecture!r}", where="--model", fix="use paper or twotower"
        )
    if int(seeds) < 1:
        raise InvalidParameterError(f"seeds={seeds}", where="--seeds", fix="train at least one seed")
    settings = settings or LearnedSettings()
    labels, report = check_labels(bench)
    data = pair_data(bench)
    all_drugs = sorted(set(data.instance_drug))
    features = {"cosine_reversal": cosine_reversal(data)}
    extras, stats = standardise_features(features)
    data = replace(data, extras=extras, extra_names=tuple(features))
    whole = Fold(
        "disease",
        0,
        labels,
        labels.iloc[:0],
        tuple(sorted(set(labels["disease"]))),
        tuple(all_drugs),
        (),
        tuple(all_drugs),
    )
    inner = inner_validation(whole, fraction=settings.validation_fraction, seed=seed)
    genes = select_genes(
        data,
        contrast_rows=data.contrast_rows(whole.train_diseases),
        instance_rows=data.instance_rows(all_drugs),
        max_genes=settings.max_genes,
    )
    sub = data.subset_genes(genes)
    base = settings.paper if architecture == "paper" else settings.twotower
    out = Path(out)
    with atomic_dir(out) as tmp:
        summary = []
        for k in range(int(seeds)):
            cfg = replace(base, seed=seed + k)
            res = train_matcher(sub, inner, inner, cfg, checkpoint=tmp / f"checkpoint_{k}.pt")
            save_matcher(res.model, tmp / f"model_{k}.pt")
            (tmp / f"checkpoint_{k}.pt").unlink()
            summary.append({"seed": seed + k, "best_epoch": res.best_epoch, "val_map": res.best_val_map})
        (tmp / "genes.txt").write_text("\n".join(sub.genes) + "\n")
        (tmp / "model.json").write_text(
            json.dumps(
                {
                    "architecture": architecture,
                    "members": summary,
                    "features": {k: list(v) for k, v in stats.items()},
                    "labels": report,
                },
                indent=2,
                default=str,
            )
        )
    return out


def predict_drugs(model_dir: str | Path, disease, *, bench=None, top: int = 50) -> pd.DataFrame:
    """Rank every candidate drug for one disease signature with a trained model directory.

    ``disease`` is an AnnData of one or more contrasts of the same disease (or a file path read
    with :func:`exprlab.io.read`); genes it lists that the model does not know are ignored, and
    the report counts them. Returns rank, drug, score for the ``top`` best drugs.
    """
    import anndata as ad

    model_dir = Path(model_dir)
    meta_path = model_dir / "model.json"
    if not meta_path.is_file():
        from exprlab.errors import FileAccessError

        raise FileAccessError(
            "not a model directory (model.json is missing)",
            where=model_dir,
            fix="pass the --out directory of `exprlab match train`",
        )
    if int(top) < 1:
        raise InvalidParameterError(f"top={top}", where="--top", fix="ask for at least 1 drug")
    meta = json.loads(meta_path.read_text())
    members = [load_matcher(model_dir / f"model_{k}.pt")[0] for k in range(len(meta["members"]))]
    genes = (model_dir / "genes.txt").read_text().split()
    if not isinstance(disease, ad.AnnData):
        from exprlab.io import read

        disease = read(disease)
    bench = bench if bench is not None else load_benchmark()
    space = bench.drugs.var_names
    shared = space.intersection(disease.var_names.astype(str))
    if len(shared) < 5:
        raise GeneSpaceError(
            f"only {len(shared)} genes of the disease signature are in the drug gene space",
            where="disease signature",
            fix="use gene symbols (the model's gene space) as the signature's gene ids",
        )
    X = sp.csr_matrix(disease[:, shared].X, dtype=np.float32)
    cols = space.get_indexer(shared)
    full = sp.csr_matrix((X.data, cols[X.indices], X.indptr), shape=(X.shape[0], len(space)))
    data = PairData(
        genes=list(map(str, space)),
        diseases=SparseRows(full),
        drugs=SparseRows(sp.csr_matrix(bench.drugs.X, dtype=np.float32)),
        contrast_disease=np.array(["query"] * X.shape[0]),
        instance_drug=bench.drugs.obs["drug"].astype(str).to_numpy(),
    )
    mu, sd = meta["features"]["cosine_reversal"]
    extras = ((cosine_reversal(data) - mu) / sd)[None].astype(np.float32)
    data = replace(data, extras=extras, extra_names=("cosine_reversal",))
    sub = data.subset_genes(space.get_indexer(pd.Index(genes)))
    model = SeedEnsemble(members)
    scores = rank_drugs(model, sub, ["query"], sorted(set(data.instance_drug))).iloc[0]
    ranked = scores.sort_values(ascending=False, kind="stable").head(int(top))
    return pd.DataFrame(
        {"rank": np.arange(1, len(ranked) + 1), "drug": ranked.index, "score": ranked.to_numpy()}
    )
