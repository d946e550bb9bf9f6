"""The address bar always holds a link to what is on screen; a link's state is brought back."""

from __future__ import annotations

import js  # Pyodide only

from pyexplainer.messages import text
from pyexplainer.page import actions, detail, render
from pyexplainer.ui.dom import element
from pyexplainer.views.permalink import PageState, to_query


def page_state(page) -> PageState:
    s = render.settings(page)
    return PageState(
        prompt=page.text,
        model=page.model_name,
        stage=page.stage,
        head=page.head,
        position=page.position,
        temperature=s.temperature,
        top_k=s.top_k,
        top_p=s.top_p,
        seed=int(element("seed").value or 0),
        generated=tuple(page.generated_ids),
        embed=page.embed,
    )


def update_address(page) -> None:
    """The address bar always holds a link to what is on screen."""
    try:
        query = to_query(page_state(page))
    except ValueError:  # a setting being typed is not a number yet: keep the last link
        return
    js.history.replaceState(None, "", "?" + query)


async def restore(page, state: PageState) -> None:
    """Bring the page to `state` (its view and head checked by state_for_model): the prompt,
    settings, generated tokens, the open view. An empty prompt keeps the page's text."""
    if state.prompt:
        element("prompt-input").value = state.prompt
    render.show_temperature(str(state.temperature))
    for testid, value in [
        ("top-k", state.top_k),
        ("top-p", state.top_p),
        ("seed", state.seed),
    ]:
        element(testid).value = str(value)
    await actions.run_prompt(page)
    for token in state.generated:
        await actions.append_token(page, token)
    last = page.last_position
    page.head = state.head
    page.position = state.position if 0 <= state.position <= last else last
    detail.open_stage(page, state.stage)
    render.render_tokens(page)


async def on_copy_link(page, _event=None) -> None:
    update_address(page)
    link = str(js.location.href)
    info = element("copy-link-info")
    try:
        await js.navigator.clipboard.writeText(link)
        info.textContent = text("ui.link_copied", page.locale)
    except Exception:  # no clipboard permission (or no clipboard): show it to copy by hand
        info.textContent = link
    info.dataset.link = link
