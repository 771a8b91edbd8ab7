"""Random gene sets of keep/remove curves: seeded, one generator per repeat."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from exprlab.workflows import retraining_curves
from exprlab.workflows._retraining import _selections


def test_random_sets_are_deterministic_and_differ_between_repeats():
    scores = {"a": np.arange(50.0), "b": -np.arange(50.0)}
    first = _selections(scores, 4, 50, 5, base=11)
    again = _selections(scores, 4, 50, 5, base=11)
    ranked = first[0][2]
    assert first[0][0] == "attribution" and ranked.tolist() == [0, 1, 2, 3, 46, 47, 48, 49]
    sets = [genes for selection, _, genes in first if selection == "random"]
    assert [r for selection, r, _ in first if selection == "random"] == [0, 1, 2, 3, 4]
    assert all(g.size == ranked.size and np.unique(g).size == g.size for g in sets)
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(first, again, strict=True))
    assert len({tuple(g.tolist()) for g in sets}) == 5  # every repeat its own set
    # a repeat does not depend on how many are drawn; another seed draws other sets
    fewer = _selections(scores, 4, 50, 2, base=11)
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(first[:3], fewer, strict=True))
    other = _selections(scores, 4, 50, 5, base=12)
    assert not any(np.array_equal(a[2], b[2]) for a, b in zip(first[1:], other[1:], strict=True))


def _tiny(seed: int) -> tuple[ad.AnnData, ad.AnnData]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(["x", "y"], 20)
    values = rng.gamma(2.0, 1.0, size=(40, 12))
    values[labels == "y", :3] += 4.0
    adata = ad.AnnData(
        values.astype(np.float32), obs=pd.DataFrame({"c": labels}, index=[f"s{i}" for i in range(40)])
    )
    adata.var_names = [f"g{i}" for i in range(12)]
    order = rng.permutation(40)
    return adata[np.sort(order[:28])].copy(), adata[np.sort(order[28:])].copy()


def test_retraining_curves_repeat_the_random_control_reproducibly():
    train, test = _tiny(0)
    scores = np.linspace(1.0, 0.0, 12)
    options = dict(n_random=3, seed=7, settings=("keep",), training="paper", class_weight="none", epochs=3)
    table = retraining_curves(train, test, "c", scores, [2], **options)
    assert table[["selection", "repeat"]].values.tolist() == [
        ["attribution", 0],
        ["random", 0],
        ["random", 1],
        ["random", 2],
    ]
    assert (table["n_genes"] == 2).all()
    pd.testing.assert_frame_equal(table, retraining_curves(train, test, "c", scores, [2], **options))
