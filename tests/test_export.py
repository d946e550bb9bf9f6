"""Export: the traced ONNX graph against the tests' own loop reference and transformers, the
manifest, and every bad checkpoint named in the issues (quantized storage: test_quantize.py)."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pyexplainer.core.generation import KVCache, cache_after, forward
from pyexplainer.core.trace import ATTRIBUTION_OUTPUTS, LENS_OUTPUTS, TRACE_OUTPUTS
from pyexplainer.model_dir import open_model_dir
from tests.conftest import ROOT, TINY, TINY_BLOCK, tiny_weights, write_hf_checkpoint
from tests.gpt2_reference import reference_forward

PROMPT = [464, 3290, 318, 257, 1310, 1110, 286, 262, 2050, 13, 632, 1110]  # 12 GPT-2 ids

# Operators onnxruntime-web runs on WebAssembly (the CPU kernels, "full ONNX operator coverage")
# and, for the same list, on WebGPU (js/web/docs/webgpu-operators.md); the quantized graphs add
# DequantizeLinear and one contrib operator, GatherBlockQuantized (in onnxruntime-web 1.29's
# WebAssembly binaries and WebGPU).
QUANTIZED_OPERATORS = {"DequantizeLinear", "GatherBlockQuantized"}
WEB_OPERATORS = {
    "Add",
    "Concat",
    "Div",
    "Gather",
    "Gemm",
    "Identity",
    "LessOrEqual",
    "MatMul",
    "Mul",
    "Pow",
    "Range",
    "ReduceMean",
    "Reshape",
    "Shape",
    "Softmax",
    "Split",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "TopK",
    "Transpose",
    "Unsqueeze",
    "Where",
}


@pytest.fixture(scope="module")
def reference():
    return reference_forward(PROMPT, tiny_weights(), TINY["n_layer"], TINY["n_head"])


@pytest.fixture(scope="module")
def fp32_trace(tiny_fp32):
    model = open_model_dir(tiny_fp32)
    return forward(model.run, model.manifest.config, PROMPT)


@pytest.mark.parametrize(
    "name",
    [n for n in TRACE_OUTPUTS if not n.startswith(("present_", "last_logits"))],
)
def test_fp32_trace_matches_loop_reference(fp32_trace, reference, name):
    np.testing.assert_allclose(getattr(fp32_trace, name), reference[name], rtol=1e-4, atol=2e-5)


def test_fp32_logits_match_loop_reference(fp32_trace, reference):
    expected = reference["logits"][-1]
    assert np.abs(fp32_trace.last_logits - expected).max() <= 1e-4 * np.abs(expected).max()


def test_numpy_decomposition_reproduces_the_models_heads(fp32_trace, reference):
    for layer in range(TINY["n_layer"]):
        steps = fp32_trace.attention(layer)
        np.testing.assert_allclose(steps.probs, reference["attention_probs"][layer], atol=1e-5)
        np.testing.assert_allclose(steps.head_outputs, fp32_trace.head_outputs[layer], atol=1e-5)
        assert 0 < fp32_trace.attention_mismatch(layer) < 1e-5  # float64 against float32


def test_matches_transformers_when_installed(tiny_checkpoint, fp32_trace):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = transformers.GPT2LMHeadModel.from_pretrained(tiny_checkpoint).eval()
    with torch.no_grad():
        logits = model(torch.tensor([PROMPT])).logits[0, -1].numpy()
    assert np.abs(fp32_trace.last_logits - logits).max() <= 1e-4 * np.abs(logits).max()


def test_cached_steps_equal_one_full_pass(tiny_int8):
    model = open_model_dir(tiny_int8)
    c = model.manifest.config
    full = forward(model.run, c, PROMPT)
    cache = KVCache.empty(c)
    for token in PROMPT:
        step = forward(model.run, c, [token], cache)
        cache = cache_after(step)
    assert step.past_length == len(PROMPT) - 1
    np.testing.assert_allclose(step.last_logits, full.last_logits, atol=1e-4)
    np.testing.assert_allclose(step.residual[:, 0], full.residual[:, -1], atol=1e-4)
    np.testing.assert_allclose(cache.keys, full.present_keys, atol=1e-5)
    # the decomposition of the cached step is the last row of the full one
    last, whole = step.attention(1), full.attention(1)
    np.testing.assert_allclose(last.probs[:, 0], whole.probs[:, -1], atol=1e-5)


def test_a_prompt_fed_in_chunks_through_the_cache_equals_one_pass(tiny_fp32):
    """T > 1 new tokens after P > 0 cached ones: the mask must let row i see keys 0 .. P + i."""
    model = open_model_dir(tiny_fp32)
    c = model.manifest.config
    full = forward(model.run, c, PROMPT)
    first = forward(model.run, c, PROMPT[:5])
    rest = forward(model.run, c, PROMPT[5:], cache_after(first))
    assert rest.past_length == 5 and rest.q.shape[2] == len(PROMPT) - 5
    np.testing.assert_allclose(rest.last_logits, full.last_logits, atol=1e-4)
    np.testing.assert_allclose(rest.residual, full.residual[:, 5:], atol=1e-5)
    np.testing.assert_allclose(rest.attention(1).probs, full.attention(1).probs[:, 5:], atol=1e-6)


def test_manifest_records_files_config_and_fidelity(tiny_int4):
    manifest = json.loads((tiny_int4 / "manifest.json").read_text())
    assert manifest["config"] == {**{k: TINY[k] for k in TINY}, "layer_norm_epsilon": 1e-5}
    quantization = manifest["quantization"]
    assert quantization["weights"] == "int4" and quantization["block_size"] == TINY_BLOCK
    assert quantization["embedding_block_size"] == TINY["n_embd"]
    assert set(quantization["runs"]) == {"browser_webassembly", "browser_webgpu", "cpython"}
    assert set(manifest["outputs"]) == {*TRACE_OUTPUTS, *LENS_OUTPUTS, *ATTRIBUTION_OUTPUTS}
    assert manifest["outputs"]["q"]["shape"] == [2, 4, "T", 8]
    for name, record in manifest["files"].items():
        data = (tiny_int4 / name).read_bytes()
        assert record["bytes"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
    fp32 = manifest["fidelity"]["fp32_vs_numpy"]
    assert fp32["positions"] == 64  # the fidelity text, cut to the tiny model's context
    assert fp32["max_relative_diff_vs_numpy"] <= 1e-4
    assert fp32["max_abs_diff_cache_vs_full_pass"] <= 1e-4
    figures = manifest["fidelity"]["quantized_vs_fp32"]
    assert set(figures) == {"fidelity_text", "held_out", "both_texts"}
    assert figures["both_texts"]["positions"] == 128
    for name in ("fidelity_text", "held_out"):
        f = figures[name]
        assert f["positions"] == 64
        assert 0 < f["mean_kl_nats_vs_fp32"] <= f["max_kl_nats_vs_fp32"]
        assert f["perplexity_fp32"] != f["perplexity_quantized"]
    gate = manifest["fidelity"]["gate"]
    assert gate == {
        **gate,
        "over": "both_texts",
        "top1_agreement_at_least": 0.92,
        "mean_kl_nats_at_most": 0.02,
    }
    assert gate["enforced"] is False  # random weights: recorded, not gated
    assert set(manifest["tools"]) >= {"python", "numpy", "onnx", "onnxruntime", "pyexplainer"}


# ------------------------------------------------------------------------------ bad input


def run_export(*args):
    return subprocess.run(
        [sys.executable, "-m", "export", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_offline_hub_id_says_pass_a_local_folder(tmp_path):
    result = run_export("--model", "gpt2", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "could not download 'gpt2'" in result.stderr and "pass a local folder" in result.stderr
    assert not (tmp_path / "out").exists()


def bad_checkpoint(tmp_path, **changes):
    weights = tiny_weights()
    config = changes.pop("config", None)
    for name, value in changes.get("weights", {}).items():
        if value is None:
            del weights[name]
        else:
            weights[name] = value
    return write_hf_checkpoint(tmp_path / "ckpt", weights, config)


@pytest.mark.parametrize(
    "case, expected",
    [
        ({"config": {"model_type": "llama"}}, "only GPT-2 architecture"),
        ({"config": {"activation_function": "relu"}}, "activation_function 'relu'"),
        ({"config": {"scale_attn_by_inverse_layer_idx": True}}, "changes GPT-2's attention"),
        ({"config": {"scale_attn_weights": False}}, "scale_attn_weights = False"),
        ({"weights": {"h.1.mlp.c_fc.bias": None}}, "missing tensors h.1.mlp.c_fc.bias"),
        (
            {"weights": {"h.0.attn.c_proj.weight": np.zeros((32, 16), np.float32)}},
            "h.0.attn.c_proj.weight has shape (32, 16) but config.json implies (32, 32)",
        ),
        ({"config": {"n_embd": 48}}, "has shape"),
        ({"config": {"vocab_size": 50000}}, "has shape"),
    ],
)
def test_bad_checkpoint_is_named_and_nothing_is_written(tmp_path, case, expected):
    folder = bad_checkpoint(tmp_path, **case)
    result = run_export("--model", str(folder), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stdout
    assert expected in result.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_tokenizer_that_disagrees_with_config_is_named(tmp_path):
    folder = bad_checkpoint(tmp_path)
    vocab = json.loads((folder / "vocab.json").read_text())
    vocab.pop("!")
    (folder / "vocab.json").write_text(json.dumps(vocab))
    result = run_export("--model", str(folder), "--out", str(tmp_path / "out"))
    assert "the tokenizer has 50256 tokens but config.json says vocab_size 50257" in result.stderr


def test_truncated_weights_file_is_named(tmp_path):
    folder = bad_checkpoint(tmp_path)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    result = run_export("--model", str(folder), "--out", str(tmp_path / "out"))
    assert "file is truncated" in result.stderr


def test_refuses_to_overwrite_a_folder_that_is_not_an_export(tmp_path, tiny_checkpoint):
    precious = tmp_path / "out"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    result = run_export("--model", str(tiny_checkpoint), "--out", str(precious))
    assert "is not an exported model folder" in result.stderr
    assert (precious / "thesis.txt").read_text() == "keep me"


def test_export_cli_succeeds_and_replaces_an_earlier_export(tmp_path, tiny_checkpoint):
    for _ in range(2):
        result = run_export(
            "--model", str(tiny_checkpoint), "--out", str(tmp_path / "m"), "--quantize", "fp32"
        )
        assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["fidelity"]["fp32_vs_numpy"]["max_relative_diff_vs_numpy"] <= 1e-4
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "manifest.json",
        "merges.txt",
        "model.onnx",  # fp32: one graph for both backends
        "vocab.json",
        "weights.bin",
    ]


def test_a_wrong_fp32_graph_is_refused_and_the_earlier_export_kept(
    tmp_path, tiny_checkpoint, tiny_fp32, monkeypatch
):
    import export.export
    import export.graph

    store_weights = export.graph.store_weights

    def off_by_a_bias(c, weights, *args):  # the weights a subtle exporter bug would store
        # (not a bias added to the residual: the next layer norm removes a constant shift)
        bias = weights["h.1.mlp.c_fc.bias"] + np.float32(1e-2)
        return store_weights(c, {**weights, "h.1.mlp.c_fc.bias": bias}, *args)

    monkeypatch.setattr(export.graph, "store_weights", off_by_a_bias)
    out = tmp_path / "out"
    shutil.copytree(tiny_fp32, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for quantize in ("fp32", "int4"):
        with pytest.raises(export.export.ExportError, match="differ from the numpy reference"):
            export.export.export_model(str(tiny_checkpoint), out, quantize=quantize)
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert not list(tmp_path.glob(".out.partial-*"))


def run_without(blocked: str, code: str) -> subprocess.CompletedProcess:
    """Run python code in a fresh interpreter where importing `blocked` fails."""
    prelude = f"import sys; sys.modules[{blocked!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, capture_output=True, text=True
    )


def test_export_needs_no_torch(tiny_checkpoint, tmp_path):
    result = run_without(
        "torch",
        "from export.__main__ import main\n"
        f"sys.exit(main(['--model', {str(tiny_checkpoint)!r}, "
        f"'--out', {str(tmp_path / 'm')!r}, '--no-fidelity-gate']))",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "model.onnx").is_file()


def test_core_imports_without_onnxruntime():
    modules = [
        "pyexplainer",
        "pyexplainer.core.tokenizer",
        "pyexplainer.core.attention",
        "pyexplainer.core.sampling",
        "pyexplainer.core.generation",
        "pyexplainer.core.trace",
        "pyexplainer.manifest",
    ]
    result = run_without("onnxruntime", "".join(f"import {m}\n" for m in modules))
    assert result.returncode == 0, result.stderr
