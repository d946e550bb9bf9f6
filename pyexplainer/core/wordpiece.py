"""BERT's WordPiece tokenizer in pure Python: text -> token ids, offsets, readable labels.

Runs unchanged in CPython and Pyodide (the standard library only) and never does I/O: build it
from the text of a vocab.txt with `WordPieceTokenizer.from_vocab_text`. Its ids and offsets are
those of Hugging Face `tokenizers` for the same vocabulary and settings (the tokenizer.json of a
BertTokenizerFast, or BertWordPieceTokenizer: BertNormalizer, BertPreTokenizer, WordPiece, the
special tokens as added tokens); tests/test_wordpiece.py checks this. It has the interface of the
byte-level `pyexplainer.core.tokenizer.Tokenizer`, which every view uses.

How BERT tokenizes, in four stages:
1. The special tokens written in the text ("[SEP]") are cut out first and stay themselves.
2. The rest is normalized and split into words (core.bert_text): every CJK ideograph and every
   punctuation character is a word of its own, whitespace separates the others.
3. Each word is cut greedily into the longest pieces the vocabulary has, left to right; a piece
   that does not start the word is looked up with "##" before it ("playing" -> "play", "##ing").
   A word with no such cut, or longer than max_input_chars_per_word, is one [UNK].
4. The model's prompt prefix (uer's GPT-2 reads "[CLS]" first: it was trained so) goes in front.

Offsets are Python string indices (start, end) of the text a token comes from; a prefix token
comes from no text and spans (0, 0), as in `tokenizers`.

Readable labels: a continuation piece "##ing" is shown as "◌ing" (the dotted circle that marks a
character joining the one before it), special tokens as they are written ("[CLS]", "[UNK]").
token_bytes, for the views written for byte-level tokens, is the UTF-8 of a piece's text without
its "##" (of "[CLS]" for a special token).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pyexplainer.core.bert_text import BertTextOptions, bert_words

__all__ = ["CONTINUATION_MARK", "WordPieceTokenizer"]

CONTINUATION_MARK = "◌"  # U+25CC: in labels, in place of a continuation piece's "##"
# `tokenizers`' WordPiece decoder cleanup, in this order, in each token (with the space the join
# put before it): a space before punctuation or in an English contraction goes
_CLEANUP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" do not", " don't"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)
_CACHE_SIZE = 50_000  # entries of the word -> pieces cache


def vocab_tokens(vocab_txt: str) -> list[str]:
    """The tokens of a vocab.txt, its line numbers their ids (the export reads it so too)."""
    lines = vocab_txt.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return lines


class WordPieceTokenizer:
    """BERT WordPiece over a fixed vocabulary (a list of tokens: the id of a token is its index)."""

    def __init__(
        self,
        tokens: Sequence[str],
        *,
        text: BertTextOptions,
        unk_token: str = "[UNK]",
        special_tokens: Sequence[str] = (),
        prompt_prefix: Sequence[str] = (),
        sampled_special_tokens: Sequence[str] = (),
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
    ) -> None:
        """`special_tokens`: tokens matched whole in the text, skipped by decode; `prompt_prefix`:
        what the model reads before every text; `sampled_special_tokens`: those special tokens
        sampling may draw (the others it never does: see never_sampled)."""
        self._tokens = list(tokens)
        self._ids = {token: i for i, token in enumerate(self._tokens)}  # a duplicate: its last id
        for token in (unk_token, *special_tokens, *prompt_prefix, *sampled_special_tokens):
            if token not in self._ids:
                raise ValueError(f"the vocabulary has no token {token!r}")
        self._text, self._unk = text, self._ids[unk_token]
        self._prefix, self._max_chars = continuing_subword_prefix, max_input_chars_per_word
        self._special = {self._ids[t] for t in special_tokens}
        self._special_pattern = (
            re.compile("|".join(re.escape(t) for t in sorted(special_tokens, key=len)[::-1]))
            if special_tokens
            else None
        )
        self.prompt_prefix = tuple(self._ids[t] for t in prompt_prefix)
        sampled = {self._ids[t] for t in sampled_special_tokens}
        self.never_sampled = tuple(sorted(self._special - sampled))
        self._longest = max(map(len, self._tokens), default=1)
        self._cache: dict[str, tuple[tuple[int, int, int], ...]] = {}

    @classmethod
    def from_vocab_text(cls, vocab_txt: str, **settings) -> WordPieceTokenizer:
        """From the text of a vocab.txt (one token a line, as BertTokenizer reads it)."""
        return cls(vocab_tokens(vocab_txt), **settings)

    @property
    def vocab_size(self) -> int:
        """Number of tokens (21,128 for uer's Chinese GPT-2)."""
        return len(self._tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids the model reads for `text`: the prompt prefix, then the text's tokens.

        Raises UnicodeEncodeError for lone surrogates, which are not text (`tokenizers` refuses
        them too)."""
        return self.encode_with_offsets(text)[0]

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """encode's ids and each token's (start, end) character span in `text` (see the module's
        docstring): text[start:end] is the text a token comes from."""
        text.encode("utf-8")  # lone surrogates raise here
        ids, offsets = list(self.prompt_prefix), [(0, 0)] * len(self.prompt_prefix)
        start = 0
        for match in self._special_pattern.finditer(text) if self._special_pattern else ():
            self._encode_plain(text[start : match.start()], start, ids, offsets)
            ids.append(self._ids[match.group()])
            offsets.append(match.span())
            start = match.end()
        self._encode_plain(text[start:], start, ids, offsets)
        return ids, offsets

    def decode(self, ids: Iterable[int], *, skip_special_tokens: bool = True) -> str:
        """The text of a token sequence, as `tokenizers` decodes it (its default skips special
        tokens): tokens joined by spaces, a "##" piece joined to the token before it, and the
        decoder's cleanup in each token (" ," -> ","; so "你 好" keeps its space, as in uer's
        model card). Raises ValueError for an id outside the vocabulary."""
        pieces = []
        for token_id in ids:
            token = self._token(token_id)
            if skip_special_tokens and token_id in self._special:
                continue
            if pieces:
                joined = token.startswith(self._prefix)
                token = token[len(self._prefix) :] if joined else " " + token
            for dirty, clean in _CLEANUP:
                token = token.replace(dirty, clean)
            pieces.append(token)
        return "".join(pieces)

    def token_bytes(self, token_id: int) -> bytes:
        """The UTF-8 of the token's text, without the "##" of a continuation piece."""
        return self._readable(token_id).encode("utf-8")

    def token_labels(self, ids: Iterable[int]) -> list[str]:
        """A readable label for each token: its text, a continuation piece's "##" written as
        CONTINUATION_MARK ("##们" -> "◌们"), special tokens as they are ("[CLS]")."""
        labels = []
        for token_id in ids:
            text = self._readable(token_id)
            labels.append(text if text == self._token(token_id) else CONTINUATION_MARK + text)
        return labels

    def is_special(self, token_id: int) -> bool:
        """Whether the token is one of the special tokens ("[CLS]", "[UNK]", ...). Raises
        ValueError for an id outside the vocabulary."""
        self._token(token_id)
        return token_id in self._special

    def continues_word(self, token_id: int) -> bool:
        """Whether the token is a continuation piece ("##们"), joined to the token before it."""
        return not self.is_special(token_id) and self._token(token_id).startswith(self._prefix)

    def _token(self, token_id: int) -> str:
        if not 0 <= token_id < len(self._tokens):
            raise ValueError(f"token id {token_id} is outside 0 .. {len(self._tokens) - 1}")
        return self._tokens[token_id]

    def _readable(self, token_id: int) -> str:
        token = self._token(token_id)
        if token_id in self._special or not token.startswith(self._prefix):
            return token
        return token[len(self._prefix) :]

    def _encode_plain(
        self, text: str, start: int, ids: list[int], offsets: list[tuple[int, int]]
    ) -> None:
        """Append the tokens of `text` (no special token in it), which begins at index `start`."""
        for word, origins in bert_words(text, self._text):
            for token_id, first, last in self._word_pieces(word):
                ids.append(token_id)
                offsets.append((start + origins[first], start + origins[last] + 1))

    def _word_pieces(self, word: str) -> tuple[tuple[int, int, int], ...]:
        """(id, first character, last character) of each piece of `word`, through the cache."""
        pieces = self._cache.get(word)
        if pieces is None:
            pieces = self._greedy_pieces(word)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[word] = pieces
        return pieces

    def _greedy_pieces(self, word: str) -> tuple[tuple[int, int, int], ...]:
        """Longest match first, left to right; the whole word one [UNK] where that fails."""
        whole = ((self._unk, 0, len(word) - 1),)
        if len(word) > self._max_chars:
            return whole
        pieces, start = [], 0
        while start < len(word):
            lead = self._prefix if start else ""
            for end in range(min(len(word), start + self._longest), start, -1):
                token_id = self._ids.get(lead + word[start:end])
                if token_id is not None:
                    pieces.append((token_id, start, end - 1))
                    start = end
                    break
            else:
                return whole
        return tuple(pieces)
