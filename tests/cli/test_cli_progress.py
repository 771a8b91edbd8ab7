"""Every command that can run long shows progress on stderr, and none does with --quiet or when piped.

Each long command runs once on tiny data with ``EXPRLAB_PROGRESS=always`` (bars even though the
test's stderr is not a terminal; each bar then writes its final state) and once more with
``--quiet``. A bar's line ends with its completed/total count and elapsed time ("3/3 0:00:01"),
which no other message prints. The commands left out are quick by construction (a report of one
run is quick too; that of a study plots every dataset and model): ``version``,
``info`` (metadata only), ``datasets`` listing, ``import`` (one read of the matrix, one write)
``match predict`` (one disease against the library, a few chunks) and ``match explain`` (one
disease-drug pair: a few contrast-perturbation pairs through one Integrated Gradients call);
``demo`` chains the studies checked here and carries its own bar.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest

import exprlab.workflows as workflows
from _planted_inputs import SMALL_LEARNED, planted_files
from exprlab.cli import main
from exprlab.io import write_h5ad
from exprlab.simulate import simulate_lda

BAR = re.compile(r"\d+/\d+ +\d+:\d\d:\d\d")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("progress")
    files = {**planted_files(root), "cohort": root / "cohort.h5ad"}
    cohort = simulate_lda("SIMU1", n_per_class=12, n_genes=200, seed=0, n_classes=3, n_overexpressed=3)
    write_h5ad(cohort, files["cohort"])
    assert main_ok(["library", "build", files["gct"], "--out", root / "lib.h5"])
    assert main_ok(
        ["train", "--data", files["cohort"], "--label", "class", "--arch", "mlp", "--out", root / "clf"]
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workflows, "train_models", partial(workflows.train_models, settings=SMALL_LEARNED))
        assert main_ok(["match", "train", "--out", root / "matcher", "--arch", "paper", *_triangle(files)])
    study = ["xai-study", "--data", files["cohort"], "--label", "class", "--models", "lr,mlp", "--runs", 1]
    assert main_ok([*study, "--n-steps", 8, "--n-random", 2, "--out", root / "study"])
    files.update(
        library=root / "lib.h5", classifier=root / "clf", matcher=root / "matcher", study=root / "study"
    )
    return files


def main_ok(argv) -> bool:
    try:
        main([str(a) for a in argv])
    except SystemExit as stop:
        return not stop.code
    return True


def _triangle(f):
    return ["--labels", f["labels"], "--drugs", f["drugs"], "--diseases", f["diseases"]]


# command -> argv given the inputs and a fresh output path
COMMANDS = {
    "simulate": lambda f, out: ["simulate", "--preset", "simu1", "--n-genes", 200, "--n-classes", 3,
                                "--n-per-class", 10, "--out", out.with_suffix(".h5ad")],
    "convert": lambda f, out: ["convert", f["drugs"], out.with_suffix(".gctx")],
    "library build": lambda f, out: ["library", "build", f["gct"], "--out", out.with_suffix(".h5")],
    "score": lambda f, out: ["score", "--library", f["library"], "--query", f["sets"],
                             "--out", out.with_suffix(".tsv")],
    "search": lambda f, out: ["search", "--library", f["library"], "--query", f["sets"],
                              "--n-permutations", 20, "--out", out],
    "export": lambda f, out: ["export", f["library"], "--to", "signaturesearch", "--out", out.with_suffix(".h5")],
    "train": lambda f, out: ["train", "--data", f["cohort"], "--label", "class", "--arch", "mlp", "--out", out],
    "explain": lambda f, out: ["explain", "--model", f["classifier"], "--data", f["cohort"], "--n-steps", 8,
                               "--out", out.with_suffix(".h5ad")],
    "biomarkers": lambda f, out: ["biomarkers", "--data", f["cohort"], "--label", "class", "--n-draws", 2,
                                  "--top", 3, "--n-steps", 8, "--out", out],
    "xai-study": lambda f, out: ["xai-study", "--data", f["cohort"], "--label", "class", "--models", "lr",
                                 "--runs", 1, "--n-steps", 8, "--n-random", 2, "--out", out],
    "match train": lambda f, out: ["match", "train", "--arch", "paper", "--out", out, *_triangle(f)],
    "match benchmark": lambda f, out: ["match", "benchmark", "--folds", 2, "--methods", "random,wtcs,paper",
                                       "--out", out, *_triangle(f)],
    "report": lambda f, out: ["report", f["study"], "--out", out.with_suffix(".html")],
}  # fmt: skip


def _run(argv, capsys) -> str:
    capsys.readouterr()
    ok = main_ok(argv)
    err = capsys.readouterr().err
    assert ok, err
    return err


@pytest.fixture
def small_training(monkeypatch):
    monkeypatch.setattr(workflows, "train_models", partial(workflows.train_models, settings=SMALL_LEARNED))
    monkeypatch.setattr(
        workflows, "run_benchmark", partial(workflows.run_benchmark, settings=SMALL_LEARNED, n_boot=50)
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_long_commands_show_progress_unless_quiet(
    command, inputs, tmp_path, capsys, monkeypatch, small_training
):
    monkeypatch.setenv("EXPRLAB_PROGRESS", "always")
    argv = [str(a) for a in COMMANDS[command](inputs, tmp_path / "shown")]
    err = _run(argv, capsys)
    assert BAR.search(err), f"{command}: no progress line on stderr:\n{err}"
    quiet = [str(a) for a in COMMANDS[command](inputs, tmp_path / "quiet")]
    err = _run(["--quiet", *quiet], capsys)
    assert not BAR.search(err), f"{command} --quiet still shows progress:\n{err}"


def test_bars_stay_off_when_stderr_is_piped(inputs, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EXPRLAB_PROGRESS", raising=False)  # auto: a terminal decides, and this is none
    err = _run(COMMANDS["score"](inputs, tmp_path / "piped"), capsys)
    assert not BAR.search(err), err
    monkeypatch.setenv("EXPRLAB_PROGRESS", "never")
    err = _run(COMMANDS["library build"](inputs, tmp_path / "never"), capsys)
    assert not BAR.search(err), err


def test_a_mistyped_progress_mode_is_refused_before_work(inputs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EXPRLAB_PROGRESS", "sometimes")
    out = tmp_path / "o.tsv"
    capsys.readouterr()
    assert not main_ok(["score", "--library", inputs["library"], "--query", inputs["sets"], "--out", out])
    err = capsys.readouterr().err
    assert "EXPRLAB_PROGRESS" in err and "always" in err and not out.exists()
