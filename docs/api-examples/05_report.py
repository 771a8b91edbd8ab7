"""Record a run (run.json) and render it as one self-contained HTML report."""

import tempfile
from pathlib import Path

from exprlab.report import read_run_manifest, render_report, write_run_manifest
from exprlab.simulate import simulate_planted
from exprlab.workflows import run_benchmark, write_benchmark

bench = simulate_planted(n_diseases=20, n_drugs=60, seed=1)
result = run_benchmark(bench, n_folds=2, seed=1, n_boot=100, methods=["random", "popularity", "cosine"])

with tempfile.TemporaryDirectory() as folder:
    run = write_benchmark(result, Path(folder) / "benchmark")
    write_run_manifest(
        run,
        "match-benchmark",
        {"n_folds": 2, "seed": 1},
        {"name": "simulate_planted", "n_diseases": 20, "n_drugs": 60},
    )
    assert read_run_manifest(run)["kind"] == "match-benchmark"
    html = render_report(run)
    text = html.read_text()
    assert "data:image/png;base64," in text and "<script" not in text
    print(f"report: {html.name}, {len(text) // 1024} KiB, self-contained")
