"""The status line: what the page is doing, in the page's language, and for tests and the
benchmark what the last redraw took (data-state, data-redraw, data-redraws) and when each step
of the start happened (performance marks)."""

from __future__ import annotations

import json

import js  # Pyodide only

from pyexplainer.messages import text
from pyexplainer.ui.dom import element

STATUS_MESSAGES = {  # what the page is doing -> its message
    "loading": "ui.status.loading",
    "choose_model": "ui.status.choose_model",
    "starting_model": "ui.status.starting_model",
    "running": "ui.status.running",
    "ready": "ui.status.ready",
}


def set_status(message: str, state: str) -> None:
    """The status line shows `message`; data-state holds `state` ("loading", "running",
    "ready", "error", ...) for tests and tools, in every language."""
    line = element("status")
    line.textContent = message
    line.dataset.state = state
    line.classList.toggle("error", state == "error")


def mark(name: str) -> None:
    """A performance mark "pyexplainer:<name>" where the benchmark's timeline reads it (the
    first of each name; web/boot.mjs and web/prefetch.mjs mark what happens before Python)."""
    js.performance.mark(f"pyexplainer:{name}")


def show_status(page, state: str) -> None:
    """The message of `state` (a key of STATUS_MESSAGES) in the page's language; marked
    "status-<state>" (the first run starts at the first "running", is on screen at "ready")."""
    mark(f"status-{state}")
    page.status_state = state
    set_status(text(STATUS_MESSAGES[state], page.locale), state)


def show_error(page, message: str) -> None:
    page.status_state = "error"
    set_status(message, "error")


def redraw(page, what: str, draw) -> None:
    """Run draw() for an interaction; how long it took goes on the status element, for the
    benchmark (data-redraw: what, milliseconds and the parts timed while drawing, such as
    head_roles_ms; data-redraws counts them)."""
    started = js.performance.now()
    action_timings, page.timings = page.timings, {}  # an action may be under way
    try:
        draw()
    finally:
        parts, page.timings = page.timings, action_timings
    status = element("status")
    status.setAttribute(
        "data-redraw", json.dumps({**parts, "what": what, "ms": js.performance.now() - started})
    )
    status.setAttribute("data-redraws", str(int(status.getAttribute("data-redraws") or 0) + 1))
