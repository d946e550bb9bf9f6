"""Shared fixtures: GPT-2's real vocabulary, a tiny random GPT-2 checkpoint in Hugging Face
layout (made here, no download), and its fp32 and int8 exports."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

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


@pytest.fixture(scope="session")
def tiny_int8(tiny_checkpoint, tmp_path_factory) -> Path:
    from export.export import export_model

    out = tmp_path_factory.mktemp("export") / "tiny-int8"
    export_model(str(tiny_checkpoint), out, quantize="int8")
    return out
