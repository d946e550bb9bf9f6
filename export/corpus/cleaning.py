"""Plain prose out of raw paragraphs: whitespace collapsed, and headings, captions, code, paths
and link lists dropped (is_prose), as every parser's output goes into the corpus."""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_WORDS = 6  # paragraphs shorter than this are headings, captions or boilerplate
MIN_PROSE = 0.5  # paragraphs with fewer plain words than this are code, paths or link lists
_PLAIN_WORD = re.compile(r"^[(\"“‘']?[A-Za-z][a-z'’-]*[)\"”’',.;:!?]*$")


SHORT_WORDS = 12  # a paragraph this short must end like a sentence, else it is a heading


def is_prose(words: list[str], min_words: int = MIN_WORDS) -> bool:
    """Long enough, mostly plain words (not identifiers, paths and symbols), and, when short,
    ending like a sentence rather than a heading."""
    if len(words) < min_words:
        return False
    if len(words) < SHORT_WORDS and not words[-1].endswith(tuple('.!?:;"”’)')):
        return False
    plain = sum(1 for w in words if _PLAIN_WORD.match(w))
    return plain >= MIN_PROSE * len(words)


def clean_paragraphs(paragraphs: Iterable[str], min_words: int = MIN_WORDS) -> list[str]:
    """Collapse whitespace inside each paragraph and drop what is not prose."""
    kept = []
    for paragraph in paragraphs:
        words = paragraph.split()
        if is_prose(words, min_words):
            kept.append(" ".join(words))
    return kept


def join_document(paragraphs: Iterable[str], min_words: int = MIN_WORDS) -> str:
    """Cleaned paragraphs separated by blank lines ('' when nothing is left)."""
    return "\n\n".join(clean_paragraphs(paragraphs, min_words))
