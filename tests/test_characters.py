"""Tokens read as characters (views/characters.py), against Python's own UTF-8 codec.

The references: the characters of a text and each one's `str.encode` length (where a group may
end), `bytes.decode` with errors="replace" (what the bytes read as; one U+FFFD per broken run)
and the incremental decoder's buffer (the unfinished character at the end), with token ids from
Hugging Face `tokenizers` over the GPT-2 vocabulary the repo ships (models/demo).
"""

import codecs
from itertools import accumulate

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.views.characters import (
    INCOMPLETE,
    STRAY,
    UNFINISHED,
    character_groups,
    group_title,
    piece_note,
    pieces,
    reading_notes,
    token_notes,
    token_reading,
    unfinished_tail,
)
from pyexplainer.views.tokens import token_views
from tests.conftest import VOCAB_DIR, hf_gpt2_tokenizer

TEXTS = [
    "今天天气很好",
    "你好，世界 👩‍💻",
    "数据可视化 helps students",
    "我喜欢吃苹果。",
    "日本語のテキスト",
    "召喚士",  # 96 9A E5 A3 AB is one token: the end of 喚 and all of 士
    "ペ退",  # 9A E9: the end of ペ and the start of 退
    "👨‍👩‍👧 family",  # a ZWJ sequence: three people and two joiners, five code points
    "🇨🇳🇯🇵 flags",  # regional indicators, two per flag
    "👍🏽 e\u0301 😀😀",  # a skin-tone modifier, a combining accent
    "plain English, nothing split",
    "",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    vocab = (VOCAB_DIR / "vocab.json").read_text("utf-8")
    return Tokenizer.from_strings(vocab, (VOCAB_DIR / "merges.txt").read_text("utf-8"))


@pytest.fixture(scope="module")
def hf():
    return hf_gpt2_tokenizer()


def expected_groups(text: str, token_lengths: list[int]) -> list[tuple[str, int]]:
    """(text, number of tokens) of each group: a group ends where a token ends on a character
    boundary of the text, from the characters' own UTF-8 lengths."""
    chars_before = {end: k + 1 for k, end in enumerate(accumulate(len(c.encode()) for c in text))}
    groups, first_token, first_char = [], 0, 0
    for n, end in enumerate(accumulate(token_lengths)):
        if end in chars_before:
            groups.append((text[first_char : chars_before[end]], n + 1 - first_token))
            first_token, first_char = n + 1, chars_before[end]
    return groups


def check_text(tokenizer: Tokenizer, hf, text: str) -> list:
    ids = hf.encode(text).ids
    groups = character_groups(tokenizer, ids)
    lengths = [len(tokenizer.token_bytes(i)) for i in ids]
    assert [(g.label, len(g.tokens)) for g in groups] == expected_groups(text, lengths)
    assert "".join(g.label for g in groups) == text
    assert all(g.text == g.label and not g.problems for g in groups)
    assert [t.token_id for g in groups for t in g.tokens] == ids  # the chips, in order
    assert [t.position for g in groups for t in g.tokens] == list(range(len(ids)))
    for g in groups:
        assert [t.part for t in g.tokens] == list(range(1, len(g.tokens) + 1))
        joined = b"".join(t.data for t in g.tokens)
        assert joined.decode("utf-8") == g.text  # the group's bytes are whole characters
        assert [t.hex for t in g.tokens] == [t.data.hex(" ").upper() for t in g.tokens]
    return groups


@pytest.mark.parametrize("text", TEXTS)
def test_every_character_is_in_exactly_one_group(tokenizer, hf, text):
    check_text(tokenizer, hf, text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=40))
@example("\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1")
def test_groups_of_any_text(tokenizer, hf, text):
    check_text(tokenizer, hf, text)


def test_chinese_prompt_reads_as_its_six_characters(tokenizer, hf):
    groups = check_text(tokenizer, hf, "今天天气很好")
    assert [(g.label, len(g.tokens)) for g in groups] == [
        ("今", 2), ("天", 1), ("天", 1), ("气", 2), ("很", 2), ("好", 2),
    ]  # fmt: skip
    first = groups[0]
    assert [t.hex for t in first.tokens] == ["E4 BB", "8A"]
    assert [first.token_label(t) for t in first.tokens] == ["今 1/2", "今 2/2"]
    assert groups[1].token_label(groups[1].tokens[0]) == "天"  # a group of one: the token


def test_a_token_holding_two_characters_chains_them_into_one_group(tokenizer, hf):
    groups = check_text(tokenizer, hf, "召喚士")
    assert [(g.label, [t.hex for t in g.tokens]) for g in groups] == [
        ("召", ["E5 8F", "AC"]),
        ("喚士", ["E5", "96 9A E5 A3 AB"]),
    ]


def test_emoji_are_code_points_a_flag_two_a_family_five(tokenizer, hf):
    flag = check_text(tokenizer, hf, "🇨🇳")
    assert [g.label for g in flag] == ["🇨", "🇳"]
    family = check_text(tokenizer, hf, "👨‍👩‍👧")
    assert [g.label for g in family] == ["👨", "\u200d", "👩", "\u200d", "👧"]


def test_token_views_label_each_token_in_its_group(tokenizer):
    text = "今天 ok"
    views = token_views(tokenizer, text, tokenizer.encode(text), tokenizer.encode("好"))
    assert [v.label for v in views] == ["今 1/2", "今 2/2", "天", " ok", "好 1/2", "好 2/2"]


def random_token_sequences():
    """Token ids whose bytes together need not be text, as generation may give."""
    return st.lists(st.integers(0, 50256), max_size=12)


@settings(max_examples=400, deadline=None)
@given(random_token_sequences())
@example([20015])  # E4 BB at the end: the first 2 of 今's 3 bytes
@example([20015, 64])  # E4 BB then "a": 今 never completed
@example([232, 64])  # 8A with nothing before it
@example([47249])  # F0 9F 98 at the end: the first 3 of 😀's 4 bytes, one token
@example([222, 172, 253, 246])  # 80 with nothing before it, then F0 9F 98 a byte a token
def test_groups_of_any_tokens_split_only_where_the_reading_does_not_change(tokenizer, ids):
    datas = [tokenizer.token_bytes(i) for i in ids]
    data = b"".join(datas)
    groups = character_groups(tokenizer, ids)
    assert [t.token_id for g in groups for t in g.tokens] == ids
    group_bytes = [b"".join(t.data for t in g.tokens) for g in groups]
    assert [b"".join(p.data for p in g.pieces) for g in groups] == group_bytes
    # Between groups the bytes read the same apart as together; inside a group they do not.
    assert "".join(b.decode("utf-8", "replace") for b in group_bytes) == data.decode(
        "utf-8", "replace"
    )
    for g in groups:
        parts = [t.data for t in g.tokens]
        for k in range(1, len(parts)):
            left, right = b"".join(parts[:k]), b"".join(parts[k:])
            together = (left + right).decode("utf-8", "replace")
            assert left.decode("utf-8", "replace") + right.decode("utf-8", "replace") != together
    read = [p for g in groups for p in g.pieces]
    assert "".join(p.text or "\ufffd" for p in read) == data.decode("utf-8", "replace")
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    decoder.decode(data, final=False)
    buffered = decoder.getstate()[0]  # the bytes of a character the decoder still waits for
    assert unfinished_tail(tokenizer, ids) == buffered
    assert [p.data for p in read if p.problem == UNFINISHED] == ([buffered] if buffered else [])


def test_broken_pieces_say_what_they_are():
    (alone,) = pieces(b"\xe4")
    assert (alone.problem, alone.needed) == (UNFINISHED, 3)
    first = pieces(b"\xe4\xbd")[0]
    assert (first.problem, len(first.data), first.needed) == (UNFINISHED, 2, 3)
    cut, letter = pieces(b"\xe4\xbda")
    assert (cut.problem, cut.label, letter.text) == (INCOMPLETE, "<0xE4><0xBD>", "a")
    stray, char = pieces(b"\xa0\xe4\xbd\xa0")
    assert (stray.problem, stray.needed, char.text) == (STRAY, 0, "你")


def test_alone_a_token_reads_as_the_tokenizer_labels_it(tokenizer):
    ids = list(range(tokenizer.vocab_size))
    labels = tokenizer.token_labels(ids)
    assert [token_reading(tokenizer.token_bytes(i)).label for i in ids] == labels


def test_after_an_unfinished_character_a_token_reads_as_the_character_it_completes(tokenizer, hf):
    start = hf.encode("你").ids[:-1]
    pending = unfinished_tail(tokenizer, start)
    assert pending == "你".encode()[:2]
    reading = token_reading(tokenizer.token_bytes(hf.encode("你").ids[-1]), pending)
    assert (reading.label, reading.hex, reading.completes.text) == ("你", "A0", "你")
    for token_id in range(tokenizer.vocab_size):
        data = tokenizer.token_bytes(token_id)
        reading = token_reading(data, pending)
        together = (pending + data).decode("utf-8", "replace")
        completed = together[0] if together[0] != "\ufffd" else None
        assert (reading.completes.text if reading.completes else None) == completed
        if completed:
            assert (
                reading.label
                == (pending + data).decode("utf-8", "replace")[0] + token_reading(data[1:]).label
            )
        elif not data[0] & 0x80 or data[0] >= 0xC0:  # it starts anew: the character stays cut
            assert reading.leaves_unfinished.data == pending
            assert reading.label == token_reading(data).label


def test_a_predicted_first_byte_says_it_is_one(tokenizer):
    reading = token_reading(b"\xe4")
    (piece,) = reading.problems
    assert (piece.problem, len(piece.data), piece.needed) == (UNFINISHED, 1, 3)
    then = token_reading(b"\xbd", b"\xe4")  # its second byte: 2 of 3 now
    (piece,) = then.problems
    assert (then.label, piece.problem, len(piece.data), piece.needed) == (
        "<0xBD>",
        UNFINISHED,
        2,
        3,
    )


def test_notes_name_the_bytes_the_character_completed_and_a_first_byte():
    completing = token_reading(b"\x9a\xe9", b"\xe8\xa6")  # the end of 覚, the start of another
    assert reading_notes(completing, "en") == [
        "bytes 9A E9",
        "completes “覚”: E8 A6 before it, then 9A",
        "first byte of a character (of 3 bytes)",
    ]
    assert reading_notes(token_reading(b" the", b"\xe4"), "zh-CN")[1] == (
        "文本末尾未完成的字符（E4）仍不完整"
    )
    assert piece_note(pieces(b"\xf0\x9f")[0], "en") == "first 2 of 4 bytes of a character"
    assert piece_note(pieces(b"\xe4a")[0], "en") == "incomplete character: 1 of its 3 bytes"
    assert piece_note(pieces(b"\xa0")[0], "en") == "byte A0 belongs to no character"


def test_a_group_title_gives_code_points_and_ids(tokenizer, hf):
    ids = hf.encode("今").ids
    (group,) = character_groups(tokenizer, ids)
    assert group_title(group, "en") == f"“今” (U+4ECA): 2 tokens, ids {ids[0]}, {ids[1]}"
    assert token_notes(group, group.tokens[1], "en") == ["bytes 8A", "part 2 of 2 of “今”"]


def test_lens_cells_and_bars_read_their_token_after_the_text_so_far(tokenizer, hf):
    import numpy as np

    from pyexplainer.core.lens import LogitLens
    from pyexplainer.views.logit_lens import logit_lens_view
    from pyexplainer.views.predictions import SamplingSettings, predictions

    start, end = hf.encode("你").ids  # E4 BD | A0
    tokens = token_views(
        tokenizer, "今", hf.encode("今").ids, [start]
    )  # generated: 你's first bytes
    ids = np.full((2, len(tokens), 1), end)  # every cell guesses A0
    lens = LogitLens(np.ones(ids.shape, np.float32), ids, 0)
    row = logit_lens_view(lens, tokenizer, tokens).cells[-1]
    # After 今's first token E4 BB, A0 completes another character; after the whole 今 it is a
    # byte of no character; after 今 and E4 BD it completes 你.
    assert [c.labels[0] for c in row] == [b"\xe4\xbb\xa0".decode(), "<0xA0>", "你"]
    logits = np.zeros(tokenizer.vocab_size, np.float32)
    logits[end] = 10.0
    top = predictions(tokenizer, logits, SamplingSettings(), 1, pending=b"\xe4\xbd")[0]
    assert (top.token_id, top.label, top.reading.completes.text) == (end, "你", "你")
