"""Direct logit attribution (pyexplainer/core/attribution.py) on the tests' tiny checkpoint: each
part's contribution against the tests' own float64 GPT-2 (tests/gpt2_reference.py) split into
the same parts, the parts' sum against the model's own residual stream and logit, and the
quantized graphs' head writes against the block's own attention output."""

import numpy as np
import pytest

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.attribution import (
    ATTRIBUTION_READS,
    EMBED,
    attribute,
    attribution_feeds,
    parts_from_outputs,
    per_block,
)
from pyexplainer.core.generation import KVCache, forward
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, tiny_weights
from tests.gpt2_reference import reference_forward
from tests.test_export import PROMPT

L, H = TINY["n_layer"], TINY["n_head"]


def model_parts(folder, ids, token_ids, backend="wasm", ablation=None):
    """The Parts of the attribution pass after a plain run over ids, and the plain run's trace."""
    model = open_model_dir(folder, backend=backend)
    c = model.manifest.config
    trace = forward(model.run, c, ids, ablation=ablation)
    cache = KVCache(trace.present_keys, trace.present_values)
    outputs = model.run(attribution_feeds(c, ids, cache, token_ids, ablation))
    read = {name: outputs[name] for name in ATTRIBUTION_READS}  # what the page fetches
    return parts_from_outputs(c, read, token_ids), trace


def reference_parts(ids) -> tuple[list[str], np.ndarray, dict]:
    """The tests' own split of the last position's residual stream, in float64: the embeddings,
    each head's output times its own rows of c_proj, the bias, each MLP."""
    w = {k: v.astype(np.float64) for k, v in tiny_weights().items()}
    rec = reference_forward(ids, tiny_weights(), L, H)
    d = w["wte.weight"].shape[1]
    dh = d // H
    names, vectors = ["embed"], [rec["token_embedding"][-1] + rec["position_embedding"][-1]]
    for layer in range(L):
        c_proj = w[f"h.{layer}.attn.c_proj.weight"]  # (D, D), rows h * dh .. are head h's
        for h in range(H):
            names.append(f"L{layer}H{h}")
            vectors.append(rec["head_outputs"][layer, h, -1] @ c_proj[h * dh : (h + 1) * dh])
        names += [f"L{layer}attn_bias", f"L{layer}mlp"]
        vectors += [w[f"h.{layer}.attn.c_proj.bias"], rec["mlp_out"][layer, -1]]
    return names, np.array(vectors), rec


def reference_contributions(ids, target: int) -> tuple[np.ndarray, float, float]:
    """(each reference part's share of target's logit, the ln_f shift's, the reference logit)."""
    names, vectors, rec = reference_parts(ids)
    w = {k: v.astype(np.float64) for k, v in tiny_weights().items()}
    std = rec["lnf_std"][-1]
    values = []
    for v in vectors:
        values.append(float(((v - v.mean()) / std * w["ln_f.weight"]) @ w["wte.weight"][target]))
    constant = float(w["ln_f.bias"] @ w["wte.weight"][target])
    return np.array(values), constant, float(rec["logits"][-1, target])


def test_every_part_is_the_reference_share_of_the_logit(tiny_fp32):
    parts, trace = model_parts(tiny_fp32, PROMPT, [int(np.argmax(trace_logits(tiny_fp32)))])
    target = next(iter(parts.unembed))
    got = attribute(parts, target)
    want, constant, logit = reference_contributions(PROMPT, target)
    assert got.names == tuple(reference_parts(PROMPT)[0])
    scale = np.abs(want).max()
    np.testing.assert_allclose(got.values, want, rtol=1e-4, atol=1e-4 * scale)
    assert got.constant == pytest.approx(constant, rel=1e-4)
    assert got.total == pytest.approx(logit, rel=1e-4)  # the parts add up to the logit
    assert got.model_logit == pytest.approx(logit, rel=1e-4)
    assert abs(got.difference) < 1e-4 * abs(logit)
    ref_blocks = [want[1 + b * (H + 2) : 1 + (b + 1) * (H + 2)].sum() for b in range(L)]
    np.testing.assert_allclose(per_block(got), ref_blocks, rtol=1e-4, atol=1e-4 * scale)


def trace_logits(folder) -> np.ndarray:
    model = open_model_dir(folder)
    return forward(model.run, model.manifest.config, PROMPT).last_logits


def test_a_logit_difference_is_the_difference_of_the_shares(tiny_fp32):
    a, b = 11, 500
    parts, _ = model_parts(tiny_fp32, PROMPT, [a, b])
    both = attribute(parts, a, b)
    want_a, const_a, logit_a = reference_contributions(PROMPT, a)
    want_b, const_b, logit_b = reference_contributions(PROMPT, b)
    scale = np.abs(want_a - want_b).max()
    np.testing.assert_allclose(both.values, want_a - want_b, rtol=1e-4, atol=1e-4 * scale)
    assert both.total == pytest.approx(logit_a - logit_b, rel=1e-4, abs=1e-4)
    assert both.model_logit == pytest.approx(logit_a - logit_b, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("export", ["tiny_int8", "tiny_int4"])
def test_the_head_writes_add_up_to_the_blocks_attention_output(export, request):
    """On the WebAssembly graph, whose c_proj is an integer product over the merged heads' row
    quantized once: each head's share of that product, added up with the bias, is the block's
    own attention output at the last position (to float32 rounding, not to the 1% of a second
    quantization). The parts then add up to the model's residual stream."""
    folder = request.getfixturevalue(export)
    parts, trace = model_parts(folder, PROMPT, [3])
    for layer in range(L):
        heads = parts.vectors[1 + layer * (H + 2) : 1 + layer * (H + 2) + H]  # (H, D)
        bias = parts.vectors[1 + layer * (H + 2) + H]
        block = trace.attn_out[layer, -1].astype(np.float64)
        assert np.abs(heads.sum(axis=0) + bias - block).max() < 1e-5 * np.abs(block).max()
    assert parts.largest_sum_difference < 1e-5 * np.abs(parts.final_residual).max()


@pytest.mark.parametrize("export", ["tiny_int8", "tiny_int4"])
def test_the_unembedding_rows_are_the_output_layers(export, request):
    """On the WebGPU graph (float products of the stored weights) each token's logit is the
    final layer norm's output times its row, so the parts add up to the model's own logit; on
    WebAssembly the output layer's input is rounded to 8 bits first, a small difference the
    page shows."""
    folder = request.getfixturevalue(export)
    tokens = [0, 7, 4321]
    parts, trace = model_parts(folder, PROMPT, tokens, backend="webgpu")
    spread = float(np.ptp(trace.last_logits))
    for t in tokens:
        got = attribute(parts, t)
        assert abs(got.difference) < 1e-4 * spread
    parts, trace = model_parts(folder, PROMPT, tokens)
    for t in tokens:
        assert abs(attribute(parts, t).difference) < 2e-2 * spread


def test_a_zeroed_head_writes_nothing_and_one_token_works(tiny_int8):
    ablation = Ablation(heads=frozenset({(1, 2)}))
    parts, _ = model_parts(tiny_int8, PROMPT, [5], ablation=ablation)
    assert not parts.vectors[parts.names.index("L1H2")].any()
    assert parts.vectors[parts.names.index("L1H1")].any()
    parts, _ = model_parts(tiny_int8, PROMPT[:1], [5])  # no cache before the one token
    assert parts.names[0] == EMBED and parts.largest_sum_difference < 1e-4


def test_a_token_outside_the_vocabulary_is_named(tiny_int8):
    model = open_model_dir(tiny_int8)
    c = model.manifest.config
    trace = forward(model.run, c, PROMPT)
    cache = KVCache(trace.present_keys, trace.present_values)
    with pytest.raises(ValueError, match="not in this model's vocabulary"):
        attribution_feeds(c, PROMPT, cache, [c.vocab_size])
