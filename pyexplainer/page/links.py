"""The address bar always holds a link to what is on screen, and Copy link copies it (a link's
state is brought back by restore.py)."""

from __future__ import annotations

import js  # Pyodide only

from pyexplainer.messages import text
from pyexplainer.ui.dom import element
from pyexplainer.views.permalink import to_query
from pyexplainer.views.state_links import link_of


def update_address(page) -> None:
    """The address bar always holds a link to what is on screen."""
    if page.state.full is not None:  # before the first run: the link the page opened on
        js.history.replaceState(None, "", "?" + to_query(link_of(page.state)))


async def on_copy_link(page, _event=None) -> None:
    update_address(page)
    link = str(js.location.href)
    info = element("copy-link-info")
    try:
        await js.navigator.clipboard.writeText(link)
        info.textContent = text("ui.link_copied", page.state.locale)
    except Exception:  # no clipboard permission (or no clipboard): show it to copy by hand
        info.textContent = link
    info.dataset.link = link
