"""The pure-Python WordPiece tokenizer against Hugging Face `tokenizers` (the oracle), built here
as a BertTokenizerFast's tokenizer.json is: BertNormalizer, BertPreTokenizer, WordPiece (unk
[UNK], "##", 100 characters a word at most), the special tokens added, a WordPiece decoder with
its cleanup, and the prompt prefix as a template ("[CLS] $A").

The vocabulary is made here: Chinese characters and some of them as "##" pieces, English words
and pieces, digits, full-width and ASCII punctuation, the special tokens. The fuzz set is made by
a seeded generator: Chinese prompts, mixed Chinese, English and digits, punctuation, emoji and
characters the vocabulary lacks, words longer than 100 characters, whitespace runs, combining
marks and accents, control characters, special tokens written in the text.
"""

import random

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from pyexplainer.core.bert_text import BertTextOptions, normalize, pre_tokenize
from pyexplainer.core.wordpiece import CONTINUATION_MARK, WordPieceTokenizer

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHINESE = [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + list("你好世界我们的是在学生老师机器模型")
ENGLISH = ["the", "play", "un", "hello", "world", "model", "cafe", "naive", "gpt", "is", "don"]
PIECES = ["##ing", "##ed", "##s", "##er", "##t", "##'", "##2", "##0"]
PUNCTUATION = list(",.!?;:'\"()[]-/，。！？、；：“”（）《》…—")
# option sets: (lowercase, strip_accents); uer's is the first
OPTIONS = [(False, None), (True, None), (False, True), (True, False)]
FUZZ_SEED = 16
FUZZ_PER_OPTIONS = 1500  # 6,000 strings in all


def make_vocab() -> list[str]:
    letters = list("abcdefghijklmnopqrstuvwxyzéèüñσςαβ")
    tokens = [
        *SPECIALS[:1],
        *[f"[unused{i}]" for i in range(1, 4)],
        *SPECIALS[1:],
        *PUNCTUATION,
        *"0123456789",
        "12",
        "2024",
        *letters,
        *["##" + c for c in letters],
        *ENGLISH,
        *PIECES,
        *CHINESE,
        *["##" + c for c in CHINESE[::7]],
        "Hello",
        "É",
    ]
    return list(dict.fromkeys(tokens))


VOCAB = make_vocab()


def oracle(lowercase: bool, strip_accents, *, prefix: bool = True) -> Tokenizer:
    hf = Tokenizer(
        models.WordPiece(
            {t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]", max_input_chars_per_word=100
        )
    )
    hf.normalizer = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=True,
        strip_accents=strip_accents,
        lowercase=lowercase,
    )
    hf.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    hf.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    hf.add_special_tokens(SPECIALS)
    if prefix:
        cls = VOCAB.index("[CLS]")
        hf.post_processor = processors.TemplateProcessing(
            single="[CLS] $A", special_tokens=[("[CLS]", cls)]
        )
    return hf


def ours(lowercase: bool, strip_accents, *, prefix: bool = True) -> WordPieceTokenizer:
    return WordPieceTokenizer(
        VOCAB,
        text=BertTextOptions(lowercase=lowercase, strip_accents=strip_accents),
        special_tokens=SPECIALS,
        prompt_prefix=["[CLS]"] if prefix else [],
    )


def fuzz_strings(rng: random.Random, n: int) -> list[str]:
    """n strings of the kinds the module docstring lists."""
    unknown = [
        "😀",
        "👍🏽",
        "🥰",
        "𠀀",
        "ㄅ",
        "한국어",
        "ﬁ",
        "Ω",
        "ß",
        "İ",
        "\U0001f9d1\u200d\U0001f4bb",
    ]
    accents = ["é", "É", "e\u0301", "a\u0323\u0301", "a\u0301\u0323", "ñ", "ü", "Å", "ΑΣ", "ǅ"]
    spaces = [" ", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\u2003", "\x0b", "\x85", "   \n "]
    controls = ["\x00", "\x07", "\u200b", "\u200d", "\ufeff", "\ufffd", "\u00ad", "\ue000"]
    pieces = [
        *CHINESE,
        *ENGLISH,
        *PUNCTUATION,
        *"0123456789",
        *unknown,
        *accents,
        *spaces,
        *controls,
        *SPECIALS,
        "playing",
        "Hello",
        "don't",
        "it's",
        "2024年",
        "GPT2",
        "##",
        "[cls]",
        "[SEP",
    ]
    weights = [8 if p in CHINESE else 3 if p in spaces else 2 for p in pieces]
    strings = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.05:  # one word beyond the limit of 100 characters, or just at it
            strings.append(rng.choice(["a", "play", "你"]) * rng.randint(25, 105))
        elif kind < 0.1:  # random code points from every plane
            strings.append("".join(chr(rng.choice(CODE_POINTS)) for _ in range(rng.randint(1, 12))))
        else:
            strings.append("".join(rng.choices(pieces, weights, k=rng.randint(0, 24))))
    return strings


CODE_POINTS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


@pytest.mark.parametrize("lowercase, strip_accents", OPTIONS)
def test_ids_offsets_and_decoding_match_tokenizers(lowercase, strip_accents):
    hf, tok = oracle(lowercase, strip_accents), ours(lowercase, strip_accents)
    rng = random.Random(f"{FUZZ_SEED}-{lowercase}-{strip_accents}")
    strings = fuzz_strings(rng, FUZZ_PER_OPTIONS)
    unknown = VOCAB.index("[UNK]")
    seen = {"unk": 0, "too_long": 0, "piece": 0, "special_in_text": 0}
    for text in strings:
        expected = hf.encode(text)
        ids, offsets = tok.encode_with_offsets(text)
        assert (ids, offsets) == (expected.ids, expected.offsets), repr(text)
        for skip in (True, False):
            assert tok.decode(ids, skip_special_tokens=skip) == hf.decode(
                ids, skip_special_tokens=skip
            ), repr(text)
        seen["unk"] += unknown in ids
        seen["too_long"] += any(
            e - s > 100 for (s, e), i in zip(offsets, ids, strict=True) if i == unknown
        )
        seen["piece"] += any(VOCAB[i].startswith("##") for i in ids)
        seen["special_in_text"] += any(VOCAB[i] in SPECIALS for i in ids[1:])
    assert min(seen.values()) >= 20, seen  # the fuzz set reaches every case


def test_without_a_prefix_ids_are_the_texts_alone():
    hf, tok = oracle(False, None, prefix=False), ours(False, None, prefix=False)
    for text in ["你好，世界！", "", "playing 2024年", "[CLS]你"]:
        assert tok.encode_with_offsets(text) == (hf.encode(text).ids, hf.encode(text).offsets)


def chunks(size: int = 2048):
    for k in range(0, len(CODE_POINTS), size):
        yield "".join(chr(c) for c in CODE_POINTS[k : k + size])


@pytest.mark.parametrize(
    "options",
    [
        BertTextOptions(clean_text=True, handle_chinese_chars=True, lowercase=False),
        BertTextOptions(clean_text=False, handle_chinese_chars=False, strip_accents=True),
        BertTextOptions(clean_text=False, handle_chinese_chars=False, strip_accents=False),
    ],
    ids=["clean_and_chinese", "strip_accents", "lowercase"],
)
def test_every_code_point_is_normalized_as_tokenizers_does(options):
    """Each step's tables (controls, whitespace, CJK, decompositions, combining and nonspacing
    marks, case mappings) on every code point, in runs of 2,048 (so that marks meet their
    neighbours, as in text)."""
    hf = normalizers.BertNormalizer(
        clean_text=options.clean_text,
        handle_chinese_chars=options.handle_chinese_chars,
        strip_accents=options.strip_accents,
        lowercase=options.lowercase,
    )
    for chunk in chunks():
        assert "".join(c for c, _ in normalize(chunk, options)) == hf.normalize_str(chunk)


def test_every_code_point_is_split_as_the_pre_tokenizer_does():
    """Whitespace and punctuation as BertPreTokenizer sees them, every code point between two
    letters: "a" + c + "a" is one word, two (c is whitespace) or three (c is punctuation)."""
    hf = pre_tokenizers.BertPreTokenizer()
    for chunk in chunks():
        text = "".join("a" + c for c in chunk) + "a"
        chars = [(c, i) for i, c in enumerate(text)]
        words = [(w, (origins[0], origins[-1] + 1)) for w, origins in pre_tokenize(chars)]
        assert words == hf.pre_tokenize_str(text)


def test_labels_bytes_and_decoding_of_pieces():
    tok = ours(False, None)
    ids = tok.encode("playing 你猫")  # 猫 is not in the vocabulary
    assert [VOCAB[i] for i in ids] == ["[CLS]", "play", "##ing", "你", "[UNK]"]
    assert tok.token_labels(ids) == ["[CLS]", "play", CONTINUATION_MARK + "ing", "你", "[UNK]"]
    assert tok.token_labels([VOCAB.index("##万")]) == ["◌万"]
    assert tok.token_bytes(VOCAB.index("##万")) == "万".encode()
    assert tok.token_bytes(VOCAB.index("[SEP]")) == b"[SEP]"
    assert tok.decode(ids) == "playing 你"  # [CLS] and [UNK] are special: skipped
    assert tok.decode(ids, skip_special_tokens=False) == "[CLS] playing 你 [UNK]"
    words = ["hello", ",", "world", "!", "don", "'", "t"]
    # the cleanup works in each token (as tokenizers'): " ," goes, " ' " is never one token
    assert tok.decode([VOCAB.index(w) for w in words]) == "hello, world! don ' t"


def test_special_tokens_and_the_prompt_prefix():
    tok = ours(False, None)
    ids, offsets = tok.encode_with_offsets("你[SEP]")
    assert [VOCAB[i] for i in ids] == ["[CLS]", "你", "[SEP]"]
    assert offsets == [(0, 0), (0, 1), (1, 6)]
    assert tok.prompt_prefix == (VOCAB.index("[CLS]"),)
    assert tok.never_sampled == tuple(sorted(VOCAB.index(t) for t in SPECIALS))
    allowed = WordPieceTokenizer(
        VOCAB, text=BertTextOptions(), special_tokens=SPECIALS, sampled_special_tokens=["[SEP]"]
    )
    assert VOCAB.index("[SEP]") not in allowed.never_sampled


def test_bad_input_is_named():
    tok = ours(False, None)
    with pytest.raises(UnicodeEncodeError):
        tok.encode("a\ud800")
    with pytest.raises(ValueError, match="outside 0 .. "):
        tok.decode([len(VOCAB)])
    with pytest.raises(ValueError, match="no token '\\[CLS\\]'"):
        WordPieceTokenizer(["[UNK]", "a"], text=BertTextOptions(), prompt_prefix=["[CLS]"])


def test_from_vocab_text_numbers_lines_from_zero():
    tok = WordPieceTokenizer.from_vocab_text("[UNK]\nab\n##c\n", text=BertTextOptions())
    assert tok.vocab_size == 3 and tok.encode("abc 你") == [1, 2, 0]  # each CJK is a word
