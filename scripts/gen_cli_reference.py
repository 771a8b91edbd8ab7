"""Generate docs/cli-reference.md from the exprlab command line itself.

Walks the Typer application (every command and sub-command, in the order the CLI lists them) and
writes each command's usage, description, arguments and options with their types and defaults.
The output depends only on the code, so a test can check that the committed file is current:

    python scripts/gen_cli_reference.py            # rewrite docs/cli-reference.md
    python scripts/gen_cli_reference.py --check    # exit 1 when the file is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "docs" / "cli-reference.md"


def _param_type(param, ctx) -> str:
    """The type as the CLI's own help shows it (``<int>``, ``<path>`` ...), without brackets."""
    if hasattr(param, "display_type"):
        return param.display_type(ctx).strip("<>").replace("|", "\\|")
    return str(getattr(param.type, "name", type(param.type).__name__)).lower()


def _default(param) -> str:
    if getattr(param, "required", False):
        return "required"
    value = param.default
    if callable(value) or value is None or value == ():
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{value}`"


def _clean(text: str | None) -> str:
    """One line, with table separators escaped."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _command_doc(cmd, path: list[str], ctx) -> list[str]:
    """Markdown lines for one command (and, recursively, its sub-commands)."""
    subcommands = getattr(cmd, "commands", None)
    lines: list[str] = []
    name = " ".join(path)
    level = "#" * min(len(path), 4)
    if path[1:]:
        lines.append(f"{level} `{name}`")
        lines.append("")
    help_text = (cmd.help or "").strip()
    if help_text:
        paragraphs = [_clean(p) for p in help_text.split("\n\n") if p.strip()]
        lines.extend(p + "\n" for p in paragraphs)
    args = [p for p in cmd.params if p.param_type_name == "argument"]
    opts = [p for p in cmd.params if p.param_type_name == "option" and not getattr(p, "hidden", False)]
    usage = " ".join(
        [name]
        + ([_usage_args(args)] if args else [])
        + (["[OPTIONS]"] if opts else [])
        + (["COMMAND [ARGS]..."] if subcommands else [])
    )
    lines += ["```", usage, "```", ""]
    if args:
        lines += ["| argument | type | help |", "|---|---|---|"]
        for p in args:
            lines.append(f"| `{p.name.upper()}` | {_param_type(p, ctx)} | {_clean(getattr(p, 'help', ''))} |")
        lines.append("")
    if opts:
        lines += ["| option | type | default | help |", "|---|---|---|---|"]
        for p in opts:
            flags = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            kind = "flag" if getattr(p, "is_flag", False) else _param_type(p, ctx)
            lines.append(f"| {flags} | {kind} | {_default(p)} | {_clean(p.help)} |")
        lines.append("")
    if subcommands:
        for sub_name in subcommands:
            lines += _command_doc(subcommands[sub_name], [*path, sub_name], ctx)
    return lines


def _usage_args(args) -> str:
    return " ".join(p.name.upper() if p.required else f"[{p.name.upper()}]" for p in args)


def render() -> str:
    """The whole reference as Markdown."""
    import typer

    from exprlab.cli import app

    root = typer.main.get_command(app)
    lines = [
        "# exprlab command-line reference",
        "",
        "Generated from the commands themselves by `scripts/gen_cli_reference.py`; do not edit by "
        "hand. Every command prints errors as one line (`error: where: what. Fix: how.`) and "
        "exits with status 2 on bad input, leaving no partial output.",
        "",
    ]
    with root.make_context("exprlab", [], resilient_parsing=True) as ctx:
        body = _command_doc(root, ["exprlab"], ctx)
    lines += body
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument("--out", type=Path, default=TARGET, help="file to write")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run python scripts/gen_cli_reference.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
