"""What happens when the page opens: the language, the link read (each part it cannot use named),
the first model opened, the controls bound, then the link's state or the first run."""

from __future__ import annotations

import traceback

import js  # Pyodide only

from pyexplainer.messages import choose_locale, described, text
from pyexplainer.page import events, language, queue, status
from pyexplainer.page.restore import restore
from pyexplainer.page.session import Page
from pyexplainer.ui.dom import document
from pyexplainer.ui.locale import browser_languages, remembered_locale
from pyexplainer.views.permalink import (
    generated_for_model,
    query_locale,
    query_model,
    read_link,
    state_for_model,
)


async def start(bridge) -> None:
    page = Page(bridge)
    search = str(js.location.search)
    # a link's language first (a teacher's link for a Chinese class), then the student's own;
    # a choice made in the page afterwards wins, and goes into the address bar's link
    linked = query_locale(search)
    language.set_locale(page, linked or choose_locale(remembered_locale(), browser_languages()))
    language.bind_locale_switch(page)
    state, problems = read_link(search)  # each part it cannot use at its default, named
    said = [problem.message(page.locale) for problem in problems]
    try:
        wanted = state.model if state else query_model(search)
        unknown = await page.picker.open_first(wanted, ask=not (state and state.embed))
    except Exception as e:  # said in the status line; the traceback only in the console, not
        # raised on, where PyScript would paint it beside the clear message
        status.show_error(page, text("ui.load_failed", page.locale, error=described(e)))
        js.console.error(traceback.format_exc())
        return
    events.bind(page)
    if state and state.embed:  # the state says so once the link is restored
        document.body.classList.add("embed")
    if state:
        state, missing = state_for_model(state, page.config)
        if missing:  # a view this model does not have: the default view, and say which
            said.append(
                text(
                    "ui.link_view_missing",
                    page.locale,
                    part=missing.part,
                    n_layer=page.config.n_layer,
                    n_head=page.config.n_head,
                )
            )
        state, unknown_tokens = generated_for_model(state, page.config)
        if unknown_tokens:
            said.append(unknown_tokens.message(page.locale))
        await queue.guarded(page, lambda: restore(page, state))
    else:
        await events.on_run(page)
    if unknown:  # a model this site does not have: the default runs, and the status says so
        names = [m["name"] for m in page.picker.index["models"]]
        asked = text(
            "ui.link_model_missing",
            page.locale,
            model=unknown,
            models=text("ui.list_separator", page.locale).join(names),
            running=page.model_name,
        )
        said.insert(0, asked)
    if said:
        status.show_error(page, " ".join(said))
