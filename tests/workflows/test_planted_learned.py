"""On the demo's planted data the best learned model is at least as good as the best connectivity score."""

import pytest

from exprlab.datasets import CONNECTIVITY
from exprlab.workflows._demo import DemoConfig, _planted_benchmark
from exprlab.workflows._repurposing import run_benchmark

pytestmark = pytest.mark.slow  # trains the two-tower model and the ranker on three folds


def test_best_learned_matches_best_connectivity_on_planted_demo_data():
    cfg = DemoConfig()  # the demo's planted benchmark and training settings, seed 0
    bench, settings, n_folds, _, _ = _planted_benchmark(cfg)
    learned = ["twotower", "ranker"]
    result = run_benchmark(
        bench,
        split="disease",
        n_folds=n_folds,
        seed=cfg.seed,
        methods=["popularity", *CONNECTIVITY, *learned],
        settings=settings,
        n_boot=200,
    )
    m = result.metrics.set_index("method")
    # "best" is chosen on selection MAP (a part no method used), never on test
    best_learned = max(learned, key=lambda k: m.loc[k, "sel_map"])
    best_conn = max(CONNECTIVITY, key=lambda k: m.loc[k, "sel_map"])
    assert m.loc[best_learned, "average_precision"] >= m.loc[best_conn, "average_precision"]
    # and the learned part is not popularity in disguise: it beats popularity too
    assert m.loc[best_learned, "average_precision"] > m.loc["popularity", "average_precision"]
