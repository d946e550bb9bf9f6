"""The logit lens: what the model would predict if it stopped after each block.

Every row of the residual stream (the embeddings, then the output of each block) goes through the
final layer norm and the tied output layer, as the last row does for the real prediction. The
model computes it (the output layer has V rows, too big to keep in the page's Python) and returns
only each row's top LENS_TOP_K tokens: see export/graph.py, logit_lens.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def lens_rows(n_layers: int, n_tokens: int, every_row: bool) -> np.ndarray:
    """Rows of the stacked residual stream (L+1, T, D) flattened to ((L+1) T, D) for the model's
    logit lens: all of them, or only the last (the model's own prediction, which costs one output
    layer and is what a plain pass asks for): (N,) int64."""
    n_rows = (n_layers + 1) * n_tokens
    return np.arange(0 if every_row else n_rows - 1, n_rows, dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class LogitLens:
    """Top tokens of the residual stream read out at every depth and position."""

    probs: np.ndarray  # (L+1, T, K) float32, most probable first
    ids: np.ndarray  # (L+1, T, K) int64

    @classmethod
    def from_outputs(cls, n_layers: int, outputs: dict[str, np.ndarray]) -> LogitLens:
        """From the model's lens_probs, lens_ids (N, K), N = (L+1) T, asked with lens_rows."""
        probs, ids = outputs["lens_probs"], outputs["lens_ids"]  # (N, K)
        if probs.shape[0] % (n_layers + 1):
            raise ValueError(f"{probs.shape[0]} lens rows do not fill {n_layers + 1} depths")
        shape = (n_layers + 1, -1, probs.shape[1])
        return cls(probs.reshape(shape), ids.astype(np.int64).reshape(shape))
