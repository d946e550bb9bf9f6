"""The prompt as the model sees it: one entry per token."""

from __future__ import annotations

import dataclasses

from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.views.characters import character_groups


@dataclasses.dataclass(frozen=True)
class TokenView:
    position: int
    token_id: int
    label: str  # readable in context: "今 1/2" for the first of 今's two tokens (views.characters)
    start: int  # character span in the text (-1, -1 for generated tokens)
    end: int
    generated: bool


def token_views(
    tokenizer: Tokenizer, text: str, prompt_ids: list[int], generated_ids: list[int]
) -> list[TokenView]:
    """Tokens of the prompt (with their character spans in `text`) and of what was generated."""
    ids, offsets = tokenizer.encode_with_offsets(text)
    if ids != prompt_ids:
        raise ValueError("prompt_ids are not the tokens of text")
    labels = [
        group.token_label(token)
        for group in character_groups(tokenizer, prompt_ids + generated_ids)
        for token in group.tokens
    ]
    views = [
        TokenView(i, t, labels[i], s, e, False)
        for i, (t, (s, e)) in enumerate(zip(prompt_ids, offsets, strict=True))
    ]
    n = len(prompt_ids)
    views += [TokenView(n + i, t, labels[n + i], -1, -1, True) for i, t in enumerate(generated_ids)]
    return views
