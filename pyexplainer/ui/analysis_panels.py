"""The analysis panels: attention sparsity and entropy per head, histograms of what a block
computes, and the heads ranked by role, drawn from their view models."""

from __future__ import annotations

from pyexplainer.messages import text
from pyexplainer.ui.dom import make, make_svg
from pyexplainer.ui.panel_parts import histogram_bars
from pyexplainer.views.debugging import TENSORS, DebuggingView, Histogram
from pyexplainer.views.head_roles import ROLES, HeadRolesView, ranked_heads
from pyexplainer.views.interpretability import (
    METRICS,
    HeadAverage,
    HeadMetrics,
    InterpretabilityView,
)

# Each name of the views (METRICS, TENSORS, ROLES) with its words in the catalogue.
METRIC_WORDS = {  # metric -> (its name, its definition)
    "sparsity": ("interpretability.sparsity", "interpretability.sparsity.definition"),
    "row_sparsity_mean": (
        "interpretability.row_sparsity_mean",
        "interpretability.row_sparsity_mean.definition",
    ),
    "row_sparsity_max": (
        "interpretability.row_sparsity_max",
        "interpretability.row_sparsity_max.definition",
    ),
    "entropy": ("interpretability.entropy", "interpretability.entropy.definition"),
    "kl_uniform": ("interpretability.kl_uniform", "interpretability.kl_uniform.definition"),
}
TENSOR_NAMES = {
    "residual": "debugging.residual",
    "q": "debugging.q",
    "k": "debugging.k",
    "v": "debugging.v",
    "scores": "debugging.scores",
    "scaled": "debugging.scaled",
    "weights": "debugging.weights",
    "mlp_act": "debugging.mlp_act",
}
ROLE_WORDS = {  # role -> (its name, its definition)
    "previous_token": ("head_roles.previous_token", "head_roles.previous_token.definition"),
    "first_token": ("head_roles.first_token", "head_roles.first_token.definition"),
    "self_attention": ("head_roles.self_attention", "head_roles.self_attention.definition"),
    "entropy": ("head_roles.entropy", "head_roles.entropy.definition"),
    "induction": ("head_roles.induction", "head_roles.induction.definition"),
}


def by_metric(m: HeadMetrics | HeadAverage) -> dict:
    """The fields of `m` by their METRICS name: HeadMetrics' (H,) arrays, HeadAverage's floats."""
    return {
        "sparsity": m.sparsity,
        "row_sparsity_mean": m.row_sparsity_mean,
        "row_sparsity_max": m.row_sparsity_max,
        "entropy": m.entropy_mean,
        "kl_uniform": m.kl_uniform_mean,
    }


def interpretability_panel(view: InterpretabilityView, head: int, locale: str):
    """Every head's attention statistics in a table (the picked head marked), the threshold the
    sparsity metrics use as an input, and each metric's definition."""
    metrics = view.heads
    per_head, averages = by_metric(metrics), by_metric(view.average)

    def cell(metric: str, value: float):
        return make("td", f"{value:.3f}", data_field=metric, data_value=repr(float(value)))

    header = make(
        "tr",
        "",
        make("th", text("ui.head", locale), scope="col"),
        *(make("th", text(METRIC_WORDS[m][0], locale), scope="col") for m in METRICS),
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
                make("dt", text(METRIC_WORDS[m][0], locale)),
                make(
                    "dd",
                    text(
                        METRIC_WORDS[m][1],
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
    bar = width / len(h.counts)
    edges = [i * bar for i in range(len(h.counts) + 1)]  # (B + 1,) px: the bins side by side
    svg = make_svg(
        "svg", viewBox=f"0 0 {width} {height}", class_="histogram", role="img", aria_label=label
    )
    for node in histogram_bars(h.counts, edges, baseline=height, tallest=height, gap=1):
        svg.appendChild(node)
    return svg


def debugging_panel(view: DebuggingView, locale: str):
    """A histogram with mean / std / min / max for every tensor of this block and head."""
    figures = []
    for name in TENSORS:
        h: Histogram = getattr(view, name)
        label = text(TENSOR_NAMES[name], locale, head=view.head, scale=view.scale)
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
        *(make("option", text(ROLE_WORDS[r][0], locale), value=r) for r in ROLES),
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
        make("p", text(ROLE_WORDS[role][1], locale, n=repeated_half), class_="note"),
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
