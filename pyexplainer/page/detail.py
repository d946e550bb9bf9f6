"""The open stage (embeddings, layer norm, attention, MLP, residual stream, output, head roles,
logit lens, what if?) with its pickers; the lens and the induction scores start the first time
their stage opens."""

from __future__ import annotations

import asyncio
import functools

import js  # Pyodide only

from pyexplainer.messages import text
from pyexplainer.page import actions, links, queue, render
from pyexplainer.ui import analysis_panels, attention_panels, experiments, panels
from pyexplainer.ui.dom import element, fill, make, options
from pyexplainer.views.attention import attention_grid, attention_row
from pyexplainer.views.attention_lines import attention_lines
from pyexplainer.views.debugging import debugging
from pyexplainer.views.embedding import embedding_view
from pyexplainer.views.head_roles import head_roles
from pyexplainer.views.interpretability import interpretability
from pyexplainer.views.layernorm import layer_norm_view
from pyexplainer.views.mlp import mlp_view
from pyexplainer.views.predictions import output_view
from pyexplainer.views.residual import residual_view
from pyexplainer.views.stages import LAYER_NORMS, WHOLE_MODEL_STAGES


def render_detail(page) -> None:
    started = js.performance.now()
    render_selectors(page)
    target = element("detail")
    page.matrices.forget(target)
    trace, tokens, kind = page.full, page.tokens(), page.stage[0]
    locale, m = page.locale, page.matrices
    if kind == "embedding":
        views = [panels.embedding_panel(embedding_view(trace, tokens), m, locale)]
    elif kind == "attention":
        layer = page.stage[1]
        views = [
            make(
                "div",
                "",
                attention_panels.attention_grid_panel(
                    attention_grid(trace, tokens, layer), page.head, m, locale
                ),
                head_view_panel(page),
                class_="attention-views",  # side by side where there is room
            ),
            attention_panels.attention_step_panel(
                attention_row(trace, tokens, layer, page.head, page.position), m, locale
            ),
            analysis_panels.interpretability_panel(
                interpretability(trace, tokens, layer, threshold=page.threshold),
                page.head,
                locale,
            ),
            analysis_panels.debugging_panel(debugging(trace, layer, page.head), locale),
        ]
    elif kind == "mlp":
        views = [panels.mlp_panel(mlp_view(trace, tokens, page.stage[1], page.position), m, locale)]
    elif kind == "layernorm":
        _, layer, which = page.stage
        view = layer_norm_view(trace, page.config, tokens, which, layer, page.position)
        views = [panels.layernorm_panel(view, m, locale)]
    elif kind == "heads":
        views = [head_roles_panel(page)]
    elif kind == "lens":
        views = [lens_panel(page)]
    elif kind == "whatif":
        result = page.current(page.what_if)
        views = [experiments.what_if_panel(page.config, page.ablation, result, locale)]
    elif kind == "residual":
        views = [panels.residual_panel(residual_view(trace, tokens), page.position, locale)]
    else:
        view = output_view(
            page.trace,
            page.tokenizer,
            render.settings(page),
            render.SHOWN_PREDICTIONS,
            pending=page.pending,
        )
        views = [panels.output_panel(view, m, locale)]
    fill(target, *views)
    if kind == "attention":
        page.head_view.reveal_chosen()
    for tab in element("stage-tabs").querySelectorAll("button"):
        tab.setAttribute("aria-pressed", str(tab.dataset.kind == kind).lower())
    page.timings["detail_ms"] = js.performance.now() - started
    links.update_address(page)


def shown_line_heads(page) -> tuple[int, ...]:
    """The heads the head view shows: every head, or those switched on (of this model's)."""
    every = range(page.config.n_head)
    if page.line_heads is None:
        return tuple(every)
    return tuple(h for h in page.line_heads if h in every)


def head_view_panel(page, view=None):
    """Attention as lines of the open block, from the page's token (its time in the status's
    data-redraw, head_view_ms, for the benchmark); `view`: the block's lines when they are
    drawn already (only the heads shown change)."""
    started = js.performance.now()
    view = view or attention_lines(page.full, page.tokens(), page.stage[1])
    heads = shown_line_heads(page)
    panel = page.head_view.panel(view, page.position, heads, page.matrices, page.locale)
    page.timings["head_view_ms"] = js.performance.now() - started
    return panel


def render_head_view(page, focus: str) -> None:
    """The head view alone redrawn (its heads switched), the focus on `focus` inside it, where
    the button pressed was."""
    old = element("attention-lines")
    page.matrices.forget(old)
    new = head_view_panel(page, page.head_view.view)  # the same text and block
    old.replaceWith(new)
    page.head_view.reveal_chosen()
    new.querySelector(focus).focus()


def lens_panel(page):
    """The logit lens of the text as it is, the columns computed so far while the model computes
    the rest, or a note until the first ones arrive."""
    view = page.current(page.lens)
    if view is not None:
        return experiments.logit_lens_panel(view, page.locale)
    if not page.lens_running:
        page.lens_running = True
        asyncio.ensure_future(queue.guarded(page, functools.partial(actions.compute_lens, page)))
    partial = page.current(page.lens_partial)
    if partial is not None:
        return experiments.logit_lens_panel(partial, page.locale)
    return experiments.logit_lens_pending(page.locale)


def head_roles_panel(page):
    """Every head's role scores on the text; the induction scores once the model has run over
    a random sequence repeated once, which starts the first time they are needed (as the lens
    does), not at load."""
    if page.induction is None and not page.induction_running:
        page.induction_running = True
        asyncio.ensure_future(
            queue.guarded(page, functools.partial(actions.compute_induction, page))
        )
    started = js.performance.now()
    view = head_roles(page.full, page.induction)
    page.timings["head_roles_ms"] = js.performance.now() - started
    half, locale = page.induction_half, page.locale
    return analysis_panels.head_roles_panel(view, page.role, page.role_minimum, half, locale)


def open_stage(page, stage: tuple) -> None:
    page.stage = stage
    render.render_overview(page)
    render_detail(page)


def stage_of_kind(page, kind: str) -> tuple:
    layer = page.stage[1] if len(page.stage) > 1 else 0
    layer = min(layer, page.config.n_layer - 1)
    if kind in WHOLE_MODEL_STAGES:
        return (kind,)
    return ("layernorm", layer, "ln1") if kind == "layernorm" else (kind, layer)


def render_selectors(page) -> None:
    """The layer / head / token / layer-norm pickers, showing the current choice."""
    c, stage = page.config, page.stage
    layer = stage[1] if len(stage) > 1 and stage[1] < c.n_layer else c.n_layer - 1
    options(element("layer-select"), [(str(i), str(i)) for i in range(c.n_layer)], str(layer))
    options(element("head-select"), [(str(h), str(h)) for h in range(c.n_head)], str(page.head))
    tokens = page.tokens()
    options(
        element("position-select"),
        [(str(t.position), f"{t.position}: {t.label}") for t in tokens],
        str(page.position),
    )
    which = stage[2] if stage[0] == "layernorm" else "ln1"
    options(element("layernorm-select"), [(w, w) for w in LAYER_NORMS], which)
    kind = stage[0]
    element("layer-select").disabled = kind in WHOLE_MODEL_STAGES or which == "lnf"
    element("head-select").disabled = kind != "attention"
    element("layernorm-select").disabled = kind != "layernorm"
    locale = page.locale
    element("breadcrumb").textContent = " › ".join(
        [text("overview.title", locale)]
        + ([f"{text('ui.layer', locale)} {stage[1]}"] if len(stage) > 1 else [])
        + [text(f"stage.{kind}", locale)]
    )
