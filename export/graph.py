"""Build the traced GPT-2 ONNX graph straight from the weights (no torch).

One graph serves a full pass and a cached generation step: it takes the new tokens' ids and the
key/value cache of earlier tokens (P = 0 for a fresh prompt) and returns every tensor listed in
pyexplainer.core.trace.TRACE_OUTPUTS plus the updated cache. Standard ONNX operators that
onnxruntime-web runs on WebAssembly and WebGPU: Gather, MatMul, Gemm, Add/Sub/Mul/Div/Pow, Sqrt,
Tanh, ReduceMean, Softmax, TopK, Where, LessOrEqual, Range, Shape, Reshape, Transpose, Split,
Concat, Unsqueeze, Squeeze; for quantized weights DequantizeLinear (opset 21, blocked) and one
contrib operator of onnxruntime (CPU, WebAssembly and WebGPU kernels), GatherBlockQuantized.

Two extras for the page's experiments: a what-if ablation (inputs head_keep, mlp_keep,
ablate_to_mean replace chosen heads' or MLPs' outputs by zeros or by their mean over the pass's
positions; with everything kept, x * 1 + mean * 0 = x: the plain model's numbers), and the logit
lens (input lens_rows picks residual-stream rows to read through ln_f and the tied output layer,
the same one the last row goes through for the prediction; the outputs lens_probs, lens_ids hold
each row's top LENS_TOP_K tokens). Unused, they cost a few elementwise operations per block and a
softmax and top k over the vocabulary for the last row.

Quantized weights are stored quantized (export/quantize.py has the layout):
- int4: the attention and MLP matrices (c_attn, c_proj, c_fc) 4-bit in blocks of `block` values
  along the reduction axis, one float32 scale per block: DequantizeLinear -> MatMul; the token
  and position embeddings 8-bit, read by GatherBlockQuantized. The token embedding is stored
  once: the input gather and the tied output layer (DequantizeLinear -> Gemm with transB) read
  the same codes.
- int8: the same with every matrix 8-bit.
Whether they stay quantized while the model runs is the runtime's choice, made when the session
is created (pyexplainer/runtime/weights.py): as it is, each DequantizeLinear turns one matrix's
codes into floats for the one product that needs them (no float copy of the model is kept);
with onnxruntime's session option session.disable_quant_qdq, constant folding turns every
DequantizeLinear into its float32 matrix once at load (the speed of float weights, their memory).
Both compute the same numbers. Activations stay float32, so every traced value is an honest
float the quantized model computed. Biases and layer-norm parameters stay float32.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from export.quantize import (
    EMBEDDING_ZERO_POINT,
    QuantizationError,
    embedding_block,
    pack_int4,
    quantize_embedding,
    quantize_matmul_weight,
)
from pyexplainer.config import ModelConfig
from pyexplainer.core.trace import LENS_TOP_K, MODEL_INPUTS, MODEL_OUTPUTS, TRACE_OUTPUTS, dtype_of

OPSET = 21  # DequantizeLinear's block_size and int4
CONTRIB = "com.microsoft"  # GatherBlockQuantized
# weight storage -> bits of the attention/MLP matrices and of the embeddings (None: float32)
QUANTIZATIONS = {"int4": (4, 8), "int8": (8, 8), "fp32": (None, None)}
DEFAULT_BLOCK = 32  # values per scale in the attention and MLP matrices


class GraphBuilder:
    """Accumulates nodes and initializers; every method returns the name of its output."""

    def __init__(self, quantize: str, block: int = DEFAULT_BLOCK):
        if quantize not in QUANTIZATIONS:
            raise QuantizationError(
                f"quantize must be one of {', '.join(QUANTIZATIONS)}, not {quantize!r}"
            )
        self.quantize = quantize
        self.matrix_bits, self.embedding_bits = QUANTIZATIONS[quantize]
        self.block = block
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0
        self._block_scales: dict[str, str] = {}  # embedding -> its scales' Unsqueeze, made once

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, name: str, value) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def matmul(self, x: str, name: str, w: np.ndarray) -> str:
        """x (T, K) @ w (K, N): a float32 MatMul, or a MatMul on DequantizeLinear of w's codes,
        quantized in blocks along K."""
        if self.matrix_bits is None:
            return self.op("MatMul", x, self.const(name, w.astype(np.float32)))
        codes, scales = quantize_matmul_weight(w, self.matrix_bits, self.block, name)
        if self.matrix_bits == 4:  # (K, N) int4, two to a byte
            packed = pack_int4(codes)
            self.initializers.append(
                helper.make_tensor(name + ".codes", TensorProto.INT4, codes.shape, packed, True)
            )
        else:
            self.const(name + ".codes", codes)  # (K, N) int8
        self.const(name + ".scales", scales)  # (K / block, N)
        weight = self.op(
            "DequantizeLinear", name + ".codes", name + ".scales", axis=0, block_size=self.block
        )  # (K, N) float32: q * the scale of its block
        return self.op("MatMul", x, weight)

    def embedding(self, name: str, w: np.ndarray, ids: str, out: str) -> str:
        """Rows `ids` of the embedding w (V, D) -> out (T, D): a float32 Gather of the
        initializer `name`, or GatherBlockQuantized of name.codes (V, D / block, block) and
        name.scales (V, D / block), w quantized along D in blocks of embedding_block(D)."""
        if self.embedding_bits is None:
            return self.op("Gather", self.const(name, w.astype(np.float32)), ids, axis=0, out=out)
        block = embedding_block(w.shape[1])
        codes, scales = quantize_embedding(w, block, name)
        self.const(name + ".codes", codes)  # (V, D / block, block) uint8
        self.const(name + ".scales", scales)  # (V, D / block)
        rows = self.op(
            "GatherBlockQuantized",
            name + ".codes",
            ids,
            self.block_scales(name),
            bits=self.embedding_bits,
            block_size=block,
            gather_axis=0,
            quantize_axis=2,
            domain=CONTRIB,
        )  # (T, D / block, block)
        return self.op("Reshape", rows, self.width(w.shape[1]), out=out)

    def block_scales(self, name: str) -> str:
        """An embedding's scales (V, D / block) -> (V, D / block, 1): one per block of its
        codes (V, D / block, block), the shape GatherBlockQuantized and DequantizeLinear ask."""
        if name not in self._block_scales:
            last = self.const(self.fresh("last"), np.array([-1], np.int64))
            self._block_scales[name] = self.op("Unsqueeze", name + ".scales", last)
        return self._block_scales[name]

    def width(self, d: int) -> str:
        return self.const(self.fresh("width"), np.array([-1, d], dtype=np.int64))

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
    w: dict[str, np.ndarray],
    mask: str,
    trace: dict[str, list[str]],
) -> str:
    """One pre-LN GPT-2 block on x (T, D); appends this layer's trace tensors to `trace`."""
    p = f"h.{layer}."
    d = c.n_embd

    def param(name: str) -> str:  # a float32 bias or layer-norm parameter
        return g.const(p + name, w[p + name])

    def linear(x: str, name: str) -> str:  # HF Conv1D: x @ W + b, W stored (in, out)
        product = g.matmul(x, p + name + ".weight", w[p + name + ".weight"])
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
    ]:
        trace[name].append(tensor)
    return out


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


def build_model(
    c: ModelConfig,
    weights: dict[str, np.ndarray],
    quantize: str = "int4",
    block_size: int = DEFAULT_BLOCK,
) -> onnx.ModelProto:
    g = GraphBuilder(quantize, block_size)
    g.const("one_f32", np.float32(1.0))  # for ablated()
    mask = causal_mask(g)
    tok = g.embedding("wte", weights["wte.weight"], "input_ids", "token_embedding")  # (T, D)
    pos = g.embedding("wpe", weights["wpe.weight"], "positions", "position_embedding")
    x = g.op("Add", tok, pos)
    trace: dict[str, list[str]] = {name: [] for name in TRACE_OUTPUTS}
    for layer in range(c.n_layer):
        x = block(g, x, layer, c, weights, mask, trace)
    trace["residual"].append(x)
    gainf = g.const("ln_f.weight", weights["ln_f.weight"])  # (D,)
    biasf = g.const("ln_f.bias", weights["ln_f.bias"])  # (D,)
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
    logits = tied_output(g, c, normed)  # (N+1, V)
    last = g.op("Gather", logits, g.const("last_index", np.array([-1], dtype=np.int64)), axis=0)
    g.op(
        "Reshape", last, g.const("vocab_shape", np.array([-1], dtype=np.int64)), out="last_logits"
    )  # (V,)
    # onnxruntime's ReduceLogSumExp is ~25x slower than Softmax on (N, V): softmax, then top k
    probs = g.op("Softmax", logits, axis=-1)  # (N+1, V)
    k = g.const("lens_top_k", np.array([min(LENS_TOP_K, c.vocab_size)], dtype=np.int64))
    g.op("TopK", probs, k, axis=-1, outs=["lens_probs", "lens_ids"])


def tied_output(g: GraphBuilder, c: ModelConfig, normed: str) -> str:
    """normed (N, D) @ wte.T -> logits (N, V): the output layer is the token embedding, tied; its
    initializers (g.embedding's "wte", or "wte.codes" and "wte.scales") are read once more."""
    if g.embedding_bits is None:
        return g.op("Gemm", normed, "wte", transB=1)
    v, d = c.vocab_size, c.n_embd
    zero_point = g.const(
        "wte.zero_point", np.full((v, d // embedding_block(d), 1), EMBEDDING_ZERO_POINT, np.uint8)
    )  # (V, D / block, 1): DequantizeLinear has no default zero point of 128
    rows = g.op(
        "DequantizeLinear",
        "wte.codes",
        g.block_scales("wte"),
        zero_point,
        axis=2,
        block_size=embedding_block(d),
    )  # (V, D / block, block) float32
    return g.op("Gemm", normed, g.op("Reshape", rows, g.width(d)), transB=1)


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
    if g.quantize != "fp32":
        opsets.append(helper.make_opsetid(CONTRIB, 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="pyexplainer-export")
    model.ir_version = 10  # opset 21: onnxruntime 1.20 and later, onnxruntime-web 1.20 and later
    onnx.checker.check_model(model, full_check=False)
    return model
