"""What a user installs: light imports, declared minimums that hold, metadata that is complete."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import exprlab",
        "import exprlab.io",
        "import exprlab.match",
        "import exprlab.evaluate",
        "import exprlab.signatures",
        "import exprlab.genes",
        "import exprlab.datasets",
        "from exprlab.signatures import PairData, SparseRows",
        "from exprlab.explain import hypergeometric_enrichment, rank_enrichment, pathway_scores",
    ],
)
def test_torch_is_not_imported_where_no_model_is_used(statement):
    assert "torch" not in _loaded_after(statement)


def test_the_cli_help_does_not_import_torch():
    code = (
        "import sys\nfrom exprlab.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('TORCH', 'torch' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage" in out.stdout and "TORCH False" in out.stderr


def test_a_matcher_still_reads_the_torch_free_containers():
    code = (
        "import numpy as np\nfrom exprlab.signatures import SparseRows\n"
        "idx, off, w = SparseRows(np.array([[0, 2.0, 0], [1.0, 0, 3.0]])).bag(np.array([1, 0]))\n"
        "print(idx.tolist(), off.tolist(), w.tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # row 1 holds genes 0 and 2 (1, 3), row 0 gene 1 (2): bags start at 0 and 2
    assert out.stdout.split("\n")[0] == "[0, 2, 1] [0, 2] [1.0, 3.0, 2.0]"


def test_torch_members_of_explain_still_load_on_use():
    assert "torch" in _loaded_after("from exprlab.explain import integrated_gradients")


def test_distributed_is_only_needed_by_the_dask_backend():
    assert "distributed" not in _loaded_after("import exprlab.match, exprlab.io, exprlab.workflows")


def test_metadata_names_licence_urls_and_classifiers():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause")
    assert meta["license"] == "BSD-3-Clause"
    assert {u.rpartition("/")[2] for u in meta["urls"].values()} >= {"2303.11695", "2303.11336"}
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in meta["classifiers"])
    assert not any(d.startswith(("dask", "distributed")) for d in meta["dependencies"])
