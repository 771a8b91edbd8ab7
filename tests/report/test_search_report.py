"""The report of a signature search: readable headers, the drug names of the library, one order of queries."""

from __future__ import annotations

import re

import pandas as pd

from exprlab.report import render_report, write_run_manifest


def _search_run(root):
    run = root / "search"
    run.mkdir()
    # q2 comes first in the hits table: every section keeps that order
    hits = pd.DataFrame(
        {
            "query": ["q2"] * 3 + ["q1"] * 3,
            "signature": ["tsa__A__cp", "asp__A__cp", "caf__A__cp"] * 2,
            "score": [-0.9, 0.2, 0.1, -0.5, -0.4, 0.3],
            "pvalue": [0.001, 0.5, 0.7, 0.01, 0.04, 0.2],
            "fdr": [0.003, 0.6, 0.7, 0.03, 0.06, 0.2],
            "drug": ["trichostatina", "aspirin", "caffeine"] * 2,
            "drug_name": ["trichostatin-a", "aspirin", "caffeine"] * 2,
            "cell_line": ["A"] * 6,
        }
    )
    hits.to_csv(run / "hits.tsv", sep="\t", index=False)
    perts = hits.rename(columns={"score": "summary"})[["query", "drug", "summary"]].sort_values("query")
    perts.to_csv(run / "perturbagens.tsv", sep="\t", index=False)
    pd.DataFrame(
        {
            "query": ["q1", "q2"],
            "source": ["classes", "classes"],
            "set": ["hdac", "hdac"],
            "set_size": [2, 2],
            "overlap": [1, 1],
            "expected": [0.5, 0.5],
            "pvalue": [0.25, 0.25],
            "qvalue": [0.25, 0.25],
            "drugs": ["trichostatin-a", "trichostatin-a"],
        }
    ).to_csv(run / "enrichment.tsv", sep="\t", index=False)
    write_run_manifest(
        run, "signature-search", {"n_permutations": 99, "null": "signature", "seed": 0, "top": 2}
    )
    return run


def _headers(html: str) -> list[str]:
    return re.findall(r"<th[^>]*>([^<]*)</th>", html)


def test_search_report_headers_names_and_query_order(tmp_path):
    html = render_report(_search_run(tmp_path)).read_text(encoding="utf-8")
    main = html.split("<main>")[1].split("Parameters, versions")[0]
    headers = _headers(main)
    assert "fdr le 005" not in headers and "min pvalue" not in headers
    # FDR <= 0.05 by hand: q2 has 0.003 (1), q1 has 0.03 (1, 0.06 is above)
    significance = main.split("Connections with FDR")[1].split("</table>")[0]
    assert re.findall(r"<td[^>]*>(q\d)</td><td>3</td><td>1</td>", significance) == ["q2", "q1"]
    # permutation p-values are not called hypergeometric; the enrichment's are
    connections = main.split("the 10 strongest connections")[1].split("</table>")[0]
    assert "p-value (permutation)" in connections and "hypergeometric" not in connections
    assert "p (hypergeometric)" in main.split("What the top hits share")[1]
    # the library's drug name, not the normalised key
    perturbagens = main.split('id="perturbagens"')[1].split("</section>")[0]
    assert "trichostatin-a" in perturbagens and "trichostatina" not in perturbagens
    assert perturbagens.index("q2: top 10") < perturbagens.index("q1: top 10")
    enrichment = main.split("What the top hits share")[1]
    assert enrichment.index("q2: the 10 most") < enrichment.index("q1: the 10 most")


def test_a_missing_search_table_is_a_note_and_the_rest_renders(tmp_path):
    run = _search_run(tmp_path)
    (run / "perturbagens.tsv").unlink()
    html = render_report(run).read_text(encoding="utf-8")
    assert "perturbagens.tsv could not be read" in html
    assert "q1: the 10 strongest connections" in html and "q1: the 10 most enriched drug sets" in html
