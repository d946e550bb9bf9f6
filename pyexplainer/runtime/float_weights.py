"""The quantized graph with its weights turned into float32 once, for onnxruntime in CPython.

The page runs the exported graph as it is: MatMulNBits and GatherBlockQuantized read the 4- and
8-bit codes, and no float32 copy of a weight exists (memory is what a student's device lacks).
CPython (tests, CLI, the export's checks, the benchmark) has memory to spare but not time:
onnxruntime's CPU MatMulNBits dequantizes the whole matrix on every call at 8 bits (GPT-2 small's
tied output layer: ~0.5 s a step, against 50 ms as a float MatMul). So here each MatMulNBits
becomes a MatMul and each GatherBlockQuantized a Gather, on the weights the codes stand for,
(code - zero point) * scale: the same numbers, in the order a float MatMul sums them.
"""

from __future__ import annotations

import numpy as np


def dequantized_rows(codes: np.ndarray, scales: np.ndarray, bits: int) -> np.ndarray:
    """codes (R, C / block, block * bits / 8) uint8, scales (R, C / block) -> float32 (R, C)."""
    if bits == 4:
        low, high = codes & 0x0F, codes >> 4
        codes = np.stack([low, high], axis=-1).reshape(*codes.shape[:-1], -1)  # (R, C/b, b)
    values = (codes.astype(np.float32) - 2 ** (bits - 1)) * scales.reshape(*scales.shape[:2], 1)
    return values.reshape(codes.shape[0], -1)


def with_float_weights(model_bytes: bytes) -> bytes:
    """The serialized model, its MatMulNBits / GatherBlockQuantized nodes replaced by float
    MatMul / Gather on dequantized float32 initializers; unchanged if it has none."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    contrib = {"MatMulNBits", "GatherBlockQuantized"}
    if not any(node.op_type in contrib for node in graph.node):
        return model_bytes
    inits = {t.name: t for t in graph.initializer}
    # GatherBlockQuantized reads its scales through an Unsqueeze: its output -> the scales
    gathered = {n.input[2] for n in graph.node if n.op_type == "GatherBlockQuantized"}
    scales_of = {
        n.output[0]: n.input[0]
        for n in graph.node
        if n.op_type == "Unsqueeze" and n.output[0] in gathered
    }
    made: dict[str, str] = {}  # codes name -> float initializer name

    def float_weight(codes_name: str, scales_name: str, bits: int, transpose: bool) -> str:
        key = codes_name + (".T" if transpose else "")
        if key not in made:
            rows = dequantized_rows(
                numpy_helper.to_array(inits[codes_name]),
                numpy_helper.to_array(inits[scales_name]),
                bits,
            )  # (R, C)
            w = np.ascontiguousarray(rows.T if transpose else rows)
            made[key] = key + ".float"
            graph.initializer.append(numpy_helper.from_array(w, made[key]))
        return made[key]

    nodes = []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "MatMulNBits":  # x (T, K) @ B.T, B (N, K): rows of B quantized
            w = float_weight(node.input[1], node.input[2], attrs["bits"], transpose=True)
            nodes.append(helper.make_node("MatMul", [node.input[0], w], list(node.output)))
        elif node.op_type == "GatherBlockQuantized":  # rows of the (V, D) table: (T, D), which
            # the Reshape after it takes as it takes GatherBlockQuantized's (T, D / b, b)
            table = float_weight(
                node.input[0], scales_of[node.input[2]], attrs["bits"], transpose=False
            )
            nodes.append(helper.make_node("Gather", [table, node.input[1]], list(node.output)))
        elif node.output[0] not in scales_of:  # (the scales' Unsqueeze is read no more)
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model.SerializeToString()
