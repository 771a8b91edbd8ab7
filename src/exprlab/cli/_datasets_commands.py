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
        help="Show each dataset's origin, licence and address instead of its description.",
        metavar="",
    ),
    fetch: str | None = typer.Option(
        None,
        "--fetch",
        help="Download this dataset (a name of the list) from --from, checked against exprlab's sha256 registry.",
    ),
    mirror: str | None = typer.Option(
        None, "--from", help="Base URL of a copy of the data directory's layout (for --fetch)."
    ),
    to: Path | None = typer.Option(
        None, "--to", help="Data directory to fetch into (default: EXPRLAB_DATA)."
    ),
) -> None:
    """List the public datasets (loaders of exprlab.datasets): name, shape, origin, present or absent.

    Reads nothing but the directory listing of EXPRLAB_DATA; shapes are the documented ones.
    With --fetch NAME --from URL, downloads that dataset's files from a mirror of the data
    directory and checks each against the registered sha256 (a file that differs is discarded).
    """
    from exprlab.datasets import data_dir, fetch_dataset, list_datasets  # deferred: keeps --help fast

    if fetch is not None:
        if mirror is None:
            from exprlab.errors import InvalidParameterError  # deferred: keeps --help fast

            raise InvalidParameterError(
                "--fetch needs a source", where="--from", fix="pass --from URL, a copy of the data directory"
            )
        got = fetch_dataset(fetch, mirror=mirror, to=to)
        print(f"fetched {fetch}: {len(got)} file(s), sha256 checked, in {got[0].parent if got else to}")
        return
    df = list_datasets()
    n_present, n_all = int(df["present"].sum()), len(df)
    if missing_only:
        df = df[~df["present"]]
    root = data_dir(required=False)
    title = f"exprlab datasets ({'EXPRLAB_DATA: ' + str(root) if root else 'data directory not found: set EXPRLAB_DATA'})"
    table = Table(title=title, title_justify="left")
    last = ("origin", "licence", "url") if sources else ("description",)
    for col in ("name", "shape", "present", *last):
        table.add_column(col, overflow="fold")
    if files:
        table.add_column("files", overflow="fold")
    for row in df.itertuples(index=False):
        tail = [row.origin, row.licence, row.url] if sources else [row.description]
        cells = [row.name, row.shape, "yes" if row.present else "ABSENT", *tail]
        if files:
            cells.append(row.files)
        table.add_row(*cells)
    Console(width=max(Console().width, 140)).print(table)
    print(f"{n_present} of {n_all} datasets present.")
