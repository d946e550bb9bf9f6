"""The model's weights as an export stores them: the tensors of weights.bin (the wire file, which
the graphs read as ONNX external data: every weight, scale, bias and layer-norm parameter, so
that the two graphs, both downloaded, hold none of them twice), and for an int4 export the
WebAssembly weights the page makes from weights.bin at load (pyexplainer/weights_file.py), with
each tensor's place in both for the manifest."""

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
    WASM_WEIGHTS,
    WIRE_FILE,
    column_sums,
    int8_codes_of_int4,
    layout,
)

# how the attention and MLP matrices are stored (the embeddings are int8 in both quantized ones)
QUANTIZATIONS = ("int4", "int8", "fp32")
DEFAULT_BLOCK = 32  # values per multiplier along the reduction axis of an int4 matrix
MATRICES = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
EMBEDDINGS = ("wte", "wpe")
ONNX_TYPES = {"uint8": TensorProto.UINT8, "int32": TensorProto.INT32, "float32": TensorProto.FLOAT}
# float32 as they are, in every export: each block's, then the final layer norm's
BLOCK_PARAMETERS = (
    "ln_1.weight",
    "ln_1.bias",
    "attn.c_attn.bias",
    "attn.c_proj.bias",
    "ln_2.weight",
    "ln_2.bias",
    "mlp.c_fc.bias",
    "mlp.c_proj.bias",
)
FINAL_PARAMETERS = ("ln_f.weight", "ln_f.bias")


@dataclasses.dataclass
class StoredWeights:
    """What both graphs of one export read. A matrix `name` (K, N) is stored as
    - int4: wire name.nibbles (N, K/b, b/2) and name.multipliers (N, K/b), uint8; in the
      WebAssembly weights name.codes (K, N) uint8, made from them;
    - int8: wire name.codes (K, N) uint8;
    - fp32: wire `name` (K, N) float32;
    and, quantized, wire name.scales (N,) float32 and name.column_sums (N,) int32 (the sum of
    each column's signed codes), which for int4 the page makes at load, in the WebAssembly
    weights only (the WebGPU graph has no use for them). An embedding (R, D) is stored as its
    transpose (D, R): wire name.codes uint8 (name.weight float32 for fp32) and name.scales (R,)
    and, for the token embedding that is also the output layer, name.column_sums; quantized,
    each block of the width is such a tensor of its own (store_embedding). Biases and
    layer-norm parameters: wire, float32, in GPT-2's names."""

    quantize: str
    block: int
    wire: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    # WebAssembly weights' tensor -> ("copy", wire name), ("int4", nibbles, multipliers) or
    # ("column_sums", the codes: a WebAssembly tensor made just before it, or a wire one),
    # in the order the page makes them
    wasm: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    sums: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # made at load

    def wire_places(self) -> dict[str, tuple[int, int]]:
        return layout({name: a.nbytes for name, a in self.wire.items()})

    def wasm_shapes(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """WebAssembly weights' tensor -> (dtype, shape)."""
        shapes = {}
        for name, source in self.wasm.items():
            if source[0] == "copy":
                a = self.wire[source[1]]
                shapes[name] = (str(a.dtype), a.shape)
            elif source[0] == "int4":
                n, blocks, half = self.wire[source[1]].shape
                shapes[name] = ("uint8", (blocks * 2 * half, n))  # (K, N)
            else:
                shapes[name] = ("int32", self.sums[name].shape)  # (N,)
        return shapes

    def wasm_places(self) -> dict[str, tuple[int, int]]:
        sizes = {
            n: int(np.prod(shape)) * np.dtype(dtype).itemsize
            for n, (dtype, shape) in self.wasm_shapes().items()
        }
        return layout(sizes)

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
            for name, (kind, *sources) in self.wasm.items():
                how = {kind: sources if kind == "int4" else sources[0]}
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
    for both graphs; biases and layer-norm parameters as they are, float32."""
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
        for name in BLOCK_PARAMETERS:
            stored.wire[f"h.{layer}.{name}"] = weights[f"h.{layer}.{name}"].astype(np.float32)
    for name in FINAL_PARAMETERS:
        stored.wire[name] = weights[name].astype(np.float32)
    if stored.quantize == "int4":
        stored.wasm = wasm_sources(stored)
    return stored


def wasm_sources(stored: StoredWeights) -> dict[str, tuple[str, ...]]:
    """The WebAssembly weights of an int4 export, in the order the page makes them: each
    matrix's int8 codes from its wire nibbles and multipliers, then their column sums; the
    token embedding's column sums from its wire codes; every other wire tensor copied."""
    sources = {}
    for name in stored.wire:
        if name.endswith(".nibbles"):
            matrix = name.removesuffix(".nibbles")
            sources[matrix + ".codes"] = ("int4", name, matrix + ".multipliers")
            sources[matrix + ".column_sums"] = ("column_sums", matrix + ".codes")
        elif not name.endswith(".multipliers"):
            sources[name] = ("copy", name)
            part = name.removesuffix(".codes")
            if part + ".column_sums" in stored.sums:  # a block of the tied output layer
                sources[part + ".column_sums"] = ("column_sums", name)
    return sources


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
        stored.wire[part + ".scales"] = scales
        if name == "wte":  # the tied output layer multiplies by it as by a matrix
            store_column_sums(stored, part, codes)


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
    stored.wire[name + ".scales"] = scales
    store_column_sums(stored, name, codes)


def store_column_sums(stored: StoredWeights, name: str, codes: np.ndarray) -> None:
    """name.column_sums of the uint8 codes (K, N): on the wire for int8, made at load for int4
    (about 1 MB less to download for GPT-2 small)."""
    sums = column_sums(codes)  # (N,) int32
    if stored.quantize == "int4":
        stored.sums[name + ".column_sums"] = sums
    else:
        stored.wire[name + ".column_sums"] = sums
