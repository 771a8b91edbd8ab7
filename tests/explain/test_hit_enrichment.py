"""Drug-set enrichment of search hits: hypergeometric p by hand (math.comb), BH, name rules."""

from __future__ import annotations

from math import comb

import pandas as pd
import pytest

from exprlab.errors import InputDataError
from exprlab.explain import drug_sets_from_table, hit_enrichment


def _upper_tail(k: int, universe: int, in_set: int, drawn: int) -> float:
    total = comb(universe, drawn)
    return (
        sum(comb(in_set, i) * comb(universe - in_set, drawn - i) for i in range(k, min(in_set, drawn) + 1))
        / total
    )


def test_hypergeometric_p_and_bh_by_hand():
    universe = [f"drug{i}" for i in range(30)]
    sets = {
        "HDAC": ["drug0", "drug1", "drug2", "drug20"],  # 3 of 4 among the hits
        "DRD2": ["drug3", "drug21", "drug22", "drug23", "drug24"],  # 1 of 5
        "none": ["drug25", "drug26"],  # 0 of 2
    }
    hits = [f"drug{i}" for i in range(6)]
    table = hit_enrichment(hits, sets, universe).set_index("set")
    expected = {"HDAC": _upper_tail(3, 30, 4, 6), "DRD2": _upper_tail(1, 30, 5, 6), "none": 1.0}
    for name, p in expected.items():
        assert table.loc[name, "pvalue"] == pytest.approx(p, rel=1e-9)
    assert table.loc["HDAC", "overlap"] == 3
    assert table.loc["HDAC", "expected"] == pytest.approx(6 * 4 / 30)
    assert table.loc["HDAC", "drugs"] == "drug0,drug1,drug2"
    # BH over 3 sets, p sorted ascending: q_i = min over j >= i of p_j * 3 / j
    ps = sorted(expected.values())
    qs = [min(ps[j] * 3 / (j + 1) for j in range(i, 3)) for i in range(3)]
    assert sorted(table["qvalue"].tolist()) == pytest.approx(sorted(min(q, 1.0) for q in qs))


def test_drug_names_are_matched_after_normalisation():
    sets = drug_sets_from_table(
        pd.DataFrame(
            {
                "drug_name": ["Trichostatin A", "VORINOSTAT", "Haloperidol"],
                "target": ["HDAC1", "HDAC1", "DRD2"],
            }
        ),
        drug="drug_name",
        group="target",
    )
    assert sets == {"DRD2": ["haloperidol"], "HDAC1": ["trichostatina", "vorinostat"]}
    universe = ["trichostatin-a", "vorinostat", "haloperidol", "aspirin", "caffeine"]
    table = hit_enrichment(["trichostatin-a", "vorinostat"], sets, universe, min_size=1)
    row = table.set_index("set").loc["HDAC1"]
    assert row["overlap"] == 2
    assert row["pvalue"] == pytest.approx(_upper_tail(2, 5, 2, 2))


def test_table_without_the_columns_is_refused():
    with pytest.raises(InputDataError, match="no column"):
        drug_sets_from_table(pd.DataFrame({"name": ["a"]}), drug="drug", group="symbol")
