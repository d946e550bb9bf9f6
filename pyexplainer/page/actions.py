"""What runs the model: a run of the prompt, one generation step through the key/value cache,
the recompute check, the logit lens, the what-if and the induction pass. Each runs inside
queue.guarded, one at a time."""

from __future__ import annotations

import js  # Pyodide only
import numpy as np

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.fit import last_tokens_that_fit
from pyexplainer.core.generation import KVCache, cache_after, checked_ids, lens_calls, model_feeds
from pyexplainer.core.lens import LogitLens
from pyexplainer.core.sampling import sample_next_token
from pyexplainer.core.trace import LENS_OUTPUTS, Trace
from pyexplainer.page import detail, render
from pyexplainer.ui.dom import element
from pyexplainer.views.head_roles import INDUCTION_OUTPUTS, induction_scores, repeated_random_tokens
from pyexplainer.views.logit_lens import logit_lens_view
from pyexplainer.views.whatif import what_if_view


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
    Each span's columns are drawn as they arrive (page.lens_partial); the calls stop when the
    student changes the text or leaves the lens, and the lens starts again when reopened."""
    try:
        ids, tokens, c = page.all_ids, page.tokens(), page.config
        cache = cache_after(page.trace)  # (L, H, T, Dh): the step's keys cover the whole text
        parts, inference_ms, fetch = [], 0.0, tuple(LENS_OUTPUTS)  # not the step's trace
        started = js.performance.now()
        calls = lens_calls(c, ids, cache)
        for number, (start, span, past) in enumerate(calls, 1):
            if page.all_ids != ids or page.stage[0] != "lens":
                return  # moved on: what was drawn stays drawn, nothing more is computed
            _, outputs = await run_model(page, span, past, lens_positions=len(span), fetch=fetch)
            inference_ms += page.timings["inference_ms"]
            parts.append(LogitLens.from_outputs(c.n_layer, len(span), outputs, start))
            so_far = LogitLens.joined(parts)  # the columns first_position .. the span's end
            end = so_far.first_position + so_far.ids.shape[1]
            view = logit_lens_view(so_far, page.tokenizer, tokens[:end])
            if number < len(calls):
                page.lens_partial = (ids, view)
                if page.stage[0] == "lens":
                    detail.render_detail(page)
                    page.timings.setdefault("lens_first_part_ms", js.performance.now() - started)
        page.timings["inference_ms"] = inference_ms  # of every call
        page.lens, page.lens_partial = (ids, view), None
        page.timings["lens_view_ms"] = js.performance.now() - started - inference_ms
    finally:
        page.lens_running = False
    if page.stage[0] == "lens":
        detail.render_detail(page)


async def run_ablation(page) -> None:
    ids, ablation, before = page.all_ids, page.ablation, page.trace.last_logits  # (V,)
    empty = KVCache.empty(page.config)
    _, outputs = await run_model(page, list(ids), empty, ablation=ablation, fetch=("last_logits",))
    after = outputs["last_logits"]  # (V,)
    page.what_if = (
        ids,
        what_if_view(page.tokenizer, before, after, ablation, pending=page.pending),
    )
    detail.render_detail(page)


async def run_prompt(page) -> None:
    text = element("prompt-input").value
    ids = page.tokenizer.encode(text)
    render.say_context(
        page,
        ("ui.too_long", {"n_tokens": len(ids)}) if len(ids) > page.config.n_positions else None,
    )
    trace = await step(page, ids, KVCache.empty(page.manifest.config))
    page.text, page.prompt_ids, page.generated_ids, page.trace = text, ids, [], trace
    page.full = trace
    follow_last_token(page)
    page.recompute_values = None
    page.lens = page.lens_partial = page.what_if = page.generate_note = None  # a run: afresh
    page.rng = np.random.default_rng(int(element("seed").value or 0))
    render.render(page)


def follow_last_token(page) -> None:
    """After a run or a step the views follow the last token, unless the student picked a
    token after asking for this action (the pick is the later wish)."""
    if page.position_asked < page.acting or page.position > page.last_position:
        page.position = page.last_position


async def keep_last_tokens(page) -> None:
    """Run the end of the text that fits the context (core.fit), and say what was dropped."""
    fitted = last_tokens_that_fit(
        page.tokenizer, element("prompt-input").value, page.config.n_positions
    )
    element("prompt-input").value = fitted.text
    await run_prompt(page)
    render.say_context(
        page, ("ui.kept_last_tokens", {"kept": len(fitted.ids), "dropped": fitted.dropped})
    )


async def generate_one(page) -> None:
    if page.trace is None:
        await run_prompt(page)
    await append_token(page, draw_token(page))


def draw_token(page) -> int:
    """Sample the next token from the last position's logits under the settings on screen, with
    the page's generator (seeded at each run: the same tokens as `pyexplainer generate`)."""
    s = render.settings(page)
    return sample_next_token(
        page.trace.last_logits,
        temperature=s.temperature,
        top_k=s.top_k,
        top_p=s.top_p,
        banned=s.banned,
        rng=page.rng,
    )


async def append_token(page, token: int) -> None:
    """Run one step for `token` after everything so far, reusing the key/value cache."""
    page.trace = await step(page, [token], cache_after(page.trace))
    page.full = page.full.extended(page.trace)
    page.generated_ids.append(token)
    follow_last_token(page)
    page.recompute_values = None
    render.render(page)


async def recompute(page) -> None:
    """The whole sequence again without the cache: the same logits, at the full cost."""
    cached_ms = page.timings_of_last_step
    ids = page.prompt_ids + page.generated_ids
    full = await step(page, ids, KVCache.empty(page.config))
    difference = float(np.abs(full.last_logits - page.trace.last_logits).max())
    page.recompute_values = dict(
        tokens=len(ids),
        difference=f"{difference:.1e}",
        cached_ms=cached_ms,
        full_ms=page.timings["inference_ms"],
        new=len(page.trace.input_ids),
    )
    render.render_recompute(page)
    element("recompute-info").dataset.difference = repr(difference)


async def compute_induction(page) -> None:
    """The (L, H) induction scores from one pass over repeated_random_tokens: only what they
    read crosses from the model, and only the scores are kept."""
    try:
        c = page.config
        ids = repeated_random_tokens(
            page.induction_half, c.vocab_size, seed=0, banned=page.tokenizer.never_sampled
        )
        _, out = await run_model(page, ids, KVCache.empty(c), fetch=INDUCTION_OUTPUTS)
        page.induction = induction_scores(ids, *(out[name] for name in INDUCTION_OUTPUTS))
    finally:
        page.induction_running = False
    if page.stage[0] == "heads":
        detail.render_detail(page)
