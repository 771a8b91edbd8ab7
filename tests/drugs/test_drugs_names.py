"""Drug-name normalisation and cross-catalogue matching."""

from __future__ import annotations

import lzma

import pandas as pd
import pytest

from exprlab.drugs import match_drug_names, normalize_drug_name
from exprlab.errors import InputDataError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("trichostatin A", "trichostatina"),  # CMap
        ("TRICHOSTATIN A", "trichostatina"),  # ChEMBL
        ("trichostatin-a", "trichostatina"),  # LINCS
        ("HC toxin", "hctoxin"),
        ("5-fluorouracil", "5fluorouracil"),
        ("Acetylsalicylic acid", "acetylsalicylicacid"),
        ("(+)-Catechin", "catechin"),
        ("Metformin Hydrochloride", "metforminhydrochloride"),  # salts kept by default
        ("Pénicilline", "penicilline"),  # accents folded
        ("", ""),
    ],
)
def test_base_rule_by_hand(name, expected):
    assert normalize_drug_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Metformin Hydrochloride", "metformin"),
        ("warfarin sodium", "warfarin"),
        ("imatinib mesylate", "imatinib"),
        ("doxycycline hyclate monohydrate", "doxycycline"),
        ("sodium", "sodium"),  # never strip a name to nothing
        ("Ipratropium bromide", "ipratropium"),
    ],
)
def test_salt_stripping_by_hand(name, expected):
    assert normalize_drug_name(name, strip_salts=True) == expected


def test_series_keeps_index_and_missing():
    s = pd.Series(["Metformin", None, "METFORMIN"], index=["x", "y", "z"])
    out = normalize_drug_name(s)
    assert list(out.index) == ["x", "y", "z"]
    assert out["x"] == out["z"] == "metformin" and pd.isna(out["y"])
    assert normalize_drug_name(["A-1", "b 2"]).tolist() == ["a1", "b2"]
    with pytest.raises(InputDataError):
        normalize_drug_name(None)


def test_match_report_by_hand():
    left = ["trichostatin A", "metformin", "Imatinib Mesylate", "unobtainium", "metformin"]
    right = ["TRICHOSTATIN A", "metformin", "IMATINIB", "aspirin"]
    rep = match_drug_names(left, right)
    lt = rep[rep["side"] == "left"].set_index("name")
    assert list(lt.index) == ["trichostatin A", "metformin", "Imatinib Mesylate", "unobtainium"]
    assert lt["how"].tolist() == ["normalized", "exact", "salt", ""]
    assert lt["matched"].tolist() == [True, True, True, False]
    assert lt.loc["trichostatin A", "match"] == "TRICHOSTATIN A"
    rt = rep[rep["side"] == "right"].set_index("name")
    assert rt.loc["aspirin", "matched"] == False  # noqa: E712
    assert rt.loc["IMATINIB", "how"] == "salt"
    no_salt = match_drug_names(left, right, strip_salts=False)
    assert not no_salt.set_index(["side", "name"]).loc[("left", "Imatinib Mesylate"), "matched"]
    with pytest.raises(InputDataError):
        match_drug_names("metformin", right)


def test_cmap02_names_1309_to_1307(data_dir):
    names = set()
    with lzma.open(data_dir / "cmap02" / "CmapUp100.gmt.xz", "rt") as fh:
        for line in fh:
            names.add(line.split("\t", 1)[0].split("@", 1)[0])
    assert len(names) == 1_309  # data README
    assert len(set(normalize_drug_name(pd.Series(sorted(names))))) == 1_307


def test_real_cmap_vs_chembl_report(data_dir):
    import re

    inst = pd.read_csv(data_dir / "cmap02" / "cmap_instances_02.txt", sep="\t", usecols=["cmap_name"])
    ot = pd.read_csv(
        data_dir / "opentargets" / "drug_disease_indications.tsv", sep="\t", usecols=["chembl.name"]
    )
    cmap, chembl = inst["cmap_name"].unique(), ot["chembl.name"].unique()
    rep = match_drug_names(cmap, chembl, strip_salts=False)
    left = rep[rep["side"] == "left"]
    assert len(left) == 1_309

    def key(s):  # the data README's rule, written out independently
        return re.sub(r"[^a-z0-9]", "", s.lower())

    chembl_keys = {key(n) for n in chembl}
    expected = sum(key(n) in chembl_keys for n in cmap)
    assert int(left["matched"].sum()) == expected
    assert set(left.loc[left["matched"], "how"]) <= {"exact", "normalized"}
    salted = match_drug_names(cmap, chembl)
    assert int(salted.loc[salted["side"] == "left", "matched"].sum()) > expected
    row = salted[(salted["side"] == "left") & (salted["name"] == "ipratropium bromide")].iloc[0]
    assert (row["how"], row["match"]) == ("salt", "IPRATROPIUM")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DEXAMETHASONE ACETATE", "dexamethasone"),
        ("BETAMETHASONE VALERATE", "betamethasone"),
        ("Dexamethasone Sodium Phosphate", "dexamethasone"),
        ("TESTOSTERONE CYPIONATE", "testosterone"),
        ("DIMETHYL FUMARATE", "dimethylfumarate"),  # an ester named by its alkyl group stays whole
        ("ACETATE", "acetate"),  # nothing else would remain
    ],
)
def test_ester_forms_by_hand(name, expected):
    assert normalize_drug_name(name, strip_salts=True) == expected


def test_salt_merges_lists_only_names_the_salt_rule_joins():
    from exprlab.drugs import salt_merges

    names = ["Prednisolone", "PREDNISOLONE ACETATE", "prednisolone", "Metformin", "DIMETHYL FUMARATE", None]
    merged = salt_merges(names)
    # metformin has one spelling; the two prednisolone spellings of one base key count once
    assert merged.to_dict("records") == [
        {"key": "prednisolone", "n_names": 3, "names": "PREDNISOLONE ACETATE|Prednisolone|prednisolone"}
    ]
    assert salt_merges(["a", "b"]).empty
    with pytest.raises(InputDataError):
        salt_merges("prednisolone acetate")
