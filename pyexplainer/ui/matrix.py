"""Heatmaps and colour strips: one numpy matrix drawn on a canvas, every cell's real value on hover.

One canvas pixel per cell (scaled up by CSS, kept sharp), so a (T, 4D) matrix costs one typed-array
copy, not one DOM node per number. What a cell holds is looked up in the matrix itself when the
pointer moves, so the values shown are the arrays the views computed. The same numbers as a table
(the text alternative to the picture) are built only when the student asks for them.
"""

from __future__ import annotations

import dataclasses
import itertools

import js  # Pyodide only
import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import document, element, make
from pyexplainer.views.colors import diverging_rgba, sequential_rgba
from pyexplainer.views.matrix_table import COLUMNS_PER_PAGE, format_cell, table_page

_ids = itertools.count()


@dataclasses.dataclass(frozen=True, eq=False)
class Shown:
    values: np.ndarray  # (R, C) float
    row_labels: tuple[str, ...]  # (R,)
    col_labels: tuple[str, ...]  # (C,)
    name: str  # what the matrix is, e.g. "attention weights, layer 0 head 1"
    locale: str  # of the words around it


class Matrices:
    """Every matrix on the page by canvas id, for the one tooltip they share."""

    def __init__(self):
        self.shown: dict[str, Shown] = {}

    def forget(self, root) -> None:
        """Drop the matrices drawn inside `root` (before it is redrawn)."""
        for node in root.querySelectorAll("[data-matrix]"):  # canvases and table buttons
            self.shown.pop(node.dataset.matrix, None)

    def canvas(
        self,
        values: np.ndarray,
        name: str,
        *,
        locale: str,
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
        key = self._remember(values, name, locale, row_labels, col_labels)
        canvas = make(
            "canvas",
            class_="matrix",
            width=cols,
            height=rows,
            data_matrix=key,
            data_rows=rows,
            data_cols=cols,
            role="img",
            aria_label=text("matrix.label", locale, name=name, rows=rows, cols=cols),
            **attrs,
        )
        canvas.style.width = f"min(100%, {cols * cell[0]}px)"
        canvas.style.height = f"{rows * cell[1]}px"  # rows stay level with their labels
        pixels = js.Uint8ClampedArray.new(rgba.size)
        pixels.assign(np.ascontiguousarray(rgba))
        canvas.getContext("2d").putImageData(js.ImageData.new(pixels, cols, rows), 0, 0)
        return canvas

    def _remember(self, values: np.ndarray, name: str, locale: str, row_labels, col_labels) -> str:
        """Keep values (R, C) and their labels under a new key, for the tooltip and the table."""
        rows, cols = values.shape
        key = f"m{next(_ids)}"
        self.shown[key] = Shown(
            values,
            tuple(row_labels or (str(i) for i in range(rows))),
            tuple(col_labels or (str(j) for j in range(cols))),
            name,
            locale,
        )
        return key

    def table_toggle(self, canvas):
        """A button that shows (and hides) the numbers of `canvas` as a table, below it."""
        return self._toggle(canvas.getAttribute("data-matrix"))

    def numbers_toggle(self, values: np.ndarray, name: str, *, locale: str, row_labels, col_labels):
        """The same button for numbers drawn some other way than a canvas (values (R, C))."""
        values = np.atleast_2d(np.asarray(values, dtype=np.float32))
        return self._toggle(self._remember(values, name, locale, row_labels, col_labels))

    def _toggle(self, key: str):
        shown = self.shown[key]
        region = make(
            "div",
            class_="matrix-table-page",
            id=f"{key}-table",
            role="region",
            aria_label=shown.name,
            hidden="",
        )
        button = make(
            "button",
            text("matrix.table.show", shown.locale),
            class_="secondary small",
            data_action="matrix-table",
            data_matrix=key,
            aria_expanded="false",
            aria_controls=region.id,
        )
        return make("div", "", button, region, class_="matrix-table")

    def toggle_table(self, button) -> None:
        """Open the table of the button's matrix at its first columns, or close it."""
        key = button.dataset.matrix
        shown = self.shown[key]
        region = document.getElementById(f"{key}-table")
        opening = button.getAttribute("aria-expanded") != "true"
        button.setAttribute("aria-expanded", str(opening).lower())
        label = "matrix.table.hide" if opening else "matrix.table.show"
        button.textContent = text(label, shown.locale)
        region.hidden = not opening
        region.replaceChildren()
        if opening:
            region.appendChild(self._pager(key, shown))
            region.appendChild(make("div", class_="matrix-table-holder"))
            self.show_table_page(region, 0)

    def _pager(self, key: str, shown: Shown):
        """Previous / next page of columns and which ones are shown (hidden for one page)."""

        def turn(label: str, step: int):
            return make(
                "button",
                text(label, shown.locale),
                class_="secondary small",
                data_action="matrix-page",
                data_matrix=key,
                data_step=step,
            )

        pager = make(
            "div",
            "",
            turn("matrix.table.previous", -1),
            make("span", class_="matrix-table-columns", aria_live="polite"),
            turn("matrix.table.next", 1),
            class_="matrix-table-pager",
        )
        pager.hidden = shown.values.shape[1] <= COLUMNS_PER_PAGE
        return pager

    def turn_table_page(self, button) -> None:
        """A pager button: the previous or next columns, focus kept on a usable button."""
        region = document.getElementById(f"{button.dataset.matrix}-table")
        first = int(region.dataset.first) + int(button.dataset.step) * COLUMNS_PER_PAGE
        self.show_table_page(region, first)
        if button.disabled:  # at an end: the other way is the one left
            region.querySelector(".matrix-table-pager button:not(:disabled)").focus()

    def show_table_page(self, region, first: int) -> None:
        """Fill the table of region's matrix with the page of columns holding `first`."""
        key = region.id.removesuffix("-table")
        shown = self.shown[key]
        page = table_page(shown.values, shown.row_labels, shown.col_labels, first)
        region.dataset.first = str(page.first)
        region.querySelector(".matrix-table-columns").textContent = text(
            "matrix.table.page",
            shown.locale,
            name=shown.name,
            first=page.first + 1,
            last=page.stop,
            total=page.total,
        )
        region.querySelector("[data-step='-1']").disabled = page.first == 0
        region.querySelector("[data-step='1']").disabled = page.stop == page.total
        head = make(
            "tr",
            "",
            make("td"),
            *(make("th", label, scope="col") for label in page.col_labels),
        )
        rows = [
            make(
                "tr",
                "",
                make("th", label, scope="row"),
                *(
                    make("td", cell, data_value=repr(float(value)))
                    for cell, value in zip(cells, values, strict=True)
                ),
            )
            for label, cells, values in zip(page.row_labels, page.cells, page.values, strict=True)
        ]
        table = make(
            "table",
            "",
            make("thead", "", head),
            make("tbody", "", *rows),
            class_="numbers heatmap-table",
            data_testid="heatmap-table",
            data_matrix=key,
            data_first=page.first,
        )
        region.querySelector(".matrix-table-holder").replaceChildren(table)

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
        shown_value = format_cell(value)
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
