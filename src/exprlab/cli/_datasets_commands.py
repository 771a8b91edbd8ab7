"""``exprlab datasets``: every named public dataset, its shape, origin and presence; fetching."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from exprlab.cli._app import app


@app.command()
def datasets(
    missing_only: bool = typer.Option(
        False, "--missing/--no-missing", help="List only the datasets whose files are absent.", metavar=""
    ),
    files: bool = typer.Option(
        False, "--files/--no-files", help="Also show the files each dataset reads.", metavar=""
    ),
    sources: bool = typer.Option(
        False,
        "--sources/--no-sources",
        help="Show each dataset's origin, licence, address and download URLs instead of its description.",
        metavar="",
    ),
    fetch: str | None = typer.Option(
        None,
        "--fetch",
        help="Download this dataset (a name of the list) from its upstream URLs or --from, checked against "
        "exprlab's sha256 registry.",
    ),
    mirror: str | None = typer.Option(
        None,
        "--from",
        help="Base URL of a copy of the data directory's layout (for --fetch; needed by datasets without "
        "upstream URLs).",
    ),
    to: Path | None = typer.Option(
        None, "--to", help="Data directory to fetch into (default: EXPRLAB_DATA)."
    ),
) -> None:
    """List the public datasets (loaders of exprlab.datasets): name, shape, origin, present or absent.

    Reads nothing but the directory listing of EXPRLAB_DATA; shapes are the documented ones.
    With --fetch NAME, downloads that dataset's files from their public upstream URLs (--sources
    lists them), or with --from URL from a mirror of the data directory, and checks each against
    the registered sha256 (a file that differs is discarded).
    """
    from exprlab.datasets import data_dir, fetch_dataset, list_datasets  # deferred: keeps --help fast

    if fetch is not None:
        got = fetch_dataset(fetch, mirror=mirror, to=to)
        source = mirror or "upstream"
        print(
            f"fetched {fetch} from {source}: {len(got)} file(s), sha256 checked, in {got[0].parent if got else to}"
        )
        return
    df = list_datasets()
    n_present, n_all = int(df["present"].sum()), len(df)
    if missing_only:
        df = df[~df["present"]]
    root = data_dir(required=False)
    title = f"exprlab datasets ({'EXPRLAB_DATA: ' + str(root) if root else 'data directory not found: set EXPRLAB_DATA'})"
    table = Table(title=title, title_justify="left")
    last = ("origin", "licence", "url", "download") if sources else ("description",)
    for col in ("name", "shape", "present", *last):
        table.add_column(col, overflow="fold")
    if files:
        table.add_column("files", overflow="fold")
    for row in df.itertuples(index=False):
        download = "upstream (below)" if row.download else "--from a mirror"
        tail = [row.origin, row.licence, row.url, download] if sources else [row.description]
        cells = [row.name, row.shape, "yes" if row.present else "ABSENT", *tail]
        if files:
            cells.append(row.files)
        table.add_row(*cells)
    Console(width=max(Console().width, 140)).print(table)
    if sources:  # plain lines, so that the addresses can be copied whole
        print("Upstream download URLs (exprlab datasets --fetch NAME needs no --from for these):")
        for row in df[df["download"] != ""].itertuples(index=False):
            for url in row.download.split():
                print(f"  {row.name}\t{url}")
    print(f"{n_present} of {n_all} datasets present.")
