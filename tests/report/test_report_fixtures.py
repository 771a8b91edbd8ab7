"""Hand-built run directories for the report tests (no workflow runs, so the tests stay fast).

Imported by the other report tests; its own test checks that each folder is detected as its kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

MATCH_METHODS = ("random", "popularity", "wtcs", "twotower")


def make_match_run(folder: Path) -> Path:
    """A retrieval-benchmark folder with metrics, ratios and predictions of four methods."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    maps = {"random": 0.0811, "popularity": 0.2345, "wtcs": 0.3456, "twotower": 0.4321}
    rows = []
    for m, v in maps.items():
        row = {
            "method": m,
            "n_diseases": 12,
            "val_map": v + 0.01,
            "average_precision": v,
            "average_precision_lo": v - 0.05,
            "average_precision_hi": v + 0.05,
            "ndcg_at_10": v + 0.1,
            "ndcg_at_10_lo": v + 0.05,
            "ndcg_at_10_hi": v + 0.15,
        }
        rows.append(row)
    pd.DataFrame(rows).to_csv(folder / "metrics.tsv", sep="\t", index=False)
    pd.DataFrame(
        [
            {
                "numerator": "twotower",
                "denominator": "popularity",
                "metric": "average_precision",
                "ratio": 1.84,
                "lo": 1.2,
                "hi": 2.5,
                "n": 12,
            }
        ]
    ).to_csv(folder / "ratios.tsv", sep="\t", index=False)
    preds = []
    for m in MATCH_METHODS:
        for d in range(4):
            scores = rng.normal(size=20)
            indicated = np.zeros(20, bool)
            indicated[:3] = True
            order = np.argsort(-scores)
            rank = np.empty(20, int)
            rank[order] = np.arange(1, 21)
            preds.append(
                pd.DataFrame(
                    {
                        "method": m,
                        "fold": 0,
                        "disease": f"dis{d}",
                        "drug": [f"drug{i}" for i in range(20)],
                        "score": scores,
                        "rank": rank,
                        "indicated": indicated,
                    }
                )
            )
    pd.concat(preds).to_parquet(folder / "predictions.parquet", index=False)
    (folder / "report.json").write_text(
        json.dumps(
            {
                "report": {
                    "split": "disease",
                    "n_folds": 3,
                    "seed": 0,
                    "n_indications_used": 30,
                    "n_diseases_evaluated": 12,
                    "n_candidates": 20,
                    "n_genes": 100,
                }
            }
        )
    )
    return folder


def make_xai_run(folder: Path, n_genes: int = 40) -> tuple[Path, dict]:
    """An explanation-study folder: one dataset, one model, one run; returns (folder, truth)."""
    rng = np.random.default_rng(2)
    run = folder / "runs" / "simu1" / "lr" / "run00"
    run.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        [
            {
                "dataset": "simu1",
                "model": "lr",
                "n_runs": 1,
                "balanced_accuracy_mean": 91.25,
                "balanced_accuracy_sd": 0.0,
                "fa_local_mean": 61.5,
                "fa_local_sd": 0.0,
                "fa_global_mean": 88.0,
                "fa_global_sd": 0.0,
                "pgi_local_mean": 70.0,
                "pgu_local_mean": 2.0,
                "pgr_mean": 20.0,
            }
        ]
    ).to_csv(folder / "summary.tsv", sep="\t", index=False)
    pd.DataFrame(
        {
            "class": ["C0", "C1", "C2"],
            "k": [4, 6, 8],
            "n_examples": [5, 5, 5],
            "fa_local": [0.5, 0.6, 0.7],
            "fa_global_sum": [1.0, 1.0, 1.0],
        }
    ).to_csv(run / "fa_per_class.tsv", sep="\t", index=False)
    np.savez_compressed(
        run / "global_scores.npz",
        classes=np.array(["C0", "C1", "C2"]),
        scores=rng.normal(size=(3, n_genes)).astype(np.float32),
    )
    curves = [
        {
            "k": k,
            "setting": s,
            "selection": sel,
            "repeat": 0,
            "n_genes": k,
            "balanced_accuracy": 0.5 + 0.01 * k,
        }
        for k in (2, 5, 10)
        for s in ("keep", "remove")
        for sel in ("attribution", "random")
    ]
    pd.DataFrame(curves).to_csv(run / "curves.tsv", sep="\t", index=False)
    genes = [f"G{i:02d}" for i in range(n_genes)]
    truth = {"C0": genes[:4], "C1": genes[4:10], "C2": genes[10:18]}
    (folder / "datasets").mkdir(exist_ok=True)
    (folder / "datasets" / "simu1.json").write_text(json.dumps({"genes": genes, "ground_truth": truth}))
    return folder, truth


def make_score_table(path: Path) -> Path:
    """A tidy score table as `exprlab score` writes it: 2 queries x 15 signatures."""
    rng = np.random.default_rng(3)
    rows = [
        {"query": f"q{q}", "signature": f"sig{s}", "score": float(rng.uniform(-1, 1))}
        for q in range(2)
        for s in range(15)
    ]
    df = pd.DataFrame(rows)
    df["rank"] = df.groupby("query")["score"].rank(ascending=False).astype(int)
    df.to_csv(path, sep="\t", index=False)
    return path


def test_fixtures_are_detected_as_their_kinds(tmp_path):
    from exprlab.report import detect_kind

    assert detect_kind(make_match_run(tmp_path / "runs" / "m")) == "match-benchmark"
    assert detect_kind(make_xai_run(tmp_path / "runs" / "x")[0]) == "xai-study"
    assert detect_kind(make_score_table(tmp_path / "s.tsv")) == "score"
    (tmp_path / "d").mkdir()
    make_score_table(tmp_path / "d" / "scores.tsv")
    assert detect_kind(tmp_path / "d") == "score"
    (tmp_path / "e").mkdir()
    assert detect_kind(tmp_path / "e") == "generic"
    assert detect_kind(tmp_path / "runs") == "demo"  # a folder of runs
