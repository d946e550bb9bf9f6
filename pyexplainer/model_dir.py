"""An exported model folder in CPython: manifest, verified files, tokenizer and runner."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from pyexplainer.core.generation import RunModel
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.wordpiece import WordPieceTokenizer
from pyexplainer.manifest import (
    Manifest,
    ModelFileError,
    check_file,
    load_tokenizer,
    parse_manifest,
    tokenizer_files,
)
from pyexplainer.weights_file import external_data


@dataclasses.dataclass(frozen=True)
class LocalModel:
    manifest: Manifest
    tokenizer: Tokenizer | WordPieceTokenizer
    run: RunModel


def read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    if not path.is_file():
        raise ModelFileError(
            f"{folder}: no manifest.json; not an exported model folder "
            "(make one with python -m export)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelFileError(f"{path}: not valid JSON ({e})") from e
    return parse_manifest(raw)


def read_checked(folder: Path, manifest: Manifest, name: str) -> bytes:
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError as e:
        raise ModelFileError(f"{folder}: {name} is missing") from e
    check_file(manifest, name, data)
    return data


def read_tokenizer(folder: Path, manifest: Manifest) -> Tokenizer | WordPieceTokenizer:
    """The tokenizer the manifest names, from its files in `folder`, each checked."""
    files = {name: read_checked(folder, manifest, name) for name in tokenizer_files(manifest)}
    return load_tokenizer(manifest, files)


def open_model_dir(
    folder: str | Path, *, threads: int | None = None, backend: str = "wasm"
) -> LocalModel:
    """Load an exported model folder, checking every file against the manifest's sha256. It runs
    the graph the page runs on `backend` ("wasm", the default, or "webgpu"), on onnxruntime's CPU
    kernels: the WebAssembly graph's integer arithmetic is the page's to the last bit."""
    from pyexplainer.runtime.ort_cpython import OrtRunner

    folder = Path(folder)
    manifest = read_manifest(folder)
    tokenizer = read_tokenizer(folder, manifest)
    graph, weights = (read_checked(folder, manifest, n) for n in manifest.model_files(backend))
    external = external_data(manifest.weights, backend, weights)
    return LocalModel(manifest, tokenizer, OrtRunner(graph, external=external, threads=threads))
