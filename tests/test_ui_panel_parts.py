"""Parts that several panels share (ui/panel_parts.py), built on the stand-in DOM
(tests/fake_dom.py): the one histogram drawer of the debugging panel and the MLP's GELU chart,
checked against bars worked out by hand, and a table's header row."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from pyexplainer.messages import text
from tests.fake_dom import forget_ui, installed


@pytest.fixture
def panel_parts(monkeypatch):
    installed(monkeypatch)
    yield importlib.import_module("pyexplainer.ui.panel_parts")
    forget_ui()


@pytest.fixture
def histogram_bars(panel_parts):
    return panel_parts.histogram_bars


def geometry(bars) -> list[tuple[float, ...]]:
    return [
        tuple(float(bar.getAttribute(name)) for name in ("x", "y", "width", "height"))
        for bar in bars
    ]


def test_each_bin_stands_on_the_baseline_scaled_to_the_largest(histogram_bars):
    bars = histogram_bars(
        np.array([1, 3, 0, 2]), [0, 10, 20, 30, 40], baseline=60, tallest=60, gap=1
    )
    assert [bar.tagName for bar in bars] == ["rect"] * 4
    assert {bar.getAttribute("class") for bar in bars} == {"hist"}
    # (x, y, width, height): 1/3, 3/3, 0 and 2/3 of 60 px tall, each 1 px narrower than its bin
    assert geometry(bars) == [
        (0.0, 40.0, 9.0, 20.0),
        (10.0, 0.0, 9.0, 60.0),
        (20.0, 60.0, 9.0, 0.0),
        (30.0, 20.0, 9.0, 40.0),
    ]


def test_uneven_bins_keep_half_a_pixel_and_an_empty_histogram_draws_flat(histogram_bars):
    bars = histogram_bars(np.array([0, 0]), [5, 5.4, 25], baseline=50, tallest=40, gap=0.5)
    assert geometry(bars) == [(5.0, 50.0, 0.5, 0.0), (5.4, 50.0, 19.1, 0.0)]


def test_a_header_row_has_a_column_heading_per_key_in_the_locale(panel_parts):
    row = panel_parts.header_row(("output.col.token", "output.col.probability"), "zh-CN")
    assert row.tagName == "TR"
    assert [(th.tagName, th.getAttribute("scope")) for th in row.children] == [("TH", "col")] * 2
    expected = [text("output.col.token", "zh-CN"), text("output.col.probability", "zh-CN")]
    assert [th.textContent for th in row.children] == expected
