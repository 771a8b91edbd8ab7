"""Small planted drug–disease inputs shared by the tests that run whole commands on them.

Imported by test modules as ``from _planted_inputs import ...`` (the tests folder is on the
import path because it holds ``conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import exprlab.workflows as workflows
from exprlab.io import write_gct, write_gmt, write_h5ad
from exprlab.models import TrainConfig
from exprlab.simulate import simulate_planted

#: learned-model settings small enough for a test: 2 epochs of 4 steps of a narrow paper network
SMALL_LEARNED = workflows.LearnedSettings(
    max_genes=120,
    paper=TrainConfig(
        arch="paper",
        options={"hidden": 16, "fusion": 8},
        max_epochs=2,
        steps_per_epoch=4,
        batch_size=64,
        patience=2,
    ),
)


def small_planted():
    """A planted triangle of 12 diseases, 20 drugs and 120 genes (seeded), small enough to train on."""
    return simulate_planted(
        n_diseases=12,
        n_drugs=20,
        n_pathways=6,
        pathway_size=10,
        n_genes=120,
        set_size=10,
        noise_genes=10,
        seed=2,
    )


def planted_files(root: Path) -> dict[str, Path]:
    """Write the signatures, indications and gene sets of a small planted triangle under ``root``.

    Returns the files by role: ``drugs``, ``diseases`` (h5ad), ``labels`` (TSV), ``sets`` (GMT of
    the planted pathways), ``disease`` and ``drug`` (one indicated pair, as single-row h5ad) and
    ``gct`` (the drugs as GCT).
    """
    b = small_planted()
    files = {
        "drugs": root / "drugs.h5ad",
        "diseases": root / "diseases.h5ad",
        "labels": root / "labels.tsv",
        "sets": root / "sets.gmt",
        "disease": root / "disease.h5ad",
        "drug": root / "drug.h5ad",
        "gct": root / "drugs.gct",
    }
    write_h5ad(b.drugs, files["drugs"])
    write_h5ad(b.diseases, files["diseases"])
    write_gct(b.drugs, files["gct"])
    b.indications[["drug", "disease"]].to_csv(files["labels"], sep="\t", index=False)
    write_gmt({f"pathway_{k}_up": v for k, v in b.truth["pathways"].items()}, files["sets"])
    row = b.indications[b.indications["mechanism"]].iloc[0]
    write_h5ad(b.diseases[b.diseases.obs["disease"] == row["disease"]].copy(), files["disease"])
    write_h5ad(b.drugs[b.drugs.obs["drug"] == row["drug"]].copy(), files["drug"])
    return files
