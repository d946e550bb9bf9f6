"""Next-token distribution and sampling over the full vocabulary.

The bars the page draws and the token `sample_next_token` picks come from the same
`next_token_distribution`, so what the student sees is exactly what is sampled from.
Pipeline, over all V logits (never a truncated top-50):

    logits (V,) -> banned tokens to -inf -> / temperature -> softmax -> top-k -> renormalise
           -> top-p -> renormalise

`banned` are tokens that must never be drawn: a BERT-vocabulary model's special tokens
([CLS], [SEP], [UNK]...: WordPieceTokenizer.never_sampled), which are no text.

Ranking for top-k, top-p and `top_tokens` is by (-probability, token id): ties go to the
lowest id, so every result is deterministic.
"""

import math
import operator
from collections.abc import Sequence

import numpy as np

# A nucleus whose mass falls short of top_p by less than this still "reaches" it: the cumulative
# sum of a float64 softmax is off by rounding (~1e-16 per token), and 0.5 + 0.25 must reach 0.75.
TOP_P_TOLERANCE = 1e-9


def next_token_distribution(
    logits: np.ndarray,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    banned: Sequence[int] = (),
) -> np.ndarray:
    """Probabilities (V,) float64 that `sample_next_token` draws from, for logits (V,).

    temperature == 0: greedy, one-hot on the argmax (ties -> lowest id).
    temperature > 0: softmax(logits / temperature), stable in float64 for any positive value.
    top_k: keep the k most probable tokens; top_k <= 0 or top_k >= V is off.
    top_p: of what top-k kept (renormalised), keep the smallest prefix, ranked by
        (-prob, id), whose mass reaches top_p (at least one token); top_p >= 1 is off.
    banned: token ids given probability 0 before anything else (so greedy skips them too).
    Logits may be -inf (token banned) but not NaN or +inf.
    """
    x = _check_logits(without_tokens(logits, banned))  # (V,) float64
    _check_options(temperature, top_k, top_p)
    if temperature == 0:
        probs = np.zeros_like(x)
        probs[np.argmax(x)] = 1.0  # argmax returns the first maximum: ties -> lowest id
        return probs
    # Subtract the max before dividing: the exponents are <= 0, so a tiny temperature gives
    # exp(-inf) = 0 instead of overflow, and the top token always has exp(0) = 1.
    probs = np.exp((x - x.max()) / temperature)  # (V,)
    probs /= probs.sum()
    probs = _keep_top_k(probs, int(top_k))
    probs = _keep_top_p(probs, float(top_p))
    return probs


def sample_next_token(
    logits: np.ndarray,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    banned: Sequence[int] = (),
    rng: np.random.Generator,
) -> int:
    """One token id drawn from `next_token_distribution(logits, ...)` with one rng.random().

    Inverse CDF: the first id whose cumulative probability exceeds u * total. Only
    rng.random() is used (not rng.choice), so a seed gives the same tokens in CPython
    and Pyodide. Tokens with probability 0 are never drawn.
    """
    probs = next_token_distribution(
        logits, temperature=temperature, top_k=top_k, top_p=top_p, banned=banned
    )
    cdf = np.cumsum(probs)  # (V,)
    u = rng.random()  # [0, 1 - 2**-53]: u * total stays below total, so an id < V is found
    return int(np.searchsorted(cdf, u * cdf[-1], side="right"))


def without_tokens(logits: np.ndarray, banned: Sequence[int]) -> np.ndarray:
    """logits (V,) as float64 with the `banned` token ids at -inf (a copy when any is banned)."""
    x = np.asarray(logits, dtype=np.float64)
    if len(banned):
        x = x.copy()
        x[np.asarray(banned, dtype=np.int64)] = -np.inf
    return x


def top_tokens(probs: np.ndarray, n: int) -> list[tuple[int, float]]:
    """The n most probable (token id, probability) pairs of probs (V,), ties by lowest id."""
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"probs must be a 1-D array (V,), got shape {p.shape}")
    order = _ranking(p)[:n]
    return [(int(i), float(p[i])) for i in order]


def _ranking(probs: np.ndarray) -> np.ndarray:
    """Token ids (V,) sorted by (-prob, id): a stable sort keeps equal probs in id order."""
    return np.argsort(-probs, kind="stable")


def _keep_top_k(probs: np.ndarray, k: int) -> np.ndarray:
    """probs (V,) with all but the k best ranked tokens zeroed, renormalised; k <= 0 is off."""
    if k <= 0 or k >= probs.size:
        return probs
    kept = np.zeros_like(probs)
    best = _ranking(probs)[:k]
    kept[best] = probs[best]
    return kept / kept.sum()


def _keep_top_p(probs: np.ndarray, p: float) -> np.ndarray:
    """probs (V,) cut to the smallest ranked prefix with mass >= p, renormalised; p >= 1 is off."""
    if p >= 1.0:
        return probs
    order = _ranking(probs)
    mass = np.cumsum(probs[order])  # (V,) mass of each ranked prefix
    # First prefix whose mass reaches p; the +1 turns an index into a count (at least one token).
    n_kept = int(np.searchsorted(mass, p - TOP_P_TOLERANCE, side="left")) + 1
    kept = np.zeros_like(probs)
    best = order[:n_kept]
    kept[best] = probs[best]
    return kept / kept.sum()


def _check_logits(logits: np.ndarray) -> np.ndarray:
    """logits as a float64 (V,) array, or a ValueError saying what is wrong with them."""
    x = np.asarray(logits, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D array (V,), got shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError(f"logits contain NaN at token ids {np.flatnonzero(np.isnan(x))[:10]}")
    if np.isposinf(x).any():
        raise ValueError("logits contain +inf; only finite values and -inf (banned) are allowed")
    if np.isneginf(x).all():
        raise ValueError("all logits are -inf: no token can be chosen")
    return x


def _check_options(temperature: float, top_k: int, top_p: float) -> None:
    """Raise a ValueError naming the first sampling option that is out of range."""
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 = greedy), got {temperature}"
        )
    try:
        operator.index(top_k)
    except TypeError:
        raise ValueError(f"top_k must be an integer (0 = off), got {top_k!r}") from None
    if not (0 < top_p <= 1):  # also rejects NaN
        raise ValueError(f"top_p must be in (0, 1] (1 = off), got {top_p}")
