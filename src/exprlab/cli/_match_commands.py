"""Matching commands: ``exprlab score`` and ``exprlab library build``.

Query files: a GMT whose sets are named ``<name>_up`` / ``<name>_dn`` (or ``_down``) gives one
up/down query per ``<name>`` (a set without suffix is an up-only query); ``--query-up`` and
``--query-down`` instead take two GMT files whose set names pair the up and down sets (the CMap
build 02 layout); any other file exprlab reads (GCT, GCTX, h5, h5ad) holds full signatures,
whose top ``--up`` / bottom ``--down`` genes form the sets.

Library: an on-disk library built by ``exprlab library build`` (streamed in chunks), a GMT
(gene-set library) or any matrix file exprlab reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from exprlab._outputs import claim_output, prepare_output
from exprlab._validation import check_choice, check_count
from exprlab.cli._app import app
from exprlab.cli._dask_cluster import backend_client, check_backend
from exprlab.cli._run_manifests import library_manifest, score_manifest
from exprlab.cli._score_significance import tested_table, with_parsed_ids

if TYPE_CHECKING:
    from exprlab.genes import GeneSpace
    from exprlab.match import Layout, MatchMethod, ReferenceRule, Ties

library_app = typer.Typer(no_args_is_help=True, help="Build on-disk signature libraries.")
app.add_typer(library_app, name="library")

_GMT = (".gmt", ".gmt.gz", ".gmt.xz")
# The names of exprlab.match.METHODS, written out so that `--help` does not import the engine
# (a test checks that the two agree).
_METHOD_HELP = (
    "Scoring method: cosine, pearson, spearman, chardir, ks, ks_raw, overlap_reverse, overlap_mimic, "
    "wtcs, ncs, tau, ncs_ct, xsum, xcos."
)


def _is_gmt(path: Path) -> bool:
    return path.name.lower().endswith(_GMT)


def load_query(query: Path | None, query_up: Path | None, query_down: Path | None):
    """The query object for :func:`exprlab.match.score` from the command-line files."""
    # deferred: the library is loaded only when the command runs, so `exprlab --help` stays fast
    from exprlab.errors import InvalidParameterError
    from exprlab.io import read, read_gmt  # deferred (see above)
    from exprlab.match import paired_sets, split_up_down  # deferred (see above)

    if query is not None and (query_up is not None or query_down is not None):
        raise InvalidParameterError(
            "--query and --query-up/--query-down are exclusive",
            where="command line",
            fix="give either --query or the two set files",
        )
    if query is None:
        if query_up is None or query_down is None:
            raise InvalidParameterError(
                "no query given",
                where="command line",
                fix="pass --query FILE or both --query-up and --query-down",
            )
        return paired_sets(read_gmt(query_up), read_gmt(query_down), where=f"{query_up} / {query_down}")
    if _is_gmt(query):
        return split_up_down(read_gmt(query))
    return read(query)


def load_library(library: Path):
    """An on-disk library path as is; a GMT as a gene-set library; any other file read whole."""
    # deferred: the library is loaded only when the command runs, so `exprlab --help` stays fast
    from exprlab.io import read, read_gmt
    from exprlab.match import genesets_to_library, is_library_file  # deferred (see above)

    if is_library_file(library):
        return library
    if _is_gmt(library):
        return genesets_to_library(read_gmt(library))
    return read(library)


@app.command()
def score(
    library: Path = typer.Option(..., "--library", "-l", help="On-disk library, GMT or signature matrix."),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Output: a .parquet or .tsv table, or a .gctx matrix (signatures x queries, float32) "
        "written block by block, whose memory does not grow with the library.",
    ),
    query: Path = typer.Option(
        None, "--query", help="Query signatures or a GMT of <name>_up/<name>_dn sets."
    ),
    query_up: Path = typer.Option(
        None, "--query-up", help="GMT of up sets (paired by name with --query-down)."
    ),
    query_down: Path = typer.Option(None, "--query-down", help="GMT of down sets."),
    method: str = typer.Option("wtcs", "--method", "-m", help=_METHOD_HELP),
    up: int = typer.Option(150, help="Up-set size taken from full-signature queries."),
    down: int = typer.Option(150, help="Down-set size taken from full-signature queries."),
    ties: str = typer.Option(
        None, help="Rank ties in references: midrank or first (default: the library's rule, else midrank)."
    ),
    top: int = typer.Option(500, "--top", help="Genes kept at each end of a reference by XSum/XCos."),
    n_background: int = typer.Option(250, help="Random background queries for tau."),
    seed: int = typer.Option(0, help="Seed of the tau background and of the permutation null."),
    n_permutations: int = typer.Option(
        None,
        "--n-permutations",
        help="Add permutation p-values and BH FDR (ks, ks_raw, wtcs, xsum) from N random queries.",
    ),
    null: str = typer.Option(
        "signature", "--null", help="Permutation null: signature (per signature) or pooled."
    ),
    group_by: str = typer.Option(
        None, "--group-by", help="NCS/tau groups: comma-separated obs columns (e.g. cell_line,pert_type)."
    ),
    parse_ids: str = typer.Option(
        None,
        "--parse-ids",
        help="Parse library ids into metadata (drug__cell__type or a regex with named groups).",
    ),
    tau_background: str = typer.Option(
        "random", "--tau-background", help="tau background: random gene sets or library (its own signatures)."
    ),
    aggregate: str = typer.Option(
        None, help="Aggregate signatures per drug: max, min, mean, median, maxabs, ncs_ct."
    ),
    by: str = typer.Option(None, help="Library metadata column to aggregate by (default: the drug column)."),
    wide: bool = typer.Option(
        False,
        "--wide/--no-wide",
        help="Write the queries x signatures matrix instead of the tidy table.",
        metavar="",
    ),
    chunk_size: int = typer.Option(None, help="Library signatures per streamed chunk."),
    backend: str = typer.Option(
        "memory",
        "--backend",
        help="memory (this process) or dask (a dask.distributed cluster; on-disk libraries only).",
    ),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        help="Address of a dask.distributed scheduler for --backend dask (default: a local cluster, "
        "one worker process per core).",
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
    gene_space: str = typer.Option(
        "full", help="Query genes kept: full, bing (landmark + best inferred) or landmark."
    ),
    geneinfo: Path = typer.Option(
        None, help="clue.io geneinfo table for --gene-space (default: the library's gene metadata)."
    ),
    device: str = typer.Option(
        "auto",
        "--device",
        help="KS/WTCS kernel: auto (torch on a CUDA GPU when one is seen, else numba), numba, or a "
        "torch device (cuda, cuda:1, cpu). Only for plain scores (not --n-permutations).",
    ),
) -> None:
    """Score queries against a signature library and write the scores."""
    # Over 80 lines only with its option declarations; the body checks, reads, scores and writes.
    # deferred: the library is loaded only when the command runs, so `exprlab --help` stays fast
    import exprlab.match as match
    from exprlab.errors import InvalidParameterError  # deferred (see above)
    from exprlab.io import write_table, write_wide_table  # deferred (see above)
    from exprlab.report import now_utc  # deferred (see above)

    started = now_utc()
    check_count(up, "--up", minimum=0)
    check_count(down, "--down", minimum=0 if up else 1)
    check_count(chunk_size, "--chunk-size", minimum=1, allow_none=True)
    check_count(n_permutations, "--n-permutations", minimum=1, allow_none=True)
    in_process = "--n-permutations" if n_permutations is not None else None
    if method == "tau" and tau_background == "library":
        in_process = "--tau-background library"
    check_backend(backend, scheduler, library, in_process)
    check_choice(tau_background, "--tau-background", ("random", "library"))
    if in_process is not None and device != "auto":
        raise InvalidParameterError(
            f"--device applies to plain scoring; {in_process} runs on the CPU kernels",
            where="--device",
            fix=f"drop --device or {in_process}",
        )
    files = [library, query, query_up, query_down, geneinfo]
    options: dict[str, int] = {}
    if method in ("xsum", "xcos"):
        options["top"] = top
    if method == "tau":
        options["n_background"] = n_background
    if group_by is not None:
        options["group_by"] = [c.strip() for c in group_by.split(",") if c.strip()]  # type: ignore[assignment]
    if out.name.lower().endswith(".gctx"):
        if in_process is not None:
            raise InvalidParameterError(
                f"{in_process} needs every score in memory; a .gctx --out is written block by block",
                where="--out",
                fix=f"write a .parquet or .tsv table, or drop {in_process}",
            )
        args = dict(up=up, down=down, ties=ties, seed=seed, chunk_size=chunk_size, aggregate=aggregate)
        args.update(by=by, gene_space=gene_space, geneinfo=geneinfo, backend=backend, device=device)
        _score_streamed(
            (query, query_up, query_down, library), out, method, force, (parse_ids, scheduler), args, options
        )
        return
    with (
        claim_output(out, kind="score", inputs=files, force=force, suffixes=(".parquet", ".tsv")),
        backend_client(backend, scheduler) as (client, where),
    ):
        q = load_query(query, query_up, query_down)
        lib = with_parsed_ids(load_library(library), parse_ids)
        kwargs = dict(
            up=up,
            down=down,
            ties=cast("Ties | None", ties),
            seed=seed,
            chunk_size=chunk_size,
            aggregate=cast("ReferenceRule | None", aggregate),
            by=by,
            gene_space=gene_space,
            geneinfo=geneinfo,
            backend=backend,
            device=device,
            **options,
        )
        name = cast("MatchMethod", method)
        if n_permutations is not None or (method == "tau" and tau_background == "library"):
            table = tested_table(
                q, lib, method, n_permutations, null, seed, tau_background, wide or aggregate, kwargs
            )
            report = table.attrs.get("query_report", {})
            write_table(table, out)
            shape = f"{len(table)} rows (query x signature)"
        elif wide or aggregate is not None or method == "ncs_ct":
            table = match.score(q, lib, name, client=client, **kwargs)
            report = table.attrs.get("query_report", {})
            write_wide_table(table, out)  # streamed by blocks of queries: no copy of the matrix
            shape = f"{table.shape[0]} queries x {table.shape[1]} columns"
        else:
            table = match.score_long(q, lib, name, client=client, **kwargs)
            report = table.attrs.get("query_report", {})
            write_table(table, out)
            shape = f"{len(table)} rows (query x signature)"
        wide = wide or aggregate is not None or method == "ncs_ct"
        # the kernel chosen; the permutation null and library tau run on the CPU kernels
        used = dict(kwargs, scheduler=where, device=table.attrs.get("device") or "cpu kernels")
        if n_permutations is not None:
            used.update(n_permutations=n_permutations, null=null)
        if method == "tau":
            used["tau_background"] = tau_background
        if parse_ids is not None:
            used["parse_ids"] = parse_ids
        score_manifest(out, started, used, method, wide, files)
    _summary(method, report, shape, out)


def _summary(method: str, report: dict, shape: str, out: Path) -> None:
    """The last line of ``exprlab score``: queries scored, query genes dropped, what was written."""
    dropped = sum(r["n_dropped"] for r in report.values())
    print(
        f"{method}: {len(report)} queries scored; {dropped} query genes absent from the library "
        f"were dropped; wrote {shape} to {out}"
    )


def _score_streamed(
    paths: tuple, out: Path, method: str, force: bool, ids_scheduler: tuple, kwargs: dict, options: dict
) -> None:
    """``exprlab score --out FILE.gctx``: scores written block by block (:func:`exprlab.match.score_to_gctx`).

    ``paths`` are the query, query-up, query-down and library files; ``ids_scheduler`` the
    ``--parse-ids`` and ``--scheduler`` values.
    """
    # deferred: the library is loaded only when the command runs, so `exprlab --help` stays fast
    import exprlab.match as match
    from exprlab.report import now_utc  # deferred (see above)

    started = now_utc()
    query, query_up, query_down, library = paths
    parse_ids, scheduler = ids_scheduler
    files = [library, query, query_up, query_down, kwargs["geneinfo"]]
    match.check_streamable(method, kwargs["aggregate"])  # refused before the inputs are read
    prepare_output(out, kind="score", inputs=files, force=force, suffixes=(".gctx",))
    with backend_client(kwargs["backend"], scheduler) as (client, where):
        q = load_query(query, query_up, query_down)
        lib = with_parsed_ids(load_library(library), parse_ids)
        name = cast("MatchMethod", method)
        written = match.score_to_gctx(q, lib, name, out=out, force=force, client=client, **kwargs, **options)
    used = dict(kwargs, **options, scheduler=where, device=written.attrs.get("device") or "cpu kernels")
    used["dtype"] = "float32"
    if parse_ids is not None:
        used["parse_ids"] = parse_ids
    score_manifest(out, started, used, method, True, files)
    n_sig, n_q = written.shape
    _summary(
        method, written.attrs["query_report"], f"{n_sig} signatures x {n_q} queries (GCTX, float32)", out
    )


@library_app.command("build")
def build(
    source: Path = typer.Argument(..., help="GCTX, h5ad, GMT or any matrix file exprlab reads."),
    out: Path = typer.Option(..., "--out", "-o", help="Library file to write (HDF5)."),
    ties: str = typer.Option("midrank", help="Rank ties: midrank or first."),
    chunk_size: int = typer.Option(None, help="Signatures per chunk while building."),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
    layout: str = typer.Option(
        "signature_major",
        help="signature_major (format 1) or gene_major (a rank-based query reads its own genes only; GCTX-compatible).",
    ),
    siginfo: Path = typer.Option(None, help="clue.io siginfo table joined to the signatures by sig_id."),
    geneinfo: Path = typer.Option(None, help="clue.io geneinfo table attached to the genes."),
    gene_space: str = typer.Option(
        "full", help="Genes kept: full, bing (landmark + best inferred) or landmark (needs --geneinfo)."
    ),
) -> None:
    """Build an on-disk library (values + precomputed ranks) from GCTX, h5ad, GMT or a library."""
    # deferred: the library is loaded only when the command runs, so `exprlab --help` stays fast
    from exprlab.match import DiskLibrary, build_library
    from exprlab.report import now_utc  # deferred (see above)

    started = now_utc()
    check_count(chunk_size, "--chunk-size", minimum=1, allow_none=True)
    inputs = [source, siginfo, geneinfo]
    with claim_output(out, kind="library", inputs=inputs, force=force, suffixes=(".h5", ".hdf5", ".gctx")):
        path = build_library(
            source,
            out,
            ties=cast("Ties", ties),
            chunk_size=chunk_size,
            layout=cast("Layout", layout),
            siginfo=siginfo,
            geneinfo=geneinfo,
            gene_space=cast("GeneSpace", gene_space),
        )
        library_manifest(path, source, started, chunk_size)
    lib = DiskLibrary(path)
    print(
        f"wrote {path}: {lib.n} signatures x {len(lib.genes)} genes ({lib.kind}, ties={lib.ties}, "
        f"layout={lib.layout})"
    )


@app.command()
def export(
    source: Path = typer.Argument(
        ..., help="Query file (GMT, matrix) for clue; library or matrix for signaturesearch."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="clue: the up-set GMT; signaturesearch: the .h5 file."),
    to: str = typer.Option(
        ..., "--to", help="clue (up/down GMT pair, 10-150 genes per set) or signaturesearch (HDF5)."
    ),
    out_down: Path = typer.Option(
        None, "--out-down", help="clue: the down-set GMT (required with --to clue)."
    ),
    up: int = typer.Option(150, help="Up-set size taken from full-signature queries."),
    down: int = typer.Option(150, help="Down-set size taken from full-signature queries."),
    trim: bool = typer.Option(
        False,
        "--trim/--no-trim",
        help="clue: cut sets above 150 genes to their first 150 instead of failing.",
        metavar="",
    ),
    gene_space: str = typer.Option(
        "full", help="clue: genes kept before the size rule: full, bing or landmark."
    ),
    geneinfo: Path = typer.Option(None, help="clue.io geneinfo table for --gene-space."),
    chunk_size: int = typer.Option(None, help="signaturesearch: signatures written at a time."),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Export a query to clue.io's up/down GMT pair, or a library to signatureSearch's HDF5 layout."""
    # deferred: the library is loaded only when the command runs, so `exprlab --help` stays fast
    from exprlab._validation import check_choice
    from exprlab.errors import InvalidParameterError  # deferred (see above)
    from exprlab.io import write_gmt  # deferred (see above)
    from exprlab.match import clue_query_sets, export_signaturesearch  # deferred (see above)

    check_choice(to, "--to", ("clue", "signaturesearch"))
    check_count(chunk_size, "--chunk-size", minimum=1, allow_none=True)
    if to == "signaturesearch":
        with claim_output(out, kind="matrix", inputs=[source], force=force, suffixes=(".h5", ".hdf5")):
            export_signaturesearch(source, out, chunk_size=chunk_size)
        print(f"wrote {out} (signatureSearch HDF5)")
        return
    if out_down is None:
        raise InvalidParameterError(
            "--to clue writes two files", where="--out-down", fix="name the down-set GMT with --out-down"
        )
    ups, downs = clue_query_sets(
        source, up=up, down=down, trim=trim, gene_space=gene_space, geneinfo=geneinfo
    )
    inputs = [source, geneinfo]
    with claim_output(out, kind="genesets", inputs=inputs + [out_down], force=force, suffixes=_GMT):
        with claim_output(out_down, kind="genesets", inputs=inputs + [out], force=force, suffixes=_GMT):
            write_gmt(ups, out)
            write_gmt(downs, out_down)
    sizes = [len(g) for g in list(ups.values()) + list(downs.values())]
    print(
        f"wrote {len(ups)} queries to {out} (up) and {out_down} (down); {min(sizes)}-{max(sizes)} genes per set"
    )
