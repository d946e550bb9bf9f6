"""The attention stage: every head of a block as a heatmap, and one head and one token's
derivation step by step, drawn from their view models (pyexplainer.views.attention)."""

from __future__ import annotations

import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import make
from pyexplainer.ui.matrix import Matrices
from pyexplainer.ui.panel_parts import (
    MAX_NUMBER_CELLS,
    ROW_HEIGHT,
    captioned,
    dim_labels,
    labelled_rows,
    number_row,
    step_figure,
    vector_strip,
)
from pyexplainer.views.attention import STEP_WORDS, STEPS, AttentionGridView, AttentionRowView
from pyexplainer.views.colors import (
    symmetric_limit,
)


def attention_grid_panel(view: AttentionGridView, head: int, m: Matrices, locale: str):
    cells = []
    t, s = view.probs.shape[1:]
    cell = max(3, min(12, 180 // max(t, s)))
    for h, probs in enumerate(view.probs):
        name = text("attention.grid.head", locale, layer=view.layer, head=h)
        canvas = m.canvas(
            np.where(view.mask, probs, -np.inf),
            name,
            locale=locale,
            probabilities=True,
            row_labels=view.query_labels,
            col_labels=view.key_labels,
            cell=(cell, cell),
            data_testid="attention-heatmap",
            data_layer=view.layer,
            data_head=h,
            data_action="select-head",  # a click picks this head, and zooms into it below
        )
        button = make(
            "button",
            name,
            class_="head" + (" selected" if h == head else ""),
            data_action="select-head",
            data_head=h,
            aria_pressed=str(h == head).lower(),
        )
        cells.append(make("div", "", canvas, button, class_="head-cell"))
    zoom = m.canvas(
        np.where(view.mask, view.probs[head], -np.inf),
        text("attention.grid.head", locale, layer=view.layer, head=head),
        locale=locale,
        probabilities=True,
        row_labels=view.query_labels,
        col_labels=view.key_labels,
        cell=(ROW_HEIGHT, ROW_HEIGHT),
        data_field="attention.zoom",
    )
    return make(
        "section",
        "",
        make("p", text("explain.attention.grid", locale), class_="explain"),
        make("div", "", *cells, class_="head-grid"),
        step_figure(
            text("attention.zoom", locale, layer=view.layer, head=head),
            text("attention.formula.softmax", locale),
            labelled_rows(view.query_labels, zoom, m),
        ),
        class_="panel",
    )


def attention_step_panel(view: AttentionRowView, m: Matrices, locale: str):
    keys = list(view.key_labels)
    dh = len(view.q)
    d = len(view.merged)
    where = text(
        "where.attention", locale, layer=view.layer, head=view.head, query=view.query_label
    )

    def strip(values, name_key, cols, *, probabilities=False, limit=None, cell=(10, 18)):
        name = text(name_key, locale)
        if cols is keys and len(keys) <= MAX_NUMBER_CELLS:
            return number_row(
                name, keys, values, probabilities=probabilities, limit=limit, field=name_key
            )
        return vector_strip(
            m,
            values,
            name_key,
            where,
            locale,
            cell=cell,
            probabilities=probabilities,
            limit=limit,
            col_labels=cols,
        )

    def formula(step):
        return text(STEP_WORDS[step][1], locale, scale=f"{view.scale:.4g}")

    qk = symmetric_limit(view.q, view.keys)
    score_limit = symmetric_limit(view.scores)
    wide = (max(1, min(4, 768 // d)), 18)
    steps = {
        "scores": [
            strip(view.q, "attention.q", dim_labels(dh), limit=qk),
            captioned(
                text("attention.k", locale),
                m.canvas(
                    view.keys,
                    f"{text('attention.k', locale)} ({where})",
                    limit=qk,
                    row_labels=keys,
                    col_labels=dim_labels(dh),
                    locale=locale,
                    cell=(10, 10),
                    data_field="keys",
                ),
                m,
            ),
            strip(view.scores, "attention.scores", keys, limit=score_limit),
        ],
        "scale": [strip(view.scaled, "attention.scaled", keys, limit=score_limit)],
        "mask": [strip(view.masked, "attention.masked", keys, limit=score_limit)],
        "softmax": [strip(view.weights, "attention.weights", keys, probabilities=True)],
        "weighted_sum": [
            captioned(
                text("attention.v", locale),
                m.canvas(
                    view.values,
                    f"{text('attention.v', locale)} ({where})",
                    row_labels=keys,
                    col_labels=dim_labels(dh),
                    locale=locale,
                    cell=(10, 10),
                    data_field="values",
                ),
                m,
            ),
            strip(view.head_output, "attention.head_output", dim_labels(dh)),
        ],
        "merge": [strip(view.merged, "attention.merged", dim_labels(d), cell=wide)],
        "projection": [strip(view.projected, "attention.projected", dim_labels(d), cell=wide)],
        "residual": [
            strip(view.residual_before, "attention.residual_before", dim_labels(d), cell=wide),
            strip(view.residual_after, "attention.residual_after", dim_labels(d), cell=wide),
        ],
    }
    notes = {
        "weighted_sum": text("check.head", locale, difference=f"{view.head_mismatch:.1e}"),
        "merge": text("check.merge", locale),
        "projection": text("check.projection", locale),
        "residual": text("check.add", locale, difference=f"{view.add_mismatch:.1e}"),
    }
    figures = [
        step_figure(
            f"{i + 1}. {text(STEP_WORDS[step][0], locale)}",
            formula(step),
            *steps[step],
            note=notes.get(step, ""),
            data_step=step,
        )
        for i, step in enumerate(STEPS)
    ]
    return make(
        "section",
        "",
        make("p", text("explain.attention", locale, query=view.query_label), class_="explain"),
        *figures,
        class_="panel derivation",
        data_testid="attention-step",
        data_layer=view.layer,
        data_head=view.head,
        data_position=view.position,
    )
