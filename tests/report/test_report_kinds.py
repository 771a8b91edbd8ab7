"""Every run kind through its real command on tiny data: run.json, the report, missing tables, info.

One module fixture runs each command once (library build, score, match train / predict / explain /
benchmark with two-epoch models, a finished and a stopped explanation study); the tests then
render the folders, damage them one table at a time and describe them with ``exprlab info``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import exprlab.workflows as workflows
from _planted_inputs import SMALL_LEARNED, planted_files
from exprlab.cli import app
from exprlab.report import read_run_manifest, render_report
from exprlab.report._format import LABELS
from exprlab.workflows import _xai_study

TINY_STUDY = dict(
    n_per_class=15,
    n_genes=300,
    runs=1,
    n_steps=20,
    n_random=3,
    sim_params={"n_classes": 3, "n_overexpressed": 3},
)


def _cli(*args: object) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.output


def _stopped_study(out: Path) -> None:
    """A study of 3 planned runs interrupted after its first: what Ctrl-C leaves behind."""
    calls = {"n": 0}
    original = _xai_study._one_run

    def stop_after_one(*args, **kwargs):
        if calls["n"] == 1:
            raise KeyboardInterrupt
        calls["n"] += 1
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_xai_study, "_one_run", stop_after_one)
        with pytest.raises(KeyboardInterrupt):
            _xai_study.run_xai_study(["simu1"], out, models=("lr",), **dict(TINY_STUDY, runs=3))


def build_runs(root: Path) -> dict[str, Path]:
    """One real run folder (or file) of each kind, made by its command with tiny settings."""
    f = planted_files(root)
    runs: dict[str, Path] = {"library": root / "lib.h5", "score": root / "scores.tsv"}
    _cli("library", "build", f["gct"], "--out", runs["library"])
    _cli(
        "score",
        "--library",
        runs["library"],
        "--query",
        f["sets"],
        "--out",
        runs["score"],
        "--method",
        "xsum",
    )
    data = ["--labels", f["labels"], "--drugs", f["drugs"], "--diseases", f["diseases"]]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workflows, "train_models", partial(workflows.train_models, settings=SMALL_LEARNED))
        mp.setattr(
            workflows, "run_benchmark", partial(workflows.run_benchmark, settings=SMALL_LEARNED, n_boot=100)
        )
        runs["matcher"] = root / "model"
        _cli("match", "train", "--out", runs["matcher"], "--arch", "paper", "--n-seeds", "2", *data)
        runs["match-benchmark"] = root / "bench"
        methods = "random,popularity,wtcs,paper"
        _cli(
            "match",
            "benchmark",
            "--out",
            runs["match-benchmark"],
            "--folds",
            "3",
            "--methods",
            methods,
            *data,
        )
    runs["match-predict"] = root / "pred"
    _cli(
        "match", "predict", "--model", runs["matcher"], "--disease", f["disease"], "--drugs", f["drugs"],
        "--top", "25", "--out", runs["match-predict"],
    )  # fmt: skip
    runs["match-explanation"] = root / "expl"
    _cli(
        "match", "explain", "--model", runs["matcher"], "--disease", f["disease"], "--drug", f["drug"],
        "--genesets", f["sets"], "--top", "10", "--n-steps", "8", "--out", runs["match-explanation"],
    )  # fmt: skip
    runs["xai-study"] = root / "study"
    _xai_study.run_xai_study(["simu1"], runs["xai-study"], models=("lr",), **TINY_STUDY)
    runs["stopped-study"] = root / "stopped"
    _stopped_study(runs["stopped-study"])
    runs["files"] = f["gct"]  # not a run: inputs, for info
    runs["gmt"] = f["sets"]
    runs["h5ad"] = f["drugs"]
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    return build_runs(tmp_path_factory.mktemp("kinds"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_every_command_writes_a_manifest_with_the_values_used_and_checksums(runs):
    manifests = {
        "library": json.loads(Path(str(runs["library"]) + ".run.json").read_text()),
        "score": json.loads(Path(str(runs["score"]) + ".run.json").read_text()),
        "matcher": json.loads((runs["matcher"] / "run.json").read_text()),
        "match-predict": json.loads((runs["match-predict"] / "run.json").read_text()),
        "match-explanation": json.loads((runs["match-explanation"] / "run.json").read_text()),
    }
    for kind, m in manifests.items():
        assert m["kind"] == kind
        assert m["status"] == "finished" and m["finished"]
        assert m["versions"]["exprlab"] and m["versions"]["numpy"]
        assert None not in m["parameters"].values(), (kind, m["parameters"])
    # defaults were resolved, not recorded as null
    assert manifests["score"]["parameters"]["ties"] == "midrank"  # the library's rule
    assert manifests["score"]["parameters"]["top"] == 500
    dims = runs["files"].read_text().splitlines()[1].split("\t")
    n_signatures = int(dims[1])  # the GCT dimension line: genes, samples, metadata rows/columns
    assert manifests["library"]["summary"]["n_signatures"] == n_signatures
    assert (
        manifests["matcher"]["parameters"]["training"]["max_epochs"] == SMALL_LEARNED.paper.max_epochs
    )  # as trained
    assert manifests["matcher"]["parameters"]["training"]["max_genes"] == SMALL_LEARNED.max_genes
    # inputs: path, size and a SHA-256 computed here independently
    lib_in = manifests["library"]["data_provenance"][0]
    gct = runs["files"]
    assert Path(lib_in["path"]) == gct.resolve()
    assert lib_in["bytes"] == gct.stat().st_size
    assert lib_in["sha256"] == _sha256(gct)
    score_in = {e["name"]: e for e in manifests["score"]["data_provenance"]}
    assert score_in["library"]["sha256"] == _sha256(runs["library"])
    assert score_in["query"]["sha256"] == _sha256(runs["gmt"])
    assert set(score_in) == {"library", "query"}


@pytest.mark.slow
def test_xai_study_manifest_resolves_log2_and_a_stopped_one_counts_runs(runs):
    m = read_run_manifest(runs["xai-study"])
    assert m is not None and m["parameters"]["log2"] == {"simu1": True}
    stopped = read_run_manifest(runs["stopped-study"])
    assert stopped is not None and stopped["status"] == "running"
    assert stopped["summary"]["planned_runs"] == 3
    html = render_report(runs["stopped-study"], runs["stopped-study"].parent / "stopped.html").read_text()
    assert "1/3 runs done; rerun the same command to resume" in html
    assert "generic" not in html.split("<main>")[1].split("Parameters, versions")[0]


# the kind's report, and phrases only a working renderer writes
EXPECTED = {
    "library": ("exprlab signature library", "39 signatures × 120 genes"),
    "score": ("exprlab connectivity scores", "Score summary per query"),
    "matcher": ("exprlab trained matcher", "2 ensemble members"),
    "match-predict": ("exprlab drug ranking", "Ranked drugs, best first", "A drug-only score"),
    "match-explanation": ("exprlab match explanation", "Top genes by attribution"),
    "match-benchmark": ("exprlab drug-disease retrieval benchmark", "Best method on held-out diseases"),
    "xai-study": ("exprlab explanation study", "Accuracy and feature agreement"),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_renders_its_report(runs, kind, tmp_path):
    out = render_report(runs[kind], tmp_path / "r.html", svg=kind == "match-benchmark")
    html = out.read_text()
    for text in EXPECTED[kind]:
        assert text in html, (kind, text)
    assert "could not be rendered" not in html and "could not be read" not in html
    assert "sha256" in html.lower() or kind == "xai-study"  # inputs with checksums
    # every table header is a reader's name: no column of the run's tables (drug_r2, rank_auc ...)
    # shown as itself with its underscores turned into spaces for want of a label
    body = html.split("<main>")[1].split("Parameters, versions")[0]
    headers = set(re.findall(r"<th[^>]*>([^<]*)</th>", body))
    unlabelled = {c.replace("_", " ") for c in _columns(runs[kind]) if "_" in c and c not in LABELS}
    assert not headers & unlabelled, (kind, sorted(headers & unlabelled))
    assert not any("_" in h for h in headers), (kind, headers)
    keys = re.findall(r"<dt>([^<]*)</dt>", body)  # the report's own key-value lists
    assert not [k for k in keys if "_" in k or k.startswith("n ")], (kind, keys)
    if kind == "match-benchmark":
        svgs = list((tmp_path / "r_files").glob("*.svg"))
        assert svgs and all(s.read_text().lstrip().startswith("<?xml") for s in svgs)
        assert "dashed lines: the random and popularity baselines" in html


def _columns(run: Path) -> set[str]:
    """The column names of every tab-separated table of a run (a folder or one table)."""
    files = [run] if run.is_file() else sorted(run.rglob("*.tsv"))
    columns: set[str] = set()
    for f in files:
        if f.suffix == ".tsv":
            columns |= set(pd.read_csv(f, sep="\t", nrows=1).columns)
    return columns


# files the report does not read (the per-run metrics are summarised in summary.tsv and runs.tsv)
NOT_READ = {"metrics.json", "study.json", "pairs.tsv"}


def _tables(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix in (".tsv", ".parquet", ".json", ".npz")
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", ["match-benchmark", "xai-study", "match-explanation", "match-predict", "matcher"]
)
def test_each_missing_or_damaged_table_is_a_note(runs, kind, tmp_path):
    """Delete (then garble) every table of a real run in turn: the report renders and says what is missing."""
    original = runs[kind]
    for table in _tables(original):
        if table.name == "run.json":
            continue
        for damage in ("delete", "garble"):
            copy = tmp_path / f"{kind}-{damage}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(original, copy)
            target = copy / table.relative_to(original)
            if damage == "delete":
                target.unlink()
            else:
                target.write_bytes(b"\x00garbled\x00")
            html = render_report(copy, tmp_path / "r.html").read_text()
            assert "<section" in html, (kind, table.name, damage)
            if table.name not in NOT_READ:
                assert 'class="note"' in html, (kind, table.name, damage)


def test_number_format_is_three_significant_digits():
    from exprlab.report._format import fmt

    cases = {
        65.75835844009218: "65.8",
        0.3759: "0.376",
        0.082: "0.082",
        123456.7: "123,000",
        999.6: "1,000",
        1.234567e-05: "1.23e-05",
        2.0: "2",
        12: "12",
        float("nan"): "–",
        None: "–",
        np.float32(0.5): "0.5",
        -0.04567: "-0.0457",
    }
    for value, text in cases.items():
        assert fmt(value) == text, value


def test_long_tables_are_cut_at_20_rows_and_linked(tmp_path):
    from exprlab.report._html import HtmlReport

    report = HtmlReport("t", target=tmp_path / "report.html")
    df = pd.DataFrame({"x": np.arange(25) + 0.123456})
    report.section("s").table(df, caption="long one")
    path = report.write(tmp_path / "report.html")
    html = path.read_text()
    assert html.count("<tr>") == 21  # header + 20 rows
    assert "First 20 of 25 rows" in html
    link = re.search(r'href="(report_files/[^"]+\.tsv)"', html).group(1)
    full = pd.read_csv(tmp_path / link, sep="\t")
    assert len(full) == 25 and full["x"].iloc[-1] == pytest.approx(24.123456)


def _info(path: Path) -> str:
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, ["info", str(path)])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.slow
def test_info_reads_every_file_exprlab_writes(runs, tmp_path):
    from exprlab.models import ExpressionClassifier
    from exprlab.simulate import simulate_lda

    gene_major = tmp_path / "lib2.gctx"
    _cli("library", "build", runs["files"], "--out", gene_major, "--layout", "gene_major")
    data = simulate_lda("simu1", n_per_class=8, n_genes=300, seed=0, n_classes=3, n_overexpressed=3)
    classifier = ExpressionClassifier("lr", seed=0).fit(data, "class").save(tmp_path / "clf")
    npz = next((runs["xai-study"] / "runs").rglob("global_scores.npz"))
    expected = {
        runs["library"]: ("exprlab library", "signature_major (format 1)", "sha256"),
        gene_major: ("exprlab library", "gene_major (format 2", "39 signatures x 120 genes"),
        runs["matcher"]: ("exprlab matcher (model folder)", "ensemble members"),
        classifier: ("exprlab classifier (model folder)", "architecture"),
        runs["match-benchmark"]: ("exprlab run folder", "match-benchmark", "input drugs"),
        runs["match-explanation"]: ("exprlab run folder", "match-explanation"),
        runs["stopped-study"]: ("running", "runs finished", "1/3"),
        runs["score"]: ("tsv", "parameter method", "xsum"),
        Path(str(runs["score"]) + ".run.json"): ("exprlab run manifest", "xsum"),
        runs["match-benchmark"] / "predictions.parquet": ("parquet", "method"),
        runs["match-predict"] / "ranking.tsv": ("tsv", "drug"),
        npz: ("numpy arrays", "float32"),
        runs["gmt"]: ("gmt", "6 (sizes"),
        runs["files"]: ("gct", "39 obs"),
        runs["h5ad"]: ("h5ad", "39 obs"),
    }
    for path, texts in expected.items():
        out = _info(path)
        for text in texts:
            assert text in out, (path.name, text, out)
    assert re.search(r"ensemble members\s*│\s*2\s*│", _info(runs["matcher"]))


def test_fifteen_curves_get_fifteen_colours_and_the_legend_sits_outside():
    from matplotlib.colors import to_hex

    from exprlab.report._plots import colours, curves_xy

    palette = [to_hex(c) for c in colours(15)]
    assert len(set(palette)) == 15  # the 10-colour cycle would repeat 5 of them
    xs = np.arange(5)
    png = curves_xy({f"fold {i}": (xs, xs * 0.01 * i) for i in range(15)}, xlabel="epoch", ylabel="MAP")
    assert png.startswith(b"\x89PNG")


def test_a_new_kind_plugs_in_with_one_registration(tmp_path):
    from exprlab.report import register_renderer

    def render(report, path, manifest):
        report.section("Biomarkers").paragraph(f"{manifest['parameters']['top']} genes")

    register_renderer("test-kind", render, title="exprlab test kind")
    run = tmp_path / "run"
    run.mkdir()
    from exprlab.report import write_run_manifest

    write_run_manifest(run, "test-kind", {"top": 7}, [])
    html = render_report(run).read_text()
    assert "exprlab test kind" in html and "7 genes" in html


def test_an_unfinished_resumable_run_says_how_far_it_got(tmp_path):
    from exprlab.report import write_run_manifest

    run = tmp_path / "bench"
    run.mkdir()
    summary = {"planned": 5, "done": 3, "unit": "folds"}
    write_run_manifest(run, "match-benchmark", {"folds": 5}, [], summary=summary, finished=False)
    html = render_report(run).read_text()
    assert "3/5 folds done; rerun the same command to resume" in html
    assert "metrics.tsv could not be read" in html  # no table yet: a note, not a traceback


def test_key_finding_names_the_validation_choice_and_its_ratios_to_the_baselines():
    from exprlab.report._render_match import key_finding

    metrics = pd.DataFrame(
        {
            "method": ["random", "popularity", "wtcs", "twotower"],
            "val_map": [np.nan, 0.2, 0.5, 0.4],  # wtcs is the validation choice, not twotower
            "average_precision": [0.1, 0.2, 0.3, 0.4],
            "average_precision_lo": [0.1, 0.15, 0.25, 0.35],
            "average_precision_hi": [0.1, 0.25, 0.35, 0.45],
        }
    )
    ratios = pd.DataFrame(
        {"numerator": ["twotower"], "denominator": ["popularity"], "ratio": [2.0], "lo": [1.5], "hi": [2.5]}
    )
    # by hand: 0.3 / 0.2 = 1.5, 0.3 / 0.1 = 3; 0.4 / 0.1 = 4 (no interval recorded)
    assert key_finding(metrics, ratios) == (
        "Best method on held-out diseases (chosen on validation MAP): wtcs, MAP 0.3 [0.25, 0.35], "
        "1.5× popularity, 3× random; best learned method: twotower, MAP 0.4 [0.35, 0.45], "
        "2× popularity [1.5, 2.5], 4× random."
    )
    no_validation = metrics.drop(columns="val_map")
    assert key_finding(no_validation, split="drug").startswith(
        "Best method on held-out drugs (highest test MAP, no validation choice recorded): twotower, MAP 0.4"
    )


def test_key_finding_prefers_the_selection_choice_and_says_so():
    from exprlab.report._render_match import key_finding

    metrics = pd.DataFrame(
        {
            "method": ["random", "popularity", "wtcs", "twotower"],
            "val_map": [np.nan, 0.2, 0.3, 0.6],  # the network's flattering validation MAP
            "sel_map": [np.nan, 0.2, 0.35, 0.25],  # the part no method used chooses wtcs
            "average_precision": [0.1, 0.2, 0.3, 0.4],
        }
    )
    assert key_finding(metrics).startswith(
        "Best method on held-out diseases (chosen on selection MAP): wtcs, MAP 0.3"
    )


def test_report_svg_flag_writes_each_figure_as_svg_beside_the_report(tmp_path):
    from test_report_fixtures import make_match_run

    run = make_match_run(tmp_path / "bench")
    out = tmp_path / "bench.html"
    _cli("report", run, "--out", out, "--svg")
    svgs = sorted((tmp_path / "bench_files").glob("*.svg"))
    html = out.read_text()
    assert len(svgs) == html.count(">SVG</a>") >= 4  # MAP and nDCG bars, PR curves, score distributions
    assert all("<svg" in s.read_text()[:2000] for s in svgs)
    _cli("report", run, "--out", tmp_path / "plain.html")
    assert not (tmp_path / "plain_files").exists()  # without --svg (and no long table) nothing beside


def test_a_benchmark_without_learned_methods_has_no_ratios_and_no_damage_note(tmp_path):
    from test_report_fixtures import make_match_run

    run = make_match_run(tmp_path / "bench")
    # what write_benchmark writes when no learned method ran: pandas' empty table, one newline
    pd.DataFrame().to_csv(run / "ratios.tsv", sep="\t", index=False)
    assert (run / "ratios.tsv").read_bytes() == b"\n"
    html = render_report(run, tmp_path / "r.html").read_text()
    assert "damaged or empty" not in html


def test_a_cut_table_counts_its_rows_with_thousands_grouped(tmp_path):
    from exprlab.report._html import HtmlReport

    report = HtmlReport("t", target=tmp_path / "report.html")
    report.section("s").table(pd.DataFrame({"x": np.arange(1234)}), caption="long one")
    html = report.write(tmp_path / "report.html").read_text()
    assert "First 20 of 1,234 rows; 1,214 more in" in html and "(1,234 rows)" in html
