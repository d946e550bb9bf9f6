"""Traced forward passes and token-by-token generation with a key/value cache.

The core does not know where the model runs: it calls a `RunModel`, a function from the model's
named inputs (see trace.MODEL_INPUTS, made by `model_feeds`) to its named outputs. onnxruntime
(CPython) and onnxruntime-web (the browser) each provide one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from pyexplainer.config import ModelConfig
from pyexplainer.core.ablation import Ablation
from pyexplainer.core.lens import LENS_CALL_BYTES, LogitLens, lens_rows, lens_spans
from pyexplainer.core.sampling import sample_next_token
from pyexplainer.core.trace import Trace

RunModel = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


class ContextLengthError(ValueError):
    """More tokens than the model's context (n_positions) can hold."""


@dataclasses.dataclass(frozen=True)
class KVCache:
    """Keys and values of every position processed so far."""

    keys: np.ndarray  # (L, H, P, Dh) float32
    values: np.ndarray  # (L, H, P, Dh) float32

    @classmethod
    def empty(cls, c: ModelConfig) -> KVCache:
        zeros = np.zeros((c.n_layer, c.n_head, 0, c.head_dim), dtype=np.float32)
        return cls(zeros, zeros)

    @property
    def length(self) -> int:
        return self.keys.shape[2]

    def prefix(self, n: int) -> KVCache:
        """The cache of the first n positions: (L, H, n, Dh) each (views, no copy)."""
        return KVCache(self.keys[:, :, :n], self.values[:, :, :n])


def check_context(n_tokens: int, c: ModelConfig) -> None:
    if n_tokens > c.n_positions:
        raise ContextLengthError(
            f"{n_tokens} tokens is more than this model's context of "
            f"{c.n_positions} tokens; shorten the text"
        )
    if n_tokens < 1:
        raise ContextLengthError("the text is empty: type at least one character")


def checked_ids(c: ModelConfig, new_ids: Sequence[int], cache: KVCache) -> np.ndarray:
    """new_ids as the model's input_ids (T,) int64, once they fit the context and vocabulary."""
    ids = np.asarray(new_ids, dtype=np.int64).reshape(-1)  # (T,)
    check_context(cache.length + len(ids), c)
    if ids.size == 0:
        raise ValueError("no new tokens to run")
    if ids.min() < 0 or ids.max() >= c.vocab_size:
        raise ValueError(f"token ids must lie in [0, {c.vocab_size})")
    return ids


def model_feeds(
    c: ModelConfig,
    ids: np.ndarray,
    cache: KVCache,
    *,
    ablation: Ablation | None = None,
    lens_positions: int = 0,
    unembed_ids: Sequence[int] = (),
) -> dict[str, np.ndarray]:
    """Every model input for a pass over ids (T,) after the cache, with the logit lens of the
    last lens_positions positions at every depth (0: none; it costs L+1 output layers each)
    and the output layer's rows of unembed_ids (for attribution)."""
    ablation = ablation or Ablation()
    if ablation.mode == "mean" and not ablation.empty and cache.length:
        raise ValueError("mean ablation averages over the whole text: run it without the cache")
    if not 0 <= lens_positions <= len(ids):
        raise ValueError(f"the lens can read 0 to {len(ids)} positions, not {lens_positions}")
    return {
        "input_ids": ids,
        "past_keys": cache.keys,
        "past_values": cache.values,
        **ablation.feeds(c),
        "lens_rows": lens_rows(c.n_layer, len(ids), lens_positions),
        "unembed_ids": np.asarray(unembed_ids, dtype=np.int64).reshape(-1),  # (U,)
    }


def forward(
    run: RunModel,
    c: ModelConfig,
    new_ids: Sequence[int],
    cache: KVCache | None = None,
    *,
    ablation: Ablation | None = None,
) -> Trace:
    """Run the model on new_ids (T,) after the cached positions; the trace of this step.

    (The browser's runtime is asynchronous: the page awaits it between model_feeds and
    Trace.from_outputs, the two halves of this function.)
    """
    cache = cache or KVCache.empty(c)
    ids = checked_ids(c, new_ids, cache)
    return Trace.from_outputs(ids, cache.length, run(model_feeds(c, ids, cache, ablation=ablation)))


def lens_calls(
    c: ModelConfig, ids: Sequence[int], cache: KVCache, call_bytes: int = LENS_CALL_BYTES
) -> list[tuple[int, list[int], KVCache]]:
    """The model calls of the logit lens of the last positions of ids (T,), `cache` holding the
    keys and values of all T: (start, the span's ids, the cache of the positions before it) for
    each span of lens_spans, run again as new tokens with lens_positions = len(span ids), so the
    calls together cost about one pass and hold few rows at a time. The page awaits them one by
    one (app.py, compute_lens); logit_lens runs them here."""
    if cache.length != len(ids):
        raise ValueError(f"the cache holds {cache.length} positions, the text {len(ids)}")
    spans = lens_spans(len(ids), c.n_layer, c.vocab_size, call_bytes)
    return [(start, list(ids[start:stop]), cache.prefix(start)) for start, stop in spans]


def logit_lens(
    run: RunModel,
    c: ModelConfig,
    ids: Sequence[int],
    cache: KVCache,
    *,
    call_bytes: int = LENS_CALL_BYTES,
) -> LogitLens:
    """The logit lens of the last positions of ids at every depth, in the calls of lens_calls."""
    parts = []
    for start, span, past in lens_calls(c, ids, cache, call_bytes):
        outputs = run(model_feeds(c, checked_ids(c, span, past), past, lens_positions=len(span)))
        parts.append(LogitLens.from_outputs(c.n_layer, len(span), outputs, start))
    return LogitLens.joined(parts)


def cache_after(trace: Trace) -> KVCache:
    return KVCache(trace.present_keys, trace.present_values)


def generate(
    run: RunModel,
    c: ModelConfig,
    prompt_ids: Sequence[int],
    n_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
    use_cache: bool = True,
    banned: Sequence[int] = (),
) -> list[int]:
    """n_tokens new ids after prompt_ids, sampled one at a time (seeded), never one of `banned`
    (the tokenizer's never_sampled).

    With the cache each step feeds only the newest token; without it every step recomputes the
    whole sequence. Both give the same logits, hence the same tokens for the same seed.
    """
    check_context(len(prompt_ids) + max(n_tokens - 1, 0), c)  # the last token is never run
    rng = np.random.default_rng(seed)
    ids = list(prompt_ids)
    trace = forward(run, c, ids)
    for step in range(n_tokens):
        token = sample_next_token(
            trace.last_logits,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            banned=banned,
            rng=rng,
        )
        ids.append(token)
        if step == n_tokens - 1:
            break
        trace = forward(run, c, [token], cache_after(trace)) if use_cache else forward(run, c, ids)
    return ids[len(prompt_ids) :]
