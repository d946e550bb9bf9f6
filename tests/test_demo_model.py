"""The committed demo model (models/demo): intact, loadable, exportable with good fidelity,
stable greedy generation, and a card that reports held-out quality beside the baseline."""

import hashlib
import json

import numpy as np
import pytest

from export.checkpoint import load_checkpoint
from export.export import export_model
from pyexplainer.core.generation import forward, generate
from pyexplainer.model_dir import open_model_dir
from tests.conftest import ROOT
from tests.gpt2_reference import reference_forward

DEMO = ROOT / "models" / "demo"
PROMPT = "The teacher asked the students to"


@pytest.fixture(scope="module")
def training():
    return json.loads((DEMO / "training.json").read_text())


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    for quantize in ("fp32", "int8", "int4"):
        export_model(str(DEMO), out / quantize, quantize=quantize)  # gated: refused below
    return {q: out / q for q in ("fp32", "int8", "int4")}


def test_files_match_their_recorded_sha256(training):
    assert set(training["files"]) == {
        "config.json",
        "model.safetensors",
        "vocab.json",
        "merges.txt",
    }
    for name, record in training["files"].items():
        data = (DEMO / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"], name
        assert len(data) == record["bytes"]
    size = sum((DEMO / n).stat().st_size for n in training["files"])
    assert size <= 30 * 2**20


def test_is_a_gpt2_with_the_real_tokenizer():
    ckpt = load_checkpoint(str(DEMO))
    assert ckpt.config.vocab_size == 50257 and ckpt.config.n_positions >= 128
    vocab = hashlib.sha256((DEMO / "vocab.json").read_bytes()).hexdigest()
    assert vocab == "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"


@pytest.mark.parametrize("quantize, top1, kl", [("int8", 0.98, 0.005), ("int4", 0.92, 0.02)])
def test_quantized_exports_pass_their_fidelity_gates(exports, quantize, top1, kl):
    """On the fixed text and on held-out text, against the fp32 export of the same weights: the
    graph each backend runs, WebAssembly's (int8 arithmetic) and WebGPU's (the stored weights
    in float)."""
    manifest = json.loads((exports[quantize] / "manifest.json").read_text())
    assert manifest["fidelity"]["fp32_vs_numpy"]["max_relative_diff_vs_numpy"] <= 1e-4
    for key in ("quantized_vs_fp32", "webgpu_vs_fp32"):
        figures = manifest["fidelity"][key]
        assert figures["held_out"]["positions"] == 256  # the demo's context
        both = figures["both_texts"]
        assert both["top1_agreement_vs_fp32"] >= top1 and both["mean_kl_nats_vs_fp32"] <= kl
        for name in ("fidelity_text", "held_out"):
            f = figures[name]
            assert abs(f["perplexity_quantized"] / f["perplexity_fp32"] - 1) < 0.02
    assert manifest["fidelity"]["gate"] == {
        "over": "both_texts",
        "backends": ["wasm", "webgpu"],
        "top1_agreement_at_least": top1,
        "mean_kl_nats_at_most": kl,
        "passed": True,
        "enforced": True,
    }
    assert manifest["training"]["held_out"]["perplexity"] > 1
    model_files = {*manifest["onnx"]["graphs"].values(), manifest["weights"]["file"]}
    assert sum(manifest["files"][n]["bytes"] for n in model_files) < 14 * 2**20


def test_int4s_integer_arithmetic_costs_at_most_a_point_of_top_1(exports):
    """The WebAssembly graph's int8 activations against the weights int4 stores, in float (the
    WebGPU graph): within one point of top-1 agreement with fp32, over both texts."""
    fidelity = json.loads((exports["int4"] / "manifest.json").read_text())["fidelity"]
    wasm, stored = (fidelity[k]["both_texts"] for k in ("quantized_vs_fp32", "webgpu_vs_fp32"))
    assert wasm["top1_agreement_vs_fp32"] >= stored["top1_agreement_vs_fp32"] - 0.01


def test_export_matches_the_loop_reference_on_the_committed_weights(exports):
    model = open_model_dir(exports["fp32"])
    ids = model.tokenizer.encode(PROMPT)
    ckpt = load_checkpoint(str(DEMO))
    c = ckpt.config
    expected = reference_forward(ids, ckpt.weights, c.n_layer, c.n_head)["logits"][-1]
    got = forward(model.run, c, ids).last_logits
    assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()


def test_greedy_generation_is_stable_and_agrees_with_transformers(exports):
    model = open_model_dir(exports["fp32"])
    c = model.manifest.config
    ids = model.tokenizer.encode(PROMPT)
    first = generate(model.run, c, ids, 12, temperature=0.0)
    assert generate(model.run, c, ids, 12, temperature=0.0) == first
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    hf = transformers.GPT2LMHeadModel.from_pretrained(DEMO, dtype=torch.float32).eval()
    with torch.no_grad():
        out = hf.generate(
            torch.tensor([ids]), max_new_tokens=12, do_sample=False, pad_token_id=50256
        )
    assert out[0, len(ids) :].tolist() == first


def test_card_reports_perplexity_with_the_baseline_beside_it(training):
    card = (DEMO / "README.md").read_text()
    ours, base = training["held_out"], training["unigram_baseline"]
    assert f"{ours['perplexity']:.1f}" in card and f"{base['perplexity']:.1f}" in card
    assert ours["perplexity"] < base["perplexity"]
    for prompt in (
        "The teacher asked the students to",
        "Once upon a time",
        "The capital of France is",
        "Data visualization empowers users to",
    ):
        assert prompt in card
    for source in training["sources"]:
        assert source["licence"] and source["package"] in card
