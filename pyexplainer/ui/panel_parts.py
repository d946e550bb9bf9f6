"""What the detail panels are made of: a captioned heatmap, a strip of one vector, a row of
numbers, a step of a derivation with its formula, rows labelled by token."""

from __future__ import annotations

import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import make, make_svg
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


def histogram_bars(counts: np.ndarray, edges, *, baseline: float, tallest: float, gap: float):
    """One SVG bar per bin of a histogram, for the debugging panel's histograms and the MLP's
    GELU chart: bin i spans edges[i] .. edges[i + 1] (px, left to right; counts (B,), edges
    (B + 1,)), its bar `gap` px narrower (0.5 px at the least) and tallest * count / the largest
    count px tall, standing on y = baseline."""
    top = counts.max() or 1
    return [
        make_svg(
            "rect",
            x=f"{left:.1f}",
            y=f"{baseline - tallest * count / top:.1f}",
            width=f"{max(right - left - gap, 0.5):.1f}",
            height=f"{tallest * count / top:.1f}",
            class_="hist",
        )
        for left, right, count in zip(edges[:-1], edges[1:], counts, strict=True)
    ]


def header_row(keys, locale: str):
    """A table's header row: a column heading per catalogue key, in `locale`."""
    return make("tr", "", *(make("th", text(key, locale), scope="col") for key in keys))


def computing_panel(heading_key: str, note_key: str, testid: str, locale: str):
    """What a stage shows while the model runs again for it: its heading and what runs, marked
    data-state=computing (the tests and the benchmark wait for "ready")."""
    return make(
        "section",
        "",
        make("h3", text(heading_key, locale)),
        make("p", text(note_key, locale), class_="note"),
        class_="panel analysis",
        data_testid=testid,
        data_state="computing",
    )
