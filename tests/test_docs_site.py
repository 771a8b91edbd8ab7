"""The documentation site builds with --strict, and its API reference documents every public name."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.stem for p in (ROOT / "docs" / "api").glob("*.md"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return out


@pytest.mark.slow
def test_every_public_package_has_an_api_page():
    init_files = sorted((ROOT / "src" / "exprlab").glob("*/__init__.py"))
    public = {
        p.parent.name for p in init_files if not p.parent.name.startswith("_") and p.parent.name != "cli"
    }
    assert public == set(PACKAGES)


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_api_page_documents_every_public_name(site, package):
    html = (site / "api" / package / "index.html").read_text(encoding="utf-8")
    module = importlib.import_module(f"exprlab.{package}")
    missing = [name for name in module.__all__ if f'id="exprlab.{package}.{name}"' not in html]
    assert not missing, f"exprlab.{package}: not in the API reference: {missing}"


@pytest.mark.slow
def test_guides_and_examples_are_in_the_site(site):
    for page in ("user-guide-data", "user-guide-scoring", "methods", "cli-reference", "examples/01_formats"):
        assert (site / page / "index.html").is_file(), page
    example = (site / "examples" / "02_connectivity" / "index.html").read_text(encoding="utf-8")
    assert "score" in example  # the script itself is included, not only its title
