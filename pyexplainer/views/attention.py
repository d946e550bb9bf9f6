"""The attention view: one head's computation for one query token, step by step, then the merge of
all heads and the output projection, and the all-heads grid of one layer.

Steps 1-5 come from core.attention.decompose_attention applied in float64 to the model's own Q,
K and V; their head output is checked against the model's float32 head_outputs. The merge is a
reshape of the model's head outputs (nothing to recompute); the projection is the model's own
attn_out, not rechecked (the trace has no c_proj weights); the residual add is recomputed in
float64 from the stream and attn_out and checked against the model's residual_mid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.attention import AttentionSteps, decompose_attention, merge_heads
from pyexplainer.core.trace import Trace, largest_difference
from pyexplainer.views.selection import checked_index, covered_tokens, row_of_position
from pyexplainer.views.tokens import TokenView

# The order of the steps, and the words the step-by-step panel shows for each
STEPS = ("scores", "scale", "mask", "softmax", "weighted_sum", "merge", "projection", "residual")
STEP_WORDS = {  # step -> (its name, its formula)
    "scores": ("attention.step.scores", "attention.formula.scores"),
    "scale": ("attention.step.scale", "attention.formula.scale"),
    "mask": ("attention.step.mask", "attention.formula.mask"),
    "softmax": ("attention.step.softmax", "attention.formula.softmax"),
    "weighted_sum": ("attention.step.weighted_sum", "attention.formula.weighted_sum"),
    "merge": ("attention.step.merge", "attention.formula.merge"),
    "projection": ("attention.step.projection", "attention.formula.projection"),
    "residual": ("attention.step.residual", "attention.formula.residual"),
}


@dataclasses.dataclass(frozen=True, eq=False)
class AttentionRowView:
    """Head `head` of block `layer` for the query at `position`, S keys; then all heads merged.
    Steps recomputed here are float64; the model's are float32."""

    layer: int
    head: int
    position: int  # absolute position of the query token; it may attend to keys 0 .. position
    query_label: str
    key_labels: tuple[str, ...]  # (S,) every position the keys cover, cached ones included
    q: np.ndarray  # (Dh,) the query
    keys: np.ndarray  # (S, Dh) every key of this head
    scores: np.ndarray  # (S,) q . k for each key
    scale: float  # 1 / sqrt(Dh)
    scaled: np.ndarray  # (S,) scores * scale
    mask: np.ndarray  # (S,) bool, True = may attend (keys 0 .. position)
    masked: np.ndarray  # (S,) scaled, -inf where the mask forbids
    weights: np.ndarray  # (S,) softmax of masked: 0 where forbidden, sums to 1
    values: np.ndarray  # (S, Dh) every value of this head
    head_output: np.ndarray  # (Dh,) weights @ values, float64
    model_head_output: np.ndarray  # (Dh,) the model's own head output
    head_mismatch: float  # max |head_output - model_head_output|: the model's rounding
    heads: np.ndarray  # (H, Dh) every head's output for this query (the model's)
    merged: np.ndarray  # (D,) heads concatenated: column h * Dh + d is head h, dimension d
    projected: np.ndarray  # (D,) attn_out: merged @ c_proj weight + c_proj bias, by the model
    residual_before: np.ndarray  # (D,) the stream entering the block, residual[layer]
    residual_after: np.ndarray  # (D,) residual_mid[layer], after the attention add
    add_mismatch: float  # max |residual_before + projected in float64 - residual_after|


@dataclasses.dataclass(frozen=True, eq=False)
class AttentionGridView:
    """Every head's attention weights in block `layer`, for the grid of small heatmaps."""

    layer: int
    probs: np.ndarray  # (H, T, S) row i is the query at position P + i
    mask: np.ndarray  # (T, S) bool, True = may attend
    query_positions: np.ndarray  # (T,) absolute positions of the rows
    query_labels: tuple[str, ...]  # (T,)
    key_labels: tuple[str, ...]  # (S,)


def attention_row(
    trace: Trace, tokens: Sequence[TokenView], layer: int, head: int, position: int
) -> AttentionRowView:
    """The attention steps of (layer, head) for the query token at absolute `position`."""
    covered = covered_tokens(trace, tokens)
    layer = checked_index("layer", layer, trace.q.shape[0])
    head = checked_index("head", head, trace.q.shape[1])
    row = row_of_position(trace, position)
    keys = trace.present_keys[layer, head]  # (S, Dh)
    values = trace.present_values[layer, head]  # (S, Dh)
    query = trace.q[layer, head : head + 1]  # (1, T, Dh)
    steps = decompose_attention(query, keys[None], values[None], dtype=np.float64)
    head_output = steps.head_outputs[0, row]  # (Dh,)
    model_head_output = trace.head_outputs[layer, head, row]  # (Dh,)
    merged = merge_heads(trace.head_outputs[layer][:, row : row + 1])[0]  # (H, 1, Dh) -> (D,)
    before, after = trace.residual[layer, row], trace.residual_mid[layer, row]  # (D,)
    projected = trace.attn_out[layer, row]  # (D,)
    return AttentionRowView(
        layer=layer,
        head=head,
        position=position,
        query_label=covered[position].label,
        key_labels=tuple(v.label for v in covered),
        q=trace.q[layer, head, row],
        keys=keys,
        scores=steps.scores[0, row],
        scale=steps.scale,
        scaled=steps.scaled[0, row],
        mask=steps.mask[row],
        masked=steps.masked[0, row],
        weights=steps.probs[0, row],
        values=values,
        head_output=head_output,
        model_head_output=model_head_output,
        head_mismatch=largest_difference(head_output, model_head_output),
        heads=trace.head_outputs[layer, :, row],
        merged=merged,
        projected=projected,
        residual_before=before,
        residual_after=after,
        add_mismatch=largest_difference(before.astype(np.float64) + projected, after),
    )


def attention_grid(
    trace: Trace,
    tokens: Sequence[TokenView],
    layer: int,
    *,
    steps: AttentionSteps | None = None,
) -> AttentionGridView:
    """All heads of block `layer`: softmax weights of every query row over every key; `steps`:
    trace.attention(layer) when the caller has it already (views.trace_memo)."""
    covered = covered_tokens(trace, tokens)
    layer = checked_index("layer", layer, trace.q.shape[0])
    steps = trace.attention(layer) if steps is None else steps
    return AttentionGridView(
        layer=layer,
        probs=steps.probs,
        mask=steps.mask,
        query_positions=trace.past_length + np.arange(len(trace.input_ids)),
        query_labels=tuple(v.label for v in covered[trace.past_length :]),
        key_labels=tuple(v.label for v in covered),
    )
