"""What learned and connectivity matchers see of a benchmark: labels, signatures, pair features.

A triangle (:class:`~exprlab.datasets.RepurposingBenchmark`, a simulated benchmark or user
files) becomes the checked indication table (:func:`check_labels`), the sparse signatures over
one gene space (:func:`pair_data`) and the (contrast x perturbation) pair features the models
use: the cosine reversal (:func:`cosine_reversal`) and the connectivity reversal scores
(:func:`connectivity_scores`), z-scored by :func:`standardise_features`.

Orientation of connectivity (documented choice). CMap 02 drugs are given as up/down gene sets
(their 100 most up- and down-regulated genes), not full signatures, while a disease signature is
a vector over genes. The drug's sets are therefore the *query* and each disease contrast the
ranked *reference*; the definitions of docs/methods.md §1 apply unchanged. A disease contrast
lists only its differentially expressed genes, so most genes of the reference are 0 and tie;
the reference is ranked with midranks (``ties="midrank"``), which makes every score independent
of gene order. A negative KS / WTCS / XSum / cosine means the drug reverses the disease, so the
reversal score is minus the connectivity; gene-set overlap runs in reverse mode (larger = more
reversal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._progress import track
from exprlab._validation import check_choices
from exprlab.errors import GeneSpaceError, InputDataError
from exprlab.match import MatchMethod, prepare_library, score
from exprlab.signatures import PairData, SparseRows

#: connectivity methods: name -> (engine method, sign turning the score into a reversal score,
#: engine options). Gene-set overlap takes the disease's own DEG lists as its reference sets
#: (lfc > 0 up, < 0 down), not a fixed top-k: a contrast lists about 200 genes, so a top 150 by
#: rank would mostly pick tied, unlisted genes.
CONNECTIVITY: dict[str, tuple[MatchMethod, float, dict[str, Any]]] = {
    "ks": ("ks", -1.0, {}),
    "wtcs": ("wtcs", -1.0, {}),
    "xsum": ("xsum", -1.0, {}),
    "cosine": ("cosine", -1.0, {}),
    "overlap": ("overlap_reverse", 1.0, {"reference_sets": "sign"}),
}


def check_labels(bench: Any) -> tuple[pd.DataFrame, dict[str, object]]:
    """Keep the indications whose drug and disease both have signatures; report the rest.

    Nothing is dropped silently: the report counts the rows naming a drug without a perturbation
    signature and a disease without a contrast (with the names), and the diseases with
    signatures but no indication (not evaluated: their metrics are undefined).

    Parameters
    ----------
    bench
        A triangle with ``diseases`` (obs ``disease``), ``drugs`` (obs ``drug``) and
        ``indications`` (columns ``drug`` and ``disease``).

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The indications kept (one row per disease-drug pair) and the report.

    Raises
    ------
    InputDataError
        When the table lacks the columns, or no indication has both signatures.
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


def pair_data(bench: Any) -> PairData:
    """Signatures of the whole triangle over its full gene space, without pair features.

    Parameters
    ----------
    bench
        A triangle whose ``diseases`` and ``drugs`` share one gene space.

    Returns
    -------
    PairData
        Sparse contrast and perturbation signatures with each row's disease and drug.

    Raises
    ------
    GeneSpaceError
        When the disease and drug signatures are on different gene spaces.
    """
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

    Parameters
    ----------
    data
        The signatures (:func:`pair_data`).

    Returns
    -------
    numpy.ndarray
        float32, contrasts x perturbations; larger = stronger reversal.
    """
    d = SparseRows(data.diseases.matrix, normalize=True).matrix
    s = SparseRows(data.drugs.matrix, normalize=True).matrix
    return -np.asarray((d @ s.T).toarray(), dtype=np.float32)


def connectivity_scores(
    bench: Any,
    methods: Sequence[str] = tuple(CONNECTIVITY),
    *,
    chunk_size: int | None = None,
) -> dict[str, np.ndarray]:
    """Reversal scores (contrasts x perturbations) of the engine's connectivity methods.

    The drug's up/down sets are the query, each disease contrast the reference, ranked with
    midranks; the sign of :data:`CONNECTIVITY` makes larger = stronger reversal (see the module
    doc and docs/methods.md §1).

    Parameters
    ----------
    bench
        A triangle with ``diseases`` and ``drug_sets`` (and ``drugs`` for the instance order).
    methods
        Connectivity methods among the keys of :data:`CONNECTIVITY` (none: an empty dict).
    chunk_size
        Queries per processing chunk of :func:`exprlab.match.score` (its default when None).

    Returns
    -------
    dict
        Method -> float32 matrix, contrasts x perturbations (NaN scores become 0).
    """
    methods = check_choices(methods, "methods", list(CONNECTIVITY)) if len(methods) else []
    query = {str(k): (list(v[0]), list(v[1])) for k, v in bench.drug_sets.items()}
    inst = bench.drugs.obs_names.astype(str)
    library = prepare_library(bench.diseases, ties="midrank")  # ranks computed once
    contrasts = bench.diseases.obs_names.astype(str)
    out: dict[str, np.ndarray] = {}
    for m in track(methods, "connectivity scores"):
        engine, sign, options = CONNECTIVITY[m]
        kw = {"ties": "midrank", **options}
        if chunk_size:
            kw["chunk_size"] = chunk_size
        table = score(query, library, method=engine, **kw)
        table = table.reindex(index=inst, columns=contrasts)
        values = sign * table.to_numpy(dtype=np.float64).T
        out[m] = np.nan_to_num(values, nan=0.0).astype(np.float32)
    return out


def standardise_features(mats: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Z-score each pair-feature matrix by its own mean and sd; return the stack and the stats.

    The stats are kept with a trained model so prediction applies the same scaling.

    Parameters
    ----------
    mats
        Feature name -> contrasts x perturbations matrix.

    Returns
    -------
    tuple of (numpy.ndarray, dict)
        The float32 stack (features x contrasts x perturbations) and ``{name: (mean, sd)}``
        (an sd of 0 is replaced by 1).
    """
    stats, stack = {}, []
    for name, m in mats.items():
        mu, sd = float(m.mean()), float(m.std()) or 1.0
        stats[name] = (mu, sd)
        stack.append((m - mu) / sd)
    return np.stack(stack).astype(np.float32), stats
