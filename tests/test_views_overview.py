"""The overview flow: its columns, its magnitudes against the loop reference's norms, its links,
and a stage id on every node that opens a view."""

import numpy as np
import pytest

from pyexplainer.messages import text
from pyexplainer.views.attention import attention_grid, attention_row
from pyexplainer.views.embedding import embedding_view
from pyexplainer.views.layernorm import layer_norm_view
from pyexplainer.views.mlp import mlp_view
from pyexplainer.views.overview import overview
from pyexplainer.views.predictions import SamplingSettings, output_view
from pyexplainer.views.residual import residual_view
from pyexplainer.views.stages import check_stage
from tests.conftest import TINY
from tests.view_case import CACHED, view_case

L = TINY["n_layer"]


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def mean_norm(x):
    """Mean over tokens of each vector's length, written out."""
    return float(np.mean([np.sqrt(np.sum(np.square(row))) for row in x]))


def test_columns_run_from_tokens_through_every_block_to_the_probabilities(case):
    view = overview(case.trace)
    block = ("ln1", "attention", "attention_add", "ln2", "mlp", "mlp_add")
    expected = [("tokens",), ("token_embedding", "position_embedding"), ("embedding",)]
    expected += [(f"block{layer}.{name}",) for layer in range(L) for name in block]
    expected += [("ln_f",), ("logits",), ("probabilities", "attribution")]
    assert list(view.columns) == expected
    assert list(view.nodes) == [node for column in expected for node in column]
    assert all(view.nodes[n].column == c for c, col in enumerate(view.columns) for n in col)


def test_node_magnitudes_are_the_norms_of_what_each_step_outputs(case):
    ref, view = case.reference, overview(case.trace)
    expected = {
        "tokens": len(case.ids),
        "token_embedding": mean_norm(ref["token_embedding"]),
        "position_embedding": mean_norm(ref["position_embedding"]),
        "embedding": mean_norm(ref["residual"][0]),
        "ln_f": mean_norm(ref["lnf_out"]),
        "logits": float(np.sqrt(np.sum(np.square(ref["logits"][-1])))),
        "probabilities": float(np.max(softmax(ref["logits"][-1]))),
    }
    for layer in range(L):
        for name, tensor in [
            ("ln1", ref["ln1_out"][layer]),
            ("attention", ref["attn_out"][layer]),
            ("attention_add", ref["residual_mid"][layer]),
            ("ln2", ref["ln2_out"][layer]),
            ("mlp", ref["mlp_out"][layer]),
            ("mlp_add", ref["residual"][layer + 1]),
        ]:
            expected[f"block{layer}.{name}"] = mean_norm(tensor)
    assert {n: view.nodes[n].magnitude for n in expected} == pytest.approx(expected, rel=1e-4)
    assert view.nodes["tokens"].quantity == "count"
    assert view.nodes["logits"].quantity == "logit_norm"
    assert view.nodes["probabilities"].quantity == "top_probability"
    assert view.nodes["attribution"].quantity == "top_logit"
    assert view.nodes["attribution"].magnitude == pytest.approx(abs(ref["logits"][-1].max()), 1e-4)
    assert {n.quantity for n in list(view.nodes.values())[1:-4]} == {"mean_norm"}


def test_attention_nodes_carry_each_heads_output_norm(case):
    view = overview(case.trace)
    for layer in range(L):
        heads = case.reference["head_outputs"][layer]  # (H, T, Dh)
        expected = [mean_norm(head) for head in heads]
        np.testing.assert_allclose(view.nodes[f"block{layer}.attention"].parts, expected, rtol=1e-4)
    assert all(n.parts is None for n in view.nodes.values() if not n.id.endswith(".attention"))


def test_residual_links_carry_the_stream_and_branches_their_outputs(case):
    ref, view = case.reference, overview(case.trace)
    links = {(link.source, link.target): link for link in view.links}
    stream_in = "embedding"
    for layer in range(L):
        p = f"block{layer}."
        skip = links[(stream_in, p + "attention_add")]
        assert skip.kind == "residual"
        assert skip.magnitude == pytest.approx(mean_norm(ref["residual"][layer]), rel=1e-4)
        branch = links[(p + "attention", p + "attention_add")]
        assert branch.kind == "branch"
        assert branch.magnitude == pytest.approx(mean_norm(ref["attn_out"][layer]), rel=1e-4)
        skip = links[(p + "attention_add", p + "mlp_add")]
        assert skip.kind == "residual"
        assert skip.magnitude == pytest.approx(mean_norm(ref["residual_mid"][layer]), rel=1e-4)
        branch = links[(p + "mlp", p + "mlp_add")]
        assert branch.magnitude == pytest.approx(mean_norm(ref["mlp_out"][layer]), rel=1e-4)
        stream_in = p + "mlp_add"
    final = links[(stream_in, "ln_f")]
    assert final.magnitude == pytest.approx(mean_norm(ref["residual"][L]), rel=1e-4)
    last = links[("ln_f", "logits")]
    assert last.quantity == "last_norm"
    assert last.magnitude == pytest.approx(mean_norm(ref["lnf_out"][-1:]), rel=1e-4)


def test_every_link_runs_forward_and_every_node_is_connected(case):
    view = overview(case.trace)
    for link in view.links:
        assert view.nodes[link.source].column < view.nodes[link.target].column
        assert link.kind in ("embedding", "residual", "branch")
    sources = {link.source for link in view.links}
    targets = {link.target for link in view.links}
    assert set(view.nodes) - sources == {"probabilities", "attribution"}
    assert set(view.nodes) - targets == {"tokens"}


def test_labels_and_legend_are_in_the_catalogue_and_quantities_are_the_documented_ones(case):
    view = overview(case.trace)
    documented = {"count", "mean_norm", "last_norm", "logit_norm", "top_probability", "top_logit"}
    for node in view.nodes.values():
        label = text(node.label_key, **node.label_values)
        assert label and "{" not in label
        assert node.quantity in documented
    assert {link.quantity for link in view.links} <= documented
    assert text(view.legend_key)
    assert text(view.nodes["block1.mlp"].label_key, **view.nodes["block1.mlp"].label_values) == (
        "MLP, block 1"
    )


def open_stage(case, stage: tuple):
    """What the page does on a click: the view of that stage, for the last token."""
    trace, tokens, last = case.trace, case.tokens, len(case.ids) - 1
    kind, *where = stage
    if kind == "embedding":
        return embedding_view(trace, tokens)
    if kind == "attention":
        return attention_grid(trace, tokens, *where), attention_row(trace, tokens, *where, 0, last)
    if kind == "mlp":
        return mlp_view(trace, tokens, *where, last)
    if kind == "layernorm":
        layer, which = where
        return layer_norm_view(trace, case.config, tokens, which, layer, last)
    if kind == "residual":
        assert 0 <= where[0] < L
        return residual_view(trace, tokens)
    if kind == "attribution":  # a pass of its own (tests/test_attribution.py): a stage it is
        return check_stage(stage, L)
    assert stage == ("output",)
    return output_view(trace, case.tokenizer, SamplingSettings())


def test_every_node_opens_a_view(case):
    stages = {node.stage for node in overview(case.trace).nodes.values()}
    assert ("layernorm", L, "lnf") in stages and ("attention", 1) in stages
    for stage in stages:
        assert open_stage(case, stage) is not None


def test_a_cached_step_has_the_same_flow_over_its_new_tokens(case):
    step = overview(case.chunked)
    assert step.columns == overview(case.trace).columns
    assert step.nodes["tokens"].magnitude == len(case.chunked.input_ids)
    expected = mean_norm(case.reference["residual"][L, CACHED:])
    assert step.nodes["block1.mlp_add"].magnitude == pytest.approx(expected, rel=1e-4)
