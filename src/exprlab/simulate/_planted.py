"""Planted drug-disease mechanisms: diseases, drugs and indications with a known cause.

The generator builds the same triangle as the real repurposing benchmark (disease contrast
signatures, drug perturbation up/down sets, an indication table), so every method and every
split runs on it unchanged; here the reason for each indication is known.

Model. ``n_pathways`` disjoint pathways of ``pathway_size`` genes. Each disease has a *program*:
``program_size`` pathways, each pushed up or down. Its contrasts (1 to ``max_contrasts``) list the
program genes (log fold change = direction x effect + noise) plus ``noise_genes`` random genes
with pure-noise values; every other gene is unlisted (0), as in the Open Targets signatures. Each
drug acts on one pathway in one direction; its perturbations (1 to ``max_instances``) rank all
genes by direction x effect on the pathway's genes plus Gaussian noise and keep the top and
bottom ``set_size`` genes as up and down sets. A drug is *mechanistically indicated* for a
disease when it pushes one of the disease's program pathways in the opposite direction (it
reverses the program), kept with probability ``detect`` (incomplete labels).

Skewed popularity. A few drugs (``popular_drugs``) are also indicated, off mechanism, for a
``popular_rate`` share of all diseases (broadly used drugs like corticosteroids in the real
catalogue). Those rows have ``mechanism = False``. A popularity ranking learnt from training
diseases puts these drugs first everywhere; it recovers none of the planted mechanistic
indications of an unseen disease beyond chance, whereas a method that reads the signatures can.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anndata as ad
import numpy as np
import pandas as pd

from exprlab.errors import InvalidParameterError


@dataclass
class PlantedBenchmark:
    """A simulated repurposing benchmark with the same attributes as the real one.

    Parameters
    ----------
    diseases
        AnnData, one obs per contrast (obs ``disease``, ``comparison``), X = log fold change with
        unlisted genes 0 and a boolean layer ``listed``.
    drugs
        AnnData, one obs per perturbation (obs ``drug``), X = +1 up set, -1 down set, 0 else.
    drug_sets
        Perturbation id -> (up genes, down genes).
    indications
        DataFrame ``drug``, ``disease``, ``mechanism`` (True = planted by reversal).
    candidates
        All drug names.
    truth
        ``disease_program`` (disease -> list of (pathway, direction)), ``drug_action`` (drug ->
        (pathway, direction)), ``pathways`` (pathway -> genes).
    report
        Counts of what was generated.
    """

    diseases: ad.AnnData
    drugs: ad.AnnData
    drug_sets: dict[str, tuple[list[str], list[str]]]
    indications: pd.DataFrame
    candidates: list[str]
    truth: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)


def simulate_planted(
    *,
    n_diseases: int = 60,
    n_drugs: int = 200,
    n_pathways: int = 20,
    pathway_size: int = 20,
    n_genes: int = 600,
    program_size: int = 2,
    max_contrasts: int = 2,
    max_instances: int = 3,
    set_size: int = 20,
    noise_genes: int = 30,
    effect: float = 2.0,
    noise: float = 1.0,
    detect: float = 0.8,
    popular_drugs: int = 5,
    popular_rate: float = 0.5,
    seed: int | np.random.Generator = 0,
) -> PlantedBenchmark:
    """Generate diseases, drugs and indications with planted reversal mechanisms.

    The model is described in this module's docstring and in docs/methods.md §2.

    Parameters
    ----------
    n_diseases
        Diseases, at least 2.
    n_drugs
        Drugs, at least 2.
    n_pathways
        Disjoint pathways.
    pathway_size
        Genes per pathway (``n_pathways × pathway_size <= n_genes``).
    n_genes
        Size of the gene space.
    program_size
        Pathways in each disease's program, 1 to ``n_pathways``.
    max_contrasts
        Most contrasts per disease (each has 1 to this many).
    max_instances
        Most perturbations per drug.
    set_size
        Genes in each up and each down set, 1 to ``n_genes / 2``.
    noise_genes
        Pure-noise genes listed in each contrast.
    effect
        Shift of a program or action pathway's genes.
    noise
        Standard deviation of the Gaussian noise.
    detect
        Probability that a mechanistic indication is recorded.
    popular_drugs
        Drugs also indicated off mechanism.
    popular_rate
        Share of diseases each popular drug is indicated for.
    seed
        Integer or numpy Generator; the same seed gives the same benchmark.

    Returns
    -------
    PlantedBenchmark
        Signatures, indications and the planted truth.

    Raises
    ------
    InvalidParameterError
        Sizes that cannot be realised (pathways that do not fit in the genes, a program larger
        than the pathway count, sets larger than half the genes, probabilities outside [0, 1]).
    """
    # Long by its sixteen documented parameters; the generation steps are the helpers below.
    # Over 80 lines only with its docstring; the body calls one helper per generation step.
    _check(n_diseases >= 2, "n_diseases", n_diseases, "at least 2 diseases")
    _check(n_drugs >= 2, "n_drugs", n_drugs, "at least 2 drugs")
    _check(
        n_pathways * pathway_size <= n_genes,
        "n_pathways",
        n_pathways,
        "n_pathways x pathway_size must not exceed n_genes",
    )
    _check(1 <= program_size <= n_pathways, "program_size", program_size, "1..n_pathways")
    _check(1 <= set_size <= n_genes // 2, "set_size", set_size, "1..n_genes/2")
    _check(0 <= detect <= 1, "detect", detect, "a probability")
    _check(0 <= popular_rate <= 1, "popular_rate", popular_rate, "a probability")
    _check(0 <= popular_drugs <= n_drugs, "popular_drugs", popular_drugs, "0..n_drugs")
    _check(max_contrasts >= 1 and max_instances >= 1, "max_contrasts", max_contrasts, ">= 1")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    genes = np.array([f"G{i:05d}" for i in range(n_genes)])
    perm = rng.permutation(n_genes)
    pathways = [perm[p * pathway_size : (p + 1) * pathway_size] for p in range(n_pathways)]
    disease_names = [f"disease_{i:03d}" for i in range(n_diseases)]
    drug_names = [f"drug_{i:03d}" for i in range(n_drugs)]

    programs = {
        d: [(int(p), int(rng.choice([-1, 1]))) for p in rng.choice(n_pathways, program_size, False)]
        for d in disease_names
    }
    actions = {s: (int(rng.integers(n_pathways)), int(rng.choice([-1, 1]))) for s in drug_names}
    shape = _Shape(effect, noise, noise_genes, set_size)
    diseases = _contrasts(programs, pathways, genes, max_contrasts, shape, rng)
    drugs, sets = _perturbations(actions, pathways, genes, max_instances, shape, rng)
    indications, popular = _indications(programs, actions, detect, popular_drugs, popular_rate, rng)
    return PlantedBenchmark(
        diseases=diseases,
        drugs=drugs,
        drug_sets=sets,
        indications=indications,
        candidates=list(drug_names),
        truth={
            "disease_program": programs,
            "drug_action": actions,
            "pathways": {p: genes[g].tolist() for p, g in enumerate(pathways)},
            "popular_drugs": sorted(map(str, popular)),
        },
        report={
            "contrasts": diseases.n_obs,
            "perturbations": drugs.n_obs,
            "mechanism_indications": int(indications["mechanism"].sum()),
            "popular_indications": int((~indications["mechanism"]).sum()),
        },
    )


@dataclass(frozen=True)
class _Shape:
    """How strongly and how noisily signatures show their pathways."""

    effect: float
    noise: float
    noise_genes: int
    set_size: int


def _contrasts(programs, pathways, genes, max_contrasts: int, shape: _Shape, rng) -> ad.AnnData:
    """Disease contrasts: program genes shifted by direction x effect plus noise, some noise genes."""
    n_genes = len(genes)
    rows, obs = [], []
    for d, program in programs.items():
        for c in range(int(rng.integers(1, max_contrasts + 1))):
            x = np.zeros(n_genes)
            for p, direction in program:
                g = pathways[p]
                x[g] = direction * shape.effect + shape.noise * rng.standard_normal(len(g))
            extra = rng.choice(
                np.flatnonzero(x == 0), size=min(shape.noise_genes, int((x == 0).sum())), replace=False
            )
            x[extra] = shape.noise * rng.standard_normal(len(extra))
            rows.append(x)
            obs.append({"disease": d, "comparison": f"{d}_c{c}"})
    dis_X = np.vstack(rows).astype(np.float32)
    dis_obs = pd.DataFrame(obs)
    dis_obs.index = dis_obs["comparison"].to_numpy()
    diseases = ad.AnnData(dis_X, obs=dis_obs, var=pd.DataFrame(index=genes))
    diseases.layers["listed"] = dis_X != 0
    return diseases


def _perturbations(actions, pathways, genes, max_instances: int, shape: _Shape, rng):
    """Drug perturbations as +1/-1 top and bottom sets of a noisy pathway shift, and the sets."""
    n_genes = len(genes)
    rows, obs, sets = [], [], {}
    for s, (p, direction) in actions.items():
        for i in range(int(rng.integers(1, max_instances + 1))):
            z = shape.noise * rng.standard_normal(n_genes)
            z[pathways[p]] += direction * shape.effect
            order = np.argsort(-z)
            up, down = order[: shape.set_size], order[-shape.set_size :]
            x = np.zeros(n_genes, dtype=np.float32)
            x[up], x[down] = 1.0, -1.0
            name = f"{s}@i{i}"
            rows.append(x)
            obs.append({"drug": s, "instance": name})
            sets[name] = (genes[up].tolist(), genes[down].tolist())
    drg_obs = pd.DataFrame(obs)
    drg_obs.index = drg_obs["instance"].to_numpy()
    return ad.AnnData(np.vstack(rows), obs=drg_obs, var=pd.DataFrame(index=genes)), sets


def _indications(programs, actions, detect: float, popular_drugs: int, popular_rate: float, rng):
    """Mechanistic (reversal) indications kept with probability ``detect``, then popular drugs."""
    drug_names = list(actions)
    pairs = []
    for d, program in programs.items():
        prog = dict(program)
        for s in drug_names:
            p, direction = actions[s]
            if prog.get(p) == -direction and rng.random() < detect:
                pairs.append((s, d, True))
    mech = {(s, d) for s, d, _ in pairs}
    popular = rng.choice(drug_names, size=popular_drugs, replace=False)
    for s in popular:
        for d in programs:
            if (s, d) not in mech and rng.random() < popular_rate:
                pairs.append((str(s), d, False))
    return pd.DataFrame(pairs, columns=["drug", "disease", "mechanism"]), popular


def _check(ok: bool, name: str, value, rule: str) -> None:
    if not ok:
        raise InvalidParameterError(
            f"{name}={value!r} is not allowed ({rule})",
            where="simulate_planted",
            fix=f"choose {name} so that {rule}",
        )
