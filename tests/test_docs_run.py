"""Every bash and Python block of the README and the user guides runs as typed.

Each document runs as one fresh shell session in an empty folder, blocks in order (a user types
them one after the other): bash blocks as they are, Python blocks through ``python -``. The
README's session starts without the project's environment on PATH, so its own activation line is
what makes ``exprlab`` available; the guides run in the state the README leaves (environment
active, ``EXPRLAB_DATA`` set).

A block may be preceded by HTML comments that the rendered page does not show:

* ``<!-- docs-test: setup -->``: the block is the two set-up commands, which the test environment
  has already run (the suite itself runs after ``make install``); it is not run again.
* ``<!-- docs-test: sub "A" "B" -->``: run the block with the literal text A replaced by B, for
  sizes that keep the suite short (the page states the full-size cost next to the command).

Each block announces itself on stderr with the time it starts; the test prints the seconds each
block took (shown by ``pytest -rA`` and with a failure), so that a slow document says which of its
blocks to make smaller.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("user-guide-*.md"))
DOCUMENTS = [README, ROOT / "docs" / "index.md", *GUIDES]
_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
# the marker each block writes on stderr as it starts: its place in the document and bash's clock
_MARKER = re.compile(r"^--- (\S+:\d+|end) (\d+(?:\.\d+)?)$", re.MULTILINE)


@dataclass
class Block:
    """One fenced block: language, code, line number and the directives that precede it."""

    language: str
    code: str
    line: int
    directives: list[str] = field(default_factory=list)

    def runnable(self) -> str:
        code = self.code
        for directive in self.directives:
            if directive.startswith("sub "):
                old, new = shlex.split(directive[4:])
                assert old in code, f"line {self.line}: sub target {old!r} not in the block"
                code = code.replace(old, new)
        return code


def blocks(path: Path) -> list[Block]:
    """The bash and Python blocks of a Markdown file, with their directives."""
    out: list[Block] = []
    pending: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        pending.extend(_DIRECTIVE.findall(lines[i]))
        match = _FENCE.match(lines[i])
        if match and match.group(1):
            language, start, body = match.group(1), i + 1, []
            i += 1
            while not _FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            if language in ("bash", "python"):
                out.append(Block(language, "\n".join(body) + "\n", start, pending))
            pending = []
        i += 1
    return out


def session_script(path: Path) -> str:
    """One bash script that types every runnable block of a document in order."""
    parts = ["set -euo pipefail"]
    for block in blocks(path):
        if "setup" in block.directives:
            continue
        code = block.runnable()
        marker = f'echo "--- {path.name}:{block.line} $EPOCHREALTIME" >&2'
        if block.language == "bash":
            parts.append(f"{marker}\n{code}")
        else:
            parts.append(f"{marker}\npython - <<'EXPRLAB_DOC_PY'\n{code}EXPRLAB_DOC_PY")
    parts.append('echo "--- end $EPOCHREALTIME" >&2')
    return "\n".join(parts) + "\n"


def block_seconds(stderr: str) -> list[tuple[str, float]]:
    """The seconds each block took, from the markers a session wrote on stderr.

    A block runs from its marker to the next one; the last block of a failed session, which
    writes no ``end`` marker, is left out.
    """
    marks = [(place, float(clock)) for place, clock in _MARKER.findall(stderr)]
    return [(place, later - clock) for (place, clock), (_, later) in zip(marks, marks[1:])]


def test_the_parser_reads_blocks_directives_and_substitutions(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "text\n<!-- docs-test: setup -->\n```bash\nmake demo\n```\n"
        '<!-- docs-test: sub "--runs 10" "--runs 1" -->\n```bash\nrun --runs 10\n```\n'
        "```text\nnot code\n```\n```python\nprint(1)\n```\n"
    )
    got = blocks(doc)
    assert [(b.language, b.line) for b in got] == [("bash", 3), ("bash", 7), ("python", 13)]
    assert got[0].directives == ["setup"] and got[2].directives == []
    assert got[1].runnable() == "run --runs 1\n"
    script = session_script(doc)
    assert "make demo" not in script and "run --runs 1" in script and "print(1)" in script


def test_block_seconds_are_the_gaps_between_markers():
    stderr = "--- a.md:3 100.5\nsome output\n--- a.md:9 102.0\n--- not a marker\n--- end 107.25\n"
    assert block_seconds(stderr) == [("a.md:3", 1.5), ("a.md:9", 5.25)]
    assert block_seconds("--- a.md:3 100.5\nTraceback\n") == []


def test_a_session_marks_each_block_and_its_end(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```bash\nsleep 0.2\n```\n```python\nprint(1)\n```\n")
    script = tmp_path / "session.sh"
    script.write_text(session_script(doc).replace("python -", f"{sys.executable} -"))
    run = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True)
    got = block_seconds(run.stderr)
    assert [place for place, _ in got] == ["doc.md:1", "doc.md:4"]
    assert got[0][1] >= 0.2 and run.stdout == "1\n"


def test_every_fence_names_its_language():
    """A block without a language would escape the run: commands are ``bash``, output ``text``."""
    bare = []
    for path in DOCUMENTS:
        inside = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _FENCE.match(line)
            if match:
                if not inside and not match.group(1):
                    bare.append(f"{path.name}:{number}")
                inside = not inside
    assert not bare, "fences without a language (use bash, python or text): " + ", ".join(bare)


def test_every_document_has_blocks_and_no_unknown_directive():
    for path in DOCUMENTS:
        for block in blocks(path):
            for directive in block.directives:
                assert directive == "setup" or directive.startswith("sub "), f"{path.name}:{block.line}"
    assert sum(len(blocks(p)) for p in DOCUMENTS) >= 15


@pytest.mark.slow
@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_document_runs_as_typed(path, tmp_path, data_dir):
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    venv_bin = str(ROOT / ".venv" / "bin")
    path_dirs = [d for d in os.environ["PATH"].split(os.pathsep) if d != venv_bin]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["EXPRLAB_DATA"] = str(data_dir)
    env["MPLBACKEND"] = "Agg"
    if path != README:  # the guides continue the README's session: environment active
        path_dirs.insert(0, venv_bin)
        env["VIRTUAL_ENV"] = str(ROOT / ".venv")
    env["PATH"] = os.pathsep.join(path_dirs)
    script = tmp_path / "session.sh"
    script.write_text(session_script(path))
    run = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500
    )
    for place, seconds in block_seconds(run.stderr):
        print(f"{seconds:8.1f} s  {place}")
    assert run.returncode == 0, f"{path.name} failed:\n{run.stderr[-4000:]}"
