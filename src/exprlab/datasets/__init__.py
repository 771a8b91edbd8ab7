"""Named loaders for the public datasets, and the drug-disease repurposing benchmark.

Every loader reads its files in place from the public data directory (``EXPRLAB_DATA``; see
:func:`data_dir`) and raises :class:`~exprlab.errors.DataNotFoundError` naming the missing file
when it is absent. :func:`list_datasets` lists them all with their documented shapes and whether
their files are present, without loading anything.

Parsed files are cached once per process (``functools.lru_cache``, keyed by the file path);
every loader returns a fresh copy, so changing what a loader returned never changes what the next
call returns.

:func:`repurposing_benchmark` assembles the drug-disease triangle of the public data (Open
Targets disease comparisons, CMap 02 drug instances, known indications); :func:`load_benchmark`
puts user files in place of any part of it, and :func:`check_labels`, :func:`pair_data`,
:func:`cosine_reversal`, :func:`connectivity_scores` and :func:`standardise_features` turn a
triangle into what the matchers see.
"""

from exprlab._config import data_dir, data_file
from exprlab.datasets._benchmark import (
    RepurposingBenchmark,
    aggregate_instances,
    join_summary,
    repurposing_benchmark,
)
from exprlab.datasets._cmap02 import cmap02
from exprlab.datasets._disease_samples import (
    dgem_contrasts,
    dgem_drug_feature_ids,
    dgem_gene_map,
    gtex_muscle_ageing,
    psoriasis_samples,
)
from exprlab.datasets._expression import all_chiaretti, golub_leukemia, srbct, tcga_breast
from exprlab.datasets._genesets import genesets
from exprlab.datasets._indications import (
    drugcentral_indications,
    drugcentral_targets,
    opentargets_indications,
    pharmacotherapydb,
    repodb,
)
from exprlab.datasets._lincs import (
    lincs_example_gct,
    lincs_gene_info,
    lincs_gene_space_sub,
    lincs_level3,
    lincs_level4,
    lincs_level5_sample,
    lincs_sample_gctx,
    lincs_test_gene_sets,
)
from exprlab.datasets._opentargets import creeds_melanoma, opentargets_disease_signatures
from exprlab.datasets._pair_features import (
    CONNECTIVITY,
    check_labels,
    connectivity_scores,
    cosine_reversal,
    pair_data,
    standardise_features,
)
from exprlab.datasets._registry import DATASETS, GENESET_FILES, DatasetInfo, fetch_dataset, list_datasets
from exprlab.datasets._sources import Source, registry, source_of, upstream_urls
from exprlab.datasets._user_benchmark import load_benchmark

__all__ = [
    "CONNECTIVITY",
    "DATASETS",
    "GENESET_FILES",
    "DatasetInfo",
    "RepurposingBenchmark",
    "aggregate_instances",
    "all_chiaretti",
    "check_labels",
    "cmap02",
    "connectivity_scores",
    "cosine_reversal",
    "creeds_melanoma",
    "data_dir",
    "data_file",
    "dgem_contrasts",
    "dgem_drug_feature_ids",
    "dgem_gene_map",
    "drugcentral_indications",
    "drugcentral_targets",
    "genesets",
    "join_summary",
    "golub_leukemia",
    "gtex_muscle_ageing",
    "lincs_example_gct",
    "lincs_gene_info",
    "lincs_gene_space_sub",
    "lincs_level3",
    "lincs_level4",
    "lincs_level5_sample",
    "lincs_sample_gctx",
    "lincs_test_gene_sets",
    "list_datasets",
    "fetch_dataset",
    "Source",
    "registry",
    "source_of",
    "upstream_urls",
    "load_benchmark",
    "opentargets_disease_signatures",
    "opentargets_indications",
    "pair_data",
    "pharmacotherapydb",
    "psoriasis_samples",
    "repodb",
    "repurposing_benchmark",
    "srbct",
    "standardise_features",
    "tcga_breast",
]
