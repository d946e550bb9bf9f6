"""The guided tour: cards quoting the current prompt's numbers, each opening its stage; arrow
keys move, Escape closes, the button reopens it where it was left."""

from __future__ import annotations

from pyexplainer.messages import text
from pyexplainer.ui.dom import FORM_FIELDS, element
from pyexplainer.views import state as events
from pyexplainer.views.stages import Stage
from pyexplainer.views.tour import tour


def on_tour_start(page, _event=None) -> None:
    """Open the tour where it was left (a new prompt's numbers fill the same cards)."""
    state = page.state
    if state.full is None:
        return
    page.tour_cards = tour(state.full, page.config, page.tokenizer, state.tokens, state.settings)
    page.tour_step = min(page.tour_step, len(page.tour_cards) - 1)
    element("tour").hidden = False
    show_tour_card(page)
    element("tour").querySelector("[data-tour=next]").focus()


def on_tour_click(page, event) -> None:
    button = event.target.closest("[data-tour]")
    if getattr(button, "dataset", None) is not None:
        move_tour(page, button.dataset.tour)


def on_tour_key(page, event) -> None:
    if element("tour").hidden or event.target.tagName in FORM_FIELDS:
        return
    move = {"ArrowRight": "next", "ArrowLeft": "previous", "Escape": "close"}.get(event.key)
    if move:
        event.preventDefault()
        move_tour(page, move)


def move_tour(page, move: str) -> None:
    if move == "close":
        element("tour").hidden = True
        return
    step = page.tour_step + (1 if move == "next" else -1)
    page.tour_step = max(0, min(len(page.tour_cards) - 1, step))
    show_tour_card(page)


def show_tour_card(page) -> None:
    render_tour_card(page)
    stage = Stage.of(page.tour_cards[page.tour_step].stage)
    page.show(events.stage_opened(page.state, stage))


def render_tour_card(page) -> None:
    card, locale = page.tour_cards[page.tour_step], page.locale
    panel = element("tour")
    panel.dataset.card = card.id
    panel.querySelector(".tour-title").textContent = text(card.title_key, locale, **card.values)
    panel.querySelector(".tour-body").textContent = text(card.body_key, locale, **card.values)
    panel.querySelector(".tour-progress").textContent = text(
        "ui.tour.progress", locale, step=page.tour_step + 1, steps=len(page.tour_cards)
    )
    panel.querySelector("[data-tour=previous]").disabled = page.tour_step == 0
    panel.querySelector("[data-tour=next]").disabled = page.tour_step == len(page.tour_cards) - 1
