"""The tests' own sampler and generator: every step is a full float64 pass of the loop reference
(tests/gpt2_reference.py), never a cache, and sampling shares no code with pyexplainer.core.

The one contract kept with pyexplainer: a seed means numpy's default_rng(seed), and each token
uses one rng.random() drawn through the inverse CDF (that is what makes CPython and Pyodide agree).
"""

import numpy as np

from tests.gpt2_reference import reference_forward


def reference_probs(logits, temperature: float, top_k: int, top_p: float) -> np.ndarray:
    """softmax(logits / temperature) (V,), cut to the top_k most probable (0 = off), then to the
    fewest most probable whose mass reaches top_p (1 = off), renormalised after each cut."""
    logits = np.asarray(logits, dtype=np.float64)
    p = np.exp((logits - logits.max()) / temperature)
    p /= p.sum()
    order = np.argsort(-p, kind="stable")  # most probable first, ties by lowest id
    if 0 < top_k < len(p):
        p[order[top_k:]] = 0.0
        p /= p.sum()
    if top_p < 1:
        mass = np.cumsum(p[order])
        p[order[int(np.argmax(mass >= top_p - 1e-9)) + 1 :]] = 0.0
        p /= p.sum()
    return p


def reference_sample(logits, rng, temperature=1.0, top_k=0, top_p=1.0) -> int:
    """The first token whose cumulative probability exceeds one uniform draw; greedy at 0."""
    if temperature == 0:
        return int(np.argmax(logits))
    cumulative = np.cumsum(reference_probs(logits, temperature, top_k, top_p))
    return int(np.flatnonzero(cumulative > rng.random() * cumulative[-1])[0])


def reference_generate(weights, n_layer, n_head, prompt, n_tokens, *, seed=0, **settings):
    """(new token ids, the last-position logits (V,) of each full pass that chose one)."""
    rng = np.random.default_rng(seed)
    ids, logits = list(prompt), []
    for _ in range(n_tokens):
        logits.append(reference_forward(ids, weights, n_layer, n_head)["logits"][-1])
        ids.append(reference_sample(logits[-1], rng, **settings))
    return ids[len(prompt) :], logits
