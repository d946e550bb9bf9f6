"""The detail views, each drawn from its view model (pyexplainer.views) into one element carrying
the view's data-testid. Every number comes from the view model; the words from the catalogue."""

from __future__ import annotations

import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import make, make_svg
from pyexplainer.ui.matrix import Matrices
from pyexplainer.views.attention import STEPS, AttentionGridView, AttentionRowView
from pyexplainer.views.colors import (
    diverging_rgba,
    readable_text,
    sequential_rgba,
    symmetric_limit,
)
from pyexplainer.views.debugging import TENSORS, DebuggingView, Histogram
from pyexplainer.views.embedding import EmbeddingView
from pyexplainer.views.head_roles import ROLES, HeadRolesView, ranked_heads
from pyexplainer.views.interpretability import METRICS, InterpretabilityView
from pyexplainer.views.layernorm import LayerNormView
from pyexplainer.views.mlp import MlpView
from pyexplainer.views.predictions import OutputView
from pyexplainer.views.residual import ResidualView

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
    options.setdefault("col_labels", _dims(np.shape(values)[-1]))
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


def _dims(n: int, prefix: str = "d") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _step(title: str, formula: str, *content, note: str = "", **attrs):
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


def _labelled_rows(labels, canvas, m: Matrices):
    """A tall heatmap with one token label per row on its left, and its table button below."""
    column = make("ol", "", *(make("li", label) for label in labels), class_="row-labels")
    column.style.setProperty("--row", f"{ROW_HEIGHT}px")
    return make(
        "div", "", make("div", "", column, canvas, class_="labelled"), m.table_toggle(canvas)
    )


def embedding_panel(view: EmbeddingView, m: Matrices, locale: str):
    labels = [
        text("embedding.row", locale, label=r.label, token_id=r.token_id, position=r.position)
        for r in view.rows
    ]
    d = len(view.rows[0].embedding)
    tall = (max(2, min(4, 768 // d)), ROW_HEIGHT)

    def matrix(field: str, name_key: str):
        values = np.stack([getattr(r, field) for r in view.rows])  # (T, D)
        name = text(name_key, locale)
        canvas = m.canvas(
            values,
            name,
            locale=locale,
            limit=view.color_limit,
            row_labels=labels,
            col_labels=_dims(d),
            cell=tall,
            data_field=field,
        )
        return _step(name, text(name_key + ".formula", locale), _labelled_rows(labels, canvas, m))

    return make(
        "section",
        "",
        make("p", text("explain.embedding", locale), class_="explain"),
        matrix("token_embedding", "embedding.token"),
        matrix("position_embedding", "embedding.position"),
        matrix("embedding", "embedding.sum"),
        make("p", text("check.sum", locale, difference=f"{view.sum_mismatch:.1e}"), class_="note"),
        class_="panel",
        data_testid="embedding-view",
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
        _step(
            text("attention.zoom", locale, layer=view.layer, head=head),
            text("attention.formula.softmax", locale),
            _labelled_rows(view.query_labels, zoom, m),
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
        return text(f"attention.formula.{step}", locale, scale=f"{view.scale:.4g}")

    qk = symmetric_limit(view.q, view.keys)
    score_limit = symmetric_limit(view.scores)
    wide = (max(1, min(4, 768 // d)), 18)
    steps = {
        "scores": [
            strip(view.q, "attention.q", _dims(dh), limit=qk),
            captioned(
                text("attention.k", locale),
                m.canvas(
                    view.keys,
                    f"{text('attention.k', locale)} ({where})",
                    limit=qk,
                    row_labels=keys,
                    col_labels=_dims(dh),
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
                    col_labels=_dims(dh),
                    locale=locale,
                    cell=(10, 10),
                    data_field="values",
                ),
                m,
            ),
            strip(view.head_output, "attention.head_output", _dims(dh)),
        ],
        "merge": [strip(view.merged, "attention.merged", _dims(d), cell=wide)],
        "projection": [strip(view.projected, "attention.projected", _dims(d), cell=wide)],
        "residual": [
            strip(view.residual_before, "attention.residual_before", _dims(d), cell=wide),
            strip(view.residual_after, "attention.residual_after", _dims(d), cell=wide),
        ],
    }
    notes = {
        "weighted_sum": text("check.head", locale, difference=f"{view.head_mismatch:.1e}"),
        "merge": text("check.merge", locale),
        "projection": text("check.projection", locale),
        "residual": text("check.add", locale, difference=f"{view.add_mismatch:.1e}"),
    }
    figures = [
        _step(
            f"{i + 1}. {text(f'attention.step.{step}', locale)}",
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

    counts = view.histogram_counts
    top = counts.max() or 1
    bars = [
        make_svg(
            "rect",
            x=f"{sx(a):.1f}",
            y=f"{height - pad - 40 * c / top:.1f}",
            width=f"{max(0.5, sx(b) - sx(a) - 0.5):.1f}",
            height=f"{40 * c / top:.1f}",
            class_="hist",
        )
        for a, b, c in zip(view.histogram_edges[:-1], view.histogram_edges[1:], counts, strict=True)
    ]
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
        _step(
            text("mlp.input", locale),
            text("mlp.input.formula", locale),
            strip(view.input, "mlp.input", wide_d),
        ),
        _step(
            text("mlp.pre", locale),
            text("mlp.pre.formula", locale, hidden=h, width=d),
            strip(view.pre, "mlp.pre", wide_h),
        ),
        _step(
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
        _step(
            text("mlp.output", locale),
            text("mlp.output.formula", locale, hidden=h, width=d),
            strip(view.output, "mlp.output", wide_d),
        ),
        _step(
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
        _step(
            text("layernorm.input", locale),
            text("layernorm.input.formula", locale),
            strip(view.input, "layernorm.input"),
            stats,
        ),
        _step(
            text("layernorm.normalised", locale),
            text("layernorm.normalised.formula", locale),
            strip(view.normalised, "layernorm.normalised"),
        ),
        _step(
            text("layernorm.gain", locale),
            text("layernorm.gain.formula", locale),
            strip(view.gain, "layernorm.gain"),
            strip(view.bias, "layernorm.bias"),
        ),
        _step(
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
    header = make(
        "tr",
        "",
        *(
            make("th", text(f"residual.col.{c}", locale), scope="col")
            for c in (
                "layer",
                "entering",
                "attention_added",
                "after_attention",
                "mlp_added",
                "after_mlp",
            )
        ),
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
        col_labels=_dims(d),
        cell=cell,
        data_field="output.final_norm",
    )
    header = make(
        "tr",
        "",
        *(
            make("th", text(f"output.col.{c}", locale), scope="col")
            for c in ("token", "id", "logit", "model_probability", "probability")
        ),
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
        _step(
            text("output.final_norm", locale),
            text("output.final_norm.formula", locale),
            captioned(text("output.final_norm", locale), final, m),
            note=text("explain.final_norm", locale),
        ),
        _step(
            text("output.logits", locale),
            text("output.formula.logits", locale),
            make("p", text("explain.logits", locale), class_="note"),
        ),
        _step(
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


def interpretability_panel(view: InterpretabilityView, head: int, locale: str):
    """Every head's attention statistics in a table (the picked head marked), the threshold the
    sparsity metrics use as an input, and each metric's definition."""
    metrics = view.heads
    per_head = {
        "sparsity": metrics.sparsity,
        "row_sparsity_mean": metrics.row_sparsity_mean,
        "row_sparsity_max": metrics.row_sparsity_max,
        "entropy": metrics.entropy_mean,
        "kl_uniform": metrics.kl_uniform_mean,
    }
    average = view.average
    averages = {
        "sparsity": average.sparsity,
        "row_sparsity_mean": average.row_sparsity_mean,
        "row_sparsity_max": average.row_sparsity_max,
        "entropy": average.entropy_mean,
        "kl_uniform": average.kl_uniform_mean,
    }

    def cell(metric: str, value: float):
        return make("td", f"{value:.3f}", data_field=metric, data_value=repr(float(value)))

    header = make(
        "tr",
        "",
        make("th", text("ui.head", locale), scope="col"),
        *(make("th", text(f"interpretability.{m}", locale), scope="col") for m in METRICS),
    )
    rows = [
        make(
            "tr",
            "",
            make("th", str(h), scope="row"),
            *(cell(m, per_head[m][h]) for m in METRICS),
            data_head=h,
            class_="selected" if h == head else "",
        )
        for h in range(len(metrics.sparsity))
    ]
    rows.append(
        make(
            "tr",
            "",
            make("th", text("interpretability.average", locale, n_head=len(rows)), scope="row"),
            *(cell(m, averages[m]) for m in METRICS),
            data_head="average",
            class_="rest",
        )
    )
    threshold = make(
        "input",
        type="number",
        min="0",
        max="1",
        step="0.005",
        value=repr(metrics.threshold),
        data_testid="sparsity-threshold",
        data_action="threshold",
    )
    definitions = make(
        "dl",
        "",
        *(
            node
            for m in METRICS
            for node in (
                make("dt", text(f"interpretability.{m}", locale)),
                make(
                    "dd",
                    text(
                        f"interpretability.{m}.definition",
                        locale,
                        threshold=f"{metrics.threshold:g}",
                    ),
                ),
            )
        ),
        class_="definitions",
    )
    return make(
        "section",
        "",
        make("h3", text("interpretability.heading", locale)),
        make("label", text("interpretability.threshold", locale), threshold),
        make("table", "", make("thead", "", header), make("tbody", "", *rows), class_="numbers"),
        definitions,
        class_="panel analysis",
        data_testid="interpretability-panel",
        data_layer=view.layer,
    )


def histogram_chart(h: Histogram, label: str):
    """Bars of a histogram as a small SVG, its range under it."""
    width, height = 240, 60
    top = int(h.counts.max()) or 1
    bar = width / len(h.counts)
    svg = make_svg(
        "svg", viewBox=f"0 0 {width} {height}", class_="histogram", role="img", aria_label=label
    )
    for i, count in enumerate(h.counts):
        svg.appendChild(
            make_svg(
                "rect",
                x=f"{i * bar:.1f}",
                y=f"{height - height * count / top:.1f}",
                width=f"{max(bar - 1, 0.5):.1f}",
                height=f"{height * count / top:.1f}",
                class_="hist",
            )
        )
    return svg


def debugging_panel(view: DebuggingView, locale: str):
    """A histogram with mean / std / min / max for every tensor of this block and head."""
    figures = []
    for name in TENSORS:
        h: Histogram = getattr(view, name)
        label = text(f"debugging.{name}", locale, head=view.head, scale=view.scale)
        stats = text(
            "debugging.stats", locale, count=h.count, mean=h.mean, std=h.std, min=h.min, max=h.max
        )
        figures.append(
            make(
                "figure",
                "",
                make("figcaption", label),
                histogram_chart(h, f"{label}: {stats}"),
                make("p", stats, class_="note"),
                class_="histogram-figure",
                data_field=name,
                data_mean=repr(h.mean),
                data_std=repr(h.std),
                data_min=repr(h.min),
                data_max=repr(h.max),
            )
        )
    return make(
        "section",
        "",
        make("h3", text("debugging.heading", locale, layer=view.layer)),
        make("div", "", *figures, class_="histogram-grid"),
        class_="panel analysis",
        data_testid="debugging-panel",
        data_layer=view.layer,
        data_head=view.head,
    )


SHOWN_HEADS = 24  # of the ranked list


def head_roles_panel(
    view: HeadRolesView, role: str, minimum: float, repeated_half: int, locale: str
):
    """The heads scoring at least `minimum` in one role, ranked by it; a click opens that head in
    the attention view. repeated_half: the length of the random sequence the induction scores
    repeat. Until the model has run over it (view.induction is None) a note says so, and the
    induction ranking waits for it."""
    choice = make(
        "select",
        "",
        *(make("option", text(f"head_roles.{r}", locale), value=r) for r in ROLES),
        data_testid="head-role-select",
        data_action="role",
    )
    choice.value = role
    least = make(
        "input",
        type="number",
        step="0.05",
        value=repr(minimum),
        data_testid="head-role-minimum",
        data_action="role-minimum",
    )
    pending = view.induction is None
    passing = [] if pending and role == "induction" else ranked_heads(view, role, minimum)
    ranked = passing[:SHOWN_HEADS]
    total = view.previous_token.size
    items = [
        make(
            "li",
            "",
            make(
                "button",
                text("head_roles.head", locale, layer=h.layer, head=h.head, score=h.score),
                data_action="open-head",
                data_layer=h.layer,
                data_head=h.head,
                data_score=repr(h.score),
                class_="secondary",
            ),
        )
        for h in ranked
    ]
    return make(
        "section",
        "",
        make("h3", text("head_roles.heading", locale)),
        make("label", text("head_roles.ranked", locale, role=""), choice),
        make("label", text("head_roles.minimum", locale), least),
        make("p", text(f"head_roles.{role}.definition", locale, n=repeated_half), class_="note"),
        make(
            "p",
            text("head_roles.count", locale, passing=len(passing), total=total, shown=len(ranked)),
            data_testid="head-role-count",
        ),
        make("ol", "", *items, class_="ranked-heads"),
        make("p", text("head_roles.excluded", locale), class_="note"),
        *(
            [make("p", text("head_roles.computing", locale), class_="note", role="status")]
            if pending
            else []
        ),
        class_="panel analysis",
        data_testid="head-roles",
        data_role=role,
        data_state="computing" if pending else "ready",
    )
