"""Attention as lines: the lines of a chosen token against the tests' loop GPT-2 (float64 softmax
of q·k/√d over the causal mask), through the cache and after a generation step, head toggles,
the long-prompt limit and the palette."""

import numpy as np
import pytest

from pyexplainer.core.generation import cache_after, forward
from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.attention_lines import (
    MAX_LINES,
    AttentionLinesView,
    attention_lines,
    head_style,
    toggled,
    token_lines,
)
from pyexplainer.views.colors import contrast_ratio
from pyexplainer.views.tokens import token_views
from tests.view_case import CACHED, view_case

WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def rows_of_lines(lines, heads, position):
    """{head: weights (position + 1,) indexed by target} from the lines, each target once."""
    assert lines.position == position
    rows = {h: np.full(position + 1, np.nan) for h in heads}
    for head, target, weight in zip(lines.head, lines.target, lines.weight, strict=True):
        assert np.isnan(rows[head][target]), "two lines to one target"
        rows[head][target] = weight
    return rows


@pytest.mark.parametrize(
    ("layer", "position", "heads"), [(0, 0, (0, 1, 2, 3)), (1, 6, (2,)), (1, 10, (0, 3))]
)
def test_a_token_has_one_line_per_head_to_each_key_it_may_attend_to(case, layer, position, heads):
    probs = case.reference["attention_probs"][layer]  # (H, T, T), float64 loops
    view = attention_lines(case.trace, case.tokens, layer)
    lines = token_lines(view, position, heads)
    assert len(lines.weight) == len(heads) * (position + 1)  # keys 0 .. position, no later one
    assert lines.heads == heads and lines.omitted == ()
    assert lines.label == case.tokens[position].label
    for h, row in rows_of_lines(lines, heads, position).items():
        np.testing.assert_allclose(row, probs[h, position, : position + 1], atol=2e-6)
    np.testing.assert_allclose(
        lines.weights, probs[list(heads), position, : position + 1], atol=2e-6
    )


def test_width_and_opacity_are_the_stated_functions_of_the_weight(case):
    lines = token_lines(attention_lines(case.trace, case.tokens, 1), 8, range(4))
    np.testing.assert_allclose(lines.width, 0.5 + 5.5 * lines.weight)
    np.testing.assert_allclose(lines.opacity, 0.1 + 0.9 * lines.weight)
    for h in range(4):  # each head's strongest drawn last, on top
        weights = lines.weight[lines.head == h]
        assert weights.tolist() == sorted(weights.tolist())


def test_the_first_token_attends_only_to_itself_with_weight_one(case):
    lines = token_lines(attention_lines(case.trace, case.tokens, 0), 0, range(4))
    assert (lines.head.tolist(), lines.target.tolist(), lines.weight.tolist()) == (
        [0, 1, 2, 3],
        [0] * 4,
        [1.0] * 4,
    )


def test_the_labels_and_rows_cover_every_position(case):
    view = attention_lines(case.trace, case.tokens, 1)
    assert view.labels == tuple(t.label for t in case.tokens)
    assert view.query_positions == range(len(case.ids))
    assert view.weights.shape == (4, len(case.ids), len(case.ids))


def test_a_cached_step_draws_lines_to_the_cached_tokens(case):
    """After CACHED positions in the cache the queries are CACHED .., the keys every position."""
    view = attention_lines(case.chunked, case.tokens, 1)
    assert view.query_positions == range(CACHED, len(case.ids))
    position = CACHED + 2
    lines = token_lines(view, position, (1, 3))
    probs = case.reference["attention_probs"][1]
    for h, row in rows_of_lines(lines, (1, 3), position).items():
        np.testing.assert_allclose(row, probs[h, position, : position + 1], atol=2e-6)
    with pytest.raises(ValueError, match=r"position 2 is not a query of this view \(positions 5"):
        token_lines(view, 2, (0,))


def test_after_a_generation_step_the_joined_trace_covers_every_token(tiny_fp32, case):
    """Trace.extended (the page's trace after Generate): the new token's lines and the prompt's
    both match the loop reference of the whole text."""
    model = open_model_dir(tiny_fp32)
    first = forward(model.run, case.config, case.ids[:-1])
    step = forward(model.run, case.config, case.ids[-1:], cache_after(first))
    view = attention_lines(first.extended(step), case.tokens, 1)
    probs = case.reference["attention_probs"][1]
    for position in (len(case.ids) - 1, 3):
        lines = token_lines(view, position, range(4))
        for h, row in rows_of_lines(lines, range(4), position).items():
            np.testing.assert_allclose(row, probs[h, position, : position + 1], atol=2e-6)


def test_heads_are_switched_one_at_a_time():
    assert toggled((0, 1, 2), 1, 4) == (0, 2)
    assert toggled((2,), 0, 4) == (0, 2)
    assert toggled((3,), 3, 4) == ()
    with pytest.raises(ValueError, match="head must be in 0 .. 3, got 4"):
        toggled((0,), 4, 4)


def test_no_head_shown_draws_no_line_and_bad_choices_are_named(case):
    view = attention_lines(case.trace, case.tokens, 0)
    assert token_lines(view, 4, ()).weight.size == 0
    with pytest.raises(ValueError, match="head must be in 0 .. 3, got -1"):
        token_lines(view, 4, (-1,))
    with pytest.raises(ValueError, match="position 99 is not a query"):
        token_lines(view, 99, (0,))
    with pytest.raises(ValueError, match="layer must be in 0 .. 1, got 2"):
        attention_lines(case.trace, case.tokens, 2)
    with pytest.raises(ValueError, match="not the ones the trace computed"):
        other = "A different text, long enough to cover the trace."
        tokens = token_views(case.tokenizer, other, case.tokenizer.encode(other), [])
        attention_lines(case.trace, tokens, 0)


def test_over_the_limit_each_head_keeps_its_strongest_lines_and_counts_the_rest(case):
    view = attention_lines(case.trace, case.tokens, 1)
    probs = case.reference["attention_probs"][1]
    position = 10
    lines = token_lines(view, position, (0, 2), max_lines=6)  # 3 of 11 lines per head
    for h in (0, 2):
        row = probs[h, position, : position + 1]
        drawn = sorted(lines.target[lines.head == h].tolist())
        assert drawn == sorted(np.argsort(row)[-3:].tolist())
        (omitted,) = [o for o in lines.omitted if o.head == h]
        assert omitted.count == 8
        assert omitted.weight == pytest.approx(np.sort(row)[:-3].sum(), abs=1e-6)


def test_a_full_gpt2_context_stays_within_the_limit_and_every_line_is_drawn_or_counted():
    rng = np.random.default_rng(0)
    h, t = 12, 1024
    logits = np.where(np.tril(np.ones((t, t), bool)), rng.standard_normal((h, t, t)), -np.inf)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    styles = tuple(head_style(i) for i in range(h))
    view = AttentionLinesView(0, tuple(f"t{i}" for i in range(t)), 0, weights, styles)
    every = token_lines(view, t - 1, range(h))
    assert len(every.weight) <= MAX_LINES
    for head in range(h):
        drawn = every.weight[every.head == head]
        (omitted,) = [o for o in every.omitted if o.head == head]
        assert len(drawn) + omitted.count == t
        assert drawn.sum() + omitted.weight == pytest.approx(1)
    one = token_lines(view, t - 1, (5,))  # one head over the whole context: complete
    assert len(one.weight) == t and one.omitted == ()


def test_heads_have_distinct_strokes_readable_on_white():
    """Up to 24 heads, each its own colour and dash; every colour at least 3:1 on white (WCAG
    1.4.11, graphics), which the pale colours of the Tol and Okabe-Ito schemes are not."""
    styles = [head_style(h) for h in range(24)]
    assert len(set(styles)) == 24
    for style in styles:
        rgb = [int(style.colour[i : i + 2], 16) for i in (1, 3, 5)]
        assert contrast_ratio(rgb, WHITE) >= 3, style
