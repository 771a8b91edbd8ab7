"""Named loaders for the public datasets, and the drug-disease repurposing benchmark.

Every loader reads its files in place from the public data directory (``EXPRLAB_DATA``; see
:func:`exprlab._config.data_dir`) and raises :class:`~exprlab.errors.DataNotFoundError` naming the
missing file when it is absent. :func:`list_datasets` lists them all with their documented shapes
and whether their files are present, without loading anything.

Parsed files are cached once per process (``functools.lru_cache``, keyed by the file path);
every loader returns a fresh copy, so changing what a loader returned never changes what the next
call returns.

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
* **labels**: phase-4 Open Targets indications whose drug (normalised name: lower-case,
  non-alphanumerics removed) has a CMap 02 instance and whose disease (EFO id) has a comparison:
  1,544 pairs, 132 diseases, 236 drugs.

Other label catalogues cannot be joined to the Open Targets diseases by identifier: repoDB uses
UMLS concept ids and PharmacotherapyDB Disease Ontology ids, while the comparisons carry EFO ids,
and the data directory holds no cross-reference between them. For ``labels="repodb"`` and
``labels="pharmacotherapydb"`` diseases are therefore joined by *exact normalised name*
(lower-case, non-alphanumerics removed) against the EFO terms; synonyms ("Diabetes Mellitus,
Non-Insulin-Dependent" vs "type II diabetes mellitus") do not match, and the report lists every
catalogue disease that found no comparison. The same holds for user tables whose disease column
holds names rather than EFO ids.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._config import data_dir, data_file
from exprlab.errors import DataNotFoundError, FormatError, InputDataError, InvalidParameterError


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class DatasetInfo:
    """One entry of :func:`list_datasets`."""

    name: str
    description: str
    shape: str
    files: tuple[str, ...]


#: Every dataset of the public data directory: loader name, what it is, the shape the loader
#: returns (checked against the loaders by the test suite) and its files.
DATASETS: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        "lincs_level3",
        "L1000 level 3, A375 kinase-inhibitor plate (AnnData samples x genes)",
        "377 x 978",
        ("lincs/l1000_level3_n377x978.gct",),
    ),
    DatasetInfo(
        "lincs_level4",
        "L1000 level 4 robust z-scores of the same plate (AnnData)",
        "377 x 978",
        ("lincs/l1000_level4_n377x978.gctx",),
    ),
    DatasetInfo(
        "lincs_level5_sample",
        "100 level-5 compound signatures, SKB cells, Entrez genes (AnnData)",
        "100 x 5000",
        ("lincs/lincs_level5_sample_100x5000.h5",),
    ),
    DatasetInfo(
        "lincs_gene_space_sub",
        "gene-space table of the level-5 sample (DataFrame)",
        "20864 x 2",
        ("lincs/lincs_gene_space_sub.txt",),
    ),
    DatasetInfo(
        "lincs_sample_gctx",
        "two level-5 signatures over the full L1000 space (AnnData)",
        "2 x 12328",
        ("lincs/sample_n2x12328.gctx",),
    ),
    DatasetInfo(
        "lincs_gene_info",
        "L1000 gene table: Entrez, symbol, Ensembl, feature space (DataFrame)",
        "12328 x 6",
        ("lincs/geneinfo_beta.txt.gz",),
    ),
    DatasetInfo(
        "lincs_test_gene_sets",
        "four query gene sets, Entrez ids (dict)",
        "4 sets",
        ("lincs/test_gene_sets_n4.gmt",),
    ),
    DatasetInfo(
        "lincs_example_gct('row_meta_only')",
        "GCT with row metadata only (AnnData)",
        "2 x 1203",
        ("lincs/row_meta_only_example_n2x1203.gct",),
    ),
    DatasetInfo(
        "lincs_example_gct('col_meta_only')",
        "GCT with column metadata only (AnnData)",
        "355 x 355",
        ("lincs/col_meta_only_example_n355x355.gct",),
    ),
    DatasetInfo(
        "lincs_example_gct('p100')", "P100 proteomics GCT (AnnData)", "96 x 96", ("lincs/p100_example.gct",)
    ),
    DatasetInfo(
        "cmap02",
        "CMap build 02 instances as +1/-1 top-100 gene sets, with metadata (AnnData, sparse)",
        "6100 x 12317",
        ("cmap02/CmapUp100.gmt.xz", "cmap02/CmapDn100.gmt.xz", "cmap02/cmap_instances_02.txt"),
    ),
    DatasetInfo(
        "opentargets_disease_signatures",
        "Expression Atlas disease comparisons, lfc (AnnData)",
        "643 x 23831",
        ("opentargets/disease_degs_expression_atlas.tsv.gz",),
    ),
    DatasetInfo(
        "opentargets_indications",
        "Open Targets drug-disease pairs with phase (tidy DataFrame)",
        "17917 x 9",
        ("opentargets/drug_disease_indications.tsv",),
    ),
    DatasetInfo(
        "creeds_melanoma",
        "7 CREEDS melanoma disease signatures (AnnData)",
        "7 x 2812",
        ("opentargets/creeds_melanoma_signature.tsv",),
    ),
    DatasetInfo(
        "repodb",
        "repoDB drug-indication pairs with status (tidy DataFrame)",
        "10540 x 9",
        ("indications/repodb.tsv",),
    ),
    DatasetInfo(
        "pharmacotherapydb",
        "PharmacotherapyDB indications DM/SYM/NOT (tidy DataFrame)",
        "1388 x 9",
        (
            "indications/pharmacotherapydb_indications.tsv",
            "indications/pharmacotherapydb_drugs.tsv",
            "indications/pharmacotherapydb_diseases.tsv",
        ),
    ),
    DatasetInfo(
        "drugcentral_indications",
        "DrugCentral indications (tidy DataFrame)",
        "671 x 9",
        ("indications/drugcentral_indications.tsv",),
    ),
    DatasetInfo(
        "drugcentral_targets",
        "DrugCentral drug -> target genes (DataFrame)",
        "2991 x 9",
        ("indications/drugcentral_targets.tsv",),
    ),
    DatasetInfo(
        "psoriasis_samples",
        "GSE13355 psoriasis vs control skin, 706 DE genes (AnnData)",
        "116 x 706",
        (
            "disease_samples/psoriasis_GSE13355_DEexprs_706x116.csv.gz",
            "disease_samples/psoriasis_GSE13355_labels_116.csv",
        ),
    ),
    DatasetInfo(
        "gtex_muscle_ageing",
        "GTEx muscle-ageing signature (AnnData)",
        "1 x 14686",
        ("disease_samples/gtex_muscle_ageing_signature.tsv",),
    ),
    DatasetInfo(
        "dgem_contrasts",
        "the two public disease contrasts of the drug-matching paper (AnnData)",
        "2 x 30370",
        ("dgem/contrast-a.csv.gz", "dgem/contrast-b.csv.gz"),
    ),
    DatasetInfo(
        "dgem_gene_map",
        "GeneIndex -> gene name aliases (DataFrame)",
        "78464 x 2",
        ("dgem/genes_map_omicsoft_diseases.tsv.gz",),
    ),
    DatasetInfo(
        "dgem_drug_feature_ids",
        "Entrez ids ordering the paper's drug vectors (ndarray)",
        "12328",
        ("dgem/drug_features_ids_l1000.npy",),
    ),
    DatasetInfo(
        "all_chiaretti",
        "ALL (Chiaretti 2004), RMA log2, HG-U95Av2 probes, phenotypes (AnnData)",
        "128 x 12625",
        (
            "expression/ALL_Chiaretti_hgu95av2_exprs_12625x128.csv.gz",
            "expression/ALL_Chiaretti_pheno_128.csv",
        ),
    ),
    DatasetInfo(
        "golub_leukemia",
        "Golub-style leukaemia ALL vs AML (AnnData)",
        "48 x 12564",
        ("expression/Leukemia_hgu95av2.gct.gz", "expression/Leukemia.cls"),
    ),
    DatasetInfo(
        "tcga_breast('train', 'mrna')",
        "TCGA breast, mRNA, train (AnnData, obs subtype)",
        "150 x 200",
        ("expression/breastTCGA_data.train_mrna.csv.gz", "expression/breastTCGA_data.train_subtype.csv"),
    ),
    DatasetInfo(
        "tcga_breast('test', 'mrna')",
        "TCGA breast, mRNA, test (AnnData, obs subtype)",
        "70 x 200",
        ("expression/breastTCGA_data.test_mrna.csv.gz", "expression/breastTCGA_data.test_subtype.csv"),
    ),
    DatasetInfo(
        "tcga_breast('train', 'mirna')",
        "TCGA breast, miRNA, train (AnnData)",
        "150 x 184",
        ("expression/breastTCGA_data.train_mirna.csv.gz", "expression/breastTCGA_data.train_subtype.csv"),
    ),
    DatasetInfo(
        "tcga_breast('test', 'mirna')",
        "TCGA breast, miRNA, test (AnnData)",
        "70 x 184",
        ("expression/breastTCGA_data.test_mirna.csv.gz", "expression/breastTCGA_data.test_subtype.csv"),
    ),
    DatasetInfo(
        "tcga_breast('train', 'protein')",
        "TCGA breast, protein, train only (AnnData)",
        "150 x 142",
        ("expression/breastTCGA_data.train_protein.csv.gz", "expression/breastTCGA_data.train_subtype.csv"),
    ),
    DatasetInfo(
        "srbct",
        "small round blue cell tumours (Khan 2001), 4 classes (AnnData)",
        "63 x 2308",
        (
            "expression/srbct_Khan_gene_63x2308.csv.gz",
            "expression/srbct_Khan_class.csv",
            "expression/srbct_Khan_gene_names.csv",
        ),
    ),
    DatasetInfo(
        "genesets('hallmark')", "MSigDB Hallmark (dict)", "50 sets", ("genesets/h.all.v7.0.symbols.gmt",)
    ),
    DatasetInfo(
        "genesets('kegg')", "KEGG pathways (dict)", "186 sets", ("genesets/c2.cp.kegg.v7.5.1.symbols.gmt",)
    ),
    DatasetInfo(
        "genesets('reactome')",
        "Reactome pathways (dict)",
        "674 sets",
        ("genesets/c2.cp.reactome.v5.0.symbols.gmt.xz",),
    ),
    DatasetInfo(
        "genesets('go_bp')",
        "GO Biological Process 2021, Enrichr (dict)",
        "6036 sets",
        ("genesets/enrichr.GO_Biological_Process_2021.gmt",),
    ),
    DatasetInfo(
        "genesets('btm')",
        "blood transcription modules (dict)",
        "346 sets",
        ("genesets/qusage_BTM_blood_transcription_modules_346.gmt",),
    ),
    DatasetInfo(
        "repurposing_benchmark",
        "Open Targets diseases x CMap 02 drugs x phase-4 indications",
        "643 diseases x 6100 drugs, 1544 pairs",
        (
            "opentargets/disease_degs_expression_atlas.tsv.gz",
            "opentargets/drug_disease_indications.tsv",
            "cmap02/CmapUp100.gmt.xz",
            "cmap02/CmapDn100.gmt.xz",
            "cmap02/cmap_instances_02.txt",
        ),
    ),
)

GENESET_FILES = {
    "hallmark": "genesets/h.all.v7.0.symbols.gmt",
    "kegg": "genesets/c2.cp.kegg.v7.5.1.symbols.gmt",
    "reactome": "genesets/c2.cp.reactome.v5.0.symbols.gmt.xz",
    "go_bp": "genesets/enrichr.GO_Biological_Process_2021.gmt",
    "btm": "genesets/qusage_BTM_blood_transcription_modules_346.gmt",
}


def list_datasets() -> pd.DataFrame:
    """Every named dataset with its description, documented shape and presence.

    Cheap: only checks that the files exist, loads nothing.

    Returns
    -------
    pandas.DataFrame
        Columns ``name`` (the loader call), ``description``, ``shape`` (what the loader returns:
        ``n_obs x n_vars`` for AnnData, rows x columns for tables, number of sets for gene-set
        dicts), ``present`` (bool: all its files exist), ``files``.
    """
    root = data_dir(required=False)
    rows = []
    for info in DATASETS:
        present = root is not None and all((root / f).is_file() for f in info.files)
        rows.append((info.name, info.description, info.shape, present, ", ".join(info.files)))
    return pd.DataFrame(rows, columns=["name", "description", "shape", "present", "files"])


def _key(relative: str) -> str:
    return str(data_file(relative))


# --------------------------------------------------------------------------- LINCS
def lincs_level3():
    """L1000 level 3 (normalised expression), A375 cells, 24 h, 59 kinase inhibitors x 6 doses
    plus 26 DMSO controls.

    Returns AnnData 377 samples x 978 landmark genes, with the GCT's 35 column-metadata fields in
    obs (``pert_iname``, ``pert_dose`` ...) and 11 row-metadata fields in var.
    """
    from exprlab.io import read_gct

    return read_gct(data_file("lincs/l1000_level3_n377x978.gct"))


def lincs_level4():
    """The same plate as :func:`lincs_level3` as level-4 robust z-scores (GCTX).

    Returns AnnData 377 samples x 978 genes with the GCTX row and column metadata.
    """
    from exprlab.io import read_gctx

    return read_gctx(data_file("lincs/l1000_level4_n377x978.gctx"))


def lincs_level5_sample():
    """100 real level-5 compound signatures (moderated z-scores), cell line SKB.

    Returns AnnData 100 x 5,000: obs_names like ``vorinostat__SKB__trt_cp``, var_names Entrez
    ids. Contains the HDAC inhibitors vorinostat, trichostatin-a, pyroxamide and HC-toxin.
    """
    from exprlab.io import read_signaturesearch_h5

    return read_signaturesearch_h5(data_file("lincs/lincs_level5_sample_100x5000.h5"))


def lincs_gene_space_sub() -> pd.DataFrame:
    """Gene-space table that accompanies the level-5 sample.

    Returns DataFrame 20,864 x 2: ``entrez`` (str) and ``type`` (landmark, best inferred,
    inferred, not inferred).
    """
    from exprlab.io._tables import read_delimited

    df = read_delimited(data_file("lincs/lincs_gene_space_sub.txt"), dtype=str)
    return pd.DataFrame({"entrez": df.iloc[:, 0].to_numpy(), "type": df.iloc[:, 1].to_numpy()})


def lincs_sample_gctx():
    """Two level-5 signatures over the full L1000 gene space.

    Returns AnnData 2 x 12,328 (var_names Entrez ids).
    """
    from exprlab.io import read_gctx

    return read_gctx(data_file("lincs/sample_n2x12328.gctx"))


def lincs_gene_info() -> pd.DataFrame:
    """The L1000 gene table (:func:`exprlab.genes.load_gene_table`).

    Returns DataFrame 12,328 x 6: ``entrez``, ``symbol`` (upper-case), ``ensembl``,
    ``gene_title``, ``gene_type``, ``feature_space`` (978 landmark, 9,196 best inferred, 2,154
    inferred).
    """
    from exprlab.genes import load_gene_table

    return load_gene_table(data_file("lincs/geneinfo_beta.txt.gz"))


def lincs_test_gene_sets() -> dict[str, list[str]]:
    """Four query gene sets (Entrez ids as strings), set name -> genes in file order."""
    from exprlab.io import read_gmt

    return read_gmt(data_file("lincs/test_gene_sets_n4.gmt"))


_EXAMPLE_GCT = {
    "row_meta_only": "lincs/row_meta_only_example_n2x1203.gct",
    "col_meta_only": "lincs/col_meta_only_example_n355x355.gct",
    "p100": "lincs/p100_example.gct",
}


def lincs_example_gct(name: str):
    """One of the cmapPy GCT files with unusual metadata layouts.

    ``name``: ``"row_meta_only"`` (AnnData 2 x 1,203, row metadata only), ``"col_meta_only"``
    (355 x 355, column metadata only) or ``"p100"`` (96 x 96 proteomics).
    """
    from exprlab.io import read_gct

    if name not in _EXAMPLE_GCT:
        raise InvalidParameterError(
            f"no example GCT named {name!r}",
            where="lincs_example_gct",
            fix=f"use one of {', '.join(_EXAMPLE_GCT)}",
        )
    return read_gct(data_file(_EXAMPLE_GCT[name]))


# --------------------------------------------------------------------------- CMap 02
_CMAP_NAME = re.compile(r"^(?P<name>.+)@(?P<cell>[^@#]+)#(?P<conc>[^#]+)M_(?P<id>\d+)$")


@lru_cache(maxsize=2)
def _cmap02_parsed(up_path: str, down_path: str, inst_path: str):
    """(obs DataFrame indexed by set name, {name: (up, down)}); parsed once per process."""
    from exprlab.drugs import normalize_drug_name
    from exprlab.io import read_gmt
    from exprlab.io._tables import read_delimited

    up = read_gmt(up_path)
    down = read_gmt(down_path)
    if list(up) != list(down):
        missing = sorted(set(up) ^ set(down))[:3]
        raise FormatError(
            f"the up and down GMT files name different instances (e.g. {missing})",
            where=down_path,
            fix="use the CmapUp100/CmapDn100 pair of one release",
        )
    names = list(up)
    parts = pd.Series(names, dtype=object).str.extract(_CMAP_NAME)
    if parts["id"].isna().any():
        bad = names[int(np.flatnonzero(parts["id"].isna().to_numpy())[0])]
        raise FormatError(
            f"set name {bad!r} is not of the form drug@CELL#<conc>M_<instance id>",
            where=up_path,
            fix="use the CMap 02 GMT files",
        )
    inst = read_delimited(
        inst_path, dtype={"cmap_name": str, "cell2": str, "vehicle": str, "array3": str, "batch_id": str}
    )
    inst = inst.set_index("instance_id", drop=False)
    ids = parts["id"].astype(int).to_numpy()
    missing_ids = ~np.isin(ids, inst.index.to_numpy())
    if missing_ids.any():
        raise FormatError(
            f"instance {ids[missing_ids][0]} of the GMT files is not in the instance table",
            where=inst_path,
            fix="use the instance table of CMap build 02",
        )
    meta = inst.loc[ids]
    conc = parts["conc"].astype(float).to_numpy()
    mismatch = (
        (meta["cmap_name"].to_numpy() != parts["name"].to_numpy())
        | (meta["cell2"].to_numpy() != parts["cell"].to_numpy())
        | ~np.isclose(meta["concentration (M)"].to_numpy(dtype=float), conc, rtol=1e-6, atol=0)
    )
    if mismatch.any():
        bad = names[int(np.flatnonzero(mismatch)[0])]
        raise FormatError(
            f"set {bad!r} disagrees with its instance-table row (drug, cell or dose)",
            where=inst_path,
            fix="use the GMT files and instance table of one release",
        )
    obs = pd.DataFrame(
        {
            "drug": normalize_drug_name(meta["cmap_name"].reset_index(drop=True)).to_numpy(),
            "cmap_name": meta["cmap_name"].to_numpy(),
            "cell_line": meta["cell2"].to_numpy(),
            "dose": meta["concentration (M)"].to_numpy(dtype=float),
            "time": meta["duration (h)"].to_numpy(dtype=float),
            "instance_id": ids,
            "batch_id": meta["batch_id"].to_numpy(),
            "array": meta["array3"].to_numpy(),
            "vehicle": meta["vehicle"].to_numpy(),
        },
        index=pd.Index(names, dtype=str),
    )

    def upper(genes):  # one join/split instead of a call per gene (1.2 million genes)
        return "\t".join(genes).upper().split("\t") if genes else []

    sets = {n: (upper(up[n]), upper(down[n])) for n in names}
    # Compact coordinates of the +1/-1 cells over CMap's own sorted gene list, so that the sparse
    # matrix over any gene space is one integer remap away.
    up_len = np.array([len(sets[n][0]) for n in names])
    dn_len = np.array([len(sets[n][1]) for n in names])
    flat = np.array(
        [g for n in names for g in sets[n][0]] + [g for n in names for g in sets[n][1]], dtype=object
    )
    codes, genes = pd.factorize(flat, sort=True)
    rows = np.concatenate(
        [np.repeat(np.arange(len(names)), up_len), np.repeat(np.arange(len(names)), dn_len)]
    ).astype(np.int32)
    vals = np.concatenate([np.ones(up_len.sum(), np.float32), -np.ones(dn_len.sum(), np.float32)])
    cells = (rows, codes.astype(np.int32), vals, pd.Index(genes, dtype=object))
    return obs, sets, cells


def _cmap02_files():
    return (
        _key("cmap02/CmapUp100.gmt.xz"),
        _key("cmap02/CmapDn100.gmt.xz"),
        _key("cmap02/cmap_instances_02.txt"),
    )


def _sets_matrix(cells, n_rows: int, genes: pd.Index):
    """CSR float32 (instances x genes): +1 up genes, -1 down genes; genes outside ignored."""
    import scipy.sparse as sp

    rows, codes, vals, cmap_genes = cells
    cols = genes.get_indexer(cmap_genes)[codes]
    keep = cols >= 0
    m = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n_rows, len(genes)))
    m.sum_duplicates()
    return m


def cmap02(*, as_sets: bool = False):
    """CMap build 02: 6,100 treatment instances of 1,309 compounds (1,307 normalised names).

    Parameters
    ----------
    as_sets
        Return ``{instance name: (up genes, down genes)}`` (100 upper-case symbols each, in the
        file's order) instead of the AnnData.

    Returns
    -------
    anndata.AnnData
        6,100 x 12,317 (the symbols of the two GMT files, sorted). X is a SciPy CSR float32
        matrix: +1 for the instance's 100 up genes, -1 for its 100 down genes, 0 elsewhere.
        obs_names the GMT set names (``metformin@MCF7#1e-05M_1``); obs columns ``drug``
        (normalised name), ``cmap_name``, ``cell_line``, ``dose`` (M), ``time`` (h),
        ``instance_id``, ``batch_id``, ``array``, ``vehicle``.
    """
    import anndata as ad

    obs, sets, cells = _cmap02_parsed(*_cmap02_files())
    if as_sets:
        return {n: (list(u), list(d)) for n, (u, d) in sets.items()}
    genes = cells[3]
    X = _sets_matrix(cells, len(obs), genes)
    return ad.AnnData(X=X, obs=obs.copy(), var=pd.DataFrame(index=genes.astype(str)))


# --------------------------------------------------------------------------- Open Targets
@lru_cache(maxsize=2)
def _deg_cached(path: str, fill: float):
    from exprlab.io._tables import read_deg_table

    return read_deg_table(path, fill=fill)


def opentargets_disease_signatures(*, fill: float = 0.0):
    """Expression Atlas disease comparisons (Open Targets DEG table) as signatures.

    Returns AnnData 643 comparisons x 23,831 upper-case symbols (182 diseases): X log fold
    change, unlisted genes ``fill``; ``layers["pval"]``, ``layers["listed"]``; obs ``disease``
    (EFO id), ``disease_name``, ``comparison``, ``n_listed``; var ``ensembl``. See
    :func:`exprlab.io._tables.read_deg_table`.
    """
    return _deg_cached(_key("opentargets/disease_degs_expression_atlas.tsv.gz"), float(fill)).copy()


@lru_cache(maxsize=8)
def _indications_cached(path: str, source: str, incomplete: str) -> pd.DataFrame:
    from exprlab.io._tables import read_indications

    return read_indications(path, source=source, incomplete=incomplete)


def _indications(relative: str, source: str, incomplete: str = "error") -> pd.DataFrame:
    df = _indications_cached(_key(relative), source, incomplete)
    out = df.copy()
    out.attrs = dict(df.attrs)
    return out


def opentargets_indications() -> pd.DataFrame:
    """Open Targets drug -> disease pairs (ChEMBL drugs, EFO diseases, clinical phase).

    Returns the tidy indication table (:data:`exprlab.io._tables.INDICATION_COLUMNS`), 17,917
    rows: 2,117 ChEMBL drugs, 1,123 diseases, 14,860 pairs at phase 4.
    """
    return _indications("opentargets/drug_disease_indications.tsv", "opentargets")


def creeds_melanoma():
    """The CREEDS melanoma disease signatures.

    The file stacks 7 CREEDS signatures of melanoma (each restarts the row index at 0 and lists
    its down- then its up-regulated genes with a signed value). Returns AnnData 7 x 2,812
    (union of their upper-case symbols; obs ``melanoma_1`` ... ``melanoma_7``, obs ``disease``
    "Melanoma"), X the signed CREEDS values with unlisted genes 0, ``layers["listed"]`` (bool)
    and an all-NaN ``layers["pval"]`` (CREEDS gives no p-values); built with
    :func:`exprlab.io._tables.deg_table_to_anndata`.
    """
    from exprlab.io._tables import deg_table_to_anndata, read_delimited, require_columns

    path = data_file("opentargets/creeds_melanoma_signature.tsv")
    df = read_delimited(path, dtype={"0": str, "1": str, "2": str})
    require_columns(df, ["0", "2", "3"], path, "the CREEDS table")
    row_index = pd.to_numeric(df.iloc[:, 0], errors="coerce").to_numpy()
    block = np.cumsum(np.r_[True, row_index[1:] <= row_index[:-1]])
    long = pd.DataFrame(
        {
            "efo.id": df["0"].to_numpy(),
            "gene.symbol": df["2"].to_numpy(),
            "comparison": [f"melanoma_{b}" for b in block],
            "lfc": df["3"].to_numpy(),
        }
    )
    adata = deg_table_to_anndata(long, where=str(path))
    adata.obs_names = adata.obs["comparison"].astype(str).to_numpy()
    return adata


def repodb() -> pd.DataFrame:
    """RepoDB drug-indication pairs (DrugBank drugs, UMLS diseases, status).

    Returns the tidy indication table, 10,540 rows: the file's 10,800 minus 260 rows that carry
    a DrugBank id but no drug name (dropped; ``df.attrs["n_incomplete_rows_dropped"]``).
    ``status`` is Approved / Terminated / Withdrawn / Suspended; approved pairs get phase 4.
    """
    return _indications("indications/repodb.tsv", "repodb", incomplete="drop")


def pharmacotherapydb(table: str = "indications") -> pd.DataFrame:
    """PharmacotherapyDB (Himmelstein et al.): curated indications of 601 drugs for 97 diseases.

    ``table="indications"`` (default): the tidy indication table, 1,388 rows, ``status`` the
    category DM (disease-modifying, 755), SYM (symptomatic, 390) or NOT (non-indication, 243).
    ``"drugs"`` (601 rows: drugbank_id, drug, DM, SYM, NOT, total) and ``"diseases"`` (97 rows:
    doid_id, disease, DM, SYM, NOT, total) return the accompanying summary tables as in the file.
    """
    from exprlab.io._tables import read_delimited

    if table == "indications":
        return _indications("indications/pharmacotherapydb_indications.tsv", "pharmacotherapydb")
    if table in ("drugs", "diseases"):
        return read_delimited(data_file(f"indications/pharmacotherapydb_{table}.tsv"))
    raise InvalidParameterError(
        f"table={table!r}", where="pharmacotherapydb", fix="use 'indications', 'drugs' or 'diseases'"
    )


def drugcentral_indications() -> pd.DataFrame:
    """DrugCentral indications (DrugBank drugs, Disease Ontology ids).

    Returns the tidy indication table, 671 rows; ``status`` the category DM / SYM / NOT.
    """
    return _indications("indications/drugcentral_indications.tsv", "drugcentral")


def drugcentral_targets() -> pd.DataFrame:
    """DrugCentral drug -> target gene table.

    Returns DataFrame 2,991 x 9: ``drug`` (normalised name), ``drug_name``, ``drug_id``
    (DrugBank), ``entrez`` (str), ``symbol`` (from the L1000 gene table; NaN when the gene is not
    in it), ``actions``, ``sources``, ``pubmed_ids``, ``urls``.
    """
    from exprlab.drugs import normalize_drug_name
    from exprlab.genes import map_genes
    from exprlab.io._tables import read_delimited, require_columns

    path = data_file("indications/drugcentral_targets.tsv")
    df = read_delimited(path, dtype=str)
    require_columns(df, ["GeneID", "drugbank_id", "drugbank_name"], path, "the target table")
    entrez = df["GeneID"].str.strip()
    return pd.DataFrame(
        {
            "drug": normalize_drug_name(df["drugbank_name"]).to_numpy(),
            "drug_name": df["drugbank_name"].to_numpy(),
            "drug_id": df["drugbank_id"].to_numpy(),
            "entrez": entrez.to_numpy(),
            "symbol": map_genes(entrez, "entrez", "symbol", table=lincs_gene_info()).to_numpy(),
            "actions": df.get("actions"),
            "sources": df.get("sources"),
            "pubmed_ids": df.get("pubmed_ids"),
            "urls": df.get("urls"),
        }
    )


# --------------------------------------------------------------------------- disease samples, dgem
@lru_cache(maxsize=8)
def _expression_csv_cached(path: str, genes_as: str):
    from exprlab.io._tables import read_expression_csv

    return read_expression_csv(path, genes_as=genes_as)


def _with_labels(adata, labels: pd.Series, column: str, where) -> object:
    missing = adata.obs_names.difference(labels.index)
    if len(missing):
        raise FormatError(
            f"sample {missing[0]!r} has no label ({len(missing)} such samples)",
            where=where,
            fix="give every sample of the matrix a label",
        )
    adata.obs[column] = pd.Categorical(labels.reindex(adata.obs_names).to_numpy())
    return adata


def psoriasis_samples():
    """Psoriasis lesional vs control skin (GEO GSE13355), the 706 differentially expressed genes.

    Returns AnnData 116 samples x 706 genes (log expression, float32), obs ``label``
    (categorical: ``Psoriasis`` 58, ``ct`` 58).
    """
    from exprlab.io._tables import read_label_csv

    adata = _expression_csv_cached(
        _key("disease_samples/psoriasis_GSE13355_DEexprs_706x116.csv.gz"), "rows"
    ).copy()
    lab_path = data_file("disease_samples/psoriasis_GSE13355_labels_116.csv")
    return _with_labels(adata, read_label_csv(lab_path), "label", lab_path)


def gtex_muscle_ageing():
    """A GTEx muscle-ageing signature. Returns AnnData 1 x 14,686 genes (upper-case symbols)."""
    from exprlab.io._tables import read_gene_values

    return read_gene_values(
        data_file("disease_samples/gtex_muscle_ageing_signature.tsv"),
        sep=",",
        gene_column="0",
        value_column="1",
        name="gtex_muscle_ageing",
    )


def dgem_contrasts(*, padj_threshold: float | None = None):
    """The two public disease contrasts of the drug-matching paper (``contrast-a``, ``contrast-b``).

    Returns AnnData 2 x 30,370 (the union of the two files' upper-case gene names): X log2 fold
    change (1,354 and 1,297 non-zero after merging names listed twice), ``layers["pval"]`` the
    adjusted p-values; a gene absent from one file is 0 with adjusted p-value 1 there.
    ``padj_threshold`` applies the paper's rule (see
    :func:`exprlab.io._tables.read_dgem_contrast`).
    """
    import anndata as ad

    from exprlab.io._tables import read_dgem_contrast

    parts = [
        read_dgem_contrast(data_file(f"dgem/contrast-{x}.csv.gz"), padj_threshold=padj_threshold)
        for x in ("a", "b")
    ]
    genes = parts[0].var_names.union(parts[1].var_names, sort=False)
    X = np.zeros((2, len(genes)), np.float32)
    P = np.ones((2, len(genes)), np.float32)
    for i, p in enumerate(parts):
        idx = genes.get_indexer(p.var_names)
        X[i, idx] = p.X[0]
        P[i, idx] = p.layers["pval"][0]
    obs = pd.concat([p.obs for p in parts])
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes.astype(str)), layers={"pval": P})


def dgem_gene_map() -> pd.DataFrame:
    """GeneIndex -> gene-name aliases of the paper's disease data: DataFrame 78,464 x 2
    (``GeneIndex`` int, ``Name`` lower-case alias), 30,373 distinct indices.
    """
    from exprlab.io._tables import read_delimited

    df = read_delimited(
        data_file("dgem/genes_map_omicsoft_diseases.tsv.gz"), index_col=0, dtype={"Name": str}
    )
    return df.reset_index(drop=True)[["GeneIndex", "Name"]]


def dgem_drug_feature_ids() -> np.ndarray:
    """The 12,328 Entrez ids (int64) that order the paper's drug feature vectors."""
    return np.load(data_file("dgem/drug_features_ids_l1000.npy"), allow_pickle=False)


# --------------------------------------------------------------------------- expression sets
def all_chiaretti():
    """Acute lymphoblastic leukaemia (Chiaretti 2004), RMA log2, Affymetrix HG-U95Av2.

    Returns AnnData 128 samples x 12,625 probe ids (float32); obs the 21 phenotype columns of
    the pheno table (``BT`` B/T lineage, ``mol.biol`` BCR/ABL, NEG ..., ``sex``, ``age``,
    ``relapse`` ...).
    """
    from exprlab.io._tables import read_delimited

    adata = _expression_csv_cached(
        _key("expression/ALL_Chiaretti_hgu95av2_exprs_12625x128.csv.gz"), "rows"
    ).copy()
    pheno_path = data_file("expression/ALL_Chiaretti_pheno_128.csv")
    pheno = read_delimited(pheno_path, sep=",", index_col=0)
    pheno.index = pheno.index.astype(str)
    missing = adata.obs_names.difference(pheno.index)
    if len(missing):
        raise FormatError(
            f"sample {missing[0]!r} has no phenotype row",
            where=pheno_path,
            fix="use the matching pheno table",
        )
    adata.obs = pheno.reindex(adata.obs_names)
    return adata


def golub_leukemia():
    """Golub-style leukaemia, ALL vs AML (GCT 1.2 + CLS).

    Returns AnnData 48 samples x 12,564 probes, obs ``label`` (categorical ALL 24 / AML 24) plus
    the GCT's description in var.
    """
    from exprlab.io import read_cls, read_gct

    adata = read_gct(data_file("expression/Leukemia_hgu95av2.gct.gz"))
    cls_path = data_file("expression/Leukemia.cls")
    labels = read_cls(cls_path)
    if len(labels) != adata.n_obs:
        raise FormatError(
            f"the CLS file has {len(labels)} labels for {adata.n_obs} samples",
            where=cls_path,
            fix="use the CLS file of this GCT",
        )
    adata.obs["label"] = pd.Categorical(np.asarray(labels))
    return adata


_TCGA_OMICS = ("mrna", "mirna", "protein")


def tcga_breast(split: str = "train", omics: str = "mrna"):
    """TCGA breast cancer, PAM50-like subtypes (mixOmics data).

    Parameters
    ----------
    split
        ``"train"`` (150 samples: Basal 45, Her2 30, LumA 75) or ``"test"`` (70).
    omics
        ``"mrna"`` (200 genes), ``"mirna"`` (184) or ``"protein"`` (142; train only).

    Returns AnnData samples x features (float32), obs ``subtype`` (categorical).
    """
    from exprlab.io._tables import read_label_csv

    if split not in ("train", "test"):
        raise InvalidParameterError(f"split={split!r}", where="tcga_breast", fix="use 'train' or 'test'")
    if omics not in _TCGA_OMICS:
        raise InvalidParameterError(
            f"omics={omics!r}", where="tcga_breast", fix=f"use one of {', '.join(_TCGA_OMICS)}"
        )
    if omics == "protein" and split == "test":
        raise InvalidParameterError(
            "the protein data has no test split", where="tcga_breast", fix="use split='train' for protein"
        )
    adata = _expression_csv_cached(
        _key(f"expression/breastTCGA_data.{split}_{omics}.csv.gz"), "columns"
    ).copy()
    lab_path = data_file(f"expression/breastTCGA_data.{split}_subtype.csv")
    return _with_labels(adata, read_label_csv(lab_path), "subtype", lab_path)


def srbct():
    """Small round blue cell tumours (Khan 2001).

    Returns AnnData 63 samples x 2,308 genes (var_names ``g1`` ... ``g2308``; var ``image_id``
    and ``description`` from the gene-name table), obs ``label`` (EWS 23, BL 8, NB 12, RMS 20).
    """
    from exprlab.io._tables import read_delimited, read_label_csv

    adata = _expression_csv_cached(_key("expression/srbct_Khan_gene_63x2308.csv.gz"), "columns").copy()
    names_path = data_file("expression/srbct_Khan_gene_names.csv")
    names = read_delimited(names_path, sep=",", dtype=str)
    if len(names) != adata.n_vars:
        raise FormatError(
            f"{len(names)} gene names for {adata.n_vars} genes",
            where=names_path,
            fix="use the gene-name table of this matrix",
        )
    adata.var["image_id"] = names.iloc[:, 0].to_numpy()
    adata.var["description"] = names.iloc[:, 1].to_numpy()
    lab_path = data_file("expression/srbct_Khan_class.csv")
    return _with_labels(adata, read_label_csv(lab_path), "label", lab_path)


@lru_cache(maxsize=8)
def _gmt_cached(path: str):
    from exprlab.io import read_gmt

    return read_gmt(path)


def genesets(name: str) -> dict[str, list[str]]:
    """A pathway / gene-set collection as ``{set name: [gene symbols]}`` (file order).

    ``name``: ``"hallmark"`` (MSigDB Hallmark, 50 sets), ``"kegg"`` (186), ``"reactome"`` (674),
    ``"go_bp"`` (Enrichr GO Biological Process 2021, 6,036), ``"btm"`` (blood transcription
    modules, 346).
    """
    if name not in GENESET_FILES:
        raise InvalidParameterError(
            f"no gene-set collection named {name!r}",
            where="genesets",
            fix=f"use one of {', '.join(GENESET_FILES)}",
        )
    sets = _gmt_cached(_key(GENESET_FILES[name]))
    return {k: list(v) for k, v in sets.items()}


# --------------------------------------------------------------------------- benchmark
@dataclass
class RepurposingBenchmark:
    """The drug-disease triangle returned by :func:`repurposing_benchmark`.

    Attributes
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

    diseases: object
    drugs: object
    drug_sets: dict
    indications: pd.DataFrame
    candidates: list
    report: dict = field(default_factory=dict)
    labels: str = "opentargets"

    @property
    def genes(self) -> pd.Index:
        """The shared gene space (upper-case symbols)."""
        return self.diseases.var_names

    def drugs_per_drug(self):
        """Per-drug aggregation of :attr:`drugs`: one obs per normalised drug name.

        X (SciPy CSR float32) is the mean of the drug's instance vectors, so a gene is +1 when it
        is among the top-100 up genes of every instance of the drug, -1 when among the down genes
        of every instance, and in between otherwise. obs: ``drug``, ``n_instances``,
        ``cell_lines`` (the instances' cell lines, sorted, joined by ``|``). Rows are sorted by
        drug name (the order of :attr:`candidates`).
        """
        return aggregate_instances(self.drugs)


def _reindex_genes(adata, genes: pd.Index):
    """Put a DEG AnnData on a larger gene space: new genes unlisted (lfc 0, p 1, listed False)."""
    import anndata as ad

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


def aggregate_instances(drugs, *, by: str = "drug"):
    """Average instance signatures per value of ``drugs.obs[by]`` (sparse-aware).

    Returns AnnData n_groups x genes, rows sorted by group, X the mean of each group's rows
    (CSR float32 when ``drugs.X`` is sparse), obs ``by``, ``n_instances``, ``cell_lines``
    (when ``cell_line`` is an obs column).
    """
    import anndata as ad
    import scipy.sparse as sp

    if by not in drugs.obs.columns:
        raise InvalidParameterError(
            f"obs has no column {by!r}",
            where="aggregate_instances",
            fix="name an obs column that holds the drug of each instance",
        )
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
    import anndata as ad

    obs, sets, cells = _cmap02_parsed(up_path, down_path, inst_path)
    cmap_genes = set(cells[3])
    deg = _deg_cached(deg_path, 0.0)
    deg_genes = set(deg.var_names)
    genes = pd.Index(sorted(cmap_genes | deg_genes))
    diseases = _reindex_genes(deg, genes)
    drugs = ad.AnnData(
        X=_sets_matrix(cells, len(obs), genes), obs=obs.copy(), var=pd.DataFrame(index=genes.astype(str))
    )
    info = {
        "n_genes": len(genes),
        "n_genes_deg": len(deg_genes),
        "n_genes_cmap": len(cmap_genes),
        "n_genes_shared": len(deg_genes & cmap_genes),
    }
    return diseases, drugs, sets, info


_LABEL_SOURCES = ("opentargets", "repodb", "pharmacotherapydb")


def _name_key(names: pd.Series) -> pd.Series:
    from exprlab.drugs import normalize_drug_name

    return normalize_drug_name(names.astype(str))


def _join_diseases_by_name(table: pd.DataFrame, diseases_obs: pd.DataFrame, report: dict) -> pd.DataFrame:
    """Replace catalogue disease ids by EFO ids where the normalised names agree exactly."""
    terms = diseases_obs.drop_duplicates("disease")[["disease", "disease_name"]]
    term_key = _name_key(terms["disease_name"])
    key_to_efo = pd.Series(terms["disease"].to_numpy(), index=term_key.to_numpy())
    key_to_efo = key_to_efo[~key_to_efo.index.duplicated(keep="first")]
    keys = _name_key(table["disease_name"].fillna(table["disease"]))
    efo = keys.map(key_to_efo)
    cat = table.assign(_efo=efo.to_numpy())
    names = cat.drop_duplicates("disease")
    matched = names[names["_efo"].notna()]
    report["disease_join"] = "exact normalised name against EFO terms"
    report["n_catalogue_diseases"] = int(len(names))
    report["n_catalogue_diseases_matched_by_name"] = int(len(matched))
    report["catalogue_diseases_unmatched"] = sorted(
        names.loc[names["_efo"].isna(), "disease_name"].fillna("").astype(str).tolist()
    )
    out = cat[cat["_efo"].notna()].copy()
    out["disease"] = out.pop("_efo")
    out["disease_name"] = out["disease"].map(terms.set_index("disease")["disease_name"])
    return out


def _labels_table(labels, diseases_obs: pd.DataFrame, phase: int, report: dict) -> pd.DataFrame:
    from exprlab.io._tables import read_indications

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
            table = pharmacotherapydb()
            report["catalogue_rows"] = len(table)
            table = table[table["status"] == "DM"]
            report["rows_used"] = f"{len(table)} disease-modifying (DM) pairs"
        return _join_diseases_by_name(table, diseases_obs, report)
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
        named = _join_diseases_by_name(rest, diseases_obs, report)
        table = pd.concat([table[by_id], named], ignore_index=True)
    else:
        report["disease_join"] = "EFO id"
    return table


def repurposing_benchmark(labels: str | Path = "opentargets", *, phase: int = 4) -> RepurposingBenchmark:
    """Assemble disease signatures, drug signatures and known indications (see the module doc).

    Parameters
    ----------
    labels
        ``"opentargets"`` (default: Open Targets pairs at ``phase``, diseases by EFO id),
        ``"repodb"`` (approved repoDB pairs) or ``"pharmacotherapydb"`` (disease-modifying pairs),
        both joined to the comparisons by exact normalised disease name; or the path of a TSV
        with ``drug`` and ``disease`` columns (disease = EFO id, or a name matched like above).
    phase
        Clinical phase of the Open Targets pairs kept (4 = approved).

    Returns
    -------
    RepurposingBenchmark
        With the default labels: 643 comparisons (182 diseases), 6,100 instances (1,307 drugs),
        25,749 genes, and 1,544 indication pairs over 132 diseases and 236 drugs.

    Raises
    ------
    InputDataError
        When no indication joins both a drug and a disease signature.
    """
    deg = _key("opentargets/disease_degs_expression_atlas.tsv.gz")
    diseases, drugs, sets, info = _benchmark_core(deg, *_cmap02_files())
    report: dict = {"labels": str(labels), **info}
    table = _labels_table(labels, diseases.obs, phase, report)
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
        drugs=drugs.copy(),
        drug_sets={n: (list(u), list(d)) for n, (u, d) in sets.items()},
        indications=joined,
        candidates=candidates,
        report=copy.deepcopy(report),
        labels=str(labels),
    )
