"""How the retrieval benchmark's report shows its numbers: intervals in the cells, curves apart."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from exprlab.report import _plots
from exprlab.report._html import Section
from exprlab.report._render_match import _overview


def _metrics() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": ["random", "cosine"],
            "n_diseases": [40, 40],
            "average_precision": [0.0123, 0.2654],
            "average_precision_lo": [np.nan, 0.23312],
            "average_precision_hi": [np.nan, 0.29871],
            "precision_at_10": [0.02, 0.1],
            "precision_at_10_lo": [0.0, 0.05],
            "precision_at_10_hi": [0.04, 0.15],
        }
    )


def test_metric_table_shows_each_metric_with_its_interval_in_one_cell(tmp_path):
    sec = Section("Benchmark")
    _overview(sec, tmp_path, _metrics())
    html = "".join(sec.parts)
    table = html.split("<table>")[1].split("</table>")[0]
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert headers == ["method", "diseases", "MAP", "precision@10"]
    assert not [h for h in headers if "low" in h or "high" in h or "_lo" in h or "_hi" in h]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in table.split("<tr>")[2:]]
    # the interval's inner space does not break (a narrow cell wraps before the bracket only)
    assert all(", " not in c for row in cells for c in row)
    rows = [[c.replace("\u00a0", " ") for c in row] for row in cells]
    # by hand, 3 significant digits: 0.2654 -> 0.265, 0.23312 -> 0.233, 0.29871 -> 0.299
    assert rows == [
        ["random", "40", "0.0123 [–, –]", "0.02 [0, 0.04]"],
        ["cosine", "40", "0.265 [0.233, 0.299]", "0.1 [0.05, 0.15]"],
    ]


def test_metric_table_keeps_a_metric_without_an_interval_as_a_number():
    from exprlab.report._format import with_intervals

    table = pd.DataFrame({"method": ["a"], "val_map": [0.5], "roc_auc": [0.7], "roc_auc_lo": [0.6]})
    shown = with_intervals(table)  # roc_auc has no _hi: nothing to pair, nothing dropped
    assert list(shown.columns) == ["method", "val_map", "roc_auc", "roc_auc_lo"]
    assert shown["roc_auc"].iloc[0] == 0.7


def test_coinciding_curves_get_different_line_styles_and_say_so(monkeypatch):
    figures = []

    def keep(fig):
        figures.append(fig)
        return b"png"

    monkeypatch.setattr(_plots, "figure_png", keep)
    recall = np.linspace(0, 1, 11)
    same = 1 - 0.5 * recall
    _plots.curves_xy(
        {
            "random": (recall, np.full(11, 0.1)),
            "cosine": (recall, same),
            "xsum": (recall, same.copy()),  # exactly the cosine curve
            "popularity": (recall, same + 0.01),
        },
        reference={"random ranking": 0.1},
    )
    lines = figures[0].axes[0].get_lines()[:4]
    assert (
        len({line.get_linestyle() for line in lines}) == 4
    )  # every method its own line style, not colour alone
    labels = [line.get_label() for line in lines]
    assert labels == ["random", "cosine", "xsum (same curve as cosine)", "popularity"]


def test_a_fifth_curve_equal_to_an_earlier_one_does_not_hide_it(monkeypatch):
    figures = []
    monkeypatch.setattr(_plots, "figure_png", lambda fig: figures.append(fig) or b"png")
    xs = np.linspace(0, 1, 5)
    curves = {f"m{i}": (xs, xs * 0.1 * (i + 1)) for i in range(4)}
    curves["m4"] = (xs, xs * 0.3)  # equals m2; the style cycle alone would draw it solid over m2
    _plots.curves_xy(curves)
    lines = figures[0].axes[0].get_lines()
    assert lines[4].get_label() == "m4 (same curve as m2)"
    assert lines[4].get_linestyle() not in ("-", lines[2].get_linestyle())
