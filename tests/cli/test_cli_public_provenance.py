"""Matching commands record the public data they read as files: path, size and checksum."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from exprlab.cli._repurposing_commands import _data_roles
from exprlab.report import input_provenance

pytestmark = pytest.mark.realdata

DATA = Path(os.environ.get("EXPRLAB_DATA", "/nonexistent"))


@pytest.mark.skipif(not (DATA / "cmap02").is_dir(), reason="needs the public data in EXPRLAB_DATA")
def test_catalogue_and_public_signatures_are_recorded_with_sizes_and_checksums(tmp_path):
    entries = {e["name"]: e for e in input_provenance(_data_roles("opentargets", None, None))}
    expected = {
        "labels (drug_disease_indications.tsv)": "opentargets/drug_disease_indications.tsv",
        "drugs (CmapUp100.gmt.xz)": "cmap02/CmapUp100.gmt.xz",
        "drugs (CmapDn100.gmt.xz)": "cmap02/CmapDn100.gmt.xz",
        "drugs (cmap_instances_02.txt)": "cmap02/cmap_instances_02.txt",
        "diseases (disease_degs_expression_atlas.tsv.gz)": "opentargets/disease_degs_expression_atlas.tsv.gz",
    }
    assert set(entries) == set(expected)
    for name, relative in expected.items():
        path = DATA / relative
        assert Path(entries[name]["path"]) == path.resolve()
        assert entries[name]["bytes"] == path.stat().st_size
    labels = DATA / expected["labels (drug_disease_indications.tsv)"]
    digest = hashlib.sha256(labels.read_bytes()).hexdigest()  # computed here, independently
    assert entries["labels (drug_disease_indications.tsv)"]["sha256"] == digest


@pytest.mark.skipif(not (DATA / "indications").is_dir(), reason="needs the public data in EXPRLAB_DATA")
def test_cross_catalogue_labels_and_user_files_are_recorded_as_given(tmp_path):
    mine = tmp_path / "drugs.h5ad"
    mine.write_bytes(b"not read here")
    roles = _data_roles("opentargets -> repodb", mine, None)
    assert roles["labels (repodb.tsv)"] == DATA / "indications/repodb.tsv"
    assert roles["labels (drug_disease_indications.tsv)"] == DATA / "opentargets/drug_disease_indications.tsv"
    assert roles["drugs"] == mine  # a file of the user's: itself
    own = _data_roles(str(tmp_path / "pairs.tsv"), None, None)
    assert own["labels"] == str(tmp_path / "pairs.tsv")
