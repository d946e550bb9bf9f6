"""The pure-Python GPT-2 tokenizer against Hugging Face `tokenizers` (the oracle) on the same files.

The fuzz set is made by a seeded generator below: prompts in English and Chinese, random Unicode
from every plane, emoji sequences, combining marks, control characters, whitespace runs, digits,
contractions and words of thousands of characters.
"""

import hashlib
import random
import re
import string
from itertools import pairwise

import pytest
from tokenizers import Regex, normalizers
from tokenizers import Tokenizer as HFTokenizer

from pyexplainer.core.tokenizer import _STAND_INS, Tokenizer, word_spans
from tests.conftest import VOCAB_DIR, hf_gpt2_tokenizer

VOCAB_SHA256 = {
    "vocab.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "merges.txt": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}
FUZZ_SEED = 20240607
FUZZ_COUNT = 6000


@pytest.fixture(scope="module")
def vocab_texts() -> tuple[str, str]:
    """(vocab.json, merges.txt) as text, checked against their pinned sha256."""
    texts = []
    for name, digest in VOCAB_SHA256.items():
        data = (VOCAB_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} is not GPT-2's"
        texts.append(data.decode("utf-8"))
    return texts[0], texts[1]


@pytest.fixture(scope="module")
def tokenizer(vocab_texts) -> Tokenizer:
    return Tokenizer.from_strings(*vocab_texts)


@pytest.fixture(scope="module")
def oracle(vocab_texts) -> HFTokenizer:
    return hf_gpt2_tokenizer(VOCAB_DIR)


@pytest.fixture(scope="module")
def fuzz_strings() -> list[str]:
    return make_fuzz_strings(random.Random(FUZZ_SEED), FUZZ_COUNT)


@pytest.fixture(scope="module")
def oracle_encodings(oracle, fuzz_strings):
    return oracle.encode_batch(fuzz_strings)


# --- the fuzz set -------------------------------------------------------------------------------

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Once upon a time, there was a little girl who lived in a village near the forest.",
    "I'm sure it's fine; we'll see what they've done and what you'd say.",
    "Explain self-attention to a 10-year-old, in 3 sentences.",
    "def square(x):\n    return x ** 2  # the square\n\n\nprint(square(12))\n",
    "Email jane.doe@example.com or call +1 (555) 123-4567!!!",
    "GPT-2 (124M parameters, 12 layers, 768-d) was released in 2019.",
    "Q: What is 2+2?\nA: 4\n\nQ: And 3.14 * 2?\nA: 6.28",
    "User: <|endoftext|> is a special token.\nAssistant:",
    "https://example.org/path?a=1&b=two#frag",
    "    indented\tline\r\nwindows line\r\n",
    "Dr. O'Neil's cats' toys -- 50% off... (limited time)",
    "naïve café résumé coöperate Zürich São Paulo",
    "He said “don’t” and she said ‘won’t’.",
]
CHINESE = [
    "你好，世界",
    "你好，世界！今天天气很好，我们去公园散步吧。",
    "机器学习是人工智能的一个分支。",
    "这个模型有一亿两千四百万个参数，共12层。",
    "请把下面的句子翻译成英文：我爱你。",
    "《红楼梦》是中国古典四大名著之一。",
    "2024年6月7日，星期五，北京晴转多云，气温25°C。",
    "注意力机制（Attention）让模型关注输入中的重要部分。",
    "用Python写一个快速排序：def qsort(a): ...",
]
CONTRACTIONS = [
    "'s",
    "'t",
    "'re",
    "'ve",
    "'m",
    "'ll",
    "'d",
    "'S",
    "'LL",
    "'Re",
    "’s",
    "’ll",
    "''s",
    "'x",
    "'",
    "'1",
    "' s",
]
SPACES = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x0b",
    "\x0c",
    "\u3000",
    "\xa0",
    "\u2002",
    "\u2009",
    "\u202f",
    "\u205f",
    "\u1680",
    "\x85",
    "\u2028",
    "\u2029",
    "\x1c",
    "\x1f",
]
CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))] + [
    "\u2028",
    "\u2029",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\ufeff",
    "\u00ad",
]
DIGITS = [
    "0123456789",
    "０１２３４５６７８９",
    "٠١٢٣٤٥٦٧٨٩",
    "०१२३४५६७८९",
    "²³¹¼½¾",
    "ⅠⅡⅢⅫ",
    "①②③⑳",
    "〇一二三",
]
# Letters of scripts that mix in one word, and letters and numbers new in Unicode 16 and 17 (where
# regex engines of different ages disagree).
SCRIPTS = [
    "abcxyzABCXYZ",
    "абвгдеёжзЖЗИЙ",
    "αβγδεζηθΩΣ",
    "אבגדהוזחט",
    "ابتثجحخدذر",
    "कखगघङचछजझञ",
    "กขคฆงจฉชซ",
    "가각간갇갈감갑값",
    "あいうえおアイウエオ",
    "漢字中文日本語",
    "ᏣᎳᎩ",
    "ⴰⴱⴳⴷⴹ",
    "\u1c89\u1c8a\U00010d50\U00011380\U0001e5d0",
    "\u088f\u0c5c\u0cdc\ua7ce\U00010940\U00011db0\U00016ea0\U0001e6c0\U000323b0",
    "\U00011de0\U00011de5\U00016ff4\U00016ff6",
]
COMBINING = [chr(c) for c in range(0x300, 0x370)] + [
    "\u0951",
    "\u094d",
    "\u20dd",
    "\ufe0f",
    "\u0e31",
    "\u302a",
    "\U0001d165",
]
SKIN_TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]
EMOJI_SEQUENCES = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family
    "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # woman technologist, medium skin tone
    "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
    "\U0001f1e8\U0001f1f3\U0001f1fa\U0001f1f8",  # flags CN US
    "1\ufe0f\u20e3#\ufe0f\u20e3",  # keycaps
    "\u2764\ufe0f\u200d\U0001f525",
    "\U0001f9d1\U0001f3ff\u200d\U0001f91d\u200d\U0001f9d1\U0001f3fb",
]


def random_code_point(rng: random.Random) -> str:
    """Any Unicode scalar value, most often from the planes that hold text."""
    top = rng.choice([0x80, 0x800, 0x10000, 0x10000, 0x40000, 0x110000])
    while True:
        code = rng.randrange(top)
        if not 0xD800 <= code < 0xE000:
            return chr(code)


def random_word(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def fragment(rng: random.Random) -> str:
    """One piece of a fuzz string, of a randomly chosen kind."""
    kind = rng.randrange(14)
    if kind == 0:
        return rng.choice(ENGLISH)
    if kind == 1:
        return rng.choice(CHINESE)
    if kind == 2:
        word = random_word(rng, "abcdefghijklmnopqrstuvwxyz", 1, 12)
        return rng.choice([word, word.capitalize(), word.upper()])
    if kind == 3:
        return random_word(rng, rng.choice(DIGITS), 1, 25) + rng.choice(["", ".", ",", "%", "th"])
    if kind == 4:
        return random_word(rng, "abcdefghij", 0, 6) + rng.choice(CONTRACTIONS)
    if kind == 5:
        emoji = chr(rng.randrange(0x1F300, 0x1FB00))
        return rng.choice([emoji, emoji + rng.choice(SKIN_TONES), rng.choice(EMOJI_SEQUENCES)])
    if kind == 6:
        base = rng.choice("aeiouAEnx가अ字 1")
        return base + "".join(rng.choice(COMBINING) for _ in range(rng.randint(1, 6)))
    if kind == 7:
        return "".join(rng.choice(CONTROLS) for _ in range(rng.randint(1, 4)))
    if kind == 8:
        return "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 20)))
    if kind == 9:
        return "".join(rng.choice(rng.choice(SCRIPTS)) for _ in range(rng.randint(1, 15)))
    if kind == 10:
        return rng.choice(SCRIPTS)
    if kind == 11:
        return random_word(rng, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~·—…，。！？、《》“”", 1, 8)
    return "".join(random_code_point(rng) for _ in range(rng.randint(1, 10)))


def long_fragment(rng: random.Random) -> str:
    """A word (or run) of 1,000 to 5,000 characters."""
    n = rng.randint(1000, 5000)
    alphabet = rng.choice(
        [
            "a",
            "ab",
            "abcdefghijklmnopqrstuvwxyz",
            "0123456789",
            "中文字符",
            "!?",
            " ",
            " \n",
            "\U0001f600\U0001f3fd",
            "é\u0301",
        ]
    )
    return random_word(rng, alphabet, n, n)


def make_fuzz_strings(rng: random.Random, count: int) -> list[str]:
    strings = []
    for k in range(count):
        parts = [fragment(rng) for _ in range(rng.randint(1, 8))]
        if k % 100 == 0:
            parts.insert(rng.randrange(len(parts) + 1), long_fragment(rng))
        glue = rng.choice(["", " ", "\n", rng.choice(SPACES)])
        strings.append(glue.join(parts))
    return strings


def mismatches(pairs, limit: int = 5) -> str:
    """Why a list of (input, ours, theirs) differ, for an assertion message."""
    return "\n".join(
        f"{text[:80]!r}: ours {mine}, tokenizers {theirs}" for text, mine, theirs in pairs[:limit]
    )


# --- ids ----------------------------------------------------------------------------------------


def test_oracle_gives_known_gpt2_ids(oracle, tokenizer):
    for text, ids in [
        ("Hello world", [15496, 995]),
        (" Hello", [18435]),
        ("<|endoftext|>", [27, 91, 437, 1659, 5239, 91, 29]),
    ]:
        assert oracle.encode(text).ids == ids
        assert tokenizer.encode(text) == ids


def test_vocabulary(tokenizer):
    assert tokenizer.vocab_size == 50257
    assert tokenizer.token_bytes(50256) == b"<|endoftext|>"
    assert tokenizer.token_bytes(220) == b" "
    with pytest.raises(ValueError):
        tokenizer.token_bytes(50257)
    with pytest.raises(ValueError):
        tokenizer.token_bytes(-1)


def test_fuzz_set_has_what_it_claims(fuzz_strings):
    text = "".join(fuzz_strings)
    assert len(fuzz_strings) >= 5000
    assert sum(len(max(s.split(), key=len, default="")) > 1000 for s in fuzz_strings) >= 20
    for needle in [
        "\u200d",
        "\U0001f3fd",
        "\u0301",
        "\x00",
        "\x85",
        "\u2028",
        "\u3000",
        "\xa0",
        "\t",
        "'ll",
        "’s",
        "你好",
        "\U000323b0",
        "\U00011de0",
    ]:
        assert needle in text, needle


def test_ids_match_tokenizers(tokenizer, fuzz_strings, oracle_encodings):
    cases = zip(fuzz_strings, oracle_encodings, strict=True)
    bad = [(s, ours, e.ids) for s, e in cases if (ours := tokenizer.encode(s)) != e.ids]
    assert not bad, f"{len(bad)} of {len(fuzz_strings)} differ:\n{mismatches(bad)}"


def test_word_spans_match_tokenizers(fuzz_strings, oracle):
    for text in fuzz_strings:
        assert word_spans(text) == [span for _, span in oracle.pre_tokenizer.pre_tokenize_str(text)]


def test_every_code_point_has_the_class_tokenizers_gives_it():
    """GPT-2's pattern sees a character only through its class (\\p{L}, \\p{N}, \\s or other):
    the stand-in word_spans puts in its place must have the class `tokenizers`' regex engine gives
    the character itself (Oniguruma, asked by replacing each class with a marker)."""
    codes = [c for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000]
    text = "".join(map(chr, codes))
    theirs = ["?"] * len(codes)
    for name, pattern in (("L", r"\p{L}"), ("N", r"\p{N}"), ("S", r"\s")):
        marked = normalizers.Replace(Regex(pattern), "\x00").normalize_str(text)
        theirs = [name if m == "\x00" else t for m, t in zip(marked, theirs, strict=True)]
    ascii_class = {
        **dict.fromkeys(string.ascii_letters, "L"),
        **dict.fromkeys(string.digits, "N"),
        **dict.fromkeys("\t\n\x0b\x0c\r ", "S"),
    }
    ours = [ascii_class.get(c, "?") for c in text.translate(_STAND_INS)]
    bad = [
        f"U+{code:04X} ours {o} theirs {t}"
        for code, o, t in zip(codes, ours, theirs, strict=True)
        if o != t
    ]
    assert not bad, f"{len(bad)} code points differ, update the tables in tokenizer.py: {bad[:10]}"


# --- offsets ------------------------------------------------------------------------------------


def test_offsets_match_tokenizers_and_cover_the_text(tokenizer, fuzz_strings, oracle_encodings):
    bad = []
    for text, theirs in zip(fuzz_strings, oracle_encodings, strict=True):
        ids, offsets = tokenizer.encode_with_offsets(text)
        assert ids == theirs.ids
        assert len(offsets) == len(ids)
        if offsets != theirs.offsets:
            bad.append((text, offsets, theirs.offsets))
        assert offsets[0][0] == 0 and offsets[-1][1] == len(text)
        for (start, end), (next_start, next_end) in pairwise(offsets):
            assert start < end
            assert start <= next_start <= end <= next_end  # no gap, never backwards
    assert not bad, f"{len(bad)} of {len(fuzz_strings)} differ:\n{mismatches(bad)}"


def test_offsets_of_split_characters(tokenizer):
    ids, offsets = tokenizer.encode_with_offsets("你好，世界")
    assert len(ids) == 11  # 5 characters of 3 bytes each
    assert offsets[:4] == [(0, 1), (0, 1), (1, 2), (1, 2)]  # "你" and "好" are two tokens each
    ids, offsets = tokenizer.encode_with_offsets("Hello world")
    assert offsets == [(0, 5), (5, 11)]  # the space belongs to " world"
    assert tokenizer.encode_with_offsets("") == ([], [])


# --- decoding and labels ------------------------------------------------------------------------


def test_decode_round_trips(tokenizer, fuzz_strings):
    bad = [s for s in fuzz_strings if tokenizer.decode(tokenizer.encode(s)) != s]
    assert not bad, f"{len(bad)} do not round-trip, e.g. {bad[0][:80]!r}"


def test_decode_matches_tokenizers_on_broken_utf8(tokenizer, oracle):
    rng = random.Random(FUZZ_SEED)
    for _ in range(2000):
        ids = [rng.randrange(tokenizer.vocab_size) for _ in range(rng.randint(1, 6))]
        ids += rng.choice([[], [19526], [171, 120], [47249]])  # end inside a character
        assert tokenizer.decode(ids) == oracle.decode(ids), ids


def test_labels_of_chinese_show_partial_bytes(tokenizer):
    text = "你好，世界"
    ids = tokenizer.encode(text)
    labels = tokenizer.token_labels(ids)
    assert labels[:2] == ["<0xE4><0xBD>", "<0xA0>"]  # "你" = E4 BD A0, split 2 + 1
    assert "".join(labels) == "".join(f"<0x{b:02X}>" for b in text.encode("utf-8"))
    assert all("\ufffd" not in label for label in labels)


def test_labels_of_whole_characters_are_their_text(tokenizer):
    ids = tokenizer.encode("Hello world, naïve 你 😀!")
    labels = tokenizer.token_labels(ids)
    assert labels[:3] == ["Hello", " world", ","]
    assert "".join(labels).startswith("Hello world, naïve ")
    ids, offsets = tokenizer.encode_with_offsets(" 的")  # 20 E7 9A 84, split 2 + 1 + 1
    assert tokenizer.token_labels(ids) == [" <0xE7>", "<0x9A>", "<0x84>"]
    assert offsets == [(0, 2), (1, 2), (1, 2)]  # all three show part of "的"


def test_labels_are_lossless_for_every_token(tokenizer):
    """Every label reads back to the token's bytes, and shows '�' only for a real U+FFFD."""

    def label_bytes(label: str) -> bytes:
        parts = re.split(r"<0x([0-9A-F]{2})>", label)
        return b"".join(
            bytes([int(p, 16)]) if k % 2 else p.encode("utf-8") for k, p in enumerate(parts)
        )

    ids = range(tokenizer.vocab_size)
    for token_id, label in zip(ids, tokenizer.token_labels(ids), strict=True):
        data = tokenizer.token_bytes(token_id)
        assert label_bytes(label) == data, token_id
        assert ("\ufffd" in label) == ("\ufffd".encode() in data), token_id


# --- input ---------------------------------------------------------------------------------------


def test_from_strings_accepts_files_without_header_or_with_crlf(vocab_texts, tokenizer):
    vocab_json, merges_txt = vocab_texts
    body = merges_txt.split("\n", 1)[1]
    text = "Tokenizers split text into tokens, 你好！"
    for merges in (body, body.replace("\n", "\r\n")):
        assert Tokenizer.from_strings(vocab_json, merges).encode(text) == tokenizer.encode(text)


def test_from_strings_names_a_bad_merge(vocab_texts):
    vocab_json, _ = vocab_texts
    with pytest.raises(ValueError, match="line 2"):
        Tokenizer.from_strings(vocab_json, "#version: 0.2\nĠ t x\n")
    with pytest.raises(ValueError, match="not in vocab"):
        Tokenizer.from_strings(vocab_json, "#version: 0.2\nĠ 你\n")


def test_lone_surrogate_is_rejected(tokenizer):
    with pytest.raises(UnicodeEncodeError):
        tokenizer.encode("a\ud800b")
