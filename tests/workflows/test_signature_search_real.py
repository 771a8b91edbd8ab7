"""Signature search on the real LINCS level-5 sample: HDAC inhibitors find each other."""

from __future__ import annotations

from math import comb

import pytest

from exprlab.datasets import lincs_level5_sample
from exprlab.workflows import search_signatures

HDAC = ["vorinostat", "trichostatin-a", "pyroxamide", "HC-toxin"]


def test_hdac_class_is_enriched_among_the_hits_of_trichostatin_a(data_dir):
    library = lincs_level5_sample()
    query = library[["trichostatin-a__SKB__trt_cp"]].copy()
    res = search_signatures(
        query,
        library,
        n_permutations=200,
        seed=0,
        pattern="drug__cell__type",
        direction="positive",
        top=5,
        drug_sets={"hdac": HDAC},
    )
    top = res.perturbagens.head(5)["drug"].tolist()
    assert {"trichostatina", "vorinostat", "pyroxamide", "hctoxin"} <= set(top)
    row = res.enrichment.set_index("set").loc["hdac"]
    # all 4 class members among the 5 hits of 100 perturbagens
    assert row["pvalue"] == pytest.approx(comb(4, 4) * comb(96, 1) / comb(100, 5))
    assert res.hits["fdr"].between(0, 1).all()
    assert len(res.hits) == 100
