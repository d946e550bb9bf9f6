"""Redraws, on WebAssembly only (a redraw runs the page's Python on the trace it holds, never the
model): all views after a run, picking a block or a head, typing a temperature, opening each
stage tab, and dragging the temperature slider."""

from __future__ import annotations

import dataclasses
from functools import partial

from bench import BenchError
from bench.page import (
    REDRAW_TIMEOUT_MS,
    STAGE_TABS,
    open_tab,
    raise_page_error,
    redraw_after,
    redraw_timings,
    run_prompt,
)
from pyexplainer.config import ModelConfig

TEMPERATURES = ("0.7", "1.3")  # typed in turn, so every input changes the value
# A drag of the slider: 1.0 down to 0.3, then up to 1.8, 0.1 a step (23 updates)
DRAG_TEMPERATURES = tuple(f"{t / 10:.2f}" for t in (*range(10, 2, -1), *range(4, 19)))
SLIDER = "[data-testid=temperature]"
EXPERIMENT_STAGES = ("lens", "whatif")  # the lens runs the model on opening (an action),
# the what-if on its button: neither is a redraw

# One step of a drag, as the browser does it: the range takes the value and fires `input`; the
# page redraws (data-redraws moves) and the frame after it is drawn. Wall ms from the value set
# until that animation frame, measured in the page (no round trip to the driver).
SLIDER_STEP = """async ([selector, value, timeoutMs]) => {
  const s = document.querySelector('[data-testid=status]');
  const slider = document.querySelector(selector);
  const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
  const before = s.dataset.redraws || '0';
  const started = performance.now();
  slider.value = value;
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  while ((s.dataset.redraws || '0') === before && !s.classList.contains('error')) {
    if (performance.now() - started > timeoutMs) return {timedOut: true};
    await frame();
  }
  await frame();
  return {wall_ms: performance.now() - started, redraw: s.dataset.redraw};
}"""


@dataclasses.dataclass
class Interactions:
    """Samples of redraws ({"page_ms", "wall_ms"}) and of all views after a run."""

    all_views: list[dict] = dataclasses.field(default_factory=list)
    temperature: list[dict] = dataclasses.field(default_factory=list)
    layer: list[dict] = dataclasses.field(default_factory=list)
    head: list[dict] = dataclasses.field(default_factory=list)
    open_stage: dict[str, list[dict]] = dataclasses.field(default_factory=dict)
    temperature_drag: list[dict] | None = None  # every update of every drag; None: no slider


def all_views_after_run(page, prompt: str, kinds: list[str]) -> dict[str, float]:
    """Run the prompt, then open every stage tab but the one the run drew."""
    run = run_prompt(page, prompt)
    shown = page.get_attribute(f"{STAGE_TABS}[aria-pressed=true]", "data-kind")
    others = [open_tab(page, kind)["page_ms"] for kind in kinds if kind != shown]
    return {"run_total_ms": round(run["total_ms"], 1), "other_stages_ms": round(sum(others), 1)}


def has_slider(page) -> bool:
    """Whether the temperature is a range (a site built before the slider has a number box)."""
    return page.get_attribute(SLIDER, "type") == "range"


def slider_step(page, value: str) -> dict[str, float]:
    """Move the slider to `value` as a drag does; the page's redraw timings and the wall ms."""
    step = page.evaluate(SLIDER_STEP, [SLIDER, value, REDRAW_TIMEOUT_MS])
    what = f"the temperature slider at {value}"
    if step.get("timedOut"):
        raise BenchError(f"{what}: the page never redrew")
    raise_page_error(page, what)
    return redraw_timings(step["redraw"], "settings", step["wall_ms"])


def drag_slider(page) -> list[dict]:
    return [slider_step(page, value) for value in DRAG_TEMPERATURES]


def repeated_interactions(page, prompt: str, config: ModelConfig, repeat: int) -> Interactions:
    """Each interaction `repeat` times on `prompt`; every block or head picked differs from the
    one before (the attention stage opens at block 0 after the output or residual tab, head 0)."""
    kinds = page.eval_on_selector_all(STAGE_TABS, "tabs => tabs.map(t => t.dataset.kind)")
    kinds = [kind for kind in kinds if kind not in EXPERIMENT_STAGES]
    samples = Interactions(open_stage={kind: [] for kind in kinds})
    for _ in range(repeat):
        samples.all_views.append(all_views_after_run(page, prompt, kinds))
    open_tab(page, "attention")
    for i in range(1, repeat + 1):
        layer = str(i % config.n_layer)
        picked = partial(page.select_option, "[data-testid=layer-select]", layer)
        samples.layer.append(redraw_after(page, "selection", picked))
    for i in range(1, repeat + 1):
        head = f"[data-action=select-head][data-head='{i % config.n_head}']"
        samples.head.append(redraw_after(page, "select-head", partial(page.click, head)))
    slider = has_slider(page)
    box = "[data-testid=temperature-value]" if slider else SLIDER  # typing a value
    for i in range(repeat):
        typed = partial(page.fill, box, TEMPERATURES[i % len(TEMPERATURES)])
        samples.temperature.append(redraw_after(page, "settings", typed))
    if slider:
        samples.temperature_drag = [u for _ in range(repeat) for u in drag_slider(page)]
    for _ in range(repeat):
        for kind in kinds:
            samples.open_stage[kind].append(open_tab(page, kind))
    return samples
