"""What the detail panels are made of: a captioned heatmap, a strip of one vector, a row of
numbers, a step of a derivation with its formula, rows labelled by token."""

from __future__ import annotations

import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import make
from pyexplainer.ui.matrix import Matrices
from pyexplainer.views.colors import (
    diverging_rgba,
    readable_text,
    sequential_rgba,
    symmetric_limit,
)

ROW_HEIGHT = 16  # px of one token row in the tall heatmaps
MAX_NUMBER_CELLS = 24  # vectors over at most this many tokens are shown as numbers too


def captioned(name: str, canvas, m: Matrices):
    """A heatmap under its name, with the button that shows its numbers as a table."""
    return make(
        "div",
        "",
        make("span", name, class_="matrix-name"),
        canvas,
        m.table_toggle(canvas),
        class_="matrix-block",
    )


def vector_strip(m: Matrices, values, key: str, where: str, locale: str, *, cell, **options):
    """A vector (or matrix) as a captioned heatmap named by catalogue `key`; `where` (layer,
    token, ...) goes into the hover text; its columns are numbered dimensions unless given."""
    name = text(key, locale)
    options.setdefault("col_labels", dim_labels(np.shape(values)[-1]))
    canvas = m.canvas(
        values, f"{name} ({where})", locale=locale, cell=cell, data_field=key, **options
    )
    return captioned(name, canvas, m)


def number_row(name: str, labels, values, *, probabilities=False, limit=None, field=""):
    """A short vector over tokens as a table: each token above its value, coloured as in the
    heatmaps. Masked entries (-inf) read "−∞"."""
    values = np.asarray(values, dtype=np.float64)
    if probabilities:
        colours = sequential_rgba(values)
    else:
        colours = diverging_rgba(values, limit or symmetric_limit(values))
    cells = []
    for value, (r, g, b, _) in zip(values, colours, strict=True):
        shown = "−∞" if value == -np.inf else f"{value:.3f}"
        cell = make("td", shown, data_value=repr(float(value)))
        cell.style.background = f"rgb({r},{g},{b})"
        cell.style.color = "rgb({},{},{})".format(*readable_text((r, g, b)))
        cells.append(cell)
    head = make("tr", "", *(make("th", label, scope="col") for label in labels))
    return make(
        "table",
        "",
        make("caption", name),
        make("thead", "", head),
        make("tbody", "", make("tr", "", *cells)),
        class_="vector",
        data_field=field,
    )


def dim_labels(n: int, prefix: str = "d") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def step_figure(title: str, formula: str, *content, note: str = "", **attrs):
    """One step of a derivation: its title, the formula, what it shows, an optional note."""
    return make(
        "figure",
        "",
        make("figcaption", "", make("strong", title), make("code", formula, class_="formula")),
        *content,
        *([make("p", note, class_="note")] if note else []),
        class_="step",
        **attrs,
    )


def labelled_rows(labels, canvas, m: Matrices):
    """A tall heatmap with one token label per row on its left, and its table button below."""
    column = make("ol", "", *(make("li", label) for label in labels), class_="row-labels")
    column.style.setProperty("--row", f"{ROW_HEIGHT}px")
    return make(
        "div", "", make("div", "", column, canvas, class_="labelled"), m.table_toggle(canvas)
    )
