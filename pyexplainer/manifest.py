"""manifest.json of an exported model: what the files are, and checks that they are intact.

Pure (no file or network I/O), so the page checks downloaded bytes with the same code as CPython.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from pyexplainer.config import ModelConfig
from pyexplainer.core.trace import MODEL_INPUTS, MODEL_OUTPUTS

# 2: weights stored quantized in blocks (DequantizeLinear or MatMulNBits, GatherBlockQuantized);
# 1 held int8 DequantizeLinear graphs, always folded at load
MANIFEST_FORMAT = "pyexplainer-model/2"
MODEL_FILE = "model.onnx"
TOKENIZER_FILES = ("vocab.json", "merges.txt")


class ModelFileError(Exception):
    """A model folder or file that is missing, corrupt, truncated or does not match."""


@dataclasses.dataclass(frozen=True)
class Manifest:
    name: str
    config: ModelConfig
    quantization: str  # "int4", "int8" or "fp32"
    files: dict[str, dict]  # file name -> {"sha256": hex, "bytes": int}
    raw: dict  # the whole manifest, for what the page shows (source, fidelity, tools)


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
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"manifest.json is incomplete or malformed ({e!r})") from e
    differ = sorted((outputs ^ set(MODEL_OUTPUTS)) | (inputs ^ set(MODEL_INPUTS)))
    if differ:
        raise ModelFileError(
            "the model's inputs/outputs do not match this version of pyexplainer "
            f"(differ in: {', '.join(differ)}); re-export it with python -m export"
        )
    for name in (MODEL_FILE, *TOKENIZER_FILES):
        if name not in files:
            raise ModelFileError(f"manifest.json does not list {name}")
    return Manifest(raw.get("name", "model"), config, quantization, files, raw)


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
