"""Direct logit attribution: which parts of the model wrote a token's logit, for this input.

The residual stream after the last block, at the last position, is a sum of parts: the token and
position embeddings, what each head wrote (its output through its own rows of c_proj), each
block's attention bias, and each block's MLP output. The final layer norm is
LN_f(x) = gain * (x - mean(x)) / std + bias. Hold std at the value this forward pass computed
(the model's own lnf_std) and LN_f is linear in x, so a token's logit, LN_f(x) . W_U[t], splits
into one number per part, ((part - mean(part)) / std * gain) . W_U[t], plus the constant
bias . W_U[t]. The numbers and the constant add up to the logit the rows give; the page shows
that sum beside the model's own logit.

The model returns the parts for the last position in a pass of their own (ATTRIBUTION_OUTPUTS
in core/trace.py): the last token again after the cache of the others, with the output layer's
rows of the tokens asked about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.config import ModelConfig
from pyexplainer.core.ablation import Ablation
from pyexplainer.core.generation import KVCache, model_feeds
from pyexplainer.core.trace import ATTRIBUTION_OUTPUTS

EMBED = "embed"
LNF_BIAS = "lnf_bias"  # the constant's name, beside the parts'
# What parts_from_outputs reads of the pass: the page fetches only these (the rest of the trace
# of the one token stays inside onnxruntime-web).
ATTRIBUTION_READS = (
    "residual",
    "mlp_out",
    "lnf_std",
    "lnf_gain",
    "lnf_bias",
    "last_logits",
    *ATTRIBUTION_OUTPUTS,
)


def head_part(layer: int, head: int) -> str:
    return f"L{layer}H{head}"


def attn_bias_part(layer: int) -> str:
    return f"L{layer}attn_bias"


def mlp_part(layer: int) -> str:
    return f"L{layer}mlp"


@dataclasses.dataclass(frozen=True)
class Parts:
    """What each part of the model added to the residual stream at the last position, in the
    order the model adds them, and what the final layer norm needs to read them."""

    names: tuple[str, ...]  # EMBED, then per block its heads, its attention bias, its MLP
    layers: tuple[int | None, ...]  # the block of each part (None: the embeddings)
    vectors: np.ndarray  # (P, D) float64
    final_residual: np.ndarray  # (D,) the model's own residual stream after the last block
    lnf_std: float  # sqrt(var + eps) of final_residual, as the model computed it
    lnf_gain: np.ndarray  # (D,)
    lnf_bias: np.ndarray  # (D,)
    unembed: dict[int, np.ndarray]  # token id -> its (D,) row of the output layer
    logits: np.ndarray  # (V,) the model's own logits at the last position

    @property
    def largest_sum_difference(self) -> float:
        """max |sum of the parts - the model's residual stream|: two computations of the same
        vector (about float32 rounding, ~1e-6 of its size)."""
        return float(np.abs(self.vectors.sum(axis=0) - self.final_residual).max())


def attribution_call(
    ids: Sequence[int], cache: KVCache, ablation: Ablation | None = None
) -> tuple[list[int], KVCache]:
    """The pass that returns the parts: (its new token ids, the cache it runs after). The last
    token after the cache of the others (one token of work), except under a mean ablation,
    which averages over the whole text: all of it then, with no cache."""
    if not ids:
        raise ValueError("no text to attribute: type at least one character")
    if ablation is not None and ablation.mode == "mean" and not ablation.empty:
        return list(ids), cache.prefix(0)
    return list(ids[-1:]), cache.prefix(len(ids) - 1)


def attribution_feeds(
    c: ModelConfig,
    ids: Sequence[int],
    cache: KVCache,
    token_ids: Sequence[int],
    ablation: Ablation | None = None,
) -> dict[str, np.ndarray]:
    """Every model input of the attribution pass over the text ids, whose keys and values
    `cache` holds, with the output layer's rows of token_ids."""
    if cache.length != len(ids):
        raise ValueError(f"the cache holds {cache.length} positions, the text {len(ids)}")
    for t in token_ids:
        if not 0 <= t < c.vocab_size:
            raise ValueError(f"token id {t} is not in this model's vocabulary of {c.vocab_size}")
    new, past = attribution_call(ids, cache, ablation)
    feeds = model_feeds(c, np.asarray(new, np.int64), past, ablation=ablation)
    return feeds | {"unembed_ids": np.asarray(token_ids, dtype=np.int64)}


def parts_from_outputs(
    c: ModelConfig, outputs: dict[str, np.ndarray], token_ids: Sequence[int]
) -> Parts:
    """The parts at the last position of the attribution pass's outputs."""
    writes = outputs["head_writes"].astype(np.float64)  # (L, H, D)
    names, layers, vectors = [EMBED], [None], [outputs["residual"][0, -1]]
    for layer in range(c.n_layer):
        names += [head_part(layer, h) for h in range(c.n_head)]
        names += [attn_bias_part(layer), mlp_part(layer)]
        layers += [layer] * (c.n_head + 2)
        vectors += [*writes[layer], outputs["attn_bias"][layer], outputs["mlp_out"][layer, -1]]
    rows = outputs["unembed_rows"].astype(np.float64)  # (U, D)
    return Parts(
        names=tuple(names),
        layers=tuple(layers),
        vectors=np.asarray(vectors, dtype=np.float64),  # (P, D)
        final_residual=outputs["residual"][-1, -1].astype(np.float64),
        lnf_std=float(outputs["lnf_std"][-1]),
        lnf_gain=outputs["lnf_gain"].astype(np.float64),
        lnf_bias=outputs["lnf_bias"].astype(np.float64),
        unembed={int(t): rows[i] for i, t in enumerate(token_ids)},
        logits=outputs["last_logits"],
    )


@dataclasses.dataclass(frozen=True)
class Attribution:
    """Each part's share of one token's logit (or of the difference of two tokens' logits)."""

    names: tuple[str, ...]
    layers: tuple[int | None, ...]
    values: np.ndarray  # (P,) float64, logit units
    constant: float  # lnf_bias . row: the final layer norm's shift
    model_logit: float  # the model's own logit (difference), from its output layer

    @property
    def total(self) -> float:
        """The parts and the constant added up: the logit the parts give."""
        return float(self.values.sum() + self.constant)

    @property
    def difference(self) -> float:
        """total - the model's own logit: float32 rounding, or on the WebAssembly int8 path the
        rounding of the output layer's input to 8 bits, which is not linear in the parts."""
        return self.total - self.model_logit


def read_through(parts: Parts, row: np.ndarray) -> tuple[np.ndarray, float]:
    """(each part's ((part - mean) / std * gain) . row (P,), the constant bias . row)."""
    centred = parts.vectors - parts.vectors.mean(axis=1, keepdims=True)  # (P, D)
    return (centred / parts.lnf_std * parts.lnf_gain) @ row, float(parts.lnf_bias @ row)


def attribute(parts: Parts, target: int, other: int | None = None) -> Attribution:
    """Each part's contribution to the target token's logit, or with `other` to the logit
    difference target - other (the logit is linear in the row, so it is the same sum read
    through the difference of the two rows)."""
    row = parts.unembed[target] - (parts.unembed[other] if other is not None else 0.0)
    values, constant = read_through(parts, row)
    logit = float(parts.logits[target]) - (float(parts.logits[other]) if other is not None else 0.0)
    return Attribution(parts.names, parts.layers, values, constant, logit)


def per_block(attribution: Attribution) -> np.ndarray:
    """(L,) float64: each block's heads, attention bias and MLP added up (which depth decides
    the token); the embeddings and the constant are in no block."""
    n_layer = 1 + max(layer for layer in attribution.layers if layer is not None)
    sums = np.zeros(n_layer)
    for layer, value in zip(attribution.layers, attribution.values, strict=True):
        if layer is not None:
            sums[layer] += value
    return sums
