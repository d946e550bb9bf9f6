"""Tokens read as characters in the page: a Chinese and an emoji prompt, each character under
one bracket (testid token-group) over the chips of its bytes, against the CPython tokenizer and
Python's own UTF-8 lengths; bytes and ids on hover (title), keyboard focus and tap."""

import pytest

from tests.test_browser import SCREENSHOTS, Student
from tests.test_characters import expected_groups

pytestmark = pytest.mark.browser
PROMPTS = ["今天天气很好", "🇨🇳 👨‍👩‍👧 好😀"]

GROUPS = """list => [...list.querySelectorAll('.token-group')].map(g => ({
  label: g.querySelector('[data-testid=token-group]').textContent,
  split: !g.querySelector('[data-testid=token-group]').hidden,
  chips: [...g.querySelectorAll('.token')].map(c => ({
    id: Number(c.dataset.tokenId), position: Number(c.dataset.position),
    text: c.textContent, title: c.title, action: c.dataset.action})),
}))"""


@pytest.fixture(scope="module")
def student(chromium, server):
    s = Student(chromium, server)
    yield s
    s.assert_no_python_error()
    s.close()


def shown_groups(s) -> list[dict]:
    return s.page.eval_on_selector("[data-testid=token-list]", GROUPS)


@pytest.mark.parametrize("text", PROMPTS)
def test_every_character_of_the_prompt_is_one_group_over_its_tokens(student, cpython_model, text):
    tokenizer = cpython_model.tokenizer
    student.run(text)
    groups = shown_groups(student)
    ids = tokenizer.encode(text)
    assert [c["id"] for g in groups for c in g["chips"]] == ids
    assert [c["position"] for g in groups for c in g["chips"]] == list(range(len(ids)))
    lengths = [len(tokenizer.token_bytes(i)) for i in ids]
    assert [(g["label"], len(g["chips"])) for g in groups] == expected_groups(text, lengths)
    assert "".join(g["label"] for g in groups) == text
    student.page.locator(".input").screenshot(path=SCREENSHOTS / f"characters-{len(text)}.png")
    for g in groups:
        n = len(g["chips"])
        assert g["split"] == (n > 1)
        for k, chip in enumerate(g["chips"], start=1):
            assert chip["action"] == "select-position"
            data = tokenizer.token_bytes(chip["id"])
            assert f"id {chip['id']}" in chip["title"]
            assert f"bytes {data.hex(' ').upper()}" in chip["title"]
            if n > 1:
                assert chip["text"] == f"{k}/{n}"
                assert f"part {k} of {n} of “{g['label']}”" in chip["title"]
            else:
                assert chip["text"] == data.decode("utf-8")


def test_bytes_and_ids_on_focus_and_on_a_tap(student, cpython_model):
    text = PROMPTS[0]
    student.run(text)
    first = cpython_model.tokenizer.encode(text)[0]  # E4 BB, the first 2 of 今's 3 bytes
    chip = "[data-testid=token-list] .token[data-position='0']"
    assert student.page.text_content(chip) == "1/2"
    student.page.focus(chip)
    student.page.keyboard.press("Shift+Tab")
    student.page.keyboard.press("Tab")  # focus by keyboard: :focus-visible
    shown = student.page.eval_on_selector(chip, "c => getComputedStyle(c, '::after').content")
    assert "bytes E4 BB" in shown and f"id {first}" in shown
    student.page.locator(".input").screenshot(path=SCREENSHOTS / "characters-focus.png")
    student.page.click(chip)  # a click or a tap selects the chip
    student.page.wait_for_selector(chip + ".selected")  # ... and the details line says what it is
    detail = student.page.text_content("[data-testid=token-detail]")
    assert detail == student.page.get_attribute(chip, "title")
    assert "bytes E4 BB" in detail and "part 1 of 2 of “今”" in detail
    assert "selected" in student.page.get_attribute(chip, "class")


def test_prediction_bars_say_what_each_token_reads_as(student, cpython_model):
    from pyexplainer.views.characters import reading_notes, token_reading

    text = PROMPTS[0]
    student.run(text)
    rows = student.page.eval_on_selector_all(
        "[data-testid=prediction-list] > *",
        "els => els.map(e => [Number(e.dataset.tokenId), e.querySelector('.label').textContent,"
        " e.querySelector('.label').title, e.querySelector('.char-note')?.textContent ?? null])",
    )
    assert rows
    for token_id, label, title, note in rows:
        data = cpython_model.tokenizer.token_bytes(token_id)
        assert label == cpython_model.tokenizer.token_labels([token_id])[0]  # the text is whole
        assert f"bytes {data.hex(' ').upper()}" in title
        try:
            data.decode("utf-8")
            assert note is None
        except UnicodeDecodeError:
            assert note == ", ".join(reading_notes(token_reading(data), "en")[1:])
