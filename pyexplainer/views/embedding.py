"""The embedding view: each token's row of wte, its position's row of wpe, and their sum, the
residual stream entering block 0. Real values, drawn as colour strips on one shared scale.

The check: the two rows added here in float64, against the model's own float32 sum (residual[0]),
so it shows the model's rounding of that add, and more if the model added anything else."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.trace import Trace, largest_difference
from pyexplainer.views.selection import covered_tokens
from pyexplainer.views.tokens import TokenView


@dataclasses.dataclass(frozen=True, eq=False)
class EmbeddingRow:
    position: int  # absolute position in the sequence
    token_id: int
    label: str  # readable token (tokenizer.token_labels)
    start: int  # character span in the text (-1, -1 for generated tokens)
    end: int
    token_embedding: np.ndarray  # (D,) row token_id of wte
    position_embedding: np.ndarray  # (D,) row `position` of wpe
    embedding: np.ndarray  # (D,) their sum as the model computed it: residual[0] at this token


@dataclasses.dataclass(frozen=True, eq=False)
class EmbeddingView:
    rows: tuple[EmbeddingRow, ...]  # one per token this step computed (T)
    color_limit: float  # every strip uses the colour scale [-color_limit, color_limit]
    sum_mismatch: float  # max |token + position in float64 - residual[0]|: the model's rounding


def embedding_view(trace: Trace, tokens: Sequence[TokenView]) -> EmbeddingView:
    """The embeddings of the trace's T new tokens; `tokens` lists the session's tokens."""
    covered = covered_tokens(trace, tokens)
    tok, pos, total = trace.token_embedding, trace.position_embedding, trace.residual[0]  # (T, D)
    rows = tuple(
        EmbeddingRow(v.position, v.token_id, v.label, v.start, v.end, tok[t], pos[t], total[t])
        for t, v in enumerate(covered[trace.past_length :])
    )
    limit = float(max(np.abs(a).max() for a in (tok, pos, total)))
    mismatch = largest_difference(tok.astype(np.float64) + pos, total)  # (T, D) float64 sum
    return EmbeddingView(rows, limit, mismatch)
