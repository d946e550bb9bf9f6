"""Attention decomposition and statistics, and the page's recompute check on a real trace,
checked against per-head, per-row Python loops."""

import math

import numpy as np
import pytest

from pyexplainer.core.attention import (
    AttentionSteps,
    attention_sparsity,
    causal_mask,
    decompose_attention,
    merge_heads,
    row_entropy,
    row_kl_from_uniform,
)
from pyexplainer.core.trace import spread_rows
from tests.perturbed import assert_reports, perturbed
from tests.view_case import view_case

H, DH = 3, 8


def random_qkv(t, past, seed):
    """q (H, T, Dh) for the T newest tokens, k and v (H, P + T, Dh), float32 like the model."""
    rng = np.random.default_rng(seed)
    s = past + t
    q = rng.normal(size=(H, t, DH)).astype(np.float32)
    k = rng.normal(size=(H, s, DH)).astype(np.float32)
    v = rng.normal(size=(H, s, DH)).astype(np.float32)
    return q, k, v


def reference_attention(q, k, v):
    """Masked attention one head, one query row at a time, with math.exp and Python floats."""
    n_heads, t, d_head = q.shape
    s = k.shape[1]
    past = s - t
    scores = np.zeros((n_heads, t, s))
    probs = np.zeros((n_heads, t, s))
    outputs = np.zeros((n_heads, t, d_head))
    for h in range(n_heads):
        for i in range(t):
            allowed = range(past + i + 1)  # query i is the token at position past + i
            for j in range(s):
                scores[h, i, j] = sum(float(q[h, i, d]) * float(k[h, j, d]) for d in range(d_head))
            scaled = [scores[h, i, j] / math.sqrt(d_head) for j in allowed]
            top = max(scaled)
            weights = [math.exp(x - top) for x in scaled]
            total = math.fsum(weights)
            for j in allowed:
                probs[h, i, j] = weights[j] / total
            for d in range(d_head):
                outputs[h, i, d] = math.fsum(probs[h, i, j] * float(v[h, j, d]) for j in allowed)
    return scores, probs, outputs


def reference_mask(t, s):
    return np.array([[j <= s - t + i for j in range(s)] for i in range(t)], dtype=bool)


@pytest.mark.parametrize(("t", "past"), [(1, 0), (5, 0), (1, 6), (3, 4)])
def test_matches_loop_reference(t, past):
    q, k, v = random_qkv(t, past, seed=10 * t + past)
    steps = decompose_attention(q, k, v)
    scores, probs, outputs = reference_attention(q, k, v)
    s = past + t
    assert isinstance(steps, AttentionSteps)
    np.testing.assert_array_equal(steps.mask, reference_mask(t, s))
    np.testing.assert_allclose(steps.scores, scores, atol=1e-5)
    assert steps.scale == 1 / math.sqrt(DH)
    np.testing.assert_allclose(steps.scaled, scores / math.sqrt(DH), atol=1e-5)
    mask = np.broadcast_to(reference_mask(t, s), steps.masked.shape)
    assert np.all(steps.masked[~mask] == -np.inf)
    np.testing.assert_array_equal(steps.masked[mask], steps.scaled[mask])
    np.testing.assert_allclose(steps.probs, probs, atol=1e-6)
    np.testing.assert_allclose(steps.head_outputs, outputs, atol=1e-5)


@pytest.mark.parametrize(("t", "past"), [(4, 0), (2, 5)])
def test_shapes_dtypes_masked_zeros_and_row_sums(t, past):
    q, k, v = random_qkv(t, past, seed=1)
    steps = decompose_attention(q, k, v)
    s = past + t
    for name in ("scores", "scaled", "masked", "probs"):
        assert getattr(steps, name).shape == (H, t, s)
        assert getattr(steps, name).dtype == np.float32
    assert steps.head_outputs.shape == (H, t, DH) and steps.head_outputs.dtype == np.float32
    assert steps.mask.shape == (t, s) and steps.mask.dtype == bool
    assert np.all(steps.probs[:, ~steps.mask] == 0.0)  # exact zeros, not tiny numbers
    assert np.all(steps.probs[:, steps.mask] > 0.0)
    np.testing.assert_allclose(steps.probs.sum(axis=-1), 1.0, atol=1e-6)


def test_cached_step_equals_the_rows_of_a_full_recomputation():
    q, k, v = random_qkv(6, 0, seed=2)
    full = decompose_attention(q, k, v)
    cached = decompose_attention(q[:, 4:], k, v)  # P = 4 cached tokens, T = 2 new ones
    np.testing.assert_array_equal(cached.mask, full.mask[4:])
    np.testing.assert_allclose(cached.probs, full.probs[:, 4:], atol=1e-6)
    np.testing.assert_allclose(cached.head_outputs, full.head_outputs[:, 4:], atol=1e-6)


def test_softmax_is_stable_for_large_scores():
    q, k, v = random_qkv(4, 2, seed=3)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        steps = decompose_attention(q * 1e4, k * 1e4, v)
    assert np.all(np.isfinite(steps.probs))
    np.testing.assert_allclose(steps.probs.sum(axis=-1), 1.0, atol=1e-6)


def test_first_token_attends_only_to_itself():
    q, k, v = random_qkv(4, 0, seed=4)
    steps = decompose_attention(q, k, v)
    np.testing.assert_array_equal(steps.probs[:, 0, 0], 1.0)
    np.testing.assert_array_equal(steps.head_outputs[:, 0], v[:, 0])


def test_causal_mask():
    for t, s in [(1, 1), (4, 4), (1, 7), (3, 8), (0, 3)]:
        np.testing.assert_array_equal(causal_mask(t, s), reference_mask(t, s).reshape(t, s))
    with pytest.raises(ValueError, match="T <= S"):
        causal_mask(5, 3)


def test_merge_heads_is_gpt2_layout():
    rng = np.random.default_rng(5)
    t = 4
    heads = rng.normal(size=(H, t, DH)).astype(np.float32)
    merged = merge_heads(heads)
    assert merged.shape == (t, H * DH)
    for h in range(H):
        for i in range(t):
            for d in range(DH):
                assert merged[i, h * DH + d] == heads[h, i, d]
    # GPT-2 splits (T, D) into heads as view(T, H, Dh) then permute -> (H, T, Dh); merge undoes it.
    x = rng.normal(size=(t, H * DH))
    np.testing.assert_array_equal(merge_heads(x.reshape(t, H, DH).transpose(1, 0, 2)), x)


def test_bad_shapes_raise_clear_errors():
    q, k, v = random_qkv(3, 2, seed=6)
    with pytest.raises(ValueError, match="S >= T"):
        decompose_attention(q, k[:, :2], v[:, :2])
    with pytest.raises(ValueError, match="matching q"):
        decompose_attention(q, k, v[:, :4])
    with pytest.raises(ValueError, match=r"\(H, T, Dh\)"):
        decompose_attention(q[0], k, v)


def test_float64_decomposition_is_float64_throughout_and_matches_the_loops():
    q, k, v = random_qkv(3, 4, seed=8)
    steps = decompose_attention(q, k, v, dtype=np.float64)
    for name in ("scores", "scaled", "masked", "probs", "head_outputs"):
        assert getattr(steps, name).dtype == np.float64
    scores, probs, outputs = reference_attention(q, k, v)
    np.testing.assert_allclose(steps.scores, scores, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(steps.probs, probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(steps.head_outputs, outputs, rtol=1e-12, atol=1e-14)
    assert np.all(steps.probs[:, ~steps.mask] == 0.0)


# The page's recompute check (Trace.attention_mismatch) ----------------------------------------


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


@pytest.mark.parametrize("which", ["trace", "chunked"])
def test_the_check_is_the_loop_attention_of_the_models_qkv_against_its_heads(case, which):
    """The tests' loop attention of the model's own Q, K, V against the model's float32 head
    outputs: not 0 (the model rounds to float32), and what the check reports."""
    trace = getattr(case, which)
    for layer in range(trace.q.shape[0]):
        loop = reference_attention(
            trace.q[layer], trace.present_keys[layer], trace.present_values[layer]
        )[2]
        expected = np.abs(loop - trace.head_outputs[layer]).max()
        assert trace.attention_mismatch(layer) == pytest.approx(expected, rel=1e-6)
        assert 0 < trace.attention_mismatch(layer) < 1e-5


@pytest.mark.parametrize("index", [(1, 3, 10, 7), (0, 0, 0, 0), (1, 1, 4, 2)])
def test_the_check_reports_a_moved_head_output(case, index):
    layer = index[0]
    honest = case.trace.attention_mismatch(layer)
    assert_reports(perturbed(case.trace, "head_outputs", index).attention_mismatch(layer), honest)
    other = 1 - layer  # the other layer's check does not see it
    assert perturbed(case.trace, "head_outputs", index).attention_mismatch(other) == (
        case.trace.attention_mismatch(other)
    )


def test_the_page_checks_eight_positions_spread_from_the_first_to_the_last():
    assert spread_rows(64) == [0, 9, 18, 27, 36, 45, 54, 63]
    assert spread_rows(5) == [0, 1, 2, 3, 4]  # a short pass: every position
    assert spread_rows(1) == [0]  # a cached step


@pytest.mark.parametrize("which", ["trace", "chunked"])
def test_the_check_at_some_positions_is_the_loop_attention_at_those_positions(case, which):
    """The check of a few rows (each against the keys up to it, after the cache for the chunked
    trace) equals the tests' loop attention of the whole pass, read at those rows."""
    trace = getattr(case, which)
    rows = [0, 2, trace.q.shape[2] - 1]
    for layer in range(trace.q.shape[0]):
        loop = reference_attention(
            trace.q[layer], trace.present_keys[layer], trace.present_values[layer]
        )[2]  # (H, T, Dh)
        expected = np.abs(loop[:, rows] - trace.head_outputs[layer][:, rows]).max()
        assert trace.attention_mismatch(layer, rows) == pytest.approx(expected, rel=1e-6)


def test_the_check_at_some_positions_sees_a_moved_head_output_only_there(case):
    honest = case.trace.attention_mismatch(1, [0, 4])
    assert_reports(
        perturbed(case.trace, "head_outputs", (1, 3, 4, 7)).attention_mismatch(1, [0, 4]), honest
    )
    unseen = perturbed(case.trace, "head_outputs", (1, 3, 5, 7)).attention_mismatch(1, [0, 4])
    assert unseen == honest


# Statistics -------------------------------------------------------------------------------


def allowed_cells(probs, mask, h, i):
    return [float(probs[h, i, j]) for j in range(mask.shape[1]) if mask[i, j]]


def reference_entropy(probs, mask):
    out = np.zeros(probs.shape[:2])
    for h in range(probs.shape[0]):
        for i in range(probs.shape[1]):
            out[h, i] = -sum(p * math.log2(p) for p in allowed_cells(probs, mask, h, i) if p > 0)
    return out


def reference_kl_from_uniform(probs, mask):
    out = np.zeros(probs.shape[:2])
    for h in range(probs.shape[0]):
        for i in range(probs.shape[1]):
            row = allowed_cells(probs, mask, h, i)
            uniform = 1 / len(row)
            out[h, i] = sum(p * math.log2(p / uniform) for p in row if p > 0)
    return out


def reference_sparsity(probs, mask, threshold):
    n_heads, t = probs.shape[:2]
    overall, row = np.zeros(n_heads), np.zeros((n_heads, t))
    for h in range(n_heads):
        small = total = 0
        for i in range(t):
            cells = allowed_cells(probs, mask, h, i)
            below = sum(1 for p in cells if p < threshold)
            row[h, i] = below / len(cells)
            small += below
            total += len(cells)
        overall[h] = small / total
    return overall, row


@pytest.fixture(params=[(5, 0), (3, 6)], ids=["no-cache", "cache"])
def attention(request):
    t, past = request.param
    q, k, v = random_qkv(t, past, seed=7)
    return decompose_attention(q * 2.0, k, v)  # sharper rows, so thresholds matter


def test_entropy_and_kl_match_loops(attention):
    probs, mask = attention.probs, attention.mask
    entropy = row_entropy(probs, mask)
    kl = row_kl_from_uniform(probs, mask)
    assert entropy.shape == kl.shape == probs.shape[:2]
    np.testing.assert_allclose(entropy, reference_entropy(probs, mask), atol=1e-12)
    np.testing.assert_allclose(kl, reference_kl_from_uniform(probs, mask), atol=1e-12)
    log2_allowed = np.log2(mask.sum(axis=1))  # (T,)
    np.testing.assert_allclose(
        entropy + kl, np.broadcast_to(log2_allowed, entropy.shape), atol=1e-5
    )


@pytest.mark.parametrize("threshold", [0.01, 0.1, 0.3])
def test_sparsity_matches_loops(attention, threshold):
    stats = attention_sparsity(attention.probs, attention.mask, threshold=threshold)
    overall, row = reference_sparsity(attention.probs, attention.mask, threshold)
    assert stats.threshold == threshold
    np.testing.assert_allclose(stats.overall, overall, rtol=1e-12)
    np.testing.assert_allclose(stats.row, row, rtol=1e-12)
    np.testing.assert_allclose(stats.row_mean, [sum(r) / len(r) for r in row], rtol=1e-12)
    np.testing.assert_allclose(stats.row_max, [max(r) for r in row], rtol=1e-12)


def test_statistics_by_hand():
    mask = causal_mask(3, 3)
    # head 0: uniform over what each row may see; head 1: all weight on the first token.
    probs = np.array(
        [
            [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]],
            [[1, 0, 0], [1, 0, 0], [1, 0, 0]],
        ]
    )
    np.testing.assert_allclose(row_entropy(probs, mask), [[0, 1, math.log2(3)], [0, 0, 0]])
    np.testing.assert_allclose(row_kl_from_uniform(probs, mask), [[0, 0, 0], [0, 1, math.log2(3)]])
    stats = attention_sparsity(probs, mask, threshold=0.01)
    # Masked zeros never count: head 1 has 3 of its 6 allowed weights at 0.
    np.testing.assert_allclose(stats.overall, [0, 3 / 6])
    np.testing.assert_allclose(stats.row, [[0, 0, 0], [0, 1 / 2, 2 / 3]])
    np.testing.assert_allclose(stats.row_mean, [0, 7 / 18])
    np.testing.assert_allclose(stats.row_max, [0, 2 / 3])


def test_statistics_ignore_values_in_masked_cells():
    mask = causal_mask(2, 2)
    clean = np.array([[[1.0, 0.0], [0.25, 0.75]]])
    dirty = clean.copy()
    dirty[0, 0, 1] = 0.5  # a masked cell: must not change any statistic
    np.testing.assert_array_equal(row_entropy(dirty, mask), row_entropy(clean, mask))
    np.testing.assert_array_equal(
        row_kl_from_uniform(dirty, mask), row_kl_from_uniform(clean, mask)
    )
    np.testing.assert_array_equal(
        attention_sparsity(dirty, mask).row, attention_sparsity(clean, mask).row
    )


def test_statistics_reject_bad_inputs():
    mask = causal_mask(2, 2)
    probs = np.array([[[1.0, 0.0], [0.5, 0.5]]])
    with pytest.raises(ValueError, match="mask"):
        row_entropy(probs, mask.astype(int))
    with pytest.raises(ValueError, match="end in the mask's shape"):
        row_entropy(probs[:, :, :1], mask)
    with pytest.raises(ValueError, match="at least one position"):
        row_entropy(probs, np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="threshold"):
        attention_sparsity(probs, mask, threshold=-0.1)
