"""``exprlab report`` (render a run directory as HTML) and ``exprlab demo`` (the end-to-end demo)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from exprlab._logging import attach_log_file, close_log_file, command_logging
from exprlab._outputs import claim_output
from exprlab.cli._app import app
from exprlab.errors import FileAccessError


@app.command("report")
def report(
    run_dir: Path = typer.Argument(
        ...,
        help="A run folder (match benchmark/train/predict/explain, xai-study, demo ...), a score table "
        "or a library file.",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="HTML file to write (default: RUN_DIR/report.html)."),
    svg: bool = typer.Option(
        False,
        "--svg/--no-svg",
        help="Also save every figure as SVG in <report>_files/ beside the report.",
        metavar="",
    ),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Render a run directory into one self-contained HTML report (tables and plots inline)."""
    from exprlab.report import render_report  # deferred: loads pandas, kept out of --help

    if not run_dir.exists():
        raise FileAccessError(
            "the run directory does not exist",
            where=run_dir,
            fix="pass the --out folder of an exprlab command",
        )
    # the report of a run folder is re-rendered in place; any other existing file needs --force
    target = out if out is not None else _default_report(run_dir)
    with claim_output(target, kind="report", force=force or out is None, suffixes=(".html", ".htm")):
        command_logging()
        if run_dir.is_dir():
            attach_log_file(run_dir)
        try:
            path = render_report(run_dir, target, svg=svg)
        finally:
            close_log_file()
    print(f"wrote {path}")


def _default_report(run_dir: Path) -> Path:
    """Where ``exprlab report`` writes without ``--out`` (as :func:`exprlab.report.render_report`)."""
    if run_dir.is_dir():
        return run_dir / "report.html"
    return run_dir.with_name(run_dir.name.split(".")[0] + ".report.html")


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Output folder (replaced atomically)."),
    real: bool = typer.Option(
        False,
        "--real/--no-real",
        help="Run on the public data in EXPRLAB_DATA (takes minutes) instead of simulations.",
        metavar="",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulations, splits and training."),
    force: bool = typer.Option(
        False, "--force/--no-force", help="Replace an existing output of the same command.", metavar=""
    ),
) -> None:
    """Run both workflows end to end on data with a known answer and write DIR/report.html."""
    from exprlab.workflows import DemoConfig, run_demo  # deferred: loads torch, kept out of --help

    command_logging()
    with claim_output(out, kind="demo", force=force, folder=True):
        result = run_demo(out, real=real, config=DemoConfig(seed=seed))
    console = Console(width=max(Console().width, 120))
    for line in result.summary.get("text", []):
        console.print(line, highlight=False)
    for caption, rows in result.summary.get("tables", {}).items():
        if not rows:
            continue
        table = Table(title=caption, title_justify="left")
        for col in rows[0]:
            table.add_column(str(col), justify="left" if col in ("method", "model", "dataset") else "right")
        for row in rows:
            table.add_row(*["–" if v is None else str(v) for v in row.values()])
        console.print(table)
    print(f"wrote {result.report} ({result.seconds:.0f} s)")
