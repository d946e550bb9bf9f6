"""The attribution stage in the built site: every part's contribution against the same model's
attribution pass in CPython (onnxruntime, the same int8 files), in English and Chinese; a link
restores the target and the second token; a head of the list opens in the attention stage; a
phone's width scrolls nowhere sideways. Marked `browser`."""

import numpy as np
import pytest

from pyexplainer.core.attribution import attribute, attribution_feeds, parts_from_outputs
from pyexplainer.core.generation import KVCache, forward
from tests.test_browser import VIEW_PROMPT, Student, close

pytestmark = pytest.mark.browser
READY = "[data-testid=attribution][data-state=ready]"


@pytest.fixture(scope="module")
def student(chromium, server):
    s = Student(chromium, server)
    s.run(VIEW_PROMPT)
    yield s
    s.assert_no_python_error()
    s.close()


def cpython_parts(model, text: str, tokens: list[int]):
    c = model.manifest.config
    ids = model.tokenizer.encode(text)
    trace = forward(model.run, c, ids)
    cache = KVCache(trace.present_keys, trace.present_values)
    outputs = model.run(attribution_feeds(c, ids, cache, tokens))
    return parts_from_outputs(c, outputs, tokens), trace


def shown_parts(s: Student) -> dict[str, float]:
    rows = s.page.eval_on_selector_all(
        f"{READY} [data-component]", "els => els.map(e => [e.dataset.component, e.dataset.value])"
    )
    return {name: float(value) for name, value in rows}


def open_attribution(s: Student) -> None:
    """Open the stage (one pass of the last token), unless it is open on this text already."""
    if s.page.query_selector(READY) is None:
        s.act_on("[data-testid=stage-tabs] [data-kind=attribution]")
    s.page.wait_for_selector(READY)


def show_every_part(s: Student) -> None:
    s.page.fill(f"{READY} [data-action=attribution-top]", "100000")
    s.page.dispatch_event(f"{READY} [data-action=attribution-top]", "change")
    s.page.wait_for_function(
        f"() => document.querySelectorAll('{READY} [data-component]').length > 20"
    )


def test_every_part_is_what_cpython_computes_and_they_add_up(student, cpython_model):
    s = student
    open_attribution(s)
    target = int(s.page.get_attribute(READY, "data-target-id"))
    top = int(s.page.get_attribute("[data-testid=prediction-list] > *", "data-token-id"))
    assert target == top  # the model's top prediction by default
    show_every_part(s)
    parts, trace = cpython_parts(cpython_model, VIEW_PROMPT, [target])
    want = attribute(parts, target)
    expected = dict(zip(want.names, want.values, strict=True)) | {"lnf_bias": want.constant}
    shown = shown_parts(s)
    c = cpython_model.manifest.config
    assert len(shown) == 1 + c.n_layer * (c.n_head + 2) + 1  # embed, heads, biases, MLPs, shift
    names = sorted(expected)
    close(np.array([shown[n] for n in names]), np.array([expected[n] for n in names]))
    logit = float(s.page.get_attribute(READY, "data-logit"))
    close(logit, float(trace.last_logits[target]))
    total = float(s.page.get_attribute(READY, "data-total"))
    assert total == pytest.approx(sum(shown.values()), abs=1e-4)  # the parts add up as shown
    assert abs(total - logit) < 0.05 * max(1.0, abs(logit))  # the int8 output layer's rounding
    check = s.page.text_content("[data-testid=attribution-check]")
    assert f"{logit:.4f}"[:-1] in check.replace(",", "")


def test_a_second_token_and_chinese_show_the_same_numbers(student, cpython_model):
    s = student
    open_attribution(s)
    target = int(s.page.get_attribute(READY, "data-target-id"))
    options = s.page.eval_on_selector_all(
        f"{READY} [data-action=attribution-other] option", "els => els.map(e => e.value)"
    )
    other = int(next(v for v in options if v and int(v) != target))
    s.page.select_option(f"{READY} [data-action=attribution-other]", str(other))
    s.page.wait_for_selector(f"{READY}[data-other-id='{other}']")
    show_every_part(s)
    english = shown_parts(s)
    parts, _ = cpython_parts(cpython_model, VIEW_PROMPT, [target, other])
    want = attribute(parts, target, other)
    names = list(want.names)
    close(np.array([english[n] for n in names]), want.values)
    s.page.select_option("[data-testid=locale-switch]", "zh-CN")
    s.page.wait_for_function(
        "() => document.querySelector('[data-testid=attribution] h3').textContent.includes('归因')"
    )
    assert shown_parts(s) == english  # the same numbers, in another language
    s.page.select_option("[data-testid=locale-switch]", "en")


def test_a_link_restores_the_tokens_and_a_head_opens_in_its_stage(chromium, server):
    s = Student(chromium, server)
    s.run(VIEW_PROMPT)
    open_attribution(s)
    options = s.page.eval_on_selector_all(
        f"{READY} [data-action=attribution-target] option", "els => els.map(e => e.value)"
    )
    target, other = int(options[2]), int(options[1])
    s.page.select_option(f"{READY} [data-action=attribution-target]", str(target))
    s.page.select_option(f"{READY} [data-action=attribution-other]", str(other))
    s.page.wait_for_selector(f"{READY}[data-target-id='{target}'][data-other-id='{other}']")
    link = s.page.url
    assert f"target={target}" in link and f"vs={other}" in link and "view=attribution" in link
    shown = shown_parts(s)
    s.visit(link)
    s.page.wait_for_selector(f"{READY}[data-target-id='{target}'][data-other-id='{other}']")
    assert shown_parts(s) == shown
    head = s.page.locator(f"{READY} [data-kind=head]").first
    layer, number = int(head.get_attribute("data-layer")), int(head.get_attribute("data-head"))
    head.click()
    s.page.wait_for_selector("[data-testid=stage-tabs] [data-kind=attention][aria-pressed=true]")
    assert s.page.input_value("[data-testid=layer-select]") == str(layer)
    assert s.page.input_value("[data-testid=head-select]") == str(number)
    s.assert_no_python_error()
    s.close()


def test_the_per_block_chart_reads_the_logit_lens_of_the_same_text(student):
    """The chart's dots and sentence say after which blocks the lens grid's last column has the
    target on top, as the grid itself shows it; its button opens the lens."""
    s = student
    open_attribution(s)
    target = s.page.get_attribute(READY, "data-target-id")
    assert s.page.get_attribute(f"{READY} [data-testid=attribution-lens]", "data-settled") == ""
    s.act_on(f"{READY} [data-testid=attribution-lens] button")
    s.page.wait_for_selector("[data-testid=logit-lens][data-state=ready]", timeout=120_000)
    tops = s.page.eval_on_selector_all(
        "[data-testid=logit-lens] td",
        "els => els.map(e => [+e.dataset.depth, +e.dataset.position, e.dataset.tokenId])",
    )
    last = max(position for _, position, _ in tops)
    column = [token for _, position, token in sorted(tops) if position == last][1:]  # after blocks
    on_top = [str(block) for block, token in enumerate(column) if token == target]
    s.page.click("[data-testid=stage-tabs] [data-kind=attribution]")  # its parts are kept
    s.page.wait_for_selector(READY)
    marked = s.page.eval_on_selector_all(
        f"{READY} circle.lens-top", "els => els.map(e => e.dataset.block)"
    )
    assert marked == on_top and column[-1] == target  # the lens ends on the model's prediction
    settled = len(column)
    while settled > 0 and column[settled - 1] == target:
        settled -= 1
    shown = s.page.get_attribute(f"{READY} [data-testid=attribution-lens]", "data-settled")
    assert shown == str(settled)


def test_a_phone_scrolls_nowhere_sideways_and_a_word_too_long_is_named(chromium, server):
    s = Student(chromium, server)
    s.page.set_viewport_size({"width": 390, "height": 844})
    s.run(VIEW_PROMPT)
    open_attribution(s)
    wide = s.page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert wide <= 0
    s.page.fill(f"{READY} [data-action=attribution-typed]", "teachers asked")
    s.page.dispatch_event(f"{READY} [data-action=attribution-typed]", "change")
    s.page.wait_for_function(
        "() => document.querySelector('[data-testid=status]').textContent.includes('tokens')"
    )
    s.assert_no_python_error()
    s.close()
