"""What-if: the prediction with some heads or MLPs switched off, beside the real one.

Zero ablation removes a part's output; mean ablation replaces it by its average over this text's
positions, which keeps the typical size of the residual stream and removes only what varies from
token to token. Both run the whole text again, without the cache.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.sampling import next_token_distribution, top_tokens
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.views.characters import read_token


@dataclasses.dataclass(frozen=True)
class Ranked:
    token_id: int
    label: str
    before: float  # probability with every part on
    after: float  # probability with the ablation


@dataclasses.dataclass(frozen=True)
class WhatIfView:
    ablation: Ablation
    before: tuple[Ranked, ...]  # the top tokens of the real prediction
    after: tuple[Ranked, ...]  # the top tokens with the ablation
    kl_nats: float  # KL(before || after) over the full vocabulary

    @property
    def top_token(self) -> Ranked:
        """The real prediction's first token, before and after."""
        return self.before[0]

    @property
    def top_changed(self) -> bool:
        return self.before[0].token_id != self.after[0].token_id

    @property
    def top_change(self) -> float:
        """How much the real top token's probability moved (after - before)."""
        return self.top_token.after - self.top_token.before


def what_if_view(
    tokenizer: Tokenizer,
    before_logits: np.ndarray,
    after_logits: np.ndarray,
    ablation: Ablation,
    n: int = 5,
    *,
    pending: bytes = b"",
) -> WhatIfView:
    """before_logits, after_logits: (V,) the last position's logits without and with ablation;
    `pending`: the unfinished character the text ends in (views.characters.unfinished_tail)."""
    p, q = next_token_distribution(before_logits), next_token_distribution(after_logits)  # (V,)

    def ranked(probs: np.ndarray) -> tuple[Ranked, ...]:
        order = [i for i, _ in top_tokens(probs, n)]
        return tuple(
            Ranked(i, read_token(tokenizer, i, pending).label, float(p[i]), float(q[i]))
            for i in order
        )

    kl = float(np.sum(p * (_log_softmax(before_logits) - _log_softmax(after_logits))))
    return WhatIfView(ablation, ranked(p), ranked(q), max(kl, 0.0))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)  # (V,)
    shifted = x - x.max()
    return shifted - np.log(np.exp(shifted).sum())
