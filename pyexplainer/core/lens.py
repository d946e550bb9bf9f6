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


def lens_rows(n_layers: int, n_tokens: int, n_positions: int) -> np.ndarray:
    """The rows of the stacked residual stream (L+1, T, D), flattened to ((L+1) T, D), of the
    last n_positions positions at every depth, depth by depth: ((L+1) n_positions,) int64."""
    positions = np.arange(n_tokens - n_positions, n_tokens)
    return (np.arange(n_layers + 1)[:, None] * n_tokens + positions).reshape(-1).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class LogitLens:
    """Top tokens of the residual stream read out at every depth, for the last positions."""

    probs: np.ndarray  # (L+1, n, K) float32, most probable first
    ids: np.ndarray  # (L+1, n, K) int64
    first_position: int  # the position of column 0 (the lens covers first_position .. T - 1)

    @classmethod
    def from_outputs(
        cls, n_layers: int, n_tokens: int, outputs: dict[str, np.ndarray]
    ) -> LogitLens:
        """From the model's lens_probs, lens_ids (N+1, K), asked with lens_rows: the N rows asked
        for, then the model's own last row, which the lens already holds (dropped here)."""
        probs, ids = outputs["lens_probs"][:-1], outputs["lens_ids"][:-1]  # (N, K)
        n_positions, left = divmod(probs.shape[0], n_layers + 1)
        if left or not 0 < n_positions <= n_tokens:
            raise ValueError(f"{probs.shape[0]} lens rows are not {n_layers + 1} depths of a text")
        shape = (n_layers + 1, n_positions, probs.shape[1])
        return cls(
            probs.reshape(shape), ids.astype(np.int64).reshape(shape), n_tokens - n_positions
        )
