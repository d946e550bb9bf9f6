"""The prose of the other formats the corpus reads: OSIS XML and SWORD zText blocks (the Bible),
the KJV as the `bible` program prints it, the Jargon File's entries and WordNet's glosses."""

from __future__ import annotations

import html
import re
import struct
import zlib

_OSIS_DROP = re.compile(r"<(note|title)\b[^>]*?(?<!/)>.*?</\1>", re.S)
_OSIS_BREAK = re.compile(
    r"<(?:div|chapter|lg|p|list|item)\b[^>]*>|</(?:div|chapter|lg|p|list|item)>"
    r"|<milestone\b[^>]*type=\"x-p\"[^>]*/>"
)


def osis_to_paragraphs(xml: str) -> list[str]:
    """Raw paragraphs of OSIS markup: notes and headings dropped, divisions become breaks."""
    text = _OSIS_DROP.sub(" ", xml)
    text = _OSIS_BREAK.sub("\n\n", text)
    text = re.sub(r"<[^>]*>", " ", text)  # words (<w lemma=...>), lines, names: keep the text
    text = html.unescape(text)
    # Removing tags leaves spaces before punctuation ("word ,"); put them back.
    text = re.sub(r"[ \t]+([,.;:!?’”)])", r"\1", text)
    text = re.sub(r"([“‘(])[ \t]+", r"\1", text)
    return re.split(r"\n\s*\n", text)


def sword_ztext_blocks(index: bytes, data: bytes) -> list[str]:
    """Decompress the blocks of a SWORD zText testament (.bzs index, .bzz data).

    The .bzs file is a little-endian array of (offset, compressed size, uncompressed size);
    each block is zlib-compressed UTF-8 OSIS. With BlockType=BOOK one block is one book.
    """
    blocks = []
    for i in range(0, len(index), 12):
        offset, size, _ = struct.unpack_from("<III", index, i)
        blocks.append(zlib.decompress(data[offset : offset + size]).decode("utf-8"))
    return blocks


_KJV_VERSE = re.compile(r"^([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)$")


def kjv_chapters(bible_output: str) -> list[str]:
    """Group `bible` program output ('Ge1:1 In the beginning...') into one paragraph per chapter."""
    chapters: dict[tuple[str, str], list[str]] = {}
    for line in bible_output.splitlines():
        verse = _KJV_VERSE.match(line)
        if verse:
            chapters.setdefault((verse.group(1), verse.group(2)), []).append(verse.group(4))
        elif line.strip() and chapters:
            next(reversed(chapters.values())).append(line.strip())  # wrapped continuation
    return [" ".join(verses) for verses in chapters.values()]


_JARGON_ENTRY = re.compile(r"^:([^:]+):\s*(.*)$", re.S)


def jargon_paragraphs(text: str) -> list[str]:
    """Raw paragraphs of the Jargon File text: entry headwords are folded into their first
    paragraph ('crumb (n.): Two binary digits') and {cross-reference} braces dropped."""
    paragraphs = []
    headword = ""
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split()).replace("{", "").replace("}", "")
        entry = _JARGON_ENTRY.match(block)
        if entry:
            word, rest = entry.groups()
            headword = f"{word} ({rest.strip(' ,')})" if rest.strip(" ,") else word
            continue
        if headword:
            block = f"{headword}: {block}"
            headword = ""
        paragraphs.append(block)
    return paragraphs


_WORDNET_POS = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}


def wordnet_glosses(data_file: str) -> list[str]:
    """One line per synset of a WordNet data.* file: 'dog, domestic dog (noun): a member of...'.

    A data line is 'offset lex_filenum ss_type w_cnt(hex) word lex_id ... | gloss';
    lines starting with two spaces are the licence header.
    """
    lines = []
    for line in data_file.splitlines():
        if line.startswith("  ") or "|" not in line:
            continue
        fields, gloss = line.split("|", 1)
        parts = fields.split()
        pos = _WORDNET_POS[parts[2]]
        count = int(parts[3], 16)
        words = [re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).replace("_", " ") for i in range(count)]
        lines.append(f"{', '.join(words)} ({pos}): {gloss.strip()}")
    return lines


# ---------------------------------------------------------------------------
