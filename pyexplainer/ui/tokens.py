"""The token chips grouped under the characters they spell, and a predicted token's label.

One group per views.characters.CharacterGroup: a bracket reading the character(s) (今) over its
chips, each marked with its part (1/2, 2/2); a token that is whole characters on its own is a
group of one whose chip shows its text and has no bracket. A chip's bytes and id are its title
(hover), shown beside it on keyboard focus (web/style.css) and in the details line below the list
for the selected chip (a tap selects it: a touch screen has no hover).
"""

from __future__ import annotations

import unicodedata

from pyexplainer.messages import text
from pyexplainer.ui.dom import make
from pyexplainer.views.characters import (
    CharacterGroup,
    GroupToken,
    TokenReading,
    code_points,
    group_title,
    reading_notes,
    token_notes,
)
from pyexplainer.views.tokens import TokenView

# Characters a bracket cannot show by themselves: format (ZWJ, variation selectors), spaces,
# controls and combining marks. Their bracket shows their code points instead.
UNSEEN = {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"}


def chip_title(group: CharacterGroup, token: GroupToken, view: TokenView, locale: str) -> str:
    """Position and id, the bytes, which part of which character, where the token came from."""
    if view.generated:
        where = text("ui.token_generated", locale)
    elif view.special and view.start == view.end:  # from no text: the prompt prefix
        where = text("ui.token_prefix", locale, label=view.label)
    else:
        where = text("ui.token_span", locale, start=view.start, end=view.end)
    parts = [text("ui.token_title", locale, position=view.position, token_id=view.token_id)]
    return text("ui.list_separator", locale).join(
        parts + token_notes(group, token, locale) + [where]
    )


def token_chips(
    groups: list[CharacterGroup], tokens: list[TokenView], selected: int, locale: str
) -> list:
    """The token list's items: one per group. `tokens` are the token_views of the same ids;
    `selected` is the selected position."""
    return [_group_item(group, tokens, selected, locale) for group in groups]


def _group_item(group: CharacterGroup, tokens: list[TokenView], selected: int, locale: str):
    single = len(group.tokens) == 1
    bracket = make(
        "span",
        group.label,
        class_="group-text",
        data_testid="token-group",
        title=group_title(group, locale),
    )
    if single:
        bracket.hidden = True  # the chip itself shows the text
    elif group.text and all(unicodedata.category(c) in UNSEEN for c in group.text):
        bracket.classList.add("unseen")
        bracket.setAttribute("data-code-points", code_points(group.text))
    chips = make(
        "ol",
        "",
        *(
            _chip(group, token, tokens[token.position], selected, len(tokens) - 1, locale)
            for token in group.tokens
        ),
        class_="group-tokens",
    )
    item = make("li", "", bracket, chips, class_="token-group")
    item.classList.toggle("split", not single)
    item.classList.toggle("broken", bool(group.problems))
    return item


def _chip(
    group: CharacterGroup,
    token: GroupToken,
    view: TokenView,
    selected: int,
    newest: int,
    locale: str,
):
    """One token's chip; `newest`: the last position (its chip is marked if it was generated)."""
    single = len(group.tokens) == 1
    chip = make(
        "li",
        view.label if single else f"{token.part}/{len(group.tokens)}",
        class_="token",
        data_token_id=view.token_id,
        data_position=view.position,
        data_action="select-position",
        tabindex="0",
        title=chip_title(group, token, view, locale),
        aria_label=None if single else view.label,
    )
    chip.classList.toggle("generated", view.generated)
    chip.classList.toggle("special", view.special)
    chip.classList.toggle("joins", view.joins)
    chip.classList.toggle("selected", view.position == selected)
    chip.classList.toggle("newest", view.generated and view.position == newest)
    return chip


def token_detail(
    groups: list[CharacterGroup], tokens: list[TokenView], selected: int, locale: str
) -> str:
    """The details line: the selected chip's title, or how to get one."""
    for group in groups:
        for token in group.tokens:
            if token.position == selected:
                return chip_title(group, token, tokens[selected], locale)
    return text("ui.token_detail_hint", locale)


def reading_label(reading: TokenReading, locale: str):
    """A predicted token as it reads after the text (the character it completes, its bytes as
    <0xE4> when it is only the start of one), its bytes and what it completes in its title."""
    return make(
        "span",
        reading.label,
        class_="label",
        title=text("ui.list_separator", locale).join(reading_notes(reading, locale)),
    )


def reading_note(reading: TokenReading, locale: str):
    """The line under a prediction bar for a token that is not whole characters of its own
    ("first byte of a character", "completes “你”"), or None."""
    notes = reading_notes(reading, locale)[1:]  # without the bytes, which the title gives
    if not notes:
        return None
    return make("span", text("ui.list_separator", locale).join(notes), class_="char-note")
