"""The logit lens and the what-if ablation in the built site, against the same model in CPython
(onnxruntime, the same int8 files). Marked `browser`."""

import numpy as np
import pytest

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.generation import KVCache, forward, model_feeds
from pyexplainer.core.lens import LogitLens
from pyexplainer.core.sampling import next_token_distribution
from tests.test_browser import (
    INT8_ROUNDING,
    VIEW_PROMPT,
    Student,
    assert_same_predictions,
    close,
)

pytestmark = pytest.mark.browser
LENS_READY = "[data-testid=logit-lens][data-state=ready]"


@pytest.fixture(scope="module")
def student(chromium, server):
    s = Student(chromium, server)
    s.run(VIEW_PROMPT)
    yield s
    s.assert_no_python_error()
    s.close()


def shown_lens(s: Student) -> dict[tuple[int, int], tuple[int, float]]:
    cells = s.page.eval_on_selector_all(
        f"{LENS_READY} td",
        "els => els.map(e => [e.dataset.depth, e.dataset.position, e.dataset.tokenId,"
        " e.dataset.prob])",
    )
    return {(int(d), int(p)): (int(t), float(q)) for d, p, t, q in cells}


def test_logit_lens_grid_matches_cpython_and_ends_in_the_prediction(student, cpython_model):
    s = student
    s.open("lens")  # the page runs the model again, with the lens on every row
    s.page.wait_for_selector(LENS_READY, timeout=60_000)
    c = cpython_model.manifest.config
    ids = np.array(cpython_model.tokenizer.encode(VIEW_PROMPT))
    outputs = cpython_model.run(model_feeds(c, ids, KVCache.empty(c), lens_positions=len(ids)))
    lens = LogitLens.from_outputs(c.n_layer, len(ids), outputs)
    shown = shown_lens(s)
    assert len(shown) == (c.n_layer + 1) * len(ids)
    for (depth, position), (token, probability) in shown.items():
        top = lens.probs[depth, position, 0]
        assert token == lens.ids[depth, position, 0] or top - probability <= INT8_ROUNDING
        close(probability, top)
    last = shown[(c.n_layer, len(ids) - 1)]
    top_prediction = int(s.page.get_attribute("[data-testid=prediction-list] > *", "data-token-id"))
    assert last[0] == top_prediction  # the last row is the model's own prediction
    marked = s.page.eval_on_selector_all(
        f"{LENS_READY} td.next", "els => els.map(e => [+e.dataset.depth, +e.dataset.position])"
    )
    comes_next = lens.ids[:, :-1, 0] == ids[1:]  # (L+1, T-1): the top token comes next
    assert sorted(map(tuple, marked)) == sorted(map(tuple, np.argwhere(comes_next).tolist()))
    cell = s.page.locator(f"{LENS_READY} td").first
    cell.click()  # a tap shows the cell's top five below the grid: touch screens have no hover
    assert s.page.text_content("[data-testid=lens-detail]") == cell.get_attribute("title")
    s.screenshot("logit-lens")


def what_if(s: Student) -> tuple[float, list[tuple[int, float]], list[tuple[int, float]]]:
    s.act_on("[data-testid=ablation-run]")
    result = s.page.locator("[data-testid=ablation-result]")
    lists = [
        result.locator(f"[data-testid=ablation-{side}] li").evaluate_all(
            "els => els.map(e => [+e.dataset.tokenId, +e.dataset.prob])"
        )
        for side in ("before", "after")
    ]
    change = float(result.locator("[data-testid=ablation-top-change]").get_attribute("data-change"))
    return change, *lists


def test_what_if_ablation_changes_what_cpython_says(student, cpython_model):
    s = student
    c = cpython_model.manifest.config
    ids = cpython_model.tokenizer.encode(VIEW_PROMPT)
    s.open("whatif")
    panel = s.page.locator("[data-testid=ablation]")
    assert panel.locator("[data-action=ablate-head]").count() == c.n_layer * c.n_head
    assert panel.locator("[data-action=ablate-mlp]").count() == c.n_layer

    change, before, after = what_if(s)  # nothing switched off: nothing changes
    assert abs(change) < 1e-4
    assert [t for t, _ in before] == [t for t, _ in after]

    panel.locator("[data-action=ablate-head][data-layer='0'][data-head='1']").check()
    panel.locator("[data-action=ablate-mlp][data-layer='1']").check()
    panel.locator("[data-action=ablate-mode][value=mean]").check()
    change, before, after = what_if(s)
    ablation = Ablation(heads=frozenset({(0, 1)}), mlps=frozenset({1}), mode="mean")
    expected = next_token_distribution(
        forward(cpython_model.run, c, ids, ablation=ablation).last_logits
    )
    real = next_token_distribution(forward(cpython_model.run, c, ids).last_logits)
    order = np.argsort(-expected, kind="stable")[: len(after)]
    assert_same_predictions(after, [(int(i), float(expected[i])) for i in order])
    close(change, expected[before[0][0]] - real[before[0][0]])
    assert abs(change) > 1e-3
    s.screenshot("what-if")

    s.page.click("[data-action=clear-ablation]")  # everything back on, the choice of mode kept
    assert panel.locator("[data-action=ablate-head]:checked").count() == 0
    assert panel.locator("[data-action=ablate-mode][value=mean]").is_checked()


def test_what_if_works_from_the_keyboard(student):
    s = student
    s.open("whatif")
    s.page.click("[data-action=clear-ablation]")  # whatever an earlier test left ticked
    box = "[data-testid=ablation] [data-action=ablate-mlp][data-layer='0']"
    s.page.focus(box)
    s.page.keyboard.press("Space")  # ticks it: the MLP of block 0 off
    assert s.page.is_checked(box)
    before = s.page.get_attribute("[data-testid=status]", "data-actions")
    s.page.focus("[data-testid=ablation-run]")
    s.page.keyboard.press("Enter")
    s.page.wait_for_function(
        "n => document.querySelector('[data-testid=status]').dataset.actions !== n", arg=before
    )
    summary = s.page.text_content("[data-testid=ablation-result]")
    assert "block 0 MLP" in summary


def test_head_roles_keep_only_heads_above_a_minimum(student, cpython_model):
    from tests.test_browser import reference_attention

    s = student
    c = cpython_model.manifest.config
    trace = forward(cpython_model.run, c, cpython_model.tokenizer.encode(VIEW_PROMPT))
    previous = [
        np.mean([w[h, i, i - 1] for i in range(1, w.shape[1])])
        for layer in range(c.n_layer)
        for w in [reference_attention(trace, layer)[0]]
        for h in range(c.n_head)
    ]
    middle = sorted(previous)[len(previous) // 2 - 1 : len(previous) // 2 + 1]
    minimum = round(float(np.mean(middle)), 6)  # between two heads: no head sits on the edge
    s.open("heads")
    s.pick("head-role-select", "previous_token")
    s.page.fill("[data-testid=head-role-minimum]", str(minimum))
    s.page.press("[data-testid=head-role-minimum]", "Tab")  # a number field reports on leaving
    s.page.wait_for_function(
        "m => document.querySelector('[data-testid=head-role-minimum]').value == m", arg=minimum
    )
    shown = s.page.eval_on_selector_all(
        "[data-testid=head-roles] [data-action=open-head]", "els => els.map(e => +e.dataset.score)"
    )
    expected = sorted((p for p in previous if p >= minimum), reverse=True)
    close(shown, expected[: len(shown)])
    count = s.page.text_content("[data-testid=head-role-count]")
    assert str(len(expected)) in count and str(len(previous)) in count
