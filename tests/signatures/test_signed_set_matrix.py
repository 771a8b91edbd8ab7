import numpy as np
import pandas as pd

from exprlab.signatures import signed_set_matrix


def test_names_are_looked_up_and_unknown_ones_ignored():
    m = signed_set_matrix([(["A", "B"], ["C"]), (["C", "Z"], ["A", "C"])], pd.Index(["A", "B", "C"]))
    expected = np.array([[1, 1, -1], [-1, 0, 0]], dtype=np.float32)  # row 2: C is +1 and -1
    np.testing.assert_array_equal(m.toarray(), expected)
    assert m.dtype == np.float32


def test_positions_and_empty_rows():
    m = signed_set_matrix([([0, 2], [1]), ([], [])], 4, dtype=np.float64)
    np.testing.assert_array_equal(m.toarray(), [[1, -1, 1, 0], [0, 0, 0, 0]])
    assert m.dtype == np.float64
    assert signed_set_matrix([], 3).shape == (0, 3)
