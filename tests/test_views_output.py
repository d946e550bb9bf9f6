"""The output stage: weight-tied logits, the bars under the sampling settings (cut tokens
included) and the rest of the vocabulary, against the plain-Python sampling reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyexplainer.core.sampling import next_token_distribution
from pyexplainer.views.predictions import (
    SamplingSettings,
    drawn,
    first_ranked,
    output_view,
    predictions,
)
from tests.conftest import tiny_weights
from tests.test_sampling import reference_distribution
from tests.view_case import view_case


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def softmax(x):
    e = np.exp(np.asarray(x, dtype=np.float64) - np.max(x))
    return e / e.sum()


def test_logits_are_the_final_vector_times_the_token_embedding(case):
    """Weight tying, as the text says: there is no separate output matrix."""
    view = output_view(case.trace, case.tokenizer, SamplingSettings())
    np.testing.assert_allclose(view.final_norm, case.reference["lnf_out"][-1], rtol=1e-4, atol=2e-5)
    tied = view.final_norm.astype(np.float64) @ tiny_weights()["wte.weight"].T.astype(np.float64)
    np.testing.assert_allclose(case.trace.last_logits, tied, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "settings",
    [
        SamplingSettings(),
        SamplingSettings(temperature=0.6, top_k=8),
        SamplingSettings(temperature=1.5, top_k=40, top_p=0.5),
        SamplingSettings(temperature=0.0),
    ],
)
def test_bars_show_both_probabilities_exactly_and_the_rest_adds_up(case, settings):
    logits = case.trace.last_logits
    expected = np.array(
        reference_distribution(logits, settings.temperature, settings.top_k, settings.top_p)
    )
    model = softmax(case.reference["logits"][-1])
    view = output_view(case.trace, case.tokenizer, settings, n=15)
    ids = [b.token_id for b in view.bars]
    assert len(ids) == len(set(ids)) == 15
    kept = [b for b in view.bars if b.probability > 0]
    assert view.bars[: len(kept)] == tuple(kept)  # drawable tokens first, then the cut ones
    np.testing.assert_allclose([b.probability for b in view.bars], expected[ids], atol=1e-12)
    np.testing.assert_allclose([b.model_probability for b in view.bars], model[ids], rtol=1e-3)
    assert [b.logit for b in view.bars] == [float(logits[i]) for i in ids]
    assert [b.label for b in view.bars] == case.tokenizer.token_labels(ids)
    # ranked as sampling ranks them, then the cut ones by the model's own probability
    ranked = sorted(range(len(expected)), key=lambda i: (-expected[i], -model[i], i))
    assert ids[: len(kept)] == ranked[: len(kept)]
    cut = [b.model_probability for b in view.bars[len(kept) :]]
    assert cut == sorted(cut, reverse=True)
    rest = np.setdiff1d(np.arange(len(expected)), ids)
    assert view.rest_probability == pytest.approx(expected[rest].sum(), abs=1e-12)
    assert view.rest_model_probability == pytest.approx(model[rest].sum(), rel=1e-3, abs=1e-9)
    assert view.rest_probability + sum(b.probability for b in view.bars) == pytest.approx(1)
    assert view.kept == np.count_nonzero(expected)
    assert view.vocab_size == 50257 and view.settings == settings


def test_greedy_leaves_one_token(case):
    view = output_view(case.trace, case.tokenizer, SamplingSettings(temperature=0), n=10)
    assert view.kept == 1 and view.bars[0].probability == 1.0
    assert view.bars[0].token_id == int(np.argmax(case.trace.last_logits))
    assert all(b.probability == 0 for b in view.bars[1:])
    assert view.rest_probability == 0


def test_the_prediction_list_is_the_drawable_bars(case):
    settings = SamplingSettings(temperature=0.8, top_k=5)
    shown = predictions(case.tokenizer, case.trace.last_logits, settings, n=10)
    bars = output_view(case.trace, case.tokenizer, settings, n=10).bars
    assert shown == [b for b in bars if b.probability > 0] and len(shown) == 5


def test_a_drawn_token_carries_its_chance_under_the_settings_and_under_the_model(case):
    """What "Generate N tokens" says of each token it drew, also one below the bars shown."""
    logits = case.trace.last_logits
    settings = SamplingSettings(temperature=0.7, top_k=30)
    kept = reference_distribution(logits, 0.7, 30, 1.0)
    outside = int(np.argsort(-np.asarray(logits), kind="stable")[20])  # kept, not among 15 bars
    for token in (int(np.argmax(logits)), outside):
        p = drawn(case.tokenizer, logits, settings, token)
        assert p.token_id == token and p.label == case.tokenizer.token_labels([token])[0]
        assert p.probability == pytest.approx(kept[token], abs=1e-9)
        assert p.model_probability == pytest.approx(softmax(logits)[token], abs=1e-9)


@given(
    st.lists(st.sampled_from([-2.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0]), min_size=1, max_size=60),
    st.integers(1, 20),
    st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    st.sampled_from([0, 1, 3]),
    st.sampled_from([1.0, 0.6]),
)
def test_the_first_ranked_tokens_are_those_a_full_sort_ranks_first(logits, n, t, top_k, top_p):
    """Ties on purpose (a few logit values, cut tails at 0): the partition-then-sort answer
    equals Python's sort of every token by (-probability, -raw probability, id)."""
    x = np.array(logits, dtype=np.float32)
    probs = next_token_distribution(x, temperature=t, top_k=top_k, top_p=top_p)
    raw = next_token_distribution(x)
    expected = sorted(range(x.size), key=lambda i: (-probs[i], -raw[i], i))[:n]
    assert first_ranked(probs, raw, n).tolist() == expected
