"""manifest.json of an exported model: what the files are, and checks that they are intact.

Pure (no file or network I/O), so the page checks downloaded bytes with the same code as CPython.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from pyexplainer.config import ModelConfig
from pyexplainer.core.bert_text import BertTextOptions
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import MODEL_INPUTS, MODEL_OUTPUTS
from pyexplainer.core.wordpiece import WordPieceTokenizer

# 3: a graph per backend, the weights in weights.bin (ONNX external data, the "weights" section);
# 2 held one graph of blocked DequantizeLinear weights, 1 int8 graphs folded at load
MANIFEST_FORMAT = "pyexplainer-model/3"
GRAPH_FILES = {"wasm": "model.onnx", "webgpu": "model-webgpu.onnx"}  # an fp32 export: model.onnx
MODEL_FILE = GRAPH_FILES["wasm"]
TOKENIZER_FILES = ("vocab.json", "merges.txt")  # GPT-2's byte-level BPE: see tokenizer_files
# The manifest's "tokenizer" for GPT-2's byte-level BPE (a manifest without one has it)
BYTE_LEVEL_BPE = {"kind": "byte_level_bpe", "files": list(TOKENIZER_FILES)}
# The keys of a "wordpiece" tokenizer (a BERT vocab.txt: export/tokenizer_source.py writes them)
WORDPIECE_KEYS = (
    "files",
    "lowercase",
    "strip_accents",
    "clean_text",
    "handle_chinese_chars",
    "unk_token",
    "special_tokens",
    "prompt_prefix",
    "sampled_special_tokens",
    "continuing_subword_prefix",
    "max_input_chars_per_word",
)


class ModelFileError(Exception):
    """A model folder or file that is missing, corrupt, truncated or does not match."""


@dataclasses.dataclass(frozen=True)
class Manifest:
    name: str
    config: ModelConfig
    quantization: str  # "int4", "int8" or "fp32"
    files: dict[str, dict]  # file name -> {"sha256": hex, "bytes": int}
    graphs: dict[str, str]  # backend ("wasm", "webgpu") -> the file of its graph
    weights: dict  # where each tensor lies in weights.bin (pyexplainer/weights_file.py)
    raw: dict  # the whole manifest, for what the page shows (source, fidelity, tools)

    def download_bytes(self, backend: str = "wasm") -> int:
        """What the model's graph for `backend` and its weights weigh on the wire."""
        return sum(self.files[name]["bytes"] for name in self.model_files(backend))

    def model_files(self, backend: str) -> tuple[str, str]:
        """(the graph file, the weights file) the `backend` reads."""
        return self.graphs[backend], self.weights["file"]


def parse_manifest(raw: dict) -> Manifest:
    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
        raise ModelFileError(
            f"manifest.json is not a {MANIFEST_FORMAT} manifest "
            f"(format: {raw.get('format') if isinstance(raw, dict) else None!r}); "
            "export the model again with this version's python -m export"
        )
    try:
        config = ModelConfig.from_dict(raw["config"])
        files = {
            name: {"sha256": str(f["sha256"]), "bytes": int(f["bytes"])}
            for name, f in raw["files"].items()
        }
        outputs, inputs = set(raw["outputs"]), set(raw["inputs"])
        quantization = str(raw["quantization"]["weights"])
        graphs = {backend: str(raw["onnx"]["graphs"][backend]) for backend in GRAPH_FILES}
        weights = raw["weights"]
        weight_files = [str(weights["file"])]
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"manifest.json is incomplete or malformed ({e!r})") from e
    differ = sorted((outputs ^ set(MODEL_OUTPUTS)) | (inputs ^ set(MODEL_INPUTS)))
    if differ:
        raise ModelFileError(
            "the model's inputs/outputs do not match this version of pyexplainer "
            f"(differ in: {', '.join(differ)}); re-export it with python -m export"
        )
    tokenizer = tokenizer_section(raw)
    kind = tokenizer.get("kind") if isinstance(tokenizer, dict) else None
    missing = [k for k in WORDPIECE_KEYS if k not in tokenizer] if kind == "wordpiece" else []
    if kind not in ("byte_level_bpe", "wordpiece") or missing:
        raise ModelFileError(
            f"manifest.json's tokenizer is not one this version of pyexplainer reads (kind "
            f"{kind!r}{', lacking ' + ', '.join(missing) if missing else ''}); re-export it"
        )
    for name in (*graphs.values(), *weight_files, *tokenizer["files"]):
        if name not in files:
            raise ModelFileError(f"manifest.json does not list {name}")
    return Manifest(raw.get("name", "model"), config, quantization, files, graphs, weights, raw)


def tokenizer_section(raw: dict) -> dict:
    """The manifest's "tokenizer" section; a manifest without one is GPT-2's (byte-level BPE)."""
    return raw.get("tokenizer", BYTE_LEVEL_BPE)


def tokenizer_files(manifest: Manifest) -> tuple[str, ...]:
    """The files the model's tokenizer is made from (checked like the others by check_file)."""
    return tuple(tokenizer_section(manifest.raw)["files"])


def load_tokenizer(manifest: Manifest, files: dict[str, bytes]) -> Tokenizer | WordPieceTokenizer:
    """The model's tokenizer, made from the bytes of its files (tokenizer_files, checked): GPT-2's
    byte-level BPE or BERT's WordPiece, as the manifest says. Both have the same interface."""
    return tokenizer_from_section(tokenizer_section(manifest.raw), files)


def tokenizer_from_section(
    section: dict, files: dict[str, bytes]
) -> Tokenizer | WordPieceTokenizer:
    """load_tokenizer of a manifest's "tokenizer" (the export's, before the manifest is written)."""
    try:
        texts = [files[name].decode("utf-8") for name in section["files"]]
    except KeyError as e:
        raise ModelFileError(f"the tokenizer needs {e.args[0]}, which was not read") from e
    except UnicodeDecodeError as e:
        raise ModelFileError(f"a tokenizer file is not UTF-8 text ({e})") from e
    try:
        if section["kind"] == "byte_level_bpe":
            return Tokenizer.from_strings(*texts)
        return WordPieceTokenizer.from_vocab_text(
            texts[0],
            text=BertTextOptions(
                clean_text=bool(section["clean_text"]),
                handle_chinese_chars=bool(section["handle_chinese_chars"]),
                strip_accents=section["strip_accents"],
                lowercase=bool(section["lowercase"]),
            ),
            unk_token=section["unk_token"],
            special_tokens=section["special_tokens"],
            prompt_prefix=section["prompt_prefix"],
            sampled_special_tokens=section["sampled_special_tokens"],
            continuing_subword_prefix=section["continuing_subword_prefix"],
            max_input_chars_per_word=int(section["max_input_chars_per_word"]),
        )
    except ValueError as e:  # a vocabulary that does not fit its settings
        raise ModelFileError(f"the tokenizer files do not make a tokenizer ({e})") from e


def manifest_from_bytes(data: bytes) -> Manifest:
    """parse_manifest of a manifest.json's bytes, however they arrived; ModelFileError when they
    are not JSON."""
    try:
        raw = json.loads(data)
    except ValueError as e:  # not UTF-8 either
        raise ModelFileError(f"manifest.json is not valid JSON ({e})") from e
    return parse_manifest(raw)


def quantized_fidelity(raw: dict) -> dict | None:
    """How close a quantized export is to float32 on held-out text, as the export measured
    it (manifest fidelity.quantized_vs_fp32.held_out); None for fp32 or an older manifest."""
    held_out = raw.get("fidelity", {}).get("quantized_vs_fp32", {}).get("held_out")
    if not held_out:
        return None
    return {
        "top1": held_out["top1_agreement_vs_fp32"],
        "kl": held_out["mean_kl_nats_vs_fp32"],
        "perplexity": held_out["perplexity_quantized"],
        "perplexity_fp32": held_out["perplexity_fp32"],
        "positions": held_out["positions"],
    }


def file_record(data: bytes) -> dict:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def check_file(manifest: Manifest, name: str, data: bytes) -> None:
    """Raise ModelFileError naming the file if its bytes are not the ones the manifest lists."""
    check_digest(manifest, name, len(data), hashlib.sha256(data).hexdigest())


def check_digest(manifest: Manifest, name: str, size: int, sha256: str) -> None:
    """check_file for a file hashed as it streamed in: its byte count and sha256 hex digest."""
    expected = manifest.files[name]
    if size != expected["bytes"]:
        raise ModelFileError(
            f"{name} has {size:,} bytes, the manifest says "
            f"{expected['bytes']:,}: the file is truncated or from another export"
        )
    if sha256 != expected["sha256"]:
        raise ModelFileError(f"{name} is corrupt: its sha256 differs from the manifest's")
