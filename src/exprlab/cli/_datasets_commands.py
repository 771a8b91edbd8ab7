"""``exprlab datasets``: every named public dataset, its shape and whether it is present."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from exprlab.cli._app import app


@app.command()
def datasets(
    missing_only: bool = typer.Option(
        False, "--missing", help="List only the datasets whose files are absent."
    ),
    files: bool = typer.Option(False, "--files", help="Also show the files each dataset reads."),
) -> None:
    """List the public datasets (loaders of exprlab.datasets): name, shape, present or absent.

    Reads nothing but the directory listing of EXPRLAB_DATA; shapes are the documented ones.
    """
    from exprlab.datasets import data_dir, list_datasets  # deferred: keeps --help fast

    df = list_datasets()
    n_present, n_all = int(df["present"].sum()), len(df)
    if missing_only:
        df = df[~df["present"]]
    root = data_dir(required=False)
    title = f"exprlab datasets ({'EXPRLAB_DATA: ' + str(root) if root else 'data directory not found: set EXPRLAB_DATA'})"
    table = Table(title=title, title_justify="left")
    for col in ("name", "shape", "present", "description"):
        table.add_column(col, overflow="fold")
    if files:
        table.add_column("files", overflow="fold")
    for row in df.itertuples(index=False):
        cells = [row.name, row.shape, "yes" if row.present else "ABSENT", row.description]
        if files:
            cells.append(row.files)
        table.add_row(*cells)
    Console(width=max(Console().width, 140)).print(table)
    print(f"{n_present} of {n_all} datasets present.")
