"""Property test: random bytes and mutated valid files fed to the GCT and GMT readers.

Whatever the input, the readers either return a result or raise an exprlab error; no other
exception (ValueError, IndexError, UnicodeDecodeError, pandas errors ...) may escape.
"""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exprlab.errors import ExprlabError
from exprlab.io import read_gct, read_gmt

GCT13 = (
    b"#1.3\n3\t2\t2\t2\nid\tsymbol\tentrez\tS1\tS2\n"
    b"dose\tna\tna\t10\t0.5\ncell\tna\tna\tA375\tMCF7\n"
    b"g1\tTP53\t7157\t1.5\t-2\ng2\tEGFR\t1956\t0\t3.25\ng3\tMYC\t4609\tNA\t1e-3\n"
)
GCT12 = b"#1.2\n2\t3\nName\tDescription\tA\tB\tC\np1\tx\t1\t2\t3\np2\ty\t4\t5\t6\n"
GMT = b"SET_A\tfirst\tTP53\tEGFR\tMYC\nSET_B\t\tBRCA1\tTP53\nSET_C\thttp://x\tKRAS\n"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _mutate(data: bytes, ops) -> bytes:
    for kind, pos, value in ops:
        if not data:
            data = bytes([value])
            continue
        i = pos % len(data)
        lines = data.split(b"\n")
        j = pos % len(lines)
        if kind == "truncate":
            data = data[:i]
        elif kind == "flip":
            data = data[:i] + bytes([data[i] ^ (value or 1)]) + data[i + 1 :]
        elif kind == "delete_line":
            data = b"\n".join(lines[:j] + lines[j + 1 :])
        elif kind == "duplicate_line":
            data = b"\n".join(lines[: j + 1] + lines[j:])
        elif kind == "insert_tab":
            data = data[:i] + b"\t" + data[i:]
        elif kind == "insert_byte":
            data = data[:i] + bytes([value]) + data[i:]
        elif kind == "insert_newline":
            data = data[:i] + b"\n" + data[i:]
    return data


_ops = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "truncate",
                "flip",
                "delete_line",
                "duplicate_line",
                "insert_tab",
                "insert_byte",
                "insert_newline",
            ]
        ),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=255),
    ),
    min_size=1,
    max_size=4,
)


def _feed(folder, reader, data: bytes, name: str) -> None:
    path = folder / name
    path.write_bytes(data)
    try:
        reader(path)
    except ExprlabError:
        pass


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes(fuzz_dir, data):
    _feed(fuzz_dir, read_gct, data, "r.gct")
    _feed(fuzz_dir, read_gmt, data, "r.gmt")


@_SETTINGS
@given(base=st.sampled_from([GCT13, GCT12]), ops=_ops, compress=st.booleans())
def test_mutated_gct(fuzz_dir, base, ops, compress):
    data = _mutate(base, ops)
    _feed(fuzz_dir, read_gct, gzip.compress(data) if compress else data, "m.gct")


@_SETTINGS
@given(ops=_ops)
def test_mutated_gmt(fuzz_dir, ops):
    _feed(fuzz_dir, read_gmt, _mutate(GMT, ops), "m.gmt")


@_SETTINGS
@given(ops=_ops)
def test_mutated_compressed_stream(fuzz_dir, ops):
    # damage the gzip stream itself, not the text inside
    _feed(fuzz_dir, read_gct, _mutate(gzip.compress(GCT13), ops), "z.gct.gz")
    _feed(fuzz_dir, read_gmt, _mutate(gzip.compress(GMT), ops), "z.gmt.gz")
