"""Heatmaps and colour strips: one numpy matrix drawn on a canvas, every cell's real value on hover.

One canvas pixel per cell (scaled up by CSS, kept sharp), so a (T, 4D) matrix costs one typed-array
copy, not one DOM node per number. What a cell holds is looked up in the matrix itself when the
pointer moves, so the values shown are the arrays the views computed.
"""

from __future__ import annotations

import dataclasses
import itertools

import js  # Pyodide only
import numpy as np

from pyexplainer.ui.dom import element, make
from pyexplainer.views.colors import diverging_rgba, sequential_rgba

_ids = itertools.count()


@dataclasses.dataclass(frozen=True, eq=False)
class Shown:
    values: np.ndarray  # (R, C) float
    row_labels: tuple[str, ...]  # (R,)
    col_labels: tuple[str, ...]  # (C,)
    name: str  # what the matrix is, e.g. "attention weights, layer 0 head 1"


class Matrices:
    """Every matrix on the page by canvas id, for the one tooltip they share."""

    def __init__(self):
        self.shown: dict[str, Shown] = {}

    def forget(self, root) -> None:
        """Drop the matrices drawn inside `root` (before it is redrawn)."""
        for canvas in root.querySelectorAll("canvas[data-matrix]"):
            self.shown.pop(canvas.dataset.matrix, None)

    def canvas(
        self,
        values: np.ndarray,
        name: str,
        *,
        probabilities: bool = False,
        limit: float | None = None,
        row_labels=None,
        col_labels=None,
        cell: tuple[int, int] = (8, 8),
        **attrs,
    ):
        """A canvas showing values (R, C) or (C,) as a 1-row strip; cell = (width, height) in CSS
        pixels. Diverging blue-white-orange around 0 (limit: |value| of full colour), or
        white-blue for probabilities."""
        values = np.atleast_2d(np.asarray(values, dtype=np.float32))
        rows, cols = values.shape
        if probabilities:
            rgba = sequential_rgba(values, 1.0)
        else:
            finite = np.abs(values[np.isfinite(values)])
            rgba = diverging_rgba(values, limit or (float(finite.max()) if finite.size else 1.0))
        key = f"m{next(_ids)}"
        self.shown[key] = Shown(
            values,
            tuple(row_labels or (str(i) for i in range(rows))),
            tuple(col_labels or (str(j) for j in range(cols))),
            name,
        )
        canvas = make(
            "canvas",
            class_="matrix",
            width=cols,
            height=rows,
            data_matrix=key,
            data_rows=rows,
            data_cols=cols,
            role="img",
            aria_label=f"{name}: {rows} x {cols} values, hover or tap a cell to read it",
            **attrs,
        )
        canvas.style.width = f"min(100%, {cols * cell[0]}px)"
        canvas.style.height = f"{rows * cell[1]}px"  # rows stay level with their labels
        pixels = js.Uint8ClampedArray.new(rgba.size)
        pixels.assign(np.ascontiguousarray(rgba))
        canvas.getContext("2d").putImageData(js.ImageData.new(pixels, cols, rows), 0, 0)
        return canvas

    def hover(self, event) -> None:
        """Pointer over a matrix cell: the shared tooltip shows its row, column and value."""
        tooltip = element("tooltip")
        target = event.target
        key = target.getAttribute("data-matrix") if target.tagName == "CANVAS" else None
        shown = self.shown.get(key) if key else None
        if shown is None:
            tooltip.hidden = True
            return
        rows, cols = shown.values.shape
        col = min(cols - 1, max(0, int(event.offsetX / max(1, target.clientWidth) * cols)))
        row = min(rows - 1, max(0, int(event.offsetY / max(1, target.clientHeight) * rows)))
        value = float(shown.values[row, col])
        shown_value = "masked (-inf)" if value == -np.inf else f"{value:.4g}"
        where = (
            shown.col_labels[col]
            if rows == 1
            else f"{shown.row_labels[row]} → {shown.col_labels[col]}"
        )
        tooltip.textContent = f"{shown.name} [{where}] = {shown_value}"
        tooltip.dataset.value = repr(value)
        tooltip.dataset.row, tooltip.dataset.col = str(row), str(col)
        tooltip.dataset.matrix = key
        tooltip.hidden = False
        tooltip.style.left = f"{event.pageX + 14}px"
        tooltip.style.top = f"{event.pageY + 14}px"
