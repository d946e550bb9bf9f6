"""The prompt as the model sees it: one entry per token."""

from __future__ import annotations

import dataclasses

from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.views.characters import CharacterGroup, character_groups, marked


@dataclasses.dataclass(frozen=True)
class TokenView:
    position: int
    token_id: int
    label: str  # readable in context: "今 1/2" for the first of 今's two tokens (views.characters),
    # "◌们" for a WordPiece continuation piece
    start: int  # character span in the text (-1, -1 for generated tokens; 0, 0 for a prefix)
    end: int
    generated: bool
    special: bool = False  # a special token: "[CLS]" the model reads first, "[SEP]" typed, ...
    joins: bool = False  # a continuation piece ("##们"): written joined to the token before it


def token_views(
    tokenizer: Tokenizer,
    text: str,
    prompt_ids: list[int],
    generated_ids: list[int],
    groups: list[CharacterGroup] | None = None,
) -> list[TokenView]:
    """Tokens of the prompt (with their character spans in `text`) and of what was generated;
    `groups`: their character_groups, when the caller has them already."""
    ids, offsets = tokenizer.encode_with_offsets(text)
    if ids != prompt_ids:
        raise ValueError("prompt_ids are not the tokens of text")
    ids = prompt_ids + generated_ids
    labels = [
        marked(tokenizer, token.token_id, group.token_label(token))
        for group in groups or character_groups(tokenizer, ids)
        for token in group.tokens
    ]
    spans = offsets + [(-1, -1)] * len(generated_ids)
    return [
        TokenView(
            i,
            t,
            labels[i],
            *spans[i],
            generated=i >= len(prompt_ids),
            special=tokenizer.is_special(t),
            joins=tokenizer.continues_word(t),
        )
        for i, t in enumerate(ids)
    ]
