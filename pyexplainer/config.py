"""Model hyper-parameters, as recorded in an exported model's manifest.json."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """GPT-2 hyper-parameters (names as in Hugging Face's GPT2Config)."""

    n_layer: int
    n_head: int
    n_embd: int
    n_positions: int  # context length: the most tokens one sequence may hold
    vocab_size: int
    layer_norm_epsilon: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
