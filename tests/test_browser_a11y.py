"""Accessibility of the built site in Chromium: every heatmap also reads as a table of its numbers,
every control has an accessible name (as Chromium's accessibility tree computes it) and a visible
keyboard focus, and all text meets WCAG AA contrast. Marked `browser`."""

import numpy as np
import pytest

from pyexplainer.messages import text
from pyexplainer.views.colors import contrast_ratio
from pyexplainer.views.matrix_table import COLUMNS_PER_PAGE
from tests.test_browser import VIEW_PROMPT, Student, close

pytestmark = pytest.mark.browser
INTERACTIVE = (
    "button, select, input, textarea, a[href], [tabindex]:not([tabindex='-1']), [role=button],"
    " [data-action]"
)
# Marks the visible interactive elements, in document order; their descriptions come back.
MARK_INTERACTIVE = f"""() => {{
  document.querySelectorAll('[data-a11y-probe]').forEach(e => e.removeAttribute('data-a11y-probe'));
  const shown = [...document.querySelectorAll({INTERACTIVE!r})]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility === 'visible');
  shown.forEach(e => e.setAttribute('data-a11y-probe', ''));
  return shown.map(e => e.outerHTML.slice(0, 120));
}}"""
# Each marked element focused after a key press (so Chromium treats focus as keyboard focus):
# does it match :focus-visible, and what shows it (its outline, or an SVG node's rect stroke)?
FOCUS_RINGS = """() => [...document.querySelectorAll('[data-a11y-probe]')].map(e => {
  if (e.tabIndex < 0 || e.disabled) return null;
  e.focus();
  const s = getComputedStyle(e);
  const rect = e instanceof SVGElement ? e.querySelector('rect') : null;
  const ring = rect ? [getComputedStyle(rect).strokeWidth, 'solid', getComputedStyle(rect).stroke]
    : [s.outlineWidth, s.outlineStyle, s.outlineColor];
  return [e.outerHTML.slice(0, 120), e.matches(':focus-visible'), ...ring];
}).filter(Boolean)"""
FOCUS_RULES = """() => [...document.styleSheets].flatMap(sheet => {
  try { return [...sheet.cssRules]; } catch { return []; }
}).filter(r => r.selectorText && r.selectorText.includes(':focus-visible'))
  .map(r => [r.selectorText, r.style.outline])"""
# Every visible element holding text: its colour and the background it sits on, the backgrounds
# of its ancestors composited from the page down (ancestors' opacity folded in), and its size.
TEXT_COLOURS = """() => {
  const rgba = c => { const m = c.match(/rgba?\\(([^)]*)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3]));
  const out = [], seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('option, noscript, script, style, title, [hidden], :disabled')) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility !== 'visible') continue;
    const chain = [];
    for (let a = el; a; a = a.parentElement) chain.unshift(a);
    let background = [255, 255, 255], opacity = 1;
    for (const a of chain) {
      const s = getComputedStyle(a);
      opacity *= Number(s.opacity);
      if (!(a instanceof SVGElement) || a.tagName === 'svg')
        background = over(rgba(s.backgroundColor), background);
    }
    const colour = rgba(el instanceof SVGElement ? style.fill : style.color);
    colour[3] *= opacity;
    out.push({text: node.textContent.trim().slice(0, 60), where: el.outerHTML.slice(0, 100),
      colour: over(colour, background), background, size: parseFloat(style.fontSize),
      weight: Number(style.fontWeight)});
  }
  return out;
}"""
SETTLED = "() => Promise.all(document.getAnimations().map(a => a.finished))"


@pytest.fixture(scope="module")
def visited(chromium, server, cpython_model):
    """One tab that ran VIEW_PROMPT, and the CPython trace of the same text (the reference)."""
    from pyexplainer.core.generation import forward

    s = Student(chromium, server)
    s.run(VIEW_PROMPT)
    ids = cpython_model.tokenizer.encode(VIEW_PROMPT)
    yield s, forward(cpython_model.run, cpython_model.manifest.config, ids)
    s.assert_no_python_error()
    s.close()


def each_stage(s: Student):
    """Open every stage tab in turn (the page settled), with one heatmap's table open in it."""
    kinds = s.page.eval_on_selector_all(
        "[data-testid=stage-tabs] [data-kind]", "tabs => tabs.map(t => t.dataset.kind)"
    )
    assert len(kinds) >= 7
    for kind in kinds:
        s.open(kind)
        toggle = s.page.locator("[data-testid=detail] [data-action=matrix-table]")
        if toggle.count():
            toggle.first.click()
        s.page.evaluate(SETTLED)
        yield kind


def open_table(s: Student, canvas: str):
    """Click the table button of the heatmap `canvas`: (the table, its pager)."""
    key = s.page.get_attribute(canvas, "data-matrix")
    button = s.page.locator(f"[data-action=matrix-table][data-matrix={key}]")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    region = s.page.locator(f"#{key}-table")
    return region.locator("[data-testid=heatmap-table]"), region.locator(".matrix-table-pager")


def table_numbers(table) -> np.ndarray:
    return np.array(
        table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.querySelectorAll('td')]"
            ".map(td => Number(td.dataset.value)))"
        )
    )


def headers(table, where: str) -> list[str]:
    return table.locator(where).evaluate_all("els => els.map(e => e.textContent)")


def test_a_heatmap_is_an_image_with_a_name_and_its_numbers_read_as_a_table(visited):
    s, trace = visited
    s.open("embedding")
    canvas = "[data-testid=embedding-view] canvas[data-field=token_embedding]"
    t, d = trace.token_embedding.shape
    label = s.page.get_attribute(canvas, "aria-label")
    assert s.page.get_attribute(canvas, "role") == "img"
    assert label.startswith(text("embedding.token")) and f"{t} × {d} values" in label
    row_labels = s.page.locator(canvas).locator("xpath=..").locator(".row-labels li")
    table, pager = open_table(s, canvas)
    assert headers(table, "tbody th") == row_labels.all_text_contents()
    assert headers(table, "thead th") == [f"d{j}" for j in range(COLUMNS_PER_PAGE)]
    close(table_numbers(table), trace.token_embedding[:, :COLUMNS_PER_PAGE])
    assert (
        pager.locator(".matrix-table-columns")
        .text_content()
        .endswith(f"columns 1–{COLUMNS_PER_PAGE} of {d}")
    )
    next_page = pager.locator("[data-step='1']")
    next_page.focus()
    s.page.keyboard.press("Enter")
    assert headers(table, "thead th")[0] == f"d{COLUMNS_PER_PAGE}"
    close(table_numbers(table), trace.token_embedding[:, COLUMNS_PER_PAGE : 2 * COLUMNS_PER_PAGE])
    assert s.page.evaluate("() => document.activeElement.dataset.step") == "1"  # focus kept
    s.page.locator(
        f"[data-action=matrix-table][data-matrix={table.get_attribute('data-matrix')}]"
    ).click()
    assert table.count() == 0


def test_a_wide_activation_table_shows_a_page_of_columns_at_a_time(visited):
    s, trace = visited
    s.open("mlp")
    s.pick("layer-select", 1)
    s.pick("position-select", 2)
    table, pager = open_table(s, "[data-testid=mlp-view] canvas[data-field='mlp.activated']")
    hidden = trace.mlp_act.shape[-1]
    assert table.locator("tbody td").count() == COLUMNS_PER_PAGE  # one row, one page: not 4D cells
    close(table_numbers(table), trace.mlp_act[1, 2:3, :COLUMNS_PER_PAGE])
    for _ in range(hidden // COLUMNS_PER_PAGE - 1):  # to the last page
        pager.locator("[data-step='1']").click()
    assert pager.locator("[data-step='1']").is_disabled()
    assert (
        pager.locator(".matrix-table-columns")
        .text_content()
        .endswith(f"columns {hidden - COLUMNS_PER_PAGE + 1}–{hidden} of {hidden}")
    )
    close(table_numbers(table), trace.mlp_act[1, 2:3, -COLUMNS_PER_PAGE:])


def test_masked_attention_reads_as_minus_infinity_in_the_table(visited):
    s, _ = visited
    s.open("attention")
    table, pager = open_table(s, "canvas[data-field='attention.zoom']")
    assert pager.is_hidden()  # as many keys as fit on one page: no pager
    first_row = table.locator("tbody tr").first.locator("td").all_text_contents()
    assert first_row[0] == "1" and set(first_row[1:]) == {"−∞"}  # the first token sees itself


def test_every_control_has_an_accessible_name_and_a_visible_focus(visited):
    s, _ = visited
    rules = s.page.evaluate(FOCUS_RULES)
    assert any(
        selector == ":focus-visible" and outline and "none" not in outline
        for selector, outline in rules
    ), rules
    cdp = s.context.new_cdp_session(s.page)
    for kind in each_stage(s):
        described = s.page.evaluate(MARK_INTERACTIVE)
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        found = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-a11y-probe]"})
        assert len(found["nodeIds"]) == len(described) > 20
        for node, html in zip(found["nodeIds"], described, strict=True):
            ax = cdp.send(
                "Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False}
            )
            name = ax["nodes"][0].get("name", {}).get("value", "")
            assert name.strip(), (kind, html)
        s.page.focus("[data-testid=prompt-input]")
        s.page.keyboard.press("Tab")  # the tabs were clicked: from here on, keyboard focus
        for html, visible, width, style, colour in s.page.evaluate(FOCUS_RINGS):
            assert visible and style != "none" and float(width.rstrip("px")) >= 2, (kind, html)
            ring = [int(float(c)) for c in colour[colour.index("(") + 1 : -1].split(",")[:3]]
            assert contrast_ratio(ring, (0xFB, 0xFB, 0xFD)) >= 3, (kind, html, colour)
    cdp.detach()


def test_all_text_meets_wcag_aa_contrast(visited):
    s, _ = visited
    failures = []

    def check(kind: str) -> None:
        items = s.page.evaluate(TEXT_COLOURS)
        assert len(items) > 40, kind
        for item in items:
            large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
            ratio = contrast_ratio(item["colour"], item["background"])
            if ratio < (3 if large else 4.5):
                failures.append((kind, round(ratio, 2), item["text"], item["where"]))

    for kind in each_stage(s):
        check(kind)
    s.page.click("[data-testid=tour-button]")  # the tour's card is text on the page too
    s.page.evaluate(SETTLED)
    check("tour")
    s.page.keyboard.press("Escape")
    assert not failures, "\n".join(map(str, sorted(set(failures), key=str)))
