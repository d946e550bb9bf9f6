"""Checkpoint -> traced (int8 or fp32) ONNX model + tokenizer files + manifest.json, checked.

The folder is written under a temporary name next to OUT and renamed only once everything,
fidelity checks included, has succeeded: a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path

import numpy as np
import onnx

from export.checkpoint import Checkpoint, load_checkpoint
from export.fidelity import FIDELITY_TEXT, FP32_MAX_RELATIVE_DIFF, compare_fp32, compare_int8
from export.graph import OPSET, build_model, symbolic_shape
from pyexplainer import __version__
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import MODEL_INPUTS, MODEL_OUTPUTS, dtype_of
from pyexplainer.manifest import MANIFEST_FORMAT, MODEL_FILE, file_record
from pyexplainer.runtime.ort_cpython import OrtRunner

QUANTIZATION_SCHEMES = {
    "int8": "int8 weights, symmetric, one float32 scale per output channel (per token row for the "
    "embeddings and the tied output layer), DequantizeLinear; float32 activations",
    "fp32": "float32 weights and activations",
}


class ExportError(Exception):
    """The export ran but its output failed a check; the message says which."""


def tool_versions() -> dict[str, str]:
    import onnxruntime

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "pyexplainer": __version__,
    }


def io_table(table: dict, c) -> dict:
    return {
        name: {"shape": symbolic_shape(shape, c), "dtype": dtype_of(name), "description": doc}
        for name, (shape, doc) in table.items()
    }


def training_summary(folder: Path) -> dict | None:
    """What a model card's training.json says (the demo model has one), for the page to show."""
    path = folder / "training.json"
    if not path.is_file():
        return None
    t = json.loads(path.read_text(encoding="utf-8"))
    return {
        "held_out": t["held_out"],
        "unigram_baseline": t["unigram_baseline"],
        "tokens_seen": t["tokens_seen"],
        "sources": [
            {k: s[k] for k in ("name", "package", "licence", "tokens")} for s in t["sources"]
        ],
    }


def check_fidelity(ckpt: Checkpoint, quantize: str) -> tuple[bytes, dict]:
    """Build the graph(s), compare them, return the bytes of the one to ship and the figures."""
    c = ckpt.config
    ids = Tokenizer.from_strings(ckpt.vocab_json, ckpt.merges_txt).encode(FIDELITY_TEXT)
    ids = ids[: c.n_positions]
    fp32_bytes = build_model(c, ckpt.weights, "fp32").SerializeToString()
    run_fp32 = OrtRunner(fp32_bytes)
    fidelity = {
        "text": FIDELITY_TEXT,
        "fp32_vs_numpy": compare_fp32(run_fp32, c, ckpt.weights, ids),
    }
    worst = fidelity["fp32_vs_numpy"]["max_relative_diff_vs_numpy"]
    if not worst <= FP32_MAX_RELATIVE_DIFF:
        raise ExportError(
            f"the fp32 graph's logits differ from the numpy reference by {worst:.2e} "
            f"(relative), more than {FP32_MAX_RELATIVE_DIFF:.0e}: export is wrong"
        )
    if quantize == "fp32":
        return fp32_bytes, fidelity
    int8_bytes = build_model(c, ckpt.weights, "int8").SerializeToString()
    fidelity["int8_vs_fp32"] = compare_int8(OrtRunner(int8_bytes), run_fp32, c, ids)
    return int8_bytes, fidelity


def make_manifest(
    ckpt: Checkpoint,
    name: str,
    quantize: str,
    fidelity: dict,
    files: dict,
    source_folder: Path | None,
) -> dict:
    c = ckpt.config
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": name,
        "source": ckpt.source,
        "config": c.to_dict(),
        "parameters": int(sum(w.size for w in ckpt.weights.values())),
        "quantization": {"weights": quantize, "scheme": QUANTIZATION_SCHEMES[quantize]},
        "onnx": {"file": MODEL_FILE, "opset": OPSET},
        "inputs": io_table(MODEL_INPUTS, c),
        "outputs": io_table(MODEL_OUTPUTS, c),
        "files": files,
        "fidelity": fidelity,
        "tools": tool_versions(),
    }
    training = training_summary(source_folder) if source_folder else None
    if training:
        manifest["training"] = training
    return manifest


def prepare_out(out: Path) -> Path:
    """A fresh temporary folder beside OUT; refuse to replace a folder that is not an export."""
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise ExportError(f"{out} exists and is not an exported model folder; choose another --out")
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def export_model(
    model: str, out: str | Path, *, quantize: str = "int8", name: str | None = None
) -> dict:
    """Export checkpoint `model` (folder or hub id) into folder `out`; returns the manifest."""
    out = Path(out)
    ckpt = load_checkpoint(model)
    model_bytes, fidelity = check_fidelity(ckpt, quantize)
    tmp = prepare_out(out)
    try:
        contents = {
            MODEL_FILE: model_bytes,
            "vocab.json": ckpt.vocab_json.encode("utf-8"),
            "merges.txt": ckpt.merges_txt.encode("utf-8"),
        }
        for file_name, data in contents.items():
            (tmp / file_name).write_bytes(data)
        files = {file_name: file_record(data) for file_name, data in contents.items()}
        source_folder = Path(ckpt.source["path"]) if "path" in ckpt.source else None
        name = name or (source_folder.name if source_folder else ckpt.source["id"])
        manifest = make_manifest(ckpt, name, quantize, fidelity, files, source_folder)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest
