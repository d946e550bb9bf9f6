"""The next-token panel: the most probable tokens after the sampling settings, exactly."""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.core.sampling import next_token_distribution, top_tokens
from pyexplainer.core.tokenizer import Tokenizer


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_k: int = 0  # 0 = off
    top_p: float = 1.0  # 1 = off


@dataclasses.dataclass(frozen=True)
class Prediction:
    token_id: int
    label: str
    probability: float  # after temperature / top-k / top-p: what sampling draws from
    model_probability: float  # softmax of the raw logits (temperature 1, nothing cut)


def predictions(
    tokenizer: Tokenizer, logits: np.ndarray, settings: SamplingSettings, n: int = 10
) -> list[Prediction]:
    """The n most probable next tokens over the full vocabulary, under `settings`; tokens the
    settings cut (probability 0: they cannot be drawn) are left out."""
    probs = next_token_distribution(
        logits, temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p
    )
    raw = next_token_distribution(logits)
    best = [(i, p) for i, p in top_tokens(probs, n) if p > 0]
    labels = tokenizer.token_labels([i for i, _ in best])
    return [
        Prediction(i, label, p, float(raw[i])) for (i, p), label in zip(best, labels, strict=True)
    ]
