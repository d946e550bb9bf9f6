"""The model's weights file (weights.bin) and the WebAssembly weights the page makes from it.

The exported graphs keep their large tensors outside the ONNX file, as ONNX external data:
the WebGPU graph reads weights.bin as it arrives, and so does the WebAssembly graph of an int8
or fp32 export. An int4 export's WebAssembly graph multiplies int8 codes (MatMulInteger), so
the page turns weights.bin into its buffer, weights.wasm, once at load: each int4 matrix's
4-bit codes times their block's multiplier are its int8 codes (export/quantize.py: exact, no
rounding), followed by their column sums (which the integer product needs and the wire need not
carry), and every other tensor is copied as it is. manifest.json's "weights" section says
where each tensor lies in both (export/stored_weights.py writes it).

Pure (numpy, no I/O): the page runs the same code over JS arrays that CPython runs over bytes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

WIRE_FILE = "weights.bin"  # on the wire, listed in the manifest's files
WASM_WEIGHTS = "weights.wasm"  # made at load for the WebAssembly graph, never downloaded
ALIGNMENT = 64  # every tensor starts at a multiple of this many bytes
INT4_ZERO_POINT = 8  # the unsigned nibble c + 8 stands for the int4 code c
INT8_ZERO_POINT = 128  # the uint8 code q + 128 stands for the int8 code q


def layout(sizes: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Tensor name -> (offset, bytes) of tensors of `sizes` bytes laid one after the other, in
    that order, each at a multiple of ALIGNMENT."""
    places, offset = {}, 0
    for name, size in sizes.items():
        offset = -(-offset // ALIGNMENT) * ALIGNMENT
        places[name] = (offset, size)
        offset += size
    return places


def int8_codes_of_int4(nibbles: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """nibbles (N, K / b, b / 2) uint8, two unsigned 4-bit codes c + 8 a byte (the first in the
    low nibble), and multipliers (N, K / b) uint8 -> the uint8 codes (K, N) of c * m + 128: the
    int8 matrix, in the layout MatMulInteger multiplies by. In uint8 arithmetic, which wraps
    modulo 256: (c + 8) * m + (128 - 8 m) is c * m + 128 there, and that lies in 0 .. 255 (the
    export keeps c * m within -128 .. 112, so m <= 16 and 128 - 8 m >= 0): exact, with no wider
    copy of the matrix."""
    n, blocks, half = nibbles.shape
    codes = np.empty((n, blocks, 2 * half), dtype=np.uint8)  # (N, K/b, b)
    np.bitwise_and(nibbles, 15, out=codes[..., 0::2])
    np.right_shift(nibbles, 4, out=codes[..., 1::2])
    codes *= multipliers[..., None]
    offsets = INT8_ZERO_POINT - INT4_ZERO_POINT * multipliers.astype(np.int16)  # (N, K/b)
    codes += offsets.astype(np.uint8)[..., None]
    return np.ascontiguousarray(codes.reshape(n, -1).T)  # (K, N)


def column_sums(codes: np.ndarray) -> np.ndarray:
    """uint8 codes (K, N) -> (N,) int32: the sum of each column's signed codes q = codes - 128,
    which the integer product takes off once per row's zero point (export/graph.py)."""
    return (codes.astype(np.int32) - INT8_ZERO_POINT).sum(axis=0, dtype=np.int32)


def column_sums_of_int4(nibbles: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """column_sums of int8_codes_of_int4(nibbles, multipliers), from the nibbles themselves: a
    block's codes share one multiplier, so a column's sum is, over its blocks, the multiplier
    times the block's sum of c (N,) int32 (one pass over half the bytes of the codes)."""
    half = nibbles.shape[-1]
    c_sums = (nibbles & 15).sum(axis=-1, dtype=np.int32)  # (N, K/b): the low nibbles' c + 8
    c_sums += (nibbles >> 4).sum(axis=-1, dtype=np.int32)
    c_sums -= INT4_ZERO_POINT * 2 * half  # the sum of c itself
    return (multipliers.astype(np.int32) * c_sums).sum(axis=1, dtype=np.int32)


def make_wasm_weights(
    section: dict,
    read: Callable[[int, int], bytes],
    write: Callable[[int, np.ndarray], None],
    copy: Callable[[int, int, int], None],
) -> None:
    """Fill the WebAssembly weights (section["wasm"] of the manifest's "weights") from the wire
    file: read(offset, size) gives bytes of the wire file, write(offset, array) puts an array's
    bytes into the new buffer, copy(wire_offset, size, offset) copies bytes across (the page
    copies inside JS, never through Python). Column sums are made from the codes made just
    before them, or read from the wire (the token embedding's)."""
    wire = section["tensors"]

    def wire_array(name: str) -> np.ndarray:
        t = wire[name]
        return np.frombuffer(read(t["offset"], t["bytes"]), t["dtype"]).reshape(t["shape"])

    made = {}  # the last matrix's nibbles and multipliers, until its column sums are made
    for name, entry in section["wasm"]["tensors"].items():
        if "copy" in entry:
            source = wire[entry["copy"]]
            copy(source["offset"], source["bytes"], entry["offset"])
        elif "int4" in entry:
            made = {name: tuple(wire_array(n) for n in entry["int4"])}
            write(entry["offset"], int8_codes_of_int4(*made[name]))
        else:
            source = entry["column_sums"]
            if source in made:
                sums = column_sums_of_int4(*made.pop(source))
            else:
                sums = column_sums(wire_array(source))
            write(entry["offset"], sums)


def wasm_weights_bytes(section: dict, wire: bytes) -> bytes:
    """make_wasm_weights in CPython: the WebAssembly weights as bytes, from the wire file's."""
    out = bytearray(section["wasm"]["bytes"])
    view = memoryview(wire)

    def write(offset: int, array: np.ndarray) -> None:
        out[offset : offset + array.nbytes] = array.tobytes()

    def copy(source: int, size: int, offset: int) -> None:
        out[offset : offset + size] = view[source : source + size]

    make_wasm_weights(section, lambda offset, size: view[offset : offset + size], write, copy)
    return bytes(out)


def external_data(section: dict, backend: str, wire: bytes) -> dict[str, bytes]:
    """The external data the `backend` graph ("wasm" or "webgpu") reads, by its file name, in
    CPython: weights.bin itself, or for the WebAssembly graph of an int4 export the WebAssembly
    weights made from it."""
    if backend == "wasm" and section["wasm"]:
        return {section["wasm"]["file"]: wasm_weights_bytes(section, wire)}
    return {section["file"]: wire}
