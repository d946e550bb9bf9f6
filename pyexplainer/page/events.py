"""Where each click, key and change on the page goes: `bind` lists the page's controls and their
handlers; everything inside the explainer comes to on_click / on_key / on_change by its
data-action (an overview node, a stage tab, a head, a token, a heatmap's table button). Each
becomes the page's next state through one event function of views.state, shown by page.show."""

from __future__ import annotations

import asyncio
import functools

import js  # Pyodide only
from pyodide.ffi import create_once_callable, create_proxy

from pyexplainer.messages import text
from pyexplainer.page import generating, guided_tour, links, queue, runs, status
from pyexplainer.page.controls import typed_settings
from pyexplainer.ui import snapshot
from pyexplainer.ui.dom import FORM_FIELDS, document, element, make
from pyexplainer.views import state as events
from pyexplainer.views import typed
from pyexplainer.views.stages import Stage, parse_stage


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
    await queue.guarded(page, functools.partial(runs.run_prompt, page), run=True, superseded=True)


async def on_generate(page, _event=None) -> None:
    await queue.guarded(page, functools.partial(runs.generate_one, page), superseded=True)


async def on_recompute(page, _event=None) -> None:
    if page.state.trace is not None:
        await queue.guarded(page, functools.partial(runs.recompute, page), superseded=True)


async def on_pick(page, event) -> None:
    """A click on a prediction appends that token, as if sampling had drawn it."""
    row = event.target.closest("[data-token-id]")
    if getattr(row, "dataset", None) is not None and page.state.trace is not None:
        token = int(row.dataset.tokenId)
        await queue.guarded(page, lambda: runs.append_token(page, token), superseded=True)


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
    """A sampling setting typed: the bars follow (and the output stage). One that is not a
    number is named on the status line, the last numbers stay in use."""
    state = typed.settings_typed(page.state, **typed_settings())
    if state.unreadable is not None:
        page.show(state)  # kept, to be said again in another language
        status.show_error(page, typed.unreadable_message(state))
        return
    if page.state.full is None:  # nothing to redraw yet; keep whatever the status says
        page.show(state)
        return
    try:
        status.redraw(page, "settings", lambda: page.show(state))
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


def on_click(page, event) -> None:
    """One listener for every clickable part of the explainer (overview nodes, tabs, heads)."""
    target = event.target.closest("[data-action]")
    if getattr(target, "dataset", None) is None or page.state.full is None:  # null: not on one
        return
    if target.tagName in FORM_FIELDS:  # its change event says what changed (on_change)
        return
    action = target.dataset.action
    status.redraw(page, action, lambda: act_on(page, action, target))


def act_on(page, action: str, target) -> None:
    state, c = page.state, page.config
    if action == "open-stage":
        if target.hasAttribute("data-kind"):  # a stage tab: keep the block that is picked
            page.show(events.tab_opened(state, target.dataset.kind, c.n_layer))
        else:
            stage = Stage.of(parse_stage(target.dataset.stage, c.n_layer))
            page.show(events.stage_opened(state, stage))
    elif action == "reset":  # back to the start: the overview and the first stage
        page.show(events.view_reset(state))
        document.querySelector(".overview").scrollIntoView()
    elif action == "open-head":  # from the head-roles list: that head in its block
        layer, head = int(target.dataset.layer), int(target.dataset.head)
        page.show(events.head_opened(state, layer, head))
    elif action == "select-head":
        page.show(events.head_picked(state, int(target.dataset.head)))
    elif action == "select-position":
        page.position_asked = queue.ask(page)
        page.show(events.position_picked(state, int(target.dataset.position)))
    elif action.startswith("lines-"):
        act_on_head_view(page, action, target)
    elif action == "open-part":  # a head or an MLP of the attribution, at the last token
        layer, at = int(target.dataset.layer), events.position_picked(state, state.last_position)
        if target.dataset.kind == "head":
            page.show(events.head_opened(at, layer, int(target.dataset.head)))
        else:
            page.show(events.stage_opened(at, Stage("mlp", layer)))
    elif action == "lens-cell":  # its top k, for touch screens (hover shows the same)
        element("lens-detail").textContent = target.title
    elif action == "run-ablation":
        asyncio.ensure_future(
            queue.guarded(page, functools.partial(runs.run_ablation, page), superseded=True)
        )
    elif action == "clear-ablation":
        page.show(events.ablation_cleared(state))
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
        page.show(events.line_head_toggled(page.state, head, page.config.n_head))
        element("attention-lines").querySelector(
            f"[data-action=lines-head][data-head='{head}']"
        ).focus()
    elif action == "lines-all-heads":
        page.show(events.line_heads_all(page.state))
        element("attention-lines").querySelector("[data-action=lines-head]").focus()


def on_point(page, event) -> None:
    """The pointer over, or the focus on, a token of the head view: its lines."""
    if page.state.full is not None and page.state.stage.kind == "attention":
        page.head_view.point_at(event.target)


def on_focus_left(page, event) -> None:
    """The focus left a token of the head view: the lines of where it went, or the chosen's."""
    if page.state.full is not None and page.state.stage.kind == "attention":
        page.head_view.point_at(event.relatedTarget)


def on_change(page, event) -> None:
    """A setting inside a panel: the sparsity threshold, the head role to rank by and its
    minimum, a what-if switch, the attribution's tokens, filter and length."""
    target = event.target
    action = target.getAttribute("data-action")
    if page.state.full is None:
        return
    state = page.state
    try:
        if action == "threshold":
            new = typed.threshold_typed(state, target.value)
        elif action == "role":
            new = typed.role_chosen(state, target.value)
        elif action == "role-minimum":
            new = typed.role_minimum_typed(state, target.value)
        elif action == "ablate-head":
            layer, head = int(target.dataset.layer), int(target.dataset.head)
            new = events.ablation_head_switched(state, layer, head, bool(target.checked))
        elif action == "ablate-mlp":
            new = events.ablation_mlp_switched(
                state, int(target.dataset.layer), bool(target.checked)
            )
        elif action == "ablate-mode":
            new = events.ablation_mode_chosen(state, target.value)
        elif isinstance(action, str) and action.startswith("attribution-"):  # not null
            new = attribution_changed(page, action, target.value)
        else:
            return
    except ValueError as e:
        status.show_error(page, str(e))
        return
    if action.startswith("ablate-"):  # the next what-if run uses it: nothing to redraw
        page.show(new)
        return
    status.redraw(page, action, lambda: page.show(new))
    if action != "role":
        status.show_status(page, "ready")


def attribution_changed(page, action: str, value: str):
    """The attribution's state after one of its controls changed; a ValueError, in the page's
    language, for a typed text that is not one token of the vocabulary."""
    state = page.state
    if action == "attribution-target":
        return events.attribution_chosen(state, target=int(value))
    if action == "attribution-other":
        return events.attribution_chosen(state, other=int(value) if value else None)
    if action == "attribution-filter":
        return events.attribution_chosen(state, filter=value)
    if action == "attribution-top":
        return events.attribution_chosen(state, top=int(value) if value.isdigit() else 0)
    ids = page.tokenizer.encode(value)  # attribution-typed
    if len(ids) != 1:
        raise ValueError(
            text("attribution.not_one_token", state.locale, typed=value, count=len(ids))
        )
    return events.attribution_chosen(state, target=ids[0])


def on_key(page, event) -> None:
    """Enter or space does what a click does: on anything with a data-action (overview
    nodes, tabs, tokens, heads) and on a prediction (appends that token). Arrow keys, Home and
    End move between the tokens of the head view."""
    if page.state.full is not None and page.head_view.move_focus(event.target, event.key):
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
    if page.state.full is None:
        return
    position = int(element("position-select").value)
    if position != page.state.position:
        page.position_asked = queue.ask(page)
    state = events.pickers_changed(
        page.state,
        layer=int(element("layer-select").value),
        head=int(element("head-select").value),
        position=position,
        norm=element("layernorm-select").value,
        n_layer=page.config.n_layer,
    )
    status.redraw(page, "selection", lambda: page.show(state))


async def on_keep_last_tokens(page, _event=None) -> None:
    await queue.guarded(
        page, functools.partial(runs.keep_last_tokens, page), run=True, superseded=True
    )  # a Run, as on_run


def save(blob, filename: str) -> None:
    """Hand `blob` to the browser as a download named `filename`."""
    url = js.URL.createObjectURL(blob)
    link = make("a", href=url, download=filename)
    link.click()
    js.setTimeout(create_once_callable(lambda: js.URL.revokeObjectURL(url)), 1000)
