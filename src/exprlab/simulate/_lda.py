"""Hierarchical LDA simulation of count-based expression data with known informative genes.

The generator follows the design of arXiv:2303.11336 (docs/methods.md §3). Classes over-express a block
of pathways; pathways are distributions over genes; every sample draws pathway proportions
``θ_s ~ Dirichlet(α_c)`` and then ``n_reads`` reads, each read picking a pathway from ``θ_s`` and
a gene from that pathway's distribution ``β_p``. The read-by-read (or pathway-by-pathway) process
is exactly equivalent to ``counts_s ~ Multinomial(n_reads, θ_s · B)`` with ``B`` the pathway × gene
matrix of the ``β_p``: a mixture of categoricals is the categorical of the mixture. This module
draws that single multinomial per sample, vectorised over a chunk of samples, which is what makes
the full SIMU1 design (9,900 × 15,000) take seconds instead of minutes.

Memory: the expression matrix is stored as float32 (9,900 × 15,000 × 4 bytes ≈ 0.6 GB for SIMU1;
2,400 × 50,000 ≈ 0.5 GB for SimuA). Counts are at most 1.5e6 and are exact in float32; the
division by 1.5 to counts per million rounds in the 7th significant digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, NoReturn, cast

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._progress import track
from exprlab._validation import check_choice, check_count
from exprlab.errors import InvalidParameterError

__all__ = ["PRESETS", "LDADesign", "resolve_design", "sample_counts", "simulate_lda"]


@dataclass(frozen=True)
class LDADesign:
    """Every parameter of the hierarchical LDA generator (one preset is one instance).

    The generative model is that of docs/methods.md §3.

    Parameters
    ----------
    n_classes
        Number of *generated* classes (subclasses when ``class_groups`` merges them).
    n_genes, n_pathways
        Size of the gene and pathway spaces.
    support
        ``"contiguous"``: pathway p covers genes ``[size·p, size·p + size)`` (disjoint blocks);
        ``"random"``: each gene belongs to a pathway independently with probability
        ``gene_prob`` (overlapping), pathways with fewer than ``min_pathway_genes`` are redrawn.
    pathway_size
        Genes per pathway for the contiguous support.
    gene_prob
        Membership probability for the random support (SIMU2: 10 / n_genes).
    min_pathway_genes
        Smallest pathway accepted by the random support.
    n_overexpressed
        P, the number of pathways each class over-expresses: class c over-expresses pathways
        ``P·c … P·c + P − 1``.
    n_per_class
        Samples per generated class (an int, or one int per generated class).
    alpha_base, alpha_over
        Dirichlet concentration of a pathway in ``α_c``: base value, and value for the class's
        over-expressed pathways.
    eta
        Symmetric Dirichlet concentration of ``β_p`` over the pathway's support.
    n_reads
        Reads per sample; the expression is ``counts / (n_reads / 1e6)`` (counts per million).
    min_gene_prob
        Informative pathways whose smallest gene probability is below this value are redrawn (so
        every informative gene is actually expressed); ``None`` means ``0.1 / n_genes``.
    class_groups
        Optional relabelling: ``class_groups[s]`` is the final class of generated class s
        (SimuB: ``(0, 0, 0, 1)``). ``None`` keeps the generated classes.
    jitter
        Width of a Uniform(0, jitter) noise added to every counts-per-million value, drawn after
        the counts (so the counts do not change with it). 0 (the default, docs/methods.md §3) leaves
        genes in no pathway exactly zero; the paper's published generator adds ``1e-4``, which
        turns those genes into unit-variance noise features once z-scored.
    """

    n_classes: int
    n_genes: int
    n_pathways: int
    support: Literal["contiguous", "random"] = "contiguous"
    pathway_size: int = 10
    gene_prob: float | None = None
    min_pathway_genes: int = 3
    n_overexpressed: int = 37
    n_per_class: int | tuple[int, ...] = 300
    alpha_base: float = 4.0
    alpha_over: float = 8.0
    eta: float = 5.0
    n_reads: int = 1_500_000
    min_gene_prob: float | None = None
    class_groups: tuple[int, ...] | None = field(default=None)
    jitter: float = 0.0


PRESETS: dict[str, LDADesign] = {
    "SIMU1": LDADesign(n_classes=33, n_genes=15_000, n_pathways=1_500, n_overexpressed=37),
    "SIMU2": LDADesign(
        n_classes=33,
        n_genes=15_000,
        n_pathways=3_000,
        support="random",
        gene_prob=10 / 15_000,
        n_overexpressed=37,
    ),
    "SimuA": LDADesign(n_classes=2, n_genes=50_000, n_pathways=5_000, n_overexpressed=500, n_per_class=600),
    "SimuB": LDADesign(
        n_classes=4,
        n_genes=50_000,
        n_pathways=5_000,
        n_overexpressed=500,
        n_per_class=300,
        class_groups=(0, 0, 0, 1),
    ),
    "SimuC": LDADesign(
        n_classes=6,
        n_genes=50_000,
        n_pathways=5_000,
        n_overexpressed=500,
        n_per_class=200,
        class_groups=(0, 0, 0, 0, 0, 1),
    ),
}
_PRESET_KEYS = {name.lower(): name for name in PRESETS}


def _preset(name: str) -> LDADesign:
    key = _PRESET_KEYS.get(str(name).lower())
    if key is None:
        raise InvalidParameterError(
            f"unknown simulation preset {name!r}",
            where="simulate_lda(preset=...)",
            fix=f"use one of {', '.join(PRESETS)} or preset=None with every parameter given",
        )
    return PRESETS[key]


def resolve_design(
    preset: str | None = "SIMU1",
    *,
    n_per_class: int | Sequence[int] | None = None,
    n_genes: int | None = None,
    **overrides,
) -> LDADesign:
    """The design a call to :func:`simulate_lda` would use, validated.

    When ``n_genes`` shrinks a preset and ``n_pathways`` / ``n_overexpressed`` are not given,
    both scale with it (rounded, at least 1), and the random-support probability stays
    ``10 / n_genes``, so a scaled-down SIMU2 keeps its pathway sizes and sparsity.

    Parameters
    ----------
    preset
        A preset name (case-insensitive), or None for a custom design.
    n_per_class
        Samples per generated class (int or one per class); default: the preset's.
    n_genes
        Genes; default: the preset's.
    **overrides
        Any other field of :class:`LDADesign`.

    Returns
    -------
    LDADesign
        The validated design.
    """
    if preset is None:
        needed = {"n_classes", "n_pathways"} - set(overrides)
        if needed or n_genes is None:
            raise InvalidParameterError(
                "a custom design needs n_classes, n_genes and n_pathways",
                where="simulate_lda(preset=None)",
                fix="pass them, or start from a preset (SIMU1, SIMU2, SimuA, SimuB, SimuC)",
            )
        base = LDADesign(
            n_classes=int(overrides.pop("n_classes")),
            n_genes=int(n_genes),
            n_pathways=int(overrides.pop("n_pathways")),
        )
    else:
        base = _preset(preset)
    unknown = set(overrides) - set(LDADesign.__dataclass_fields__)
    if unknown:
        raise InvalidParameterError(
            f"unknown simulation parameter(s) {sorted(unknown)}",
            where="simulate_lda",
            fix=f"use parameters among {sorted(LDADesign.__dataclass_fields__)}",
        )
    changes: dict = dict(overrides)
    if n_genes is not None and int(n_genes) != base.n_genes:
        ratio = int(n_genes) / base.n_genes
        changes["n_genes"] = int(n_genes)
        changes.setdefault("n_pathways", max(1, round(base.n_pathways * ratio)))
        changes.setdefault("n_overexpressed", max(1, round(base.n_overexpressed * ratio)))
        if base.support == "random" and base.gene_prob is not None:
            changes.setdefault("gene_prob", base.gene_prob / ratio)
    if n_per_class is not None:
        changes["n_per_class"] = (
            int(cast(int, n_per_class))
            if np.ndim(n_per_class) == 0
            else tuple(int(v) for v in cast(Sequence[int], n_per_class))
        )
    if "class_groups" in changes and changes["class_groups"] is not None:
        changes["class_groups"] = tuple(int(v) for v in changes["class_groups"])
    design = replace(base, **changes)
    if (
        "n_classes" in changes
        and "class_groups" not in changes
        and base.class_groups is not None
        and len(base.class_groups) != design.n_classes
    ):
        design = replace(design, class_groups=None)
    _validate(design)
    return design


def _validate(d: LDADesign) -> None:
    where = "simulate_lda"

    def bad(what: str, fix: str) -> NoReturn:
        raise InvalidParameterError(what, where=where, fix=fix)

    for name in ("n_classes", "n_genes", "n_pathways", "n_overexpressed", "pathway_size", "n_reads"):
        check_count(getattr(d, name), name, minimum=1)
    if d.n_classes < 2:
        bad(
            f"n_classes={d.n_classes}: a classification design needs at least 2 classes", "use n_classes >= 2"
        )
    per_class = _per_class(d)
    if len(per_class) != d.n_classes:
        bad(
            f"n_per_class has {len(per_class)} values for {d.n_classes} generated classes",
            "give one sample count per generated class, or a single int",
        )
    if min(per_class) < 1:
        bad(
            f"n_per_class must be at least 1 sample per class, got {min(per_class)}",
            "give a positive number of samples per class",
        )
    if d.n_overexpressed * d.n_classes > d.n_pathways:
        bad(
            f"{d.n_classes} classes × {d.n_overexpressed} over-expressed pathways = "
            f"{d.n_overexpressed * d.n_classes} informative pathways, more than the "
            f"{d.n_pathways} pathways",
            "lower n_overexpressed or n_classes, or raise n_pathways",
        )
    check_choice(d.support, "support", ("contiguous", "random"))
    if d.support == "contiguous":
        if d.n_pathways * d.pathway_size > d.n_genes:
            bad(
                f"{d.n_pathways} disjoint pathways of {d.pathway_size} genes need "
                f"{d.n_pathways * d.pathway_size} genes, only {d.n_genes} exist",
                "raise n_genes or lower n_pathways / pathway_size",
            )
    else:
        if d.gene_prob is None or not 0 < d.gene_prob <= 1:
            bad(
                f"gene_prob={d.gene_prob} must be in (0, 1] for the random support",
                "give gene_prob, e.g. 10 / n_genes",
            )
        if d.min_pathway_genes > d.n_genes:
            bad(
                f"min_pathway_genes={d.min_pathway_genes} exceeds n_genes={d.n_genes}",
                "lower min_pathway_genes",
            )
        if d.gene_prob * d.n_genes < 0.05 * max(d.min_pathway_genes, 1):
            bad(
                f"gene_prob={d.gene_prob} makes pathways of at least {d.min_pathway_genes} genes "
                "practically impossible to draw",
                "raise gene_prob or lower min_pathway_genes",
            )
    if not float(d.jitter) >= 0:
        bad(f"jitter must be zero or positive, got {d.jitter}", "give jitter >= 0, e.g. 1e-4")
    for name in ("alpha_base", "alpha_over", "eta"):
        if not float(getattr(d, name)) > 0:
            bad(f"{name} must be positive, got {getattr(d, name)}", f"give a positive {name}")
    if d.class_groups is not None:
        if len(d.class_groups) != d.n_classes:
            bad(
                f"class_groups has {len(d.class_groups)} entries for {d.n_classes} generated classes",
                "give the final class of every generated class",
            )
        if len(set(d.class_groups)) < 2:
            bad("class_groups merges every generated class into one class", "keep at least two final classes")


def _per_class(d: LDADesign) -> list[int]:
    if isinstance(d.n_per_class, tuple | list):
        return [int(v) for v in d.n_per_class]
    return [int(d.n_per_class)] * d.n_classes


def _draw_supports(d: LDADesign, rng: np.random.Generator) -> list[np.ndarray]:
    """Gene indices of every pathway's support (sorted)."""
    if d.support == "contiguous":
        starts = np.arange(d.n_pathways) * d.pathway_size
        return [np.arange(s, s + d.pathway_size) for s in starts]
    prob = cast(float, d.gene_prob)  # set for the random support (checked by _validate)
    sizes = rng.binomial(d.n_genes, prob, size=d.n_pathways)
    small = sizes < d.min_pathway_genes
    while small.any():  # redraw too-small pathways, as the paper's generator does
        sizes[small] = rng.binomial(d.n_genes, prob, size=int(small.sum()))
        small = sizes < d.min_pathway_genes
    # Bernoulli membership conditioned on the pathway size is a uniform subset of that size.
    return [np.sort(rng.choice(d.n_genes, size=int(k), replace=False)) for k in sizes]


def _draw_betas(sizes: np.ndarray, eta: float, rng: np.random.Generator) -> np.ndarray:
    """Concatenated Dirichlet(eta·1) draws, one per pathway, via normalised gamma variates."""
    g = rng.standard_gamma(eta, size=int(sizes.sum()))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    totals = np.add.reduceat(g, offsets)
    return g / np.repeat(totals, sizes)


def _pathway_matrix(
    d: LDADesign, informative: np.ndarray, rng: np.random.Generator
) -> tuple[sp.csr_matrix, list[np.ndarray]]:
    """B (pathways × genes, rows sum to 1) and the supports, informative pathways validated."""
    supports = _draw_supports(d, rng)
    sizes = np.array([len(s) for s in supports])
    betas = np.split(_draw_betas(sizes, d.eta, rng), np.cumsum(sizes)[:-1])
    floor = d.min_gene_prob if d.min_gene_prob is not None else 0.1 / d.n_genes
    for p in informative:  # every informative gene must be expressed at a detectable level
        for _ in range(1000):
            if betas[p].min() >= floor:
                break
            if d.support == "random":
                size = 0
                while size < d.min_pathway_genes:
                    size = int(rng.binomial(d.n_genes, cast(float, d.gene_prob)))
                supports[p] = np.sort(rng.choice(d.n_genes, size=size, replace=False))
            betas[p] = rng.dirichlet(np.full(len(supports[p]), d.eta))
        else:
            raise InvalidParameterError(
                f"pathway {p} never reached the minimum gene probability {floor:g} in 1000 draws",
                where="simulate_lda(min_gene_prob=...)",
                fix="lower min_gene_prob or raise eta",
            )
    sizes = np.array([len(s) for s in supports])
    rows = np.repeat(np.arange(d.n_pathways), sizes)
    B = sp.csr_matrix(
        (np.concatenate(betas), (rows, np.concatenate(supports))), shape=(d.n_pathways, d.n_genes)
    )
    return B, supports


def _alpha(d: LDADesign) -> np.ndarray:
    """α (generated classes × pathways): alpha_base everywhere, alpha_over on the class's block."""
    alpha = np.full((d.n_classes, d.n_pathways), float(d.alpha_base))
    for c in range(d.n_classes):
        alpha[c, d.n_overexpressed * c : d.n_overexpressed * (c + 1)] = float(d.alpha_over)
    return alpha


_BLOCK = 128  # samples per multinomial block; each block has its own child generator


def sample_counts(
    theta: np.ndarray,
    B: sp.spmatrix | np.ndarray,
    n_reads: int,
    rng: np.random.Generator,
    *,
    n_jobs: int = 2,
    scale: float = 1.0,
) -> np.ndarray:
    """Counts ~ Multinomial(n_reads, θ_s·B) for every row s of θ, vectorised by blocks of rows.

    Every block of 128 rows draws from its own child of ``rng`` (``Generator.spawn``), so
    blocks run in ``n_jobs`` threads (numpy releases the GIL while sampling) and the result
    depends only on ``rng``'s state, never on ``n_jobs``.

    Parameters
    ----------
    theta
        (samples × pathways) pathway proportions, rows summing to one.
    B
        (pathways × genes) gene distributions of the pathways, sparse or dense.
    n_reads
        Reads drawn per sample.
    rng
        The generator the blocks' generators are spawned from.
    n_jobs
        Threads.
    scale
        Factor applied to the counts (``1e6 / n_reads`` gives counts per million).

    Returns
    -------
    numpy.ndarray
        (samples × genes) float32 ``counts * scale``.
    """
    n = theta.shape[0]
    out = np.empty((n, B.shape[1]), dtype=np.float32)
    starts = list(range(0, n, _BLOCK))
    children = rng.spawn(len(starts))
    Bt = sp.csr_matrix(B.T) if sp.issparse(B) else None

    def block(i: int) -> None:
        start, stop = starts[i], min(starts[i] + _BLOCK, n)
        th = theta[start:stop]
        probs = np.asarray(Bt @ th.T).T if Bt is not None else th @ B
        np.clip(probs, 0.0, None, out=probs)
        probs /= probs.sum(axis=1, keepdims=True)
        counts = children[i].multinomial(int(n_reads), probs)
        np.multiply(counts, scale, out=out[start:stop], casting="unsafe")

    if n_jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=int(n_jobs)) as pool:
            list(track(pool.map(block, range(len(starts))), "simulating counts", total=len(starts)))
    else:
        for i in track(range(len(starts)), "simulating counts"):
            block(i)
    return out


def simulate_lda(
    preset: str | None = "SIMU1",
    *,
    n_per_class: int | Sequence[int] | None = None,
    n_genes: int | None = None,
    seed: int | np.random.Generator = 0,
    n_jobs: int = 2,
    **params,
) -> ad.AnnData:
    """Simulate an expression dataset with known informative genes (hierarchical LDA).

    Parameters
    ----------
    preset
        ``"SIMU1"``, ``"SIMU2"``, ``"SimuA"``, ``"SimuB"``, ``"SimuC"`` (case-insensitive), as in
        docs/methods.md §3; ``None`` for a fully custom design (then ``n_classes``, ``n_genes`` and
        ``n_pathways`` are required).
    n_per_class
        Samples per generated class (int or one value per class); default: the preset's.
    n_genes
        Shrinks (or grows) a preset; pathways and P scale with it unless given.
    seed
        int or numpy Generator; the same seed gives the same counts.
    n_jobs
        Threads drawing the multinomial blocks (the result does not depend on it).
    **params
        Any field of :class:`LDADesign` (``n_classes``, ``n_pathways``, ``support``,
        ``pathway_size``, ``gene_prob``, ``min_pathway_genes``, ``n_overexpressed``,
        ``alpha_base``, ``alpha_over``, ``eta``, ``n_reads``, ``min_gene_prob``,
        ``class_groups``, ``jitter``).

    Returns
    -------
    AnnData
        ``X`` float32 counts per million (samples × genes). ``obs["class"]`` (categorical, final
        labels ``C0``, ``C1`` …), ``obs["subclass"]`` when generated classes were merged.
        ``var["pathways"]`` (``;``-joined pathway names, empty for genes in no pathway),
        ``var["n_pathways"]``, ``var["informative_for"]``; ``varm["pathway_membership"]``
        (sparse genes × pathways, 0/1), ``uns["pathway_names"]``.
        ``uns["ground_truth"]``: final class → informative gene names (union of the supports of
        its over-expressed pathways; in a two-class design also the other class's);
        ``uns["ground_truth_subclass"]`` the same per generated class when classes were merged;
        ``uns["overexpressed_pathways"]`` class → pathway names; ``uns["simulation"]`` the design.
    """
    design = resolve_design(preset, n_per_class=n_per_class, n_genes=n_genes, **params)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    d = design
    P = d.n_overexpressed
    informative = np.arange(P * d.n_classes)
    B, supports = _pathway_matrix(d, informative, rng)

    per_class = _per_class(d)
    gen_labels = np.repeat(np.arange(d.n_classes), per_class)
    alpha = _alpha(d)
    # θ_s ~ Dirichlet(α_c): normalised gamma draws, all samples at once.
    gam = rng.standard_gamma(alpha[gen_labels])
    theta = gam / gam.sum(axis=1, keepdims=True)
    X = sample_counts(theta, B, d.n_reads, rng, n_jobs=max(1, int(n_jobs)), scale=1e6 / d.n_reads)
    if d.jitter > 0:
        X += rng.random(X.shape, dtype=np.float32) * np.float32(d.jitter)

    return _assemble(d, X, gen_labels, supports)


def _assemble(d: LDADesign, X: np.ndarray, gen_labels: np.ndarray, supports) -> ad.AnnData:
    P = d.n_overexpressed
    width = len(str(d.n_genes - 1))
    genes = np.array([f"G{i:0{width}d}" for i in range(d.n_genes)])
    pw_width = len(str(d.n_pathways - 1))
    pathways = np.array([f"P{p:0{pw_width}d}" for p in range(d.n_pathways)])
    groups = np.arange(d.n_classes) if d.class_groups is None else np.asarray(d.class_groups)
    final_ids = np.unique(groups)
    final_names = [f"C{c}" for c in final_ids]
    sub_names = [f"S{s}" for s in range(d.n_classes)]

    own = {
        s: np.unique(np.concatenate([supports[p] for p in range(P * s, P * (s + 1))]))
        for s in range(d.n_classes)
    }
    two_class = len(final_ids) == 2

    def truth_of(members: list[int]) -> np.ndarray:
        idx = np.unique(np.concatenate([own[s] for s in members]))
        if two_class:  # the other class's genes separate the two classes just as well
            others = [s for s in range(d.n_classes) if groups[s] != groups[members[0]]]
            idx = np.unique(np.concatenate([idx] + [own[s] for s in others]))
        return idx

    ground_truth = {
        f"C{c}": genes[truth_of([s for s in range(d.n_classes) if groups[s] == c])].tolist()
        for c in final_ids
    }
    obs = pd.DataFrame(
        {"class": pd.Categorical([f"C{groups[s]}" for s in gen_labels], categories=final_names)},
        index=[f"sample{i:0{len(str(len(gen_labels) - 1))}d}" for i in range(len(gen_labels))],
    )
    uns: dict = {"ground_truth": ground_truth}
    if d.class_groups is not None:
        obs["subclass"] = pd.Categorical([sub_names[s] for s in gen_labels], categories=sub_names)
        uns["ground_truth_subclass"] = {
            sub_names[s]: genes[truth_of([s])].tolist() for s in range(d.n_classes)
        }
        uns["subclass_to_class"] = {sub_names[s]: f"C{groups[s]}" for s in range(d.n_classes)}
    uns["overexpressed_pathways"] = {
        (f"S{s}" if d.class_groups is not None else f"C{s}"): pathways[P * s : P * (s + 1)].tolist()
        for s in range(d.n_classes)
    }

    sizes = np.array([len(s) for s in supports])
    rows = np.concatenate(supports)
    cols = np.repeat(np.arange(d.n_pathways), sizes)
    member = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(d.n_genes, d.n_pathways))
    member.sum_duplicates()
    n_pw = np.asarray(member.sum(axis=1)).ravel().astype(int)
    csr = member.tocsr()
    pw_strings = [
        ";".join(pathways[csr.indices[csr.indptr[g] : csr.indptr[g + 1]]]) for g in range(d.n_genes)
    ]
    informative_for = np.full(d.n_genes, "", dtype=object)
    label_of = sub_names if d.class_groups is not None else [f"C{s}" for s in range(d.n_classes)]
    for s in range(d.n_classes):
        for g in own[s]:
            informative_for[g] = (
                label_of[s] if not informative_for[g] else f"{informative_for[g]};{label_of[s]}"
            )
    var = pd.DataFrame(
        {"pathways": pw_strings, "n_pathways": n_pw, "informative_for": informative_for.astype(str)},
        index=genes,
    )
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(d).items()}
    uns["simulation"] = {k: v for k, v in params.items() if v is not None}
    uns["pathway_names"] = pathways.tolist()
    adata = ad.AnnData(X=X, obs=obs, var=var, uns=uns)
    adata.varm["pathway_membership"] = member
    return adata


def is_simulation(adata: ad.AnnData) -> bool:
    """Whether ``adata`` was made by :func:`simulate_lda` (directly or read back from its file).

    Such data are simulated counts, so exprlab log-transforms them by default (``--log2`` left
    unset in ``train``, ``biomarkers`` and ``xai-study``), and the same data give the same results
    whether named by preset or read from the file ``exprlab simulate`` wrote.

    Parameters
    ----------
    adata
        Expression data.

    Returns
    -------
    bool
        True when ``adata.uns`` holds the simulation's design (``uns["simulation"]``).
    """
    return "simulation" in adata.uns
