"""Planted-truth generator: seeded, mechanisms as documented, bad parameters refused."""

import numpy as np
import pytest

from exprlab.errors import InvalidParameterError
from exprlab.simulate import simulate_planted


def test_seeded_and_shaped_like_the_real_benchmark():
    a = simulate_planted(n_diseases=10, n_drugs=20, seed=4)
    b = simulate_planted(n_diseases=10, n_drugs=20, seed=4)
    assert np.array_equal(a.diseases.X, b.diseases.X)
    assert a.indications.equals(b.indications)
    assert a.diseases.var_names.equals(a.drugs.var_names)
    assert set(a.drugs.obs["drug"]) == set(a.candidates)
    assert set(a.diseases.obs["disease"]) == {f"disease_{i:03d}" for i in range(10)}
    # drug sets match the +-1 matrix
    name = a.drugs.obs_names[0]
    up, down = a.drug_sets[name]
    row = a.drugs[name].X.ravel()
    assert set(a.drugs.var_names[row > 0]) == set(up)
    assert set(a.drugs.var_names[row < 0]) == set(down)


def test_mechanistic_indications_reverse_the_program():
    sim = simulate_planted(n_diseases=15, n_drugs=40, detect=1.0, popular_drugs=0, seed=1)
    programs, actions = sim.truth["disease_program"], sim.truth["drug_action"]
    listed = {(r.drug, r.disease) for r in sim.indications.itertuples()}
    for d, prog in programs.items():
        for s, (p, direction) in actions.items():
            reverses = dict(prog).get(p) == -direction
            assert ((s, d) in listed) == reverses
    # the disease signature pushes its program genes in the program's direction
    d0 = sim.diseases[sim.diseases.obs["disease"] == "disease_000"]
    for p, direction in programs["disease_000"]:
        genes = sim.truth["pathways"][p]
        assert np.sign(d0[:, genes].X.mean()) == direction


def test_popular_drugs_add_off_mechanism_labels():
    sim = simulate_planted(popular_drugs=3, popular_rate=0.6, seed=2)
    off = sim.indications[~sim.indications["mechanism"]]
    assert set(off["drug"]) <= set(sim.truth["popular_drugs"])
    assert len(off) > 0.3 * 3 * 60


@pytest.mark.parametrize(
    "kw",
    [
        {"n_pathways": 100, "pathway_size": 20, "n_genes": 600},
        {"program_size": 0},
        {"detect": 1.5},
        {"n_diseases": 1},
        {"set_size": 400},
    ],
)
def test_impossible_parameters(kw):
    with pytest.raises(InvalidParameterError, match="simulate_planted"):
        simulate_planted(**kw)
