"""Tokens read as characters: which consecutive tokens together spell whole UTF-8 characters.

GPT-2's tokens are byte strings, and its byte-level BPE often splits a character's UTF-8 bytes
over several tokens: 今 (E4 BB 8A) is the tokens E4 BB and 8A, 😀 after a space is " F0 9F 98"
and 80. A few tokens even hold the end of one character and the start of the next (9A E9 is the
end of 覚 and the start of 醒). This module works on the bytes alone, never on spans in the
prompt, so that generated tokens (which have no span) are read the same way.

- A *piece* is one character of the joined bytes, or a run of bytes that is none: the start of a
  character cut off by the end of the text ("unfinished": the next token may complete it) or by
  a byte that does not continue it ("incomplete"), or a byte no character starts with ("stray").
  Pieces are those of Python's UTF-8 decoder (its errors are the maximal invalid runs).
- A *group* is the shortest run of consecutive tokens whose bytes begin and end between pieces:
  a token that is a whole character (or several) on its own is a group of one; 今's two tokens
  are one group; tokens that share a character chain, so 覚醒 (E8 A6 | 9A E9 | 86 92) is one group
  of three tokens reading 覚醒. The groups' texts joined are the text.
- A character is a code point, not a grapheme cluster: the family 👨‍👩‍👧 is five groups (three
  people and two zero-width joiners), a flag 🇨🇳 two (its two regional indicators). A group
  shows what its tokens spell; one bracket per code point shows where each part's bytes went.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.wordpiece import CONTINUATION_MARK
from pyexplainer.messages import text

# What a piece that is no character is.
UNFINISHED = "unfinished"  # a character's first bytes at the end of the text: more may come
INCOMPLETE = "incomplete"  # a character's first bytes followed by a byte that does not continue it
STRAY = "stray"  # a byte no character starts with (a continuation byte with no start, FF, ...)
UNFINISHED_MAX = 3  # bytes: a 4-byte character less its last


@dataclasses.dataclass(frozen=True)
class Piece:
    text: str  # the character; "" when the bytes are none (see `problem`)
    data: bytes
    problem: str = ""  # "", UNFINISHED, INCOMPLETE or STRAY

    @property
    def label(self) -> str:
        """The character, or each byte as <0xE4> (as Tokenizer.token_labels writes them)."""
        return self.text or _hex_label(self.data)

    @property
    def needed(self) -> int:
        """How many bytes the character that the first byte starts has (0 for a stray byte)."""
        return utf8_length(self.data[0])


@dataclasses.dataclass(frozen=True)
class GroupToken:
    position: int
    token_id: int
    data: bytes
    part: int  # 1-based, within its group

    @property
    def hex(self) -> str:
        return hex_bytes(self.data)


@dataclasses.dataclass(frozen=True)
class CharacterGroup:
    tokens: tuple[GroupToken, ...]
    pieces: tuple[Piece, ...]  # what the tokens' bytes together read as, in order

    @property
    def text(self) -> str:
        """The whole characters the tokens spell (decode of their bytes, without any broken
        piece)."""
        return "".join(p.text for p in self.pieces)

    @property
    def label(self) -> str:
        """What the group reads as: its characters, and any broken piece as <0xE4> bytes."""
        return "".join(p.label for p in self.pieces)

    @property
    def problems(self) -> tuple[Piece, ...]:
        return tuple(p for p in self.pieces if p.problem)

    def token_label(self, token: GroupToken) -> str:
        """A token's label in its context: its own text for a group of one, else the group's
        reading and which part the token is ("今 1/2")."""
        if len(self.tokens) == 1:
            return self.label
        return f"{self.label} {token.part}/{len(self.tokens)}"


@dataclasses.dataclass(frozen=True)
class TokenReading:
    """What one token (a prediction, a lens cell) reads as, written after the text so far."""

    label: str  # the characters it completes or holds, broken pieces as <0xE4>
    data: bytes  # the token's own bytes
    pending: bytes  # the text's unfinished character it was read after (b"" if none)
    completes: Piece | None  # the text's unfinished character this token finishes, if it does
    leaves_unfinished: Piece | None  # the text's unfinished character, if this token cuts it off
    problems: tuple[Piece, ...]  # broken pieces among the token's own bytes

    @property
    def hex(self) -> str:
        return hex_bytes(self.data)


def hex_bytes(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def utf8_length(first_byte: int) -> int:
    """The length of the UTF-8 character `first_byte` starts: 1 to 4, or 0 if no character
    starts with it (continuation bytes 80-BF, and C0, C1, F5-FF, which UTF-8 never uses)."""
    if first_byte < 0x80:
        return 1
    if 0xC2 <= first_byte <= 0xDF:
        return 2
    if 0xE0 <= first_byte <= 0xEF:
        return 3
    if 0xF0 <= first_byte <= 0xF4:
        return 4
    return 0


def pieces(data: bytes) -> list[Piece]:
    """The characters of `data` and the runs of bytes that are none, in order; their bytes joined
    are `data`. A broken run reaching the end of `data` is UNFINISHED when it is the start of a
    character (the next bytes may complete it)."""
    out: list[Piece] = []
    start = 0
    while start < len(data):
        try:
            valid, bad = data[start:].decode("utf-8"), None
        except UnicodeDecodeError as error:
            valid = data[start : start + error.start].decode("utf-8")
            bad = data[start + error.start : start + error.end]
        out.extend(Piece(c, c.encode("utf-8")) for c in valid)
        start += len(valid.encode("utf-8"))
        if bad is not None:
            start += len(bad)
            out.append(Piece("", bad, _problem(bad, at_end=start == len(data))))
    return out


def _problem(bad: bytes, *, at_end: bool) -> str:
    if utf8_length(bad[0]) == 0:
        return STRAY
    return UNFINISHED if at_end else INCOMPLETE


def character_groups(tokenizer: Tokenizer, ids: Sequence[int]) -> list[CharacterGroup]:
    """The tokens `ids` (at positions 0, 1, ...) grouped by the characters they spell (see the
    module docstring)."""
    datas = [tokenizer.token_bytes(i) for i in ids]
    read = pieces(b"".join(datas))
    groups: list[CharacterGroup] = []
    members: list[tuple[int, bytes]] = []
    grouped: list[Piece] = []
    piece_end, k = 0, 0  # bytes up to the end of the pieces taken so far; the next piece
    token_end, position = 0, 0  # bytes so far; the group's first position
    for token_id, data in zip(ids, datas, strict=True):
        members.append((token_id, data))
        token_end += len(data)
        while piece_end < token_end:  # take every piece that starts inside this token
            grouped.append(read[k])
            piece_end += len(read[k].data)
            k += 1
        if piece_end == token_end:  # between two pieces: the group ends here
            tokens = tuple(
                GroupToken(position + n, i, d, n + 1) for n, (i, d) in enumerate(members)
            )
            groups.append(CharacterGroup(tokens, tuple(grouped)))
            position += len(members)
            members, grouped = [], []
    return groups


def unfinished_tail(tokenizer: Tokenizer, ids: Sequence[int]) -> bytes:
    """The bytes of the character the tokens `ids` end inside of (b"" if they end between
    characters): what a next token may complete. Only the text's last bytes are read: an
    unfinished character is at most 3 bytes, and its first byte starts a new piece whatever
    comes before it (on every slider move and lens position, not the whole text)."""
    tail = b""
    for i in reversed(ids):
        if len(tail) >= UNFINISHED_MAX:
            break
        tail = tokenizer.token_bytes(i) + tail
    read = pieces(tail[-UNFINISHED_MAX:])
    return read[-1].data if read and read[-1].problem == UNFINISHED else b""


def token_reading(data: bytes, pending: bytes = b"") -> TokenReading:
    """What the token bytes `data` read as after a text ending in the unfinished character
    `pending` (unfinished_tail): the character it completes, or its own pieces."""
    read = pieces(pending + data)
    offset, crossing = 0, None
    while read and offset < len(pending):  # the pieces that begin in `pending`
        first = read.pop(0)
        offset += len(first.data)
        if offset > len(pending):  # it holds `pending` and this token's first bytes
            crossing = first
    labels = [p.label for p in read]
    if crossing is not None:
        labels.insert(0, crossing.text or _hex_label(data[: offset - len(pending)]))
    return TokenReading(
        label="".join(labels),
        data=data,
        pending=pending,
        completes=crossing if crossing is not None and not crossing.problem else None,
        leaves_unfinished=Piece("", pending, INCOMPLETE) if pending and crossing is None else None,
        problems=tuple(p for p in [crossing, *read] if p is not None and p.problem),
    )


def read_token(tokenizer: Tokenizer, token_id: int, pending: bytes = b"") -> TokenReading:
    """token_reading of a vocabulary token; a continuation piece of a WordPiece vocabulary
    ("##们", whose bytes are 们's) is labelled as joining the text before it: "◌们"."""
    reading = token_reading(tokenizer.token_bytes(token_id), pending)
    return dataclasses.replace(reading, label=marked(tokenizer, token_id, reading.label))


def marked(tokenizer: Tokenizer, token_id: int, label: str) -> str:
    """`label` with CONTINUATION_MARK before it if the token continues the word before it."""
    return CONTINUATION_MARK + label if tokenizer.continues_word(token_id) else label


def _hex_label(data: bytes) -> str:
    return "".join(f"<0x{b:02X}>" for b in data)


# --- What the page says of them, in the page's language -----------------------------------------


def piece_note(piece: Piece, locale: str) -> str:
    """What a broken piece is: "first byte of a character", "incomplete character", ..."""
    have = len(piece.data)
    if piece.problem == STRAY:
        return text("chars.stray", locale, hex=hex_bytes(piece.data))
    key = "chars.incomplete" if piece.problem == INCOMPLETE else "chars.first_bytes"
    if piece.problem == UNFINISHED and have == 1:
        key = "chars.first_byte"
    return text(key, locale, have=have, needed=piece.needed)


def code_points(characters: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in characters)


def group_title(group: CharacterGroup, locale: str) -> str:
    """The bracket's title: what the tokens spell, its code points and the tokens' ids."""
    ids = text("ui.list_separator", locale).join(str(t.token_id) for t in group.tokens)
    title = text(
        "chars.group_title",
        locale,
        label=group.label,
        code_points=code_points(group.text) or hex_bytes(b"".join(t.data for t in group.tokens)),
        parts=len(group.tokens),
        ids=ids,
    )
    return "\n".join([title, *(piece_note(p, locale) for p in group.problems)])


def token_notes(group: CharacterGroup, token: GroupToken, locale: str) -> list[str]:
    """A chip's bytes, which part of its group it is, and what is broken in the group."""
    notes = [text("chars.bytes", locale, hex=token.hex)]
    if len(group.tokens) > 1:
        notes.append(
            text("chars.part", locale, part=token.part, parts=len(group.tokens), label=group.label)
        )
    return notes + [piece_note(p, locale) for p in group.problems]


def reading_notes(reading: TokenReading, locale: str) -> list[str]:
    """A predicted token's bytes, the character it completes or leaves unfinished, and what of
    it is no whole character ("first byte of a character")."""
    notes = [text("chars.bytes", locale, hex=reading.hex)]
    if reading.completes is not None:
        completing = reading.completes.data[len(reading.pending) :]
        notes.append(
            text(
                "chars.completes",
                locale,
                character=reading.completes.text,
                before=hex_bytes(reading.pending),
                hex=hex_bytes(completing),
            )
        )
    if reading.leaves_unfinished is not None:
        notes.append(
            text("chars.leaves_unfinished", locale, hex=hex_bytes(reading.leaves_unfinished.data))
        )
    return notes + [piece_note(p, locale) for p in reading.problems]
