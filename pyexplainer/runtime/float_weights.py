"""The quantized graph with its 8-bit matrices turned into float32 once, for onnxruntime in
CPython.

The page runs the exported graph as it is: MatMulNBits and GatherBlockQuantized read the 4- and
8-bit codes, and no float32 copy of a weight exists (memory is what a student's device lacks).
CPython (tests, CLI, the export's checks, the benchmark) runs the same kernels, except one:
onnxruntime's CPU MatMulNBits at 8 bits dequantizes the whole matrix on every call (GPT-2 small's
tied output layer: ~0.5 s a step, against 50 ms as a float MatMul; at 4 bits it is as fast as a
float MatMul). So here each 8-bit MatMulNBits becomes a MatMul on the weight its codes stand
for, (code - 128) * scale: the same numbers, summed in a float MatMul's order.
"""

from __future__ import annotations

import numpy as np

# What each runtime runs, for the manifest (export/export.py writes it there)
RUNTIMES = {
    "browser": "MatMulNBits and GatherBlockQuantized compute from the quantized codes: no "
    "float32 copy of a weight matrix is made",
    "cpython": "the same kernels, but each 8-bit MatMulNBits as a float32 MatMul on its weight "
    "dequantized once at load (pyexplainer/runtime/float_weights.py)",
}


def dequantized_rows(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """8-bit codes (R, C / block, block) uint8, scales (R, C / block) -> float32 (R, C)."""
    values = (codes.astype(np.float32) - 128) * scales[..., None]  # (R, C/b, b)
    return values.reshape(codes.shape[0], -1)


def with_float_8bit_matmuls(model_bytes: bytes) -> bytes:
    """The serialized model, its 8-bit MatMulNBits nodes replaced by float MatMuls on float32
    initializers; unchanged if it has none."""
    import onnx
    from onnx import helper, numpy_helper

    def bits(node) -> int:
        return next(helper.get_attribute_value(a) for a in node.attribute if a.name == "bits")

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    targets = [n for n in graph.node if n.op_type == "MatMulNBits" and bits(n) == 8]
    if not targets:
        return model_bytes
    inits = {t.name: t for t in graph.initializer}
    for node in targets:  # x (T, K) @ B.T, B (N, K): the rows of B are quantized along K
        codes, scales = (numpy_helper.to_array(inits[name]) for name in node.input[1:3])
        weight = node.input[1] + ".float"  # (K, N)
        rows = dequantized_rows(codes, scales)  # (N, K)
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(rows.T), weight))
        replacement = helper.make_node("MatMul", [node.input[0], weight], list(node.output))
        node.CopyFrom(replacement)
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model.SerializeToString()
