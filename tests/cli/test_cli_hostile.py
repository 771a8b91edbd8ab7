"""Hostile conditions through the CLI: every command refuses, in one line, to destroy data.

Table-driven. Each case is a command line run in a fresh copy of a folder of inputs (small data,
a trained model, a library, earlier outputs of exprlab and files exprlab did not write). Every
case must exit with status 2 and print exactly one line on stderr, without a traceback, and
leave every file of the folder byte-identical (sha256) with no entry added or removed: inputs,
earlier outputs and foreign files alike. ``{t}`` is the case's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.cli import main

LONG = "x" * 300


def _run(argv: list[str]) -> None:
    try:
        main(argv)
    except SystemExit as stop:  # main returns on success; an error exits non-zero
        assert stop.code in (0, None), f"setup command failed: {argv}"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The inputs every case starts from (built once, copied per case)."""
    t = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(40)]
    obs = pd.DataFrame(
        {"label": ["a", "b"] * 6, "drug": [f"d{i % 4}" for i in range(12)]},
        index=[f"s{i}" for i in range(12)],
    )
    adata = ad.AnnData(rng.normal(size=(12, 40)).astype(np.float32), obs=obs, var=pd.DataFrame(index=genes))
    adata.write_h5ad(t / "good.h5ad")
    (t / "proj").mkdir()
    shutil.copy(t / "good.h5ad", t / "proj" / "x.h5ad")
    (t / "notes.txt").write_text("a file of the user\n")
    (t / "foreign.tsv").write_text("mine\t1\n")
    (t / "foreign.h5ad").write_bytes(b"user bytes")
    (t / "foreign.h5").write_bytes(b"user bytes")
    (t / "foreign.html").write_text("<html>the user's page</html>\n")
    (t / "foreign_dir").mkdir()
    (t / "foreign_dir" / "keep.txt").write_text("keep me\n")
    (t / "indications.tsv").write_text("drug\tdisease\nd0\tx0\nd1\tx1\n")
    (t / "genes.gmt").write_text("SET_up\tna\tG1\tG2\tG3\nSET_dn\tna\tG4\tG5\tG6\n")
    _run(
        [
            "-q",
            "train",
            "--data",
            str(t / "good.h5ad"),
            "--label",
            "label",
            "--epochs",
            "1",
            "--out",
            str(t / "model"),
        ]
    )
    _run(["-q", "library", "build", str(t / "good.h5ad"), "--out", str(t / "lib.h5")])
    _run(
        [
            "-q",
            "score",
            "--query",
            str(t / "genes.gmt"),
            "--library",
            str(t / "lib.h5"),
            "--out",
            str(t / "own.tsv"),
        ]
    )
    _run(["-q", "convert", str(t / "good.h5ad"), str(t / "own.h5ad")])
    (t / "run").mkdir()
    (t / "run" / "run.json").write_text(json.dumps({"kind": "match-benchmark"}))
    # a model damaged three ways
    for name in ("bad_weights", "bad_json", "no_preprocess"):
        shutil.copytree(t / "model", t / name)
    (t / "bad_weights" / "weights.pt").write_bytes((t / "model" / "weights.pt").read_bytes()[:64])
    (t / "bad_json" / "metadata.json").write_text('{"format": "exprlab-classifier", ')
    (t / "no_preprocess" / "preprocess.npz").unlink()
    (t / "bad_matcher").mkdir()
    (t / "bad_matcher" / "model.json").write_text('{"members": [{"seed": 0}]}')
    (t / "bad_matcher" / "genes.txt").write_text("G1\nG2\n")
    (t / "bad_matcher" / "model_0.pt").write_bytes(b"truncated")
    return t


def _snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file and a marker for every folder under ``root`` (hidden ones included)."""
    state = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_dir():
            state[key] = "<dir>"
        else:
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


G = "{t}/good.h5ad"
MODEL = "{t}/model"
BENCH = ["--drugs", G, "--diseases", G, "--labels", "{t}/indications.tsv"]


def _writers():
    """(name, argv with {out}, its kind of output: 'file' or 'folder', accepted suffix)."""
    return [
        ("convert", ["convert", G, "{out}"], "file", ".h5ad"),
        (
            "score",
            ["score", "--query", "{t}/genes.gmt", "--library", "{t}/lib.h5", "--out", "{out}"],
            "file",
            ".tsv",
        ),
        ("library-build", ["library", "build", G, "--out", "{out}"], "file", ".h5"),
        ("simulate", ["simulate", "--preset", "simu1", "--out", "{out}"], "file", ".h5ad"),
        ("explain", ["explain", "--model", MODEL, "--data", G, "--out", "{out}"], "file", ".h5ad"),
        ("report", ["report", "{t}/run", "--out", "{out}"], "file", ".html"),
        ("train", ["train", "--data", G, "--label", "label", "--out", "{out}"], "folder", ""),
        ("xai-study", ["xai-study", "--data", "simu1", "--out", "{out}"], "folder", ""),
        ("match-benchmark", ["match", "benchmark", *BENCH, "--out", "{out}"], "folder", ""),
        ("match-train", ["match", "train", *BENCH, "--out", "{out}"], "folder", ""),
        (
            "match-explain",
            ["match", "explain", "--model", MODEL, "--disease", G, "--drug", G, "--out", "{out}"],
            "folder",
            "",
        ),
        ("demo", ["demo", "--out", "{out}"], "folder", ""),
    ]


def _with_out(argv, out, *extra):
    return [a.replace("{out}", out) for a in argv] + list(extra)


def _output_cases():
    """Every writer against every hostile place for its output."""
    cases = []
    for name, argv, shape, suffix in _writers():
        places = {
            "under-a-file": ("{t}/notes.txt/out" + suffix, "notes.txt"),
            "under-proc": ("/proc/exprlab-out" + suffix, "/proc"),
            "name-too-long": ("{t}/" + LONG + suffix, "too long"),
            "foreign-force": (
                "{t}/foreign_dir" if shape == "folder" else "{t}/foreign" + suffix,
                "did not write",
            ),
            "foreign": ("{t}/foreign_dir" if shape == "folder" else "{t}/foreign" + suffix, "did not write"),
        }
        if shape == "file":
            places["folder-in-the-way"] = ("{t}/proj", "")
            places["wrong-extension"] = ("{t}/out.xyz" if name == "convert" else "{t}/out.gct", "")
            places["missing-folder"] = ("{t}/nowhere/out" + suffix, "does not exist")
        else:
            places["file-in-the-way"] = ("{t}/notes.txt", "file")
            places["holds-an-input"] = ("{t}", "")
        for place, (out, fragment) in places.items():
            extra = ("--force",) if place == "foreign-force" else ()
            cases.append(pytest.param(_with_out(argv, out, *extra), fragment, id=f"{name}-{place}"))
    return cases


def _input_cases():
    """Outputs that are an input, or a folder that holds one."""
    return [
        pytest.param(["convert", G, G], "is the input", id="convert-onto-input"),
        pytest.param(["convert", G, G, "--force"], "is the input", id="convert-onto-input-force"),
        pytest.param(
            ["library", "build", "{t}/foreign.h5", "-o", "{t}/foreign.h5"], "input", id="build-onto-input"
        ),
        pytest.param(["train", "--data", G, "--label", "label", "--out", G], "", id="train-onto-input"),
        pytest.param(
            ["train", "--data", "{t}/proj/x.h5ad", "--label", "label", "--out", "{t}/proj", "--force"],
            "holds the input",
            id="train-into-input-folder",
        ),
        pytest.param(
            ["score", "--query", "{t}/foreign.tsv", "--library", "{t}/lib.h5", "--out", "{t}/foreign.tsv"],
            "input",
            id="score-onto-query",
        ),
        pytest.param(
            ["explain", "--model", MODEL, "--data", "{t}/own.h5ad", "--out", "{t}/own.h5ad", "--force"],
            "is the input",
            id="explain-onto-data",
        ),
        pytest.param(
            ["match", "benchmark", *BENCH, "--out", "{t}", "--force"], "", id="benchmark-into-input-folder"
        ),
        pytest.param(["report", "{t}/run", "--out", "{t}/run"], "", id="report-onto-run"),
        pytest.param(
            ["xai-study", "--data", "{t}/proj/x.h5ad", "--label", "label", "--out", "{t}/proj"],
            "holds the input",
            id="xai-study-into-input-folder",
        ),
    ]


def _existing_cases():
    """Earlier outputs: of the same kind without --force, of another kind with it."""
    return [
        pytest.param(["convert", G, "{t}/own.h5ad"], "--force", id="convert-own-no-force"),
        pytest.param(
            ["score", "--query", "{t}/genes.gmt", "--library", "{t}/lib.h5", "--out", "{t}/own.tsv"],
            "--force",
            id="score-own-no-force",
        ),
        pytest.param(["library", "build", G, "--out", "{t}/lib.h5"], "--force", id="build-own-no-force"),
        pytest.param(
            ["train", "--data", G, "--label", "label", "--out", MODEL], "--force", id="train-own-no-force"
        ),
        pytest.param(
            ["simulate", "--preset", "simu1", "--out", "{t}/own.tsv", "--force"],
            "h5ad",
            id="simulate-over-table",
        ),
        pytest.param(["convert", G, "{t}/own.tsv", "--force"], "", id="convert-over-score-table"),
        pytest.param(
            ["explain", "--model", MODEL, "--data", G, "--out", "{t}/own.h5ad", "--force"],
            "matrix",
            id="explain-over-other-kind",
        ),
        pytest.param(
            ["match", "benchmark", *BENCH, "--out", MODEL, "--force"], "classifier", id="benchmark-over-model"
        ),
        pytest.param(
            ["match", "train", *BENCH, "--out", "{t}/run", "--force"],
            "match-benchmark",
            id="match-train-over-run",
        ),
        pytest.param(["demo", "--out", MODEL, "--force"], "classifier", id="demo-over-model"),
        pytest.param(
            ["xai-study", "--data", "simu1", "--out", MODEL], "classifier", id="xai-study-over-model"
        ),
        pytest.param(["convert", G, "{t}/lib.h5", "--force"], "", id="convert-over-library"),
        pytest.param(
            ["score", "--query", "{t}/genes.gmt", "--library", "{t}/lib.h5", "--out", "{t}/foreign.html"],
            "",
            id="score-html-name",
        ),
    ]


def _option_cases():
    """Absurd options: refused with the allowed range before any work."""
    q = ["score", "--query", "{t}/genes.gmt", "--library", "{t}/lib.h5", "--out", "{t}/s.tsv"]
    xai = ["xai-study", "--data", "simu1", "--out", "{t}/study"]
    return [
        pytest.param([*q, "--up", "0", "--down", "0"], "--down", id="score-up0-down0"),
        pytest.param([*q, "--up", "-1"], "--up", id="score-up-negative"),
        pytest.param([*q, "--chunk-size", "0"], "--chunk-size", id="score-chunk0"),
        pytest.param(
            ["library", "build", G, "--out", "{t}/l2.h5", "--chunk-size", "0"],
            "--chunk-size",
            id="build-chunk0",
        ),
        pytest.param([*xai, "--n-random", "-3"], "--n-random", id="xai-n-random-negative"),
        pytest.param([*xai, "--pgr-subsample", "-1"], "--pgr-subsample", id="xai-pgr-negative"),
        pytest.param([*xai, "--runs", "0"], "--runs", id="xai-runs0"),
        pytest.param([*xai, "--curves", "0,10"], "--curves", id="xai-curves0"),
        pytest.param([*xai, "--n-steps", "0"], "--n-steps", id="xai-steps0"),
        pytest.param(
            ["train", "--data", G, "--label", "label", "--out", "{t}/m2", "--epochs", "0"],
            "--epochs",
            id="train-epochs0",
        ),
        pytest.param(
            ["explain", "--model", MODEL, "--data", G, "--out", "{t}/a.h5ad", "--n-steps", "0"],
            "--n-steps",
            id="explain-steps0",
        ),
        pytest.param(
            ["match", "benchmark", *BENCH, "--out", "{t}/b", "--folds", "1"], "--folds", id="benchmark-folds1"
        ),
        pytest.param(
            ["match", "train", *BENCH, "--out", "{t}/mt", "--n-seeds", "0"],
            "--n-seeds",
            id="match-train-seeds0",
        ),
        pytest.param(
            ["match", "predict", "--model", MODEL, "--disease", G, "--top", "0"], "--top", id="predict-top0"
        ),
        pytest.param(
            [
                "match",
                "explain",
                "--model",
                MODEL,
                "--disease",
                G,
                "--drug",
                G,
                "--out",
                "{t}/e",
                "--top",
                "0",
            ],
            "--top",
            id="match-explain-top0",
        ),
    ]


def _corrupt_cases():
    """Inputs of exprlab's own making, damaged: named, with the command that rewrites them."""
    return [
        pytest.param(
            ["explain", "--model", "{t}/bad_weights", "--data", G, "--out", "{t}/a.h5ad"],
            "exprlab train",
            id="model-truncated-weights",
        ),
        pytest.param(
            ["explain", "--model", "{t}/bad_json", "--data", G, "--out", "{t}/a.h5ad"],
            "exprlab train",
            id="model-broken-json",
        ),
        pytest.param(
            ["explain", "--model", "{t}/no_preprocess", "--data", G, "--out", "{t}/a.h5ad"],
            "preprocess.npz",
            id="model-missing-file",
        ),
        pytest.param(
            ["explain", "--model", "{t}/foreign_dir", "--data", G, "--out", "{t}/a.h5ad"],
            "exprlab train",
            id="model-foreign-folder",
        ),
        pytest.param(
            ["match", "predict", "--model", "{t}/bad_matcher", "--disease", G],
            "exprlab match train",
            id="matcher-damaged",
        ),
        pytest.param(
            ["match", "predict", "--model", MODEL, "--disease", G], "model.json", id="matcher-is-classifier"
        ),
        pytest.param(
            ["match", "explain", "--model", "{t}/bad_matcher", "--disease", G, "--drug", G, "--out", "{t}/e"],
            "exprlab match train",
            id="match-explain-damaged-model",
        ),
    ]


CASES = _output_cases() + _input_cases() + _existing_cases() + _option_cases() + _corrupt_cases()


def test_the_battery_is_large_enough():
    assert len(CASES) >= 80


@pytest.mark.parametrize("argv,fragment", CASES)
def test_hostile_case_one_line_exit_2_nothing_changed(base, tmp_path, capsys, argv, fragment):
    t = tmp_path / "case"
    shutil.copytree(base, t, symlinks=True)
    before = _snapshot(t)
    args = [a.replace("{t}", str(t)) for a in argv]
    with pytest.raises(SystemExit) as stop:
        main(args)
    captured = capsys.readouterr()
    assert stop.value.code == 2, captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err
    assert fragment.lower() in lines[0].lower(), lines[0]
    assert _snapshot(t) == before
    assert not any(p.name.startswith(".exprlab-out") for p in Path("/proc").glob(".exprlab*"))
    assert not os.path.exists("/proc/exprlab-out")
