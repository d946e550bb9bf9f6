"""Generate N tokens, watched: one token at a time, its bar marked among the bars it was drawn
from, then appended (the chip highlighted, the cache one longer) and the model run on it alone;
Stop halts it once the token drawn is appended, a Run of another text before."""

from __future__ import annotations

import asyncio
import functools

from pyexplainer.messages import format_number, text
from pyexplainer.page import queue, runs, status
from pyexplainer.ui.dom import element
from pyexplainer.views import state as events
from pyexplainer.views.characters import unfinished_tail
from pyexplainer.views.predictions import SHOW_DRAWN_S, drawn

MAX_TOKENS = 50


def generate_count(page) -> int:
    """The N the student typed: a whole number from 1 to MAX_TOKENS, else a ValueError that
    says so."""
    raw = element("generate-count").value
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_TOKENS:
        raise ValueError(text("ui.generate_count_range", page.locale, value=raw))
    return n


async def on_generate_many(page, _event=None) -> None:
    try:
        n = generate_count(page)
    except ValueError as e:
        status.show_error(page, str(e))
        return
    await queue.guarded(page, functools.partial(generate_many, page, n), superseded=True)


def on_stop(page, _event=None) -> None:
    """Not queued: it must reach the generation under way."""
    page.stop_generating = True


async def generate_many(page, n: int) -> None:
    if page.state.trace is None:
        await runs.run_prompt(page)
    asked, page.stop_generating = page.acting, False
    element("stop-generate").disabled = False
    try:
        for k in range(1, n + 1):
            if page.state.last_position + 1 >= page.config.n_positions:
                say(page, "ui.context_full", k=k - 1, n=n, n_positions=page.config.n_positions)
                return
            token = runs.draw_token(page)
            show_drawn(page, token, k, n)
            await asyncio.sleep(SHOW_DRAWN_S)  # the browser paints the marked bar meanwhile
            if page.last_run_asked > asked:  # a Run asked for: it replaces what was drawn
                say(page, "ui.generate_stopped", k=k - 1, n=n)
                return
            await runs.append_token(page, token)  # drawn and shown: Stop keeps it
            if page.stop_generating:  # the generator stays in step with the CLI's
                say(page, "ui.generate_stopped", k=k, n=n)
                return
        say(page, "ui.generate_done", k=n)
    finally:
        element("stop-generate").disabled = True
        page.stop_generating = False


def show_drawn(page, token: int, k: int, n: int) -> None:
    """Mark the drawn token's bar (if it is among those shown) and say what was drawn."""
    bars = element("prediction-list").querySelectorAll(f'[data-token-id="{token}"]')
    for bar in bars:
        bar.classList.add("drawn")
    state = page.state
    pending = unfinished_tail(page.tokenizer, state.all_ids)
    p = drawn(page.tokenizer, state.trace.last_logits, state.settings, token, pending=pending)
    say(
        page,
        "ui.generate_drawn" if bars.length else "ui.generate_drawn_unlisted",
        k=k,
        n=n,
        label=repr(p.label),
        probability=format_number(p.probability, page.locale, 2, percent=True),
    )


def say(page, key: str, **values) -> None:
    """The line under the bars; kept (and redrawn in another language) until the next run."""
    page.show(events.generation_noted(page.state, (key, values)))
