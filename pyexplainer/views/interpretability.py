"""The interpretability panel: how concentrated each head's attention is, per query row, per head
and averaged over the heads of a block.

The numbers come from core.attention's statistics (sparsity, row entropy, KL divergence from the
uniform row) applied to the attention weights recomputed from the model's own Q, K and V. Each
metric has a name and a definition in the message catalogue, shown beside its numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.attention import (
    AttentionSteps,
    attention_sparsity,
    row_entropy,
    row_kl_from_uniform,
)
from pyexplainer.core.trace import Trace
from pyexplainer.views.selection import checked_index, covered_tokens
from pyexplainer.views.tokens import TokenView

DEFAULT_THRESHOLD = 0.01  # a weight below this counts as "unused" in the sparsity metrics

# Metric ids, each with "interpretability.<id>" (name) and "interpretability.<id>.definition".
METRICS = ("sparsity", "row_sparsity_mean", "row_sparsity_max", "entropy", "kl_uniform")


@dataclasses.dataclass(frozen=True, eq=False)
class HeadMetrics:
    """Attention statistics of H heads over T query rows (float64). Only the cells a row may
    attend to (the causal mask) count; `max_entropy` is the ceiling of each row's entropy."""

    threshold: float
    sparsity: np.ndarray  # (H,) share of a head's allowed weights below threshold
    row_sparsity: np.ndarray  # (H, T) the same share within each row
    row_sparsity_mean: np.ndarray  # (H,) mean of row_sparsity over the rows
    row_sparsity_max: np.ndarray  # (H,) max of row_sparsity over the rows
    entropy: np.ndarray  # (H, T) Shannon entropy of each row, bits
    entropy_mean: np.ndarray  # (H,) mean over the rows
    kl_uniform: np.ndarray  # (H, T) KL(row || uniform over its allowed keys), bits
    kl_uniform_mean: np.ndarray  # (H,) mean over the rows
    max_entropy: np.ndarray  # (T,) log2(number of keys each row may attend to)


@dataclasses.dataclass(frozen=True, eq=False)
class HeadAverage:
    """The per-head numbers of HeadMetrics averaged over the H heads of a block."""

    sparsity: float
    row_sparsity_mean: float
    row_sparsity_max: float
    entropy_mean: float
    kl_uniform_mean: float


@dataclasses.dataclass(frozen=True, eq=False)
class InterpretabilityView:
    """Block `layer`: every head's metrics and their average over heads."""

    layer: int
    query_positions: np.ndarray  # (T,) absolute positions of the rows
    query_labels: tuple[str, ...]  # (T,)
    heads: HeadMetrics
    average: HeadAverage


def head_metrics(
    probs: np.ndarray, mask: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> HeadMetrics:
    """probs (H, T, S) attention weights, mask (T, S) bool True = may attend -> HeadMetrics."""
    sparsity = attention_sparsity(probs, mask, threshold)
    entropy = row_entropy(probs, mask)  # (H, T)
    kl = row_kl_from_uniform(probs, mask)  # (H, T)
    return HeadMetrics(
        threshold=sparsity.threshold,
        sparsity=sparsity.overall,
        row_sparsity=sparsity.row,
        row_sparsity_mean=sparsity.row_mean,
        row_sparsity_max=sparsity.row_max,
        entropy=entropy,
        entropy_mean=entropy.mean(axis=-1),
        kl_uniform=kl,
        kl_uniform_mean=kl.mean(axis=-1),
        max_entropy=np.log2(mask.sum(axis=-1)),
    )


def average_over_heads(metrics: HeadMetrics) -> HeadAverage:
    """Each per-head number of `metrics` averaged over the heads (every head counts equally)."""
    return HeadAverage(
        sparsity=float(metrics.sparsity.mean()),
        row_sparsity_mean=float(metrics.row_sparsity_mean.mean()),
        row_sparsity_max=float(metrics.row_sparsity_max.mean()),
        entropy_mean=float(metrics.entropy_mean.mean()),
        kl_uniform_mean=float(metrics.kl_uniform_mean.mean()),
    )


def interpretability(
    trace: Trace,
    tokens: Sequence[TokenView],
    layer: int,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    steps: AttentionSteps | None = None,
) -> InterpretabilityView:
    """The metrics of every head of block `layer` over the query rows this trace computed;
    `steps`: trace.attention(layer) when the caller has it already (views.trace_memo)."""
    covered = covered_tokens(trace, tokens)
    layer = checked_index("layer", layer, trace.q.shape[0])
    steps = trace.attention(layer) if steps is None else steps
    metrics = head_metrics(steps.probs, steps.mask, threshold)
    return InterpretabilityView(
        layer=layer,
        query_positions=trace.past_length + np.arange(len(trace.input_ids)),
        query_labels=tuple(v.label for v in covered[trace.past_length :]),
        heads=metrics,
        average=average_over_heads(metrics),
    )
