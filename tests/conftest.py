"""Shared fixtures: GPT-2's real vocabulary, a tiny random GPT-2 checkpoint in Hugging Face
layout (made here, no download), and its fp32, int8 and int4 exports; for the browser tests, the
site built once per session, a server for it and headless Chromium."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from bench.chromium import BACKEND_FLAGS, CHROMIUM
from bench.chromium import CHROMIUM_FLAGS as BASE_FLAGS

ROOT = Path(__file__).resolve().parent.parent
VOCAB_DIR = ROOT / "models" / "demo"
TINY = {"n_layer": 2, "n_head": 4, "n_embd": 32, "n_positions": 64, "vocab_size": 50257}


def hf_gpt2_tokenizer(folder: Path = VOCAB_DIR):
    """The oracle: GPT-2 in Hugging Face `tokenizers` (byte-level, no prefix space, no specials)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    hf = Tokenizer(models.BPE.from_file(str(folder / "vocab.json"), str(folder / "merges.txt")))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    return hf


def tiny_weights(seed: int = 0) -> dict[str, np.ndarray]:
    """Random GPT-2 weights, scaled so attention is far from uniform and logits spread out."""
    from export.checkpoint import expected_shapes
    from pyexplainer.config import ModelConfig

    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in expected_shapes(ModelConfig(**TINY)).items():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            weights[name] = 1 + 0.1 * rng.standard_normal(shape)
        elif "c_attn.weight" in name:
            weights[name] = 0.4 * rng.standard_normal(shape)
        else:
            weights[name] = 0.1 * rng.standard_normal(shape)
    return {k: v.astype(np.float32) for k, v in weights.items()}


def write_hf_checkpoint(folder: Path, weights: dict, config: dict | None = None) -> Path:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    cfg = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        **TINY,
        **(config or {}),
    }
    (folder / "config.json").write_text(json.dumps(cfg))
    save_file(
        {"transformer." + k: v for k, v in weights.items()}, str(folder / "model.safetensors")
    )
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(VOCAB_DIR / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    return write_hf_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-gpt2", tiny_weights())


@pytest.fixture(scope="session")
def tiny_fp32(tiny_checkpoint, tmp_path_factory) -> Path:
    from export.export import export_model

    out = tmp_path_factory.mktemp("export") / "tiny-fp32"
    export_model(str(tiny_checkpoint), out, quantize="fp32")
    return out


# Values per scale in the tiny exports' matrices: not the embeddings' block (the width, 32), so
# a mix-up of the two fails
TINY_BLOCK = 16


def tiny_export(checkpoint: Path, out: Path, quantize: str) -> Path:
    """A quantized export of the tiny random checkpoint: its figures recorded, not gated
    (random weights make flat distributions whose top 1 is a coin toss)."""
    from export.export import export_model

    export_model(str(checkpoint), out, quantize=quantize, block=TINY_BLOCK, gate=False)
    return out


@pytest.fixture(scope="session")
def tiny_int8(tiny_checkpoint, tmp_path_factory) -> Path:
    return tiny_export(tiny_checkpoint, tmp_path_factory.mktemp("export") / "tiny-int8", "int8")


@pytest.fixture(scope="session")
def tiny_int4(tiny_checkpoint, tmp_path_factory) -> Path:
    return tiny_export(tiny_checkpoint, tmp_path_factory.mktemp("export") / "tiny-int4", "int4")


def needed_program(name: str) -> str | None:
    """The path of program `name` (shutil.which), or None to let a test skip what needs it; under
    CI (the CI variable set, as .ci/run sets it) a missing program fails the test instead, so that
    CI cannot pass by skipping."""
    path = shutil.which(name)
    if path is None and os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{name} is not installed, and under CI every test that needs it must run")
    return path


# ------------------------------------------------------------------ the browser tests

CHROMIUM_FLAGS = [*BASE_FLAGS, *BACKEND_FLAGS["wasm"]]  # WebAssembly: no GPU


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    subprocess.run(
        [sys.executable, "build/make_site.py", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


def start_server(site: Path):
    """A local server for `site` in a thread: (server, its URL)."""
    from pyexplainer.serve import make_server

    httpd = make_server(site, host="127.0.0.1", port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def stop_server(httpd) -> None:
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def server(site):
    httpd, url = start_server(site)
    yield url
    stop_server(httpd)


@pytest.fixture(scope="session")
def playwright():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright):
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    yield b
    b.close()


@pytest.fixture(scope="session")
def cpython_model(site):
    from pyexplainer.model_dir import open_model_dir

    index = json.loads((site / "models" / "index.json").read_text())
    return open_model_dir(site / index["models"][0]["path"])
