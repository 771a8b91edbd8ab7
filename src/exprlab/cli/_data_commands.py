"""Data commands: ``exprlab version``, ``exprlab info``, ``exprlab convert``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from exprlab import __version__
from exprlab._outputs import claim_output
from exprlab.cli._app import app


@app.command()
def version() -> None:
    """Print the exprlab version."""
    print(__version__)


def _fmt_num(x) -> str:
    return "-" if x is None else f"{x:.6g}"


def _fields(names: list[str], limit: int = 12) -> str:
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return f"{len(names)}: {shown}{' ...' if len(names) > limit else ''}"


@app.command()
def info(
    path: Path = typer.Argument(
        ...,
        help="A GCT/GCTX/h5/h5ad, CSV/TSV or GEO series matrix, GMT gene sets, CLS labels, a table, "
        "or anything exprlab wrote: a library, a run or model folder, a run.json, an .npz.",
    ),
) -> None:
    """Describe a file or folder: format, shape, gene space, metadata; for runs their manifest."""
    from exprlab.io import describe  # deferred: keeps `exprlab --help` from loading anndata and h5py

    d = describe(path)
    table = Table(title=str(path), show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("format", d["format"])
    if "gene_space" in d and "values" in d:
        n_obs, n_var = d["shape"]
        table.add_row("shape", f"{n_obs} obs (samples/signatures) x {n_var} var (genes)")
        table.add_row("dtype", d["dtype"])
    if "orientation" in d:
        table.add_row("orientation", d["orientation"])
    if "gene_space" in d:
        gs = d["gene_space"]
        table.add_row(
            "gene space", f"{gs['count']} genes, ids look like {gs['kind']}: {', '.join(gs['first'])}"
        )
    if "values" in d:
        table.add_row("obs names", ", ".join(d["obs_names"]["first"]))
        table.add_row("obs fields", _fields(d["obs_fields"]))
        table.add_row("var fields", _fields(d["var_fields"]))
        v = d["values"]
        table.add_row(
            "values",
            f"min {_fmt_num(v['min'])}, median {_fmt_num(v['median'])}, max {_fmt_num(v['max'])}, NaN {v['nan']}",
        )
    if d["format"] == "gmt":
        s = d["set_sizes"]
        table.add_row("sets", f"{d['n_sets']} (sizes min {s['min']}, median {s['median']:g}, max {s['max']})")
        table.add_row("first sets", ", ".join(d["first_sets"]))
    if d["format"] == "cls":
        table.add_row("samples", str(d["n_samples"]))
        table.add_row("classes", ", ".join(f"{k} {v}" for k, v in d["classes"].items()))
    if "columns" in d:
        table.add_row("shape", f"{d['shape'][0]} rows x {d['shape'][1]} columns")
        table.add_row("columns", _fields(d["columns"]))
    if "note" in d:
        table.add_row("note", d["note"])
    for field, value in d.get("rows", []):
        table.add_row(field, value)
    Console().print(table)


@app.command()
def convert(
    src: Path = typer.Argument(..., help="Input: .gct[.gz], .gctx, .h5, .h5ad or .gmt[.gz|.xz]."),
    out: Path = typer.Argument(
        ..., help="Output: .gct[.gz|.xz], .gctx or .h5ad (matrices); .gmt[.gz|.xz] (gene sets)."
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Convert between matrix formats (gct, gctx, h5, h5ad) or between GMT files; written atomically."""
    from exprlab.io import convert as convert_file  # deferred: keeps `exprlab --help` light

    kind = "genesets" if src.name.lower().endswith((".gmt", ".gmt.gz", ".gmt.xz")) else "matrix"
    with claim_output(out, kind=kind, inputs=[src], force=force):
        written = convert_file(src, out)
    print(f"wrote {written}")
