"""Probes to genes: control probes, annotation entries and the collapse rules, computed by hand."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from exprlab.errors import GeneSpaceError
from exprlab.genes import collapse_probes, drop_control_probes

# 3 samples x 4 probes: pA1, pA2, pA3 measure gene A, pB gene B
#          pA1  pA2  pA3  pB
X = np.array(
    [
        [1.0, 6.0, 0.0, 2.0],
        [2.0, 6.0, 4.0, 3.0],
        [3.0, 6.0, 11.0, 4.0],
    ]
)
# means:   2    6    5    3      -> max_mean keeps pA2 for A
# variances (n-1): 1, 0, 31, 1   -> max_variance keeps pA3 for A
ANNOTATION = {"pA1": "a", "pA2": "A", "pA3": " A ", "pB": "B"}


def _adata(values=X, probes=("pA1", "pA2", "pA3", "pB")):
    n = values.shape[0]
    return ad.AnnData(
        values.astype(np.float32),
        obs=pd.DataFrame({"label": ["x", "y", "x"][:n]}, index=[f"s{i + 1}" for i in range(n)]),
        var=pd.DataFrame(index=list(probes)),
    )


def test_max_mean_keeps_the_brightest_probe():
    out, report = collapse_probes(_adata(), ANNOTATION)
    assert list(out.var_names) == ["A", "B"]
    np.testing.assert_array_equal(out.X, np.array([[6, 2], [6, 3], [6, 4]], dtype=np.float32))
    assert out.var["probe"].tolist() == ["pA2", "pB"]
    assert out.var["probes"].tolist() == ["pA1|pA2|pA3", "pB"]
    assert out.var["n_probes"].tolist() == [3, 1]
    assert report["n_mapped"] == 4 and report["n_genes"] == 2 and report["n_collapsed"] == 2
    assert out.obs["label"].tolist() == ["x", "y", "x"]


def test_max_variance_keeps_the_most_variable_probe():
    out, _ = collapse_probes(_adata(), ANNOTATION, collapse="max_variance")
    np.testing.assert_array_equal(out.X[:, 0], np.array([0, 4, 11], dtype=np.float32))
    assert out.var["probe"].tolist() == ["pA3", "pB"]


def test_mean_averages_probes_sample_by_sample_over_present_values():
    values = X.copy()
    values[0, 2] = np.nan
    out, _ = collapse_probes(_adata(values), ANNOTATION, collapse="mean")
    # s1: (1 + 6) / 2 (pA3 missing); s2: (2 + 6 + 4) / 3; s3: (3 + 6 + 11) / 3
    np.testing.assert_allclose(out.X[:, 0], [3.5, 4.0, 20 / 3], rtol=1e-6)
    np.testing.assert_array_equal(out.X[:, 1], [2, 3, 4])


def test_ties_keep_the_probe_first_in_the_file():
    values = np.array([[1.0, 3.0], [3.0, 1.0]])  # equal means, equal variances
    out, _ = collapse_probes(_adata(values, ("p2", "p1")), {"p1": "G", "p2": "G"})
    assert out.var["probe"].tolist() == ["p2"]


def test_controls_unannotated_and_multi_gene_probes_are_counted():
    probes = ("AFFX-BioB-5_at", "p1", "p2", "p3", "p4")
    values = np.arange(10, dtype=float).reshape(2, 5)
    ann = {"AFFX-BioB-5_at": "BIOB", "p1": "TP53", "p2": "DDR1 /// MIR4640", "p3": "---"}
    out, report = collapse_probes(_adata(values, probes), ann)
    assert list(out.var_names) == ["TP53"]
    assert (report["n_controls"], report["n_unannotated"], report["n_multi_gene"]) == (1, 2, 1)
    assert report["first"]["unannotated"] == ["p3", "p4"]
    first, report = collapse_probes(_adata(values, probes), ann, multi_gene="first")
    assert list(first.var_names) == ["TP53", "DDR1"] and report["n_multi_gene"] == 1
    kept, report = collapse_probes(_adata(values, probes), ann, keep_controls=True)
    assert list(kept.var_names) == ["BIOB", "TP53"] and report["n_controls"] == 0


def test_an_annotation_that_maps_no_probe_is_refused():
    with pytest.raises(GeneSpaceError, match="maps none of the 4 probes"):
        collapse_probes(_adata(), {"1007_s_at": "DDR1"})
    with pytest.raises(GeneSpaceError, match="no probe is left"):
        collapse_probes(_adata(), {"pA1": "---", "pB": ""})


def test_drop_control_probes():
    a = _adata(np.zeros((3, 3)), ("AFFX-CreX-3_at", "1007_s_at", "affx_r2_P1"))
    out, dropped = drop_control_probes(a)
    assert list(out.var_names) == ["1007_s_at"]
    assert dropped == ["AFFX-CreX-3_at", "affx_r2_P1"]
