"""Fetching datasets from a mirror: checked by sha256 against the registry, never destructive.

The mirror is a loopback HTTP server over a temporary folder laid out like the data directory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exprlab.cli import app, main
from exprlab.datasets import DATASETS, fetch_dataset, list_datasets, registry, source_of
from exprlab.errors import DataNotFoundError, FileAccessError, FormatError


@contextlib.contextmanager
def serve(folder: Path):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_dataset_file_has_a_checksum_and_an_origin():
    known = registry()
    for info in DATASETS:
        for f in info.files:
            assert f in known, f
            assert source_of(f).url.startswith("https://")
    df = list_datasets()
    assert df["licence"].str.len().min() > 0 and df["origin"].str.len().min() > 0


def test_registry_matches_the_data_directory(data_dir):
    for relative, (_digest, size) in registry().items():
        path = data_dir / relative
        assert path.stat().st_size == size, relative
    # checksums of a few files, computed here independently
    for relative in ("lincs/test_gene_sets_n4.gmt", "expression/Leukemia.cls"):
        assert _sha256(data_dir / relative) == registry()[relative][0]


def test_fetch_downloads_and_checks(tmp_path, data_dir):
    mirror = tmp_path / "mirror"
    for relative in ("expression/Leukemia_hgu95av2.gct.gz", "expression/Leukemia.cls"):
        (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / relative, mirror / relative)
    dest = tmp_path / "data"
    with serve(mirror) as url:
        got = fetch_dataset("golub_leukemia", mirror=url, to=dest)
        assert [p.relative_to(dest).as_posix() for p in got] == [
            "expression/Leukemia_hgu95av2.gct.gz",
            "expression/Leukemia.cls",
        ]
        for p in got:
            assert p.read_bytes() == (data_dir / p.relative_to(dest)).read_bytes()
        # a second fetch keeps the verified files as they are
        before = {p: p.stat().st_mtime_ns for p in got}
        fetch_dataset("golub_leukemia", mirror=url, to=dest)
        assert {p: p.stat().st_mtime_ns for p in got} == before


def test_a_tampered_download_is_refused_and_discarded(tmp_path):
    mirror = tmp_path / "mirror" / "lincs"
    mirror.mkdir(parents=True)
    (mirror / "test_gene_sets_n4.gmt").write_text("set\tdesc\tTP53\n")
    dest = tmp_path / "data"
    with serve(tmp_path / "mirror") as url, pytest.raises(FormatError, match="sha256"):
        fetch_dataset("lincs_test_gene_sets", mirror=url, to=dest)
    assert not (dest / "lincs" / "test_gene_sets_n4.gmt").exists()
    assert not [p for p in dest.rglob("*") if p.is_file()]  # no partial file left


def test_a_different_existing_file_is_never_replaced(tmp_path):
    dest = tmp_path / "data"
    (dest / "lincs").mkdir(parents=True)
    mine = dest / "lincs" / "test_gene_sets_n4.gmt"
    mine.write_text("my own edits\n")
    with pytest.raises(FileAccessError, match="different file"):
        fetch_dataset("lincs_test_gene_sets", mirror="http://127.0.0.1:9/", to=dest)
    assert mine.read_text() == "my own edits\n"


def test_unreachable_mirror_and_unknown_names_are_clear_errors(tmp_path):
    with pytest.raises(FileAccessError, match="download failed"):
        fetch_dataset("lincs_test_gene_sets", mirror="http://127.0.0.1:9/", to=tmp_path)
    with pytest.raises(DataNotFoundError, match="unknown dataset"):
        fetch_dataset("no_such_data", mirror="http://127.0.0.1:9/", to=tmp_path)


def test_cli_fetch_and_sources(tmp_path, data_dir, capsys):
    mirror = tmp_path / "mirror" / "lincs"
    mirror.mkdir(parents=True)
    shutil.copyfile(data_dir / "lincs/test_gene_sets_n4.gmt", mirror / "test_gene_sets_n4.gmt")
    runner = CliRunner()
    with serve(tmp_path / "mirror") as url:
        res = runner.invoke(
            app, ["datasets", "--fetch", "lincs_test_gene_sets", "--from", url, "--to", str(tmp_path / "d")]
        )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d/lincs/test_gene_sets_n4.gmt").read_bytes() == (
        data_dir / "lincs/test_gene_sets_n4.gmt"
    ).read_bytes()
    with pytest.raises(SystemExit) as stop:
        main(["datasets", "--fetch", "lincs_test_gene_sets"])
    assert stop.value.code == 2 and "--from" in capsys.readouterr().err
    res = runner.invoke(app, ["datasets", "--sources"])
    assert res.exit_code == 0 and "cmapPy" in res.output and "BSD-3-Clause" in res.output
