"""The attention view: every step for one head and query, the merge and projection, and the
all-heads grid, against the tests' loop reference."""

import math

import numpy as np
import pytest

from pyexplainer.messages import text
from pyexplainer.views.attention import STEP_WORDS, STEPS, attention_grid, attention_row
from tests.conftest import TINY
from tests.perturbed import assert_reports, perturbed
from tests.test_attention import reference_attention
from tests.test_views_residual import exact_add_error
from tests.view_case import CACHED, view_case

L, H, D = TINY["n_layer"], TINY["n_head"], TINY["n_embd"]
DH = D // H


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


@pytest.mark.parametrize(("layer", "head", "position"), [(0, 0, 0), (1, 2, 6), (1, 3, 10)])
def test_every_step_of_one_head_matches_the_reference(case, layer, head, position):
    ref = case.reference
    view = attention_row(case.trace, case.tokens, layer, head, position)
    s = len(case.ids)
    allowed = np.arange(s) <= position
    assert (view.layer, view.head, view.position) == (layer, head, position)
    assert view.query_label == case.tokens[position].label
    assert view.key_labels == tuple(t.label for t in case.tokens)
    np.testing.assert_allclose(view.q, ref["q"][layer, head, position], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(view.keys, ref["k"][layer, head], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(view.values, ref["v"][layer, head], rtol=1e-4, atol=2e-5)
    raw = ref["attention_scores"][layer, head, position]  # NaN where masked
    np.testing.assert_allclose(view.scores[allowed], raw[allowed], rtol=1e-4, atol=1e-4)
    assert view.scale == pytest.approx(1 / math.sqrt(DH))
    np.testing.assert_allclose(view.scaled, view.scores * view.scale, rtol=1e-6)
    np.testing.assert_array_equal(view.mask, allowed)
    assert np.all(view.masked[~allowed] == -np.inf)
    np.testing.assert_array_equal(view.masked[allowed], view.scaled[allowed])
    np.testing.assert_allclose(
        view.weights, ref["attention_probs"][layer, head, position], atol=1e-5
    )
    assert np.all(view.weights[~allowed] == 0) and view.weights.sum() == pytest.approx(1, abs=1e-6)
    expected_head = ref["head_outputs"][layer, head, position]
    np.testing.assert_allclose(view.head_output, expected_head, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(view.model_head_output, expected_head, rtol=1e-4, atol=2e-5)


def test_heads_are_merged_projected_and_added_to_the_stream(case):
    ref, layer, position = case.reference, 1, 7
    view = attention_row(case.trace, case.tokens, layer, 2, position)
    heads = ref["head_outputs"][layer, :, position]  # (H, Dh)
    np.testing.assert_allclose(view.heads, heads, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(view.merged, np.concatenate(list(heads)), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(view.merged[2 * DH : 3 * DH], view.model_head_output)
    np.testing.assert_allclose(
        view.projected, ref["attn_out"][layer, position], rtol=1e-4, atol=2e-5
    )
    np.testing.assert_allclose(view.residual_before, ref["residual"][layer, position], atol=2e-5)
    np.testing.assert_allclose(view.residual_after, ref["residual_mid"][layer, position], atol=2e-5)


def loop_head_output(trace, layer, head, position):
    """(Dh,) the tests' loop attention (Python floats) of the model's own q, k, v."""
    one = slice(head, head + 1)
    q = trace.q[layer, one, position : position + 1]  # (1, 1, Dh)
    keys, values = (
        a[layer, one, : position + 1] for a in (trace.present_keys, trace.present_values)
    )
    return reference_attention(q, keys, values)[2][0, 0]


@pytest.mark.parametrize(("layer", "head", "position"), [(1, 2, 6), (1, 3, 10), (0, 1, 4)])
def test_the_checks_compare_float64_recomputations_with_the_models_numbers(
    case, layer, head, position
):
    """The loop reference's softmax(q k / sqrt(Dh)) V of the model's own q, k, v against the
    model's float32 head output; the exact add of the model's stream and attention output
    against its residual_mid. Neither is 0: the model is float32."""
    t = case.trace
    view = attention_row(t, case.tokens, layer, head, position)
    model = t.head_outputs[layer, head, position]
    error = np.abs(loop_head_output(t, layer, head, position) - model).max()
    assert view.head_mismatch == pytest.approx(error, rel=1e-6)
    assert 0 < view.head_mismatch < 1e-5
    add_error = exact_add_error(
        t.residual[layer, position], t.attn_out[layer, position], t.residual_mid[layer, position]
    )
    assert view.add_mismatch == pytest.approx(add_error)
    assert 0 < view.add_mismatch < 1e-5


def test_the_first_token_s_head_output_is_its_value_exactly(case):
    """Position 0 attends only to itself with weight exactly 1, in float64 and in the model:
    the one place where the head check is 0 by right."""
    view = attention_row(case.trace, case.tokens, 0, 2, 0)
    np.testing.assert_array_equal(view.model_head_output, case.trace.present_values[0, 2, 0])
    assert view.head_mismatch == 0.0


@pytest.mark.parametrize(
    ("name", "index", "figure"),
    [  # head 2 of block LAYER, the query at position POSITION (or 0, the first token)
        ("head_outputs", (1, 2, 6, 3), "head_mismatch"),
        ("head_outputs", (1, 2, 0, 7), "head_mismatch"),
        ("residual_mid", (1, 6, 20), "add_mismatch"),
        ("attn_out", (1, 6, 0), "add_mismatch"),
        ("residual", (1, 6, 31), "add_mismatch"),
    ],
)
def test_the_checks_report_a_moved_number(case, name, index, figure):
    layer, position = index[0], index[-2]  # (layer, [head,] position, dimension)
    honest = getattr(attention_row(case.trace, case.tokens, layer, 2, position), figure)
    moved = attention_row(perturbed(case.trace, name, index), case.tokens, layer, 2, position)
    assert_reports(getattr(moved, figure), honest)


def test_a_cached_step_attends_to_the_cached_keys(case):
    """After CACHED positions in the cache, a query still sees every earlier key."""
    position = CACHED + 3
    full = attention_row(case.trace, case.tokens, 1, 1, position)
    step = attention_row(case.chunked, case.tokens, 1, 1, position)
    assert step.key_labels == full.key_labels
    for name in ("scores", "weights", "keys", "values", "head_output", "projected"):
        np.testing.assert_allclose(getattr(step, name), getattr(full, name), atol=1e-5)
    np.testing.assert_array_equal(step.mask, full.mask)


def test_the_grid_holds_every_heads_weights(case):
    view = attention_grid(case.trace, case.tokens, 1)
    t = len(case.ids)
    np.testing.assert_allclose(view.probs, case.reference["attention_probs"][1], atol=1e-5)
    np.testing.assert_array_equal(view.mask, np.tril(np.ones((t, t), dtype=bool)))
    np.testing.assert_array_equal(view.query_positions, np.arange(t))
    assert view.query_labels == view.key_labels == tuple(v.label for v in case.tokens)


def test_the_grid_of_a_cached_step_is_the_last_rows_of_the_full_grid(case):
    full = attention_grid(case.trace, case.tokens, 0)
    step = attention_grid(case.chunked, case.tokens, 0)
    np.testing.assert_allclose(step.probs, full.probs[:, CACHED:], atol=1e-6)
    np.testing.assert_array_equal(step.query_positions, np.arange(CACHED, len(case.ids)))
    assert step.query_labels == full.query_labels[CACHED:]
    assert step.key_labels == full.key_labels


@pytest.mark.parametrize(
    ("layer", "head", "position", "message"),
    [
        (2, 0, 0, "layer must be in 0 .. 1"),
        (0, 4, 0, "head must be in 0 .. 3"),
        (0, -1, 0, "head must be in 0 .. 3"),
        (0, 0, 11, "position 11 was not computed"),
    ],
)
def test_bad_selections_are_named(case, layer, head, position, message):
    with pytest.raises(ValueError, match=message):
        attention_row(case.trace, case.tokens, layer, head, position)


def test_tokens_that_are_not_the_traced_ones_are_refused(case):
    with pytest.raises(ValueError, match="not the ones the trace computed"):
        attention_grid(case.trace, case.tokens[1:] + case.tokens[:1], 0)
    with pytest.raises(ValueError, match="only 3 tokens were given"):
        attention_grid(case.trace, case.tokens[:3], 0)


def test_every_step_has_its_name_and_formula_in_the_catalogue():
    assert set(STEP_WORDS) == set(STEPS)
    for name, formula in STEP_WORDS.values():
        assert text(name) and text(formula, scale="0.125")
