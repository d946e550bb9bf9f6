"""The message catalogue: lookups fail loudly, every template parses, and every locale has the
same keys and placeholders as English."""

import string

import pytest

from pyexplainer.messages import MESSAGES, text


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
