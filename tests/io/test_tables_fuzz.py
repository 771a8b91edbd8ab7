"""Random bytes and mutated valid tables: only exprlab's own errors escape the table readers."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exprlab.errors import ExprlabError
from exprlab.io import read_deg_table, read_dgem_contrast, read_indications

VALID_DEG = (
    b"efo.id\tefo.term\tensembl.id\tgene.symbol\tcomparison\tlfc\tpval\n"
    b"D1\tdis\tE1\tG1\tc1\t1.5\t0.01\nD1\tdis\tE2\tG2\tc1\t-2.0\t0.02\n"
)
VALID_IND = b"drug\tdisease\tphase\nmetformin\tEFO_1\t4\naspirin\tEFO_2\t3\n"
VALID_DGEM = b",GeneIndex,Name,Log2FoldChange,AdjustedPValue\n0,0,A,1.0,0.1\n1,1,B,0.0,1.0\n"


def _only_exprlab_errors(reader, data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x{suffix}"
        path.write_bytes(data)
        try:
            reader(path)
        except ExprlabError:
            pass


def _mutate(valid: bytes):
    return st.tuples(st.integers(0, len(valid)), st.integers(0, 8), st.binary(max_size=8)).map(
        lambda t: valid[: t[0]] + t[2] + valid[t[0] + t[1] :]
    )


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(st.one_of(st.binary(max_size=200), _mutate(VALID_DEG)))
def test_deg_reader_fuzz(data):
    _only_exprlab_errors(read_deg_table, data, ".tsv")


@_settings
@given(st.one_of(st.binary(max_size=200), _mutate(VALID_IND)))
def test_indication_reader_fuzz(data):
    _only_exprlab_errors(read_indications, data, ".tsv")


@_settings
@given(st.one_of(st.binary(max_size=200), _mutate(VALID_DGEM)))
def test_dgem_reader_fuzz(data):
    _only_exprlab_errors(read_dgem_contrast, data, ".csv")
