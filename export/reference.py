"""An independent numpy GPT-2 forward pass (picoGPT-style), used to check the exported graph.

It shares nothing with the ONNX graph builder but the weights: if both agree, the graph computes
GPT-2. float64 throughout, so the comparison measures the graph's error, not this one's.
"""

from __future__ import annotations

import numpy as np

from pyexplainer.config import ModelConfig


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return g * (x - mean) / np.sqrt(var + eps) + b


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(x: np.ndarray, w: dict, p: str, n_head: int) -> np.ndarray:
    """x (T, D) -> (T, D): causal multi-head self-attention with its output projection."""
    T, D = x.shape
    qkv = x @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # (T, 3D)
    q, k, v = (
        m.reshape(T, n_head, D // n_head).transpose(1, 0, 2) for m in np.split(qkv, 3, axis=-1)
    )  # (H, T, Dh)
    causal = np.triu(np.full((T, T), -np.inf), k=1)  # (T, T)
    weights = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(D // n_head) + causal)  # (H, T, T)
    merged = (weights @ v).transpose(1, 0, 2).reshape(T, D)  # (T, D)
    return merged @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]


def gpt2_logits(ids: np.ndarray, w: dict[str, np.ndarray], c: ModelConfig) -> np.ndarray:
    """ids (T,) -> logits (T, V) at every position."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = w["wte.weight"][ids] + w["wpe.weight"][: len(ids)]  # (T, D)
    eps = c.layer_norm_epsilon
    for i in range(c.n_layer):
        p = f"h.{i}."
        x = x + attention(
            layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps), w, p, c.n_head
        )
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])  # (T, 4D)
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps) @ w["wte.weight"].T  # (T, V)
