"""Passes of the model for the page: one pass, timed (run_model, step), and the results that
a stage computes the first time it opens: the logit lens, the induction scores, the parts of
the attribution. Each
runs inside queue.guarded, one at a time. A result becomes the page's next state
(views.state), which page.show draws: nothing here draws, and nothing here imports the modules
that do."""

from __future__ import annotations

import js  # Pyodide only
import numpy as np

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.attribution import ATTRIBUTION_READS, attribution_feeds, parts_from_outputs
from pyexplainer.core.generation import KVCache, cache_after, checked_ids, lens_calls, model_feeds
from pyexplainer.core.lens import LogitLens, partial_draws
from pyexplainer.core.trace import LENS_OUTPUTS, Trace
from pyexplainer.views import state as events
from pyexplainer.views.attribution import ASKED_PREDICTIONS, asked_tokens, top_predictions
from pyexplainer.views.head_roles import INDUCTION_OUTPUTS, induction_scores, repeated_random_tokens
from pyexplainer.views.logit_lens import logit_lens_view


async def run_model(
    page,
    new_ids: list[int],
    cache: KVCache,
    *,
    ablation: Ablation | None = None,
    lens_positions: int = 0,
    fetch: tuple[str, ...] = (),
) -> tuple[np.ndarray, dict]:
    """One pass: the checked ids (T,) and every output of the model, or only those in
    `fetch` (the rest stay inside onnxruntime-web: no copy in JS or in Python's heap)."""
    c = page.config
    ids = checked_ids(c, new_ids, cache)
    feeds = model_feeds(c, ids, cache, ablation=ablation, lens_positions=lens_positions)
    started = js.performance.now()
    outputs = await page.runner.run(feeds, fetch)
    page.timings["inference_ms"] = js.performance.now() - started
    return ids, outputs


async def step(page, new_ids: list[int], cache: KVCache) -> Trace:
    ids, outputs = await run_model(page, new_ids, cache)
    page.timings_of_last_step = page.timings["inference_ms"]
    return Trace.from_outputs(ids, cache.length, outputs)


async def compute_lens(page) -> None:
    """The logit lens of the last LENS_MAX_POSITIONS positions at every depth: those positions
    once more, span by span after the cache of the text before each (lens_spans keeps each
    call's output-layer arrays small): core.generation.lens_calls, as logit_lens runs them.
    The columns so far are shown after the calls of partial_draws (the grid at each draw
    twice the last); the calls stop when the student changes the text or leaves the lens,
    and the lens starts again when reopened."""
    try:
        state, c = page.state, page.config
        ids, tokens = state.all_ids, state.tokens
        cache = cache_after(state.trace)  # (L, H, T, Dh): the step's keys cover the whole text
        parts, inference_ms, fetch = [], 0.0, tuple(LENS_OUTPUTS)  # not the step's trace
        started = js.performance.now()
        calls = lens_calls(c, ids, cache)
        draws = partial_draws(len(calls))
        for number, (start, span, past) in enumerate(calls, 1):
            if page.state.all_ids != ids or page.state.stage.kind != "lens":
                return  # moved on: what was drawn stays drawn, nothing more is computed
            _, outputs = await run_model(page, span, past, lens_positions=len(span), fetch=fetch)
            inference_ms += page.timings["inference_ms"]
            parts.append(LogitLens.from_outputs(c.n_layer, len(span), outputs, start))
            if number in draws and page.state.stage.kind == "lens":
                view = lens_view(page, LogitLens.joined(parts), tokens)
                page.show(events.lens_computed(page.state, ids, view, done=False))
                page.timings.setdefault("lens_first_part_ms", js.performance.now() - started)
        page.timings["inference_ms"] = inference_ms  # of every call
        view = lens_view(page, LogitLens.joined(parts), tokens)
        page.timings["lens_view_ms"] = js.performance.now() - started - inference_ms
    finally:
        page.lens_running = False
    page.show(events.lens_computed(page.state, ids, view, done=True))


def lens_view(page, lens: LogitLens, tokens: tuple):
    """The lens view of the columns `lens` holds (first_position .. its last)."""
    end = lens.first_position + lens.ids.shape[1]
    return logit_lens_view(lens, page.tokenizer, tokens[:end])


async def compute_induction(page) -> None:
    """The (L, H) induction scores from one pass over repeated_random_tokens: only what they
    read crosses from the model, and only the scores are kept."""
    try:
        c = page.config
        ids = repeated_random_tokens(
            page.induction_half, c.vocab_size, seed=0, banned=page.tokenizer.never_sampled
        )
        _, out = await run_model(page, ids, KVCache.empty(c), fetch=INDUCTION_OUTPUTS)
        scores = induction_scores(ids, *(out[name] for name in INDUCTION_OUTPUTS))
    finally:
        page.induction_running = False
    page.show(events.induction_computed(page.state, scores))


async def compute_attribution(page) -> None:
    """What each part of the model wrote at the last position (core.attribution): the last token
    once more after the cache of the others, one token of work, returning only what the parts
    are read from, with the output layer's rows of the target, the second token and the top
    predictions (picking another of them needs no new pass)."""
    try:
        state, c = page.state, page.config
        ids = state.all_ids
        banned = page.tokenizer.never_sampled
        top = top_predictions(state.trace.last_logits, banned, ASKED_PREDICTIONS)
        tokens = asked_tokens(state.attribution_choice, top)
        feeds = attribution_feeds(c, ids, cache_after(state.trace), tokens)
        started = js.performance.now()
        outputs = await page.runner.run(feeds, ATTRIBUTION_READS)
        page.timings["inference_ms"] = js.performance.now() - started
        parts = parts_from_outputs(c, outputs, tokens)
    finally:
        page.attribution_running = False
    page.show(events.attribution_computed(page.state, ids, parts))
