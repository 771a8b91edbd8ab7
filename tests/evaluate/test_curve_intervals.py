"""Intervals of keep/remove curves, checked against a from-scratch computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exprlab.errors import InputDataError, InvalidParameterError
from exprlab.evaluate import curve_intervals

# Student t quantiles t(0.975, df) from printed tables
T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824}


def _rows(run, selection, values, k=10, setting="keep"):
    return [
        {"run": run, "k": k, "setting": setting, "selection": selection, "repeat": r, "balanced_accuracy": v}
        for r, v in enumerate(values)
    ]


def _by_hand(values):
    """Mean and 95% t interval of the mean, written out."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = T975[n - 1] * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def test_interval_over_runs_averages_the_random_repeats_first():
    random = {0: [0.50, 0.54, 0.52, 0.56], 1: [0.60, 0.58, 0.62, 0.64], 2: [0.40, 0.44, 0.42, 0.46]}
    ranked = {0: [0.90], 1: [0.86], 2: [0.95]}
    rows = []
    for run in range(3):
        rows += _rows(f"run{run:02d}", "random", random[run]) + _rows(
            f"run{run:02d}", "attribution", ranked[run]
        )
    table = curve_intervals(pd.DataFrame(rows)).set_index("selection")
    # random: one value per run, the mean of its 4 repeats: 0.53, 0.61, 0.43
    mean, sd, low, high = _by_hand([0.53, 0.61, 0.43])
    got = table.loc["random"]
    assert got["balanced_accuracy_mean"] == pytest.approx(mean)
    assert got["balanced_accuracy_sd"] == pytest.approx(sd)
    assert got["ci_low"] == pytest.approx(low, abs=1e-4) and got["ci_high"] == pytest.approx(high, abs=1e-4)
    assert (got["n_runs"], got["n_repeats"], got["interval_over"]) == (3, 4, "runs")
    mean, sd, low, high = _by_hand([0.90, 0.86, 0.95])
    got = table.loc["attribution"]
    assert got["balanced_accuracy_mean"] == pytest.approx(mean)
    assert got["ci_low"] == pytest.approx(low, abs=1e-4) and got["ci_high"] == pytest.approx(high, abs=1e-4)
    assert (got["n_runs"], got["n_repeats"]) == (3, 1)


def test_one_run_takes_the_interval_over_its_random_repeats():
    rows = _rows("run00", "random", [0.2, 0.3, 0.4, 0.3]) + _rows("run00", "attribution", [0.8])
    table = curve_intervals(pd.DataFrame(rows)).set_index("selection")
    mean, _, low, high = _by_hand([0.2, 0.3, 0.4, 0.3])
    assert table.loc["random", "interval_over"] == "repeats"
    assert table.loc["random", "ci_low"] == pytest.approx(low, abs=1e-4)
    assert table.loc["random", "ci_high"] == pytest.approx(high, abs=1e-4)
    # one run, one value: no interval
    assert table.loc["attribution", "balanced_accuracy_mean"] == 0.8
    assert np.isnan(table.loc["attribution", "ci_low"]) and table.loc["attribution", "interval_over"] == ""


def test_points_are_kept_apart_and_the_tables_of_earlier_releases_are_read():
    # no run and no repeat column: one run of one repeat
    old = pd.DataFrame(
        {
            "k": [5, 5, 20, 20],
            "setting": ["keep", "remove", "keep", "keep"],
            "selection": ["attribution", "attribution", "attribution", "random"],
            "n_genes": [5, 95, 20, 20],
            "balanced_accuracy": [0.7, 0.4, 0.9, 0.6],
        }
    )
    table = curve_intervals(old)
    assert list(zip(table["setting"], table["selection"], table["k"], strict=True)) == [
        ("keep", "attribution", 5),
        ("keep", "attribution", 20),
        ("keep", "random", 20),
        ("remove", "attribution", 5),
    ]
    assert table["balanced_accuracy_mean"].tolist() == [0.7, 0.9, 0.6, 0.4]
    assert table["n_genes"].tolist() == [5, 20, 20, 95]
    assert table["ci_low"].isna().all()


def test_bad_curve_tables_are_refused():
    with pytest.raises(InputDataError, match="balanced_accuracy"):
        curve_intervals(pd.DataFrame({"k": [1], "setting": ["keep"], "selection": ["random"]}))
    with pytest.raises(InvalidParameterError):
        curve_intervals(pd.DataFrame(_rows("r", "random", [0.1, 0.2])), level=1.5)
