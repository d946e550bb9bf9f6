"""The overview: the whole model as a Sankey-style flow, every node and link with a real magnitude.

Columns, left to right: the tokens; token and position embeddings; their sum (the residual stream
entering block 0); per block: first layer norm, attention (with its heads), the attention add,
second layer norm, MLP, the MLP add; the final layer norm; the logits; the probabilities, and
above them the attribution (which parts wrote the top token's logit).

Each node and link carries a magnitude and the `quantity` it measures:
    count            the number of tokens this step computed (the tokens node)
    mean_norm        mean over those tokens of the L2 norm of the vector a node outputs or a link
                     carries: residual links the stream, attention and MLP branches their outputs
    last_norm        L2 norm of the last position's final layer norm output (what the logits use)
    logit_norm       L2 norm of the last position's logits over the full vocabulary
    top_probability  probability of the most likely next token (softmax of the raw logits)
    top_logit        |logit| of the most likely next token, which the attribution splits into parts

Each node has the stage id the page opens when it is clicked (see the *_stage functions).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.core.sampling import next_token_distribution
from pyexplainer.core.trace import Trace
from pyexplainer.views.stages import StageId

EMBEDDING_STAGE: StageId = ("embedding",)
OUTPUT_STAGE: StageId = ("output",)
ATTRIBUTION_STAGE: StageId = ("attribution",)


def attention_stage(layer: int) -> StageId:
    return ("attention", layer)


def mlp_stage(layer: int) -> StageId:
    return ("mlp", layer)


def residual_stage(layer: int) -> StageId:
    """The residual adds of block `layer` (the residual view, with this block picked out)."""
    return ("residual", layer)


def layernorm_stage(layer: int, which: str) -> StageId:
    """which in LAYER_NORMS; the final layer norm reads residual[L], so its layer is L."""
    return ("layernorm", layer, which)


@dataclasses.dataclass(frozen=True, eq=False)
class OverviewNode:
    id: str  # unique, e.g. "block0.attention"
    column: int
    stage: StageId
    label_key: str  # catalogue key of its name, filled with label_values
    label_values: dict[str, int]
    magnitude: float
    quantity: str
    parts: np.ndarray | None = None  # (H,) attention nodes: each head's mean output norm


@dataclasses.dataclass(frozen=True)
class OverviewLink:
    source: str  # node ids
    target: str
    magnitude: float
    quantity: str
    kind: str  # "embedding" (lookup), "residual" (the stream, skipping a branch) or "branch"


@dataclasses.dataclass(frozen=True, eq=False)
class OverviewView:
    columns: tuple[tuple[str, ...], ...]  # node ids of each column, left to right
    nodes: dict[str, OverviewNode]  # by id, in column order
    links: tuple[OverviewLink, ...]
    legend_key: str  # catalogue key of the legend text


def mean_norm(x: np.ndarray) -> float:
    """(T, D) -> mean over T of the L2 norm of each D-vector; (D,) -> its L2 norm (float64)."""
    return float(np.linalg.norm(np.asarray(x, dtype=np.float64), axis=-1).mean())


def mean_norms(x: np.ndarray) -> np.ndarray:
    """(L, T, D) -> (L,): mean_norm of each layer's (T, D), in one pass over every layer (a
    numpy call costs more in Pyodide than the arithmetic of one layer of GPT-2 small)."""
    return np.linalg.norm(np.asarray(x, dtype=np.float64), axis=-1).mean(axis=-1)


def overview(trace: Trace) -> OverviewView:
    """The flow of one forward pass through the model, from its trace."""
    tok, pos = mean_norm(trace.token_embedding), mean_norm(trace.position_embedding)
    nodes = [
        _node(0, "tokens", "overview.node.tokens", EMBEDDING_STAGE, len(trace.input_ids), "count"),
        _node(1, "token_embedding", "overview.node.token_embedding", EMBEDDING_STAGE, tok),
        _node(1, "position_embedding", "overview.node.position_embedding", EMBEDDING_STAGE, pos),
        _node(
            2, "embedding", "overview.node.embedding", EMBEDDING_STAGE, mean_norm(trace.residual[0])
        ),
    ]
    links = [
        OverviewLink("tokens", "token_embedding", tok, "mean_norm", "embedding"),
        OverviewLink("tokens", "position_embedding", pos, "mean_norm", "embedding"),
        OverviewLink("token_embedding", "embedding", tok, "mean_norm", "embedding"),
        OverviewLink("position_embedding", "embedding", pos, "mean_norm", "embedding"),
    ]
    stream = "embedding"  # the node whose output is the residual stream entering the next block
    n_layer = len(trace.ln1_out)
    norms = {  # (L,) each, and the stream entering each block (L+1,)
        "ln1": mean_norms(trace.ln1_out),
        "attention": mean_norms(trace.attn_out),
        "attention_add": mean_norms(trace.residual_mid),
        "ln2": mean_norms(trace.ln2_out),
        "mlp": mean_norms(trace.mlp_out),
        "stream": mean_norms(trace.residual),
    }
    head_norms = mean_norms(trace.head_outputs.reshape(-1, *trace.head_outputs.shape[2:]))
    head_norms = head_norms.reshape(trace.head_outputs.shape[:2])  # (L, H)
    for layer in range(n_layer):
        layer_norms = {name: float(values[layer]) for name, values in norms.items()}
        layer_norms["mlp_add"] = float(norms["stream"][layer + 1])
        stream = _add_block(nodes, links, layer, stream, layer_norms, head_norms[layer])
    column = nodes[-1].column + 1
    logit_norm = float(np.linalg.norm(trace.last_logits.astype(np.float64)))
    top = float(next_token_distribution(trace.last_logits).max())
    top_logit = abs(float(trace.last_logits.max()))
    nodes += [
        _node(
            column,
            "ln_f",
            "overview.node.ln_f",
            layernorm_stage(n_layer, "lnf"),
            mean_norm(trace.lnf_out),
        ),
        _node(column + 1, "logits", "overview.node.logits", OUTPUT_STAGE, logit_norm, "logit_norm"),
        _node(
            column + 2,
            "probabilities",
            "overview.node.probabilities",
            OUTPUT_STAGE,
            top,
            "top_probability",
        ),
        _node(
            column + 2,
            "attribution",
            "overview.node.attribution",
            ATTRIBUTION_STAGE,
            top_logit,
            "top_logit",
        ),
    ]
    links += [
        OverviewLink(stream, "ln_f", mean_norm(trace.residual[n_layer]), "mean_norm", "residual"),
        OverviewLink("ln_f", "logits", mean_norm(trace.lnf_out[-1]), "last_norm", "branch"),
        OverviewLink("logits", "probabilities", logit_norm, "logit_norm", "branch"),
        OverviewLink("logits", "attribution", top_logit, "top_logit", "branch"),
    ]
    columns = tuple(
        tuple(n.id for n in nodes if n.column == c) for c in range(nodes[-1].column + 1)
    )
    return OverviewView(columns, {n.id: n for n in nodes}, tuple(links), "overview.legend")


def _node(
    column: int,
    node_id: str,
    label: str,
    stage: StageId,
    magnitude: float,
    quantity: str = "mean_norm",
    layer: int | None = None,
    parts: np.ndarray | None = None,
) -> OverviewNode:
    """A node labelled by the message `label` ({layer} filled for a block's nodes)."""
    values = {} if layer is None else {"layer": layer}
    return OverviewNode(node_id, column, stage, label, values, float(magnitude), quantity, parts)


def _add_block(
    nodes: list[OverviewNode],
    links: list[OverviewLink],
    layer: int,
    stream: str,
    norm: dict[str, float],
    head_norms: np.ndarray,
) -> str:
    """Append block `layer`'s six nodes and their links, reading the stream from node `stream`;
    returns the id of its last node, whose output is the stream leaving the block. norm: the
    mean norm each node outputs, by name, and of the stream entering the block ("stream");
    head_norms (H,): each head's mean output norm."""
    column = nodes[-1].column + 1
    p = f"block{layer}."
    outputs = [  # (name, its label, stage)
        ("ln1", "overview.node.ln1", layernorm_stage(layer, "ln1")),
        ("attention", "overview.node.attention", attention_stage(layer)),
        ("attention_add", "overview.node.attention_add", residual_stage(layer)),
        ("ln2", "overview.node.ln2", layernorm_stage(layer, "ln2")),
        ("mlp", "overview.node.mlp", mlp_stage(layer)),
        ("mlp_add", "overview.node.mlp_add", residual_stage(layer)),
    ]
    for offset, (name, label, stage) in enumerate(outputs):
        parts = head_norms if name == "attention" else None
        node = _node(column + offset, p + name, label, stage, norm[name], layer=layer, parts=parts)
        nodes.append(node)
    entering = norm["stream"]
    ln1, attention, attention_add, ln2, mlp, mlp_add = (p + name for name, _, _ in outputs)
    for source, target, magnitude, kind in [
        (stream, ln1, entering, "branch"),
        (ln1, attention, norm["ln1"], "branch"),
        (attention, attention_add, norm["attention"], "branch"),
        (stream, attention_add, entering, "residual"),
        (attention_add, ln2, norm["attention_add"], "branch"),
        (ln2, mlp, norm["ln2"], "branch"),
        (mlp, mlp_add, norm["mlp"], "branch"),
        (attention_add, mlp_add, norm["attention_add"], "residual"),
    ]:
        links.append(OverviewLink(source, target, magnitude, "mean_norm", kind))
    return mlp_add
