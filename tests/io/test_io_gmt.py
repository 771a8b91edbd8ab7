"""GMT gene sets: reading (plain, gz, xz), writing, duplicate policy, universe filtering."""

from __future__ import annotations

import gzip
import lzma

import pytest

from exprlab.errors import DuplicateIdError, FormatError, GeneSpaceError
from exprlab.io import GeneSets, filter_gene_sets, read_gmt, write_gmt

TEXT = "SET_A\tfirst set\tTP53\tEGFR\tMYC\nSET_B\t\tBRCA1\tTP53\tBRCA1\t\nSET_C\thttp://x\tKRAS\n"


def test_read_plain(tmp_path):
    path = tmp_path / "s.gmt"
    path.write_text(TEXT)
    sets = read_gmt(path)
    assert isinstance(sets, dict) and isinstance(sets, GeneSets)
    assert list(sets) == ["SET_A", "SET_B", "SET_C"]  # file order
    assert sets["SET_A"] == ["TP53", "EGFR", "MYC"]
    assert sets["SET_B"] == ["BRCA1", "TP53"]  # repeat dropped, first position kept, empty cell ignored
    assert sets.descriptions == {"SET_A": "first set", "SET_B": "", "SET_C": "http://x"}


@pytest.mark.parametrize("opener,name", [(gzip.open, "s.gmt.gz"), (lzma.open, "s.gmt.xz")])
def test_read_compressed(tmp_path, opener, name):
    path = tmp_path / name
    with opener(path, "wt") as fh:
        fh.write(TEXT)
    assert read_gmt(path)["SET_C"] == ["KRAS"]


@pytest.mark.parametrize("name", ["out.gmt", "out.gmt.gz", "out.gmt.xz"])
def test_write_round_trip(tmp_path, name):
    sets = {"up": ["A", "B", "C"], "down": ["D"]}
    path = write_gmt(sets, tmp_path / name, descriptions={"up": "genes up"})
    back = read_gmt(path)
    assert back == sets
    assert back.descriptions == {"up": "genes up", "down": "na"}
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_write_exact_text(tmp_path):
    path = write_gmt({"s1": ["X", "Y", "X"]}, tmp_path / "o.gmt")
    assert path.read_text() == "s1\tna\tX\tY\n"


def test_duplicate_set_name_is_an_error(tmp_path):
    path = tmp_path / "d.gmt"
    path.write_text("S\td\tA\nT\td\tB\nS\td\tC\n")
    with pytest.raises(DuplicateIdError, match="lines 1 and 3"):
        read_gmt(path)


def test_empty_line_in_the_middle(tmp_path):
    path = tmp_path / "e.gmt"
    path.write_text("S\td\tA\n\nT\td\tB\n")
    with pytest.raises(FormatError, match="line 2 is empty") as err:
        read_gmt(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_trailing_newlines_are_fine(tmp_path):
    path = tmp_path / "t.gmt"
    path.write_text("S\td\tA\n\n\n")
    assert read_gmt(path) == {"S": ["A"]}


def test_set_without_genes(tmp_path):
    path = tmp_path / "n.gmt"
    path.write_text("S\td\tA\nEMPTY\tdesc\t\t\n")
    with pytest.raises(FormatError, match="'EMPTY' on line 2 has no gene"):
        read_gmt(path)


def test_universe_filter(tmp_path):
    path = tmp_path / "u.gmt"
    path.write_text(TEXT)
    sets = read_gmt(path, universe=["TP53", "BRCA1", "KRAS", "OTHER"])
    assert sets == {"SET_A": ["TP53"], "SET_B": ["BRCA1", "TP53"], "SET_C": ["KRAS"]}
    with pytest.raises(GeneSpaceError, match="'SET_C' keeps 0 of its 1 genes"):
        read_gmt(path, universe=["TP53", "BRCA1"])
    with pytest.raises(GeneSpaceError, match="SET_A"):
        filter_gene_sets(read_gmt(path), ["TP53", "BRCA1", "KRAS"], min_size=2)
    kept = filter_gene_sets(read_gmt(path), ["TP53", "BRCA1"], on_small="drop")
    assert kept == {"SET_A": ["TP53"], "SET_B": ["BRCA1", "TP53"]}
    assert kept.descriptions == {"SET_A": "first set", "SET_B": ""}
