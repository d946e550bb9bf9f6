"""The first screen a class sees: the prediction bars and the temperature slider without
scrolling, the bars following the slider exactly, and "Generate N tokens" equal to the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from pyexplainer.core.generation import forward
from tests.conftest import ROOT
from tests.test_browser import Student, assert_drawn_as_cpython_would, assert_same_predictions

pytestmark = pytest.mark.browser
TOP = 5  # prediction rows that must be in view on load


@pytest.fixture
def student(chromium, server):
    s = Student(chromium, server)
    yield s
    s.close()


def visit(chromium, server, width: int, height: int) -> Student:
    context = chromium.new_context(viewport={"width": width, "height": height})
    return Student(chromium, server, context=context)


def box(s: Student, selector: str) -> dict:
    return s.page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }",
    )


@pytest.mark.parametrize("width,height", [(1280, 800), (1920, 1080)])
def test_prediction_bars_and_temperature_slider_are_on_the_first_screen(
    chromium, server, width, height
):
    s = visit(chromium, server, width, height)
    try:
        rows = s.page.locator("[data-testid=prediction-list] > li")
        assert rows.count() >= TOP
        for i in range(TOP):
            r = rows.nth(i).bounding_box()
            assert r is not None and r["y"] >= 0 and r["y"] + r["height"] <= height, i
            assert r["x"] >= 0 and r["x"] + r["width"] <= width, i
        slider = box(s, "[data-testid=temperature]")
        assert 0 <= slider["top"] and slider["bottom"] <= height and slider["right"] <= width
        assert s.page.get_attribute("[data-testid=temperature]", "type") == "range"
        # the prompt, its tokens and the overview are there too, the bars beside the overview
        for selector in ["[data-testid=prompt-input]", "[data-testid=token-list]", ".sankey-frame"]:
            assert box(s, selector)["top"] < height, selector
        bars, flow = box(s, "[data-testid=prediction-list]"), box(s, ".sankey-frame")
        assert bars["left"] >= flow["right"]  # the flow's last node leads to them
    finally:
        s.close()


def test_on_a_phone_the_top_bars_are_on_the_first_screen_and_nothing_scrolls_sideways(
    chromium, server, site
):
    """At 390×844 the prompt, its tokens and the top three bars fit the first screen after a
    run: the model's facts and the storage line wait in the picker, one line closed."""
    s = visit(chromium, server, 390, 844)
    try:
        s.run("The cat sat on the mat and")
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 390
        tokens, bars = box(s, "[data-testid=cache-info]"), box(s, "[data-testid=output]")
        flow = box(s, ".overview")
        assert tokens["bottom"] <= bars["top"] < flow["top"]
        rows = s.page.locator("[data-testid=prediction-list] > li")
        for i in range(3):
            r = rows.nth(i).bounding_box()
            assert r is not None and 0 <= r["y"] and r["y"] + r["height"] <= 844, (i, r)
        assert box(s, "[data-testid=prompt-input]")["top"] >= 0
        summary = box(s, "[data-testid=model-picker] > summary")
        assert summary["bottom"] - summary["top"] < 30  # one line, the facts cut short
        default = json.loads((site / "models" / "index.json").read_text())["default"]
        assert s.page.text_content("[data-testid=model-info]").startswith(f"{default}:")
    finally:
        s.close()


def softmax_at(logits: np.ndarray, temperature: float) -> np.ndarray:
    """An independent softmax of logits / temperature, in float64 (V,)."""
    z = logits.astype(np.float64) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def drag_slider(s: Student, value: float) -> None:
    """Move the range input as a drag does: its value, then an input event; wait for the redraw."""
    before = s.page.get_attribute("[data-testid=status]", "data-redraws") or "0"
    s.page.eval_on_selector(
        "[data-testid=temperature]",
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        str(value),
    )
    s.page.wait_for_function(
        "n => document.querySelector('[data-testid=status]').dataset.redraws !== n", arg=before
    )


def test_dragging_the_slider_shows_the_softmax_at_that_temperature(student, cpython_model):
    text = "The cat sat on the"
    student.run(text)
    logits = forward(
        cpython_model.run, cpython_model.manifest.config, cpython_model.tokenizer.encode(text)
    ).last_logits
    for temperature in (0.5, 1.7):
        drag_slider(student, temperature)
        assert student.page.input_value("[data-testid=temperature-value]") == str(temperature)
        expected = softmax_at(logits, temperature)
        shown = student.predictions()
        assert len(shown) == 15
        order = np.argsort(-expected, kind="stable")[:15]
        assert_same_predictions(shown, [(int(i), float(expected[i])) for i in order])
    student.page.fill("[data-testid=temperature-value]", "0.9")  # typing moves the slider
    assert student.page.input_value("[data-testid=temperature]") == "0.9"


def cli_generate(model_dir, text: str, n: int, **settings) -> list[int]:
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
    out = subprocess.run(
        [sys.executable, "-m", "pyexplainer", "generate", "--model-dir", str(model_dir)]
        + ["--text", text, "--tokens", str(n), *flags],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)["ids"]


def set_settings(s: Student, **values) -> None:
    for testid, value in values.items():
        s.page.fill(f"[data-testid={testid}]", str(value))


def test_generate_n_tokens_equals_the_cli_and_stop_halts_it(student, cpython_model, site):
    text = "The teacher asked the students to"
    index = json.loads((site / "models" / "index.json").read_text())
    model_dir = site / index["models"][0]["path"]
    prompt = cpython_model.tokenizer.encode(text)
    set_settings(student, seed=11, **{"temperature-value": 0.9, "top-k": 40, "generate-count": 8})
    student.run(text)  # the seed takes effect with a run
    marked = []  # the drawn token's bar, marked before it is appended
    student.page.expose_function("seen", lambda ids: marked.append(ids))
    student.page.evaluate(
        """() => new MutationObserver(() => {
             const bar = document.querySelector('[data-testid=prediction-list] .drawn');
             if (bar) window.seen(Number(bar.dataset.tokenId));
           }).observe(document.querySelector('[data-testid=prediction-list]'),
                      {subtree: true, attributes: true, attributeFilter: ['class']})"""
    )
    student.act("generate-many")
    expected = cli_generate(model_dir, text, 8, seed=11, temperature=0.9, top_k=40)
    drawn = student.tokens()[len(prompt) :]
    assert student.tokens()[: len(prompt)] == prompt and len(drawn) == len(expected) == 8
    assert_drawn_as_cpython_would(cpython_model, text, drawn, 11, temperature=0.9, top_k=40)
    assert set(marked) <= set(drawn) and marked  # each mark was a token that then came
    info = student.page.text_content("[data-testid=cache-info]")
    assert f"cache holds {len(prompt) + 8} positions (the last step computed 1 new)" in info
    newest = student.page.eval_on_selector_all(".token.newest", "els => els.length")
    assert newest == 1
    assert "Generated 8 tokens" in student.page.text_content("[data-testid=generate-info]")

    # Stop: a long generation halted after its first tokens keeps what it had, the CLI's prefix
    set_settings(student, **{"generate-count": 50})
    student.run(text)
    before = student.page.get_attribute("[data-testid=status]", "data-actions")
    student.page.click("[data-testid=generate-many]")
    student.page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=token-list] .generated').length >= n", arg=2
    )
    student.page.click("[data-testid=stop-generate]")
    student.page.wait_for_function(
        "n => document.querySelector('[data-testid=status]').dataset.actions !== n", arg=before
    )
    generated = student.tokens()[len(prompt) :]
    assert 2 <= len(generated) < 50
    assert generated == drawn[: len(generated)]  # the same draws as the run above
    assert "Stopped after" in student.page.text_content("[data-testid=generate-info]")
    assert student.page.is_disabled("[data-testid=stop-generate]")
    # what was drawn before Stop was appended: one more token continues the CLI's sequence
    student.act("generate-button")
    again = student.tokens()[len(prompt) :]
    n = len(again)
    assert n == len(generated) + 1
    assert_drawn_as_cpython_would(cpython_model, text, again, 11, temperature=0.9, top_k=40)
