"""The next-token panel: the most probable tokens after the sampling settings, exactly.

The model's output layer is its token embedding (weight tying): logits = lnf_out @ wte^T, one
per token of the vocabulary; the probabilities are a softmax over all of them, then temperature,
top-k and top-p as core.sampling computes them for sampling.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.core.sampling import next_token_distribution
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import Trace
from pyexplainer.views.characters import TokenReading, read_token

SHOWN_PREDICTIONS = 15  # the bars of the prediction list and of the output stage
SHOW_DRAWN_S = 0.25  # how long a drawn token's bar stays marked before the model runs on it


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_k: int = 0  # 0 = off
    top_p: float = 1.0  # 1 = off
    banned: tuple[int, ...] = ()  # never drawn: the tokenizer's never_sampled


@dataclasses.dataclass(frozen=True)
class Prediction:
    token_id: int
    reading: TokenReading  # what it reads as after the text (the character it completes, ...)
    probability: float  # after temperature / top-k / top-p: what sampling draws from
    model_probability: float  # softmax of the raw logits (temperature 1, nothing cut)
    logit: float  # the model's raw logit for this token

    @property
    def label(self) -> str:
        return self.reading.label


@dataclasses.dataclass(frozen=True, eq=False)
class OutputView:
    settings: SamplingSettings
    final_norm: np.ndarray  # (D,) the last position's final layer norm output (lnf_out[-1])
    bars: tuple[Prediction, ...]  # probability 0: cut by the settings, cannot be drawn
    rest_probability: float  # what sampling gives all tokens not in `bars`, together
    rest_model_probability: float  # the model's raw probability of all tokens not in `bars`
    kept: int  # how many tokens the settings leave a chance (probability > 0)
    vocab_size: int


def first_ranked(probs: np.ndarray, raw: np.ndarray, n: int) -> np.ndarray:
    """The ids of the n tokens ranked first by (-probs, -raw, id), as a full sort of the
    vocabulary ranks them, sorting only the few that can be among them: those above the n-th
    largest probability, and of those tied with it the ones with the largest raw ones (on
    50,257 tokens, Pyodide's full three-key sort took about as long as the rest of the bars).
    The tokens the settings cut (probability 0) are never partitioned by probability: numpy's
    partition is slow on that many equal values."""
    kept = np.flatnonzero(probs > 0)
    if kept.size > n:
        nth = np.partition(probs[kept], kept.size - n)[kept.size - n]  # the n-th largest
        above, tied = kept[probs[kept] > nth], kept[probs[kept] == nth]
    else:  # every kept token, then the best of the cut ones by raw probability
        above, tied = kept, np.flatnonzero(probs == 0)
    wanted = n - above.size
    if 0 < wanted < tied.size:
        bar = np.partition(raw[tied], tied.size - wanted)[tied.size - wanted]
        tied = tied[raw[tied] >= bar]
    candidates = np.concatenate([above, tied]) if wanted > 0 else above
    keys = (candidates, -raw[candidates], -probs[candidates])  # the last key sorts first
    return candidates[np.lexsort(keys)][:n]


def _ranked(
    tokenizer: Tokenizer, logits: np.ndarray, settings: SamplingSettings, n: int, pending: bytes
) -> tuple[tuple[Prediction, ...], np.ndarray, np.ndarray]:
    """The n tokens ranked first: by probability after the settings, then (among the tokens the
    settings cut) by the model's raw probability, then by id; with both distributions (V,).
    `pending`: the unfinished character the text ends in (views.characters.unfinished_tail)."""
    probs = _distribution(logits, settings)  # (V,)
    raw = next_token_distribution(logits)  # (V,)
    order = first_ranked(probs, raw, n)
    bars = tuple(
        Prediction(
            int(i),
            read_token(tokenizer, int(i), pending),
            float(probs[i]),
            float(raw[i]),
            float(logits[i]),
        )
        for i in order
    )
    return bars, probs, raw


def predictions(
    tokenizer: Tokenizer,
    logits: np.ndarray,
    settings: SamplingSettings,
    n: int = 10,
    *,
    pending: bytes = b"",
) -> list[Prediction]:
    """The n most probable next tokens over the full vocabulary, under `settings`; tokens the
    settings cut (probability 0: they cannot be drawn) are left out."""
    bars, _, _ = _ranked(tokenizer, logits, settings, n, pending)
    return [p for p in bars if p.probability > 0]


def drawn(
    tokenizer: Tokenizer,
    logits: np.ndarray,
    settings: SamplingSettings,
    token_id: int,
    *,
    pending: bytes = b"",
) -> Prediction:
    """The token sampling drew, with the chance it had under `settings` and under the model;
    `pending`: the unfinished character the text ends in, which the token may complete."""
    probs, raw = _distribution(logits, settings), next_token_distribution(logits)  # (V,)
    return Prediction(
        token_id,
        read_token(tokenizer, token_id, pending),
        float(probs[token_id]),
        float(raw[token_id]),
        float(logits[token_id]),
    )


def output_view(
    trace: Trace,
    tokenizer: Tokenizer,
    settings: SamplingSettings,
    n: int = 15,
    *,
    pending: bytes = b"",
) -> OutputView:
    """The output stage of the last position: n bars, cut tokens included with probability 0,
    and what the rest of the vocabulary gets, before and after the settings. `pending`: the
    unfinished character the text ends in, which a bar's token may complete."""
    bars, probs, raw = _ranked(tokenizer, trace.last_logits, settings, n, pending)
    rest = np.ones(raw.size, dtype=bool)  # (V,)
    rest[[p.token_id for p in bars]] = False
    return OutputView(
        settings=settings,
        final_norm=trace.lnf_out[-1],
        bars=bars,
        rest_probability=float(probs[rest].sum()),
        rest_model_probability=float(raw[rest].sum()),
        kept=int(np.count_nonzero(probs)),
        vocab_size=int(raw.size),
    )


def _distribution(logits: np.ndarray, settings: SamplingSettings) -> np.ndarray:
    return next_token_distribution(
        logits,
        temperature=settings.temperature,
        top_k=settings.top_k,
        top_p=settings.top_p,
        banned=settings.banned,
    )
