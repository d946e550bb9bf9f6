"""Masked multi-head self-attention, step by step, from the model's own Q, K and V.

The model exports Q (H, T, Dh) for the T newest tokens and K, V (H, S, Dh) for all
S = P + T positions, where P tokens are already in the key/value cache. Query row i is the
token at absolute position P + i and may attend to keys 0 .. P + i. Every intermediate the
attention view shows (scores, scale, mask, softmax, weighted values, merged heads) and the
statistics of the interpretability panel are computed here, for all heads in one call.
"""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class AttentionSteps:
    """Every step of masked self-attention for one layer, all heads (float32 or float64)."""

    scores: np.ndarray  # (H, T, S) raw q . k
    scale: float  # 1 / sqrt(Dh)
    scaled: np.ndarray  # (H, T, S) scores * scale
    mask: np.ndarray  # (T, S) bool, True = may attend
    masked: np.ndarray  # (H, T, S) scaled, -inf where the mask forbids
    probs: np.ndarray  # (H, T, S) softmax of each row, exactly 0 where masked
    head_outputs: np.ndarray  # (H, T, Dh) probs @ v


@dataclass(frozen=True, eq=False)
class AttentionSparsity:
    """Share of allowed attention weights below `threshold` (float64)."""

    threshold: float
    overall: np.ndarray  # (H,) over all allowed cells of each head
    row: np.ndarray  # (H, T) over the allowed cells of each row
    row_mean: np.ndarray  # (H,) mean of `row` over the T rows
    row_max: np.ndarray  # (H,) max of `row` over the T rows


def causal_mask(t: int, s: int) -> np.ndarray:
    """(T, S) bool: row i (absolute position s - t + i) may attend to keys 0 .. s - t + i."""
    if not 0 <= t <= s:
        raise ValueError(f"need 0 <= T <= S (queries are the newest keys), got T={t}, S={s}")
    past = s - t  # P: positions already in the key/value cache
    return np.arange(s)[None, :] <= past + np.arange(t)[:, None]  # (1, S) <= (T, 1)


def decompose_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, *, dtype: type = np.float32
) -> AttentionSteps:
    """Scores, scale, mask, softmax and head outputs for q (H, T, Dh), k and v (H, S, Dh).

    Computed in `dtype`: float32 by default, the precision the model runs in, so the numbers
    match its own attention output; float64 for a check against the model that differs from it
    by the model's float32 rounding. GPT-2 divides by sqrt(Dh); we multiply by 1 / sqrt(Dh),
    which is bit-identical when Dh is a power of 4 (Dh = 64 in GPT-2) and within 1 ulp otherwise.
    """
    q, k, v = (np.asarray(a, dtype=dtype) for a in (q, k, v))
    _check_qkv(q, k, v)
    t, d_head = q.shape[1:]
    s = k.shape[1]
    scale = 1.0 / math.sqrt(d_head)
    scores = q @ k.transpose(0, 2, 1)  # (H, T, Dh) @ (H, Dh, S) -> (H, T, S)
    scaled = scores * q.dtype.type(scale)  # (H, T, S)
    mask = causal_mask(t, s)  # (T, S)
    masked = np.where(mask, scaled, q.dtype.type(-np.inf))  # (H, T, S)
    probs = _softmax(masked)  # (H, T, S)
    head_outputs = probs @ v  # (H, T, S) @ (H, S, Dh) -> (H, T, Dh)
    return AttentionSteps(scores, scale, scaled, mask, masked, probs, head_outputs)


def merge_heads(head_outputs: np.ndarray) -> np.ndarray:
    """(H, T, Dh) -> (T, H * Dh), as GPT-2 before c_proj: column h * Dh + d is head h, dim d."""
    n_heads, t, d_head = head_outputs.shape
    return head_outputs.transpose(1, 0, 2).reshape(t, n_heads * d_head)  # (T, H, Dh) -> (T, H*Dh)


def row_entropy(probs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, T, S), (T, S) -> (H, T) float64: H(row) = -sum over allowed p of p * log2(p), in bits.

    0 bits: all weight on one position; log2(n) bits: spread evenly over the n allowed ones.
    """
    p, allowed = _check_probs_mask(probs, mask)
    return -_sum_p_log2_p(p, allowed)


def row_kl_from_uniform(probs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, T, S), (T, S) -> (H, T) float64: KL(row || uniform over its n allowed keys), in bits.

    KL = sum over allowed p of p * log2(p * n): 0 when the row is uniform; and since each row
    sums to 1, row_entropy + row_kl_from_uniform = log2(n).
    """
    p, allowed = _check_probs_mask(probs, mask)
    n_allowed = allowed.sum(axis=-1)  # (T,)
    return _sum_p_log2_p(p, allowed) + np.log2(n_allowed) * np.where(allowed, p, 0.0).sum(axis=-1)


def attention_sparsity(
    probs: np.ndarray, mask: np.ndarray, threshold: float = 0.01
) -> AttentionSparsity:
    """(H, T, S), (T, S) -> share of allowed weights p < threshold: per head, per row, mean, max.

    overall: (weights below threshold) / (allowed weights), over the whole matrix of a head.
    row: the same share within one row; row_mean and row_max summarise it over the T rows.
    """
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold}")
    p, allowed = _check_probs_mask(probs, mask)
    small = allowed & (p < threshold)  # (H, T, S)
    n_allowed = allowed.sum(axis=-1)  # (T,)
    row = small.sum(axis=-1) / n_allowed  # (H, T)
    overall = small.sum(axis=(-2, -1)) / n_allowed.sum()  # (H,)
    return AttentionSparsity(float(threshold), overall, row, row.mean(axis=-1), row.max(axis=-1))


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; -inf entries become exactly 0 (each row has a finite max)."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))  # exponents <= 0: no overflow
    return e / e.sum(axis=-1, keepdims=True)


def _sum_p_log2_p(p: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """(H, T, S) -> (H, T): sum of p * log2(p) over allowed cells, taking 0 * log2(0) = 0."""
    counted = allowed & (p > 0)
    log_p = np.log2(np.where(counted, p, 1.0))  # log2(1) = 0 where not counted: no warnings
    return np.where(counted, p * log_p, 0.0).sum(axis=-1)


def _check_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
    """Raise a ValueError unless q is (H, T, Dh) and k, v are (H, S, Dh) with S >= T."""
    if q.ndim != 3 or k.ndim != 3 or v.ndim != 3:
        raise ValueError(
            "q, k, v must be (H, T, Dh), (H, S, Dh), (H, S, Dh); "
            f"got {q.shape}, {k.shape}, {v.shape}"
        )
    if k.shape != v.shape or k.shape[0] != q.shape[0] or k.shape[2] != q.shape[2]:
        raise ValueError(
            f"k and v must be (H, S, Dh) matching q (H, T, Dh); got q {q.shape}, k {k.shape}, "
            f"v {v.shape}"
        )
    if k.shape[1] < q.shape[1]:
        raise ValueError(
            f"need S >= T (keys include the queries), got T={q.shape[1]}, S={k.shape[1]}"
        )
    if q.shape[2] == 0:
        raise ValueError("Dh must be >= 1")


def _check_probs_mask(probs: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """probs as float64 (..., T, S) and mask as bool (T, S), checked to fit each other."""
    p = np.asarray(probs, dtype=np.float64)
    allowed = np.asarray(mask)
    if allowed.dtype != bool or allowed.ndim != 2:
        raise ValueError(f"mask must be a (T, S) bool array, got {allowed.dtype} {allowed.shape}")
    if p.ndim < 2 or p.shape[-2:] != allowed.shape:
        raise ValueError(f"probs {p.shape} must end in the mask's shape (T, S) = {allowed.shape}")
    if not allowed.any(axis=-1).all():
        raise ValueError("every row of the mask must allow at least one position")
    return p, allowed
