"""A text too long for the model's context, cut to its last tokens that fit.

The page keeps a text and its tokens together (a token's span in the text, a link that holds the
text), so the cut is made in the text, at the start of a token, and the end of the text is
tokenized again: an end can tokenize differently from the same characters after what came
before (x..'s is x | .. | ' | s, while 's alone is one token), so the tokens kept are those of
the text kept.
"""

from __future__ import annotations

import dataclasses

from pyexplainer.core.tokenizer import Tokenizer


@dataclasses.dataclass(frozen=True)
class FittedText:
    text: str  # the end of the text, from the start of one of its tokens
    ids: list[int]  # the tokens of `text`: at most the context's length
    dropped: int  # tokens of the whole text before the cut


def last_tokens_that_fit(tokenizer: Tokenizer, text: str, n_positions: int) -> FittedText:
    """The end of `text` from the start of one of its tokens, with at most n_positions tokens,
    such that the end from the token before would have more. ValueError if not even the last
    token fits. The model's prompt prefix ([CLS]) comes with every text: it is never cut."""
    ids, offsets = tokenizer.encode_with_offsets(text)
    n_prefix = len(tokenizer.prompt_prefix)

    def end_from(first: int) -> FittedText | None:
        """The end from token `first` (from its first character: tokens of one character, such
        as 你's bytes, start at the same place), if it fits."""
        end = text[offsets[first][0] :]
        kept = tokenizer.encode(end)
        return FittedText(end, kept, first - n_prefix) if len(kept) <= n_positions else None

    first = max(n_prefix, len(ids) - n_positions)
    while first < len(ids) and (fitted := end_from(first)) is None:
        first += 1
    if first == len(ids):
        raise ValueError(f"not even the last token of the text fits a context of {n_positions}")
    # 's: one token, not two
    while first > n_prefix and (earlier := end_from(first - 1)) is not None:
        fitted, first = earlier, first - 1
    return fitted
