"""Attention as lines, the head view of BertViz: the tokens of one block in two columns, the token
that attends on the left, the tokens it attends to on the right, and a line from the chosen token
to every token it may attend to (positions 0 .. its own, the causal mask), one line per shown head.

Each line's weight is that head's real attention weight, the softmax of the model's own Q·K
(Trace.attention, the same numbers as the heatmaps). A line's stroke width and opacity are both
linear in its weight: width = 0.5 + 5.5 w px, opacity = 0.1 + 0.9 w, so a weight of 0 is still
a faint hairline (it exists: the mask allows it) and a weight of 1 a thick opaque line.

Colours: Paul Tol's "muted" qualitative scheme, made to stay distinct for colour-blind readers,
without its three pale colours (cyan, sand, teal fall below 3:1 on white, WCAG's minimum for
graphics); the six left cycle with four dash patterns, 24 distinct strokes, so that no two heads
of GPT-2 small to large (12 to 20 heads) look alike; each head's toggle button shows its stroke.

Long prompts (up to 1024 tokens): both columns keep every token (the drawing scrolls), and at
most MAX_LINES lines are drawn; beyond that each shown head keeps its strongest lines and the
rest are counted, per head, with the attention they hold together (the view says so).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Sequence

import numpy as np

from pyexplainer.core.attention import AttentionSteps
from pyexplainer.core.trace import Trace
from pyexplainer.views.selection import checked_index, covered_tokens
from pyexplainer.views.tokens import TokenView

PALETTE = ("#332288", "#CC6677", "#117733", "#882255", "#999933", "#AA4499")  # Tol muted
DASHES = ("", "6 3", "2 3", "8 3 2 3")  # SVG stroke-dasharray: solid, dashed, dotted, dash-dot
MAX_LINES = 1024  # one head over GPT-2's whole context is drawn complete
MIN_WIDTH, MAX_WIDTH = 0.5, 6.0  # px, at weight 0 and 1
MIN_OPACITY = 0.1  # at weight 0; 1 at weight 1


@dataclasses.dataclass(frozen=True)
class HeadStyle:
    colour: str  # "#RRGGBB"
    dash: str  # SVG stroke-dasharray, "" for solid


@dataclasses.dataclass(frozen=True, eq=False)
class AttentionLinesView:
    """Every head's attention weights in block `layer`, for lines from any query token."""

    layer: int
    labels: tuple[str, ...]  # (S,) every position's token, cached ones included
    first_query: int  # P: the rows are the queries at positions P .. P + T - 1
    weights: np.ndarray  # (H, T, S) softmax weights, 0 where the causal mask forbids
    styles: tuple[HeadStyle, ...]  # (H,) each head's stroke

    @property
    def query_positions(self) -> range:
        return range(self.first_query, self.first_query + self.weights.shape[1])


@dataclasses.dataclass(frozen=True)
class Omitted:
    """The lines of one head not drawn (a long prompt): how many, and their weights' sum."""

    head: int
    count: int
    weight: float


@dataclasses.dataclass(frozen=True, eq=False)
class TokenLines:
    """The N lines from the token at `position` (left column) for the shown heads, head by
    head, each head's weakest first (the strongest drawn on top); arrays, as a long text has
    a thousand lines."""

    position: int
    label: str
    heads: tuple[int, ...]  # the shown heads, ascending
    head: np.ndarray  # (N,) int, each line's head
    target: np.ndarray  # (N,) int, the position it attends to (right column), <= position
    weight: np.ndarray  # (N,) float64, that head's attention weight from position to target
    width: np.ndarray  # (N,) px, line_width(weight)
    opacity: np.ndarray  # (N,) line_opacity(weight)
    omitted: tuple[Omitted, ...]  # per shown head with lines left out; empty when all are drawn
    weights: np.ndarray  # (len(heads), position + 1) the row of each shown head, for the table


def head_style(head: int) -> HeadStyle:
    """Head h's colour and dash: the palette first, then the palette again with the next dash."""
    return HeadStyle(PALETTE[head % len(PALETTE)], DASHES[head // len(PALETTE) % len(DASHES)])


def line_width(weight):
    """Stroke width in px, linear in the weight (a float or an array): 0.5 at 0, 6 at 1."""
    return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * weight


def line_opacity(weight):
    """Stroke opacity, linear in the weight: 0.1 at 0 (faint, still there), 1 at 1."""
    return MIN_OPACITY + (1 - MIN_OPACITY) * weight


def attention_lines(
    trace: Trace,
    tokens: Sequence[TokenView],
    layer: int,
    *,
    steps: AttentionSteps | None = None,
) -> AttentionLinesView:
    """All heads of block `layer`, ready to draw the lines of any query token; `steps`:
    trace.attention(layer) when the caller has it already (views.trace_memo)."""
    covered = covered_tokens(trace, tokens)
    layer = checked_index("layer", layer, trace.q.shape[0])
    steps = trace.attention(layer) if steps is None else steps
    return AttentionLinesView(
        layer=layer,
        labels=tuple(v.label for v in covered),
        first_query=trace.past_length,
        weights=np.where(steps.mask, steps.probs, 0),  # (H, T, S)
        styles=tuple(head_style(h) for h in range(steps.probs.shape[0])),
    )


def checked_heads(heads: Iterable[int], count: int) -> tuple[int, ...]:
    """The heads to show, ascending and once each, each checked to be one of the block's."""
    return tuple(sorted({checked_index("head", h, count) for h in heads}))


def toggled(heads: Sequence[int], head: int, count: int) -> tuple[int, ...]:
    """`heads` with `head` switched: shown if it was hidden, hidden if it was shown."""
    head = checked_index("head", head, count)
    return checked_heads(set(heads) ^ {head}, count)


def token_lines(
    view: AttentionLinesView, position: int, heads: Iterable[int], *, max_lines: int = MAX_LINES
) -> TokenLines:
    """The lines from the token at absolute `position` to every key it may attend to (0 ..
    position), for each head in `heads`. Over `max_lines` lines, each head keeps its strongest
    max_lines // len(heads) (at least one) and counts the rest."""
    heads = checked_heads(heads, view.weights.shape[0])
    position = operator.index(position)
    if position not in view.query_positions:
        raise ValueError(
            f"position {position} is not a query of this view "
            f"(positions {view.first_query} .. {view.query_positions[-1]})"
        )
    row = position - view.first_query
    rows = view.weights[list(heads), row, : position + 1]  # (len(heads), position + 1)
    keep = max(1, max_lines // max(1, len(heads)))
    order = np.argsort(rows, axis=-1, kind="stable")  # (len(heads), position + 1) weakest first
    drawn, left_out = order[:, -keep:], order[:, :-keep]  # (len(heads), <= keep), the rest
    omitted = tuple(
        Omitted(h, left_out.shape[1], float(row[out].sum()))
        for h, row, out in zip(heads, rows, left_out, strict=True)
        if out.size
    )
    weight = np.take_along_axis(rows, drawn, axis=-1).astype(np.float64).ravel()  # (N,)
    return TokenLines(
        position=position,
        label=view.labels[position],
        heads=heads,
        head=np.repeat(np.array(heads, dtype=np.int64), drawn.shape[1]),
        target=drawn.ravel(),
        weight=weight,
        width=line_width(weight),
        opacity=line_opacity(weight),
        omitted=omitted,
        weights=rows,
    )
