"""Head roles: what each attention head of the model tends to do, as one score per role, and the
heads ranked by any role.

Scores are means over query rows of one head's weights (H, T, S); row i is the query at absolute
position P + i. The query at position 0 may attend only to itself, so it says nothing about a
head and is left out of every score. The induction score needs its own pass over a repeated
random sequence (repeated_random_tokens): a head that looks at the token which followed the
current token's earlier occurrence is how a model continues a pattern it has seen once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.attention import causal_mask, decompose_attention, row_entropy
from pyexplainer.core.trace import Trace

END_OF_TEXT = 50256  # GPT-2's special <|endoftext|> token, never drawn as a random token

# Role ids, each named in the catalogue as "head_roles.<id>" with a ".definition".
ROLES = ("previous_token", "first_token", "self_attention", "entropy", "induction")
INDUCTION_OUTPUTS = ("q", "present_keys", "present_values")  # what induction_scores reads


@dataclasses.dataclass(frozen=True, eq=False)
class HeadRolesView:
    """One score per head of every block and role (float64); induction is None without a pass
    over a repeated sequence."""

    previous_token: np.ndarray  # (L, H) mean weight on the previous position
    first_token: np.ndarray  # (L, H) mean weight on position 0 (the "attention sink")
    self_attention: np.ndarray  # (L, H) mean weight on the query's own position (the diagonal)
    entropy: np.ndarray  # (L, H) mean row entropy, bits
    induction: np.ndarray | None  # (L, H) mean weight on the token after the earlier occurrence


@dataclasses.dataclass(frozen=True)
class RankedHead:
    layer: int
    head: int
    score: float


def repeated_random_tokens(
    n: int, vocab_size: int, seed: int, banned: Sequence[int] = ()
) -> list[int]:
    """2n token ids: n distinct random ids, then the same n again; never END_OF_TEXT nor a
    `banned` token (the tokenizer's never_sampled: a BERT vocabulary's [CLS], [PAD] ..., which
    the model never read inside a text).

    Distinct, so every token of the second half has exactly one earlier occurrence.
    """
    left_out = {*banned, *([END_OF_TEXT] if vocab_size > END_OF_TEXT else [])}
    drawable = np.setdiff1d(np.arange(vocab_size), sorted(left_out))  # (V - banned,) ascending
    if not 1 <= n <= drawable.size:
        raise ValueError(
            f"n must be in 1 .. {drawable.size} for a vocabulary of {vocab_size}, got {n}"
        )
    drawn = np.random.default_rng(seed).choice(drawable.size, size=n, replace=False)  # (n,)
    return [int(t) for t in drawable[drawn]] * 2


def previous_token_score(probs: np.ndarray, past_length: int = 0) -> np.ndarray:
    """(..., T, S) -> (...): mean over queries at positions >= 1 of the weight on position - 1."""
    return _mean_weight_at(probs, past_length, lambda position: position - 1)


def first_token_score(probs: np.ndarray, past_length: int = 0) -> np.ndarray:
    """(..., T, S) -> (...): mean over queries at positions >= 1 of the weight on position 0."""
    return _mean_weight_at(probs, past_length, lambda position: np.zeros_like(position))


def self_attention_score(probs: np.ndarray, past_length: int = 0) -> np.ndarray:
    """(..., T, S) -> (...): mean over queries at positions >= 1 of the weight on themselves."""
    return _mean_weight_at(probs, past_length, lambda position: position)


def mean_entropy(probs: np.ndarray, past_length: int = 0) -> np.ndarray:
    """(H, T, S) -> (H,): mean over queries at positions >= 1 of the row entropy, in bits."""
    t, s = probs.shape[-2:]
    rows = _informative_rows(t, past_length)
    return row_entropy(probs, causal_mask(t, s))[..., rows].mean(axis=-1)


def induction_score(probs: np.ndarray) -> np.ndarray:
    """(..., 2n, 2n) weights over a sequence repeated once -> (...): mean over the second-half
    queries i = n .. 2n - 1 of the weight on position i - n + 1, the token that followed the
    earlier occurrence of token i."""
    t, s = probs.shape[-2:]
    if t != s or t % 2 or t < 2:
        raise ValueError(f"need the full (2n, 2n) weights of a repeated sequence, got {(t, s)}")
    n = t // 2
    queries = np.arange(n, t)  # (n,)
    return probs[..., queries, queries - n + 1].mean(axis=-1)


def head_roles(trace: Trace, induction: np.ndarray | None = None) -> HeadRolesView:
    """Every head's role scores over the rows of `trace`; induction: (L, H) induction_scores of
    the pass over repeated_random_tokens (kept instead of that pass: a whole trace)."""
    probs = [trace.attention(layer).probs for layer in range(trace.q.shape[0])]  # L x (H, T, S)
    past = trace.past_length
    return HeadRolesView(
        previous_token=np.stack([previous_token_score(p, past) for p in probs]),
        first_token=np.stack([first_token_score(p, past) for p in probs]),
        self_attention=np.stack([self_attention_score(p, past) for p in probs]),
        entropy=np.stack([mean_entropy(p, past) for p in probs]),
        induction=induction,
    )


def ranked_heads(view: HeadRolesView, role: str, minimum: float = -np.inf) -> list[RankedHead]:
    """Heads with a `role` score >= minimum, highest first (ties: lower layer, then head)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    scores = getattr(view, role)
    if scores is None:
        raise ValueError(f"no {role} scores: the view was made without a repeated sequence")
    heads = [
        RankedHead(layer, head, float(scores[layer, head]))
        for layer, head in np.ndindex(scores.shape)
        if scores[layer, head] >= minimum
    ]
    return sorted(heads, key=lambda h: -h.score)  # stable: ties keep (layer, head) order


def induction_scores(
    ids: Sequence[int], q: np.ndarray, keys: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """(L, H) induction scores of one pass from position 0 over ids (2n,), a sequence repeated
    once: its q (L, H, 2n, Dh), present_keys and present_values (L, H, 2n, Dh), the model
    outputs INDUCTION_OUTPUTS (all the page asks the model for on that pass)."""
    ids = np.asarray(ids)
    n = len(ids) // 2
    if keys.shape[2] != len(ids) or len(ids) % 2 or n < 1 or not np.array_equal(ids[:n], ids[n:]):
        raise ValueError("the induction pass must run a sequence repeated once, from position 0")
    probs = [decompose_attention(q[i], keys[i], values[i]).probs for i in range(q.shape[0])]
    return np.stack([induction_score(p) for p in probs])  # L x (H, 2n, 2n) -> (L, H)


def _informative_rows(t: int, past_length: int) -> np.ndarray:
    """Rows of queries at positions >= 1 (position P + i for row i)."""
    rows = np.arange(t)[past_length + np.arange(t) >= 1]
    if rows.size == 0:
        raise ValueError("need a query at position 1 or later: position 0 sees only itself")
    return rows


def _mean_weight_at(probs: np.ndarray, past_length: int, key_of) -> np.ndarray:
    """(..., T, S) -> (...): mean over informative rows of the weight on key_of(position)."""
    p = np.asarray(probs, dtype=np.float64)
    rows = _informative_rows(p.shape[-2], past_length)  # (R,)
    positions = past_length + rows  # (R,)
    return p[..., rows, key_of(positions)].mean(axis=-1)  # (..., R) -> (...)
