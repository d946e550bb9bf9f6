"""A link's state brought back: the prompt, the sampling settings, the generated tokens and the
open view, as the page opens on a link and as another model takes over (model_picker.py's
switch). The text and each generated token run first, the page is drawn once at the end."""

from __future__ import annotations

from pyexplainer.page import runs
from pyexplainer.ui.dom import element
from pyexplainer.views import state as events
from pyexplainer.views import state_links
from pyexplainer.views.permalink import PageState


async def restore(page, link: PageState) -> None:
    """Bring the page to `link` (its view and head checked by state_for_model): the prompt,
    settings, generated tokens, the open view. An empty prompt keeps the page's text."""
    if link.prompt:
        element("prompt-input").value = link.prompt
    text = str(element("prompt-input").value)
    state = events.context_noted(page.state, runs.context_note(page, text))
    state = await runs.ran(page, state, text, link.seed)
    for token in link.generated:
        state = await runs.appended(page, state, token)
    page.show(state_links.link_opened(state, link))
