"""Build the traced GPT-2 ONNX graphs straight from the weights (no torch): one for WebAssembly,
one for WebGPU, over the same stored weights (export/stored_weights.py).

One graph serves a full pass and a cached generation step: it takes the new tokens' ids and the
key/value cache of earlier tokens (P = 0 for a fresh prompt) and returns every tensor listed in
pyexplainer.core.trace.TRACE_OUTPUTS plus the updated cache. Standard ONNX operators that
onnxruntime-web runs on WebAssembly and WebGPU (Gather, MatMul, Add/Sub/Mul/Div/Pow, Sqrt, Tanh,
ReduceMean, Softmax, TopK, Where, Range, Reshape, Transpose, Split, Concat, ...) and, for the
quantized matrices, the kernels each backend runs fast:
- WebAssembly: MatMulInteger (onnxruntime's SIMD int8 GEMM) on uint8 weight codes and uint8
  activations quantized row by row in the graph (quantize_rows below): each position's row gets
  its own scale and zero point, so a position's numbers never depend on the other positions
  of the pass (a cached step computes what a full pass computes). The integer sum is exact;
  one multiplication by the row's and the column's scales turns it into floats.
- WebGPU: MatMulNBits (com.microsoft) on an int4 matrix's 4-bit codes as they are on the wire,
  and DequantizeLinear + MatMul on 8-bit codes (the int8 scheme, and the tied output layer).
Neither keeps a float32 copy of a weight matrix. Activations stay float32, so every traced value
is an honest float the quantized model computed; biases and layer-norm parameters are float32.

Two extras for the page's experiments: a what-if ablation (inputs head_keep, mlp_keep,
ablate_to_mean replace chosen heads' or MLPs' outputs by zeros or by their mean over the pass's
positions; with everything kept, x * 1 + mean * 0 = x: the plain model's numbers), and the logit
lens (input lens_rows picks residual-stream rows to read through ln_f and the tied output layer,
the same one the last row goes through for the prediction; the outputs lens_probs, lens_ids hold
each row's top LENS_TOP_K tokens). Unused, they cost a few elementwise operations per block and a
softmax and top k over the vocabulary for the last row.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from export.stored_weights import DEFAULT_BLOCK, StoredWeights, embedding_parts, store_weights
from pyexplainer.config import ModelConfig
from pyexplainer.core.trace import (
    ATTRIBUTION_OUTPUTS,
    LENS_TOP_K,
    MODEL_INPUTS,
    MODEL_OUTPUTS,
    TRACE_OUTPUTS,
    dtype_of,
)
from pyexplainer.runtime.ort_cpython import OrtRunner
from pyexplainer.weights_file import INT8_ZERO_POINT, external_data

OPSET = 21
CONTRIB = "com.microsoft"  # MatMulNBits
BACKENDS = ("wasm", "webgpu")
UINT8_LEVELS = 255.0  # an activation row is quantized to 0 .. 255


class GraphBuilder:
    """Accumulates the nodes and initializers of one backend's graph; every method returns the
    name of its output."""

    def __init__(self, stored: StoredWeights, backend: str):
        self.stored = stored
        self.backend = backend
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0
        self._made: set[str] = set()

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, name: str, value) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def stored_tensor(self, name: str) -> str:
        """A stored tensor, as an external initializer the first time it is asked for: its data
        lie in the wire file or in the WebAssembly weights, never in the graph."""
        if name not in self._made:
            self._made.add(name)
            self.initializers.append(self.stored.external(name, self.backend))
        return name

    def matmul(self, x: str, name: str) -> str:
        """x (T, K) @ the stored matrix `name` (K, N) -> (T, N), with the backend's kernel."""
        if self.stored.quantize == "fp32":
            return self.op("MatMul", x, self.stored_tensor(name))
        if self.backend == "wasm":
            return self.integer_matmul(x, name)
        if name + ".nibbles" in self.stored.wire:  # an int4 matrix
            return self.nbits_matmul(x, name)
        codes = self.stored_tensor(name + ".codes")  # (K, N) uint8
        scales = self.stored_tensor(name + ".scales")  # (N,)
        columns = self.stored.wire[name + ".scales"].shape
        zero = self.const(
            self.fresh("zero_points"), np.full(columns, INT8_ZERO_POINT, np.uint8)
        )  # (N,): DequantizeLinear's zero point along axis 1
        weight = self.op("DequantizeLinear", codes, scales, zero, axis=1)  # (K, N) float32
        return self.op("MatMul", x, weight)

    def integer_matmul(self, x: str, name: str) -> str:
        """x (T, K) quantized row by row to uint8 (quantize_rows), times the stored matrix
        `name` in integers (integer_product)."""
        return self.integer_product(*quantize_rows(self, x), name)

    def integer_product(self, xq: str, row_scale: str, row_zero: str, name: str) -> str:
        """Quantized rows xq (T, K) uint8, their scales (T, 1) and int32 zero points (T, 1), times
        the uint8 codes (K, N) with zero point 128, in int32: sum_k (xq - zero_t)(codes - 128) =
        MatMulInteger's sum_k xq (codes - 128) less zero_t times the column's sum of signed
        codes; then * row scale * column scale."""
        codes = self.stored_tensor(name + ".codes")  # (K, N) uint8
        weight_zero = self.const(self.fresh("weight_zero"), np.uint8(INT8_ZERO_POINT))
        sums = self.op("MatMulInteger", xq, codes, "", weight_zero)  # (T, N) int32
        correction = self.op("Mul", row_zero, self.stored_tensor(name + ".column_sums"))
        exact = self.op("Sub", sums, correction)  # (T, N) int32
        floats = self.op("Mul", self.op("Cast", exact, to=TensorProto.FLOAT), row_scale)
        return self.op("Mul", floats, self.stored_tensor(name + ".scales"))  # (T, N)

    def nbits_matmul(self, x: str, name: str) -> str:
        """x (T, K) @ an int4 matrix by MatMulNBits on its wire codes: block scales
        (N * K/b) = multiplier * column scale (constant, folded when the session is made)."""
        n, blocks, half = self.stored.wire[name + ".nibbles"].shape
        multipliers = self.op(
            "Cast", self.stored_tensor(name + ".multipliers"), to=TensorProto.FLOAT
        )  # (N, K/b)
        column = self.op(
            "Unsqueeze", self.stored_tensor(name + ".scales"), self.axes("last", [-1])
        )  # (N, 1)
        block_scales = self.op(
            "Reshape", self.op("Mul", multipliers, column), self.axes("flat", [-1])
        )  # (N * K/b,)
        return self.op(
            "MatMulNBits",
            x,
            self.stored_tensor(name + ".nibbles"),
            block_scales,
            K=blocks * 2 * half,
            N=n,
            bits=4,
            block_size=2 * half,
            domain=CONTRIB,
        )  # (T, N)

    def axes(self, hint: str, values: list[int]) -> str:
        return self.const(self.fresh(hint), np.array(values, dtype=np.int64))

    def embedding(self, name: str, ids: str, out: str) -> str:
        """Rows `ids` of the embedding `name`, stored transposed (D, R) -> out (T, D): a Gather of
        its columns; quantized, of each block's codes, whose float values are (codes - 128) *
        the block's scale of the row."""
        if self.stored.quantize == "fp32":
            columns = self.op("Gather", self.stored_tensor(name + ".weight"), ids, axis=1)
            return self.op("Transpose", columns, out=out)  # (T, D)
        zero = self.const(self.fresh("zero_point"), np.float32(INT8_ZERO_POINT))
        rows = []
        for part in embedding_parts(self.stored, name):
            codes = self.op("Gather", self.stored_tensor(part + ".codes"), ids, axis=1)  # (b, T)
            signed = self.op(
                "Sub", self.op("Cast", self.op("Transpose", codes), to=TensorProto.FLOAT), zero
            )  # (T, b)
            scales = self.op(
                "Unsqueeze",
                self.op("Gather", self.stored_tensor(part + ".scales"), ids, axis=0),
                self.axes("last", [-1]),
            )  # (T, 1)
            rows.append(self.op("Mul", signed, scales))
        return self.op("Concat", *rows, axis=1, out=out)  # (T, D)

    def op(
        self,
        op_type: str,
        *inputs: str,
        out: str | None = None,
        n_out: int = 1,
        outs: list[str] | None = None,
        **attrs,
    ):
        """One node. Its outputs are named `outs`, or `out`, or fresh names (n_out of them);
        returns the one name, or the list of them."""
        if outs is None:
            outs = [out] if out else [self.fresh(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs[0] if len(outs) == 1 else outs


def quantize_rows(g: GraphBuilder, x: str) -> tuple[str, str, str]:
    """x (T, K) float32 -> (xq (T, K) uint8, scale (T, 1) float32, zero (T, 1) int32), each row
    quantized asymmetrically over [min(row, 0), max(row, 0)] as ONNX's DynamicQuantizeLinear
    quantizes a whole tensor: scale = (max - min) / 255, zero = round(-min / scale),
    xq = clip(round(x / scale) + zero, 0, 255), rounding half to even; x ~ (xq - zero) * scale."""
    last = g.axes("last", [-1])
    zero_f = g.const(g.fresh("zero"), np.float32(0))
    top = g.op("Max", g.op("ReduceMax", x, last, keepdims=1), zero_f)  # (T, 1)
    bottom = g.op("Min", g.op("ReduceMin", x, last, keepdims=1), zero_f)  # (T, 1)
    levels = g.const(g.fresh("levels"), np.float32(UINT8_LEVELS))
    tiny = g.const(g.fresh("tiny"), np.float32(np.finfo(np.float32).tiny))  # an all-zero row
    scale = g.op("Max", g.op("Div", g.op("Sub", top, bottom), levels), tiny)  # (T, 1)
    zero = g.op(
        "Clip", g.op("Round", g.op("Neg", g.op("Div", bottom, scale))), zero_f, levels
    )  # (T, 1) float, a whole number in 0 .. 255
    shifted = g.op("Add", g.op("Round", g.op("Div", x, scale)), zero)  # (T, K)
    xq = g.op("Cast", g.op("Clip", shifted, zero_f, levels), to=TensorProto.UINT8)
    return xq, scale, g.op("Cast", zero, to=TensorProto.INT32)


def layer_norm(g: GraphBuilder, x: str, gamma: str, beta: str, eps: float) -> tuple[str, str, str]:
    """x (T, D) -> (normalised output (T, D), mean (T,), std (T,)), std = sqrt(var + eps)."""
    axes = g.const(g.fresh("last_axis"), np.array([-1], dtype=np.int64))
    mean = g.op("ReduceMean", x, axes, keepdims=1)  # (T, 1)
    centred = g.op("Sub", x, mean)
    var = g.op("ReduceMean", g.op("Mul", centred, centred), axes, keepdims=1)
    std = g.op("Sqrt", g.op("Add", var, g.const(g.fresh("eps"), np.float32(eps))))
    out = g.op("Add", g.op("Mul", g.op("Div", centred, std), gamma), beta)
    return out, g.op("Squeeze", mean, axes), g.op("Squeeze", std, axes)


def gelu_tanh(g: GraphBuilder, x: str) -> str:
    """GPT-2's GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    cube = g.op("Pow", x, g.const(g.fresh("three"), np.float32(3.0)))
    inner = g.op("Add", x, g.op("Mul", cube, g.const(g.fresh("c"), np.float32(0.044715))))
    t = g.op("Tanh", g.op("Mul", inner, g.const(g.fresh("c"), np.float32(np.sqrt(2 / np.pi)))))
    one_plus = g.op("Add", t, g.const(g.fresh("one"), np.float32(1.0)))
    return g.op("Mul", g.op("Mul", x, one_plus), g.const(g.fresh("half"), np.float32(0.5)))


def ablated(g: GraphBuilder, x: str, keep: str, axis: int) -> str:
    """x * keep + mean of x over `axis` * (1 - keep) * ablate_to_mean: keep = 1 gives x (x * 1 +
    mean * 0), keep = 0 zeros or the mean over every position of the pass (`axis` is the
    position axis). A head's output is taken before c_proj, whose bias stays; an MLP's after
    it, bias included."""
    fill = g.op("Mul", g.op("Sub", "one_f32", keep), "ablate_to_mean")
    mean = g.op("ReduceMean", x, g.const(g.fresh("axis"), np.array([axis], np.int64)), keepdims=1)
    return g.op("Add", g.op("Mul", x, keep), g.op("Mul", mean, fill))


def split_heads(g: GraphBuilder, x: str, c: ModelConfig) -> str:
    """(T, D) -> (H, T, Dh)"""
    shape = g.const(g.fresh("heads_shape"), np.array([-1, c.n_head, c.head_dim], dtype=np.int64))
    return g.op("Transpose", g.op("Reshape", x, shape), perm=[1, 0, 2])


def block(
    g: GraphBuilder,
    x: str,
    layer: int,
    c: ModelConfig,
    mask: str,
    trace: dict[str, list[str]],
) -> str:
    """One pre-LN GPT-2 block on x (T, D); appends this layer's trace tensors to `trace`."""
    p = f"h.{layer}."
    d = c.n_embd

    def param(name: str) -> str:  # a float32 bias or layer-norm parameter
        return g.stored_tensor(p + name)

    def linear(x: str, name: str) -> str:  # HF Conv1D: x @ W + b, W stored (in, out)
        product = g.matmul(x, p + name + ".weight")
        return g.op("Add", product, param(name + ".bias"))

    eps = c.layer_norm_epsilon
    gain1, bias1 = param("ln_1.weight"), param("ln_1.bias")  # (D,): learned scale, shift
    gain2, bias2 = param("ln_2.weight"), param("ln_2.bias")  # (D,)
    ln1, mean1, std1 = layer_norm(g, x, gain1, bias1, eps)  # (T, D)
    qkv = linear(ln1, "attn.c_attn")  # (T, 3D)
    sizes = g.const(g.fresh("qkv_sizes"), np.array([d, d, d], dtype=np.int64))
    q, k, v = (split_heads(g, t, c) for t in g.op("Split", qkv, sizes, axis=1, n_out=3))
    index = g.const(g.fresh("layer"), np.array(layer, dtype=np.int64))
    k_all = g.op("Concat", g.op("Gather", "past_keys", index, axis=0), k, axis=1)  # (H, S, Dh)
    v_all = g.op("Concat", g.op("Gather", "past_values", index, axis=0), v, axis=1)  # (H, S, Dh)
    scores = g.op("MatMul", q, g.op("Transpose", k_all, perm=[0, 2, 1]))  # (H, T, S)
    scaled = g.op("Mul", scores, g.const(g.fresh("scale"), np.float32(1 / np.sqrt(c.head_dim))))
    lowest = g.const(g.fresh("lowest"), np.float32(np.finfo(np.float32).min))
    probs = g.op("Softmax", g.op("Where", mask, scaled, lowest), axis=-1)  # (H, T, S)
    raw_heads = g.op("MatMul", probs, v_all)  # (H, T, Dh)
    head_keep = g.op(
        "Reshape",
        g.op("Gather", "head_keep", index, axis=0),  # (H,)
        g.const(g.fresh("per_head"), np.array([-1, 1, 1], dtype=np.int64)),
    )  # (H, 1, 1)
    heads = ablated(g, raw_heads, head_keep, axis=1)  # (H, T, Dh): what the merge takes
    merged = g.op(
        "Reshape",
        g.op("Transpose", heads, perm=[1, 0, 2]),  # (T, H, Dh)
        g.const(g.fresh("merged_shape"), np.array([-1, d], dtype=np.int64)),
    )  # (T, D)
    attn = linear(merged, "attn.c_proj")  # (T, D)
    writes = head_writes(g, merged, p + "attn.c_proj.weight", c)  # (H, D)
    mid = g.op("Add", x, attn)  # (T, D)
    ln2, mean2, std2 = layer_norm(g, mid, gain2, bias2, eps)
    pre = linear(ln2, "mlp.c_fc")  # (T, 4D)
    act = gelu_tanh(g, pre)  # (T, 4D)
    mlp = ablated(g, linear(act, "mlp.c_proj"), g.op("Gather", "mlp_keep", index), axis=0)  # (T, D)
    out = g.op("Add", mid, mlp)  # (T, D)
    for name, tensor in [
        ("residual", x),
        ("ln1_mean", mean1),
        ("ln1_std", std1),
        ("ln1_out", ln1),
        ("ln1_gain", gain1),
        ("ln1_bias", bias1),
        ("q", q),
        ("k", k),
        ("v", v),
        ("head_outputs", heads),
        ("attn_out", attn),
        ("residual_mid", mid),
        ("ln2_mean", mean2),
        ("ln2_std", std2),
        ("ln2_out", ln2),
        ("ln2_gain", gain2),
        ("ln2_bias", bias2),
        ("mlp_pre", pre),
        ("mlp_act", act),
        ("mlp_out", mlp),
        ("present_keys", k_all),
        ("present_values", v_all),
        ("head_writes", writes),
        ("attn_bias", param("attn.c_proj.bias")),
    ]:
        trace[name].append(tensor)
    return out


def head_writes(g: GraphBuilder, merged: str, name: str, c: ModelConfig) -> str:
    """What each head writes into the residual stream at the last position: the merged heads'
    last row (1, D) through c_proj (`name`, no bias) once per head, every other head's columns
    zeroed -> (H, D). The heads' rows add up to the last row of merged @ c_proj exactly as the
    model computes it: on WebAssembly the row is quantized as the block quantizes it (row by
    row, so alone it gets the same codes, scale and zero point), each head's codes keep only
    its columns (the others set to the zero point, so they add 0), and the integer sums of
    the heads add up to the block's integer sum."""
    last = g.op("Gather", merged, g.const(g.fresh("last"), np.array([-1], np.int64)), axis=0)
    mine = np.kron(np.eye(c.n_head), np.ones((1, c.head_dim))).astype(bool)  # (H, D)
    if g.backend == "wasm" and g.stored.quantize != "fp32":
        xq, scale, zero = quantize_rows(g, last)  # (1, D) uint8, (1, 1), (1, 1) int32
        zero_code = g.op("Cast", zero, to=TensorProto.UINT8)  # (1, 1)
        codes = g.op("Where", g.const(g.fresh("head_columns"), mine), xq, zero_code)  # (H, D)
        return g.integer_product(codes, scale, zero, name)
    kept = g.op("Mul", last, g.const(g.fresh("head_columns"), mine.astype(np.float32)))  # (H, D)
    return g.matmul(kept, name)


def causal_mask(g: GraphBuilder) -> str:
    """(T, S) bool: query i, at absolute position P + i, may attend to keys 0 .. P + i."""
    past = g.op("Squeeze", g.op("Shape", "past_keys", start=2, end=3))  # P, scalar
    new = g.op("Squeeze", g.op("Shape", "input_ids"))  # T, scalar
    total = g.op("Add", past, new)
    one = g.const("one_i64", np.array(1, dtype=np.int64))
    zero = g.const("zero_i64", np.array(0, dtype=np.int64))
    positions = g.op("Range", past, total, one, out="positions")  # (T,) absolute positions
    rows = g.op("Unsqueeze", positions, g.const("axis_1", np.array([1], dtype=np.int64)))  # (T, 1)
    cols = g.op(
        "Unsqueeze",
        g.op("Range", zero, total, one),
        g.const("axis_0", np.array([0], dtype=np.int64)),
    )  # (1, S)
    return g.op("LessOrEqual", cols, rows, out="causal_mask")


def stack(g: GraphBuilder, tensors: list[str], out: str) -> str:
    """Per-layer tensors -> one tensor with the layer on axis 0."""
    axis0 = g.const(g.fresh("axis0"), np.array([0], dtype=np.int64))
    return g.op("Concat", *[g.op("Unsqueeze", t, axis0) for t in tensors], axis=0, out=out)


def build_model(c: ModelConfig, stored: StoredWeights, backend: str) -> onnx.ModelProto:
    """The `backend` graph ("wasm" or "webgpu") over the `stored` weights: every tensor of the
    model external, in weights.bin or the WebAssembly weights."""
    g = GraphBuilder(stored, backend)
    g.const("one_f32", np.float32(1.0))  # for ablated()
    mask = causal_mask(g)
    tok = g.embedding("wte", "input_ids", "token_embedding")  # (T, D)
    pos = g.embedding("wpe", "positions", "position_embedding")
    x = g.op("Add", tok, pos)
    per_layer = {**TRACE_OUTPUTS, **ATTRIBUTION_OUTPUTS}  # unembed_rows gets no layer's
    trace: dict[str, list[str]] = {name: [] for name in per_layer}
    for layer in range(c.n_layer):
        x = block(g, x, layer, c, mask, trace)
    trace["residual"].append(x)
    gainf = g.stored_tensor("ln_f.weight")  # (D,)
    biasf = g.stored_tensor("ln_f.bias")  # (D,)
    lnf, meanf, stdf = layer_norm(g, x, gainf, biasf, c.layer_norm_epsilon)
    g.op("Identity", lnf, out="lnf_out")
    g.op("Identity", meanf, out="lnf_mean")
    g.op("Identity", stdf, out="lnf_std")
    g.op("Identity", gainf, out="lnf_gain")  # the layer norms' parameters are traced as they
    g.op("Identity", biasf, out="lnf_bias")  # are (float32, never quantized), for the views
    for name, tensors in trace.items():
        if tensors:
            stack(g, tensors, name)
    output_layer(g, c, gainf, biasf)
    g.embedding("wte", "unembed_ids", "unembed_rows")  # (U, D): the output layer's rows
    return make_model_proto(g, c)


def output_layer(g: GraphBuilder, c: ModelConfig, gain: str, bias: str) -> None:
    """The rows lens_rows (N,) of the stacked residual stream, then its last row (the last
    position after the last block) -> ln_f -> the tied output layer: last_logits (V,) from the
    last row; the softmax's top LENS_TOP_K probabilities and token ids of all N + 1 rows:
    lens_probs, lens_ids (N+1, K). A plain pass asks for no rows: one output layer, as any GPT-2
    (and never an empty top k, which onnxruntime-web cannot take)."""
    flat = g.op(
        "Reshape", "residual", g.const("flat_shape", np.array([-1, c.n_embd], dtype=np.int64))
    )  # ((L+1) T, D)
    last_row = g.op("Sub", g.op("Shape", flat, start=0, end=1), "one_i64")  # (1,)
    rows = g.op("Gather", flat, g.op("Concat", "lens_rows", last_row, axis=0), axis=0)  # (N+1, D)
    normed, _, _ = layer_norm(g, rows, gain, bias, c.layer_norm_epsilon)  # (N+1, D)
    logits = tied_output(g, normed)  # (N+1, V)
    last = g.op("Gather", logits, g.const("last_index", np.array([-1], dtype=np.int64)), axis=0)
    g.op(
        "Reshape", last, g.const("vocab_shape", np.array([-1], dtype=np.int64)), out="last_logits"
    )  # (V,)
    # onnxruntime's ReduceLogSumExp is ~25x slower than Softmax on (N, V): softmax, then top k
    probs = g.op("Softmax", logits, axis=-1)  # (N+1, V)
    k = g.const("lens_top_k", np.array([min(LENS_TOP_K, c.vocab_size)], dtype=np.int64))
    g.op("TopK", probs, k, axis=-1, outs=["lens_probs", "lens_ids"])


def tied_output(g: GraphBuilder, normed: str) -> str:
    """normed (N, D) @ wte.T -> logits (N, V): the output layer is the token embedding, tied,
    stored once (export/stored_weights.py) and read here as a matrix; quantized, as one (b, V)
    matrix per block of the width, the logits the sum of each block's product."""
    if g.stored.quantize == "fp32":
        return g.matmul(normed, "wte.weight")
    parts = embedding_parts(g.stored, "wte")
    pieces = [normed]  # (N, b) each
    if len(parts) > 1:
        block = g.stored.wire[parts[0] + ".codes"].shape[0]
        sizes = g.const(g.fresh("blocks"), np.full(len(parts), block, dtype=np.int64))
        pieces = g.op("Split", normed, sizes, axis=1, n_out=len(parts))
    logits = g.matmul(pieces[0], parts[0])
    for piece, part in zip(pieces[1:], parts[1:], strict=True):
        logits = g.op("Add", logits, g.matmul(piece, part))
    return logits  # (N, V)


def symbolic_shape(shape: tuple[str, ...], c: ModelConfig) -> list:
    sizes = {
        "L": c.n_layer,
        "L+1": c.n_layer + 1,
        "H": c.n_head,
        "D": c.n_embd,
        "Dh": c.head_dim,
        "4D": 4 * c.n_embd,
        "V": c.vocab_size,
        "K": min(LENS_TOP_K, c.vocab_size),
    }
    return [sizes.get(dim, dim) for dim in shape]


def make_model_proto(g: GraphBuilder, c: ModelConfig) -> onnx.ModelProto:
    def value_info(name: str, shape: tuple[str, ...]) -> onnx.ValueInfoProto:
        dtype = TensorProto.INT64 if dtype_of(name) == "int64" else TensorProto.FLOAT
        return helper.make_tensor_value_info(name, dtype, symbolic_shape(shape, c))

    inputs = [value_info(name, shape) for name, (shape, _) in MODEL_INPUTS.items()]
    outputs = [value_info(name, shape) for name, (shape, _) in MODEL_OUTPUTS.items()]
    graph = helper.make_graph(g.nodes, "pyexplainer_gpt2", inputs, outputs, g.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    if any(node.domain == CONTRIB for node in g.nodes):
        opsets.append(helper.make_opsetid(CONTRIB, 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="pyexplainer-export")
    model.ir_version = 10  # opset 21: onnxruntime 1.20 and later, onnxruntime-web 1.20 and later
    check_graph(model)
    return model


def check_graph(model: onnx.ModelProto) -> None:
    """onnx's checker on the graph, its external initializers taken as inputs of their type and
    shape (the checker would look for their files on disk, which the page never has)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    external = [t for t in copy.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    for t in external:
        copy.graph.initializer.remove(t)
        copy.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, t.dims))
    onnx.checker.check_model(copy, full_check=False)


@dataclasses.dataclass(frozen=True)
class ExportedGraphs:
    """One export's graphs and weights: the ONNX bytes of each backend's graph (an fp32 export
    has one graph for both), weights.bin and the manifest's "weights" section."""

    graphs: dict[str, bytes]
    wire: bytes
    weights: dict

    def runner(self, backend: str = "wasm"):
        """The `backend` graph in CPython's onnxruntime (its CPU kernels)."""
        return OrtRunner(
            self.graphs[backend], external=external_data(self.weights, backend, self.wire)
        )


def build_graphs(
    c: ModelConfig, weights: dict[str, np.ndarray], quantize: str, block: int = DEFAULT_BLOCK
) -> ExportedGraphs:
    """Store the weights as `quantize` says, then build each backend's graph over them."""
    stored = store_weights(c, weights, quantize, block)
    wasm = build_model(c, stored, "wasm").SerializeToString()
    if quantize == "fp32":  # no quantized kernel to choose: one graph
        webgpu = wasm
    else:
        webgpu = build_model(c, stored, "webgpu").SerializeToString()
    return ExportedGraphs({"wasm": wasm, "webgpu": webgpu}, stored.wire_bytes(), stored.section())
