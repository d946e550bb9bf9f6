"""The overview's drawing (ui/overview.py), written as one piece of markup, on a stand-in DOM
(tests/fake_dom.py): every node and link of views.overview with its real magnitude, the open
stage outlined, and text that holds markup characters shown as text."""

import importlib

import pytest

from pyexplainer.views.overview import overview
from tests.fake_dom import forget_ui, installed
from tests.view_case import view_case


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


@pytest.fixture
def ui(monkeypatch):
    """(the dom module, the overview module) on the stand-in DOM."""
    js = installed(monkeypatch)
    yield (
        importlib.import_module("pyexplainer.ui.dom"),
        importlib.import_module("pyexplainer.ui.overview"),
        js,
    )
    forget_ui()


def test_markup_escapes_text_and_attribute_values(ui):
    dom, _, js = ui
    written = dom.markup("text", 'a < b & "c"', class_='x" onload="y', data_stage="1,2")
    assert written == (
        '<text class="x&quot; onload=&quot;y" data-stage="1,2">a &lt; b &amp; "c"</text>'
    )
    parent = js.document.createElement("div")
    dom.fill_with_markup(parent, written)
    (node,) = parent.children
    assert node.textContent == 'a < b & "c"'
    assert node.getAttribute("class") == 'x" onload="y'


def test_every_node_and_link_is_drawn_with_its_magnitude_and_the_open_stage_outlined(ui, case):
    dom, module, js = ui
    view = overview(case.trace)
    svg = js.document.createElementNS(dom.SVG_NS, "svg")
    open_stage = view.nodes["block1.attention"].stage
    module.draw_overview(svg, view, "en", open_stage)
    groups = svg.find_all("g", data_action="open-stage")
    assert [g.getAttribute("data-node") for g in groups] == list(view.nodes)
    for group in groups:
        node = view.nodes[group.getAttribute("data-node")]
        assert float(group.getAttribute("data-magnitude")) == node.magnitude
        assert group.getAttribute("data-stage") == ",".join(map(str, node.stage))
        assert ("selected" in group.className.split()) == (node.stage == open_stage)
        assert group.find("rect").getAttribute("class") == f"kind-{node.stage[0]}"
    links = svg.find_all("path")
    assert len(links) == len(view.links)
    for path, link in zip(links, view.links, strict=True):
        (title,) = path.children
        assert title.textContent == f"{link.source} → {link.target}: {link.magnitude:.3g}"
    assert all(svg.find_all("text", class_="flow-label"))
