"""How faithful the exported graph is: fp32 vs an independent numpy forward, int8 vs fp32.

Logits are compared at every position of a fixed text. The ONNX model is stepped one token at a
time through its key/value cache (so the cached path is what gets checked), and once more as one
full pass, which must give the last position's logits the cached steps gave.
"""

from __future__ import annotations

import numpy as np

from export.reference import gpt2_logits
from pyexplainer.config import ModelConfig
from pyexplainer.core.generation import KVCache, RunModel, cache_after, forward

FIDELITY_TEXT = (
    "The students opened their notebooks and wrote down the question on the board. "
    "Why does the model pay attention to some words more than others? The teacher smiled, "
    "typed a short sentence into the computer, and showed them how each word became a list "
    "of numbers. Then the numbers flowed through twelve layers, and at the end the model "
    "guessed the next word. It was not always right, but it was never random."
)
FP32_MAX_RELATIVE_DIFF = 1e-4  # max |onnx - numpy| / max |numpy| over all logits


def stepwise_logits(run: RunModel, c: ModelConfig, ids: list[int]) -> np.ndarray:
    """Logits (T, V) at every position, feeding one token per step through the cache."""
    cache, rows = KVCache.empty(c), []
    for token in ids:
        trace = forward(run, c, [token], cache)
        rows.append(trace.last_logits)
        cache = cache_after(trace)
    return np.stack(rows)


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def compare_fp32(run: RunModel, c: ModelConfig, weights: dict, ids: list[int]) -> dict:
    reference = gpt2_logits(np.asarray(ids), weights, c)  # (T, V) float64
    stepped = stepwise_logits(run, c, ids)  # (T, V)
    full_last = forward(run, c, ids).last_logits  # (V,)
    scale = np.abs(reference).max()
    return {
        "positions": len(ids),
        "max_relative_diff_vs_numpy": float(np.abs(stepped - reference).max() / scale),
        "max_abs_diff_vs_numpy": float(np.abs(stepped - reference).max()),
        "max_abs_diff_cache_vs_full_pass": float(np.abs(stepped[-1] - full_last).max()),
        "top1_agreement_vs_numpy": float((stepped.argmax(-1) == reference.argmax(-1)).mean()),
    }


def compare_int8(run_int8: RunModel, run_fp32: RunModel, c: ModelConfig, ids: list[int]) -> dict:
    q = stepwise_logits(run_int8, c, ids)
    f = stepwise_logits(run_fp32, c, ids)
    log_p, log_q = log_softmax(f), log_softmax(q)
    kl = (np.exp(log_p) * (log_p - log_q)).sum(-1)  # (T,) KL(fp32 || int8) in nats
    return {
        "positions": len(ids),
        "top1_agreement_vs_fp32": float((q.argmax(-1) == f.argmax(-1)).mean()),
        "mean_kl_nats_vs_fp32": float(kl.mean()),
        "max_kl_nats_vs_fp32": float(kl.max()),
    }
