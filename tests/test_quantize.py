"""Quantized storage: the DequantizeLinear / GatherBlockQuantized layouts against the tests' own
reading of them (the ONNX spec's) and the originals, the graph against the loop reference on
those weights, kept quantized and folded at load alike, the per-block scale choice, the fidelity
gate, sizes, and bad quantization options."""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.fidelity import gate_failures, pooled
from export.quantize import SCALE_FRACTIONS, quantize_blocks
from pyexplainer.core.generation import forward
from pyexplainer.core.trace import TRACE_OUTPUTS
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, TINY_BLOCK, tiny_weights
from tests.gpt2_reference import reference_forward
from tests.test_export import (
    PROMPT,
    QUANTIZED_OPERATORS,
    WEB_OPERATORS,
    bad_checkpoint,
    run_export,
)


def signed_values(t: onnx.TensorProto) -> np.ndarray:
    """An int4 or int8 initializer's values, read from its raw bytes as the ONNX spec lays them
    out: int4 two's complement, two to a byte, the first in the low nibble."""
    raw = np.frombuffer(t.raw_data, dtype=np.uint8)
    if t.data_type == TensorProto.INT8:
        return raw.view(np.int8).astype(np.int64).reshape(t.dims)
    assert t.data_type == TensorProto.INT4
    nibbles = np.empty(2 * raw.size, dtype=np.int64)
    nibbles[0::2], nibbles[1::2] = raw & 15, raw >> 4
    return np.where(nibbles > 7, nibbles - 16, nibbles)[: int(np.prod(t.dims))].reshape(t.dims)


def embedding_rows(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """uint8 codes (V, D/b, b), zero point 128, scales (V, D/b) -> (V, D)."""
    return ((codes.astype(np.int64) - 128) * scales[..., None]).reshape(len(codes), -1)


def matrix_weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Each linear layer's weight (K, N) as its DequantizeLinear defines it: code * the scale of
    its block of `block_size` rows."""
    raw = {t.name: t for t in model.graph.initializer}
    weights = {}
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] == "wte.codes":
            continue
        block = helper_attr(node, "block_size")
        assert helper_attr(node, "axis") == 0 and len(node.input) == 2  # no zero point: 0
        q = signed_values(raw[node.input[0]])  # (K, N)
        scales = numpy_helper.to_array(raw[node.input[1]])  # (K/b, N)
        weights[node.input[0].removesuffix(".codes")] = q * np.repeat(scales, block, axis=0)
    return weights


def dequantized_weights(onnx_path) -> dict[str, np.ndarray]:
    """The weights a quantized model computes with, read from its graph as DequantizeLinear and
    GatherBlockQuantized define them."""
    model = onnx.load(str(onnx_path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    weights = matrix_weights(model)
    for name in ("wte", "wpe"):  # 8-bit rows, read by a gather (and wte by the output layer)
        weights[name + ".weight"] = embedding_rows(inits[name + ".codes"], inits[name + ".scales"])
    for name in tiny_weights():
        weights.setdefault(name, inits.get(name))
    return weights


@pytest.mark.parametrize("fold", [False, True], ids=["kept quantized", "folded at load"])
@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_quantized_model_computes_gpt2_with_its_dequantized_weights(
    quantize, fold, tiny_int4, tiny_int8
):
    """Exact, not statistical: every trace tensor of the model, its weights kept quantized as a
    small device's page runs it or folded into float32 at load as CPython and a large device
    run it, is the loop reference's on the weights its codes stand for; a wrong block layout,
    sign or scale on any matrix fails."""
    from pyexplainer.runtime.ort_cpython import OrtRunner

    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    runner = OrtRunner((folder / "model.onnx").read_bytes(), fold_weights=fold)
    trace = forward(runner, open_model_dir(folder).manifest.config, PROMPT)
    weights = dequantized_weights(folder / "model.onnx")
    expected = reference_forward(PROMPT, weights, TINY["n_layer"], TINY["n_head"])
    for name in [n for n in TRACE_OUTPUTS if not n.startswith(("present_", "last_logits"))]:
        np.testing.assert_allclose(getattr(trace, name), expected[name], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(trace.last_logits, expected["logits"][-1], rtol=1e-4, atol=1e-4)


def test_folding_at_load_leaves_no_dequantize_and_kept_leaves_every_one(tiny_int4, tmp_path):
    """The session option really folds (else "folded" would run the kept graph at its speed),
    and without it nothing is folded (else "kept" would hold float32 copies)."""
    import onnxruntime as ort

    from pyexplainer.runtime.weights import FOLD_OPTION

    def optimized_ops(fold: bool) -> list[str]:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(tmp_path / f"fold-{fold}.onnx")
        if fold:
            options.add_session_config_entry(*FOLD_OPTION)
        ort.InferenceSession(str(tiny_int4 / "model.onnx"), options)
        return [n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node]

    exported = [n.op_type for n in onnx.load(str(tiny_int4 / "model.onnx")).graph.node]
    dequantizes = exported.count("DequantizeLinear")
    assert dequantizes == 4 * TINY["n_layer"] + 1  # c_attn, c_proj, c_fc, c_proj; the output
    assert optimized_ops(fold=False).count("DequantizeLinear") == dequantizes
    folded = optimized_ops(fold=True)
    assert "DequantizeLinear" not in folded and "GatherBlockQuantized" in folded


def test_the_device_memory_rule_folds_gpt2_small_on_8_gb_not_on_4():
    from pyexplainer.runtime.weights import folds_weights

    gpt2_small, demo = 124_439_808, 11_500_000
    assert folds_weights(gpt2_small, 8, "wasm") and not folds_weights(gpt2_small, 4, "wasm")
    assert not folds_weights(gpt2_small, None, "wasm")  # the browser does not say: small
    assert folds_weights(demo, 1, "wasm") and folds_weights(demo, None, "wasm")
    assert folds_weights(gpt2_small, 2, "webgpu")  # no int4 DequantizeLinear on WebGPU


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_no_float32_weight_matrix_remains(quantize, tiny_int4, tiny_int8, tiny_fp32):
    """Only biases, layer-norm parameters and scales are float: every matrix is codes."""
    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    model = onnx.load(str(folder / "model.onnx"))
    d = TINY["n_embd"]
    for t in model.graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            assert t.name.endswith(".scales") or np.prod(t.dims) <= 4 * d, t.name
    codes = {t.name: t.data_type for t in model.graph.initializer if t.name.endswith(".codes")}
    matrix_type = {"int4": TensorProto.INT4, "int8": TensorProto.INT8}[quantize]
    assert codes.pop("wte.codes") == codes.pop("wpe.codes") == TensorProto.UINT8
    assert set(codes.values()) == {matrix_type} and len(codes) == 4 * TINY["n_layer"]
    ops = {n.op_type for n in model.graph.node}
    assert QUANTIZED_OPERATORS <= ops and ops <= WEB_OPERATORS | QUANTIZED_OPERATORS
    readers = [n.op_type for n in model.graph.node if "wte.codes" in n.input]
    assert sorted(readers) == ["DequantizeLinear", "GatherBlockQuantized"]  # stored once
    assert (folder / "model.onnx").stat().st_size < 0.3 * (tiny_fp32 / "model.onnx").stat().st_size


def helper_attr(node, name: str):
    return next(helper.get_attribute_value(a) for a in node.attribute if a.name == name)


@pytest.mark.parametrize("name", ["h.1.mlp.c_fc.weight", "h.0.attn.c_proj.weight"])
def test_int4_codes_restore_the_originals_within_half_a_step(tiny_int4, name):
    """Block-wise along the reduction axis: block b of output column n holds w[16b:16b+16, n]
    (a square matrix too, where a transposed layout would still run)."""
    model = onnx.load(str(tiny_int4 / "model.onnx"))
    inits = {t.name: t for t in model.graph.initializer}
    original = tiny_weights()[name]  # (K, N)
    scales = numpy_helper.to_array(inits[name + ".scales"])  # (K/b, N)
    assert tuple(inits[name + ".codes"].dims) == original.shape
    assert scales.shape == (original.shape[0] // TINY_BLOCK, original.shape[1])
    restored = matrix_weights(model)[name]  # (K, N)
    step = np.repeat(scales, TINY_BLOCK, axis=0)  # (K, N): the scale of each value's block
    clipped = np.abs(original) > 7.5 * step  # the largest values a chosen scale may clip
    assert np.all(np.abs(restored - original)[~clipped] <= step[~clipped] / 2 + 1e-7)
    assert clipped.mean() < 0.05


@pytest.mark.parametrize("block, most_mb", [(32, 94), (64, 89)])
def test_gpt2_small_sized_int4_model_size(block, most_mb):
    from export.checkpoint import expected_shapes
    from export.graph import build_model
    from pyexplainer.config import ModelConfig

    c = ModelConfig(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257)
    rng = np.random.default_rng(0)
    weights = {
        name: rng.standard_normal(shape, dtype=np.float32) * 0.02
        for name, shape in expected_shapes(c).items()
    }
    size = build_model(c, weights, "int4", block).ByteSize()
    assert 80e6 < size <= most_mb * 1e6


def test_a_quantized_export_below_its_gate_is_refused(tmp_path, tiny_checkpoint):
    """The tiny random model's int4 top 1 is far below 92%: with the gate on, nothing is
    written and the message gives the figures; --no-fidelity-gate records them instead."""
    out = tmp_path / "out"
    result = run_export("--model", str(tiny_checkpoint), "--out", str(out), "--quantize", "int4")
    assert result.returncode == 1
    assert "not faithful enough" in result.stderr and "top-1 agreement" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))
    result = run_export(
        "--model", str(tiny_checkpoint), "--out", str(out), "--quantize", "int4",
        "--no-fidelity-gate",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["fidelity"]["gate"]["passed"] is False


def test_an_unknown_quantization_or_a_block_that_does_not_divide_is_named(tmp_path):
    folder = bad_checkpoint(tmp_path)  # width 32
    out = tmp_path / "out"
    result = run_export("--model", str(folder), "--out", str(out), "--quantize", "int3")
    assert result.returncode == 2 and "invalid choice: 'int3'" in result.stderr
    result = run_export("--model", str(folder), "--out", str(out), "--block-size", "64")
    assert result.returncode == 1
    assert "32 values along its reduction axis" in result.stderr and "blocks of 64" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))


def test_the_model_line_quotes_the_held_out_fidelity_of_a_quantized_export(tiny_int4, tiny_fp32):
    from pyexplainer.manifest import quantized_fidelity
    from pyexplainer.messages import text

    raw = json.loads((tiny_int4 / "manifest.json").read_text())
    f = raw["fidelity"]["quantized_vs_fp32"]["held_out"]
    line = text("ui.model_fidelity", "en", quantization="int4", **quantized_fidelity(raw))
    assert line == (
        f"int4 against float32 on 64 held-out tokens: the same top token "
        f"{f['top1_agreement_vs_fp32']:.1%} of the time, mean KL "
        f"{f['mean_kl_nats_vs_fp32']:.4f} nats, perplexity {f['perplexity_quantized']:.1f} "
        f"(float32 {f['perplexity_fp32']:.1f})"
    )
    assert quantized_fidelity(json.loads((tiny_fp32 / "manifest.json").read_text())) is None


@pytest.mark.parametrize("bits", [4, 8])
def test_each_block_keeps_the_candidate_scale_with_the_least_squared_error(bits):
    """Against a brute force over the same candidates, from the weights alone."""
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((6, 64)) * rng.uniform(0.01, 1, (6, 1))).astype(np.float32)
    w[0, 5] = -4.0  # an outlier
    codes, scales = quantize_blocks(w, bits, 16)  # (6, 4, 16), (6, 4)
    qmax = 2 ** (bits - 1) - 1
    for r in range(6):
        for b in range(4):
            block = w[r, 16 * b : 16 * (b + 1)].astype(np.float64)
            errors = {}
            for f in SCALE_FRACTIONS:
                scale = np.float32(np.abs(block).max() * f / qmax)
                q = np.clip(np.round(block / scale), -qmax - 1, qmax)
                errors[float(scale)] = ((q * scale - block) ** 2).sum()
            best = min(errors, key=errors.get)
            assert scales[r, b] == pytest.approx(best, rel=1e-6)
            assert scales[r, b] <= np.abs(block).max() / qmax * (1 + 1e-6)
    np.testing.assert_array_equal(
        codes, np.clip(np.rint(w.reshape(6, 4, 16) / scales[..., None]), -qmax - 1, qmax)
    )
    if bits == 4:  # 16 levels: the outlier's block is better clipped
        assert scales[0, 0] < np.abs(w[0, :16]).max() / qmax


def test_the_gate_holds_both_texts_together_and_names_what_fails():
    figures = {
        "fidelity_text": {
            "positions": 82,
            "top1_agreement_vs_fp32": 74 / 82,
            "mean_kl_nats_vs_fp32": 0.03,
            "max_kl_nats_vs_fp32": 0.2,
        },
        "held_out": {
            "positions": 256,
            "top1_agreement_vs_fp32": 0.95,
            "mean_kl_nats_vs_fp32": 0.01,
            "max_kl_nats_vs_fp32": 0.1,
        },
    }
    both = pooled(figures)
    assert both["positions"] == 338 and both["max_kl_nats_vs_fp32"] == 0.2
    assert both["top1_agreement_vs_fp32"] == pytest.approx((74 + 0.95 * 256) / 338)
    assert both["mean_kl_nats_vs_fp32"] == pytest.approx((0.03 * 82 + 0.01 * 256) / 338)
    assert gate_failures("int4", both) == []  # 93.8%, 0.0149: passes over both texts
    assert gate_failures("int8", both) == [
        "top-1 agreement with fp32 93.8% < 98%",
        "mean KL from fp32 0.0149 nats > 0.005",
    ]
    assert gate_failures("int4", {**both, "mean_kl_nats_vs_fp32": 0.021}) == [
        "mean KL from fp32 0.0210 nats > 0.02"
    ]
