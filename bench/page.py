"""The benchmark's hands on the page: visits to the first prediction and what the page saw of
its start, actions (a click the page answers by running the model) with the page's own timings,
generating N tokens in one click, redraws (a change the page answers without the model), and
what the model line says runs the model."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING

from bench import BenchError
from bench.memory import peak_js_heap

if TYPE_CHECKING:
    from bench.site import ServedSite

READY_OR_ERROR = """() => {
  const s = document.querySelector('[data-testid=status]');
  if (s && s.classList.contains('error')) return {error: s.textContent};
  if (s && s.dataset.actions && s.dataset.state === 'ready') return {at: performance.now()};
  return false;
}"""
ACTION_FINISHED = "n => document.querySelector('[data-testid=status]').dataset.actions !== n"
# Generating N tokens is one action: done when the counter moved and the page reads ready again
GENERATION_FINISHED = """n => {
  const s = document.querySelector('[data-testid=status]');
  return s.classList.contains('error') || (s.dataset.actions !== n && s.dataset.state === 'ready');
}"""
REDRAW_FINISHED = """n => {
  const s = document.querySelector('[data-testid=status]');
  return (s.dataset.redraws || '0') !== n || s.classList.contains('error');
}"""
# Resolves when every finite CSS animation has ended: a redrawn panel unfolds (it moves), and
# Playwright waits for a moving target to stand still before it clicks.
ANIMATIONS_ENDED = """() => Promise.all(
  document.getAnimations()
    .filter(a => a.effect.getComputedTiming().endTime !== Infinity)
    .map(a => a.finished.catch(() => null))
).then(() => true)"""
STAGE_TABS = "[data-testid=stage-tabs] button[data-kind]"
TOKEN_CHIPS = "[data-testid=token-list] [data-token-id]"
HEAD_ROLES_READY = "[data-testid=head-roles]:not([data-state=computing])"  # induction scores in
LOAD_TIMEOUT_MS = 600_000
ACTION_TIMEOUT_MS = 300_000
REDRAW_TIMEOUT_MS = 60_000  # a redraw that never reports is a Python error on the page
GENERATION_TIMEOUT_MS = 900_000
GENERATED_TOKENS = 10  # "Generate N tokens" with N = this, after the 64-token prompt


# What the page saw of its own start, in ms since its navigation (a page the isolation reload
# loaded also says when the page before it began, performance.timeOrigin, which web/boot.mjs
# kept): the HTML's first byte, the first of each performance mark "pyexplainer:*", and every
# request's start and end (resource timing). bench.report.start_events reads it.
START_TIMELINE = """() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const kept = Number(sessionStorage.getItem('pyexplainer-reloaded'));
  return {
    html_first_byte: navigation.responseStart,
    reload_ms: navigation.type === 'reload' && kept > 1 ? performance.timeOrigin - kept : null,
    marks: Object.fromEntries(performance.getEntriesByType('mark').reverse()
      .filter((m) => m.name.startsWith('pyexplainer:'))
      .map((m) => [m.name.slice('pyexplainer:'.length), m.startTime])),
    requests: performance.getEntriesByType('resource')
      .map((r) => [new URL(r.name).pathname, r.startTime, r.responseEnd]),
  };
}"""


def start_timeline(page) -> dict:
    """START_TIMELINE of the page as it is now (after a visit)."""
    return page.evaluate(START_TIMELINE)


def visit(page, url: str) -> float:
    """Navigate to the site; ms from navigation start until the first prediction is shown."""
    page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    state = page.wait_for_function(READY_OR_ERROR, timeout=LOAD_TIMEOUT_MS).json_value()
    if "error" in state:
        raise BenchError(f"the page failed to load: {state['error']}")
    return round(float(state["at"]), 1)


def act(page, testid: str) -> dict:
    """Click a button, wait until the page has finished, return that action's timings (ms)."""
    return act_on(page, f"[data-testid={testid}]")


def act_on(page, selector: str) -> dict:
    """act() for anything that starts an action: a button, or the logit lens' stage tab."""
    status = page.locator("[data-testid=status]")
    before = status.get_attribute("data-actions") or "0"
    page.click(selector)
    page.wait_for_function(ACTION_FINISHED, arg=before, timeout=ACTION_TIMEOUT_MS)
    raise_page_error(page, selector)
    return json.loads(status.get_attribute("data-timings"))


def raise_page_error(page, what: str) -> None:
    status = page.locator("[data-testid=status]")
    if "error" in (status.get_attribute("class") or ""):
        raise BenchError(f"{what}: the page says {status.text_content()!r}")


def run_prompt(page, text: str) -> dict:
    page.fill("[data-testid=prompt-input]", text)
    return act(page, "run-button")


def redraw_after(page, what: str, interact) -> dict[str, float]:
    """Call interact() (a Playwright call on the page) and wait for the redraw it causes, which
    the page must report as `what`; its page_ms and wall_ms (see bench.targets.MEASURED)."""
    status = page.locator("[data-testid=status]")
    before = status.get_attribute("data-redraws") or "0"
    page.evaluate(ANIMATIONS_ENDED)
    started = time.perf_counter()
    interact()
    page.wait_for_function(REDRAW_FINISHED, arg=before, timeout=REDRAW_TIMEOUT_MS)
    wall_ms = round(1000 * (time.perf_counter() - started), 1)  # per token from what is reported
    raise_page_error(page, what)
    return redraw_timings(status.get_attribute("data-redraw"), what, wall_ms)


def redraw_timings(reported: str, what: str, wall_ms: float) -> dict[str, float]:
    """The page's data-redraw (JSON: what, ms and parts timed while drawing, such as
    head_roles_ms), which must be a `what` redraw, with wall_ms beside it."""
    redraw = json.loads(reported)
    if redraw["what"] != what:
        raise BenchError(f"expected a {what!r} redraw, the page reported {redraw['what']!r}")
    parts = {k: round(v, 1) for k, v in redraw.items() if k.endswith("_ms")}
    return {**parts, "page_ms": round(redraw["ms"], 1), "wall_ms": round(wall_ms, 1)}


def open_tab(page, kind: str) -> dict[str, float]:
    tab = f"{STAGE_TABS}[data-kind={kind}]"
    return redraw_after(page, "open-stage", partial(page.click, tab))


def generates_many(page) -> bool:
    """Whether the page has "Generate N tokens" (a site built before it has not)."""
    return page.locator("[data-testid=generate-many]").count() > 0


def generate_many(page, n: int) -> dict[str, float]:
    """Generate n tokens with one click of "Generate N tokens": wall_ms from the click until the
    page reads ready with n more tokens, ms_per_token, and the page's total_ms of the action."""
    page.fill("[data-testid=generate-count]", str(n))
    status = page.locator("[data-testid=status]")
    before = status.get_attribute("data-actions") or "0"
    tokens = page.locator(TOKEN_CHIPS).count()
    started = time.perf_counter()
    page.click("[data-testid=generate-many]")
    page.wait_for_function(GENERATION_FINISHED, arg=before, timeout=GENERATION_TIMEOUT_MS)
    wall_ms = round(1000 * (time.perf_counter() - started), 1)  # per token from what is reported
    raise_page_error(page, f"generating {n} tokens")
    added = page.locator(TOKEN_CHIPS).count() - tokens
    if added != n:
        raise BenchError(f"generating {n} tokens added {added} tokens to the text")
    total_ms = json.loads(status.get_attribute("data-timings") or "{}").get("total_ms")
    return {
        "wall_ms": wall_ms,
        "ms_per_token": round(wall_ms / n, 1),
        **({"page_total_ms": round(total_ms, 1)} if total_ms is not None else {}),
    }


def repeated_actions(page, prompts: dict[int, str], repeat: int) -> dict[str, list[dict]]:
    """Each action `repeat` times: runs at T = 16, 64 and 65, the lens, the attribution (where
    the page has it) and head roles at 64, a cached step after 64 and, where the page has it,
    "Generate N tokens" after 64."""
    timings = defaultdict(list)
    for _ in range(repeat):
        timings["forward_T16"].append(run_prompt(page, prompts[16]))
        timings["forward_T64"].append(run_prompt(page, prompts[64]))
        timings["logit_lens_T64"].append(act_on(page, f"{STAGE_TABS}[data-kind=lens]"))
        if page.locator(f"{STAGE_TABS}[data-kind=attribution]").count():  # a site before it: no
            attribution = f"{STAGE_TABS}[data-kind=attribution]"
            timings["attribution_T64"].append(act_on(page, attribution))
        roles = open_tab(page, "heads")
        page.wait_for_selector(HEAD_ROLES_READY)  # the first opening runs the induction pass
        timings["head_roles_T64"].append({k: roles[k] for k in ("head_roles_ms", "page_ms")})
        open_tab(page, "embedding")  # a run with the lens open would run the lens again
        timings["cached_step_after_T64"].append(act(page, "generate-button"))
        timings["recompute_T65"].append(run_prompt(page, prompts[65]))
        if generates_many(page):
            run_prompt(page, prompts[64])
            timings["generate_N_after_T64"].append(generate_many(page, GENERATED_TOKENS))
    return dict(timings)


def running_on(page) -> tuple[str, str]:
    """What the page says runs the model ('WebGPU' or 'WebAssembly, N thread(s) ...'), and what
    it says of the weights (kept quantized, or unpacked to float32 at load)."""
    said = page.text_content("[data-testid=model-info]").rsplit("running on ", 1)[-1]
    backend, separator, weights = said.partition("; weights ")
    return backend, (separator + weights).removeprefix("; ")


class Visits:
    """Cold and warm starts, each pair in a fresh context, and the bytes they took."""

    def __init__(self):
        self.cold_ms: list[float] = []
        self.warm_ms: list[float] = []
        self.cold_starts: list[dict] = []  # start_timeline of each visit
        self.warm_starts: list[dict] = []
        self.first_visit_bytes: dict[str, int] = {}
        self.warm_visit_bytes: dict[str, int] = {}
        self.peak_js_heap = 0
        self.running_on = ""
        self.weights = ""
        self.wasm_memories: list[dict] = []  # at the end of the last visit's actions

    def cold_then_warm(self, page, site: ServedSite) -> None:
        before = site.traffic.snapshot()
        self.cold_ms.append(visit(page, site.url))
        self.cold_starts.append(start_timeline(page))
        self.first_visit_bytes = self.first_visit_bytes or site.traffic.since(before)
        if not self.running_on:
            self.running_on, self.weights = running_on(page)
        self.peak_js_heap = max(self.peak_js_heap, peak_js_heap(page))
        before = site.traffic.snapshot()
        self.warm_ms.append(visit(page, site.url))
        self.warm_starts.append(start_timeline(page))
        self.warm_visit_bytes = self.warm_visit_bytes or site.traffic.since(before)
        self.peak_js_heap = max(self.peak_js_heap, peak_js_heap(page))
