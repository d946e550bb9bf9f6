"""A text too long for the context, cut to its last tokens that fit: checked against Hugging Face
`tokenizers` (the oracle) on GPT-2's vocabulary."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyexplainer.core.fit import last_tokens_that_fit
from pyexplainer.core.tokenizer import Tokenizer
from tests.conftest import VOCAB_DIR, hf_gpt2_tokenizer

TOKENIZER = Tokenizer.from_strings(
    (VOCAB_DIR / "vocab.json").read_text(encoding="utf-8"),
    (VOCAB_DIR / "merges.txt").read_text(encoding="utf-8"),
)
ORACLE = hf_gpt2_tokenizer()
PIECES = st.sampled_from(
    [" the", " cat", "unbelievable", "ness", " 你好", "世界", "😀", "👩‍👩‍👧", " ", "  ", "\n",
     "'s", "'", "..", "123", "4567", ".", "!?", "é", "e\u0301", "\u00a0", "Once", " upon", "ing"]
)  # fmt: skip
TEXTS = st.lists(PIECES, min_size=1, max_size=60).map("".join)


def test_plain_words_keep_exactly_the_last_tokens():
    text = "word" + " word" * 300  # 301 tokens
    fitted = last_tokens_that_fit(TOKENIZER, text, 256)
    ids = ORACLE.encode(text).ids
    assert len(ids) == 301
    assert fitted.ids == ids[-256:] and fitted.dropped == 45
    assert fitted.text == " word" * 256 and text.endswith(fitted.text)


def test_a_text_that_fits_is_kept_whole():
    fitted = last_tokens_that_fit(TOKENIZER, "Once upon a time", 64)
    assert (fitted.text, fitted.dropped) == ("Once upon a time", 0)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.integers(1, 40))
def test_the_kept_end_is_the_longest_that_fits_and_tokenizes_as_the_oracle_does(text, n):
    encoding = ORACLE.encode(text)
    try:
        fitted = last_tokens_that_fit(TOKENIZER, text, n)
    except ValueError:  # not even the last token fits: its one character is more than n bytes
        last_start = encoding.offsets[-1][0]
        assert len(ORACLE.encode(text[last_start:]).ids) > n
        return
    cut = len(text) - len(fitted.text)
    assert text[cut:] == fitted.text and fitted.text
    assert fitted.ids == ORACLE.encode(fitted.text).ids and len(fitted.ids) <= n
    starts = [start for start, _ in encoding.offsets]
    assert cut in starts and fitted.dropped == sum(start < cut for start in starts)
    ends = [0] + [end for _, end in encoding.offsets]
    earlier = [s for i, s in enumerate(starts) if s < cut and s >= ends[i]]  # where a cut can be
    if earlier:  # the end from the cut before is too long
        assert len(ORACLE.encode(text[earlier[-1] :]).ids) > n


def test_the_end_is_tokenized_again_where_a_cut_changes_its_tokens():
    # "x..'s" is x | .. | ' | s: punctuation runs take the quote; alone, "'s" is one token
    fitted = last_tokens_that_fit(TOKENIZER, "x..'s", 2)
    assert fitted.text == "'s" and fitted.ids == ORACLE.encode("'s").ids and fitted.dropped == 2
    fitted = last_tokens_that_fit(TOKENIZER, "x..'s", 1)  # the same: ' | s would not fit
    assert fitted.text == "'s" and fitted.dropped == 2


def test_the_cut_never_splits_a_character():
    text = "你好" * 40  # each character two or three byte tokens
    fitted = last_tokens_that_fit(TOKENIZER, text, 9)
    assert "\ufffd" not in TOKENIZER.decode(fitted.ids)
    assert fitted.text == TOKENIZER.decode(fitted.ids) and len(fitted.ids) <= 9
    with pytest.raises(ValueError, match="not even the last token"):
        last_tokens_that_fit(TOKENIZER, "a😀", 1)


def test_a_prompt_prefix_is_kept_and_not_counted_as_dropped():
    """uer's Chinese GPT-2 reads [CLS] before every text (oracle: tokenizers with that template)."""
    from tests.test_wordpiece import oracle, ours

    tokenizer, hf = ours(False, None), oracle(False, None)
    text = "你好世界" * 10  # [CLS] and 40 characters
    fitted = last_tokens_that_fit(tokenizer, text, 9)
    assert fitted.text == "你好世界" * 2 and fitted.dropped == 32
    assert fitted.ids == hf.encode(fitted.text).ids and fitted.ids[0] == hf.token_to_id("[CLS]")
