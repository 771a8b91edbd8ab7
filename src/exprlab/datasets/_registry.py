"""The registry of named public datasets: what each loader returns and which files it reads."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from exprlab._config import data_dir, data_file
from exprlab.datasets._sources import fetch_files, source_of, upstream_urls
from exprlab.errors import DataNotFoundError


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of :func:`list_datasets`: a loader call, what it returns and its files.

    Parameters
    ----------
    name
        The loader call (``"genesets('kegg')"``), evaluable in the ``exprlab.datasets`` namespace.
    description
        What the dataset is, in a few words.
    shape
        The documented shape of what the loader returns (checked by the test suite).
    files
        The files it reads, relative to the public data directory.
    """

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
        "643 diseases x 6100 drugs, 1606 pairs",
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
    """Every named dataset with its description, documented shape, presence and origin.

    Cheap: only checks that the files exist, loads nothing.

    Returns
    -------
    pandas.DataFrame
        Columns ``name`` (the loader call), ``description``, ``shape`` (what the loader returns:
        ``n_obs x n_vars`` for AnnData, rows x columns for tables, number of sets for gene-set
        dicts), ``present`` (bool: all its files exist), ``files``, ``origin``, ``licence`` and
        ``url`` (where the files come from; several origins are joined by ``; ``), and
        ``download`` (the upstream URLs of its files, space-separated, when every file has one:
        ``exprlab datasets --fetch NAME`` then needs no ``--from``; empty otherwise).
    """
    root = data_dir(required=False)
    upstream = upstream_urls()
    rows = []
    for info in DATASETS:
        present = root is not None and all((root / f).is_file() for f in info.files)
        sources = list(dict.fromkeys(source_of(f) for f in info.files))
        rows.append(
            (
                info.name,
                info.description,
                info.shape,
                present,
                ", ".join(info.files),
                "; ".join(s.origin for s in sources),
                "; ".join(dict.fromkeys(s.licence for s in sources)),
                "; ".join(s.url for s in sources),
                " ".join(upstream[f] for f in info.files) if all(f in upstream for f in info.files) else "",
            )
        )
    columns = ["name", "description", "shape", "present", "files", "origin", "licence", "url", "download"]
    return pd.DataFrame(rows, columns=columns)


def fetch_dataset(name: str, *, mirror: str | None = None, to=None) -> list:
    """Download one named dataset's files, checked by sha256 against the registry.

    Parameters
    ----------
    name
        A loader name of :func:`list_datasets` (``"golub_leukemia"``, ``"genesets('kegg')"``).
    mirror
        Base URL of a copy of the data directory's layout; ``None`` (default) downloads from
        the files' public upstream URLs (datasets with a ``download`` entry in
        :func:`list_datasets`).
    to
        The data directory to fill; default: ``EXPRLAB_DATA``.

    Returns
    -------
    list of pathlib.Path
        The dataset's local files.
    """
    for info in DATASETS:
        if info.name == name:
            return fetch_files(info.files, mirror=mirror, to=to)
    names = ", ".join(info.name for info in DATASETS)
    raise DataNotFoundError(f"unknown dataset {name!r}", where="--fetch", fix=f"use one of: {names}")


def _key(relative: str) -> str:
    """The absolute path of a data file as a string: the key of the per-process parse caches."""
    return str(data_file(relative))
