"""The detail views of the vectors a token passes through: embeddings, MLP, layer norm, residual
stream and output, each drawn from its view model (pyexplainer.views) into one element carrying
the view's data-testid. Every number comes from the view model; the words from the catalogue."""

from __future__ import annotations

import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import make, make_svg
from pyexplainer.ui.matrix import Matrices
from pyexplainer.ui.panel_parts import (
    ROW_HEIGHT,
    captioned,
    dim_labels,
    header_row,
    histogram_bars,
    labelled_rows,
    step_figure,
    vector_strip,
)
from pyexplainer.views.embedding import EmbeddingView
from pyexplainer.views.layernorm import LayerNormView
from pyexplainer.views.mlp import MlpView
from pyexplainer.views.predictions import OutputView
from pyexplainer.views.residual import ResidualView


def embedding_panel(view: EmbeddingView, m: Matrices, locale: str):
    labels = [
        text("embedding.row", locale, label=r.label, token_id=r.token_id, position=r.position)
        for r in view.rows
    ]
    d = len(view.rows[0].embedding)
    tall = (max(2, min(4, 768 // d)), ROW_HEIGHT)

    def matrix(field: str, name_key: str, formula_key: str):
        values = np.stack([getattr(r, field) for r in view.rows])  # (T, D)
        name = text(name_key, locale)
        canvas = m.canvas(
            values,
            name,
            locale=locale,
            limit=view.color_limit,
            row_labels=labels,
            col_labels=dim_labels(d),
            cell=tall,
            data_field=field,
        )
        return step_figure(name, text(formula_key, locale), labelled_rows(labels, canvas, m))

    return make(
        "section",
        "",
        make("p", text("explain.embedding", locale), class_="explain"),
        matrix("token_embedding", "embedding.token", "embedding.token.formula"),
        matrix("position_embedding", "embedding.position", "embedding.position.formula"),
        matrix("embedding", "embedding.sum", "embedding.sum.formula"),
        make("p", text("check.sum", locale, difference=f"{view.sum_mismatch:.1e}"), class_="note"),
        class_="panel",
        data_testid="embedding-view",
    )


def gelu_chart(view: MlpView, locale: str):
    """GELU's curve over this token's range, and a histogram of its pre-activations beneath."""
    width, height, pad = 360, 170, 24
    x0, x1 = float(view.curve_x[0]), float(view.curve_x[-1])
    y0 = float(min(view.curve_y.min(), -0.2))
    y1 = float(view.curve_y.max())

    def sx(x):
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def sy(y):
        return height - pad - (y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)

    edges = [sx(edge) for edge in view.histogram_edges]  # (B + 1,) px
    bars = histogram_bars(view.histogram_counts, edges, baseline=height - pad, tallest=40, gap=0.5)
    points = " ".join(
        f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(view.curve_x, view.curve_y, strict=True)
    )
    svg = make_svg(
        "svg",
        viewBox=f"0 0 {width} {height}",
        class_="gelu",
        role="img",
        aria_label=text("mlp.gelu.alt", locale),
    )
    for node in [
        make_svg(
            "line", x1=pad, x2=width - pad, y1=f"{sy(0):.1f}", y2=f"{sy(0):.1f}", class_="axis"
        ),
        *(
            make_svg(
                "line", x1=f"{sx(0):.1f}", x2=f"{sx(0):.1f}", y1=pad, y2=height - pad, class_="axis"
            )
            for _ in [0]
            if x0 <= 0 <= x1
        ),
        *bars,
        make_svg("polyline", points=points, class_="curve"),
        make_svg(
            "text", text("mlp.gelu.curve", locale), x=pad + 4, y=pad - 6, class_="chart-label"
        ),
    ]:
        svg.appendChild(node)
    return svg


def mlp_panel(view: MlpView, m: Matrices, locale: str):
    d, h = len(view.input), len(view.pre)
    where = text("where.mlp", locale, layer=view.layer, label=view.label)
    wide_d, wide_h = (max(1, min(4, 768 // d)), 18), (1, 18)

    def strip(values, key, cell):
        return vector_strip(m, values, key, where, locale, cell=cell)

    return make(
        "section",
        "",
        make("p", text("explain.mlp", locale, hidden=h, width=d), class_="explain"),
        step_figure(
            text("mlp.input", locale),
            text("mlp.input.formula", locale),
            strip(view.input, "mlp.input", wide_d),
        ),
        step_figure(
            text("mlp.pre", locale),
            text("mlp.pre.formula", locale, hidden=h, width=d),
            strip(view.pre, "mlp.pre", wide_h),
        ),
        step_figure(
            text("mlp.gelu", locale),
            text("mlp.formula.gelu", locale),
            gelu_chart(view, locale),
            strip(view.model_activated, "mlp.activated", wide_h),
            note=text(
                "mlp.off_share",
                locale,
                off_share=view.off_share,
                units=h,
                off_below=view.off_below,
                negative_share=view.negative_share,
            )
            + " "
            + text("mlp.check", locale, difference=f"{view.gelu_mismatch:.1e}"),
        ),
        step_figure(
            text("mlp.output", locale),
            text("mlp.output.formula", locale, hidden=h, width=d),
            strip(view.output, "mlp.output", wide_d),
        ),
        step_figure(
            text("mlp.residual", locale),
            text("mlp.residual.formula", locale),
            strip(view.residual_before, "mlp.residual_before", wide_d),
            strip(view.residual_after, "mlp.residual_after", wide_d),
            note=text("check.add", locale, difference=f"{view.add_mismatch:.1e}"),
        ),
        class_="panel",
        data_testid="mlp-view",
        data_layer=view.layer,
        data_position=view.position,
    )


def layernorm_panel(view: LayerNormView, m: Matrices, locale: str):
    d = len(view.input)
    cell = (max(1, min(4, 768 // d)), 18)
    where = text("where.layernorm", locale, which=view.which, layer=view.layer, label=view.label)

    def strip(values, key):
        return vector_strip(m, values, key, where, locale, cell=cell)

    stats = make(
        "dl",
        "",
        make("dt", text("layernorm.mean", locale)),
        make("dd", f"{view.mean:.5g}", data_value=repr(view.mean), data_field="mean"),
        make("dt", text("layernorm.std", locale)),
        make("dd", f"{view.std:.5g}", data_value=repr(view.std), data_field="std"),
        make("dt", "ε"),
        make("dd", f"{view.epsilon:g}"),
        class_="stats",
    )
    return make(
        "section",
        "",
        make("p", text("explain.layernorm", locale), class_="explain"),
        step_figure(
            text("layernorm.input", locale),
            text("layernorm.input.formula", locale),
            strip(view.input, "layernorm.input"),
            stats,
        ),
        step_figure(
            text("layernorm.normalised", locale),
            text("layernorm.normalised.formula", locale),
            strip(view.normalised, "layernorm.normalised"),
        ),
        step_figure(
            text("layernorm.gain", locale),
            text("layernorm.gain.formula", locale),
            strip(view.gain, "layernorm.gain"),
            strip(view.bias, "layernorm.bias"),
        ),
        step_figure(
            text("layernorm.output", locale),
            text("layernorm.output.formula", locale),
            strip(view.output, "layernorm.output"),
            note=text("check.layernorm", locale, difference=f"{view.max_difference:.1e}"),
        ),
        class_="panel",
        data_testid="layernorm-view",
        data_which=view.which,
        data_layer=view.layer,
        data_position=view.position,
    )


def residual_panel(view: ResidualView, position: int, locale: str):
    """A table of the stream's size through the blocks, for one token (rows: blocks)."""
    t = int(np.flatnonzero(view.positions == position)[0])
    header = header_row(
        (
            "residual.col.layer",
            "residual.col.entering",
            "residual.col.attention_added",
            "residual.col.after_attention",
            "residual.col.mlp_added",
            "residual.col.after_mlp",
        ),
        locale,
    )
    rows = [
        make(
            "tr",
            "",
            make("th", str(layer), scope="row"),
            *(
                make("td", f"{values[layer, t]:.3f}", data_value=repr(float(values[layer, t])))
                for values in (
                    view.entering,
                    view.attention_added,
                    view.after_attention,
                    view.mlp_added,
                    view.after_mlp,
                )
            ),
        )
        for layer in range(view.entering.shape[0])
    ]
    return make(
        "section",
        "",
        make("p", text("explain.residual", locale), class_="explain"),
        make("p", text("residual.token", locale, token=view.labels[t]), class_="note"),
        make("table", "", make("thead", "", header), make("tbody", "", *rows), class_="numbers"),
        make("p", text("check.add", locale, difference=f"{view.add_mismatch:.1e}"), class_="note"),
        class_="panel",
        data_testid="residual-view",
        data_position=position,
    )


def output_panel(view: OutputView, m: Matrices, locale: str):
    """Final layer norm -> logits by weight tying -> softmax, then what the settings keep."""
    d = len(view.final_norm)
    cell = (max(1, min(4, 768 // d)), 18)
    final = m.canvas(
        view.final_norm,
        text("output.final_norm", locale),
        locale=locale,
        col_labels=dim_labels(d),
        cell=cell,
        data_field="output.final_norm",
    )
    header = header_row(
        (
            "output.col.token",
            "output.col.id",
            "output.col.logit",
            "output.col.model_probability",
            "output.col.probability",
        ),
        locale,
    )
    rows = [
        make(
            "tr",
            "",
            make("th", p.label, scope="row", class_="token-label"),
            make("td", str(p.token_id)),
            make("td", f"{p.logit:.3f}", data_value=repr(p.logit), data_field="logit"),
            make(
                "td",
                f"{p.model_probability:.4f}",
                data_value=repr(p.model_probability),
                data_field="model_probability",
            ),
            make(
                "td",
                f"{p.probability:.4f}" if p.probability > 0 else text("output.cut", locale),
                data_value=repr(p.probability),
                data_field="probability",
            ),
            data_token_id=p.token_id,
        )
        for p in view.bars
    ]
    rows.append(
        make(
            "tr",
            "",
            make(
                "th",
                text("output.rest", locale, count=view.vocab_size - len(view.bars)),
                scope="row",
            ),
            make("td", ""),
            make("td", ""),
            make("td", f"{view.rest_model_probability:.4f}"),
            make("td", f"{view.rest_probability:.4f}"),
            class_="rest",
        )
    )
    return make(
        "section",
        "",
        step_figure(
            text("output.final_norm", locale),
            text("output.final_norm.formula", locale),
            captioned(text("output.final_norm", locale), final, m),
            note=text("explain.final_norm", locale),
        ),
        step_figure(
            text("output.logits", locale),
            text("output.formula.logits", locale),
            make("p", text("explain.logits", locale), class_="note"),
        ),
        step_figure(
            text("output.softmax", locale),
            text("output.formula.softmax", locale),
            make(
                "table", "", make("thead", "", header), make("tbody", "", *rows), class_="numbers"
            ),
            note=text("explain.softmax", locale)
            + " "
            + text("output.kept", locale, kept=view.kept, vocab_size=view.vocab_size),
        ),
        class_="panel",
        data_testid="output-view",
    )
