"""The debugging panel: the distribution of every tensor one block works with, as a histogram with
its mean, standard deviation, minimum and maximum, to spot saturated softmaxes, exploding
activations or dead units.

Attention scores are taken over the cells the causal mask allows only: the forbidden ones are
never computed by the model and would otherwise pile up as zeros (or -inf).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.core.attention import AttentionSteps
from pyexplainer.core.trace import Trace
from pyexplainer.views.selection import checked_index

HISTOGRAM_BINS = 40

# Histogram ids in panel order, each named in the catalogue as "debugging.<id>".
TENSORS = ("residual", "q", "k", "v", "scores", "scaled", "weights", "mlp_act")


@dataclasses.dataclass(frozen=True, eq=False)
class Histogram:
    """The distribution of `count` numbers: equal-width bins from min to max (the last bin
    includes max), and summary statistics in float64 (std is the population one, ddof = 0)."""

    counts: np.ndarray  # (bins,) int64, sums to count
    edges: np.ndarray  # (bins + 1,) float64
    count: int
    mean: float
    std: float
    min: float
    max: float


@dataclasses.dataclass(frozen=True, eq=False)
class DebuggingView:
    """Block `layer`, head `head`: one Histogram per id of TENSORS."""

    layer: int
    head: int
    residual: Histogram  # residual[layer] (T, D): the stream entering the block
    q: Histogram  # (T, Dh) this head's queries
    k: Histogram  # (S, Dh) this head's keys, cached positions included
    v: Histogram  # (S, Dh) this head's values, cached positions included
    scores: Histogram  # q . k over the allowed (T, S) cells
    scale: float  # 1 / sqrt(Dh), the multiplier from scores to scaled
    scaled: Histogram  # scores * scale over the allowed cells
    weights: Histogram  # softmax weights over the allowed cells
    mlp_act: Histogram  # mlp_act[layer] (T, 4D): the MLP hidden layer after GELU


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> Histogram:
    """Histogram and statistics of every number in `values` (any shape, at least one, finite)."""
    x = np.asarray(values, dtype=np.float64).ravel()  # (N,)
    if x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"need at least one value, all finite; got {x.size} values")
    counts, edges = np.histogram(x, bins=bins)  # range (x.min(), x.max())
    return Histogram(
        counts=counts.astype(np.int64),
        edges=edges,
        count=int(x.size),
        mean=float(x.mean()),
        std=float(x.std()),
        min=float(x.min()),
        max=float(x.max()),
    )


def debugging(
    trace: Trace,
    layer: int,
    head: int,
    *,
    bins: int = HISTOGRAM_BINS,
    steps: AttentionSteps | None = None,
) -> DebuggingView:
    """The histograms of block `layer` and head `head` over the positions this trace covers;
    `steps`: trace.attention(layer) when the caller has it already (views.trace_memo)."""
    layer = checked_index("layer", layer, trace.q.shape[0])
    head = checked_index("head", head, trace.q.shape[1])
    steps = trace.attention(layer) if steps is None else steps
    allowed = steps.mask  # (T, S)
    return DebuggingView(
        layer=layer,
        head=head,
        residual=histogram(trace.residual[layer], bins),
        q=histogram(trace.q[layer, head], bins),
        k=histogram(trace.present_keys[layer, head], bins),
        v=histogram(trace.present_values[layer, head], bins),
        scores=histogram(steps.scores[head][allowed], bins),
        scale=steps.scale,
        scaled=histogram(steps.scaled[head][allowed], bins),
        weights=histogram(steps.probs[head][allowed], bins),
        mlp_act=histogram(trace.mlp_act[layer], bins),
    )
