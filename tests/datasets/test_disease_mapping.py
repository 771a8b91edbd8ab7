"""Disease names across catalogues: synonym key, user mapping table, bad tables."""

from __future__ import annotations

import pandas as pd
import pytest

from exprlab.datasets._disease_names import map_disease_names, read_disease_map, synonym_key
from exprlab.errors import InputDataError

TERMS = pd.DataFrame(
    {
        "disease": ["EFO_1", "EFO_2", "EFO_3", "EFO_4", "EFO_5"],
        "disease_name": [
            "hepatocellular carcinoma",
            "type II diabetes mellitus",
            "Alzheimer's disease",
            "lung cancer",
            "cancer of lung",  # shares the synonym key of EFO_4: ambiguous
        ],
    }
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Carcinoma, Hepatocellular", "hepatocellular carcinoma"),
        ("Diabetes Mellitus, Type 2", "type II diabetes mellitus"),
        ("Alzheimer Disease", "Alzheimer's disease"),
        ("Inflammatory Bowel Diseases", "inflammatory bowel disease"),
        ("Malignant neoplasm of breast", "breast cancer"),
        ("Leukaemia", "leukemia"),
    ],
)
def test_synonym_key_joins_spellings(a, b):
    assert synonym_key(a) == synonym_key(b)


def test_synonym_key_keeps_different_diseases_apart():
    assert synonym_key("type I diabetes mellitus") != synonym_key("type II diabetes mellitus")
    assert synonym_key("lung adenocarcinoma") != synonym_key("lung carcinoma")


def test_mapping_steps_and_ambiguity(tmp_path):
    catalogue = pd.DataFrame(
        {
            "disease": ["C1", "C2", "C3", "C4", "C5"],
            "disease_name": [
                "Hepatocellular Carcinoma",  # exact
                "Diabetes Mellitus, Non-Insulin-Dependent",  # user map only
                "Alzheimer Disease",  # synonym
                "Lung Cancer, NOS",  # synonym key shared by two EFO terms: unmapped
                "Gout",  # nothing
            ],
        }
    )
    path = tmp_path / "map.tsv"
    pd.DataFrame(
        {
            "name": ["Diabetes Mellitus, Non-Insulin-Dependent", "not in this catalogue"],
            "disease": ["EFO_2", "Alzheimer's disease"],
        }
    ).to_csv(path, sep="\t", index=False)
    user = read_disease_map(path, TERMS)
    assert user["efo"].tolist() == ["EFO_2", "EFO_3"]  # a target may be an EFO term
    out = map_disease_names(catalogue, TERMS, user).set_index("disease")
    assert out["how"].to_dict() == {"C1": "exact", "C2": "user map", "C3": "synonym", "C4": "", "C5": ""}
    assert out.loc["C2", "efo"] == "EFO_2" and out.loc["C3", "efo"] == "EFO_3"
    assert out.loc[["C4", "C5"], "efo"].isna().all()


def test_bad_mapping_tables_are_clear_errors(tmp_path):
    path = tmp_path / "map.tsv"
    pd.DataFrame({"name": ["Gout"], "disease": ["EFO_999"]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputDataError, match="not diseases of the signatures: 'EFO_999'"):
        read_disease_map(path, TERMS)
    pd.DataFrame({"name": ["Gout"], "disease": ["EFO_1"]}).to_csv(path, sep="\t", index=False)
    user = read_disease_map(path, TERMS)
    catalogue = pd.DataFrame({"disease": ["C1"], "disease_name": ["Asthma"]})
    with pytest.raises(InputDataError, match="none of the names"):
        map_disease_names(catalogue, TERMS, user)
    pd.DataFrame({"label": ["Gout"], "disease": ["EFO_1"]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(Exception, match="name"):
        read_disease_map(path, TERMS)


def test_repodb_with_a_mapping_table(data_dir, tmp_path):
    from exprlab.datasets import repurposing_benchmark

    path = tmp_path / "map.tsv"
    pd.DataFrame(
        {"name": ["Diabetes Mellitus, Non-Insulin-Dependent"], "disease": ["type II diabetes mellitus"]}
    ).to_csv(path, sep="\t", index=False)
    plain = repurposing_benchmark("repodb")
    mapped = repurposing_benchmark("repodb", disease_map=path)
    assert mapped.report["n_catalogue_diseases_matched_user_map"] == 1
    assert mapped.report["n_catalogue_diseases_matched_synonym"] >= 1  # e.g. Crohn Disease
    assert (
        mapped.report["n_catalogue_diseases_matched_by_name"]
        == plain.report["n_catalogue_diseases_matched_by_name"] + 1
    )
    t2d = mapped.indications[mapped.indications["disease_name"] == "type II diabetes mellitus"]
    assert len(t2d) > len(plain.indications[plain.indications["disease_name"] == "type II diabetes mellitus"])
    bad = tmp_path / "bad.tsv"
    pd.DataFrame({"name": ["Gout"], "disease": ["no such disease"]}).to_csv(bad, sep="\t", index=False)
    with pytest.raises(InputDataError, match="no such disease"):
        repurposing_benchmark("repodb", disease_map=bad)


def test_join_summary_keeps_the_join_counts_and_leaves_the_table_out():
    from types import SimpleNamespace

    from exprlab.datasets import join_summary

    report = {
        "drug_join": "salt-stripped",
        "salt_merged_catalogue": ["A|A ACETATE"],
        "n_salt_merged_catalogue": 1,
        "n_catalogue_diseases_matched_synonym": 3,
        "disease_mapping": [{"disease": "x"}],
        "n_pairs": 10,
    }
    summary = join_summary(SimpleNamespace(report=report))
    assert summary == {
        "drug_join": "salt-stripped",
        "salt_merged_catalogue": ["A|A ACETATE"],
        "n_salt_merged_catalogue": 1,
        "n_catalogue_diseases_matched_synonym": 3,
    }
    assert join_summary(SimpleNamespace()) == {}
