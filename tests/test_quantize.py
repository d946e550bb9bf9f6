"""Quantized storage and the graphs that run it: weights.bin read by the tests' own decoder (the
layout export/quantize.py documents) against the originals; the WebAssembly graph's integer
arithmetic against the tests' own numpy of it, stage by stage; the WebGPU graph against the loop
reference on the stored weights; what onnxruntime keeps of the weights; the multiplier choice;
sizes, the fidelity gate and bad quantization options."""

import json

import numpy as np
import onnx
import pytest

from export.fidelity import gate_failures, pooled
from export.quantize import MULTIPLIERS, quantize_int4
from pyexplainer.core.generation import forward
from pyexplainer.core.trace import TRACE_OUTPUTS
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, TINY_BLOCK, tiny_weights
from tests.gpt2_reference import _gelu, _layer_norm, reference_forward
from tests.test_export import PROMPT, bad_checkpoint, run_export

MATRICES = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")


def wire_tensor(folder, name: str) -> np.ndarray:
    """A tensor of weights.bin where the manifest places it."""
    t = json.loads((folder / "manifest.json").read_text())["weights"]["tensors"][name]
    data = (folder / "weights.bin").read_bytes()[t["offset"] : t["offset"] + t["bytes"]]
    return np.frombuffer(data, dtype=t["dtype"]).reshape(t["shape"])


def signed_int4_codes(nibbles: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """The int8 codes (K, N) an int4 matrix stands for, read byte by byte: for column n, block
    b, byte j the low nibble is row b * block + 2j, the high one the next row; each nibble
    minus 8, times the block's multiplier."""
    n, blocks, half = nibbles.shape
    block = 2 * half
    codes = np.zeros((blocks * block, n), dtype=np.int64)
    for col in range(n):
        for b in range(blocks):
            for j in range(half):
                byte = int(nibbles[col, b, j])
                for k, nibble in ((2 * j, byte % 16), (2 * j + 1, byte // 16)):
                    codes[b * block + k, col] = (nibble - 8) * int(multipliers[col, b])
    return codes


def signed_int4_codes_fast(nibbles: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """signed_int4_codes for GPT-2-sized matrices: the low and high nibbles stacked as pairs."""
    n, blocks, half = nibbles.shape
    pairs = (
        np.stack([nibbles % 16, nibbles // 16], axis=-1).astype(np.int64) - 8
    )  # (N, K/b, b/2, 2)
    codes = pairs.reshape(n, blocks, 2 * half) * multipliers[..., None].astype(np.int64)
    return codes.reshape(n, -1).T  # (K, N)


def stored_matrix(folder, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(signed codes (K, N), column scales (N,)) of a stored matrix, int4 or int8."""
    scales = wire_tensor(folder, name + ".scales")
    manifest = json.loads((folder / "manifest.json").read_text())
    if name + ".nibbles" in manifest["weights"]["tensors"]:
        codes = signed_int4_codes_fast(
            wire_tensor(folder, name + ".nibbles"), wire_tensor(folder, name + ".multipliers")
        )
    else:
        codes = wire_tensor(folder, name + ".codes").astype(np.int64) - 128
    return codes, scales


def embedding_blocks(folder, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(signed codes (b, R), scales (R,)) of each block of an embedding, along the width."""
    manifest = json.loads((folder / "manifest.json").read_text())
    blocks, i = [], 0
    while f"{name}.{i}.codes" in manifest["weights"]["tensors"]:
        codes = wire_tensor(folder, f"{name}.{i}.codes").astype(np.int64) - 128
        blocks.append((codes, wire_tensor(folder, f"{name}.{i}.scales")))
        i += 1
    return blocks


def stored_weights(folder) -> dict[str, np.ndarray]:
    """The weights an export stores, as floats: code * multiplier * scale, in GPT-2's names."""
    weights = dict(tiny_weights())  # biases and layer norms are float32 as they are
    for layer in range(TINY["n_layer"]):
        for m in MATRICES:
            codes, scales = stored_matrix(folder, f"h.{layer}.{m}.weight")
            weights[f"h.{layer}.{m}.weight"] = codes * scales.astype(np.float64)
    for name in ("wte", "wpe"):
        parts = [codes.T * scales[:, None] for codes, scales in embedding_blocks(folder, name)]
        weights[name + ".weight"] = np.concatenate(parts, axis=1)  # (R, D)
    return weights


def int8_product(x: np.ndarray, codes: np.ndarray, column_scales: np.ndarray) -> np.ndarray:
    """The tests' own numpy of the WebAssembly graph's product: each row of x (T, K) float32
    quantized to uint8 over [min(row, 0), max(row, 0)], scale (max - min) / 255, zero point
    round(-min / scale), rounding half to even; the exact integer sum with the signed codes
    (K, N); then * the row's scale * the column's."""
    x = x.astype(np.float32)
    top = np.maximum(x.max(axis=-1, keepdims=True), np.float32(0))
    bottom = np.minimum(x.min(axis=-1, keepdims=True), np.float32(0))
    scale = np.maximum((top - bottom) / np.float32(255), np.finfo(np.float32).tiny)
    zero = np.clip(np.rint(-(bottom / scale)), 0, 255)
    xq = np.clip(np.rint(x / scale) + zero, 0, 255)
    sums = (xq.astype(np.int64) - zero.astype(np.int64)) @ codes  # exact
    return sums.astype(np.float32) * scale * column_scales


def assert_integer_stages(folder, t, ids: list[int], layers) -> None:
    """Each stage of the trace `t` (a Trace, or any object with its tensors as attributes) of the
    WebAssembly graph of the export in `folder`, on its own traced input, equals the tests'
    numpy of it: int8 products, float layer norms, GELU and residual adds, for the blocks
    `layers`; the embeddings and the tied output layer. Every tensor comes from weights.bin
    through the tests' own decoder."""

    def param(name):  # a bias or layer-norm parameter, float32
        return wire_tensor(folder, name)

    config = json.loads((folder / "manifest.json").read_text())["config"]
    d, heads, count = config["n_embd"], config["n_head"], len(ids)

    def close(actual, expected):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)

    def layer_norm(x, name):
        return _layer_norm(x, param(name + ".weight"), param(name + ".bias"), 1e-5)[0]

    def linear(x, layer, m):
        codes, scales = stored_matrix(folder, f"h.{layer}.{m}.weight")
        return int8_product(x, codes, scales) + param(f"h.{layer}.{m}.bias")

    blocks = embedding_blocks(folder, "wte")
    rows = [np.concatenate([codes[:, i] * s[i] for codes, s in blocks]) for i in ids]
    close(t.token_embedding, np.stack(rows))
    for layer in layers:
        p = f"h.{layer}."
        close(t.ln1_out[layer], layer_norm(t.residual[layer], p + "ln_1"))
        qkv = linear(t.ln1_out[layer], layer, "attn.c_attn")  # (T, 3D)
        for name, part in zip(("q", "k", "v"), np.split(qkv, 3, axis=1), strict=True):
            close(getattr(t, name)[layer], part.reshape(count, heads, -1).transpose(1, 0, 2))
        merged = t.head_outputs[layer].transpose(1, 0, 2).reshape(count, d)
        close(t.attn_out[layer], linear(merged, layer, "attn.c_proj"))
        close(t.residual_mid[layer], t.residual[layer] + t.attn_out[layer])
        close(t.ln2_out[layer], layer_norm(t.residual_mid[layer], p + "ln_2"))
        close(t.mlp_pre[layer], linear(t.ln2_out[layer], layer, "mlp.c_fc"))
        close(t.mlp_act[layer], _gelu(t.mlp_pre[layer].astype(np.float64)))
        close(t.mlp_out[layer], linear(t.mlp_act[layer], layer, "mlp.c_proj"))
        close(t.residual[layer + 1], t.residual_mid[layer] + t.mlp_out[layer])
    close(t.lnf_out, layer_norm(t.residual[-1], "ln_f"))
    last, logits = t.lnf_out[-1:], 0
    for i, (codes, scales) in enumerate(blocks):  # the tied output layer, a block at a time
        block = codes.shape[0]
        logits = logits + int8_product(last[:, i * block : (i + 1) * block], codes, scales)
    close(t.last_logits, logits[0])


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_the_webassembly_graph_is_the_integer_arithmetic_stage_by_stage(
    quantize, tiny_int4, tiny_int8
):
    """Every trace tensor of the WebAssembly graph (CPython's onnxruntime, the page's kernels'
    arithmetic) equals the tests' own numpy of each stage on that stage's traced input. A wrong
    code, sign, multiplier, scale, zero point or column sum on any matrix fails."""
    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    model = open_model_dir(folder)
    trace = forward(model.run, model.manifest.config, PROMPT)
    assert_integer_stages(folder, trace, PROMPT, range(TINY["n_layer"]))


def test_the_fast_decoder_reads_int4_codes_as_the_byte_by_byte_one(tiny_int4):
    name = "h.1.mlp.c_fc.weight"
    nibbles, multipliers = (wire_tensor(tiny_int4, name + s) for s in (".nibbles", ".multipliers"))
    np.testing.assert_array_equal(
        signed_int4_codes_fast(nibbles, multipliers), signed_int4_codes(nibbles, multipliers)
    )


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_the_webgpu_graph_computes_gpt2_with_the_stored_weights(quantize, tiny_int4, tiny_int8):
    """The WebGPU graph (MatMulNBits on the int4 codes, DequantizeLinear on 8-bit ones), run on
    onnxruntime's CPU kernels: every trace tensor is the loop reference's on the weights the
    stored codes stand for, read by the tests' own decoder."""
    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    model = open_model_dir(folder, backend="webgpu")
    trace = forward(model.run, model.manifest.config, PROMPT)
    expected = reference_forward(PROMPT, stored_weights(folder), TINY["n_layer"], TINY["n_head"])
    for name in [n for n in TRACE_OUTPUTS if not n.startswith(("present_", "last_logits"))]:
        np.testing.assert_allclose(getattr(trace, name), expected[name], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(trace.last_logits, expected["logits"][-1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["h.1.mlp.c_fc.weight", "h.0.attn.c_proj.weight"])
def test_int4_codes_restore_the_originals_within_half_a_step(tiny_int4, name):
    """Each block's step (its multiplier times the column's scale) rounds every value it does not
    clip to within half a step; a column's largest value is its scale * 112."""
    original = tiny_weights()[name]  # (K, N)
    codes, scales = stored_matrix(tiny_int4, name)
    multipliers = wire_tensor(tiny_int4, name + ".multipliers").T  # (K/b, N)
    step = np.repeat(multipliers, TINY_BLOCK, axis=0) * scales  # (K, N)
    restored = codes * scales
    clipped = np.abs(original) > 7.5 * step  # the largest values a chosen multiplier may clip
    assert np.all(np.abs(restored - original)[~clipped] <= step[~clipped] / 2 + 1e-7)
    assert clipped.mean() < 0.05
    np.testing.assert_allclose(scales * 112, np.abs(original).max(axis=0), rtol=1e-6)
    assert codes.min() >= -128 and codes.max() <= 112  # int8 codes, exactly


def test_the_webassembly_weights_are_the_int8_codes_of_weights_bin(tiny_int4):
    """What the page makes at load (pyexplainer/weights_file.py) holds each int4 matrix's codes
    as the tests' decoder reads them, + 128, where the manifest says; the sum of each column's
    signed codes of every matrix and of the tied output layer's blocks; and a copy of the rest."""
    from pyexplainer.weights_file import wasm_weights_bytes

    manifest = json.loads((tiny_int4 / "manifest.json").read_text())
    wire = (tiny_int4 / "weights.bin").read_bytes()
    made = wasm_weights_bytes(manifest["weights"], wire)
    section = manifest["weights"]["wasm"]
    assert len(made) == section["bytes"]
    for name, entry in section["tensors"].items():
        raw = made[entry["offset"] : entry["offset"] + entry["bytes"]]
        data = np.frombuffer(raw, entry["dtype"]).reshape(entry["shape"])
        if "int4" in entry:
            codes, _ = stored_matrix(tiny_int4, name.removesuffix(".codes"))
            np.testing.assert_array_equal(data, codes + 128)
        elif "column_sums" in entry:
            of = name.removesuffix(".column_sums")
            if of.startswith("wte."):
                signed = wire_tensor(tiny_int4, of + ".codes").astype(np.int64) - 128
            else:
                signed = stored_matrix(tiny_int4, of)[0]
            sums = [
                sum(int(signed[k, n]) for k in range(signed.shape[0]))
                for n in range(signed.shape[1])
            ]
            assert data.tolist() == sums
        else:
            assert raw == wire_tensor(tiny_int4, entry["copy"]).tobytes()
    kinds = [
        next(k for k in ("int4", "column_sums", "copy") if k in e)
        for e in section["tensors"].values()
    ]
    tied = len(embedding_blocks(tiny_int4, "wte"))  # the tied output layer's blocks
    assert kinds.count("column_sums") == kinds.count("int4") + tied


@pytest.mark.parametrize("quantize", ["int4", "int8"])
def test_onnxruntime_keeps_no_float32_weight_matrix_and_runs_the_fast_kernels(
    quantize, tiny_int4, tiny_int8, tmp_path
):
    """The session's optimized model, as onnxruntime writes it out: on WebAssembly every
    product is MatMulInteger on uint8 codes (no MatMulNBits, no DequantizeLinear), on WebGPU an
    int4 matrix is MatMulNBits on its 4-bit codes; no float32 initializer is a weight matrix."""
    import onnxruntime as ort

    from pyexplainer.weights_file import external_data

    folder = {"int4": tiny_int4, "int8": tiny_int8}[quantize]
    manifest = json.loads((folder / "manifest.json").read_text())
    blocks = len(embedding_blocks(folder, "wte"))
    wire = (folder / "weights.bin").read_bytes()
    for backend, graph in manifest["onnx"]["graphs"].items():
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(tmp_path / f"{backend}.onnx")
        external = external_data(manifest["weights"], backend, wire)
        buffers = [np.frombuffer(b, np.uint8) for b in external.values()]
        options.add_external_initializers_from_files_in_memory(
            list(external), buffers, [b.size for b in buffers]
        )
        ort.InferenceSession((folder / graph).read_bytes(), options)
        optimized = onnx.load(options.optimized_model_filepath)
        ops = [n.op_type for n in optimized.graph.node]
        for t in optimized.graph.initializer:
            if t.data_type == onnx.TensorProto.FLOAT:  # scales, biases, layer norms
                assert len(t.dims) <= 1 or np.prod(t.dims) < TINY["n_embd"] ** 2, t.name
        matrices = 5 * TINY["n_layer"]  # 4 a block, and c_proj again for the head writes
        if backend == "wasm":
            assert ops.count("MatMulInteger") == matrices + blocks  # and the tied output
            assert "MatMulNBits" not in ops and "DequantizeLinear" not in ops
        elif quantize == "int4":
            assert ops.count("MatMulNBits") == matrices and "MatMulInteger" not in ops
            assert ops.count("DequantizeLinear") == blocks  # the tied output's 8-bit blocks


def test_the_webassembly_graph_gives_a_cached_step_what_a_full_pass_gives(tiny_int4):
    """Each row is quantized alone: a position's numbers do not depend on the other positions of
    its pass, so a step through the cache is the full pass's last row (float rounding only),
    and the logit lens's last row is the prediction."""
    from pyexplainer.core.generation import KVCache, cache_after, model_feeds

    model = open_model_dir(tiny_int4)
    c = model.manifest.config
    full = forward(model.run, c, PROMPT)
    step = forward(model.run, c, PROMPT[-1:], cache_after(forward(model.run, c, PROMPT[:-1])))
    np.testing.assert_allclose(step.last_logits, full.last_logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(step.residual[:, 0], full.residual[:, -1], rtol=1e-5, atol=1e-5)
    feeds = model_feeds(c, np.array(PROMPT), KVCache.empty(c), lens_positions=len(PROMPT))
    lens = model.run(feeds)
    plain = model.run(model_feeds(c, np.array(PROMPT), KVCache.empty(c)))
    np.testing.assert_allclose(lens["lens_probs"][-1], plain["lens_probs"][-1], rtol=1e-6)
    np.testing.assert_allclose(lens["last_logits"], plain["last_logits"], rtol=1e-6, atol=1e-6)


def test_each_block_keeps_the_multiplier_with_the_least_squared_error():
    """Against a brute force over every multiplier, from the weights alone."""
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((64, 5)) * rng.uniform(0.01, 1, (64, 1))).astype(np.float32)
    w[5, 0] = -4.0  # an outlier
    nibbles, multipliers, scales = quantize_int4(w, 16, "w")  # (5, 4, 8), (5, 4), (5,)
    codes = signed_int4_codes(nibbles, multipliers)  # (64, 5)
    for n in range(5):
        assert scales[n] == pytest.approx(np.abs(w[:, n]).max() / 112, rel=1e-6)
        for b in range(4):
            block = w[16 * b : 16 * (b + 1), n].astype(np.float64)
            errors = {}
            for m in MULTIPLIERS:
                step = np.float32(scales[n] * m)
                q = np.clip(np.round(block / step), -8, 7)
                errors[int(m)] = ((q * step - block) ** 2).sum()
            best = min(errors, key=errors.get)
            assert multipliers[n, b] == best, (n, b, errors)
            step = np.float32(scales[n] * best)
            expected = np.clip(np.rint(block / step), -8, 7) * best
            np.testing.assert_array_equal(codes[16 * b : 16 * (b + 1), n], expected)
    assert multipliers.min() >= 1 and multipliers.max() <= 16


def test_a_gpt2_small_sized_int4_export_is_at_most_88_mib():
    """Graphs and weights.bin of GPT-2 small's shapes (sizes do not depend on the values)."""
    from export.checkpoint import expected_shapes
    from export.graph import build_graphs
    from pyexplainer.config import ModelConfig

    c = ModelConfig(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257)
    rng = np.random.default_rng(0)
    weights = {
        name: rng.standard_normal(shape, dtype=np.float32) * 0.02
        for name, shape in expected_shapes(c).items()
    }
    exported = build_graphs(c, weights, "int4", 32)
    size = len(exported.wire) + sum(len(g) for g in exported.graphs.values())
    assert 80 * 2**20 < size <= 88 * 2**20, size / 2**20
    assert exported.weights["wasm"]["bytes"] < 1.5 * len(exported.wire)  # int8, made at load


def test_a_quantized_export_below_its_gate_is_refused(tmp_path, tiny_checkpoint):
    """The tiny random model's int4 top 1 is far below 92%: with the gate on, nothing is
    written and the message gives the figures of each backend's graph; --no-fidelity-gate
    records them instead."""
    out = tmp_path / "out"
    result = run_export("--model", str(tiny_checkpoint), "--out", str(out), "--quantize", "int4")
    assert result.returncode == 1
    assert "not faithful enough" in result.stderr and "wasm: top-1 agreement" in result.stderr
    assert "webgpu: top-1 agreement" in result.stderr
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
