"""The actions that change the text or its trace: a run of the prompt (or of its end that fits
the context), one generation step through the key/value cache, the recompute check, and the
what-if run with the parts switched off. Each runs inside queue.guarded, one at a time; the
passes of the model themselves are actions.py's. Each makes the page's next state
(views.state); `ran` and `appended` only make it, so that a link can run its text and tokens
and be drawn once (restore.py); the others show it."""

from __future__ import annotations

import js  # Pyodide only
import numpy as np

from pyexplainer.core.fit import last_tokens_that_fit
from pyexplainer.core.generation import KVCache, cache_after
from pyexplainer.core.sampling import sample_next_token
from pyexplainer.page.actions import run_model, step
from pyexplainer.page.controls import typed_seed
from pyexplainer.ui.dom import element
from pyexplainer.views import state as events
from pyexplainer.views.characters import character_groups, unfinished_tail
from pyexplainer.views.state import State
from pyexplainer.views.tokens import token_views
from pyexplainer.views.whatif import what_if_view


def follows(page) -> bool:
    """Whether the views follow the last token after this action: not when the student picked
    a token after asking for it (the pick is the later wish)."""
    return page.position_asked < page.acting


async def run_ablation(page) -> None:
    state = page.state
    ids, ablation, before = state.all_ids, state.ablation, state.trace.last_logits  # (V,)
    empty = KVCache.empty(page.config)
    _, outputs = await run_model(page, list(ids), empty, ablation=ablation, fetch=("last_logits",))
    after = outputs["last_logits"]  # (V,)
    pending = unfinished_tail(page.tokenizer, ids)
    view = what_if_view(page.tokenizer, before, after, ablation, pending=pending)
    page.show(events.what_if_computed(page.state, ids, view))


async def ran(page, state: State, text: str, seed: int) -> State:
    """The state after a run of `text` (its trace, its tokens) with the generator seeded."""
    ids = page.tokenizer.encode(text)
    trace = await step(page, ids, KVCache.empty(page.config))
    groups = character_groups(page.tokenizer, ids)
    tokens = token_views(page.tokenizer, text, ids, [], groups)
    page.rng = np.random.default_rng(seed)
    return events.text_run(
        state,
        text=text,
        prompt_ids=ids,
        trace=trace,
        tokens=tokens,
        groups=groups,
        seed=seed,
        follow=follows(page),
    )


def context_note(page, text: str):
    """The note a run of `text` says first: it is too long for the context (None: it fits)."""
    n_tokens = len(page.tokenizer.encode(text))
    return ("ui.too_long", {"n_tokens": n_tokens}) if n_tokens > page.config.n_positions else None


async def run_prompt(page) -> None:
    text = element("prompt-input").value
    page.show(events.context_noted(page.state, context_note(page, text)))
    page.show(await ran(page, page.state, text, typed_seed()))


async def keep_last_tokens(page) -> None:
    """Run the end of the text that fits the context (core.fit), and say what was dropped."""
    fitted = last_tokens_that_fit(
        page.tokenizer, element("prompt-input").value, page.config.n_positions
    )
    element("prompt-input").value = fitted.text
    state = await ran(page, page.state, fitted.text, typed_seed())
    note = ("ui.kept_last_tokens", {"kept": len(fitted.ids), "dropped": fitted.dropped})
    page.show(events.context_noted(state, note))


async def generate_one(page) -> None:
    if page.state.trace is None:
        await run_prompt(page)
    await append_token(page, draw_token(page))


def draw_token(page) -> int:
    """Sample the next token from the last position's logits under the settings in use, with
    the page's generator (seeded at each run: the same tokens as `pyexplainer generate`)."""
    s = page.state.settings
    return sample_next_token(
        page.state.trace.last_logits,
        temperature=s.temperature,
        top_k=s.top_k,
        top_p=s.top_p,
        banned=s.banned,
        rng=page.rng,
    )


async def appended(page, state: State, token: int) -> State:
    """The state after one step for `token` after everything so far (the key/value cache)."""
    trace = await step(page, [token], cache_after(state.trace))
    started = js.performance.now()
    ids = list(state.all_ids) + [token]
    groups = character_groups(page.tokenizer, ids)
    tokens = token_views(
        page.tokenizer, state.text, list(state.prompt_ids), ids[len(state.prompt_ids) :], groups
    )
    appended_state = events.token_appended(
        state,
        token=token,
        step=trace,
        full=state.full.extended(trace),
        tokens=tokens,
        groups=groups,
        follow=follows(page),
    )
    page.timings["trace_ms"] = js.performance.now() - started  # the step joined to the rest
    return appended_state


async def append_token(page, token: int) -> None:
    page.show(await appended(page, page.state, token))


async def recompute(page) -> None:
    """The whole sequence again without the cache: the same logits, at the full cost."""
    state, cached_ms = page.state, page.timings_of_last_step
    ids = list(state.all_ids)
    full = await step(page, ids, KVCache.empty(page.config))
    difference = float(np.abs(full.last_logits - state.trace.last_logits).max())
    values = dict(
        tokens=len(ids),
        difference=f"{difference:.1e}",
        difference_repr=repr(difference),
        cached_ms=cached_ms,
        full_ms=page.timings["inference_ms"],
        new=len(state.trace.input_ids),
    )
    page.show(events.recomputed(page.state, values))
