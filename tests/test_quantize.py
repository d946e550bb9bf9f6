"""Quantized storage kept quantized at run time: the MatMulNBits / GatherBlockQuantized layout
against the tests' own dequantization and the originals, the kernels against the loop reference,
the per-block scale choice, the fidelity gate, sizes, and bad quantization options."""

import json

import numpy as np
import onnx
import pytest

from export.fidelity import gate_failures, pooled
from export.quantize import SCALE_FRACTIONS, quantize_rows
from pyexplainer.core.generation import forward
from pyexplainer.core.trace import TRACE_OUTPUTS
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, TINY_BLOCK, tiny_weights
from tests.gpt2_reference import reference_forward
from tests.test_export import PROMPT, WEB_OPERATORS, bad_checkpoint, run_export

CONTRIB_OPERATORS = {"MatMulNBits", "GatherBlockQuantized"}


def unpacked_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """uint8 (R, blocks, bytes) -> the signed values (R, blocks, block), low nibble first."""
    if bits == 8:
        return codes.astype(np.int64) - 128
    values = np.empty((*codes.shape[:2], codes.shape[2] * 2), dtype=np.int64)
    values[..., 0::2], values[..., 1::2] = codes & 15, codes >> 4
    return values - 8


def dequantized_weights(onnx_path) -> dict[str, np.ndarray]:
    """The weights a quantized model computes with, read from its graph as MatMulNBits and
    GatherBlockQuantized define them: (code - zero point) * the block's scale."""
    from onnx import helper, numpy_helper

    model = onnx.load(str(onnx_path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    weights = {}
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        bits = next(helper.get_attribute_value(a) for a in node.attribute if a.name == "bits")
        codes, scales = inits[node.input[1]], inits[node.input[2]]  # (N, K/b, .), (N, K/b)
        rows = (unpacked_codes(codes, bits) * scales[..., None]).reshape(codes.shape[0], -1)
        name = node.input[1].removesuffix(".codes")
        weights["wte.weight" if name == "wte" else name] = rows if name == "wte" else rows.T
    codes, scales = inits["wpe.codes"], inits["wpe.scales"]  # 8-bit, read by a gather
    weights["wpe.weight"] = (unpacked_codes(codes, 8) * scales[..., None]).reshape(len(codes), -1)
    for name in tiny_weights():
        weights.setdefault(name, inits.get(name))
    return weights


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_quantized_model_computes_gpt2_with_its_dequantized_weights(quantize, tiny_int4, tiny_int8):
    """Exact, not statistical: every trace tensor of the model, run on its MatMulNBits and
    GatherBlockQuantized kernels as the page runs it, is the loop reference's on the weights
    its codes stand for; a wrong block layout or scale on any matrix fails."""
    from pyexplainer.runtime.ort_cpython import OrtRunner

    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    kernels = OrtRunner((folder / "model.onnx").read_bytes(), float_weights=False)
    trace = forward(kernels, open_model_dir(folder).manifest.config, PROMPT)
    weights = dequantized_weights(folder / "model.onnx")
    expected = reference_forward(PROMPT, weights, TINY["n_layer"], TINY["n_head"])
    for name in [n for n in TRACE_OUTPUTS if not n.startswith(("present_", "last_logits"))]:
        np.testing.assert_allclose(getattr(trace, name), expected[name], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(trace.last_logits, expected["logits"][-1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_cpython_float_matmuls_compute_what_the_kernels_compute(quantize, tiny_int4, tiny_int8):
    """CPython runs each 8-bit MatMulNBits as a float MatMul (for speed): the same numbers as
    the quantized kernels the page runs."""
    from pyexplainer.runtime.ort_cpython import OrtRunner

    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    model = open_model_dir(folder)
    kernels = OrtRunner((folder / "model.onnx").read_bytes(), float_weights=False)
    c = model.manifest.config
    fast, exact = forward(model.run, c, PROMPT), forward(kernels, c, PROMPT)
    for name in ("token_embedding", "position_embedding", "mlp_out", "residual"):
        np.testing.assert_allclose(getattr(fast, name), getattr(exact, name), atol=1e-5)
    np.testing.assert_allclose(fast.last_logits, exact.last_logits, atol=1e-4)


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_no_float32_weight_matrix_remains(quantize, tiny_int4, tiny_int8, tiny_fp32):
    """Only biases, layer-norm parameters and scales are float: every matrix is codes."""
    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    model = onnx.load(str(folder / "model.onnx"))
    d = TINY["n_embd"]
    for t in model.graph.initializer:
        if t.data_type == onnx.TensorProto.FLOAT:
            assert t.name.endswith(".scales") or np.prod(t.dims) <= 4 * d, t.name
    codes = {t.name: t for t in model.graph.initializer if t.name.endswith(".codes")}
    assert {"wte.codes", "wpe.codes", "h.0.attn.c_attn.weight.codes"} <= set(codes)
    assert all(t.data_type == onnx.TensorProto.UINT8 for t in codes.values())
    ops = {n.op_type for n in model.graph.node}
    assert CONTRIB_OPERATORS <= ops and ops <= WEB_OPERATORS | CONTRIB_OPERATORS
    assert "Gemm" not in ops  # the tied output layer reads wte's codes, not a float copy
    readers = [n.op_type for n in model.graph.node if "wte.codes" in n.input]
    assert sorted(readers) == ["GatherBlockQuantized", "MatMulNBits"]  # stored once, read twice
    bits = {
        helper_attr(n, "bits")
        for n in model.graph.node
        if n.op_type == "MatMulNBits" and n.input[1] != "wte.codes"
    }
    assert bits == {int(quantize[3:])}
    assert (folder / "model.onnx").stat().st_size < 0.3 * (tiny_fp32 / "model.onnx").stat().st_size


def helper_attr(node, name: str):
    from onnx import helper

    return next(helper.get_attribute_value(a) for a in node.attribute if a.name == name)


@pytest.mark.parametrize("name", ["h.1.mlp.c_fc.weight", "h.0.attn.c_proj.weight"])
def test_int4_codes_restore_the_originals_within_half_a_step(tiny_int4, name):
    """Block-wise along the reduction axis: block b of output column n holds w[16b:16b+16, n]
    (a square matrix too, where a transposed layout would still run)."""
    from onnx import numpy_helper

    inits = {
        t.name: numpy_helper.to_array(t)
        for t in onnx.load(str(tiny_int4 / "model.onnx")).graph.initializer
    }
    original = tiny_weights()[name]  # (K, N)
    codes, scales = inits[name + ".codes"], inits[name + ".scales"]
    assert codes.shape == (original.shape[1], original.shape[0] // TINY_BLOCK, TINY_BLOCK // 2)
    restored = (unpacked_codes(codes, 4) * scales[..., None]).reshape(len(codes), -1).T  # (K, N)
    step = np.repeat(scales.T, TINY_BLOCK, axis=0)  # (K, N): the scale of each value's block
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
    codes, scales = quantize_rows(w, bits, 16)  # (6, 4, .), (6, 4)
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
