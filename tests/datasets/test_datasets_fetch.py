"""Fetching datasets from a mirror: checked by sha256 against the registry, never destructive.

The mirror is a loopback HTTP server over a temporary folder laid out like the data directory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exprlab.cli import app, main
from exprlab.datasets import (
    DATASETS,
    _sources,
    fetch_dataset,
    list_datasets,
    registry,
    source_of,
    upstream_urls,
)
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
    # golub_leukemia's matrix was recompressed: no upstream URL serves it, so --from is needed
    with pytest.raises(SystemExit) as stop:
        main(["datasets", "--fetch", "golub_leukemia", "--to", str(tmp_path / "g")])
    assert stop.value.code == 2 and "--from" in capsys.readouterr().err
    assert not (tmp_path / "g").exists() or not any((tmp_path / "g").rglob("*.*"))
    res = runner.invoke(app, ["datasets", "--sources"])
    assert res.exit_code == 0 and "cmapPy" in res.output and "BSD-3-Clause" in res.output
    # the upstream addresses are printed whole, one line each, for the datasets that have them
    lines = [line.split() for line in res.output.splitlines() if "raw.githubusercontent.com" in line]
    assert ["lincs_test_gene_sets", upstream_urls()["lincs/test_gene_sets_n4.gmt"]] in lines
    assert not any(line[0] == "golub_leukemia" for line in lines)


UPSTREAM = re.compile(r"https://raw\.githubusercontent\.com/([\w.-]+)/([\w.-]+)/[0-9a-f]{40}/\S+")


def test_upstream_urls_are_pinned_addresses_of_the_recorded_origin():
    urls = upstream_urls()
    known = registry()
    assert len(urls) >= 10
    for relative, url in urls.items():
        assert relative in known, relative
        m = UPSTREAM.fullmatch(url)
        assert m, url  # a raw file at a fixed commit: its bytes cannot change under the checksum
        source = source_of(relative)
        assert m.group(2).lower() in (source.origin + source.url).lower(), (relative, url)
    listed = list_datasets().set_index("name")["download"]
    assert listed["lincs_test_gene_sets"] == urls["lincs/test_gene_sets_n4.gmt"]
    assert listed["golub_leukemia"] == ""  # one of its two files has no upstream copy


def test_fetch_without_a_mirror_downloads_from_the_upstream_url(tmp_path, data_dir, monkeypatch):
    """The upstream address is used as recorded (here redirected to a loopback server)."""
    upstream = tmp_path / "upstream" / "inst" / "extdata"
    upstream.mkdir(parents=True)
    shutil.copyfile(data_dir / "lincs/test_gene_sets_n4.gmt", upstream / "test_gene_sets_n4.gmt")
    dest = tmp_path / "data"
    with serve(tmp_path / "upstream") as url:
        recorded = {"lincs/test_gene_sets_n4.gmt": url + "inst/extdata/test_gene_sets_n4.gmt"}
        monkeypatch.setattr(_sources, "upstream_urls", lambda: recorded)
        got = fetch_dataset("lincs_test_gene_sets", to=dest)
    assert got == [dest / "lincs" / "test_gene_sets_n4.gmt"]
    assert _sha256(got[0]) == registry()["lincs/test_gene_sets_n4.gmt"][0]


def test_fetch_without_a_mirror_refuses_files_without_upstream_before_downloading(tmp_path):
    with pytest.raises(DataNotFoundError, match="Leukemia_hgu95av2.gct.gz") as err:
        fetch_dataset("golub_leukemia", to=tmp_path)
    assert "--from" in str(err.value)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # Leukemia.cls was not fetched alone
