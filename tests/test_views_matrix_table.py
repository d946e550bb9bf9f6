"""A heatmap's numbers as table pages: which columns a page holds, and how cells read."""

import numpy as np
import pytest

from pyexplainer.views.matrix_table import table_page

VALUES = np.arange(3 * 40, dtype=np.float32).reshape(3, 40) / 7  # (R, C) = (3, 40)
ROWS = ["a", "b", "c"]
COLS = [f"d{j}" for j in range(40)]


@pytest.mark.parametrize(
    "first, columns",
    [(0, (0, 16)), (20, (16, 32)), (39, (32, 40)), (-5, (0, 16)), (99, (32, 40))],
    ids=["first page", "inside a page", "last, short page", "before the start", "past the end"],
)
def test_a_page_holds_whole_pages_of_columns(first, columns):
    page = table_page(VALUES, ROWS, COLS, first)
    start, stop = columns
    assert (page.first, page.stop, page.total) == (start, stop, 40)
    assert page.col_labels == tuple(f"d{j}" for j in range(start, stop))
    assert page.row_labels == ("a", "b", "c")
    np.testing.assert_array_equal(page.values, VALUES[:, start:stop])
    assert len(page.cells) == 3 and all(len(row) == stop - start for row in page.cells)


def test_cells_read_as_the_tooltip_and_masked_ones_as_minus_infinity():
    values = np.array([[0.123456, -12345.6, -np.inf, 0.0]])
    page = table_page(values, ["q"], ["k0", "k1", "k2", "k3"])
    assert page.cells == (("0.1235", "-1.235e+04", "−∞", "0"),)


def test_a_narrow_matrix_is_one_page():
    page = table_page(VALUES[:, :5], ROWS, COLS[:5], first=3)
    assert (page.first, page.stop) == (0, 5)
