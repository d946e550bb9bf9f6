"""Checkpoint -> traced (int4, int8 or fp32) ONNX graphs, weights, tokenizer files and
manifest.json, checked.

The folder is written under a temporary name next to OUT and renamed only once everything,
fidelity checks included, has succeeded: a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx

from export.checkpoint import Checkpoint, load_checkpoint
from export.fidelity import (
    FP32_MAX_RELATIVE_DIFF,
    QUANTIZED_GATES,
    compare_fp32,
    compare_quantized,
    fidelity_texts,
    gate_failures,
    pooled,
)
from export.graph import BACKENDS, OPSET, ExportedGraphs, build_graphs, symbolic_shape
from export.out_folder import folder_in_place_of, not_ours
from export.quantize import QuantizationError, check_block, embedding_block
from export.stored_weights import DEFAULT_BLOCK, QUANTIZATIONS
from pyexplainer import __version__
from pyexplainer.core.trace import MODEL_INPUTS, MODEL_OUTPUTS, dtype_of
from pyexplainer.manifest import (
    GRAPH_FILES,
    MANIFEST_FORMAT,
    file_record,
    tokenizer_from_section,
)
from pyexplainer.runtime.weights import RUNTIMES

QUANTIZATION_SCHEMES = {
    "int4": "attention and MLP matrices 4-bit codes, each times an integer multiplier (1 to 16) "
    "per block of values along the reduction axis and a float32 scale per output column, so "
    "that code * multiplier is an int8 code; the token and position embeddings (the token "
    "embedding is also the tied output layer, stored once) int8, one scale per row and block "
    "of the width",
    "int8": "every weight matrix int8, symmetric, one float32 scale per output column; the "
    "embeddings as in int4",
    "fp32": "float32 weights and activations",
}


class ExportError(Exception):
    """The export ran but its output failed a check; the message says which."""


class FidelityGateError(ExportError):
    """A quantized graph below its fidelity gate (a more precise quantization may pass);
    `failures` says what fell below it."""

    def __init__(self, quantize: str, positions: int, failures: list[str]):
        super().__init__(
            f"the {quantize} graph is not faithful enough to fp32 over {positions} positions "
            f"({'; '.join(failures)}); nothing was written: export a more precise --quantize "
            "or a smaller --block-size"
        )
        self.failures = failures


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


def check_fidelity(
    ckpt: Checkpoint, quantize: str, block: int, gate: bool, language: str | None = None
) -> tuple[ExportedGraphs, dict]:
    """Build the graphs, compare them on texts in the model's `language`, return the export to
    ship and the figures. Refuses (ExportError) an fp32 graph that is not GPT-2, and with `gate`
    a quantized one below its fidelity gate on any backend's graph."""
    c = ckpt.config
    tokenizer = tokenizer_from_section(ckpt.tokenizer.section, ckpt.tokenizer.files)
    fixed_text, held_out_text = fidelity_texts(language)
    ids = tokenizer.encode(fixed_text)[: c.n_positions]
    fp32 = build_graphs(c, ckpt.weights, "fp32")
    run_fp32 = fp32.runner()
    fidelity = {
        "text": fixed_text,
        "fp32_vs_numpy": compare_fp32(run_fp32, c, ckpt.weights, ids),
    }
    worst = fidelity["fp32_vs_numpy"]["max_relative_diff_vs_numpy"]
    if not worst <= FP32_MAX_RELATIVE_DIFF:
        raise ExportError(
            f"the fp32 graph's logits differ from the numpy reference by {worst:.2e} "
            f"(relative), more than {FP32_MAX_RELATIVE_DIFF:.0e}: export is wrong"
        )
    if quantize == "fp32":
        return fp32, fidelity
    exported = build_graphs(c, ckpt.weights, quantize, block)
    held_out = tokenizer.encode(held_out_text)[: c.n_positions]
    texts = {"fidelity_text": ids, "held_out": held_out}
    gated = measure_quantized(exported, run_fp32, c, texts, quantize, gate)
    return exported, {**fidelity, **gated}


# each backend's graph -> its figures' key in the manifest's fidelity (the WebAssembly graph's,
# what most students run, keep the key the page quotes)
FIGURES_KEY = {"wasm": "quantized_vs_fp32", "webgpu": "webgpu_vs_fp32"}


def measure_quantized(
    exported: ExportedGraphs, run_fp32, c, texts: dict, quantize: str, gate: bool
) -> dict:
    """Each backend's graph against fp32 on each text and on all their positions together, and
    the gate, which every backend's graph must pass; with `gate`, ExportError below it."""
    least_top1, most_kl = QUANTIZED_GATES[quantize]
    record, failures = {}, []
    for backend in BACKENDS:
        run = exported.runner(backend)
        figures = {name: compare_quantized(run, run_fp32, c, ids) for name, ids in texts.items()}
        both = pooled(figures)
        record[FIGURES_KEY[backend]] = {**figures, "both_texts": both}
        failures += [f"{backend}: {f}" for f in gate_failures(quantize, both)]
    if failures and gate:
        positions = record[FIGURES_KEY["wasm"]]["both_texts"]["positions"]
        raise FidelityGateError(quantize, positions, failures)
    return {
        **record,
        "gate": {
            "over": "both_texts",
            "backends": list(BACKENDS),
            "top1_agreement_at_least": least_top1,
            "mean_kl_nats_at_most": most_kl,
            "passed": not failures,
            "enforced": gate,
        },
    }


def quantization_record(quantize: str, block: int, width: int) -> dict:
    record = {"weights": quantize, "scheme": QUANTIZATION_SCHEMES[quantize]}
    if quantize == "int4":
        record["block_size"] = block  # of the attention and MLP matrices' multipliers
    if quantize != "fp32":
        record["embedding_block_size"] = embedding_block(width)
        record["runs"] = RUNTIMES
    return record


def make_manifest(
    ckpt: Checkpoint,
    name: str,
    quantization: dict,
    fidelity: dict,
    files: dict,
    graphs: dict[str, str],
    weights: dict,
    source_folder: Path | None,
) -> dict:
    c = ckpt.config
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": name,
        "source": ckpt.source,
        "config": c.to_dict(),
        "parameters": int(sum(w.size for w in ckpt.weights.values())),
        "quantization": quantization,
        "onnx": {"graphs": graphs, "opset": OPSET},
        "weights": weights,
        "inputs": io_table(MODEL_INPUTS, c),
        "outputs": io_table(MODEL_OUTPUTS, c),
        "tokenizer": ckpt.tokenizer.section,
        "files": files,
        "fidelity": fidelity,
        "tools": tool_versions(),
    }
    training = training_summary(source_folder) if source_folder else None
    if training:
        manifest["training"] = training
    return manifest


def graph_files(exported: ExportedGraphs) -> dict[str, str]:
    """Backend -> the file of its graph: one file when both backends run the same graph."""
    if exported.graphs["wasm"] == exported.graphs["webgpu"]:
        return {backend: GRAPH_FILES["wasm"] for backend in BACKENDS}
    return dict(GRAPH_FILES)


def export_model(
    model: str,
    out: str | Path,
    *,
    quantize: str = "int4",
    block: int = DEFAULT_BLOCK,
    name: str | None = None,
    gate: bool = True,
    language: str | None = None,
    examples: Sequence[str] = (),
) -> dict:
    """Export checkpoint `model` (folder or hub id) into folder `out`; returns the manifest.
    `block`: values per scale in the attention and MLP matrices; `gate`: refuse a quantized
    graph below its fidelity gate (off for random weights, whose figures are only recorded);
    `language` (a BCP 47 tag, "zh"): what the model reads, its fidelity texts' language;
    `examples`: prompts the page offers with it. Both are recorded in the manifest."""
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize must be one of {', '.join(QUANTIZATIONS)}, not {quantize!r}")
    out = Path(out)
    if not_ours(out, "manifest.json"):  # before any work is done
        raise ExportError(f"{out} exists and is not an exported model folder; choose another --out")
    ckpt = load_checkpoint(model)
    try:  # before any work: the blocks must divide the model's widths (a block that divides
        if quantize == "int4":  # the width divides 4 * width)
            check_block(block, ckpt.config.n_embd, "the model width (c_attn, c_fc)")
        if quantize != "fp32":
            embedding_block(ckpt.config.n_embd)
    except QuantizationError as e:
        raise ExportError(f"cannot quantize {model} as {quantize}: {e}") from e
    exported, fidelity = check_fidelity(ckpt, quantize, block, gate, language)
    with folder_in_place_of(out) as tmp:
        graphs = graph_files(exported)
        contents = {
            **{graphs[b]: exported.graphs[b] for b in BACKENDS},
            exported.weights["file"]: exported.wire,
            **ckpt.tokenizer.files,
        }
        for file_name, data in contents.items():
            (tmp / file_name).write_bytes(data)
        files = {file_name: file_record(data) for file_name, data in contents.items()}
        source_folder = Path(ckpt.source["path"]) if "path" in ckpt.source else None
        name = name or (source_folder.name if source_folder else ckpt.source["id"])
        quantization = quantization_record(quantize, block, ckpt.config.n_embd)
        manifest = make_manifest(
            ckpt, name, quantization, fidelity, files, graphs, exported.weights, source_folder
        )
        manifest |= {"language": language} if language else {}
        manifest |= {"example_prompts": list(examples)} if examples else {}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
