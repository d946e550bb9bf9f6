"""A GPT-2 checkpoint of random weights in Hugging Face layout: sizes and speeds do not depend on
the values, so both benchmarks measure GPT-2-small-sized models without a download."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from export.checkpoint import expected_shapes
from pyexplainer.config import ModelConfig

GPT2_SMALL = ModelConfig(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257)
VOCAB_DIR = Path(__file__).resolve().parent.parent / "models" / "demo"  # GPT-2's vocabulary


def write_random_checkpoint(folder: Path, c: ModelConfig) -> None:
    """folder/model.safetensors (seeded normal weights, 0.02 scale; layer norms 1 and 0),
    config.json and GPT-2's vocab.json and merges.txt."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    weights = {
        "transformer." + name: (0.02 * rng.standard_normal(shape, dtype=np.float32))
        if len(shape) > 1
        else np.ones(shape, np.float32)
        if name.endswith("weight")
        else np.zeros(shape, np.float32)
        for name, shape in expected_shapes(c).items()
    }
    folder.mkdir(parents=True)
    save_file(weights, str(folder / "model.safetensors"))
    config = {"model_type": "gpt2", "activation_function": "gelu_new", **c.to_dict()}
    (folder / "config.json").write_text(json.dumps(config))
    for name in ("vocab.json", "merges.txt"):
        (folder / name).write_bytes((VOCAB_DIR / name).read_bytes())
