"""A heatmap's numbers as a table, the text alternative to its canvas: one page of columns at a
time, so a (T, 4D) MLP matrix never becomes thousands of DOM cells at once."""

from __future__ import annotations

import dataclasses

import numpy as np

COLUMNS_PER_PAGE = 16


@dataclasses.dataclass(frozen=True)
class TablePage:
    first: int  # index of the first column shown
    stop: int  # one past the last column shown
    total: int  # columns of the whole matrix
    col_labels: tuple[str, ...]  # (stop - first,)
    row_labels: tuple[str, ...]  # (R,)
    values: np.ndarray  # (R, stop - first): the numbers behind the cells
    cells: tuple[tuple[str, ...], ...]  # (R, stop - first): the numbers as shown


def format_cell(value: float) -> str:
    """A number as the heatmap's tooltip gives it (4 significant digits); masked reads −∞."""
    return "−∞" if value == -np.inf else f"{value:.4g}"


def table_page(
    values: np.ndarray, row_labels, col_labels, first: int = 0, width: int = COLUMNS_PER_PAGE
) -> TablePage:
    """Columns [first, first + width) of values (R, C), `first` moved onto the page it falls in."""
    total = values.shape[1]
    first = min(max(first, 0), total - 1) // width * width
    stop = min(first + width, total)
    page = values[:, first:stop]  # (R, stop - first)
    return TablePage(
        first=first,
        stop=stop,
        total=total,
        col_labels=tuple(col_labels[first:stop]),
        row_labels=tuple(row_labels),
        values=page,
        cells=tuple(tuple(format_cell(float(v)) for v in row) for row in page),
    )
