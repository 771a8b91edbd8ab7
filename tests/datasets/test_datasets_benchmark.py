"""The drug-disease repurposing benchmark on the real public data."""

from __future__ import annotations

import lzma

import numpy as np
import pandas as pd
import pytest

from exprlab.datasets import repurposing_benchmark
from exprlab.errors import InputDataError, InvalidParameterError


@pytest.fixture(scope="module")
def bench(data_dir):
    return repurposing_benchmark()


# The salt / ester words that occur at the end of phase-4 Open Targets or CMap 02 names joined by
# the benchmark; written out here so the count below does not reuse the code under test.
_SUFFIXES = (
    "acetate|dipropionate|valerate|diphosphate|phosphate|decanoate|enanthate|furoate|propionate|"
    "hydrochloride|butyrate|cypionate|hemisuccinate|palmitate|undecanoate|acetonide|bromide|"
    "chloride|sodium|iodide|sulfate|citrate|nitrate|tartrate|maleate|mesylate|fumarate|succinate"
)


def _independent_key(names: pd.Series) -> pd.Series:
    """Lower-case, drop trailing salt words (not after an alkyl word), keep letters and digits."""
    out = []
    for name in names.astype(str).str.lower():
        words = [w for w in name.replace(",", " ").split() if w]
        while len(words) > 1 and pd.Series([words[-1]]).str.fullmatch(_SUFFIXES).iloc[0]:
            if words[-2].endswith("yl"):
                break
            words.pop()
        out.append("".join(ch for ch in " ".join(words) if ch.isalnum() and ch.isascii()))
    return pd.Series(out, index=names.index)


def test_counts_recomputed_from_the_raw_files(bench, data_dir):
    # independent count: raw phase-4 rows, salt-stripped names on both sides, EFO ids with a comparison
    raw = pd.read_csv(data_dir / "opentargets" / "drug_disease_indications.tsv", sep="\t")
    raw = raw[raw["phase"] == 4]
    cmap = pd.read_csv(data_dir / "cmap02" / "cmap_instances_02.txt", sep="\t", usecols=["cmap_name"])
    cmap_keys = set(_independent_key(cmap["cmap_name"].dropna()))
    degs = pd.read_csv(
        data_dir / "opentargets" / "disease_degs_expression_atlas.tsv.gz", sep="\t", usecols=["efo.id"]
    )
    pairs = pd.DataFrame({"drug": _independent_key(raw["chembl.name"]), "disease": raw["efo.id"]})
    pairs = pairs[pairs["drug"].isin(cmap_keys) & pairs["disease"].isin(set(degs["efo.id"]))]
    pairs = pairs.drop_duplicates()
    expected = (len(pairs), pairs["disease"].nunique(), pairs["drug"].nunique())
    assert expected == (1_606, 133, 250)  # 1,544 / 132 / 236 before salt and ester forms were joined
    ind = bench.indications
    assert (len(ind), ind["disease"].nunique(), ind["drug"].nunique()) == expected
    assert set(map(tuple, ind[["drug", "disease"]].to_numpy())) == set(map(tuple, pairs.to_numpy()))
    assert (bench.report["n_pairs"], bench.report["n_diseases"], bench.report["n_drugs"]) == expected
    assert not ind.duplicated(["drug", "disease"]).any()
    assert (ind["phase"] == 4).all()
    per_drug = pairs.groupby("drug").size()
    assert ind.groupby("drug").size().reindex(per_drug.index).tolist() == per_drug.tolist()
    # only pairs with both signatures
    assert set(ind["drug"]) <= set(bench.drugs.obs["drug"])
    assert set(ind["disease"]) <= set(bench.diseases.obs["disease"])


def test_salt_merges_are_reported(bench):
    merged = bench.report["salt_merged_catalogue"]
    assert "DEXAMETHASONE|DEXAMETHASONE ACETATE" in merged
    assert bench.report["n_salt_merged_catalogue"] == len(merged)
    assert "dexamethasone" in set(bench.indications["drug"])
    assert "dexamethasoneacetate" not in set(bench.indications["drug"])
    # CMap's "ipratropium bromide" is the drug ipratropium
    assert "ipratropium" in set(bench.drugs.obs["drug"])


def test_shapes_and_gene_space(bench, data_dir):
    assert bench.diseases.n_obs == 643 and bench.drugs.n_obs == 6_100
    assert list(bench.diseases.var_names) == list(bench.drugs.var_names)
    assert len(bench.candidates) == 1_307 and bench.candidates == sorted(bench.candidates)
    # independent union: raw DEG symbols upper-cased | raw CMap GMT genes
    raw = pd.read_csv(
        data_dir / "opentargets" / "disease_degs_expression_atlas.tsv.gz", sep="\t", usecols=["gene.symbol"]
    )
    genes = set(raw["gene.symbol"].str.upper())
    for name in ("CmapUp100.gmt.xz", "CmapDn100.gmt.xz"):
        with lzma.open(data_dir / "cmap02" / name, "rt") as fh:
            for line in fh:
                genes.update(g.upper() for g in line.rstrip("\n").split("\t")[2:])
    assert set(bench.diseases.var_names) == genes
    assert bench.report["n_genes"] == len(genes)


def test_drug_signatures_and_metadata(bench):
    drugs = bench.drugs
    name = "metformin@MCF7#1e-05M_1"
    up, down = bench.drug_sets[name]
    assert len(up) == len(down) == 100 and up[0] == "VWA1"
    row = drugs[name]
    assert row.obs[["drug", "cmap_name", "cell_line", "instance_id"]].iloc[0].tolist() == [
        "metformin",
        "metformin",
        "MCF7",
        1,
    ]
    x = row[:, up].X.toarray()
    assert (x == 1).all() and (row[:, down].X.toarray() == -1).all()
    assert row.X.nnz == 200
    assert set(np.unique(drugs.X.data)) == {-1.0, 1.0}
    # trichostatin A: CMap spelling, normalised drug name
    tsa = drugs.obs[drugs.obs["cmap_name"] == "trichostatin A"]
    assert len(tsa) > 0 and set(tsa["drug"]) == {"trichostatina"}


def test_per_drug_aggregation(bench):
    per = bench.drugs_per_drug()
    assert per.n_obs == 1_307 and list(per.obs_names) == bench.candidates
    assert per.obs["n_instances"].sum() == 6_100
    # by hand from the instance rows: the mean of metformin's instance vectors
    rows = bench.drugs[bench.drugs.obs["drug"] == "metformin"]
    expected = np.asarray(rows.X.sum(axis=0)).ravel() / rows.n_obs
    np.testing.assert_allclose(per["metformin"].X.toarray().ravel(), expected, rtol=1e-6)
    assert per.obs.loc["metformin", "n_instances"] == rows.n_obs


def test_aggregate_instances_by_hand():
    import anndata as ad
    import scipy.sparse as sp

    from exprlab.datasets import aggregate_instances

    x = sp.csr_matrix(np.array([[1, -1, 0], [1, 0, -1], [0, 1, 0]], dtype=np.float32))
    obs = pd.DataFrame(
        {"drug": ["b", "b", "a"], "cell_line": ["PC3", "MCF7", "PC3"]}, index=["i1", "i2", "i3"]
    )
    per = aggregate_instances(ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=["G1", "G2", "G3"])))
    assert list(per.obs_names) == ["a", "b"]
    np.testing.assert_allclose(per.X.toarray(), [[0, 1, 0], [1, -0.5, -0.5]])
    assert per.obs["n_instances"].tolist() == [1, 2] and per.obs["cell_lines"].tolist() == ["PC3", "MCF7|PC3"]


def test_disease_signatures(bench):
    d = bench.diseases
    listed = d.layers["listed"]
    assert listed.sum(axis=1).tolist() == d.obs["n_listed"].tolist()
    assert (d.X[~listed] == 0).all() and (d.layers["pval"][~listed] == 1).all()
    acne = d.obs_names[d.obs["disease"] == "EFO_0003894"][0]
    # first data line of the DEG table: acne, S100A7A, lfc 4.9, p 4.2e-08
    assert d[acne, "S100A7A"].X[0, 0] == pytest.approx(4.9, rel=1e-6)


def test_returned_objects_are_copies(bench, data_dir):
    bench.diseases.X[:] = 99
    bench.drug_sets["metformin@MCF7#1e-05M_1"][0].clear()
    bench.indications.drop(bench.indications.index, inplace=True)
    again = repurposing_benchmark()
    assert (again.diseases.X != 99).any()
    assert len(again.drug_sets["metformin@MCF7#1e-05M_1"][0]) == 100
    assert len(again.indications) == 1_606


@pytest.mark.parametrize("labels", ["repodb", "pharmacotherapydb"])
def test_other_catalogues_join_by_name(data_dir, labels):
    b = repurposing_benchmark(labels)
    rep = b.report
    assert "exact normalised name" in rep["disease_join"]
    assert rep["n_pairs"] == len(b.indications) > 0
    assert set(b.indications["disease"]) <= set(b.diseases.obs["disease"])
    assert (
        rep["n_catalogue_diseases_matched_by_name"] + len(rep["catalogue_diseases_unmatched"])
        == rep["n_catalogue_diseases"]
    )
    assert set(b.indications["source"]) == {labels}


def test_user_label_table(data_dir, tmp_path):
    path = tmp_path / "labels.tsv"
    path.write_text(
        "drug\tdisease\n"
        "Metformin\tEFO_0003894\n"  # by EFO id (acne)
        "TRICHOSTATIN A\tAcne\n"  # by name -> acne's EFO id: same disease
        "unobtainium\tEFO_0003894\n"  # no CMap drug
        "metformin\tno such disease\n"  # no comparison
    )
    b = repurposing_benchmark(path)
    assert sorted(zip(b.indications["drug"], b.indications["disease"])) == [
        ("metformin", "EFO_0003894"),
        ("trichostatina", "EFO_0003894"),
    ]
    assert b.report["drugs_without_signature"] == ["unobtainium"]
    assert b.report["catalogue_diseases_unmatched"] == ["no such disease"]
    assert b.report["n_rows_drug_without_signature"] == 1


def test_bad_labels(data_dir, tmp_path):
    with pytest.raises(InvalidParameterError, match="neither a catalogue name nor an existing file"):
        repurposing_benchmark("chembl")
    path = tmp_path / "none.tsv"
    path.write_text("drug\tdisease\nunobtainium\tEFO_0003894\n")
    with pytest.raises(InputDataError, match="no indication joins"):
        repurposing_benchmark(path)
