"""The logit lens and the what-if ablation, computed by the exported model, against the tests'
own loop reference (tests/gpt2_reference.py) with the same parts switched off."""

import numpy as np
import pytest

from pyexplainer.config import ModelConfig
from pyexplainer.core.ablation import Ablation
from pyexplainer.core.generation import KVCache, cache_after, forward, logit_lens, model_feeds
from pyexplainer.core.lens import (
    LENS_CALL_BYTES,
    LENS_MAX_POSITIONS,
    LogitLens,
    lens_rows,
    lens_spans,
    partial_draws,
)
from pyexplainer.core.trace import LENS_TOP_K
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, tiny_weights
from tests.gpt2_reference import reference_forward

PROMPT = [464, 3797, 3332, 319, 262, 2603, 13, 383]
L, H = TINY["n_layer"], TINY["n_head"]


@pytest.fixture(scope="module")
def model(tiny_fp32):
    return open_model_dir(tiny_fp32)


def reference_logits(**ablation) -> np.ndarray:
    """(V,) float64 logits of the last position from the loop reference."""
    return reference_forward(PROMPT, tiny_weights(), L, H, **ablation)["logits"][-1]


def model_logits(model, ablation: Ablation) -> np.ndarray:
    return forward(model.run, model.manifest.config, PROMPT, ablation=ablation).last_logits


def close(got, expected):
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-4 * np.abs(expected).max())


def test_ablating_nothing_changes_nothing(model):
    """With nothing off the mean path adds exactly zero, and the model is the reference's."""
    c = model.manifest.config
    zero = model.run(model_feeds(c, np.array(PROMPT), KVCache.empty(c)))
    mean = model.run(
        model_feeds(c, np.array(PROMPT), KVCache.empty(c), ablation=Ablation(mode="mean"))
    )
    for name, value in zero.items():
        np.testing.assert_array_equal(mean[name], value, err_msg=name)  # bit for bit
    close(zero["last_logits"], reference_logits())


@pytest.mark.parametrize("mode", ["zero", "mean"])
@pytest.mark.parametrize(
    "heads,mlps",
    [({(0, 1)}, set()), ({(1, 0), (1, 3), (0, 2)}, set()), (set(), {0}), ({(1, 2)}, {1})],
)
def test_ablation_changes_what_the_reference_says(model, heads, mlps, mode):
    ablation = Ablation(heads=frozenset(heads), mlps=frozenset(mlps), mode=mode)
    expected = reference_logits(ablated_heads=heads, ablated_mlps=mlps, to_mean=mode == "mean")
    got = model_logits(model, ablation)
    close(got, expected)
    assert np.abs(expected - reference_logits()).max() > 1e-2  # the ablation really matters


def test_an_ablated_trace_records_what_replaced_the_parts(model):
    c = model.manifest.config
    ablation = Ablation(heads=frozenset({(1, 2)}), mlps=frozenset({0}), mode="zero")
    trace = forward(model.run, c, PROMPT, ablation=ablation)
    assert not trace.head_outputs[1, 2].any() and not trace.mlp_out[0].any()
    np.testing.assert_allclose(trace.residual[1], trace.residual_mid[0], rtol=0, atol=0)


def test_mean_ablation_needs_the_whole_text_in_one_pass(model):
    c = model.manifest.config
    first = forward(model.run, c, PROMPT[:-1])
    mean = Ablation(heads=frozenset({(0, 0)}), mode="mean")
    with pytest.raises(ValueError, match="without the cache"):
        model_feeds(c, np.array(PROMPT[-1:]), cache_after(first), ablation=mean)


def test_mean_and_zero_ablation_differ(model):
    zero = model_logits(model, Ablation(heads=frozenset({(0, 0)}), mode="zero"))
    mean = model_logits(model, Ablation(heads=frozenset({(0, 0)}), mode="mean"))
    assert np.abs(zero - mean).max() > 1e-2


def test_ablation_rejects_parts_the_model_lacks(model):
    c = model.manifest.config
    with pytest.raises(ValueError, match="no head 4 in layer 0"):
        Ablation(heads=frozenset({(0, 4)})).feeds(c)
    with pytest.raises(ValueError, match="no block 2"):
        Ablation(mlps=frozenset({2})).feeds(c)
    with pytest.raises(ValueError, match="mode"):
        Ablation(mode="random")


def reference_lens() -> tuple[np.ndarray, np.ndarray]:
    """(L+1, T, K) top probabilities and ids of ln_f + tied output layer on every residual row."""
    w = {k: v.astype(np.float64) for k, v in tiny_weights().items()}
    residual = reference_forward(PROMPT, tiny_weights(), L, H)["residual"]  # (L+1, T, D)
    mean = residual.mean(-1, keepdims=True)
    std = np.sqrt(residual.var(-1, keepdims=True) + 1e-5)
    normed = (residual - mean) / std * w["ln_f.weight"] + w["ln_f.bias"]
    logits = normed @ w["wte.weight"].T  # (L+1, T, V)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    ids = np.argsort(-probs, axis=-1)[..., :LENS_TOP_K]
    return np.take_along_axis(probs, ids, -1), ids


def model_lens(model, n_positions: int = len(PROMPT)) -> tuple[LogitLens, dict]:
    c = model.manifest.config
    feeds = model_feeds(c, np.array(PROMPT), KVCache.empty(c), lens_positions=n_positions)
    outputs = model.run(feeds)
    return LogitLens.from_outputs(c.n_layer, len(PROMPT), outputs), outputs


def test_logit_lens_matches_the_reference_at_every_layer_and_position(model):
    lens, _ = model_lens(model)
    probs, ids = reference_lens()
    assert lens.first_position == 0
    assert lens.probs.shape == lens.ids.shape == (L + 1, len(PROMPT), LENS_TOP_K)
    np.testing.assert_allclose(lens.probs, probs, rtol=1e-3, atol=1e-6)
    assert (lens.ids[..., 0] == ids[..., 0]).all()  # ties below the top are possible in float32


def test_logit_lens_last_layer_is_the_models_own_prediction(model):
    lens, outputs = model_lens(model)
    last_logits = outputs["last_logits"]
    p = np.exp(last_logits - last_logits.max())
    p /= p.sum()
    order = np.argsort(-p)[:LENS_TOP_K]
    assert lens.ids[-1, -1].tolist() == order.tolist()
    np.testing.assert_allclose(lens.probs[-1, -1], p[order], rtol=1e-5)
    # every pass ends with the model's own last row, whatever the lens asked
    assert outputs["lens_ids"][-1].tolist() == order.tolist()


def test_the_lens_can_read_only_the_last_positions(model):
    full, _ = model_lens(model)
    last3, outputs = model_lens(model, 3)
    assert last3.first_position == len(PROMPT) - 3
    assert outputs["lens_probs"].shape == ((L + 1) * 3 + 1, LENS_TOP_K)
    np.testing.assert_array_equal(last3.ids, full.ids[:, -3:])
    np.testing.assert_allclose(last3.probs, full.probs[:, -3:], rtol=1e-6)


def test_lens_rows_are_depth_by_depth():
    assert lens_rows(2, 3, 0).tolist() == []
    assert lens_rows(2, 3, 3).tolist() == list(range(9))
    assert lens_rows(2, 3, 1).tolist() == [2, 5, 8]  # the last position at depths 0, 1, 2


@pytest.mark.parametrize("call_bytes", [LENS_CALL_BYTES, 10 * 4 * 50257, 1])
def test_the_lens_in_several_calls_is_the_lens_in_one(model, call_bytes):
    """Spans of positions run again after the cache of those before them: the same lens as one
    pass with every row asked for (10 rows a call: 3 positions; 1 byte: one position a call)."""
    c = model.manifest.config
    one, _ = model_lens(model)
    calls = []

    def run(feeds):
        calls.append(feeds)
        return model.run(feeds)

    trace = forward(model.run, c, PROMPT)
    lens = logit_lens(run, c, PROMPT, cache_after(trace), call_bytes=call_bytes)
    assert len(calls) == len(lens_spans(len(PROMPT), c.n_layer, c.vocab_size, call_bytes))
    assert len(calls) == {LENS_CALL_BYTES: 1, 10 * 4 * 50257: 3, 1: len(PROMPT)}[call_bytes]
    assert lens.first_position == 0 and lens.ids.shape == one.ids.shape
    np.testing.assert_array_equal(lens.ids[..., 0], one.ids[..., 0])
    np.testing.assert_allclose(lens.probs, one.probs, rtol=1e-4, atol=1e-7)


def test_the_lens_of_a_long_text_reads_its_last_positions(model):
    c = model.manifest.config
    ids = (PROMPT * 9)[: c.n_positions]  # 64 tokens, 3 positions a call
    trace = forward(model.run, c, ids)
    lens = logit_lens(model.run, c, ids, cache_after(trace), call_bytes=10 * 4 * 50257)
    n = min(len(ids), LENS_MAX_POSITIONS)
    assert lens.first_position == len(ids) - n and lens.ids.shape[1] == n
    outputs = model.run(model_feeds(c, np.array(ids), KVCache.empty(c), lens_positions=n))
    one = LogitLens.from_outputs(c.n_layer, len(ids), outputs)
    np.testing.assert_array_equal(lens.ids[..., 0], one.ids[..., 0])
    np.testing.assert_allclose(lens.probs, one.probs, rtol=1e-4, atol=1e-7)


def test_the_lens_needs_the_cache_of_the_whole_text(model):
    c = model.manifest.config
    trace = forward(model.run, c, PROMPT[:-1])
    with pytest.raises(ValueError, match="cache holds 7 positions, the text 8"):
        logit_lens(model.run, c, PROMPT, cache_after(trace))


def test_lens_calls_of_gpt2_small_stay_within_their_bytes():
    """Each call's (rows, V) float32 arrays hold at most LENS_CALL_BYTES (one call for all 64
    positions: 13 x 64 + 1 rows, 167 MB each); the spans cover the last 64 positions."""
    c = ModelConfig(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257)
    for n_tokens in (1, 13, 64, 1000):
        spans = lens_spans(n_tokens, c.n_layer, c.vocab_size)
        n = min(n_tokens, LENS_MAX_POSITIONS)
        assert spans[0][0] == n_tokens - n and spans[-1][1] == n_tokens
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        sizes = [stop - start for start, stop in spans]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
        rows = [(c.n_layer + 1) * size + 1 for size in sizes]
        assert max(rows) * c.vocab_size * 4 <= LENS_CALL_BYTES
    assert len(lens_spans(64, c.n_layer, c.vocab_size)) == 16


def test_the_page_draws_the_lens_after_calls_that_double_its_columns():
    """GPT-2 small's 16 calls of 4 positions: columns 4, 8, 16 and 32 before all 64, less
    than two whole grids (not 15 growing ones); one call: only the whole grid."""
    assert partial_draws(16) == {1, 2, 4, 8}
    assert partial_draws(17) == {1, 2, 4, 8, 16}
    assert partial_draws(2) == {1}
    assert partial_draws(1) == set()
    for calls in range(1, 100):
        partial = sorted(partial_draws(calls))  # the last call draws the whole grid
        assert calls == 1 or partial[0] == 1  # the first columns come after one call
        assert sum(partial) < 2 * calls


def test_lenses_of_spans_that_do_not_follow_each_other_are_refused():
    def part(first: int) -> LogitLens:
        return LogitLens(np.ones((3, 2, 5)), np.ones((3, 2, 5), np.int64), first)

    assert LogitLens.joined([part(0), part(2)]).probs.shape == (3, 4, 5)
    with pytest.raises(ValueError, match="from position 3 does not follow one of positions 0 .. 1"):
        LogitLens.joined([part(0), part(3)])


def test_lens_outputs_of_another_shape_are_refused():
    outputs = {"lens_probs": np.ones((5, 5), np.float32), "lens_ids": np.ones((5, 5), np.int64)}
    with pytest.raises(ValueError, match="4 lens rows are not 3 depths"):
        LogitLens.from_outputs(2, 8, outputs)


def test_int8_lens_agrees_with_fp32_at_the_top(tiny_int8, model):
    int8_lens, _ = model_lens(open_model_dir(tiny_int8))
    fp32_lens, _ = model_lens(model)
    agree = (int8_lens.ids[..., 0] == fp32_lens.ids[..., 0]).mean()
    assert agree >= 0.9
