"""The attribution stage drawn on a fake DOM (tests/fake_dom.py) from hand-made parts: one element
per part with its name and every digit of its share, the stage's data attributes, the tokens'
labels as text, and each head and MLP a button that opens it."""

import pytest

from tests.fake_dom import forget_ui, installed
from tests.test_views_attribution import NAMES, hand_parts


@pytest.fixture
def ui(monkeypatch):
    installed(monkeypatch)
    from pyexplainer.ui import attribution_panel

    yield attribution_panel
    forget_ui()


@pytest.mark.parametrize("other", [None, 9])
def test_every_part_is_one_element_with_its_share(ui, other):
    from pyexplainer.views.attribution import AttributionChoice, attribution_view

    parts = hand_parts()
    choice = AttributionChoice(7, other, "all", 1000)
    view = attribution_view(parts, 7, other, choice.filter, choice.top)
    labels = {7: "<b>seven</b>", 9: "nine"}
    panel = ui.attribution_panel(view, choice, labels, None, True, "en")
    assert panel.getAttribute("data-target-id") == "7"
    assert panel.getAttribute("data-other-id") == ("" if other is None else "9")
    assert float(panel.getAttribute("data-total")) == view.total
    rows = panel.find_all("li", data_component=True)
    assert [r.getAttribute("data-component") for r in rows] == [b.name for b in view.bars]
    assert {r.getAttribute("data-component") for r in rows} == {*NAMES, "lnf_bias"}
    assert [float(r.getAttribute("data-value")) for r in rows] == [b.value for b in view.bars]
    opens = [r for r in rows if r.getAttribute("data-action") == "open-part"]
    assert {r.getAttribute("data-kind") for r in opens} == {"head", "mlp"}
    assert "<b>seven</b>" in panel.textContent  # a label stays text, never markup
    chosen = panel.find("select", data_action="attribution-other").find_all("option", selected=True)
    assert [o.getAttribute("value") for o in chosen] == ([] if other is None else ["9"])


def test_the_chart_marks_the_blocks_after_which_the_lens_has_the_target_on_top(ui):
    from pyexplainer.views.attribution import AttributionChoice, LensLink, attribution_view

    choice = AttributionChoice(7)
    view = attribution_view(hand_parts(), 7)
    pending = ui.attribution_panel(view, choice, {7: "seven"}, None, False, "en")
    assert pending.find("p", data_testid="attribution-lens").getAttribute("data-settled") == ""
    assert "open it to see" in pending.find("p", data_testid="attribution-lens").textContent
    assert pending.find_all("circle") == []
    link = LensLink((False, True), 1)
    panel = ui.attribution_panel(view, choice, {7: "seven"}, link, False, "en")
    line = panel.find("p", data_testid="attribution-lens")
    assert line.getAttribute("data-settled") == "1" and "from block 1 on" in line.textContent
    assert [c.getAttribute("data-block") for c in panel.find_all("circle")] == ["1"]
    opens = line.find("button", data_action="open-stage")
    assert opens.getAttribute("data-stage") == "lens"
