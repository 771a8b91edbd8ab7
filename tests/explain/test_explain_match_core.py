"""explain_match: agreement with the model's own scores, completeness, engines, bad input."""

import numpy as np
import pandas as pd
import pytest

from exprlab.datasets import cosine_reversal
from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.explain._match import _PairScore, explain_match, load_match_model
from exprlab.models import TrainConfig
from exprlab.models._matchers import PairData, SeedEnsemble, SparseRows, rank_drugs
from exprlab.simulate import simulate_planted
from exprlab.workflows._repurposing import LearnedSettings, train_models


def _settings():
    fast = dict(max_epochs=3, steps_per_epoch=6, batch_size=128, patience=3)
    return LearnedSettings(
        max_genes=200,
        paper=TrainConfig(arch="paper", options={"hidden": 32, "fusion": 16}, **fast),
        twotower=TrainConfig(arch="twotower", lr=3e-3, options={"dim": 16, "hidden": 32}, **fast),
    )


@pytest.fixture(scope="module")
def planted():
    return simulate_planted(
        n_diseases=16,
        n_drugs=30,
        n_pathways=8,
        pathway_size=10,
        n_genes=200,
        set_size=10,
        noise_genes=10,
        seed=1,
    )


@pytest.fixture(scope="module")
def models(planted, tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    out = {}
    for arch, seeds in (("paper", 2), ("twotower", 2)):
        out[arch] = train_models(planted, root / arch, arch=arch, n_seeds=seeds, settings=_settings())
    return out


def _pair(planted):
    ind = planted.indications[planted.indications["mechanism"]]
    # a disease with two contrasts and a drug with several perturbations when available
    n_con = planted.diseases.obs["disease"].value_counts()
    n_ins = planted.drugs.obs["drug"].value_counts()
    ind = ind.assign(c=ind["disease"].map(n_con), i=ind["drug"].map(n_ins))
    row = ind.sort_values(["c", "i"], ascending=False).iloc[0]
    return str(row["disease"]), str(row["drug"])


def _model_logits(mm, planted, disease, drug):
    """Pair logits by the model's own sparse path (score_pairs) over the full benchmark."""
    dis, drg = planted.diseases, planted.drugs
    data = PairData(
        list(map(str, dis.var_names)),
        SparseRows(dis.X),
        SparseRows(drg.X),
        dis.obs["disease"].to_numpy(),
        drg.obs["drug"].to_numpy(),
    )
    mu, sd = mm.features["cosine_reversal"]
    data.extras = ((cosine_reversal(data) - mu) / sd)[None].astype(np.float32)
    sub = data.subset_genes(pd.Index(data.genes).get_indexer(mm.genes))
    c, i = sub.contrast_rows([disease]), sub.instance_rows([drug])
    ens = SeedEnsemble(mm.members)
    pairs = ens.score_pairs(sub, c, i)
    score = rank_drugs(ens, sub, [disease], [drug]).iloc[0, 0]
    return pairs, score


@pytest.mark.parametrize("arch", ["paper", "twotower"])
def test_score_and_completeness_match_the_model(planted, models, arch):
    disease, drug = _pair(planted)
    mm = load_match_model(models[arch])
    e = explain_match(models[arch], disease, drug, library=planted, n_steps=64)
    pairs, score = _model_logits(mm, planted, disease, drug)
    # the explained score is the ranking rule computed by the model's own code
    assert e.score == pytest.approx(score, rel=1e-4, abs=1e-4)
    assert np.allclose(e.pairs["logit"], pairs.max(axis=1), atol=1e-4)
    # completeness: attributions add up to logit - baseline logit (zero baseline)
    total = e.genes["combined"].sum()
    gap = (e.pairs["logit"] - e.pairs["baseline_logit"]).sum()
    assert total == pytest.approx(gap, abs=2e-2 * max(1.0, abs(gap)))
    assert np.abs(e.pairs["delta"]).max() < 2e-2
    # dummy genes: a gene that is zero in both signatures gets exactly no attribution
    zero = (e.genes["disease_value"] == 0) & (e.genes["drug_value"] == 0)
    assert zero.any() and np.all(e.genes.loc[zero, "combined"] == 0)
    # the table is sorted by combined attribution and columns add up
    assert np.all(np.diff(e.genes["combined"].to_numpy()) <= 0)
    assert np.allclose(e.genes["combined"], e.genes["disease_attribution"] + e.genes["drug_attribution"])


def test_paper_exact_engine_equals_generic_engine(planted, models):
    from exprlab.explain._integrated_gradients import integrated_gradients

    mm = load_match_model(models["paper"])
    module = _PairScore(mm).eval()
    assert module.split_first_linear() is not None
    rng = np.random.default_rng(0)
    g = len(mm.genes)
    xd = rng.normal(size=(3, g)) * (rng.random((3, g)) < 0.2)
    xs = np.sign(rng.normal(size=(3, g))) * (rng.random((3, g)) < 0.1)
    kw = dict(target=0, n_steps=40, output="logit")
    exact = integrated_gradients(module, (xd, xs), path="exact", **kw)
    generic = integrated_gradients(module, (xd, xs), path="generic", **kw)
    for a, b in zip(exact, generic):
        assert np.allclose(a, b, rtol=1e-3, atol=1e-5)


def test_interaction_effect_and_all_instances(planted, models):
    disease, drug = _pair(planted)
    for arch in ("paper", "twotower"):
        mm = load_match_model(models[arch])
        e = explain_match(
            mm, disease, drug, library=planted, effect="interaction", instances="all", n_steps=64
        )
        module = _PairScore(mm).eval()
        # interaction by hand from the model: f(x) - f(xd, 0) - f(0, xs) + f(0, 0), averaged
        assert np.allclose(e.pairs["weight"].groupby(e.pairs["contrast"]).sum(), 1.0)
        gap = ((e.pairs["logit"] - e.pairs["baseline_logit"]) * e.pairs["weight"]).sum()
        assert e.genes["combined"].sum() == pytest.approx(gap, abs=3e-2 * max(1.0, abs(gap)))
        assert module is not None
    with pytest.raises(InvalidParameterError, match="effect"):
        explain_match(mm, disease, drug, library=planted, effect="main")
    with pytest.raises(InvalidParameterError, match="instances"):
        explain_match(mm, disease, drug, library=planted, instances="min")


def test_pathways_from_gmt_file(planted, models, tmp_path):
    from exprlab.io import read_gmt, write_gmt

    disease, drug = _pair(planted)
    sets = {f"pathway_{k}": v for k, v in planted.truth["pathways"].items()}
    write_gmt(sets, tmp_path / "p.gmt")
    e = explain_match(
        models["paper"], disease, drug, library=planted, gene_sets=read_gmt(tmp_path / "p.gmt"), top=10
    )
    pw = e.pathways.set_index("pathway")
    # summed attributions per pathway, recomputed from the gene table
    by_gene = e.genes.set_index("gene")["combined"]
    for name, genes in sets.items():
        if name in pw.index:
            assert pw.loc[name, "combined"] == pytest.approx(by_gene.reindex(genes).sum())
    assert {"hyper_pvalue", "hyper_qvalue", "rank_pvalue", "rank_qvalue"} <= set(pw.columns)


def test_unknown_names_and_bad_gene_sets_are_clear_errors(planted, models):
    disease, drug = _pair(planted)
    with pytest.raises(InputDataError, match=r"drug 'drug_9999'.*no perturbation signature"):
        explain_match(models["paper"], disease, "drug_9999", library=planted)
    with pytest.raises(InputDataError, match=r"did you mean"):
        explain_match(models["paper"], "disease_0O1", drug, library=planted)
    with pytest.raises(InvalidParameterError, match="no library"):
        explain_match(models["paper"], disease, drug)
    with pytest.raises(GeneSpaceError, match="shares a gene"):
        explain_match(
            models["paper"], disease, drug, library=planted, gene_sets={"S": ["TP53", "EGFR", "MYC"]}
        )
    # signatures over genes the model does not know
    dis = planted.diseases[planted.diseases.obs["disease"] == disease].copy()
    drg = planted.drugs[planted.drugs.obs["drug"] == drug].copy()
    dis.var_names = [f"X{i}" for i in range(dis.n_vars)]
    drg.var_names = [f"X{i}" for i in range(drg.n_vars)]
    with pytest.raises(GeneSpaceError, match="model's gene space"):
        explain_match(models["paper"], dis, drg)
    with pytest.raises(InvalidParameterError, match="baseline"):
        explain_match(models["paper"], disease, drug, library=planted, baselines="mean")


def test_explicit_baselines_keep_completeness(planted, models):
    disease, drug = _pair(planted)
    genes = planted.diseases.var_names
    dis_mean = pd.Series(np.asarray(planted.diseases.X).mean(axis=0), index=genes)
    drug_mean = pd.Series(np.asarray(planted.drugs.X).mean(axis=0), index=genes)
    for arch in ("paper", "twotower"):
        e = explain_match(
            models[arch], disease, drug, library=planted, baselines=(dis_mean, drug_mean), n_steps=64
        )
        gap = (e.pairs["logit"] - e.pairs["baseline_logit"]).sum()
        assert e.genes["combined"].sum() == pytest.approx(gap, abs=2e-2 * max(1.0, abs(gap)))
    with pytest.raises(InputDataError, match="3 values"):
        explain_match(models["paper"], disease, drug, library=planted, baselines=(np.zeros(3), np.zeros(3)))
