"""The language switch: every fixed string, the status and whatever is drawn, in the chosen
language; the choice is remembered."""

from __future__ import annotations

import functools

from pyodide.ffi import create_proxy

from pyexplainer.messages import LOCALE_NAMES, text
from pyexplainer.page import guided_tour, status
from pyexplainer.page.model_info import fill_examples, show_model_info
from pyexplainer.ui.dom import document, element, options
from pyexplainer.ui.locale import remember_locale, translate_page
from pyexplainer.views import state as events
from pyexplainer.views import typed


def bind_locale_switch(page) -> None:
    """The language switch works from the start, while the model still loads."""
    options(element("locale-switch"), list(LOCALE_NAMES.items()), page.locale)
    proxy = create_proxy(functools.partial(on_locale, page))
    page._handlers.append(proxy)
    element("locale-switch").addEventListener("change", proxy)


def on_locale(page, _event=None) -> None:
    locale = element("locale-switch").value
    remember_locale(locale)
    try:
        status.redraw(page, "locale", lambda: set_locale(page, locale))
    except ValueError as e:  # a sampling setting that is not a number: say so, in `locale`
        status.show_error(page, str(e))


def set_locale(page, locale: str) -> None:
    """Show the page in `locale`: its fixed strings, the status, and whatever is drawn."""
    info, copied = element("copy-link-info"), text("ui.link_copied", page.locale)
    page.show(events.locale_switched(page.state, locale))  # whatever is drawn, in `locale`
    translate_page(document, locale)
    element("locale-switch").value = locale
    if page.status_state != "error":  # an error stays as it was said
        status.show_status(page, page.status_state)
    if info.textContent == copied:
        info.textContent = text("ui.link_copied", locale)
    fill_examples(page)
    if page.runner is not None:
        show_model_info(page)
        page.picker.render()
    if page.state.full is not None and not element("tour").hidden:
        guided_tour.render_tour_card(page)
    said = typed.unreadable_message(page.state)
    if said is not None:  # a setting that is not a number, said again in `locale`
        status.show_error(page, said)
