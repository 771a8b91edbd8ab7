"""The drug-disease triangle from user files: a drug library, disease signatures, indications."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._validation import check_count
from exprlab.datasets._benchmark import RepurposingBenchmark, repurposing_benchmark
from exprlab.drugs import normalize_drug_name
from exprlab.errors import InputDataError
from exprlab.io import read, read_indications
from exprlab.signatures import signed_set_matrix


def load_benchmark(
    labels: str | Path = "opentargets",
    *,
    drugs: str | Path | None = None,
    diseases: str | Path | None = None,
    set_size: int = 100,
    disease_map: str | Path | None = None,
) -> RepurposingBenchmark:
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
    set_size
        Up and down genes kept per perturbation of a user drug library.
    disease_map
        Optional TSV mapping catalogue disease names to the signatures' EFO ids or terms
        (:func:`repurposing_benchmark`).

    Returns
    -------
    RepurposingBenchmark
        :func:`repurposing_benchmark` without user files; otherwise a triangle with the same
        attributes whose ``report`` says it came from user files.
    """
    if drugs is None and diseases is None:
        return repurposing_benchmark(labels, disease_map=disease_map)
    set_size = check_count(set_size, "set_size", minimum=1)
    base = None
    if drugs is None or diseases is None:
        base = repurposing_benchmark("opentargets")
    dis = _user_diseases(diseases) if diseases is not None else base.diseases  # type: ignore[union-attr]
    if drugs is not None:
        sets, obs = _user_drug_sets(drugs, set_size)
    else:
        sets, obs = base.drug_sets, base.drugs.obs[["drug"]]  # type: ignore[union-attr]
    gene_space = pd.Index(sorted(set(dis.var_names) | {g for u, d in sets.values() for g in (*u, *d)}))
    dis_X = sp.csr_matrix(dis.X, dtype=np.float32)
    cols = gene_space.get_indexer(dis.var_names)
    dis_X = sp.csr_matrix((dis_X.data, cols[dis_X.indices], dis_X.indptr), shape=(dis.n_obs, len(gene_space)))
    disease_ad = ad.AnnData(
        dis_X, obs=dis.obs[["disease"]].astype(str).copy(), var=pd.DataFrame(index=gene_space)
    )
    drug_ad = ad.AnnData(
        signed_set_matrix([sets[n] for n in obs.index], gene_space),
        obs=obs.copy(),
        var=pd.DataFrame(index=gene_space),
    )
    if isinstance(labels, str | Path) and Path(str(labels)).is_file():
        table = read_indications(labels, source="user")
    else:
        table = (base or repurposing_benchmark(labels, disease_map=disease_map)).indications
    return RepurposingBenchmark(
        diseases=disease_ad,
        drugs=drug_ad,
        drug_sets=dict(sets),
        indications=table,
        candidates=sorted(set(drug_ad.obs["drug"])),
        report={"source": "user files"},
        labels=str(labels),
    )


def _user_diseases(path: str | Path) -> ad.AnnData:
    """User disease signatures; without a ``disease`` column each obs is its own disease."""
    dis = read(path)
    if "disease" not in dis.obs.columns:
        dis.obs["disease"] = dis.obs_names.astype(str)
    return dis


def _user_drug_sets(
    path: str | Path, set_size: int
) -> tuple[dict[str, tuple[list[str], list[str]]], pd.DataFrame]:
    """Each perturbation of a user library as its top and bottom genes, and obs ``drug``."""
    raw = read(path)
    col = "drug" if "drug" in raw.obs.columns else "pert_iname"
    if col not in raw.obs.columns:
        raise InputDataError(
            "the drug library has neither a 'drug' nor a 'pert_iname' obs column",
            where=path,
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
    obs = pd.DataFrame(
        {"drug": normalize_drug_name(raw.obs[col].astype(str)).to_numpy()},
        index=raw.obs_names.astype(str),
    )
    return sets, obs
