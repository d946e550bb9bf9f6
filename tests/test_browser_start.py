"""The page's start in headless Chromium: what overlaps. The model's files are asked for as the
page loads (web/prefetch.mjs), before Python runs, and read once; a link to another model
prefetches that one; a prefetch the page does not open is dropped. The order comes from the
page's own performance marks (pyexplainer:*) and resource timing. Marked `browser`."""

import pytest

from tests.test_browser import (
    LOAD_TIMEOUT_MS,
    Student,
    assert_same_predictions,
    expected_predictions,
)
from tests.test_browser_models import (  # noqa: F401 (fixtures)
    PROMPT,
    cpython,
    device_memory,
    only_int4_fits,
    two_models,
)

pytestmark = pytest.mark.browser
# The first of each pyexplainer:* mark, and every request's start, in ms since navigation
TIMELINE = """() => ({
  marks: Object.fromEntries(performance.getEntriesByType('mark').reverse()
    .filter((m) => m.name.startsWith('pyexplainer:'))
    .map((m) => [m.name.slice('pyexplainer:'.length), m.startTime])),
  requests: performance.getEntriesByType('resource')
    .map((r) => [new URL(r.name).pathname, r.startTime]),
})"""
# What web/prefetch.mjs still holds of a URL (undefined: nothing, taken or dropped)
HELD = "async (url) => (await import('/prefetch.mjs')).take(new URL(url, location.href).href)"


def requests_of(timeline: dict, path: str) -> list[float]:
    return [start for name, start in timeline["requests"] if name == path]


def test_on_a_warm_visit_the_model_is_asked_for_before_python_runs_and_read_once(
    chromium, server, site, cpython_model
):
    s = Student(chromium, server)  # the first visit, which the service worker stores
    try:
        s.visit(server)  # the warm one
        assert s.status() == "ready"
        timeline = s.page.evaluate(TIMELINE)
        marks = timeline["marks"]
        order = ["boot", "prefetch-start", "python-ready", "app-imported", "model-bytes"]
        order += ["session", "status-running", "status-ready"]
        assert [m for m in sorted(marks, key=marks.get) if m in order] == order
        model = "/models/demo/"
        for name in ("weights.bin", "model.onnx", "vocab.json", "merges.txt"):
            starts = requests_of(timeline, model + name)
            assert len(starts) == 1, name  # Python took the prefetch's bytes, not its own
            assert starts[0] < marks["python-ready"], name
        assert requests_of(timeline, "/ort/ort-wasm-simd-threaded.wasm")[0] < marks["python-ready"]
        assert s.page.evaluate(HELD, model + "weights.bin") is None  # taken: not held twice
        prompt = s.page.input_value("[data-testid=prompt-input]")
        assert_same_predictions(s.predictions(), expected_predictions(cpython_model, prompt))
    finally:
        s.close()


def test_a_link_to_another_model_prefetches_that_one(chromium, two_models, cpython):  # noqa: F811
    url, _ = two_models
    s = Student(chromium, url + "?model=tiny-int8&prompt=Once+upon+a+time")
    try:
        assert s.status() == "ready"
        timeline = s.page.evaluate(TIMELINE)
        assert requests_of(timeline, "/models/tiny-int4/weights.bin") == []
        [start] = requests_of(timeline, "/models/tiny-int8/weights.bin")
        assert start < timeline["marks"]["python-ready"]
        assert_same_predictions(s.predictions(), expected_predictions(cpython["tiny-int8"], PROMPT))
    finally:
        s.close()


def test_a_prefetch_of_a_model_the_student_did_not_choose_is_dropped(
    chromium,
    two_models,  # noqa: F811
    cpython,  # noqa: F811
):
    url, folders = two_models
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(device_memory(only_int4_fits(folders)))  # the page asks first
    page = context.new_page()
    try:
        page.goto(url + "?model=tiny-int8&prompt=Once+upon+a+time")
        page.wait_for_selector("[data-testid=model-advice]:not([hidden])", timeout=LOAD_TIMEOUT_MS)
        page.click("[data-testid=model-advice] button:first-of-type")  # Use tiny-int4 instead
        page.wait_for_function(
            "() => document.querySelector('[data-testid=status]').dataset.state === 'ready'",
            timeout=LOAD_TIMEOUT_MS,
        )
        assert page.text_content("[data-testid=model-info]").startswith("tiny-int4:")
        for name in ("weights.bin", "model.onnx", "vocab.json"):
            assert page.evaluate(HELD, f"models/tiny-int8/{name}") is None, name
        rows = page.eval_on_selector_all(
            "[data-testid=prediction-list] > *",
            "els => els.map(e => [Number(e.dataset.tokenId), Number(e.dataset.prob)])",
        )
        shown = [(int(i), float(p)) for i, p in rows]
        assert_same_predictions(shown, expected_predictions(cpython["tiny-int4"], PROMPT))
    finally:
        context.close()
