"""Indication catalogues -> one tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import FormatError, InvalidParameterError
from exprlab.io import INDICATION_COLUMNS, read_indications


def _tsv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_opentargets_rows(tmp_path):
    path = _tsv(
        tmp_path,
        "ot.tsv",
        "efo.id\tefo.term\tchembl.id\tchembl.name\tchembl.type\tphase\n"
        "EFO_1\tacne\tCHEMBL1\tTRICHOSTATIN A\tSmall molecule\t4\n"
        "EFO_2\tgout\tCHEMBL2\tCOLCHICINE\tSmall molecule\t2\n",
    )
    t = read_indications(path)
    assert list(t.columns) == INDICATION_COLUMNS
    assert t.loc[0, ["drug", "drug_name", "disease", "disease_name", "drug_id", "disease_id"]].tolist() == [
        "trichostatina",
        "TRICHOSTATIN A",
        "EFO_1",
        "acne",
        "CHEMBL1",
        "EFO_1",
    ]
    assert t["phase"].tolist() == [4.0, 2.0]
    assert set(t["source"]) == {"opentargets"}


def test_repodb_rows_and_incomplete(tmp_path):
    text = (
        "drug_name\tdrug_id\tind_name\tind_id\tsem_type\tstatus\tphase\tDetailedStatus\n"
        "Metformin\tDB00331\tType 2 diabetes\tC0011860\tDisease\tApproved\t\t\n"
        "Aspirin\tDB00945\tStroke\tC0038454\tDisease\tTerminated\tPhase 1/Phase 2\t\n"
        "\tDB00959\tLeukemia\tC0023418\tDisease\tTerminated\tPhase 3\t\n"
    )
    path = _tsv(tmp_path, "repodb.tsv", text)
    with pytest.raises(FormatError, match="line 4.*drug_name"):
        read_indications(path)
    t = read_indications(path, incomplete="drop")
    assert t.attrs["n_incomplete_rows_dropped"] == 1
    assert t["drug"].tolist() == ["metformin", "aspirin"]
    assert t["disease"].tolist() == ["UMLS:C0011860", "UMLS:C0038454"]
    assert t["status"].tolist() == ["Approved", "Terminated"]
    assert t["phase"].tolist() == [4.0, 2.0]  # approved -> 4; "Phase 1/Phase 2" -> 2


def test_pharmacotherapydb_vs_drugcentral_detection(tmp_path):
    body = "DOID:1\tDB1\tasthma\tSalbutamol Sulfate\tSYM"
    p = _tsv(
        tmp_path,
        "p.tsv",
        "doid_id\tdrugbank_id\tdisease\tdrug\tcategory\tn_curators\tn_resources\n" + body + "\t1\t2\n",
    )
    d = _tsv(tmp_path, "d.tsv", "doid_id\tdrugbank_id\tdisease\tdrug\tcategory\n" + body + "\n")
    tp, td = read_indications(p), read_indications(d)
    assert tp.loc[0, "source"] == "pharmacotherapydb" and td.loc[0, "source"] == "drugcentral"
    assert tp.loc[0, "status"] == "SYM" and tp.loc[0, "drug"] == "salbutamolsulfate"
    assert np.isnan(tp.loc[0, "phase"])


def test_user_table(tmp_path):
    path = _tsv(tmp_path, "u.tsv", "drug\tdisease\tphase\nTrichostatin-A\tEFO_9\t3\n")
    t = read_indications(path)
    assert t.loc[0, ["drug", "disease", "disease_id", "source"]].tolist() == [
        "trichostatina",
        "EFO_9",
        "EFO_9",
        "user",
    ]


@pytest.mark.parametrize(
    ("text", "kw", "error", "pattern"),
    [
        ("a\tb\n1\t2\n", {}, FormatError, "cannot tell which indication catalogue"),
        ("efo.id\tchembl.name\n1\t2\n", {"source": "opentargets"}, FormatError, "lacks column.*'efo.term'"),
        ("drug\tdisease\tphase\nx\ty\tlate\n", {}, FormatError, "line 2.*'phase'.*'late'"),
        ("drug\tdisease\n---\ty\n", {}, FormatError, "line 2.*no letter or digit"),
        ("drug\tdisease\nx\t\n", {}, FormatError, "line 2.*'disease'"),
        ("drug\tdisease\n", {}, FormatError, "no rows"),
        (
            "drug\tdisease\nx\ty\n",
            {"source": "chembl"},
            InvalidParameterError,
            "unknown source 'chembl'.*opentargets",
        ),
    ],
)
def test_malformed_indication_tables(tmp_path, text, kw, error, pattern):
    path = _tsv(tmp_path, "bad.tsv", text)
    with pytest.raises(error, match=pattern):
        read_indications(path, **kw)


def test_real_catalogues(data_dir):
    ot = read_indications(data_dir / "opentargets" / "drug_disease_indications.tsv")
    # data README: 17,917 pairs; 2,117 drugs; 1,123 diseases; 14,860 at phase 4
    assert len(ot) == 17_917
    assert ot["drug_id"].nunique() == 2_117
    assert ot["disease"].nunique() == 1_123
    assert int((ot["phase"] == 4).sum()) == 14_860

    repodb_path = data_dir / "indications" / "repodb.tsv"
    raw = pd.read_csv(repodb_path, sep="\t", dtype=str)
    rp = read_indications(repodb_path, incomplete="drop")
    assert len(raw) == 10_800 and int((raw["status"] == "Approved").sum()) == 6_677
    assert len(rp) == 10_800 - int(raw["drug_name"].isna().sum())
    assert rp.attrs["n_incomplete_rows_dropped"] == int(raw["drug_name"].isna().sum()) == 260
    assert int((rp["status"] == "Approved").sum()) == 6_677

    pt = read_indications(data_dir / "indications" / "pharmacotherapydb_indications.tsv")
    assert pt["status"].value_counts().to_dict() == {"DM": 755, "SYM": 390, "NOT": 243}
    assert pt["drug_id"].nunique() == 601 and pt["disease"].nunique() == 97

    dc = read_indications(data_dir / "indications" / "drugcentral_indications.tsv")
    assert len(dc) == 671 and set(dc["source"]) == {"drugcentral"}
