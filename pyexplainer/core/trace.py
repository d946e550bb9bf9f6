"""The record of one forward pass: every intermediate tensor the views show.

The exported ONNX model has one output per entry of TRACE_OUTPUTS (this table is the single source
of the names; the export builds the graph from it and writes it into manifest.json). Shapes use
L layers, H heads, T new tokens, P cached positions, S = P + T, D model width, Dh = D / H, V vocab.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.attention import AttentionSteps, decompose_attention

# name -> (shape, what it is). Per-layer tensors are stacked over layers on axis 0.
TRACE_OUTPUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "token_embedding": (("T", "D"), "row of the token embedding matrix wte for each token"),
    "position_embedding": (
        ("T", "D"),
        "row of the position embedding matrix wpe for each position",
    ),
    "residual": (
        ("L+1", "T", "D"),
        "residual stream entering each block (0 = token + position embedding), "
        "then after the last block, before the final layer norm",
    ),
    "ln1_mean": (("L", "T"), "mean over D of the block input, in the first layer norm"),
    "ln1_std": (("L", "T"), "sqrt(variance + epsilon) of the block input, first layer norm"),
    "ln1_out": (("L", "T", "D"), "first layer norm output (normalised, scaled, shifted)"),
    "ln1_gain": (("L", "D"), "learned scale of the first layer norm (GPT-2's ln_1.weight)"),
    "ln1_bias": (("L", "D"), "learned shift of the first layer norm (GPT-2's ln_1.bias)"),
    "q": (("L", "H", "T", "Dh"), "queries of the new tokens, split into heads"),
    "k": (("L", "H", "T", "Dh"), "keys of the new tokens (cached keys are in present_keys)"),
    "v": (("L", "H", "T", "Dh"), "values of the new tokens (cached values are in present_values)"),
    "head_outputs": (
        ("L", "H", "T", "Dh"),
        "each head's attention-weighted sum of values (an ablated head's: what replaced it)",
    ),
    "attn_out": (("L", "T", "D"), "heads merged and projected by c_proj (bias included)"),
    "residual_mid": (("L", "T", "D"), "residual stream after the attention add"),
    "ln2_mean": (("L", "T"), "mean over D in the second layer norm"),
    "ln2_std": (("L", "T"), "sqrt(variance + epsilon) in the second layer norm"),
    "ln2_out": (("L", "T", "D"), "second layer norm output, the MLP input"),
    "ln2_gain": (("L", "D"), "learned scale of the second layer norm (ln_2.weight)"),
    "ln2_bias": (("L", "D"), "learned shift of the second layer norm (ln_2.bias)"),
    "mlp_pre": (("L", "T", "4D"), "MLP hidden layer before GELU (c_fc output)"),
    "mlp_act": (("L", "T", "4D"), "MLP hidden layer after GELU"),
    "mlp_out": (
        ("L", "T", "D"),
        "MLP output projected back to D (c_proj; an ablated MLP's: what replaced it)",
    ),
    "lnf_mean": (("T",), "mean over D in the final layer norm"),
    "lnf_std": (("T",), "sqrt(variance + epsilon) in the final layer norm"),
    "lnf_out": (("T", "D"), "final layer norm output"),
    "lnf_gain": (("D",), "learned scale of the final layer norm (ln_f.weight)"),
    "lnf_bias": (("D",), "learned shift of the final layer norm (ln_f.bias)"),
    "last_logits": (("V",), "logits of the last position over the full vocabulary"),
    "present_keys": (("L", "H", "S", "Dh"), "key cache after this step (past + new)"),
    "present_values": (("L", "H", "S", "Dh"), "value cache after this step (past + new)"),
}

# The logit lens: rows of the residual stream read through the final layer norm and the output
# layer, only those asked for (N may be 0), then always the last row, which is the model's own
# prediction (last_logits come from it): N + 1 rows, the K most probable tokens of each.
LENS_TOP_K = 5
LENS_OUTPUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "lens_probs": (
        ("N+1", "K"),
        "softmax probabilities of the K most probable tokens of each asked row, then of the last",
    ),
    "lens_ids": (("N+1", "K"), "int64 token ids of those K tokens, most probable first"),
}
# Attribution: what each part of the model wrote into the residual stream at the last position,
# and rows of the output layer to read them through (core/attribution.py). The page asks for
# them in a pass of its own, a cached step over the last token (U = 0 in every other pass).
ATTRIBUTION_OUTPUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "head_writes": (
        ("L", "H", "D"),
        "each head's output at the last position through its own rows of c_proj (no bias): "
        "with attn_bias they add up to attn_out's last row",
    ),
    "attn_bias": (("L", "D"), "the bias of each block's attention c_proj"),
    "unembed_rows": (
        ("U", "D"),
        "rows of the tied output layer (the token embedding) for unembed_ids, as the model "
        "holds them: a token's logit is lnf_out's last row . its row",
    ),
}
MODEL_OUTPUTS = {**TRACE_OUTPUTS, **LENS_OUTPUTS, **ATTRIBUTION_OUTPUTS}

# name -> (shape, what it is) of the model's inputs.
MODEL_INPUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "input_ids": (("T",), "int64 token ids of the new tokens"),
    "past_keys": (("L", "H", "P", "Dh"), "key cache of earlier tokens (P may be 0)"),
    "past_values": (("L", "H", "P", "Dh"), "value cache of earlier tokens (P may be 0)"),
    "head_keep": (("L", "H"), "1 keeps a head's output, 0 ablates it (what-if; all 1 normally)"),
    "mlp_keep": (("L",), "1 keeps a block's MLP output, 0 ablates it"),
    "ablate_to_mean": (
        (),
        "0: an ablated head or MLP adds zeros; 1: its output's mean over this pass's positions",
    ),
    "lens_rows": (
        ("N",),
        "int64 rows of the residual stream (L+1, T, D) flattened to ((L+1) T, D) to read with "
        "the logit lens: layer * T + position; may be empty",
    ),
    "unembed_ids": (("U",), "int64 token ids whose output-layer rows to return; may be empty"),
}


CHECKED_ROWS = 8  # positions of a pass the page's attention check recomputes (spread_rows)


def spread_rows(t: int, n: int = CHECKED_ROWS) -> list[int]:
    """n of the row indices 0 .. t-1, evenly spread, the first and the last included (all of
    them when t <= n): the positions the page's attention check recomputes after each pass.
    Every row costs (H, S) float64 work in Pyodide's numpy (no BLAS), all 64 rows of a
    64-token pass on GPT-2 small about 60 ms; a wrong mask shows at any row but the last."""
    if t <= n:
        return list(range(t))
    return sorted({round(i * (t - 1) / (n - 1)) for i in range(n)})


def largest_difference(recomputed: np.ndarray, model: np.ndarray) -> float:
    """max |recomputed - model|, in float64: the figure of a check that recomputes one of the
    model's float32 tensors another way (in float64, from the tensors the model fed it)."""
    return float(np.abs(np.asarray(recomputed, np.float64) - np.asarray(model, np.float64)).max())


def dtype_of(name: str) -> str:
    """The element type of a model input or output."""
    return "int64" if name in ("input_ids", "lens_rows", "lens_ids", "unembed_ids") else "float32"


@dataclasses.dataclass(frozen=True)
class Trace:
    """One forward pass over T new tokens after P cached ones; fields as in TRACE_OUTPUTS."""

    input_ids: np.ndarray  # (T,) int64
    past_length: int  # P
    token_embedding: np.ndarray
    position_embedding: np.ndarray
    residual: np.ndarray
    ln1_mean: np.ndarray
    ln1_std: np.ndarray
    ln1_out: np.ndarray
    ln1_gain: np.ndarray
    ln1_bias: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    head_outputs: np.ndarray
    attn_out: np.ndarray
    residual_mid: np.ndarray
    ln2_mean: np.ndarray
    ln2_std: np.ndarray
    ln2_out: np.ndarray
    ln2_gain: np.ndarray
    ln2_bias: np.ndarray
    mlp_pre: np.ndarray
    mlp_act: np.ndarray
    mlp_out: np.ndarray
    lnf_mean: np.ndarray
    lnf_std: np.ndarray
    lnf_out: np.ndarray
    lnf_gain: np.ndarray
    lnf_bias: np.ndarray
    last_logits: np.ndarray
    present_keys: np.ndarray
    present_values: np.ndarray

    @classmethod
    def from_outputs(
        cls, input_ids: np.ndarray, past_length: int, outputs: dict[str, np.ndarray]
    ) -> Trace:
        missing = sorted(set(TRACE_OUTPUTS) - set(outputs))
        if missing:
            raise ValueError(f"the model did not return the trace outputs {', '.join(missing)}")
        return cls(
            input_ids=np.asarray(input_ids, dtype=np.int64),
            past_length=past_length,
            **{name: outputs[name] for name in TRACE_OUTPUTS},
        )

    def attention(self, layer: int) -> AttentionSteps:
        """Layer `layer`'s attention step by step, recomputed in numpy from the model's own Q, K, V
        (keys and values include the cached positions): scores, scaling, mask, softmax, heads."""
        return decompose_attention(
            self.q[layer], self.present_keys[layer], self.present_values[layer]
        )

    def attention_mismatch(self, layer: int, rows: Sequence[int] | None = None) -> float:
        """max |head outputs recomputed in float64 from the model's Q, K, V - the model's own
        float32 head outputs| over one layer's heads, at the positions `rows` of this pass
        (indices into T; every one by default): a different computation of the same numbers,
        so about the model's rounding (~1e-7 of their size), and more if the model's attention
        were not the decomposition the page shows. A row is the last query over the keys up to
        it, so each is its own small decomposition (H, 1, S) and any subset can be checked."""
        q, keys, values = self.q[layer], self.present_keys[layer], self.present_values[layer]
        worst = 0.0
        for t in range(q.shape[1]) if rows is None else rows:
            seen = slice(0, self.past_length + t + 1)  # the keys position t attends to
            steps = decompose_attention(
                q[:, t : t + 1], keys[:, seen], values[:, seen], dtype=np.float64
            )
            worst = max(
                worst, largest_difference(steps.head_outputs[:, 0], self.head_outputs[layer, :, t])
            )
        return worst

    def extended(self, step: Trace) -> Trace:
        """This trace followed by `step`, the pass over the next tokens (run with this trace's
        cache): per-position tensors joined along T, so the views cover every position so far;
        the logits, the cache and the (per-layer) weights are the step's."""
        if step.past_length != self.past_length + len(self.input_ids):
            raise ValueError(
                f"the step starts at position {step.past_length}, "
                f"not after this trace's last position {self.past_length + len(self.input_ids) - 1}"
            )
        joined = {
            name: np.concatenate([getattr(self, name), getattr(step, name)], axis=shape.index("T"))
            if "T" in shape
            else getattr(step, name)
            for name, (shape, _) in TRACE_OUTPUTS.items()
        }
        input_ids = np.concatenate([self.input_ids, step.input_ids])
        return Trace(input_ids=input_ids, past_length=self.past_length, **joined)
