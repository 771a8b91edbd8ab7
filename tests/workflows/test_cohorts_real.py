"""Real-cohort workflow: accuracy on the clearly separable public tasks, top genes, splits."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InvalidParameterError
from exprlab.workflows._cohorts import (
    CohortTask,
    evaluate_task,
    stratified_split,
    top_attributed_genes,
)


def synthetic():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 30))
    labels = np.repeat(["up", "down"], 50)
    x[labels == "up", 7] += 5.0  # the one informative gene
    obs = pd.DataFrame({"y": labels}, index=[f"s{i}" for i in range(100)])
    var = pd.DataFrame(
        {"description": [f"gene {j}, long name" for j in range(30)]}, index=[f"G{j}" for j in range(30)]
    )
    return ad.AnnData(x, obs=obs, var=var)


def test_top_attributed_genes_by_hand():
    attr = np.array([[3.0, 4.0, 0.0], [0.0, -1.0, 0.0]])
    # normalised |attr|: [0.6, 0.8, 0], [0, 1, 0] -> means [0.3, 0.9, 0]
    assert top_attributed_genes(attr, ["a", "b", "c"], top=2) == ["b", "a"]
    assert top_attributed_genes(attr, ["a", "b", "c"], 1, descriptions=["x", "beta, long", "z"]) == [
        "b (beta)"
    ]


def test_split_is_stratified_and_seeded():
    data = synthetic()
    train, test = stratified_split(data, "y", test_size=0.4, seed=3)
    assert (train.n_obs, test.n_obs) == (60, 40)
    assert (test.obs["y"] == "up").sum() == 20
    again, _ = stratified_split(data, "y", test_size=0.4, seed=3)
    assert list(train.obs_names) == list(again.obs_names)
    assert not set(train.obs_names) & set(test.obs_names)


def test_workflow_finds_the_informative_gene():
    task = CohortTask("toy", "one informative gene", lambda: (synthetic(), None, "y"))
    table = evaluate_task(task, models=("lr",), batch_size=8, top=3)
    row = table.iloc[0]
    assert row["balanced_accuracy"] >= 0.9
    assert row["top_genes"][0] == "G7 (gene 7)"
    assert row["n_train"] + row["n_test"] == 100
    with pytest.raises(InvalidParameterError, match="unknown cohort task"):
        evaluate_task("nope")


@pytest.mark.parametrize("task", ["all-bt", "golub"])
def test_separable_real_tasks_reach_090(data_dir, task):
    table = evaluate_task(task, models=("lr", "mlp"), seed=0, top=5)
    assert list(table["model"]) == ["lr", "mlp"]
    assert (table["balanced_accuracy"] >= 0.9).all(), table[["model", "balanced_accuracy"]]
    assert all(len(genes) == 5 for genes in table["top_genes"])
