"""The documentation is executable: every Python API example runs (its own assertions hold), and
the CLI reference equals the one generated from the commands."""

from __future__ import annotations

import importlib.util
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "api-examples").glob("*.py"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_api_example_runs(example, capsys):
    runpy.run_path(str(example), run_name="__main__")
    assert capsys.readouterr().out.strip()  # every example reports what it did


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", ROOT / "scripts" / "gen_cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    gen = _generator()
    committed = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert committed == gen.render(), (
        "docs/cli-reference.md is out of date: run python scripts/gen_cli_reference.py"
    )


def test_cli_reference_lists_every_command():
    import typer

    from exprlab.cli import app

    text = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    for name, cmd in root.commands.items():
        assert f"`exprlab {name}`" in text
        for sub in getattr(cmd, "commands", {}):
            assert f"`exprlab {name} {sub}`" in text
    assert "`--out`" in text and "`--quiet`" in text
