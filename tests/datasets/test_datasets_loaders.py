"""Every named loader on the real data, the dataset registry, absent data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from exprlab import datasets
from exprlab.errors import DataNotFoundError, InvalidParameterError


def _shape_of(obj) -> str:
    if hasattr(obj, "n_obs"):
        return f"{obj.n_obs} x {obj.n_vars}"
    if isinstance(obj, pd.DataFrame):
        return f"{obj.shape[0]} x {obj.shape[1]}"
    if isinstance(obj, dict):
        return f"{len(obj)} sets"
    if isinstance(obj, np.ndarray):
        return str(obj.shape[0])
    if isinstance(obj, datasets.RepurposingBenchmark):
        return f"{obj.diseases.n_obs} diseases x {obj.drugs.n_obs} drugs, {len(obj.indications)} pairs"
    raise TypeError(type(obj))


def test_registry_shapes_match_loaders(data_dir):
    """The documented shapes listed by `exprlab datasets` are what the loaders return."""
    listed = datasets.list_datasets()
    assert listed["present"].all()
    assert listed["name"].is_unique
    for info in datasets.DATASETS:
        call = info.name if "(" in info.name else info.name + "()"
        obj = eval("datasets." + call, {"datasets": datasets})
        assert _shape_of(obj) == info.shape, info.name


def test_every_public_file_has_a_loader(data_dir):
    covered = {f for info in datasets.DATASETS for f in info.files}
    on_disk = {str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()}
    # licence and copyright notes and the README are documents, not datasets
    docs = {f for f in on_disk if "LICENSE" in f or "copyright" in f or f.endswith(".md")}
    assert on_disk - docs - covered == set()
    assert covered <= on_disk


def test_lincs_loaders(data_dir):
    lvl3 = datasets.lincs_level3()
    assert lvl3.shape == (377, 978)
    assert "pert_iname" in lvl3.obs.columns
    assert int((lvl3.obs["pert_iname"] == "DMSO").sum()) == 26  # data README: 26 DMSO controls
    lvl4 = datasets.lincs_level4()
    assert lvl4.shape == (377, 978) and list(lvl4.obs_names) == list(lvl3.obs_names)
    lvl5 = datasets.lincs_level5_sample()
    assert lvl5.shape == (100, 5000)
    assert {"vorinostat__SKB__trt_cp", "trichostatin-a__SKB__trt_cp"} <= set(lvl5.obs_names)
    assert datasets.lincs_sample_gctx().shape == (2, 12_328)
    info = datasets.lincs_gene_info()
    assert len(info) == 12_328 and int((info["feature_space"] == "landmark").sum()) == 978
    sub = datasets.lincs_gene_space_sub()
    assert int((sub["type"] == "landmark").sum()) == 978
    assert len(datasets.lincs_test_gene_sets()) == 4
    with pytest.raises(InvalidParameterError):
        datasets.lincs_example_gct("p200")


def test_cmap02_loader(data_dir):
    cm = datasets.cmap02()
    assert cm.shape == (6_100, 12_317)
    assert sp.issparse(cm.X)
    row = cm["metformin@MCF7#1e-05M_1"]
    assert row.obs[["drug", "cmap_name", "cell_line", "instance_id"]].iloc[0].tolist() == [
        "metformin",
        "metformin",
        "MCF7",
        1,
    ]
    assert row.obs["dose"].iloc[0] == pytest.approx(1e-5) and row.obs["time"].iloc[0] == 6
    assert ((cm.X > 0).sum(axis=1) == 100).all() and ((cm.X < 0).sum(axis=1) == 100).all()
    assert set(np.unique(cm.X.data)) == {-1.0, 1.0}
    assert cm.obs["drug"].nunique() == 1_307 and cm.obs["cmap_name"].nunique() == 1_309
    # data README: cell lines MCF7, PC3, HL60, SKMEL5, ssMCF7
    assert set(cm.obs["cell_line"]) == {"MCF7", "PC3", "HL60", "SKMEL5", "ssMCF7"}
    sets = datasets.cmap02(as_sets=True)
    up, down = sets["metformin@MCF7#1e-05M_1"]
    assert up[:2] == ["VWA1", "FLNC"]  # first genes of the first line of CmapUp100.gmt.xz
    assert (cm["metformin@MCF7#1e-05M_1", up].X.toarray() == 1).all()
    assert (cm["metformin@MCF7#1e-05M_1", down].X.toarray() == -1).all()


def test_opentargets_and_catalogue_loaders(data_dir):
    sig = datasets.opentargets_disease_signatures()
    assert sig.shape == (643, 23_831) and sig.obs["disease"].nunique() == 182
    ind = datasets.opentargets_indications()
    assert len(ind) == 17_917 and int((ind["phase"] == 4).sum()) == 14_860
    rp = datasets.repodb()
    assert len(rp) == 10_800 - 260 and rp.attrs["n_incomplete_rows_dropped"] == 260
    pt = datasets.pharmacotherapydb()
    assert len(pt) == 755 + 390 + 243
    assert len(datasets.pharmacotherapydb("drugs")) == 601
    assert len(datasets.pharmacotherapydb("diseases")) == 97
    assert len(datasets.drugcentral_indications()) == 671
    tg = datasets.drugcentral_targets()
    assert len(tg) == 2_991
    assert tg.loc[tg["drug_name"] == "Vigabatrin", "entrez"].iloc[0] == "18"
    mel = datasets.creeds_melanoma()
    assert mel.n_obs == 7 and mel.n_vars == 2_812
    # first data line of the file: signature 1, TUBA1A, -0.19203437864780426
    assert mel["melanoma_1", "TUBA1A"].X[0, 0] == pytest.approx(-0.19203437864780426, rel=1e-6)
    # rows per signature (595, 599, 600, 600, 600, 600, 594 lines) all listed once each
    assert mel.layers["listed"].sum(axis=1).tolist() == [595, 599, 600, 600, 600, 600, 594]


def test_sample_and_expression_loaders(data_dir):
    pso = datasets.psoriasis_samples()
    assert pso.shape == (116, 706)
    assert pso.obs["label"].value_counts().to_dict() == {"Psoriasis": 58, "ct": 58}
    assert datasets.gtex_muscle_ageing().shape == (1, 14_686)
    dg = datasets.dgem_contrasts()
    assert dg.n_obs == 2 and list(dg.obs_names) == ["contrast-a", "contrast-b"]
    assert len(datasets.dgem_gene_map()) == 78_464
    assert datasets.dgem_drug_feature_ids().shape == (12_328,)

    chi = datasets.all_chiaretti()
    assert chi.shape == (128, 12_625)
    assert chi.obs["BT"].str[0].value_counts().to_dict() == {"B": 95, "T": 33}
    assert int((chi.obs["mol.biol"] == "BCR/ABL").sum()) == 37
    gol = datasets.golub_leukemia()
    assert gol.shape == (48, 12_564)
    assert gol.obs["label"].value_counts().to_dict() == {"ALL": 24, "AML": 24}
    tr = datasets.tcga_breast("train", "mrna")
    assert tr.shape == (150, 200)
    assert tr.obs["subtype"].value_counts().to_dict() == {"LumA": 75, "Basal": 45, "Her2": 30}
    assert datasets.tcga_breast("test", "mirna").shape == (70, 184)
    with pytest.raises(InvalidParameterError, match="no test split"):
        datasets.tcga_breast("test", "protein")
    sr = datasets.srbct()
    assert sr.shape == (63, 2_308)
    assert sr.obs["label"].value_counts().to_dict() == {"EWS": 23, "RMS": 20, "NB": 12, "BL": 8}
    assert sr.var["image_id"].iloc[0] == "21652"

    assert len(datasets.genesets("hallmark")) == 50
    assert len(datasets.genesets("reactome")) == 674
    with pytest.raises(InvalidParameterError):
        datasets.genesets("wikipathways")


def test_loaders_return_copies(data_dir):
    a = datasets.psoriasis_samples()
    a.X[:] = 0
    a.obs["label"] = "x"
    b = datasets.psoriasis_samples()
    assert b.X.max() > 0 and set(b.obs["label"]) == {"Psoriasis", "ct"}
    s = datasets.genesets("hallmark")
    first = next(iter(s))
    s[first].append("NOT_A_GENE")
    assert "NOT_A_GENE" not in datasets.genesets("hallmark")[first]


def test_absent_data_raises_data_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRLAB_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as info:
        datasets.psoriasis_samples()
    message = str(info.value)
    assert "psoriasis_GSE13355_DEexprs_706x116.csv.gz" in message and "EXPRLAB_DATA" in message
    with pytest.raises(DataNotFoundError, match="disease_degs_expression_atlas"):
        datasets.repurposing_benchmark()
    listed = datasets.list_datasets()
    assert not listed["present"].any() and len(listed) == len(datasets.DATASETS)
