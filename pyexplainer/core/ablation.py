"""What-if: which attention heads and MLPs to switch off, as the model's ablation inputs."""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.config import ModelConfig

MODES = ("zero", "mean")  # an ablated part adds zeros, or its mean output over the positions


@dataclasses.dataclass(frozen=True)
class Ablation:
    """Heads as (layer, head) pairs and MLPs as layers to switch off, and how."""

    heads: frozenset[tuple[int, int]] = frozenset()
    mlps: frozenset[int] = frozenset()
    mode: str = "zero"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"ablation mode must be one of {MODES}, not {self.mode!r}")

    @property
    def empty(self) -> bool:
        return not self.heads and not self.mlps

    def feeds(self, c: ModelConfig) -> dict[str, np.ndarray]:
        """The model inputs head_keep (L, H), mlp_keep (L,) and ablate_to_mean ()."""
        head_keep = np.ones((c.n_layer, c.n_head), dtype=np.float32)  # (L, H)
        mlp_keep = np.ones(c.n_layer, dtype=np.float32)  # (L,)
        for layer, head in self.heads:
            if not (0 <= layer < c.n_layer and 0 <= head < c.n_head):
                raise ValueError(f"no head {head} in layer {layer} of this model")
            head_keep[layer, head] = 0.0
        for layer in self.mlps:
            if not 0 <= layer < c.n_layer:
                raise ValueError(f"no block {layer} in this model")
            mlp_keep[layer] = 0.0
        return {
            "head_keep": head_keep,
            "mlp_keep": mlp_keep,
            "ablate_to_mean": np.array(self.mode == "mean", dtype=np.float32),
        }
