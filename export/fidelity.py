"""How faithful the exported graph is: fp32 vs an independent numpy forward, a quantized graph
vs fp32.

Logits are compared at every position of a text. The ONNX model is stepped one token at a time
through its key/value cache (so the cached path is what gets checked), and once more as one full
pass, which must give the last position's logits the cached steps gave. A quantized graph is
measured on two texts, the fixed multi-sentence FIDELITY_TEXT and HELD_OUT_FILE (text the demo
model never trained on), and refused below its gate (QUANTIZED_GATES) over both texts' positions
together (the fixed text alone is 82 tokens: one token is 1.2 points of top-1 agreement).
"""

from __future__ import annotations

from pathlib import Path

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
# The same two texts for a Chinese model (language "zh"), written for this project: the fixed
# text above in Chinese, and a second one of everyday Chinese in place of the held-out English
FIDELITY_TEXT_ZH = (
    "同学们打开笔记本，把黑板上的问题抄了下来。为什么模型会更关注某些字，而不是另一些字？"
    "老师笑了笑，在电脑里输入一句短短的话，给大家看每个字怎样变成一串数字。这些数字流过"
    "十二层网络，最后模型猜出下一个字。它并不总是猜对，但从来不是随便乱猜。"
)
HELD_OUT_ZH = (
    "春天来了，河边的柳树长出了嫩绿的新芽。孩子们放学以后常常跑到田野里放风筝，风筝在蓝天下"
    "越飞越高。爷爷坐在门口晒太阳，一边喝茶一边给我们讲他小时候的故事：那时候村子里没有电灯，"
    "晚上大家围着油灯读书写字。后来修了公路，通了电，村里的年轻人也开始到城市里工作。每到"
    "过年，他们都会带着礼物回家，和家人一起包饺子、看烟花。"
)
FP32_MAX_RELATIVE_DIFF = 1e-4  # max |onnx - numpy| / max |numpy| over all logits
# The first 32 tokens of the first held-out chunk of each of the demo corpus's 11 sources
# (export.train_demo.split_held_out: never trained on), 373 GPT-2 tokens; a model reads as many
# of them as its context holds
HELD_OUT_FILE = Path(__file__).resolve().parent.parent / "models" / "demo" / "held_out.txt"
# weights -> (least top-1 agreement with fp32, largest mean KL(fp32 || quantized) in nats), over
# the positions of both texts, of each backend's graph
QUANTIZED_GATES = {"int8": (0.98, 0.005), "int4": (0.92, 0.02)}


def fidelity_texts(language: str | None) -> tuple[str, str]:
    """(the fixed text, the held-out text) a model is measured on, in its language."""
    if language == "zh":
        return FIDELITY_TEXT_ZH, HELD_OUT_ZH
    return FIDELITY_TEXT, HELD_OUT_FILE.read_text(encoding="utf-8")


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


def perplexity(logits: np.ndarray, ids: list[int]) -> float:
    """exp of the mean negative log-likelihood of each next token: logits (T, V), ids (T,)."""
    log_p = log_softmax(logits[:-1])  # (T-1, V)
    return float(np.exp(-log_p[np.arange(len(ids) - 1), ids[1:]].mean()))


def compare_quantized(run_q: RunModel, run_fp32: RunModel, c: ModelConfig, ids: list[int]) -> dict:
    """A quantized graph against the fp32 one on the same tokens, every position."""
    q = stepwise_logits(run_q, c, ids)  # (T, V)
    f = stepwise_logits(run_fp32, c, ids)  # (T, V)
    log_p, log_q = log_softmax(f), log_softmax(q)
    kl = (np.exp(log_p) * (log_p - log_q)).sum(-1)  # (T,) KL(fp32 || quantized) in nats
    return {
        "positions": len(ids),
        "top1_agreement_vs_fp32": float((q.argmax(-1) == f.argmax(-1)).mean()),
        "mean_kl_nats_vs_fp32": float(kl.mean()),
        "max_kl_nats_vs_fp32": float(kl.max()),
        "perplexity_fp32": perplexity(f, ids),
        "perplexity_quantized": perplexity(q, ids),
    }


def pooled(figures: dict[str, dict]) -> dict:
    """The texts' figures over all their positions together (perplexities stay per text)."""
    n = sum(f["positions"] for f in figures.values())

    def mean(key: str) -> float:
        return sum(f[key] * f["positions"] for f in figures.values()) / n

    return {
        "positions": n,
        "top1_agreement_vs_fp32": mean("top1_agreement_vs_fp32"),
        "mean_kl_nats_vs_fp32": mean("mean_kl_nats_vs_fp32"),
        "max_kl_nats_vs_fp32": max(f["max_kl_nats_vs_fp32"] for f in figures.values()),
    }


def gate_failures(quantize: str, f: dict) -> list[str]:
    """What of the figures `f` falls below the gate of `quantize` (empty: it passes)."""
    least_top1, most_kl = QUANTIZED_GATES[quantize]
    failures = []
    if not f["top1_agreement_vs_fp32"] >= least_top1:
        failures.append(
            f"top-1 agreement with fp32 {f['top1_agreement_vs_fp32']:.1%} < {least_top1:.0%}"
        )
    if not f["mean_kl_nats_vs_fp32"] <= most_kl:
        failures.append(f"mean KL from fp32 {f['mean_kl_nats_vs_fp32']:.4f} nats > {most_kl}")
    return failures
