"""The residual stream view: the one vector per token that runs through the whole model, and
what each block's attention and MLP add to it. Every block reads the stream (through a layer
norm) and adds its result back: stream + attention = mid, mid + MLP = the next block's stream.

Norms are L2 norms of D-vectors, float64. The check: every add recomputed in float64 from the
traced stream and what was added, against the model's own float32 next stream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.trace import Trace, largest_difference
from pyexplainer.views.selection import covered_tokens
from pyexplainer.views.tokens import TokenView


@dataclasses.dataclass(frozen=True, eq=False)
class ResidualView:
    positions: np.ndarray  # (T,) absolute positions of the tokens this step computed
    labels: tuple[str, ...]  # (T,)
    entering: np.ndarray  # (L, T) norm of residual[l], the stream entering block l
    after_attention: np.ndarray  # (L, T) norm of residual_mid[l]
    after_mlp: np.ndarray  # (L, T) norm of residual[l + 1], the stream leaving block l
    attention_added: np.ndarray  # (L, T) norm of attn_out[l], what attention adds
    mlp_added: np.ndarray  # (L, T) norm of mlp_out[l], what the MLP adds
    add_mismatch: float  # max over every add of |stream + added, float64 - next stream|


def residual_view(trace: Trace, tokens: Sequence[TokenView]) -> ResidualView:
    """Norms of the residual stream and of what each block adds, per layer and token."""
    covered = covered_tokens(trace, tokens)
    stream, mid = trace.residual, trace.residual_mid  # (L+1, T, D), (L, T, D)
    attn, mlp = trace.attn_out, trace.mlp_out  # (L, T, D)
    mismatch = max(
        largest_difference(stream[:-1].astype(np.float64) + attn, mid),
        largest_difference(mid.astype(np.float64) + mlp, stream[1:]),
    )
    return ResidualView(
        positions=trace.past_length + np.arange(len(trace.input_ids)),
        labels=tuple(v.label for v in covered[trace.past_length :]),
        entering=_norms(stream[:-1]),
        after_attention=_norms(mid),
        after_mlp=_norms(stream[1:]),
        attention_added=_norms(attn),
        mlp_added=_norms(mlp),
        add_mismatch=mismatch,
    )


def _norms(x: np.ndarray) -> np.ndarray:
    """(L, T, D) -> (L, T) L2 norm of each D-vector, float64."""
    return np.linalg.norm(x.astype(np.float64), axis=-1)
