"""Bad input through the CLI, command by command: one clear line, exit status 2, no output left.

Table-driven: each case names a command line (with ``{tmp}`` for the test's folder and ``{out}``
for the output it must not create), the fixture files it needs, and a fragment the error line
must contain. Add a command by adding rows.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main


def _fixtures(tmp: Path) -> None:
    """Small valid and invalid input files shared by the cases."""
    (tmp / "not_a_matrix.gct").write_text("this is not a GCT file\n")
    (tmp / "data.xyz").write_text("1\t2\n")
    (tmp / "broken.gmt").write_text("SET_A\tdesc\n")  # a set without genes
    (tmp / "corrupt.h5ad").write_bytes(b"\x00\x01 not an HDF5 file")
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(30)]
    adata = ad.AnnData(
        rng.normal(size=(8, 30)).astype(np.float32),
        obs=pd.DataFrame(
            {
                "label": ["a", "b"] * 4,
                "drug": [f"d{i % 4}" for i in range(8)],
                "disease": [f"x{i % 4}" for i in range(8)],
            },
            index=[f"s{i}" for i in range(8)],
        ),
        var=pd.DataFrame(index=genes),
    )
    adata.write_h5ad(tmp / "good.h5ad")
    with gzip.open(tmp / "gz_garbage.gct.gz", "wt") as fh:
        fh.write("#1.2\nnot numbers\n")
    (tmp / "scores.tsv").write_text("a\tb\nx\ty\n")
    (tmp / "emptydir").mkdir()
    (tmp / "indications.tsv").write_text("drug\tdisease\nd0\tx0\nd1\tx1\nd2\tx2\n")


# (id, argv template, expected fragment of the error line (lower case))
CASES = [
    # data commands
    ("info-missing", ["info", "{tmp}/missing.gct"], "missing.gct"),
    ("info-wrong-format", ["info", "{tmp}/not_a_matrix.gct"], "not_a_matrix.gct"),
    ("info-unknown-extension", ["info", "{tmp}/data.xyz"], "data.xyz"),
    ("convert-missing", ["convert", "{tmp}/missing.gct", "{out}.gct"], "missing.gct"),
    ("convert-wrong-format", ["convert", "{tmp}/not_a_matrix.gct", "{out}.h5ad"], "not_a_matrix.gct"),
    ("convert-bad-target", ["convert", "{tmp}/good.h5ad", "{out}.xyz"], "xyz"),
    # matching engine
    (
        "score-missing-library",
        ["score", "--query", "{tmp}/good.h5ad", "--library", "{tmp}/missing.h5ad", "--out", "{out}.tsv"],
        "missing.h5ad",
    ),
    (
        "score-corrupt-query",
        ["score", "--query", "{tmp}/corrupt.h5ad", "--library", "{tmp}/good.h5ad", "--out", "{out}.tsv"],
        "corrupt.h5ad",
    ),
    (
        "score-bad-method",
        [
            "score",
            "--query",
            "{tmp}/good.h5ad",
            "--library",
            "{tmp}/good.h5ad",
            "--method",
            "nosuchmethod",
            "--out",
            "{out}.tsv",
        ],
        "nosuchmethod",
    ),
    (
        "score-bad-int",
        [
            "score",
            "--query",
            "{tmp}/good.h5ad",
            "--library",
            "{tmp}/good.h5ad",
            "--up",
            "many",
            "--out",
            "{out}.tsv",
        ],
        "--up",
    ),
    (
        "library-build-missing",
        ["library", "build", "{tmp}/missing.gctx", "--out", "{out}.h5"],
        "missing.gctx",
    ),
    (
        "library-build-wrong-format",
        ["library", "build", "{tmp}/broken.gmt", "--out", "{out}.h5"],
        "broken.gmt",
    ),
    # learned matching
    (
        "match-benchmark-missing",
        [
            "match",
            "benchmark",
            "--drugs",
            "{tmp}/missing.gctx",
            "--diseases",
            "{tmp}/missing2.gctx",
            "--out",
            "{out}",
        ],
        "missing",
    ),
    (
        "match-benchmark-bad-split",
        [
            "match",
            "benchmark",
            "--split",
            "sideways",
            "--drugs",
            "{tmp}/good.h5ad",
            "--diseases",
            "{tmp}/good.h5ad",
            "--labels",
            "{tmp}/indications.tsv",
            "--out",
            "{out}",
        ],
        "sideways",
    ),
    (
        "match-predict-missing-model",
        ["match", "predict", "--model", "{tmp}/missing_model", "--disease", "{tmp}/good.h5ad"],
        "missing_model",
    ),
    # classifiers and explanations
    (
        "train-missing",
        ["train", "--data", "{tmp}/missing.h5ad", "--label", "label", "--out", "{out}"],
        "missing.h5ad",
    ),
    (
        "train-wrong-format",
        ["train", "--data", "{tmp}/corrupt.h5ad", "--label", "label", "--out", "{out}"],
        "corrupt.h5ad",
    ),
    (
        "train-bad-model",
        ["train", "--data", "{tmp}/good.h5ad", "--label", "label", "--arch", "forest", "--out", "{out}"],
        "forest",
    ),
    (
        "train-bad-label",
        ["train", "--data", "{tmp}/good.h5ad", "--label", "nolabel", "--out", "{out}"],
        "nolabel",
    ),
    (
        "explain-missing-model",
        ["explain", "--model", "{tmp}/missing_model", "--data", "{tmp}/good.h5ad", "--out", "{out}.h5ad"],
        "missing_model",
    ),
    # simulation and explanation study
    ("simulate-bad-preset", ["simulate", "--preset", "simu9", "--out", "{out}.h5ad"], "simu9"),
    (
        "simulate-bad-int",
        ["simulate", "--preset", "simu1", "--n-genes", "lots", "--out", "{out}.h5ad"],
        "--n-genes",
    ),
    (
        "xai-study-missing",
        ["xai-study", "--data", "{tmp}/missing.h5ad", "--label", "label", "--out", "{out}"],
        "missing.h5ad",
    ),
    (
        "xai-study-bad-model",
        ["xai-study", "--data", "simu1", "--models", "forest", "--out", "{out}"],
        "forest",
    ),
    # reports and demo
    ("report-missing", ["report", "{tmp}/missing_run", "--out", "{out}.html"], "missing_run"),
    ("report-bad-out", ["report", "{tmp}/emptydir", "--out", "{out}.pdf"], ".pdf"),
    ("report-wrong-format", ["report", "{tmp}/scores.tsv", "--out", "{out}.html"], "scores.tsv"),
    ("demo-bad-seed", ["demo", "--seed", "abc", "--out", "{out}"], "--seed"),
    ("demo-verbose-quiet", ["demo", "--quiet", "--verbose", "--out", "{out}"], "quiet"),
]


def _param(case):
    if hasattr(case, "marks"):  # a pytest.param row (e.g. a known failure)
        name, *values = case.values
        return pytest.param(*values, id=name, marks=case.marks)
    return pytest.param(*case[1:], id=case[0])


@pytest.mark.parametrize("argv,fragment", [_param(c) for c in CASES])
def test_bad_input_one_line_exit_2_no_output(tmp_path, capsys, argv, fragment):
    _fixtures(tmp_path)
    out = tmp_path / "out" / "result"
    out.parent.mkdir()
    args = [a.format(tmp=tmp_path, out=out) for a in argv]
    with pytest.raises(SystemExit) as stop:
        main(args)
    captured = capsys.readouterr()
    assert stop.value.code == 2, captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert fragment.lower() in lines[0].lower()
    assert "Traceback" not in captured.err
    # nothing partial left where the output was to go (no file, folder or temporary part)
    assert list(out.parent.iterdir()) == []
