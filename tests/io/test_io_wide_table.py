"""Wide tables (queries x signatures) written as Parquet one row group at a time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from exprlab.errors import InputDataError
from exprlab.io import read_table, write_wide_table
from exprlab.io._results import _parquet_group_rows


def frame(n=7, m=5, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, m)).astype(dtype)
    values[1, 2] = np.nan
    return pd.DataFrame(values, index=[f"q{i}" for i in range(n)], columns=[f"sig_{j}" for j in range(m)])


def expected_table(wide: pd.DataFrame) -> pd.DataFrame:
    """The same table built cell by cell with pandas."""
    data = {"query": [str(i) for i in wide.index]}
    for c in wide.columns:
        data[str(c)] = [wide.at[i, c] for i in wide.index]
    return pd.DataFrame(data).astype({str(c): wide[c].dtype for c in wide.columns})


@pytest.mark.parametrize("chunk", [None, 1, 3, 7, 100])
def test_parquet_equals_the_in_memory_table(tmp_path, chunk):
    wide = frame()
    path = write_wide_table(wide, tmp_path / "w.parquet", chunk_size=chunk)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, expected_table(wide))
    pd.testing.assert_frame_equal(read_table(path), back)
    groups = pq.ParquetFile(path).metadata.num_row_groups
    assert groups == (1 if chunk is None else math.ceil(len(wide) / chunk))


def test_parquet_keeps_float32_nan_as_null_and_empty_tables(tmp_path):
    wide = frame(4, 3, dtype=np.float32)
    path = write_wide_table(wide, tmp_path / "f.parquet", chunk_size=2)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, expected_table(wide))
    column = pq.read_table(path).column("sig_2")
    assert column.null_count == 1 and str(column.type) == "float"
    empty = wide.iloc[:0]
    back = pd.read_parquet(write_wide_table(empty, tmp_path / "e.parquet"))
    assert list(back.columns) == ["query", "sig_0", "sig_1", "sig_2"] and len(back) == 0


def test_parquet_and_tsv_hold_the_same_table(tmp_path):
    wide = frame(9, 4)
    p = pd.read_parquet(write_wide_table(wide, tmp_path / "w.parquet", chunk_size=4))
    t = read_table(write_wide_table(wide, tmp_path / "w.tsv", chunk_size=4))
    pd.testing.assert_frame_equal(p, t, check_exact=False, rtol=1e-12)


def test_row_group_rule_balances_block_and_metadata():
    # sqrt(200 n) rows, or about 4 million cells for narrow tables, never more than n
    assert _parquet_group_rows(200, 100_000) == 200
    assert _parquet_group_rows(2000, 100_000) == 633  # ceil(sqrt(400,000))
    assert _parquet_group_rows(1_000_000, 10) == 419_430  # 2**22 // 10
    assert _parquet_group_rows(3, 5) == 3
    assert _parquet_group_rows(0, 5) == 1


def test_non_numeric_wide_parquet_is_refused(tmp_path):
    wide = pd.DataFrame({"a": ["x", "y"]}, index=["q0", "q1"])
    with pytest.raises(InputDataError, match="numbers"):
        write_wide_table(wide, tmp_path / "s.parquet")
    assert not (tmp_path / "s.parquet").exists()
