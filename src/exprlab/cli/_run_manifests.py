"""The run manifests (``run.json``) of the commands whose results are not a study folder.

``exprlab score`` and ``exprlab library build`` write one file, so their manifest sits beside it
(``<file>.run.json``); ``match train``, ``match predict --out`` and ``match explain`` write a
folder holding ``run.json``. Each manifest records the options as they were applied (a default
that was resolved is written as its value, never as null) and every input file with its path,
size and SHA-256, so that ``exprlab report`` and ``exprlab info`` can say how a result was made.

The helpers import the report package inside the function: commands import this module at
start-up, and ``exprlab --help`` must not load pandas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exprlab._atomic import atomic_dir
from exprlab._runs import MATCH_PREDICT, MATCH_TRAIN


def score_manifest(out: Path, started: str, kwargs: dict, method: str, wide: bool, files: list) -> Path:
    """``<out>.run.json`` of ``exprlab score``: the options used (defaults resolved) and the inputs.

    Parameters
    ----------
    out
        The score table written.
    started
        When the command started (UTC, ISO format).
    kwargs
        The keyword options passed to the scoring function.
    method
        The scoring method.
    wide
        Whether the table is the queries × signatures matrix (a ``.gctx`` output is recorded as
        ``gctx``: the signatures × queries GCTX matrix).
    files
        Library, query, query-up and query-down paths (``None`` when not given).

    Returns
    -------
    Path
        The manifest written.
    """
    # deferred: loads h5py and pandas, kept out of `exprlab --help`
    from exprlab.match import opened_library
    from exprlab.report import input_provenance, write_run_manifest  # deferred (see above)

    library = files[0]
    table = "gctx" if out.name.lower().endswith(".gctx") else ("wide" if wide else "tidy")
    params: dict[str, Any] = {"method": method, **kwargs, "table": table}
    if params.get("ties") is None:  # the rule of the library's precomputed ranks, else midranks
        opened = opened_library(library)  # the library scored: open already, not read again
        params["ties"] = opened.ties if opened is not None else "midrank"
    if params.get("chunk_size") is None:
        params["chunk_size"] = "automatic (memory budget)"
    if params.get("geneinfo") is None:  # a gene space other than full reads the library's own table
        params["geneinfo"] = "not used" if params.get("gene_space", "full") == "full" else "the library's"
    if params.get("aggregate") is None:
        params.pop("aggregate", None)
        params.pop("by", None)
    elif params.get("by") is None:
        params["by"] = "the library's drug column"
    roles = dict(zip(("library", "query", "query_up", "query_down", "geneinfo"), files, strict=True))
    return write_run_manifest(out, "score", params, input_provenance(roles), started=started)


def library_manifest(path: Path, source: Path, started: str, chunk_size: int | None) -> Path:
    """``<library>.run.json`` of ``exprlab library build``: layout, ties, size and the source.

    Parameters
    ----------
    path
        The library file written.
    source
        The file it was built from.
    started
        When the command started (UTC, ISO format).
    chunk_size
        The ``--chunk-size`` given (``None``: chosen automatically).

    Returns
    -------
    Path
        The manifest written.
    """
    from exprlab.match import DiskLibrary  # deferred: loads h5py, kept out of `exprlab --help`
    from exprlab.report import input_provenance, write_run_manifest  # deferred (see above)

    lib = DiskLibrary(path)
    params = {"ties": lib.ties, "layout": lib.layout, "chunk_size": chunk_size or "automatic (memory budget)"}
    summary = {
        "n_signatures": int(lib.n),
        "n_genes": len(lib.genes),
        "kind": lib.kind,
        "obs_fields": list(map(str, lib.obs.columns)),
        "first_signatures": list(map(str, lib.obs.index[:10])),
    }
    return write_run_manifest(
        path, "library", params, input_provenance({"source": source}), started=started, summary=summary
    )


def train_manifest(out: Path, started: str, params: dict, inputs: dict) -> Path:
    """``run.json`` of ``exprlab match train``: options, the training settings used, inputs.

    Parameters
    ----------
    out
        The model folder written.
    started
        When the command started (UTC, ISO format).
    params
        The command's options (``arch``, ``n_seeds``, ``seed``, ``labels``); the training
        settings used are read from the model's ``model.json``.
    inputs
        Role → path or catalogue name of the data read.

    Returns
    -------
    Path
        The manifest written.
    """
    from exprlab.report import input_provenance, write_run_manifest  # deferred: loads pandas

    model = json.loads((Path(out) / MATCH_TRAIN.model).read_text(encoding="utf-8"))
    used = {**params, "training": model.get("training", "not recorded")}
    return write_run_manifest(out, MATCH_TRAIN.kind, used, input_provenance(inputs), started=started)


def predict_output(out: Path, ranking: Any, started: str, params: dict, inputs: dict) -> Path:
    """The folder of ``exprlab match predict --out``: ``ranking.tsv`` and ``run.json``, atomically.

    Parameters
    ----------
    out
        The output folder (replaced as a whole).
    ranking
        The ranked drugs (``rank``, ``drug``, ``score`` ...); its ``attrs`` ``drug_r2`` and
        ``mostly_popularity`` go to the manifest's summary.
    started
        When the command started (UTC, ISO format).
    params
        The command's options.
    inputs
        Role → path or catalogue name of the data read.

    Returns
    -------
    Path
        The folder written.
    """
    from exprlab.report import input_provenance, write_run_manifest  # deferred: loads pandas

    with atomic_dir(out) as tmp:
        ranking.to_csv(tmp / MATCH_PREDICT.ranking, sep="\t", index=False, float_format="%.6g")
        # how much of the list one shared drug order explains (docs/methods.md §2), for its report
        summary = {k: ranking.attrs[k] for k in ("drug_r2", "mostly_popularity") if k in ranking.attrs}
        write_run_manifest(
            tmp, MATCH_PREDICT.kind, params, input_provenance(inputs), started=started, summary=summary
        )
    return out


def explain_manifest(out: Path, started: str, params: dict, inputs: dict, score: float) -> Path:
    """``run.json`` of ``exprlab match explain``: options, the model and signature files, the score.

    Parameters
    ----------
    out
        The explanation folder written.
    started
        When the command started (UTC, ISO format).
    params
        The command's options.
    inputs
        Role → path or name of the model, disease, drug and gene sets.
    score
        The explained match score.

    Returns
    -------
    Path
        The manifest written.
    """
    from exprlab.report import input_provenance, write_run_manifest  # deferred: loads pandas

    return write_run_manifest(
        out, "match-explanation", params, input_provenance(inputs), started=started, summary={"score": score}
    )
