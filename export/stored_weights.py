"""The model's weights as an export stores them: the tensors of weights.bin (the wire file, which
the graphs read as ONNX external data), the small tensors each graph holds itself, and for an
int4 export the WebAssembly weights the page makes from weights.bin at load
(pyexplainer/weights_file.py), with each tensor's place in both for the manifest."""

from __future__ import annotations

import dataclasses

import numpy as np
from onnx import TensorProto

from export.quantize import (
    QuantizationError,
    check_block,
    embedding_block,
    quantize_embedding,
    quantize_int4,
    quantize_int8,
)
from pyexplainer.config import ModelConfig
from pyexplainer.weights_file import (
    INT8_ZERO_POINT,
    WASM_WEIGHTS,
    WIRE_FILE,
    int8_codes_of_int4,
    layout,
)

# how the attention and MLP matrices are stored (the embeddings are int8 in both quantized ones)
QUANTIZATIONS = ("int4", "int8", "fp32")
DEFAULT_BLOCK = 32  # values per multiplier along the reduction axis of an int4 matrix
MATRICES = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
EMBEDDINGS = ("wte", "wpe")
ONNX_TYPES = {"uint8": TensorProto.UINT8, "float32": TensorProto.FLOAT}


@dataclasses.dataclass
class StoredWeights:
    """What both graphs of one export read. A matrix `name` (K, N) is stored as
    - int4: wire name.nibbles (N, K/b, b/2) and name.multipliers (N, K/b), uint8; in the
      WebAssembly weights name.codes (K, N) uint8, made from them;
    - int8: wire name.codes (K, N) uint8;
    - fp32: wire `name` (K, N) float32;
    and inline name.scales (N,) and name.column_sums (N,) int32 (the sum of each column's
    signed codes) when quantized. An embedding (R, D) is stored as its transpose (D, R): wire
    name.codes uint8 (name.weight float32 for fp32), inline name.scales (R,) and, for the
    token embedding that is also the output layer, name.column_sums; quantized, each block of
    the width is such a tensor of its own (store_embedding)."""

    quantize: str
    block: int
    wire: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    inline: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    # WebAssembly weights' tensor -> ("copy", wire name) or ("int4", nibbles, multipliers)
    wasm: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def wire_places(self) -> dict[str, tuple[int, int]]:
        return layout({name: a.nbytes for name, a in self.wire.items()})

    def wasm_shapes(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """WebAssembly weights' tensor -> (dtype, shape)."""
        shapes = {}
        for name, source in self.wasm.items():
            if source[0] == "copy":
                a = self.wire[source[1]]
                shapes[name] = (str(a.dtype), a.shape)
            else:
                n, blocks, half = self.wire[source[1]].shape
                shapes[name] = ("uint8", (blocks * 2 * half, n))  # (K, N)
        return shapes

    def wasm_places(self) -> dict[str, tuple[int, int]]:
        sizes = {n: int(np.prod(shape)) for n, (_, shape) in self.wasm_shapes().items()}
        return layout(sizes)  # every tensor made for it is uint8 codes

    def wire_bytes(self) -> bytes:
        places = self.wire_places()
        total = max(offset + size for offset, size in places.values())
        out = bytearray(total)
        for name, (offset, size) in places.items():
            out[offset : offset + size] = self.wire[name].tobytes()
        return bytes(out)

    def section(self) -> dict:
        """The manifest's "weights": where each tensor lies in weights.bin, and how the page
        makes the WebAssembly weights (None where the WebAssembly graph reads weights.bin)."""
        places = self.wire_places()
        tensors = {
            name: entry(places[name], str(a.dtype), a.shape) for name, a in self.wire.items()
        }
        section = {"file": WIRE_FILE, "bytes": end_of(places), "tensors": tensors, "wasm": None}
        if self.wasm:
            wasm_places, shapes = self.wasm_places(), self.wasm_shapes()
            made = {}
            for name, source in self.wasm.items():
                how = {"copy": source[1]} if source[0] == "copy" else {"int4": list(source[1:])}
                made[name] = {**entry(wasm_places[name], *shapes[name]), **how}
            section["wasm"] = {"file": WASM_WEIGHTS, "bytes": end_of(wasm_places), "tensors": made}
        return section

    def external(self, name: str, backend: str) -> TensorProto:
        """An initializer of the `backend` graph ("wasm" or "webgpu") whose data lie in weights.bin
        or, for the WebAssembly graph of an int4 export, in the WebAssembly weights."""
        if backend == "wasm" and self.wasm:
            (offset, size), (dtype, shape) = self.wasm_places()[name], self.wasm_shapes()[name]
            location = WASM_WEIGHTS
        else:
            (offset, size), a = self.wire_places()[name], self.wire[name]
            dtype, shape, location = str(a.dtype), a.shape, WIRE_FILE
        tensor = TensorProto(name=name, data_type=ONNX_TYPES[dtype], dims=list(shape))
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", offset), ("length", size)):
            tensor.external_data.add(key=key, value=str(value))
        return tensor


def entry(place: tuple[int, int], dtype: str, shape) -> dict:
    return {"offset": place[0], "bytes": place[1], "dtype": dtype, "shape": list(shape)}


def end_of(places: dict[str, tuple[int, int]]) -> int:
    return max(offset + size for offset, size in places.values())


def store_weights(
    c: ModelConfig, weights: dict[str, np.ndarray], quantize: str, block: int = DEFAULT_BLOCK
) -> StoredWeights:
    """Quantize a checkpoint's weights (GPT-2 names, HF Conv1D layout) as `quantize` says, once
    for both graphs. Biases and layer-norm parameters are not stored here: they stay float32,
    inside the graphs."""
    if quantize not in QUANTIZATIONS:
        raise QuantizationError(
            f"quantize must be one of {', '.join(QUANTIZATIONS)}, not {quantize!r}"
        )
    if quantize == "int4":
        check_block(block, c.n_embd, "the model width (c_attn, c_fc)")
    stored = StoredWeights(quantize, block)
    for name in EMBEDDINGS:
        store_embedding(stored, name, weights[name + ".weight"])
    for layer in range(c.n_layer):
        for matrix in MATRICES:
            name = f"h.{layer}.{matrix}"
            store_matrix(stored, name, weights[name])
    if stored.wasm:  # the rest of weights.bin is copied into the WebAssembly weights
        made = {n for sources in stored.wasm.values() for n in sources[1:]}
        for name in stored.wire:
            if name not in made:
                stored.wasm[name] = ("copy", name)
        order = list(stored.wire)  # in the wire file's order
        stored.wasm = dict(sorted(stored.wasm.items(), key=lambda kv: order.index(kv[1][1])))
    return stored


def store_embedding(stored: StoredWeights, name: str, w: np.ndarray) -> None:
    """An embedding w (R, D), stored transposed: name.weight (D, R) float32 for fp32, else one
    int8 matrix name.{i} (block, R) per block of embedding_block(D) values along D."""
    if stored.quantize == "fp32":
        stored.wire[name + ".weight"] = np.ascontiguousarray(w.T, dtype=np.float32)  # (D, R)
        return
    block = embedding_block(w.shape[1])
    for i in range(w.shape[1] // block):
        part = f"{name}.{i}"
        codes, scales = quantize_embedding(w[:, i * block : (i + 1) * block])  # (b, R), (R,)
        stored.wire[part + ".codes"] = codes
        stored.inline[part + ".scales"] = scales
        if name == "wte":  # the tied output layer multiplies by it as by a matrix
            stored.inline[part + ".column_sums"] = column_sums(codes)


def embedding_parts(stored: StoredWeights, name: str) -> list[str]:
    """The stored blocks of embedding `name` (wte, wpe), in order along the model width."""
    count = sum(1 for t in stored.wire if t.startswith(name + ".") and t.endswith(".codes"))
    return [f"{name}.{i}" for i in range(count)]


def store_matrix(stored: StoredWeights, name: str, w: np.ndarray) -> None:
    if stored.quantize == "fp32":
        stored.wire[name] = w.astype(np.float32)
        return
    if stored.quantize == "int8":
        codes, scales = quantize_int8(w)  # (K, N) uint8, (N,)
        stored.wire[name + ".codes"] = codes
    else:
        nibbles, multipliers, scales = quantize_int4(w, stored.block, name)
        stored.wire[name + ".nibbles"] = nibbles
        stored.wire[name + ".multipliers"] = multipliers
        stored.wasm[name + ".codes"] = ("int4", name + ".nibbles", name + ".multipliers")
        codes = int8_codes_of_int4(nibbles, multipliers)  # (K, N): what WebAssembly runs
    stored.inline[name + ".scales"] = scales
    stored.inline[name + ".column_sums"] = column_sums(codes)


def column_sums(codes: np.ndarray) -> np.ndarray:
    """uint8 codes (K, N) -> (N,) int32: the sum of each column's signed codes q = codes - 128,
    which the integer product takes off once per row's zero point (export/graph.py)."""
    return (codes.astype(np.int32) - INT8_ZERO_POINT).sum(axis=0).astype(np.int32)
