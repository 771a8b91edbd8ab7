"""Reports: self-contained HTML of every run kind, the run manifest, and the run log."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
from importlib import metadata

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from test_report_fixtures import make_match_run, make_score_table, make_xai_run

from exprlab.errors import FormatError, InvalidParameterError
from exprlab.report import (
    fa_random_expectation,
    file_provenance,
    read_run_manifest,
    render_report,
    write_run_manifest,
)
from exprlab.report._html import HtmlReport, table_html

IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _images(html: str) -> list[np.ndarray]:
    """Decode every embedded image (fails if one is not a valid PNG)."""
    return [mpimg.imread(io.BytesIO(base64.b64decode(b)), format="png") for b in IMG.findall(html)]


def _self_contained(html: str) -> None:
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r'src="(?!data:)', html)  # every image is inline
    assert "http://" not in html and "https://" not in html


def test_html_escapes_text_and_formats_tables():
    df = pd.DataFrame({"name": ["<b>x</b>", "y"], "value": [0.123456789, np.nan]})
    html = table_html(df)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "0.123" in html and "0.1235" not in html  # 3 significant digits
    assert "–" in html  # missing value
    report = HtmlReport("t & t")
    report.section("A").paragraph("1 < 2")
    report.section("A")  # same title twice: distinct ids
    out = report.render()
    assert 'id="a"' in out and 'id="a-2"' in out and "1 &lt; 2" in out


def test_match_report_has_tables_plots_and_baselines(tmp_path):
    run = make_match_run(tmp_path / "match")
    path = render_report(run)
    assert path == run / "report.html"
    html = path.read_text()
    _self_contained(html)
    for text in (
        "Retrieval benchmark",
        "metrics.tsv",
        "Precision-recall",
        "Score distributions",
        "Parameters, versions and data provenance",
        "0.432",  # twotower's MAP 0.4321 to 3 significant digits
        "twotower",
    ):
        assert text in html
    images = _images(html)
    # MAP bars, nDCG bars, PR curves, one score distribution per non-baseline method (2)
    assert len(images) == 5
    assert all(img.shape[0] > 50 and img.shape[1] > 50 for img in images)
    assert "no run.json manifest" in html


def test_match_report_shows_training_curves_with_the_chosen_epochs(tmp_path):
    run = make_match_run(tmp_path / "match")
    hist = pd.DataFrame(
        {
            "fold": [0, 0, 0, 1, 1, 1],
            "method": ["twotower"] * 6,
            "member": [0] * 6,
            "epoch": [1, 2, 3, 1, 2, 3],
            "loss": [0.7, 0.6, 0.5, 0.7, 0.6, 0.5],
            "val_map": [0.1, 0.3, 0.2, 0.2, 0.1, 0.15],
            "chosen": [False, True, False, True, False, False],
        }
    )
    hist.to_csv(run / "training_history.tsv", sep="\t", index=False)
    html = render_report(run).read_text()
    assert "Training curves" in html and "twotower: inner-validation MAP after each epoch" in html
    # chosen epochs (0.3, 0.2) -> 0.25; all epochs -> 1.05 / 6 = 0.175
    assert "mean 0.25 at the chosen epochs against 0.175 over all epochs" in html
    assert len(_images(html)) == 6  # the five of the plain report and the training curves


def test_xai_report_has_fa_against_random_curves_and_heatmap(tmp_path):
    run, truth = make_xai_run(tmp_path / "xai", n_genes=40)
    # expected FA of a random ranking: mean over classes of k_c / p (4, 6, 8 of 40 genes)
    expected = 100 * np.mean([4 / 40, 6 / 40, 8 / 40])
    assert fa_random_expectation(run, "simu1", "lr") == pytest.approx(expected)
    html = render_report(run, tmp_path / "x.html").read_text()
    _self_contained(html)
    assert "Explanation study" in html and "random ranking FA (%)" in html
    assert "<td>15</td>" in html  # expected = 15.0 exactly (mean of 10, 15, 20 %)
    assert "keep/remove retraining curves" in html
    assert "dots mark the simulated informative genes" in html
    assert len(_images(html)) == 4  # FA bars, PG bars, curves, heat map
    assert "Agreement between models" not in html  # one model: nothing to compare
    pd.DataFrame(
        [
            {
                "dataset": "simu1",
                "model_a": "lr",
                "model_b": "mlp",
                "k": 100,
                "n_runs": 2,
                "jaccard": 0.123456,
                "kendall_tau": 0.5,
            }
        ]
    ).to_csv(run / "stability_models.tsv", sep="\t", index=False)
    html = render_report(run, tmp_path / "x.html").read_text()
    assert "Agreement between models" in html and "0.123" in html


def test_score_report_from_a_table_file(tmp_path):
    table = make_score_table(tmp_path / "scores.tsv")
    path = render_report(table)
    assert path == tmp_path / "scores.report.html"
    html = path.read_text()
    _self_contained(html)
    assert "2 queries × 15 library entries; 30 scores." in html
    df = pd.read_csv(table, sep="\t")
    best = df[df["query"] == "q0"].sort_values("score", ascending=False).iloc[0]
    assert f'<td class="t">{best["signature"]} (' in html  # first of the best entries of q0
    assert len(_images(html)) == 1


def test_demo_like_folder_renders_every_subrun_and_summary(tmp_path):
    make_match_run(tmp_path / "matching")
    make_xai_run(tmp_path / "explanations")
    write_run_manifest(
        tmp_path,
        "demo",
        {"seed": 3},
        [],
        summary={
            "text": ["hello summary"],
            "cards": [{"label": "MAP", "value": "0.432", "note": "n"}],
            "tables": {"tbl": [{"method": "x", "MAP": 0.5}]},
        },
    )
    html = render_report(tmp_path, name="my-demo").read_text()
    _self_contained(html)
    for text in (
        "hello summary",
        "Explanations (explanations)",
        "Drug-disease retrieval (matching)",
        "demo run: my-demo",
        "Software versions",
    ):
        assert text in html
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections[0] == "summary"
    assert sections.index("explanations-explanations") < sections.index(
        "parameters-versions-and-data-provenance"
    )


def test_generic_folder_lists_files_and_broken_parts_become_notes(tmp_path, caplog):
    run = make_match_run(tmp_path / "m")
    (run / "predictions.parquet").write_bytes(b"not parquet")
    with caplog.at_level(logging.WARNING, logger="exprlab"):
        html = render_report(run).read_text()
    assert "predictions.parquet could not be rendered" in html
    assert any("could not be rendered" in r.getMessage() for r in caplog.records)
    other = tmp_path / "other"
    other.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_csv(other / "t.tsv", sep="\t", index=False)
    html = render_report(other).read_text()
    assert "not a run exprlab recognises" in html and "t.tsv" in html


def test_report_output_must_be_html(tmp_path):
    run = make_match_run(tmp_path / "m")
    with pytest.raises(InvalidParameterError, match="does not end in .html"):
        render_report(run, tmp_path / "r.pdf")


def test_manifest_round_trip_versions_and_provenance(tmp_path):
    import numpy
    import torch

    data = tmp_path / "input.txt"
    data.write_bytes(b"abc" * 1000)
    entry = file_provenance(data)
    assert entry["sha256"] == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert entry["bytes"] == 3000
    path = write_run_manifest(tmp_path, "score", {"method": "wtcs", "up": 150}, [entry])
    assert path == tmp_path / "run.json"
    record = read_run_manifest(tmp_path)
    assert record["kind"] == "score"
    assert record["parameters"] == {"method": "wtcs", "up": 150}
    # the installed distributions' versions (a build's __version__ may add a local label)
    assert record["versions"]["numpy"] == metadata.version("numpy") == numpy.__version__
    assert record["versions"]["torch"] == metadata.version("torch")
    assert torch.__version__.startswith(record["versions"]["torch"].split("+")[0])
    assert record["data_provenance"][0]["sha256"] == entry["sha256"]
    assert record["started"] <= record["finished"]
    assert read_run_manifest(tmp_path / "nothing") is None


def test_malformed_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(FormatError, match="run.json"):
        read_run_manifest(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps([1, 2]))
    with pytest.raises(FormatError, match="not a JSON object"):
        read_run_manifest(tmp_path)


def test_logging_to_run_directory_and_levels(tmp_path, capsys):
    from exprlab._logging import close_log_file, configure_logging

    log = configure_logging(tmp_path, quiet=True)
    logging.getLogger("exprlab.test").info("info line for the file")
    logging.getLogger("exprlab.test").debug("debug line for the file")
    close_log_file()
    text = (tmp_path / "exprlab.log").read_text()
    assert "info line for the file" in text and "debug line for the file" in text
    assert "info line" not in capsys.readouterr().err  # quiet: not on the console
    configure_logging(None, verbose=False)
    logging.getLogger("exprlab.test").info("shown on console")
    assert "shown on console" in capsys.readouterr().err
    with pytest.raises(InvalidParameterError):
        configure_logging(None, verbose=True, quiet=True)
    assert log.name == "exprlab"
    configure_logging(None)


def test_report_command_writes_html_and_logs_to_the_run(tmp_path, capsys):
    from exprlab.cli import main

    run = make_match_run(tmp_path / "m")
    main(["report", str(run), "--out", str(tmp_path / "r.html")])
    out = capsys.readouterr().out
    assert out.strip() == f"wrote {tmp_path / 'r.html'}"
    assert "Retrieval benchmark" in (tmp_path / "r.html").read_text()
    assert "rendering a match-benchmark report" in (run / "exprlab.log").read_text()


def _explanation_dir(path, drug, disease, score):
    """An explained-match folder as ``exprlab match explain`` writes it (values made up)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.mkdir(parents=True)
    pd.DataFrame({"gene": ["TNF", "IL6", "NR3C1"], "combined": [0.5, 0.3, -0.1]}).to_csv(
        path / "genes.tsv", sep="\t", index=False
    )
    pd.DataFrame({"pathway": ["HALLMARK_TNFA_SIGNALING_VIA_NFKB"], "score": [0.8]}).to_csv(
        path / "pathways.tsv", sep="\t", index=False
    )
    (path / "summary.json").write_text(
        json.dumps({"drug": drug, "disease": disease, "score": score, "max_abs_delta": 0.001})
    )
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.barh([0, 1], [0.5, 0.3])
    fig.savefig(path / "explanation.png")
    plt.close(fig)


def test_report_has_a_section_per_explained_match(tmp_path):
    _explanation_dir(tmp_path / "runs" / "m1", "prednisone", "EFO_0000198", 1.25)
    _explanation_dir(tmp_path / "runs" / "m2", "metformin", "EFO_0001360", 0.75)
    html = render_report(tmp_path / "runs").read_text()
    _self_contained(html)
    assert "Why prednisone for EFO_0000198" in html and "Why metformin for EFO_0001360" in html
    assert "HALLMARK_TNFA_SIGNALING_VIA_NFKB" in html and "NR3C1" in html
    assert len(_images(html)) == 2
    # one explanation alone renders as its own report
    single = render_report(tmp_path / "runs" / "m1").read_text()
    assert "Why prednisone for EFO_0000198" in single and "1.25" in single


def _old_curve_run(folder, run: str, ranked: tuple[float, float], random: tuple[float, float]) -> None:
    """A run's curves.tsv as earlier releases wrote it: one random set, no ``repeat`` column."""
    path = folder / "runs" / "simu1" / "lr" / run
    path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "k": [2, 2, 2, 2],
            "setting": ["keep", "keep", "remove", "remove"],
            "selection": ["attribution", "random", "attribution", "random"],
            "n_genes": [2, 2, 38, 38],
            "balanced_accuracy": [ranked[0], random[0], ranked[1], random[1]],
        }
    ).to_csv(path / "curves.tsv", sep="\t", index=False)


def test_curves_of_an_earlier_study_folder_get_intervals_over_runs(tmp_path):
    run, _ = make_xai_run(tmp_path / "xai")
    _old_curve_run(run, "run00", ranked=(0.90, 0.30), random=(0.50, 0.80))
    _old_curve_run(run, "run01", ranked=(0.92, 0.32), random=(0.52, 0.82))
    assert not (run / "curves_summary.tsv").exists()
    html = render_report(run, tmp_path / "x.html").read_text()
    # keep, ranked: 90 and 92 % -> 91 ± t(0.975, 1) · sd / √2 = 91 ± 12.706 · √2 / √2 = [78.3, 103.7],
    # cut to the 100% an accuracy cannot pass
    assert "<td>78.3</td><td>100</td>" in html  # shown to 3 significant digits
    assert "bands: 95% intervals over runs" in html
    assert "keep: the attribution-ranked curve lies above the random band at K = 2." in html
    assert "remove: the attribution-ranked curve lies below the random band at K = 2." in html
    assert "No intervals" not in html


def test_a_curve_table_without_interval_columns_still_renders(tmp_path):
    run, _ = make_xai_run(tmp_path / "xai")
    pd.DataFrame(
        {
            "dataset": ["simu1"] * 2,
            "model": ["lr"] * 2,
            "setting": ["keep", "keep"],
            "selection": ["attribution", "random"],
            "k": [2, 2],
            "balanced_accuracy_mean": [81.0, 64.0],
        }
    ).to_csv(run / "curves_summary.tsv", sep="\t", index=False)
    html = render_report(run, tmp_path / "x.html").read_text()
    _self_contained(html)
    assert "No intervals" in html and "keep/remove curves" in html
    assert "lies above the random band" not in html  # no band, no verdict
    assert len(_images(html)) == 4


def test_curve_verdicts_compare_each_point_with_the_random_band():
    from exprlab.report._render_xai import curve_verdicts

    table = pd.DataFrame(
        {
            "setting": ["keep"] * 6,
            "selection": ["attribution", "random"] * 3,
            "k": [5, 5, 10, 10, 50, 50],
            "balanced_accuracy_mean": [80.0, 60.0, 70.0, 66.0, 50.0, 62.0],
            "ci_low": [75.0, 55.0, 65.0, 60.0, 45.0, 58.0],
            "ci_high": [85.0, 65.0, 75.0, 72.0, 55.0, 66.0],
        }
    )
    # K = 5: 75 > 65 above; K = 10: [65, 75] overlaps [60, 72]; K = 50: 55 < 58 below
    assert curve_verdicts(table) == [
        "keep: the attribution-ranked curve lies above the random band at K = 5; below it at K = 50; "
        "within it at K = 10."
    ]


def test_curve_intervals_of_few_runs_are_cut_to_the_range_of_an_accuracy(tmp_path):
    """Two runs far apart give a t interval past 0 and 100%: the report shows it cut to 0-100%."""
    from scipy import stats

    from exprlab._runs import XAI_STUDY
    from exprlab.report import curve_summary

    accuracies = {"keep": (0.10, 0.90), "remove": (0.49, 0.51)}  # per run, for each setting
    for run in (0, 1):
        run_dir = XAI_STUDY.run_dir(tmp_path, "simu1", "lr", run)
        run_dir.mkdir(parents=True)
        pd.DataFrame(
            {
                "setting": ["keep", "remove"],
                "selection": ["attribution", "attribution"],
                "k": [10, 10],
                "balanced_accuracy": [accuracies["keep"][run], accuracies["remove"][run]],
            }
        ).to_csv(run_dir / XAI_STUDY.curves, sep="\t", index=False)
    table = curve_summary(XAI_STUDY.model_dir(tmp_path, "simu1", "lr")).set_index("setting")
    # keep: mean 50, t interval 50 ± 12.71 * 56.6 / sqrt(2) = [-458, 558], cut to [0, 100]
    assert table.loc["keep", "balanced_accuracy_mean"] == pytest.approx(50.0)
    assert (table.loc["keep", "ci_low"], table.loc["keep", "ci_high"]) == (0.0, 100.0)
    # remove: mean 50, 50 ± 12.71 * 1.414 / sqrt(2), inside the range: unchanged
    half = stats.t.ppf(0.975, 1) * np.std([49.0, 51.0], ddof=1) / np.sqrt(2)
    assert table.loc["remove", "ci_low"] == pytest.approx(50.0 - half)
    assert table.loc["remove", "ci_high"] == pytest.approx(50.0 + half)


def test_the_recorded_command_reads_as_typed_in_a_shell():
    from exprlab.report._manifest import command_line

    main = "/venv/lib/python3.11/site-packages/exprlab/__main__.py"
    assert command_line([main, "score", "--out", "s.tsv"]) == "exprlab score --out s.tsv"
    assert command_line(["/venv/bin/exprlab", "report", "my run"]) == "exprlab report 'my run'"
    assert command_line(["/usr/lib/other/__main__.py", "x"]) == "__main__.py x"  # not exprlab's
    assert command_line([]) == ""


def test_a_cut_summary_links_the_whole_summary_not_the_table_it_summarises(tmp_path):
    """25 queries x 4 entries: the per-query summary is cut at 20 rows; its link holds the 25 rows."""
    queries = [f"q{i:02d}" for i in range(25)]
    scores = pd.DataFrame(
        {
            "query": np.repeat(queries, 4),
            "signature": np.tile(["a", "b", "c", "d"], 25),
            "score": np.tile([0.1, 0.2, 0.3, 0.4], 25) + np.repeat(np.arange(25), 4),
        }
    )
    table = tmp_path / "scores.tsv"
    scores.to_csv(table, sep="\t", index=False)
    out = render_report(table, tmp_path / "r.html")
    html = out.read_text()
    summary = html.split("Score summary per query")[1].split("</table>")[1]
    link = re.search(r'First 20 of 25 rows; 5 more in <a class="full" href="([^"]+)"', summary).group(1)
    full = pd.read_csv(out.parent / link, sep="\t")
    assert len(full) == 25  # the summary's rows, not the 100 rows of scores.tsv
    # by hand: query q24 has scores 24.1 ... 24.4, mean 24.25
    assert full.set_index("query").loc["q24", "mean"] == pytest.approx(24.25)


def test_demo_summary_tables_have_readable_headers(tmp_path):
    """The rows a demo stores in its manifest are keyed like fa_local_%; the report names them."""
    run = tmp_path / "demo"
    run.mkdir()
    rows = [{"dataset": "simu1", "model": "lr", "runs": 2, "balanced_accuracy_%": 72.2, "fa_local_%": 66.2}]
    maps = [{"method": "random", "MAP": 0.082, "lo": 0.076, "hi": 0.088}]
    write_run_manifest(run, "demo", {}, [], summary={"tables": {"Classifiers": rows, "Retrieval": maps}})
    html = render_report(run).read_text()
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html.split("<main>")[1].split("Parameters, versions")[0])
    assert "balanced accuracy (%)" in headers and "local feature agreement (%)" in headers
    assert "95% low" in headers and "95% high" in headers
    assert not [h for h in headers if "%" in h and "(%)" not in h and "95%" not in h], headers


def test_score_histograms_span_the_central_scores_only():
    from exprlab.report._plots import central_range, distributions

    values = np.arange(101, dtype=float)  # 0 ... 100: the 1st and 99th percentiles are 1 and 99
    assert central_range(values, 0.98) == pytest.approx((1.0, 99.0))
    assert central_range(np.array([3.0, 3.0]), 0.99) is None  # no width: the plain range is used
    extreme = np.concatenate([np.zeros(500), np.linspace(-1, 1, 500), [1e6]])
    png = distributions({"a": extreme, "b": extreme[::-1]}, central=0.99)
    assert png.startswith(b"\x89PNG")
