"""Where each click, key and change on the page goes: `bind` lists the page's controls and their
handlers; everything inside the explainer comes to on_click / on_key / on_change by its
data-action (an overview node, a stage tab, a head, a token, a heatmap's table button)."""

from __future__ import annotations

import asyncio
import functools

import js  # Pyodide only
from pyodide.ffi import create_once_callable, create_proxy

from pyexplainer.core.ablation import Ablation
from pyexplainer.messages import text
from pyexplainer.page import (
    actions,
    detail,
    generating,
    guided_tour,
    links,
    queue,
    render,
    status,
)
from pyexplainer.ui import snapshot
from pyexplainer.ui.dom import FORM_FIELDS, document, element, make
from pyexplainer.views.attention_lines import toggled
from pyexplainer.views.stages import parse_stage


def bind(page) -> None:
    for testid, event, handler in [
        ("run-button", "click", functools.partial(on_run, page)),
        ("generate-button", "click", functools.partial(on_generate, page)),
        ("recompute-button", "click", functools.partial(on_recompute, page)),
        ("generate-many", "click", functools.partial(generating.on_generate_many, page)),
        ("stop-generate", "click", functools.partial(generating.on_stop, page)),
        ("prediction-list", "click", functools.partial(on_pick, page)),
        ("examples", "change", functools.partial(on_example, page)),
        ("tour-button", "click", functools.partial(guided_tour.on_tour_start, page)),
        ("tour", "click", functools.partial(guided_tour.on_tour_click, page)),
        ("save-png", "click", functools.partial(on_save_png, page)),
        ("save-svg", "click", functools.partial(on_save_svg, page)),
        ("copy-link", "click", functools.partial(links.on_copy_link, page)),
        ("keep-last-tokens", "click", functools.partial(on_keep_last_tokens, page)),
        ("temperature", "input", functools.partial(on_temperature_slider, page)),
        ("temperature-value", "input", functools.partial(on_temperature_typed, page)),
        ("top-k", "input", functools.partial(on_settings, page)),
        ("top-p", "input", functools.partial(on_settings, page)),
        ("layer-select", "change", functools.partial(on_selection, page)),
        ("head-select", "change", functools.partial(on_selection, page)),
        ("position-select", "change", functools.partial(on_selection, page)),
        ("layernorm-select", "change", functools.partial(on_selection, page)),
        ("explainer", "click", functools.partial(on_click, page)),
        ("explainer", "keydown", functools.partial(on_key, page)),
        ("explainer", "change", functools.partial(on_change, page)),
        ("explainer", "pointermove", page.matrices.hover),
        ("explainer", "pointerdown", page.matrices.hover),
        ("explainer", "pointerover", functools.partial(on_point, page)),
        ("explainer", "focusin", functools.partial(on_point, page)),
        ("explainer", "focusout", functools.partial(on_focus_left, page)),
    ]:
        proxy = create_proxy(handler)
        page._handlers.append(proxy)
        element(testid).addEventListener(event, proxy)
    keys = create_proxy(functools.partial(guided_tour.on_tour_key, page))
    page._handlers.append(keys)
    document.addEventListener("keydown", keys)


async def on_run(page, _event=None) -> None:
    await queue.guarded(
        page, functools.partial(actions.run_prompt, page), run=True, superseded=True
    )


async def on_generate(page, _event=None) -> None:
    await queue.guarded(page, functools.partial(actions.generate_one, page), superseded=True)


async def on_recompute(page, _event=None) -> None:
    if page.trace is not None:
        await queue.guarded(page, functools.partial(actions.recompute, page), superseded=True)


async def on_pick(page, event) -> None:
    """A click on a prediction appends that token, as if sampling had drawn it."""
    row = event.target.closest("[data-token-id]")
    if getattr(row, "dataset", None) is not None and page.trace is not None:
        token = int(row.dataset.tokenId)
        await queue.guarded(page, lambda: actions.append_token(page, token), superseded=True)


async def on_example(page, _event=None) -> None:
    example = element("examples").value
    if example:
        element("prompt-input").value = example
        await on_run(page)


async def on_save_svg(page, _event=None) -> None:
    save(snapshot.view_svg(element("explainer-view")), "pyexplainer-view.svg")


async def on_save_png(page, _event=None) -> None:
    save(await snapshot.view_png(element("explainer-view")), "pyexplainer-view.png")


def on_settings(page, _event=None) -> None:
    if page.trace is None:  # nothing to redraw yet; keep whatever the status says
        return
    try:
        status.redraw(page, "settings", functools.partial(render_settings_effect, page))
    except ValueError as e:
        status.show_error(page, str(e))
    else:
        status.show_status(page, "ready")


def on_temperature_slider(page, _event=None) -> None:
    """The slider moved: its value goes to the number box, and the bars follow."""
    element("temperature-value").value = element("temperature").value
    on_settings(page)


def on_temperature_typed(page, _event=None) -> None:
    """A temperature typed: the slider moves to it (when it is a number), and the bars follow."""
    typed = element("temperature-value").value
    if typed:
        element("temperature").value = typed
    on_settings(page)


def render_settings_effect(page) -> None:
    render.render_predictions(page)
    if page.stage[0] == "output":
        detail.render_detail(page)


def on_click(page, event) -> None:
    """One listener for every clickable part of the explainer (overview nodes, tabs, heads)."""
    target = event.target.closest("[data-action]")
    if getattr(target, "dataset", None) is None or page.full is None:  # null: not on one
        return
    if target.tagName in FORM_FIELDS:  # its change event says what changed (on_change)
        return
    action = target.dataset.action
    status.redraw(page, action, lambda: act_on(page, action, target))


def act_on(page, action: str, target) -> None:
    if action == "open-stage":
        if target.hasAttribute("data-kind"):  # a stage tab: keep the block that is picked
            detail.open_stage(page, detail.stage_of_kind(page, target.dataset.kind))
        else:
            detail.open_stage(page, parse_stage(target.dataset.stage, page.config.n_layer))
    elif action == "reset":  # back to the start: the overview and the first stage
        page.head, page.position = 0, page.last_position
        detail.open_stage(page, ("embedding",))
        render.render_tokens(page)
        document.querySelector(".overview").scrollIntoView()
    elif action == "open-head":  # from the head-roles list: that head in its block
        page.head = int(target.dataset.head)
        detail.open_stage(page, ("attention", int(target.dataset.layer)))
    elif action == "select-head":
        page.head = int(target.dataset.head)
        detail.render_detail(page)
    elif action == "select-position":
        page.position, page.position_asked = int(target.dataset.position), queue.ask(page)
        render.render_tokens(page)
        detail.render_detail(page)
    elif action.startswith("lines-"):
        act_on_head_view(page, action, target)
    elif action == "lens-cell":  # its top k, for touch screens (hover shows the same)
        element("lens-detail").textContent = target.title
    elif action == "run-ablation":
        asyncio.ensure_future(
            queue.guarded(page, functools.partial(actions.run_ablation, page), superseded=True)
        )
    elif action == "clear-ablation":
        page.ablation = Ablation(mode=page.ablation.mode)
        detail.render_detail(page)
    elif action == "matrix-table":  # a heatmap's numbers as a table, or hidden again
        page.matrices.toggle_table(target)
    elif action == "matrix-page":
        page.matrices.turn_table_page(target)


def act_on_head_view(page, action: str, target) -> None:
    """Attention as lines: a token picked (click, tap, Enter) for every view, or its heads
    switched (only the head view redrawn, the focus kept on the button)."""
    if action == "lines-pick":  # as a chip's click, the focus then on the picked token's label
        act_on(page, "select-position", target)
        page.head_view.focus_chosen()
    elif action == "lines-head":
        head = int(target.dataset.head)
        page.line_heads = toggled(detail.shown_line_heads(page), head, page.config.n_head)
        detail.render_head_view(page, f"[data-action=lines-head][data-head='{head}']")
    elif action == "lines-all-heads":
        page.line_heads = None
        detail.render_head_view(page, "[data-action=lines-head]")


def on_point(page, event) -> None:
    """The pointer over, or the focus on, a token of the head view: its lines."""
    if page.full is not None and page.stage[0] == "attention":
        page.head_view.point_at(event.target)


def on_focus_left(page, event) -> None:
    """The focus left a token of the head view: the lines of where it went, or the chosen's."""
    if page.full is not None and page.stage[0] == "attention":
        page.head_view.point_at(event.relatedTarget)


def on_change(page, event) -> None:
    """A setting inside a panel: the sparsity threshold or the head role to rank by."""
    action = event.target.getAttribute("data-action")
    if page.full is None:
        return
    if action == "threshold":
        set_threshold(page, event)
    elif action in ("ablate-head", "ablate-mlp", "ablate-mode"):
        set_ablation(page, event.target)
    elif action == "role":
        page.role = event.target.value
        status.redraw(page, "role", functools.partial(detail.render_detail, page))
    elif action == "role-minimum":
        set_role_minimum(page, event.target.value)


def set_role_minimum(page, raw: str) -> None:
    try:
        page.role_minimum = float(raw)
    except ValueError:
        setting = text("head_roles.minimum", page.locale)
        status.show_error(page, text("ui.not_a_number", page.locale, setting=setting, value=raw))
        return
    status.redraw(page, "role-minimum", functools.partial(detail.render_detail, page))
    status.show_status(page, "ready")


def set_threshold(page, event) -> None:
    try:
        threshold = float(event.target.value)
    except ValueError:
        setting = text("ui.threshold", page.locale)
        status.show_error(
            page, text("ui.not_a_number", page.locale, setting=setting, value=event.target.value)
        )
        return
    if not 0 <= threshold <= 1:
        status.show_error(page, text("ui.threshold_range", page.locale))
        return
    page.threshold = threshold
    status.redraw(page, "threshold", functools.partial(detail.render_detail, page))
    status.show_status(page, "ready")


def on_key(page, event) -> None:
    """Enter or space does what a click does: on anything with a data-action (overview
    nodes, tabs, tokens, heads) and on a prediction (appends that token). Arrow keys, Home and
    End move between the tokens of the head view."""
    if page.full is not None and page.head_view.move_focus(event.target, event.key):
        event.preventDefault()
        return
    if event.key not in ("Enter", " ") or event.target.tagName in FORM_FIELDS:
        return  # a form field's keys are its own: space ticks a box
    if event.target.hasAttribute("data-action"):
        event.preventDefault()
        on_click(page, event)
    elif event.target.classList.contains("prediction"):
        event.preventDefault()
        asyncio.ensure_future(on_pick(page, event))


def on_selection(page, _event=None) -> None:
    if page.full is None:
        return
    stage = page.stage
    layer = int(element("layer-select").value)
    if stage[0] == "layernorm":
        which = element("layernorm-select").value
        stage = ("layernorm", page.config.n_layer if which == "lnf" else layer, which)
    elif len(stage) > 1:
        stage = (stage[0], layer)
    page.head = int(element("head-select").value)
    position = int(element("position-select").value)
    if position != page.position:
        page.position, page.position_asked = position, queue.ask(page)
    status.redraw(page, "selection", lambda: detail.open_stage(page, stage))


async def on_keep_last_tokens(page, _event=None) -> None:
    await queue.guarded(
        page, functools.partial(actions.keep_last_tokens, page), run=True, superseded=True
    )  # a Run, as on_run


def set_ablation(page, target) -> None:
    """A ticked or unticked switch, or the kind of ablation: the next what-if run uses it."""
    a, action = page.ablation, target.getAttribute("data-action")
    if action == "ablate-mode":
        page.ablation = Ablation(a.heads, a.mlps, target.value)
        return
    layer, on = int(target.dataset.layer), bool(target.checked)
    if action == "ablate-head":
        part = {(layer, int(target.dataset.head))}
        heads = a.heads | part if on else a.heads - part
        page.ablation = Ablation(frozenset(heads), a.mlps, a.mode)
    else:
        mlps = a.mlps | {layer} if on else a.mlps - {layer}
        page.ablation = Ablation(a.heads, frozenset(mlps), a.mode)


def save(blob, filename: str) -> None:
    """Hand `blob` to the browser as a download named `filename`."""
    url = js.URL.createObjectURL(blob)
    link = make("a", href=url, download=filename)
    link.click()
    js.setTimeout(create_once_callable(lambda: js.URL.revokeObjectURL(url)), 1000)
