"""The interpretability, debugging and head-role panels, against loops over the tests' reference
forward pass and against hand-made attention patterns with known answers."""

import math
import statistics

import numpy as np
import pytest

from pyexplainer.core.attention import causal_mask
from pyexplainer.core.generation import forward
from pyexplainer.messages import text
from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.debugging import TENSORS, debugging, histogram
from pyexplainer.views.head_roles import (
    END_OF_TEXT,
    ROLES,
    first_token_score,
    head_roles,
    induction_score,
    induction_scores,
    mean_entropy,
    previous_token_score,
    ranked_heads,
    repeated_random_tokens,
    self_attention_score,
)
from pyexplainer.views.interpretability import METRICS, head_metrics, interpretability
from tests.conftest import TINY, tiny_weights
from tests.gpt2_reference import reference_forward
from tests.view_case import CACHED, view_case

L, H, D = TINY["n_layer"], TINY["n_head"], TINY["n_embd"]
DH = D // H


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


# The tests' own metrics: loops over the rows of the reference weights (L, H, T, T) -------------


def row_weights(probs, layer, head, i):
    """The weights query i may use: keys 0 .. i."""
    return [float(probs[layer, head, i, j]) for j in range(i + 1)]


def loop_entropy(row):
    return -sum(p * math.log2(p) for p in row if p > 0)


def loop_kl_uniform(row):
    n = len(row)
    return sum(p * math.log2(p / (1 / n)) for p in row if p > 0)


def loop_metrics(probs, layer, head, rows, threshold):
    """(overall sparsity, row sparsities, entropies, KLs) of one head over the query rows."""
    below = total = 0
    row_sparsity, entropy, kl = [], [], []
    for i in rows:
        row = row_weights(probs, layer, head, i)
        small = sum(1 for p in row if p < threshold)
        below, total = below + small, total + len(row)
        row_sparsity.append(small / len(row))
        entropy.append(loop_entropy(row))
        kl.append(loop_kl_uniform(row))
    return below / total, row_sparsity, entropy, kl


# Interpretability ---------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.01, 0.1])
@pytest.mark.parametrize("chunked", [False, True], ids=["one-pass", "cached"])
def test_interpretability_matches_loops_over_the_reference(case, threshold, chunked):
    trace = case.chunked if chunked else case.trace
    rows = range(CACHED if chunked else 0, len(case.ids))
    probs = case.reference["attention_probs"]  # (L, H, T, T)
    for layer in range(L):
        view = interpretability(trace, case.tokens, layer, threshold=threshold)
        m = view.heads
        assert view.layer == layer and m.threshold == threshold
        assert view.query_positions.tolist() == list(rows)
        assert view.query_labels == tuple(case.tokens[i].label for i in rows)
        np.testing.assert_allclose(m.max_entropy, [math.log2(i + 1) for i in rows], atol=1e-12)
        per_head = []
        for head in range(H):
            sparsity, row_sparsity, entropy, kl = loop_metrics(probs, layer, head, rows, threshold)
            per_head.append(
                (sparsity, statistics.fmean(row_sparsity), max(row_sparsity))
                + (statistics.fmean(entropy), statistics.fmean(kl))
            )
            # float32 weights near the threshold could flip a count: none do in this case
            assert m.sparsity[head] == pytest.approx(sparsity, abs=1e-12)
            np.testing.assert_allclose(m.row_sparsity[head], row_sparsity, atol=1e-12)
            assert m.row_sparsity_mean[head] == pytest.approx(per_head[-1][1], abs=1e-12)
            assert m.row_sparsity_max[head] == pytest.approx(per_head[-1][2], abs=1e-12)
            np.testing.assert_allclose(m.entropy[head], entropy, atol=1e-4)
            np.testing.assert_allclose(m.kl_uniform[head], kl, atol=1e-4)
            assert m.entropy_mean[head] == pytest.approx(per_head[-1][3], abs=1e-4)
            assert m.kl_uniform_mean[head] == pytest.approx(per_head[-1][4], abs=1e-4)
        a = view.average
        averaged = [sum(h[k] for h in per_head) / H for k in range(5)]
        got = [a.sparsity, a.row_sparsity_mean, a.row_sparsity_max, a.entropy_mean]
        np.testing.assert_allclose(got + [a.kl_uniform_mean], averaged, atol=1e-4)


def test_uniform_rows_have_zero_kl_and_full_entropy():
    mask = causal_mask(4, 4)
    probs = (mask / mask.sum(axis=1, keepdims=True))[None]  # (1, 4, 4) each row even
    m = head_metrics(probs, mask)
    np.testing.assert_allclose(m.entropy[0], [0, 1, math.log2(3), 2], atol=1e-12)
    np.testing.assert_allclose(m.kl_uniform[0], 0, atol=1e-12)
    np.testing.assert_allclose(m.max_entropy, [0, 1, math.log2(3), 2])
    assert m.sparsity[0] == 0 and m.row_sparsity_max[0] == 0


def test_one_hot_rows_have_zero_entropy_and_known_sparsity():
    mask = causal_mask(4, 4)
    probs = np.zeros((1, 4, 4))
    probs[0, :, 0] = 1  # every row on the first token
    m = head_metrics(probs, mask, threshold=0.01)
    np.testing.assert_allclose(m.entropy[0], 0)
    np.testing.assert_allclose(m.kl_uniform[0], [0, 1, math.log2(3), 2], atol=1e-12)
    # allowed cells 1 + 2 + 3 + 4 = 10, of which 0 + 1 + 2 + 3 = 6 are zero
    assert m.sparsity[0] == pytest.approx(6 / 10)
    np.testing.assert_allclose(m.row_sparsity[0], [0, 1 / 2, 2 / 3, 3 / 4])
    assert m.row_sparsity_mean[0] == pytest.approx((0 + 1 / 2 + 2 / 3 + 3 / 4) / 4)
    assert m.row_sparsity_max[0] == pytest.approx(3 / 4)


def test_every_metric_is_named_and_defined_with_its_threshold():
    for metric in METRICS:
        assert text(f"interpretability.{metric}")
        definition = text(f"interpretability.{metric}.definition", threshold=0.01)
        assert definition.strip()
    assert "0.01" in text("interpretability.sparsity.definition", threshold=0.01)


def test_interpretability_rejects_a_bad_layer(case):
    with pytest.raises(ValueError, match="layer must be in 0 .. 1"):
        interpretability(case.trace, case.tokens, L)


# Debugging ----------------------------------------------------------------------------------


def loop_histogram(values, bins):
    """Counts of equal-width bins over [min, max], the last bin closed, and the statistics."""
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins
    counts = [0] * bins
    for x in values:
        counts[min(int((x - lo) / width), bins - 1)] += 1
    edges = [lo + k * width for k in range(bins + 1)]
    stats = (statistics.fmean(values), statistics.pstdev(values), lo, hi)
    return counts, edges, stats


def check_histogram(got, values, bins, reference_values=None, atol=1e-4, rtol=1e-9):
    counts, edges, stats = loop_histogram(values, bins)
    assert got.counts.tolist() == counts and got.count == len(values)
    scale = max(abs(edges[0]), abs(edges[-1]))
    np.testing.assert_allclose(got.edges, edges, rtol=rtol, atol=rtol * scale)
    assert (got.mean, got.std, got.min, got.max) == pytest.approx(stats, rel=rtol, abs=1e-12)
    if reference_values is not None:  # the values themselves are the model's
        ref = (statistics.fmean(reference_values), statistics.pstdev(reference_values))
        ref += (min(reference_values), max(reference_values))
        assert (got.mean, got.std, got.min, got.max) == pytest.approx(ref, abs=atol)


def flat(array):
    return [float(x) for x in np.asarray(array, dtype=np.float64).ravel()]


@pytest.mark.parametrize(("layer", "head", "bins"), [(0, 0, 40), (1, 3, 7)])
def test_debugging_histograms_match_loops_and_the_reference(case, layer, head, bins):
    trace, ref = case.trace, case.reference
    view = debugging(trace, layer, head, bins=bins)
    t = len(case.ids)
    cells = [(i, j) for i in range(t) for j in range(i + 1)]  # allowed (query, key) cells
    q, k = trace.q[layer, head], trace.present_keys[layer, head]
    raw = [float(np.dot(q[i], k[j])) for i, j in cells]  # float32, as the model computes them
    weights = trace.attention(layer).probs[head]  # the weights the attention view shows
    ref_raw = [ref["attention_scores"][layer, head, i, j] for i, j in cells]
    ref_weights = [ref["attention_probs"][layer, head, i, j] for i, j in cells]
    assert (view.layer, view.head) == (layer, head)
    assert view.scale == pytest.approx(1 / math.sqrt(DH))
    check_histogram(view.residual, flat(trace.residual[layer]), bins, flat(ref["residual"][layer]))
    check_histogram(view.q, flat(trace.q[layer, head]), bins, flat(ref["q"][layer, head]))
    check_histogram(view.k, flat(k), bins, flat(ref["k"][layer, head]))
    check_histogram(
        view.v, flat(trace.present_values[layer, head]), bins, flat(ref["v"][layer, head])
    )
    check_histogram(view.scores, raw, bins, ref_raw, atol=1e-3, rtol=1e-6)
    scaled = [x / math.sqrt(DH) for x in ref_raw]
    assert view.scaled.count == len(cells)
    assert (view.scaled.min, view.scaled.max) == pytest.approx((min(scaled), max(scaled)), abs=1e-3)
    np.testing.assert_allclose(view.scaled.edges, view.scores.edges * view.scale, rtol=1e-5)
    check_histogram(view.weights, flat([weights[i, j] for i, j in cells]), bins, ref_weights)
    check_histogram(view.mlp_act, flat(trace.mlp_act[layer]), bins, flat(ref["mlp_act"][layer]))


def test_debugging_of_a_cached_step_covers_the_cached_keys(case):
    view = debugging(case.chunked, 1, 2)
    t, s = len(case.ids) - CACHED, len(case.ids)
    assert view.q.count == t * DH and view.k.count == view.v.count == s * DH
    assert view.weights.count == sum(CACHED + i + 1 for i in range(t))
    assert view.residual.count == t * D and view.mlp_act.count == t * 4 * D


def test_histogram_by_hand():
    h = histogram(np.array([[0.0, 1.0], [1.0, 4.0]]), bins=4)
    assert h.counts.tolist() == [1, 2, 0, 1] and h.edges.tolist() == [0, 1, 2, 3, 4]
    assert (h.count, h.mean, h.min, h.max) == (4, 1.5, 0, 4)
    assert h.std == pytest.approx(math.sqrt((1.5**2 + 0.5**2 * 2 + 2.5**2) / 4))
    with pytest.raises(ValueError, match="finite"):
        histogram(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="at least one"):
        histogram(np.array([]))


def test_every_histogram_is_named():
    for name in TENSORS:
        assert text(f"debugging.{name}", head=0, scale=0.125)


# Head roles ---------------------------------------------------------------------------------


def loop_role_scores(probs, layer, head, rows):
    """(previous-token, first-token, self, mean entropy) over query rows >= 1."""
    rows = [i for i in rows if i >= 1]
    p = probs[layer, head]
    previous = statistics.fmean(float(p[i, i - 1]) for i in rows)
    first = statistics.fmean(float(p[i, 0]) for i in rows)
    diagonal = statistics.fmean(float(p[i, i]) for i in rows)
    entropy = statistics.fmean(loop_entropy(row_weights(probs, layer, head, i)) for i in rows)
    return previous, first, diagonal, entropy


@pytest.mark.parametrize("chunked", [False, True], ids=["one-pass", "cached"])
def test_role_scores_match_loops_over_the_reference(case, chunked):
    trace = case.chunked if chunked else case.trace
    view = head_roles(trace)
    assert view.induction is None
    rows = range(CACHED if chunked else 0, len(case.ids))
    for layer in range(L):
        for head in range(H):
            expected = loop_role_scores(case.reference["attention_probs"], layer, head, rows)
            got = (view.previous_token, view.first_token, view.self_attention, view.entropy)
            got = [float(scores[layer, head]) for scores in got]
            np.testing.assert_allclose(got, expected, atol=1e-4)


def test_induction_scores_match_loops_over_the_reference(tiny_fp32):
    model = open_model_dir(tiny_fp32)
    n = 12
    ids = repeated_random_tokens(n, model.manifest.config.vocab_size, seed=3)
    repeated = forward(model.run, model.manifest.config, ids)
    scores = induction_scores(ids, repeated.q, repeated.present_keys, repeated.present_values)
    view = head_roles(repeated, scores)
    ref = reference_forward(ids, tiny_weights(), L, H)["attention_probs"]  # (L, H, 2n, 2n)
    for layer in range(L):
        for head in range(H):
            expected = sum(ref[layer, head, i, i - n + 1] for i in range(n, 2 * n)) / n
            assert view.induction[layer, head] == pytest.approx(expected, abs=1e-5)
    ranked = ranked_heads(view, "induction")
    assert ranked[0].score == pytest.approx(view.induction.max())


def test_repeated_random_tokens():
    ids = repeated_random_tokens(20, 50257, seed=1)
    assert ids == repeated_random_tokens(20, 50257, seed=1)
    assert ids != repeated_random_tokens(20, 50257, seed=2)
    assert len(ids) == 40 and ids[:20] == ids[20:] and len(set(ids[:20])) == 20
    assert all(isinstance(t, int) and 0 <= t < 50257 for t in ids)
    every = repeated_random_tokens(50256, 50257, seed=0)[:50256]  # every id but the special one
    assert sorted(every) == list(range(END_OF_TEXT))
    assert sorted(repeated_random_tokens(5, 5, seed=0)[:5]) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="n must be in 1 .. 50256"):
        repeated_random_tokens(50257, 50257, seed=0)
    with pytest.raises(ValueError, match="n must be in"):
        repeated_random_tokens(0, 100, seed=0)


def previous_token_pattern(t):
    """Row i puts all its weight on position i - 1 (row 0 on itself)."""
    probs = np.zeros((t, t))
    probs[0, 0] = 1
    for i in range(1, t):
        probs[i, i - 1] = 1
    return probs


def test_role_scores_by_hand():
    t = 5
    previous = previous_token_pattern(t)
    diagonal = np.eye(t)
    first = np.zeros((t, t))
    first[:, 0] = 1
    uniform = causal_mask(t, t) / np.arange(1, t + 1)[:, None]
    probs = np.stack([previous, diagonal, first, uniform])  # (4 heads, T, T)
    spread = (1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 4  # uniform rows 1 .. 4: 1 / (i + 1) on each key
    np.testing.assert_allclose(previous_token_score(probs), [1, 0, 1 / 4, spread])
    # row 1's previous token is the first token: the previous-token head scores 1/4 here
    np.testing.assert_allclose(first_token_score(probs), [1 / 4, 0, 1, spread])
    np.testing.assert_allclose(self_attention_score(probs), [0, 1, 0, spread])
    expected_entropy = sum(math.log2(i + 1) for i in range(1, t)) / (t - 1)
    np.testing.assert_allclose(mean_entropy(probs), [0, 0, 0, expected_entropy], atol=1e-12)


def test_role_scores_of_a_cached_step_use_absolute_positions():
    full = previous_token_pattern(6)  # (6, 6)
    step = full[4:]  # the last 2 queries after 4 cached positions: (2, 6)
    assert previous_token_score(step, past_length=4) == 1
    assert self_attention_score(step, past_length=4) == 0
    with pytest.raises(ValueError, match="position 1 or later"):
        previous_token_score(full[:1], past_length=0)


def test_a_perfect_induction_pattern_scores_one():
    n = 4
    probs = np.zeros((2 * n, 2 * n))
    probs[np.arange(n), np.arange(n)] = 1  # first half: attend to itself
    for i in range(n, 2 * n):
        probs[i, i - n + 1] = 1  # second half: the token after the earlier occurrence
    assert induction_score(probs) == 1
    assert induction_score(previous_token_pattern(2 * n)) == 0  # i - 1 is never i - n + 1, n > 2
    with pytest.raises(ValueError, match="repeated sequence"):
        induction_score(probs[:, :-1])


def test_ranked_heads_filter_and_order(case):
    view = head_roles(case.trace)
    for role in ROLES[:-1]:
        scores = getattr(view, role)
        ranked = ranked_heads(view, role)
        assert len(ranked) == L * H
        assert [h.score for h in ranked] == sorted(scores.ravel().tolist(), reverse=True)
        assert all(h.score == scores[h.layer, h.head] for h in ranked)
        cut = float(np.median(scores))
        assert [h for h in ranked if h.score >= cut] == ranked_heads(view, role, minimum=cut)
        assert text(f"head_roles.{role}") and text(f"head_roles.{role}.definition", n=10)
    with pytest.raises(ValueError, match="no induction scores"):
        ranked_heads(view, "induction")
    with pytest.raises(ValueError, match="role must be one of"):
        ranked_heads(view, "copying")
