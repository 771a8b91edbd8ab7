"""Do match explanations find the mechanism? Validation on planted truth and a real-data check.

:func:`validate_planted`
    On a simulated benchmark with planted reversal mechanisms
    (:func:`exprlab.simulate._planted.simulate_planted`), a matcher is trained on the diseases
    of the training folds (held-out-disease split; early stopping on an inner validation part,
    as the benchmark), the held-out diseases are ranked, and every *correctly ranked*
    mechanistic indication (a planted reversal pair whose drug the model ranks within the
    disease's top ``top_rank`` drugs) is explained with :func:`exprlab.explain.explain_match`.
    The planted mechanism of a pair is the pathway the drug pushes and the disease's program
    pushes the other way; its genes are the mechanism genes and k is their number (the
    planted program size of that mechanism). Per pair: precision@k of the top-k genes by
    combined attribution, and the rank of the planted pathway among the pathways ordered by the
    hypergeometric enrichment of those top-k genes. The same two numbers are computed for the
    naive explanation that ranks genes by the raw signature product in the reversal
    orientation, −(disease value × drug value).
:func:`explain_real`
    On the public benchmark (or any triangle), one held-out-disease fold: a matcher is trained
    on the other diseases, the top predictions of each held-out disease are explained, their top
    pathways reported, and the drug's known targets (DrugCentral) are compared with the top
    genes. Chance: a target set of the same size drawn at random from the gene universe; the
    number of hits of one pair is then hypergeometric, and the pooled count over pairs is
    tested against its exact permutation distribution (simulated, ``n_permutations`` draws).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_dir
from exprlab._defaults import N_STEPS
from exprlab._progress import track
from exprlab._validation import check_choice, check_count
from exprlab.datasets import (
    check_labels,
    cosine_reversal,
    drugcentral_targets,
    genesets,
    pair_data,
    repurposing_benchmark,
    standardise_features,
)
from exprlab.errors import InputDataError
from exprlab.evaluate import Fold, inner_validation, make_folds
from exprlab.explain import MatchExplanation, MatchModel, explain_match, hypergeometric_enrichment
from exprlab.models import MatcherArch, SeedEnsemble, TrainConfig, rank_drugs, select_genes, train_matcher
from exprlab.report import plot_explanation
from exprlab.workflows._repurposing import ARCHS, LearnedSettings

__all__ = [
    "FoldModel",
    "explain_real",
    "target_permutation_test",
    "train_fold_model",
    "validate_planted",
    "write_explanation",
]


Effect = Literal["total", "interaction"]
Instances = Literal["max", "all"]


@dataclass
class FoldModel:
    """A matcher trained on one held-out-disease fold, with its ranking of the test diseases.

    Parameters
    ----------
    model
        The trained matcher (its members, gene space and pair-feature statistics).
    fold
        The outer held-out-disease fold it was trained on.
    scores
        Test diseases x test drugs ranking scores.
    """

    model: MatchModel
    fold: Fold
    scores: pd.DataFrame  # test diseases x test drugs


def train_fold_model(
    bench: Any,
    *,
    arch: MatcherArch = "twotower",
    n_folds: int = 5,
    fold: int = 0,
    seed: int = 0,
    n_seeds: int = 1,
    settings: LearnedSettings | None = None,
) -> FoldModel:
    """Train a matcher on the training diseases of one held-out-disease fold.

    Same recipe as the benchmark (:mod:`exprlab.workflows`): gene space chosen on training
    signatures, the standardised cosine reversal as the only pair feature, early stopping on an
    inner held-out-disease validation part, ``n_seeds`` members averaged.

    Parameters
    ----------
    bench
        The triangle (diseases, drugs, indications).
    arch
        ``"paper"`` or ``"twotower"``.
    n_folds, fold
        The held-out-disease split and which of its folds is held out.
    seed
        Seed of the split and of the first member.
    n_seeds
        Members of the seed ensemble.
    settings
        :class:`~exprlab.workflows.LearnedSettings`.

    Returns
    -------
    FoldModel
        The model, its fold and its scores of the held-out diseases.
    """
    arch = check_choice(arch, "arch", ARCHS)
    n_folds = check_count(n_folds, "n_folds", minimum=1)
    fold = check_count(fold, "fold", minimum=0, maximum=n_folds - 1)
    n_seeds = check_count(n_seeds, "n_seeds", minimum=1)
    settings = settings or LearnedSettings()
    labels, _ = check_labels(bench)
    data = pair_data(bench)
    features = {"cosine_reversal": cosine_reversal(data)}
    extras, stats = standardise_features(features)
    data = replace(data, extras=extras, extra_names=tuple(features))
    all_drugs = sorted(set(data.instance_drug))
    folds = make_folds(
        labels,
        split="disease",
        n_folds=n_folds,
        seed=seed,
        drugs=all_drugs,
        diseases=sorted(set(labels["disease"])),
    )
    outer = folds[fold]
    inner = inner_validation(outer, fraction=settings.validation_fraction, seed=seed)
    genes = select_genes(
        data,
        contrast_rows=data.contrast_rows(outer.train_diseases),
        instance_rows=data.instance_rows(outer.train_drugs),
        max_genes=settings.max_genes,
    )
    sub = data.subset_genes(genes)
    base: TrainConfig = settings.paper if arch == "paper" else settings.twotower
    members = [
        train_matcher(sub, inner, inner, replace(base, seed=base.seed + k)).model for k in range(n_seeds)
    ]
    model = MatchModel(
        members,
        list(sub.genes),
        {"cosine_reversal": (float(stats["cosine_reversal"][0]), float(stats["cosine_reversal"][1]))},
        arch,
    )
    scores = rank_drugs(SeedEnsemble(members), sub, outer.test_diseases, outer.test_drugs)
    return FoldModel(model, outer, scores)


def _signatures(bench: Any, disease: str, drug: str) -> tuple[Any, Any]:
    dis = bench.diseases[bench.diseases.obs["disease"].astype(str).to_numpy() == disease]
    drg = bench.drugs[bench.drugs.obs["drug"].astype(str).to_numpy() == drug]
    return dis, drg


def _pathway_rank(table: pd.DataFrame, pathway: str) -> int:
    hits = np.flatnonzero(table["pathway"].to_numpy() == pathway)
    return int(hits[0]) + 1 if hits.size else len(table) + 1


def validate_planted(
    bench: Any,
    *,
    arch: MatcherArch = "twotower",
    n_folds: int = 5,
    folds: Sequence[int] | None = None,
    seed: int = 0,
    n_seeds: int = 1,
    top_rank: int = 10,
    n_steps: int = N_STEPS,
    effect: Effect = "total",
    instances: Instances = "max",
    settings: LearnedSettings | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Explanations of correctly ranked planted indications on held-out diseases.

    Parameters
    ----------
    bench
        A :class:`~exprlab.simulate.PlantedBenchmark` (needs ``truth`` and the ``mechanism``
        column of its indications).
    arch
        ``"paper"`` or ``"twotower"``.
    n_folds
        Folds of the held-out-disease split.
    folds
        Which outer folds to run (default all ``n_folds``).
    seed
        Seed of the split and the training.
    n_seeds
        Models averaged per fold (a seed ensemble gives cleaner gene attributions).
    top_rank
        An indication is correctly ranked when its drug is within the disease's top
        ``top_rank`` drugs.
    n_steps, effect, instances
        Passed to :func:`~exprlab.explain.explain_match`.
    settings
        :class:`~exprlab.workflows.LearnedSettings`.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        One row per explained pair (``disease``, ``drug``, ``fold``, ``drug_rank``, ``pathway``,
        ``k``, ``ig_precision``, ``product_precision``, ``ig_pathway_rank``,
        ``product_pathway_rank``) and the summary (means, the share of pairs with the planted
        pathway in the top 3, counts).
    """
    truth = getattr(bench, "truth", None) or {}
    if (
        not {"pathways", "drug_action", "disease_program"} <= set(truth)
        or "mechanism" not in bench.indications
    ):
        raise InputDataError(
            "the benchmark has no planted truth",
            where="bench",
            fix="use exprlab.simulate.simulate_planted",
        )
    gmt = {f"pathway_{p}": list(g) for p, g in truth["pathways"].items()}
    mech = bench.indications[bench.indications["mechanism"].astype(bool)]
    rows = []
    for f in range(int(n_folds)) if folds is None else folds:
        fm = train_fold_model(
            bench, arch=arch, n_folds=n_folds, fold=int(f), seed=seed, n_seeds=n_seeds, settings=settings
        )
        ranks = fm.scores.rank(axis=1, ascending=False, method="first")
        test = mech[mech["disease"].isin(fm.scores.index) & mech["drug"].isin(fm.scores.columns)]
        for _, r in test.iterrows():
            d, s = str(r["disease"]), str(r["drug"])
            rank = int(ranks.loc[d, s])
            if rank <= int(top_rank):
                row = _planted_pair(bench, fm, d, s, gmt, n_steps=n_steps, effect=effect, instances=instances)
                rows.append({"fold": int(f), "disease": d, "drug": s, "drug_rank": rank, **row})
    pairs = pd.DataFrame(rows)
    if pairs.empty:
        raise InputDataError(
            f"no planted indication of a held-out disease was ranked in the top {top_rank}",
            where="validate_planted",
            fix="train longer, use more data or a larger top_rank",
        )
    return pairs, _planted_summary(pairs)


def _planted_pair(
    bench: Any,
    fm: FoldModel,
    disease: str,
    drug: str,
    gmt: dict[str, list[str]],
    *,
    n_steps: int,
    effect: Effect,
    instances: Instances,
) -> dict[str, Any]:
    """Precision and pathway rank of the IG and the naive explanations of one planted pair.

    The naive explanation ranks genes by the raw signature product in the reversal orientation,
    -(disease value x drug value).
    """
    pathway, _ = bench.truth["drug_action"][drug]
    genes = set(bench.truth["pathways"][pathway])
    k = len(genes)
    dis, drg = _signatures(bench, disease, drug)
    e = explain_match(
        fm.model, dis, drg, gene_sets=gmt, top=k, n_steps=n_steps, effect=effect, instances=instances
    )
    table = e.genes
    ig_top = table["gene"].head(k)
    product = -(table["disease_value"] * table["drug_value"])
    prod_order = np.lexsort((table["gene"].to_numpy(), -product.to_numpy()))
    prod_top = table["gene"].to_numpy()[prod_order[:k]]
    listed = table.loc[
        (table["disease_value"] != 0) | (table["drug_value"] != 0), "gene"
    ]  # the universe explain_match uses (zero baseline)
    prod_enr = hypergeometric_enrichment(prod_top, gmt, listed, min_size=3)
    return {
        "pathway": f"pathway_{pathway}",
        "k": k,
        "ig_precision": len(genes & set(ig_top)) / k,
        "product_precision": len(genes & set(prod_top)) / k,
        "ig_pathway_rank": _pathway_rank(e.pathways, f"pathway_{pathway}"),
        "product_pathway_rank": _pathway_rank(prod_enr, f"pathway_{pathway}"),
        "score": e.score,
        "max_abs_delta": float(e.pairs["delta"].abs().max()),
    }


def _planted_summary(pairs: pd.DataFrame) -> dict[str, Any]:
    """Means and top-1 / top-3 shares of the IG and the naive explanations over the pairs."""
    return {
        "n_pairs": int(len(pairs)),
        "n_diseases": int(pairs["disease"].nunique()),
        "ig_precision_mean": float(pairs["ig_precision"].mean()),
        "product_precision_mean": float(pairs["product_precision"].mean()),
        "ig_precision_share_ge_0.5": float((pairs["ig_precision"] >= 0.5).mean()),
        "product_precision_share_ge_0.5": float((pairs["product_precision"] >= 0.5).mean()),
        "ig_pathway_top3_share": float((pairs["ig_pathway_rank"] <= 3).mean()),
        "product_pathway_top3_share": float((pairs["product_pathway_rank"] <= 3).mean()),
        "ig_pathway_top1_share": float((pairs["ig_pathway_rank"] <= 1).mean()),
        "product_pathway_top1_share": float((pairs["product_pathway_rank"] <= 1).mean()),
        "max_abs_delta": float(pairs["max_abs_delta"].max()),
    }


def target_permutation_test(
    hits: np.ndarray,
    n_targets: np.ndarray,
    top: np.ndarray,
    universe: np.ndarray,
    *,
    n_permutations: int = 10000,
    seed: int | np.random.Generator = 0,
) -> dict[str, Any]:
    """Pooled test of whether targets fall among the top genes more often than random gene sets.

    Pair i has ``n_targets[i]`` target genes in a universe of ``universe[i]`` genes, of which
    ``top[i]`` are its top genes, and ``hits[i]`` targets among them. Under the null each target
    set is a random set of the same size, so its hits are Hypergeom(universe, top, n_targets);
    the pooled hits are compared with ``n_permutations`` simulated pooled counts.

    Parameters
    ----------
    hits
        Targets among the top genes, per pair.
    n_targets
        Target genes in the universe, per pair.
    top
        Top genes, per pair.
    universe
        Genes of the universe, per pair.
    n_permutations
        Simulated pooled counts of the null distribution.
    seed
        Seed (or generator) of the simulation.

    Returns
    -------
    dict
        ``observed_hits``, ``expected_hits``, their ``ratio``, the one-sided ``pvalue``
        (1 + #null >= observed) / (1 + n_permutations), and ``n_pairs``.
    """
    hits, t = np.asarray(hits, np.int64), np.asarray(n_targets, np.int64)
    n_top, m = np.asarray(top, np.int64), np.asarray(universe, np.int64)
    if hits.size == 0:
        raise InputDataError(
            "no pair with a known target in the gene universe",
            where="targets",
            fix="use drugs with targets in the gene space",
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    null = np.zeros(int(n_permutations), dtype=np.int64)
    for h, n, g in zip(t, n_top, m, strict=False):
        null += rng.hypergeometric(int(n), int(g - n), int(h), size=int(n_permutations))
    observed = int(hits.sum())
    expected = float((t * n_top / m).sum())
    return {
        "observed_hits": observed,
        "expected_hits": expected,
        "ratio": observed / expected if expected > 0 else float("nan"),
        "pvalue": float((1 + (null >= observed).sum()) / (1 + int(n_permutations))),
        "n_pairs": int(hits.size),
    }


def explain_real(
    bench: Any = None,
    targets: pd.DataFrame | None = None,
    *,
    gene_sets: Mapping[str, Sequence[str]] | str = "hallmark",
    arch: MatcherArch = "twotower",
    n_folds: int = 5,
    fold: int = 0,
    seed: int = 0,
    n_seeds: int = 1,
    top_predictions: int = 1,
    max_diseases: int | None = None,
    top: int = 100,
    n_steps: int = N_STEPS,
    n_permutations: int = 10000,
    effect: Effect = "total",
    instances: Instances = "max",
    settings: LearnedSettings | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Explain the top predictions of held-out diseases on real data; test targets vs chance.

    Parameters
    ----------
    bench, targets
        The triangle (default :func:`exprlab.datasets.repurposing_benchmark`) and a drug ->
        target table with ``drug`` and ``symbol`` columns (default
        :func:`exprlab.datasets.drugcentral_targets`).
    gene_sets
        A collection name of :func:`exprlab.datasets.genesets` or a mapping (a read GMT).
    arch
        ``"paper"`` or ``"twotower"``.
    fold, n_folds
        The held-out-disease fold whose test diseases are explained.
    seed
        Seed of the split, the training and the permutation tests.
    n_seeds
        Models averaged (a seed ensemble).
    top_predictions
        Drugs explained per held-out disease (its best-ranked ones).
    max_diseases
        Explain at most this many held-out diseases (in name order); None = all.
    top
        Top genes (by combined attribution) compared with the targets and tested for
        pathway over-representation.
    n_steps, effect, instances
        Passed to :func:`~exprlab.explain.explain_match`.
    n_permutations
        Draws of each pooled permutation test.
    settings
        :class:`~exprlab.workflows.LearnedSettings`.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        Per explained pair the score, whether the drug is a known indication, the top 3
        pathways and their q-values, the targets in the universe and among the top genes. The
        summary holds four pooled permutation tests (:func:`target_permutation_test`): over all
        pairs or one pair per drug (a target repeated over many diseases counts once), with the
        universe of all genes or only the genes listed by either signature (an unlisted gene
        receives no attribution under the zero baseline, so the all-genes null is lenient).
    """
    bench = repurposing_benchmark() if bench is None else bench
    targets = drugcentral_targets() if targets is None else targets
    sets = genesets(gene_sets) if isinstance(gene_sets, str) else gene_sets  # type: ignore[arg-type]
    fm = train_fold_model(
        bench, arch=arch, n_folds=n_folds, fold=fold, seed=seed, n_seeds=n_seeds, settings=settings
    )
    jobs = _prediction_jobs(fm.scores, top_predictions, max_diseases)
    rows = _explain_jobs(
        bench, fm, jobs, targets, sets, top=top, n_steps=n_steps, effect=effect, instances=instances
    )
    pairs = pd.DataFrame(rows)
    summary = {"fold": int(fold), "n_folds": int(n_folds), "architecture": arch, **_counts(fm, pairs)}
    if len(pairs):
        summary.update(_target_tests(pairs, n_permutations=n_permutations, seed=seed))
    return pairs, summary


def _counts(fm: FoldModel, pairs: pd.DataFrame) -> dict[str, int]:
    """Held-out diseases, explained pairs, known indications among them and distinct drugs."""
    return {
        "n_test_diseases": int(len(fm.scores.index)),
        "n_pairs": int(len(pairs)),
        "n_pairs_known_indication": int(pairs["known_indication"].sum()) if len(pairs) else 0,
        "n_distinct_drugs": int(pairs["drug"].nunique()) if len(pairs) else 0,
    }


def _prediction_jobs(
    scores: pd.DataFrame, top_predictions: int, max_diseases: int | None
) -> list[tuple[str, str, int]]:
    """(disease, drug, rank) of the best-ranked drugs of each held-out disease, in name order."""
    diseases = list(scores.index)
    if max_diseases is not None:
        diseases = diseases[: int(max_diseases)]
    jobs: list[tuple[str, str, int]] = []
    for d in diseases:
        best = scores.loc[d].sort_values(ascending=False, kind="stable")
        jobs.extend((d, s, r + 1) for r, s in enumerate(best.index[: int(top_predictions)]))
    return jobs


def _explain_jobs(
    bench: Any,
    fm: FoldModel,
    jobs: list[tuple[str, str, int]],
    targets: pd.DataFrame,
    sets: Mapping[str, Sequence[str]],
    *,
    top: int,
    n_steps: int,
    effect: Effect,
    instances: Instances,
) -> list[dict[str, Any]]:
    """Explain every predicted pair and compare its top genes with the drug's known targets."""
    target_sets = (
        targets.dropna(subset=["symbol"])
        .groupby("drug")["symbol"]
        .apply(lambda s: sorted(set(map(str, s))))
        .to_dict()
    )
    known = set(map(tuple, bench.indications[["disease", "drug"]].astype(str).to_numpy()))
    rows = []
    for d, s, rank in track(jobs, "explaining matches"):
        dis, drg = _signatures(bench, d, s)
        e = explain_match(
            fm.model, dis, drg, gene_sets=sets, top=top, n_steps=n_steps, effect=effect, instances=instances
        )
        row = _target_row(e, set(target_sets.get(s, [])), top)
        rows.append(
            {
                "disease": d,
                "drug": s,
                "prediction_rank": rank,
                "score": e.score,
                "known_indication": (d, s) in known,
            }
            | row
        )
    return rows


def _target_row(e: MatchExplanation, targets: set[str], top: int) -> dict[str, Any]:
    """Top pathways of one explanation and how its top genes meet the drug's known targets."""
    universe = e.genes["gene"].to_numpy()
    top_genes = set(e.genes.loc[e.genes["combined"] > 0, "gene"].head(int(top)))
    listed = set(e.genes.loc[(e.genes["disease_value"] != 0) | (e.genes["drug_value"] != 0), "gene"])
    tset = targets & set(universe)
    pw = e.pathways.head(3) if e.pathways is not None else pd.DataFrame(columns=["pathway", "hyper_qvalue"])
    return {
        "top_pathways": "; ".join(pw["pathway"]),
        "top_pathway_qvalues": "; ".join(f"{q:.3g}" for q in pw["hyper_qvalue"]),
        "n_targets": len(tset),
        "n_top": len(top_genes),
        "n_universe": len(universe),
        "n_listed": len(listed),
        "n_targets_listed": len(tset & listed),
        "n_top_listed": len(top_genes & listed),
        "target_hits": len(tset & top_genes),
        "targets_in_top": ",".join(sorted(tset & top_genes)),
        "max_abs_delta": float(e.pairs["delta"].abs().max()),
    }


def _target_tests(pairs: pd.DataFrame, *, n_permutations: int, seed: int) -> dict[str, Any]:
    """The four pooled target tests: all pairs or one per drug, all genes or listed genes."""
    out: dict[str, Any] = {"n_drugs_with_a_hit": int((pairs.groupby("drug")["target_hits"].sum() > 0).sum())}
    # each drug once (its best-ranked pair): the same target repeated over diseases
    # would otherwise count many times
    once = pairs.sort_values(
        ["prediction_rank", "score"], ascending=[True, False], kind="stable"
    ).drop_duplicates("drug")
    tests = {
        "all_pairs_all_genes": (pairs, "n_targets", "n_top", "n_universe"),
        "all_pairs_listed_genes": (pairs, "n_targets_listed", "n_top_listed", "n_listed"),
        "one_pair_per_drug_all_genes": (once, "n_targets", "n_top", "n_universe"),
        "one_pair_per_drug_listed_genes": (once, "n_targets_listed", "n_top_listed", "n_listed"),
    }
    for name, (tab, t_col, n_col, u_col) in tests.items():
        tab = tab[tab[t_col] > 0]
        if len(tab):
            res = target_permutation_test(
                tab["target_hits"].to_numpy(),
                tab[t_col].to_numpy(),
                tab[n_col].to_numpy(),
                tab[u_col].to_numpy(),
                n_permutations=n_permutations,
                seed=seed,
            )
            out.update({f"{name}_{k}": v for k, v in res.items()})
    return out


# --------------------------------------------------------------------------- writing
def write_explanation(expl: MatchExplanation, out: str | Path) -> Path:
    """Write one match explanation as tables, a summary and a plot.

    Parameters
    ----------
    expl
        What :func:`exprlab.explain.explain_match` returned.
    out
        The output directory (replaced atomically): ``genes.tsv``, ``pairs.tsv``,
        ``pathways.tsv`` (when computed), ``summary.json`` and ``explanation.png``.

    Returns
    -------
    pathlib.Path
        The output directory.
    """
    out = Path(out)
    with atomic_dir(out) as tmp:
        expl.genes.to_csv(tmp / "genes.tsv", sep="\t", index=False, float_format="%.6g")
        expl.pairs.to_csv(tmp / "pairs.tsv", sep="\t", index=False, float_format="%.6g")
        if expl.pathways is not None:
            expl.pathways.to_csv(tmp / "pathways.tsv", sep="\t", index=False, float_format="%.6g")
        (tmp / "summary.json").write_text(
            json.dumps(
                {
                    "disease": expl.disease,
                    "drug": expl.drug,
                    "score": expl.score,
                    "max_abs_delta": float(expl.pairs["delta"].abs().max()),
                    "top_genes": expl.genes["gene"].head(20).tolist(),
                    "top_pathways": (
                        [] if expl.pathways is None else expl.pathways["pathway"].head(10).tolist()
                    ),
                },
                indent=2,
            )
        )
        plot_explanation(expl, tmp / "explanation.png")
    return out
