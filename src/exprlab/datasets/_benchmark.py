"""The drug-disease repurposing benchmark assembled from the public data.

The repurposing benchmark
-------------------------
:func:`repurposing_benchmark` assembles the drug-disease triangle of the public data:

* **diseases**: the 643 disease-vs-normal comparisons of the Open Targets / Expression Atlas DEG
  table (:func:`exprlab.io._tables.read_deg_table`: unlisted genes 0 with the boolean layer
  ``"listed"``; a gene listed twice in one comparison keeps its smallest p-value);
* **drugs**: the 6,100 CMap build 02 treatment instances as ``+1`` (its 100 most up-regulated
  genes) / ``-1`` (100 most down-regulated) / ``0`` vectors, stored as a SciPy CSR sparse matrix
  (the dense matrix would take 600 MB for 1.2 million non-zero cells); the gene sets themselves
  in rank order in ``.drug_sets``; ``.drugs_per_drug()`` averages the instances of each of the
  1,307 drugs (:func:`aggregate_instances`); the instance metadata comes
  from ``cmap_instances_02.txt``, joined on the instance id that ends every GMT set name
  (``metformin@MCF7#1e-05M_1`` is instance 1; the drug, cell line and concentration in the name
  are checked against the table);
* **gene space**: the union of the DEG symbols (23,831) and the CMap 02 symbols (12,317), 25,749
  upper-case symbols, sorted; both AnnData objects share it;
* **labels**: phase-4 Open Targets indications whose drug has a CMap 02 instance and whose
  disease (EFO id) has a comparison. Drugs are joined on the salt-stripped normalised name
  (:func:`exprlab.drugs.normalize_drug_name` with ``strip_salts=True``: ``DEXAMETHASONE
  ACETATE`` is ``dexamethasone``), on both sides: the catalogue names and the CMap names
  (``ipratropium bromide`` is ``ipratropium``). The spellings the rule merged are listed in the
  report (``salt_merged_catalogue``, ``salt_merged_signatures``). Result: 1,606 pairs,
  133 diseases, 250 drugs (1,544 / 132 / 236 with the base rule alone).

Other label catalogues cannot be joined to the Open Targets diseases by identifier: repoDB uses
UMLS concept ids, PharmacotherapyDB and DrugCentral Disease Ontology ids, while the comparisons
carry EFO ids, and the data directory holds no cross-reference between them. For
``labels="repodb"``, ``"pharmacotherapydb"`` and ``"drugcentral"`` (and user tables whose disease
column holds names), diseases are joined to the EFO terms by name, in three steps, the first
that succeeds wins (:mod:`exprlab.datasets._disease_names`):

1. ``user map``: a row of the user's mapping table (``disease_map``, a TSV with columns ``name``
   = the catalogue's disease name or id, ``disease`` = an EFO id or EFO term of the signatures);
   a row naming a disease the signatures do not have is an error;
2. ``exact``: the same normalised name (lower-case, non-alphanumerics removed);
3. ``synonym``: the same *synonym key*, a normalised bag of words: possessives dropped
   (``Alzheimer's`` = ``Alzheimer``), British spellings folded (``tumour``, ``oesophageal``,
   ``leukaemia``), Roman numerals as digits (``type II`` = ``type 2``), ``malignant neoplasm``
   read as ``cancer``, the filler words ``of``, ``the``, ``nos``, ``unspecified`` dropped, a
   trailing plural ``s`` removed, and word order ignored (``Carcinoma, Hepatocellular`` =
   ``hepatocellular carcinoma``). A key shared by two EFO terms joins neither (ambiguous).

The report counts each step and lists every catalogue disease that found no comparison.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from exprlab._validation import check_choice
from exprlab.datasets._cmap02 import _cmap02_files, _cmap02_parsed
from exprlab.datasets._disease_names import disease_name_key, map_disease_names, read_disease_map
from exprlab.datasets._indications import (
    drugcentral_indications,
    opentargets_indications,
    pharmacotherapydb,
    repodb,
)
from exprlab.datasets._opentargets import _deg_cached
from exprlab.datasets._registry import _key
from exprlab.drugs import normalize_drug_name, salt_merges
from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.io import read_indications
from exprlab.signatures import signed_set_matrix


@dataclass
class RepurposingBenchmark:
    """The drug-disease triangle returned by :func:`repurposing_benchmark` (or built from files).

    Parameters
    ----------
    diseases
        AnnData, one obs per Open Targets comparison (643); obs ``disease`` (EFO id),
        ``disease_name``, ``comparison``, ``n_listed``; X log fold change over :attr:`genes` with
        unlisted genes 0, ``layers["listed"]`` (bool), ``layers["pval"]``.
    drugs
        AnnData, one obs per CMap 02 instance (6,100); obs ``drug`` (normalised name),
        ``cmap_name``, ``cell_line``, ``dose``, ``time``, ``instance_id`` ...; X SciPy CSR float32
        (+1 up, -1 down, 0 elsewhere) over the same genes.
    drug_sets
        ``{instance name: (up genes, down genes)}``, 100 symbols each, in rank order.
    indications
        Tidy indication table (``drug``, ``drug_name``, ``disease`` = EFO id, ``disease_name``,
        ``drug_id``, ``disease_id``, ``status``, ``phase``, ``source``), one row per (drug,
        disease) pair whose drug has an instance and whose disease has a comparison.
    candidates
        Every normalised CMap 02 drug name (1,307), sorted.
    report
        Counts of what did or did not join (and the names that did not).
    labels
        Which label catalogue was used.
    """

    diseases: ad.AnnData
    drugs: ad.AnnData
    drug_sets: dict[str, tuple[list[str], list[str]]]
    indications: pd.DataFrame
    candidates: list[str]
    report: dict[str, Any] = field(default_factory=dict)
    labels: str = "opentargets"

    @property
    def genes(self) -> pd.Index:
        """The shared gene space (upper-case symbols)."""
        return self.diseases.var_names

    def drugs_per_drug(self) -> ad.AnnData:
        """Per-drug aggregation of :attr:`drugs`: one obs per normalised drug name.

        Returns
        -------
        anndata.AnnData
            X (SciPy CSR float32) is the mean of the drug's instance vectors, so a gene is +1
            when it is among the top-100 up genes of every instance of the drug, -1 when among
            the down genes of every instance, and in between otherwise. obs: ``drug``,
            ``n_instances``, ``cell_lines`` (the instances' cell lines, sorted, joined by
            ``|``). Rows are sorted by drug name (the order of :attr:`candidates`).
        """
        return aggregate_instances(self.drugs)


def _reindex_genes(adata: ad.AnnData, genes: pd.Index) -> ad.AnnData:
    """Put a DEG AnnData on a larger gene space: new genes unlisted (lfc 0, p 1, listed False)."""
    idx = genes.get_indexer(adata.var_names)
    if (idx < 0).any():
        raise InputDataError(
            "the new gene space lacks genes of the signatures",
            where="_reindex_genes",
            fix="pass a superset of the signatures' genes",
        )
    shape = (adata.n_obs, len(genes))
    X = np.zeros(shape, adata.X.dtype)
    P = np.ones(shape, adata.layers["pval"].dtype)
    L = np.zeros(shape, bool)
    X[:, idx] = adata.X
    P[:, idx] = adata.layers["pval"]
    L[:, idx] = adata.layers["listed"]
    var = adata.var.reindex(genes).fillna({"ensembl": ""})
    var.index = var.index.astype(str)
    return ad.AnnData(
        X=X,
        obs=adata.obs.copy(),
        var=var,
        layers={"pval": P, "listed": L},
        uns=copy.deepcopy(dict(adata.uns)),
    )


def aggregate_instances(drugs: ad.AnnData, *, by: str = "drug") -> ad.AnnData:
    """Average instance signatures per value of ``drugs.obs[by]`` (sparse-aware).

    A drug profiled in several cell lines and doses gets one signature, so that drugs can be
    compared with each other rather than instance by instance.

    Parameters
    ----------
    drugs
        One obs per perturbation instance.
    by
        The obs column naming each instance's drug (the group).

    Returns
    -------
    anndata.AnnData
        n_groups x genes, rows sorted by group, X the mean of each group's rows (CSR float32
        when ``drugs.X`` is sparse), obs ``by``, ``n_instances``, ``cell_lines`` (when
        ``cell_line`` is an obs column).
    """
    by = check_choice(by, "by", list(map(str, drugs.obs.columns)))
    codes, groups = pd.factorize(drugs.obs[by].astype(str), sort=True)
    counts = np.bincount(codes, minlength=len(groups))
    weights = sp.csr_matrix(
        ((1.0 / counts[codes]).astype(np.float32), (codes, np.arange(len(codes)))),
        shape=(len(groups), drugs.n_obs),
    )
    X = weights @ drugs.X
    X = X.tocsr().astype(np.float32) if sp.issparse(X) else np.asarray(X, dtype=np.float32)
    obs = pd.DataFrame(
        {by: np.asarray(groups, dtype=object), "n_instances": counts},
        index=pd.Index(np.asarray(groups, dtype=str)),
    )
    if "cell_line" in drugs.obs.columns:
        cells = drugs.obs.groupby(codes)["cell_line"].agg(lambda c: "|".join(sorted(set(map(str, c)))))
        obs["cell_lines"] = cells.reindex(range(len(groups))).to_numpy()
    return ad.AnnData(X=X, obs=obs, var=drugs.var.copy())


@lru_cache(maxsize=2)
def _benchmark_core(deg_path: str, up_path: str, down_path: str, inst_path: str):
    obs, sets, cmap_index = _cmap02_parsed(up_path, down_path, inst_path)
    cmap_genes = set(cmap_index)
    deg = _deg_cached(deg_path, 0.0)
    deg_genes = set(deg.var_names)
    genes = pd.Index(sorted(cmap_genes | deg_genes))
    diseases = _reindex_genes(deg, genes)
    drugs = ad.AnnData(
        X=signed_set_matrix([sets[n] for n in obs.index], genes),
        obs=obs.copy(),
        var=pd.DataFrame(index=genes.astype(str)),
    )
    info = {
        "n_genes": len(genes),
        "n_genes_deg": len(deg_genes),
        "n_genes_cmap": len(cmap_genes),
        "n_genes_shared": len(deg_genes & cmap_genes),
    }
    return diseases, drugs, sets, info


_LABEL_SOURCES = ("opentargets", "repodb", "pharmacotherapydb", "drugcentral")


def _name_key(names: pd.Series) -> pd.Series:
    return normalize_drug_name(names.astype(str))


def _join_diseases_by_name(
    table: pd.DataFrame, diseases_obs: pd.DataFrame, report: dict, disease_map: str | Path | None = None
) -> pd.DataFrame:
    """Replace catalogue disease ids by EFO ids: user map, exact name, synonym key (module doc)."""
    terms = diseases_obs.drop_duplicates("disease")[["disease", "disease_name"]]
    user_map = read_disease_map(disease_map, terms) if disease_map is not None else None
    names = table.drop_duplicates("disease")[["disease", "disease_name"]]
    mapping = map_disease_names(names, terms, user_map)
    efo = table["disease"].astype(str).map(dict(zip(mapping["disease"], mapping["efo"], strict=True)))
    report["disease_join"] = "user map, then exact normalised name, then synonym key, against EFO terms"
    report["n_catalogue_diseases"] = int(len(mapping))
    for how in ("user map", "exact", "synonym"):
        report[f"n_catalogue_diseases_matched_{how.replace(' ', '_')}"] = int((mapping["how"] == how).sum())
    report["n_catalogue_diseases_matched_by_name"] = int(mapping["efo"].notna().sum())
    if user_map is not None:
        report["n_disease_map_rows_unused"] = int(
            (
                ~user_map["name"].isin(set(mapping["disease"]))
                & ~user_map["key"].isin(set(mapping["disease_name"].map(disease_name_key)))
            ).sum()
        )
    report["catalogue_diseases_unmatched"] = sorted(
        mapping.loc[mapping["efo"].isna(), "disease_name"].tolist()
    )
    report["disease_mapping"] = mapping.fillna("").to_dict("records")
    out = table.assign(_efo=efo.to_numpy())
    out = out[out["_efo"].notna()].copy()
    out["disease"] = out.pop("_efo")
    out["disease_name"] = out["disease"].map(terms.set_index("disease")["disease_name"])
    return out


def _labels_table(
    labels, diseases_obs: pd.DataFrame, phase: int, report: dict, disease_map: str | Path | None = None
) -> pd.DataFrame:
    if isinstance(labels, str) and labels in _LABEL_SOURCES:
        if labels == "opentargets":
            table = opentargets_indications()
            report["catalogue_rows"] = len(table)
            table = table[table["phase"] == phase]
            report["rows_at_phase"] = len(table)
            report["disease_join"] = "EFO id"
            return table
        if labels == "repodb":
            table = repodb()
            report["catalogue_rows"] = len(table)
            table = table[table["status"] == "Approved"]
            report["rows_used"] = f"{len(table)} approved pairs"
        else:
            table = pharmacotherapydb() if labels == "pharmacotherapydb" else drugcentral_indications()
            report["catalogue_rows"] = len(table)
            table = table[table["status"] == "DM"]
            report["rows_used"] = f"{len(table)} disease-modifying (DM) pairs"
        return _join_diseases_by_name(table, diseases_obs, report, disease_map)
    path = Path(str(labels))
    if not path.is_file():
        raise InvalidParameterError(
            f"labels={labels!r} is neither a catalogue name nor an existing file",
            where="repurposing_benchmark",
            fix=f"use one of {', '.join(_LABEL_SOURCES)} or the path of a TSV with drug and disease columns",
        )
    table = read_indications(path, source="user")
    report["catalogue_rows"] = len(table)
    known = set(diseases_obs["disease"])
    by_id = table["disease"].isin(known)
    report["n_rows_disease_by_efo_id"] = int(by_id.sum())
    rest = table[~by_id]
    if len(rest):
        named = _join_diseases_by_name(rest, diseases_obs, report, disease_map)
        table = pd.concat([table[by_id], named], ignore_index=True)
    else:
        report["disease_join"] = "EFO id"
    return table


def join_summary(bench: Any) -> dict[str, Any]:
    """How a triangle's labels were joined to its signatures, for a run's report.

    Parameters
    ----------
    bench
        A triangle; its ``report`` (when it has one) is read.

    Returns
    -------
    dict
        The drug-name rule and the spellings it merged, the disease join and its counts, the
        catalogue diseases left unmatched (the per-disease mapping table is left out).
    """
    report = getattr(bench, "report", None) or {}
    keep = ("drug_join", "disease_join", "catalogue_diseases_unmatched", "n_disease_map_rows_unused")
    return {
        k: v
        for k, v in report.items()
        if k in keep or k.startswith(("n_salt_merged", "salt_merged", "n_catalogue_diseases"))
    }


def _salt_stripped(table: pd.DataFrame, drugs: ad.AnnData, report: dict) -> tuple[pd.DataFrame, ad.AnnData]:
    """Drug keys of the catalogue and of the signatures with salt and ester words removed.

    The report lists, for each side, the spellings that became one drug.
    """
    names = table["drug_name"].fillna(table["drug"]).astype(str)
    table = table.assign(drug=normalize_drug_name(names, strip_salts=True).to_numpy())
    table = table[table["drug"] != ""]
    source = drugs.obs["cmap_name"] if "cmap_name" in drugs.obs.columns else drugs.obs["drug"]
    drugs.obs["drug"] = normalize_drug_name(source.astype(str), strip_salts=True).to_numpy()
    report["drug_join"] = "normalised name with salt, hydrate and ester words removed"
    for side, merged in (("catalogue", salt_merges(names)), ("signatures", salt_merges(source))):
        report[f"n_salt_merged_{side}"] = int(len(merged))
        report[f"salt_merged_{side}"] = merged["names"].tolist()
    return table, drugs


def repurposing_benchmark(
    labels: str | Path = "opentargets", *, phase: int = 4, disease_map: str | Path | None = None
) -> RepurposingBenchmark:
    """Assemble disease signatures, drug signatures and known indications (see the module doc).

    Parameters
    ----------
    labels
        ``"opentargets"`` (default: Open Targets pairs at ``phase``, diseases by EFO id),
        ``"repodb"`` (approved repoDB pairs), ``"pharmacotherapydb"`` or ``"drugcentral"``
        (disease-modifying pairs), all joined to the comparisons by disease name (user map,
        exact normalised name, synonym key: module doc); or the path of a TSV with ``drug`` and
        ``disease`` columns (disease = EFO id, or a name matched like above).
    phase
        Clinical phase of the Open Targets pairs kept (4 = approved).
    disease_map
        Optional TSV (columns ``name``, ``disease``) mapping catalogue disease names or ids to
        EFO ids or terms of the signatures; it takes precedence over the name rules.

    Returns
    -------
    RepurposingBenchmark
        With the default labels: 643 comparisons (182 diseases), 6,100 instances (1,307 drugs),
        25,749 genes, and 1,606 indication pairs over 133 diseases and 250 drugs.

    Raises
    ------
    InputDataError
        When no indication joins both a drug and a disease signature.
    """
    deg = _key("opentargets/disease_degs_expression_atlas.tsv.gz")
    diseases, drugs, sets, info = _benchmark_core(deg, *_cmap02_files())
    report: dict = {"labels": str(labels), **info}
    table = _labels_table(labels, diseases.obs, phase, report, disease_map)
    table, drugs = _salt_stripped(table, drugs.copy(), report)
    candidates = sorted(set(drugs.obs["drug"]))
    has_drug = table["drug"].isin(set(candidates))
    has_disease = table["disease"].isin(set(diseases.obs["disease"]))
    report["n_rows_drug_without_signature"] = int((~has_drug).sum())
    report["n_rows_disease_without_signature"] = int((~has_disease).sum())
    report["drugs_without_signature"] = sorted(set(table.loc[~has_drug, "drug"]))
    report["diseases_without_signature"] = sorted(set(table.loc[~has_disease, "disease"]))
    joined = table[has_drug & has_disease]
    before = len(joined)
    joined = joined.drop_duplicates(["drug", "disease"], keep="first").reset_index(drop=True)
    report["n_duplicate_pairs_merged"] = int(before - len(joined))
    report["n_pairs"] = len(joined)
    report["n_diseases"] = int(joined["disease"].nunique())
    report["n_drugs"] = int(joined["drug"].nunique())
    if joined.empty:
        raise InputDataError(
            "no indication joins both a CMap 02 drug and an Open Targets disease comparison",
            where=f"repurposing_benchmark(labels={labels!r})",
            fix="check that drug names and disease ids / names match those of the signatures "
            "(see the report of exprlab.drugs.match_drug_names)",
        )
    joined.attrs = {}
    return RepurposingBenchmark(
        diseases=diseases.copy(),
        drugs=drugs,
        drug_sets={n: (list(u), list(d)) for n, (u, d) in sets.items()},
        indications=joined,
        candidates=candidates,
        report=copy.deepcopy(report),
        labels=str(labels),
    )
