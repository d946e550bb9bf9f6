"""The logit lens: what the model would predict if it stopped after each block.

Every row of the residual stream (the embeddings, then the output of each block) goes through the
final layer norm and the tied output layer, as the last row does for the real prediction. The
model computes it (the output layer has V rows, too big to keep in the page's Python) and returns
only each row's top LENS_TOP_K tokens: see export/graph.py, output_layer.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# The lens reads the last positions only: its (rows, V) softmax takes (L+1) x positions x V
# floats, 167 MB for GPT-2 small at 64 positions, and would not fit WebAssembly's 4 GB at 1024.
LENS_MAX_POSITIONS = 64
# ... and it asks for them in calls of at most this many bytes per (rows, V) float32 array: the
# int8 output layer's sums, their corrections and floats, the logits and their softmax live
# together in onnxruntime's heap (about six such arrays), and a WebAssembly memory never gives
# back what it grew to (GPT-2 small: 4 positions a call, 16 calls for 64).
LENS_CALL_BYTES = 12 * 2**20


def lens_rows(n_layers: int, n_tokens: int, n_positions: int) -> np.ndarray:
    """The rows of the stacked residual stream (L+1, T, D), flattened to ((L+1) T, D), of the
    last n_positions positions at every depth, depth by depth: ((L+1) n_positions,) int64."""
    positions = np.arange(n_tokens - n_positions, n_tokens)
    return (np.arange(n_layers + 1)[:, None] * n_tokens + positions).reshape(-1).astype(np.int64)


def lens_spans(
    n_tokens: int, n_layers: int, vocab_size: int, call_bytes: int = LENS_CALL_BYTES
) -> list[tuple[int, int]]:
    """The last min(n_tokens, LENS_MAX_POSITIONS) positions as consecutive spans [start, stop),
    one model call each: as few as keep a call's (L+1) (stop - start) + 1 rows (the last row is
    always computed) x V float32 within call_bytes, and as even as can be (equal shapes reuse
    onnxruntime's buffers). At least one position a call, whatever call_bytes says."""
    n = min(n_tokens, LENS_MAX_POSITIONS)
    rows = call_bytes // (4 * vocab_size)
    per_call = max(1, (rows - 1) // (n_layers + 1))
    calls = -(-n // per_call)  # ceil
    stops = n_tokens - n + np.linspace(0, n, calls + 1).round().astype(int)  # (calls + 1,)
    return [(int(a), int(b)) for a, b in zip(stops[:-1], stops[1:], strict=True)]


def partial_draws(calls: int) -> set[int]:
    """After which of a lens' `calls` (numbered from 1) the page draws the columns so far: 1,
    2, 4, 8 ... before the last, whose grid is the whole one. Each draw shows twice the columns
    of the one before, so together they cost less than two whole grids (drawing after every
    call would cost calls / 2), and the first columns are on screen after one call."""
    return {2**i for i in range(calls.bit_length()) if 2**i < calls}


@dataclasses.dataclass(frozen=True)
class LogitLens:
    """Top tokens of the residual stream read out at every depth, for the last positions."""

    probs: np.ndarray  # (L+1, n, K) float32, most probable first
    ids: np.ndarray  # (L+1, n, K) int64
    first_position: int  # the position of column 0 (the lens covers first_position .. T - 1)

    @classmethod
    def from_outputs(
        cls, n_layers: int, n_tokens: int, outputs: dict[str, np.ndarray], past_length: int = 0
    ) -> LogitLens:
        """From the model's lens_probs, lens_ids (N+1, K) of a pass over n_tokens new tokens after
        past_length cached ones, asked with lens_rows: the N rows asked for, then the model's own
        last row, which the lens already holds (dropped here)."""
        probs, ids = outputs["lens_probs"][:-1], outputs["lens_ids"][:-1]  # (N, K)
        n_positions, left = divmod(probs.shape[0], n_layers + 1)
        if left or not 0 < n_positions <= n_tokens:
            raise ValueError(f"{probs.shape[0]} lens rows are not {n_layers + 1} depths of a text")
        shape = (n_layers + 1, n_positions, probs.shape[1])
        return cls(
            probs.reshape(shape),
            ids.astype(np.int64).reshape(shape),
            past_length + n_tokens - n_positions,
        )

    @classmethod
    def joined(cls, parts: list[LogitLens]) -> LogitLens:
        """The lenses of consecutive spans of positions (as lens_spans makes them) as one."""
        for before, after in zip(parts, parts[1:], strict=False):
            if after.first_position != before.first_position + before.probs.shape[1]:
                raise ValueError(
                    f"a lens from position {after.first_position} does not follow one of "
                    f"positions {before.first_position} .. "
                    f"{before.first_position + before.probs.shape[1] - 1}"
                )
        return cls(
            np.concatenate([p.probs for p in parts], axis=1),  # (L+1, n, K)
            np.concatenate([p.ids for p in parts], axis=1),
            parts[0].first_position,
        )
