"""English and Simplified Chinese in the built site: the switch, the browser's language as the
default, the choice remembered across a reload, and no English left on a Chinese page. Marked
`browser`; screenshots of both languages on a phone and a laptop go to out/screenshots/."""

import json
import re
from urllib.parse import parse_qs

import pytest

from pyexplainer.messages import MESSAGES, text
from tests.test_browser import SCREENSHOTS, Student

pytestmark = pytest.mark.browser
STAGES = ("embedding", "layernorm", "attention", "mlp", "residual", "output", "heads")
STAGES += ("lens", "whatif")  # the experiments: the lens runs the model again
PROMPT = "数据可视化 helps students"  # Chinese bytes and English words, as a student may type
SWITCH = "[data-testid=locale-switch]"

# What the page shows, per visible element: its own text nodes, and every aria-label and title
# (what a screen reader says and a pointer shows). Token text is the model's, not the interface's:
# the token chips, the predicted tokens and the prompt box are left out.
SHOWN_STRINGS = """() => {
  const tokenText = '.token, .prediction .label, .token-label, textarea, option';
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest(tokenText)) continue;
    for (const name of ['aria-label', 'title']) {
      if (el.hasAttribute(name)) out.push(el.getAttribute(name));
    }
    if (!el.checkVisibility()) continue;
    for (const node of el.childNodes) {
      if (node.nodeType === Node.TEXT_NODE && node.textContent.trim()) out.push(node.textContent);
    }
  }
  return out;
}"""

# The rule for "no English left": a Chinese page may show an English word (3 or more letters,
# standing alone) only if the Chinese catalogue itself keeps it (code names and notation: GPT,
# MLP, softmax, GELU, logits, ...; pyexplainer/examples.py keeps the English prompts apart) or it
# is a word of a token of the text (labels quote them) or of the model's name. Quoted token
# text (“ to”, ' helps') is dropped first; words glued to digits or underscores (int8, <0xE6>,
# c_proj) are notation. Independently, no string may read as an English catalogue message whose
# Chinese differs (this catches English sentences made only of words the notation allows).
KEPT_IN_CHINESE = {
    word
    for key, template in MESSAGES["zh-CN"].items()
    for word in re.findall(r"\b[A-Za-z]{3,}\b", re.sub(r"\{[^}]*\}", "", template))
}


def pattern(template: str) -> re.Pattern:
    """What a catalogue template reads as once its {placeholders} are filled."""
    return re.compile(".+?".join(re.escape(part) for part in re.split(r"\{[^}]*\}", template)))


ENGLISH_ONLY = [
    pattern(english)
    for key, english in MESSAGES["en"].items()
    if english != MESSAGES["zh-CN"][key]
    and re.search(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", "", english))  # words, not only values
]


def untranslated(shown: list[str], *own: str) -> list[str]:
    """The strings in `shown` still in English; `own`: the tokens' labels and the model's name,
    whose words are the student's and the model's, not the interface's."""
    allowed = KEPT_IN_CHINESE | {word for words in own for word in re.findall(r"[A-Za-z]+", words)}
    left = []
    for string in shown:
        bare = re.sub(r"“[^”]*”|'[^']*'", "", string)
        english = set(re.findall(r"\b[A-Za-z]{3,}\b", bare)) - allowed
        if english or any(pattern.fullmatch(string.strip()) for pattern in ENGLISH_ONLY):
            left.append(string)
    return left


def token_labels(s: Student) -> list[str]:
    """The text's tokens, and the vocabulary tokens the logit lens shows (its cells' top token,
    and the top five each cell's title lists below its first line)."""
    chips = s.page.eval_on_selector_all(
        "[data-testid=token-list] :is(.token, .group-text)", "els => els.map(e => e.textContent)"
    )
    lens = s.page.eval_on_selector_all(
        "[data-testid=logit-lens] td",
        "els => els.flatMap(e => [e.querySelector('.lens-token').textContent,"
        " ...e.title.split('\\n').slice(1)])",
    )
    return chips + lens


def page_locale(s: Student) -> dict:
    return s.page.evaluate(
        "sel => ({lang: document.documentElement.lang, title: document.title,"
        " h1: document.querySelector('h1').textContent, chosen: document.querySelector(sel).value,"
        " stored: localStorage.getItem('pyexplainer.locale')})",
        SWITCH,
    )


def shot(s: Student, name: str) -> None:
    """Full-page screenshots on a phone and a laptop (a phone-sized viewport is enough to lay
    the page out as on a phone)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 800)):
        s.page.set_viewport_size({"width": width, "height": height})
        overflow = s.page.evaluate(
            "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 0, (name, width)  # no sideways scrolling, Chinese or English
        s.page.screenshot(path=SCREENSHOTS / f"{name}-{width}x{height}.png", full_page=True)


# A browser whose WebGPU adapter refuses to give a device: the page falls back to WebAssembly and
# says why, in its own language around the browser's words.
FAILING_WEBGPU = """Object.defineProperty(navigator, "gpu", {configurable: true, value: {
  getPreferredCanvasFormat: () => "bgra8unorm",
  requestAdapter: async () => ({
    features: new Set(), limits: {}, info: {}, requestAdapterInfo: async () => ({}),
    requestDevice: async () => { throw new Error("this test's GPU gives no device"); },
  }),
}});"""


@pytest.fixture(scope="module")
def model_name(site) -> str:
    return json.loads((site / "models" / "index.json").read_text())["default"]


@pytest.fixture
def english(chromium, server):
    s = Student(chromium, server, locale="en-US")
    yield s
    s.close()


def test_switching_to_chinese_locale_leaves_no_english_and_survives_a_reload(english, model_name):
    s = english
    assert page_locale(s) == {
        "lang": "en",
        "title": text("ui.page_title"),
        "h1": text("ui.title"),
        "chosen": "en",
        "stored": None,
    }
    assert len(untranslated(s.page.evaluate(SHOWN_STRINGS), model_name)) > 20  # the rule bites
    s.page.select_option(SWITCH, "zh-CN")
    s.run(PROMPT)
    assert s.status() == text("ui.status.ready", "zh-CN")
    chips = token_labels(s)
    assert "\ufffd" not in "".join(chips) and "数" in chips  # a bracket over its bytes' tokens
    for kind in STAGES:
        s.open(kind)
        if kind == "lens":  # it runs the model again first
            s.page.wait_for_selector("[data-testid=logit-lens][data-state=ready]")
        assert untranslated(s.page.evaluate(SHOWN_STRINGS), *token_labels(s), model_name) == [], (
            kind
        )
    s.page.click("[data-testid=tour-button]")
    progress = s.page.text_content("[data-testid=tour] .tour-progress")
    assert pattern(MESSAGES["zh-CN"]["ui.tour.progress"]).fullmatch(progress)
    assert untranslated(s.page.evaluate(SHOWN_STRINGS), *token_labels(s), model_name) == [], "tour"
    s.page.keyboard.press("Escape")
    s.assert_no_python_error()

    s.page.reload()
    s.wait()
    assert page_locale(s) == {
        "lang": "zh-CN",
        "title": text("ui.page_title", "zh-CN"),
        "h1": text("ui.title", "zh-CN"),
        "chosen": "zh-CN",
        "stored": "zh-CN",
    }
    assert s.status() == text("ui.status.ready", "zh-CN")


def test_the_browser_language_picks_the_default_locale_and_english_comes_back(
    chromium, server, model_name
):
    s = Student(chromium, server, locale="zh-CN", init_script=FAILING_WEBGPU)
    try:
        info = s.page.text_content("[data-testid=model-info]")
        assert pattern(MESSAGES["zh-CN"]["ui.webgpu_failed"]).search(info), info
        assert page_locale(s) == {
            "lang": "zh-CN",
            "title": text("ui.page_title", "zh-CN"),
            "h1": text("ui.title", "zh-CN"),
            "chosen": "zh-CN",
            "stored": None,  # nothing chosen yet: the browser's language decided
        }
        shown = s.page.evaluate(SHOWN_STRINGS)
        assert untranslated(shown, *token_labels(s), model_name) == []
        shot(s, "locale-zh-CN")
        s.page.select_option(SWITCH, "en")
        marked = s.page.eval_on_selector_all(
            "[data-i18n]", "els => els.map(e => [e.dataset.i18n, e.textContent])"
        )
        assert all(shown == text(key) for key, shown in marked)
        assert page_locale(s)["lang"] == "en" and s.status() == "ready"
        cache_info = s.page.text_content("[data-testid=cache-info]")
        assert pattern(MESSAGES["en"]["ui.cache_info"]).fullmatch(cache_info)  # redrawn too
        shot(s, "locale-en")
        s.assert_no_python_error()
    finally:
        s.close()


def test_switching_with_an_empty_setting_says_so_in_the_new_language(english):
    s = english
    s.page.fill("[data-testid=temperature-value]", "")  # emptied: a number field holds nothing else
    assert s.page.get_attribute("[data-testid=status]", "data-state") == "error"
    s.page.select_option(SWITCH, "zh-CN")
    setting = text("ui.temperature", "zh-CN")
    assert s.status() == text("ui.not_a_number", "zh-CN", setting=setting, value="")
    legend = s.page.text_content("[data-testid=sankey-legend]")
    assert legend == text("overview.legend", "zh-CN")  # the views were redrawn before it
    s.assert_no_python_error()


def test_a_link_opens_in_the_language_it_names_and_the_choice_in_the_page_wins_afterwards(
    chromium, server
):
    """A teacher's link for a Chinese class (lang=zh-CN) opens in Chinese on an English browser;
    the student's switch to English wins afterwards, in the address bar too."""
    s = Student(chromium, f"{server}?prompt=Hello&lang=zh-CN", locale="en-US")
    try:
        assert page_locale(s)["lang"] == "zh-CN" and page_locale(s)["stored"] is None
        assert s.status() == text("ui.status.ready", "zh-CN")
        assert parse_qs(s.page.evaluate("location.search.slice(1)"))["lang"] == ["zh-CN"]
        s.page.select_option(SWITCH, "en")
        assert parse_qs(s.page.evaluate("location.search.slice(1)"))["lang"] == ["en"]
        s.page.reload()
        s.wait()
        assert page_locale(s)["lang"] == "en" and s.status() == "ready"
        s.assert_no_python_error()
    finally:
        s.close()
