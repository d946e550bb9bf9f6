"""The head view's drawing (ui/attention_lines.py) built on a stand-in DOM (tests/fake_dom.py):
its lines and their data attributes against the tests' loop GPT-2, the two columns, the head
toggles, hover and keyboard, the numbers table, a long prompt and the Chinese words."""

import importlib

import numpy as np
import pytest

from pyexplainer.views.attention_lines import AttentionLinesView, attention_lines, head_style
from tests.fake_dom import forget_ui, installed
from tests.view_case import view_case

LAYER = 1


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


@pytest.fixture
def ui(monkeypatch):
    """The ui modules on the stand-in DOM: (js, the head view module, a Matrices)."""
    js = installed(monkeypatch)
    module = importlib.import_module("pyexplainer.ui.attention_lines")
    yield js, module, importlib.import_module("pyexplainer.ui.matrix").Matrices()
    forget_ui()


def drawn(ui, case, position, heads, locale="en"):
    js, module, m = ui
    head_view = module.HeadView()
    view = attention_lines(case.trace, case.tokens, LAYER)
    return head_view, head_view.panel(view, position, heads, m, locale)


def lines_of(panel):
    return panel.find_all("line", data_head=True)


def test_each_line_carries_its_head_ends_and_the_real_weight(ui, case):
    position, heads = 7, (0, 2, 3)
    _, panel = drawn(ui, case, position, heads)
    assert panel.getAttribute("data-testid") == "attention-lines"
    assert panel.getAttribute("data-heads") == "0,2,3"
    lines = lines_of(panel)
    assert len(lines) == len(heads) * (position + 1)
    probs = case.reference["attention_probs"][LAYER, :, position]  # (H, T) float64 loops
    seen = set()
    for line in lines:
        head, source, target = (int(line.getAttribute(f"data-{a}")) for a in ("head", "from", "to"))
        weight = float(line.getAttribute("data-weight"))
        assert source == position and head in heads and 0 <= target <= position
        assert weight == pytest.approx(probs[head, target], abs=2e-6)
        assert float(line.getAttribute("stroke-width")) == pytest.approx(0.5 + 5.5 * weight, 1e-2)
        assert float(line.getAttribute("y1")) == (position + 0.5) * 20  # from the chosen row
        assert abs(float(line.getAttribute("y2")) - (target + 0.5) * 20) <= 3  # to its key's
        seen.add((head, target))
    assert len(seen) == len(lines)


def test_each_head_is_stroked_in_its_colour_and_toggled_by_its_button(ui, case):
    _, panel = drawn(ui, case, 4, (1, 3))
    for h in (1, 3):
        group = panel.find("g", data_head_group=str(h))
        assert group.getAttribute("stroke") == head_style(h).colour
        assert {line.getAttribute("data-head") for line in group.children} == {str(h)}
    buttons = panel.find_all("button", data_action="lines-head")
    assert [b.getAttribute("aria-pressed") for b in buttons] == ["false", "true", "false", "true"]
    assert [b.style.borderColor for b in buttons] == [head_style(h).colour for h in range(4)]
    assert panel.find("button", data_action="lines-all-heads").hasAttribute("disabled") is False
    _, every = drawn(ui, case, 4, range(4))
    assert every.find("button", data_action="lines-all-heads").hasAttribute("disabled")


def test_two_columns_the_queries_one_tab_stop(ui, case):
    _, panel = drawn(ui, case, 5, (0,))
    queries = panel.find_all("text", data_action="lines-pick")
    keys = panel.find_all("text", class_="lines-key")
    assert len(queries) == len(keys) == len(case.ids)
    assert [q.getAttribute("tabindex") for q in queries].count("0") == 1
    chosen = panel.find("text", aria_current="true")
    assert chosen.getAttribute("data-position") == "5" and chosen.getAttribute("tabindex") == "0"
    assert [k.textContent for k in keys] == [t.label for t in case.tokens]


def test_pointing_at_a_token_shows_its_lines_and_leaving_it_the_chosen_ones(ui, case):
    head_view, panel = drawn(ui, case, 5, (0, 1))
    other = panel.find("text", data_action="lines-pick", data_position="9")
    head_view.point_at(other)
    assert {line.getAttribute("data-from") for line in lines_of(panel)} == {"9"}
    assert len(lines_of(panel)) == 2 * 10
    assert "previewed" in other.className.split()
    head_view.point_at(panel)  # somewhere that is not a token
    assert {line.getAttribute("data-from") for line in lines_of(panel)} == {"5"}
    assert "previewed" not in other.className.split()


def test_arrow_keys_home_and_end_move_the_focus_and_its_lines(ui, case):
    js, _, _ = ui
    head_view, panel = drawn(ui, case, 5, (2,))

    def label(position):
        return panel.find("text", data_action="lines-pick", data_position=str(position))

    assert head_view.move_focus(label(5), "ArrowDown")
    assert js.document.activeElement is label(6)
    assert (label(5).getAttribute("tabindex"), label(6).getAttribute("tabindex")) == ("-1", "0")
    assert {line.getAttribute("data-from") for line in lines_of(panel)} == {"6"}
    assert head_view.move_focus(label(6), "Home") and js.document.activeElement is label(0)
    assert head_view.move_focus(label(0), "ArrowUp") and js.document.activeElement is label(0)
    last = len(case.ids) - 1
    assert head_view.move_focus(label(0), "End") and js.document.activeElement is label(last)
    assert not head_view.move_focus(label(last), "a")
    assert not head_view.move_focus(panel, "ArrowDown")  # not on a token: not the view's key


def test_the_numbers_are_the_chosen_row_of_the_shown_heads(ui, case):
    _, _, m = ui
    _, panel = drawn(ui, case, 6, (3, 0))
    button = panel.find("button", data_action="matrix-table")
    shown = m.shown[button.getAttribute("data-matrix")]
    np.testing.assert_allclose(
        shown.values, case.reference["attention_probs"][LAYER, [0, 3], 6, :7], atol=2e-6
    )
    assert shown.row_labels == ("head 0", "head 3")
    assert shown.col_labels == tuple(f"{p}: {t.label}" for p, t in enumerate(case.tokens[:7]))
    assert button.textContent == "Show the numbers"


def test_with_no_head_shown_it_says_so_and_draws_no_line(ui, case):
    _, panel = drawn(ui, case, 6, ())
    assert lines_of(panel) == []
    assert "No head is shown" in panel.textContent
    assert panel.find_all("button", data_action="matrix-table") == []


def test_in_chinese_every_word_is_chinese(ui, case):
    _, panel = drawn(ui, case, 3, (0,), locale="zh-CN")
    words = panel.find("p", class_="explain").textContent
    assert "注意力连线" in words and "0.5 + (6 − 0.5) × w" in words
    assert panel.find("button", data_head="1").textContent == "头 1"


def test_a_long_prompt_scrolls_and_counts_the_lines_it_does_not_draw(ui):
    _, module, m = ui
    rng = np.random.default_rng(1)
    h, t = 12, 1024
    logits = np.where(np.tril(np.ones((t, t), bool)), rng.standard_normal((h, t, t)), -np.inf)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    labels = tuple(f" word{i}" for i in range(t))
    view = AttentionLinesView(0, labels, 0, weights, tuple(head_style(i) for i in range(h)))
    panel = module.HeadView().panel(view, t - 1, range(h), m, "en")
    assert panel.find("svg", class_="lines-drawing").getAttribute("height") == str(t * 20)
    drawn_per_head = np.bincount([int(x.getAttribute("data-head")) for x in lines_of(panel)])
    omitted = panel.find_all("li", data_head=True)
    assert len(lines_of(panel)) <= 1024
    assert [int(o.getAttribute("data-count")) for o in omitted] == (t - drawn_per_head).tolist()
    assert "weakest lines" in omitted[0].textContent
