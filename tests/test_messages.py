"""The message catalogue: lookups fail loudly, every template parses, every locale has the
same keys and placeholders as English, and every key is used where a reader can find it."""

import ast
import re
import string
from html.parser import HTMLParser

import pytest

from pyexplainer.messages import MESSAGES, choose_locale, format_number, text
from tests.conftest import ROOT


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_text_fills_placeholders_with_their_formats():
    filled = text("tour.softmax.body", query_label=" mat", key_label="The", weight=0.4567)
    assert "“ mat”" in filled and "45.7%" in filled and "“The”" in filled


def test_extra_values_are_ignored_so_one_dict_fills_title_and_body():
    assert text("tour.blocks.title", n_layer=12, unrelated="x") == "12 blocks, one after another"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: text("no.such.key"), "no message 'no.such.key' in locale 'en'"),
        (lambda: text("ui.run", locale="xx"), "no messages for locale 'xx'"),
        (lambda: text("tour.blocks.title"), "'tour.blocks.title' needs a value for 'n_layer'"),
    ],
)
def test_what_is_missing_is_named(call, message):
    with pytest.raises(KeyError, match=message):
        call()


def test_every_template_parses_and_names_its_placeholders():
    for key, template in MESSAGES["en"].items():
        assert template.strip(), key
        for name in fields(template):
            assert name.isidentifier(), (key, name)


def test_every_locale_has_the_english_keys_and_placeholders():
    english = MESSAGES["en"]
    for locale, messages in MESSAGES.items():
        assert set(messages) == set(english), locale
        for key, template in messages.items():
            assert fields(template) == fields(english[key]), (locale, key)


# Simplified Chinese: the keys that may read exactly as in English, because they are pure
# notation (formulas, code names). Every other key must be translated, that is, differ from
# English and contain Chinese.
ZH_SAME_AS_ENGLISH = {
    "ui.top_k",
    "ui.top_p",
    "overview.node.logits",
    "stage.mlp",
    "mlp.gelu",
    "output.col.id",
    "output.col.logit",
    "embedding.token.formula",
    "embedding.position.formula",
    "embedding.sum.formula",
    "attention.formula.scores",
    "attention.formula.scale",
    "attention.formula.softmax",
    "mlp.formula.gelu",
    "mlp.input.formula",
    "mlp.residual.formula",
    "output.formula.logits",
    "output.formula.softmax",
    "output.final_norm.formula",
    "ui.list_separator",  # punctuation: Chinese full-width, no Chinese characters
    "ui.facts_separator",
    "ui.backend_note",  # full-width brackets around the note
}


def has_chinese(template: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in template)


def placeholders_with_specs(template: str) -> list[tuple[str, str, str | None]]:
    return sorted(
        (name, spec, conversion)
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None
    )


def test_chinese_translates_every_key_but_the_listed_notation():
    english, chinese = MESSAGES["en"], MESSAGES["zh-CN"]
    assert ZH_SAME_AS_ENGLISH <= set(english)
    for key, template in chinese.items():
        assert template.strip(), key
        assert placeholders_with_specs(template) == placeholders_with_specs(english[key]), key
        if key in ZH_SAME_AS_ENGLISH:
            continue
        assert template != english[key], key
        assert has_chinese(template), key


def test_chinese_text_fills_placeholders_with_their_formats():
    assert text("ui.tour.progress", "zh-CN", step=3, steps=20) == "第 3 步，共 20 步"
    filled = text("tour.softmax.body", "zh-CN", query_label=" mat", key_label="The", weight=0.4567)
    assert "“ mat”" in filled and "45.7%" in filled and "“The”" in filled
    assert text("tour.blocks.title", "zh-CN", n_layer=12) == "12 个块，一个接一个"
    assert "{" not in text(
        "mlp.off_share", "zh-CN", off_share=0.25, units=3072, off_below=-2.0, negative_share=0.5
    )
    assert "25%" in text(
        "mlp.off_share", "zh-CN", off_share=0.25, units=3072, off_below=-2.0, negative_share=0.5
    )
    with pytest.raises(KeyError, match="'tour.blocks.title' needs a value for 'n_layer'"):
        text("tour.blocks.title", "zh-CN")


class MarkedStrings(HTMLParser):
    """(key, English fallback) for every data-i18n (text) and data-i18n-aria (aria-label) mark
    in a page; a data-i18n element holds text only, so its text runs to the next end tag."""

    def __init__(self):
        super().__init__()
        self.marks: list[tuple[str, str]] = []
        self._open: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-i18n-aria" in attrs:
            self.marks.append((attrs["data-i18n-aria"], attrs["aria-label"]))
        if "data-i18n" in attrs:
            self._open, self._text = attrs["data-i18n"], ""

    def handle_data(self, data):
        self._text += data

    def handle_endtag(self, tag):
        if self._open is not None:
            self.marks.append((self._open, " ".join(self._text.split())))
            self._open = None


def test_every_string_marked_in_the_page_is_in_both_catalogues_with_its_english_text():
    parser = MarkedStrings()
    parser.feed((ROOT / "web" / "index.html").read_text(encoding="utf-8"))
    assert len(parser.marks) > 30
    for key, english in parser.marks:
        assert key in MESSAGES["en"] and key in MESSAGES["zh-CN"], key
        assert english == MESSAGES["en"][key], key  # the fallback before Python has loaded


@pytest.mark.parametrize(
    ("remembered", "languages", "locale"),
    [
        (None, ["zh-CN", "en"], "zh-CN"),
        (None, ["zh-TW"], "zh-CN"),
        (None, ["de-DE", "zh"], "zh-CN"),
        (None, ["en-GB", "zh-CN"], "en"),
        (None, ["fr"], "en"),
        (None, [], "en"),
        ("en", ["zh-CN"], "en"),
        ("zh-CN", ["en-US"], "zh-CN"),
        ("xx", ["zh-CN"], "zh-CN"),  # a remembered locale this site does not have is ignored
    ],
)
def test_the_locale_is_the_remembered_one_else_the_browsers(remembered, languages, locale):
    assert choose_locale(remembered, languages) == locale


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_numbers_use_the_locales_grouping_and_decimal_mark(locale):
    # Both locales group thousands with "," and mark decimals with "." (expected strings written
    # out by hand, not produced by the function's own f-string).
    assert format_number(1234567.891, locale, 2) == "1,234,567.89"
    assert format_number(-0.5, locale, 3) == "-0.500"
    assert format_number(0.12345, locale, 2, percent=True) == "12.35%"
    assert format_number(1.0, locale, 0, percent=True) == "100%"


# Where the catalogue is read: the package's code and the page's, and the site's build; index.html
# names the keys of its fixed strings in data-i18n attributes.
CODE_FOLDERS = ("pyexplainer", "web", "build")
CATALOGUES = ("messages.py", "messages_zh.py")


def code_nodes():
    """(file, node) for every syntax node of the code that may look a key up, the catalogues
    left out."""
    for folder in CODE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name not in CATALOGUES:
                for node in ast.walk(ast.parse(path.read_text(), str(path))):
                    yield path, node


def code_strings() -> list[str]:
    """Every string literal of that code (the constant pieces of f-strings among them)."""
    return [
        node.value
        for _, node in code_nodes()
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def keys_built_from_pieces() -> list[str]:
    """The f-strings and `+` joins of the code that start like a catalogue key ("ui.{name}",
    "stage." + kind): a key made at run time cannot be found by searching for it."""
    namespaces = tuple(f"{key.split('.')[0]}." for key in MESSAGES["en"])
    built = []
    for path, node in code_nodes():
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            head = node.left
        else:
            continue
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            if head.value.startswith(namespaces):
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return built


def html_keys() -> set[str]:
    return set(re.findall(r'data-i18n[a-z-]*="([^"]+)"', (ROOT / "web/index.html").read_text()))


def test_every_key_is_used_by_its_name():
    used = set(code_strings()) | html_keys()
    assert sorted(set(MESSAGES["en"]) - used) == []


def test_no_key_is_built_from_pieces():
    assert keys_built_from_pieces() == []
