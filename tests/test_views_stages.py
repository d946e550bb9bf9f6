"""Stage ids as links write them, checked against the model's shape: every stage the page can
open parses, and every malformed or out-of-range one is refused, naming it."""

import pytest

from pyexplainer.config import ModelConfig
from pyexplainer.views.overview import overview
from pyexplainer.views.permalink import PageState, from_query, state_for_model
from pyexplainer.views.stages import (
    StageError,
    check_head,
    check_stage,
    parse_stage,
    stage_from_text,
    stage_text,
)
from tests.conftest import TINY

L, H = 3, 4  # a model of 3 blocks with 4 heads each
CONFIG = ModelConfig(**{**TINY, "n_layer": L, "n_head": H})


def every_stage(n_layer: int) -> list[tuple]:
    """Written out from the rules, not from the code under test."""
    whole = [("embedding",), ("output",), ("heads",), ("lens",), ("whatif",), ("attribution",)]
    blocks = [(kind, b) for kind in ("attention", "mlp", "residual") for b in range(n_layer)]
    norms = [("layernorm", b, which) for b in range(n_layer) for which in ("ln1", "ln2")]
    return whole + blocks + norms + [("layernorm", n_layer, "lnf")]


@pytest.mark.parametrize("stage", every_stage(L), ids=stage_text)
def test_every_stage_of_the_model_parses_back_from_its_text(stage):
    assert parse_stage(stage_text(stage), L) == stage


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("layernorm,x,ln1", "blocks are 0 to 2"),  # was a TypeError in the page
        ("layernorm,0,lnf", "the final layer norm is layernorm,3,lnf"),  # was an error in the view
        ("layernorm,2,lnf", "layernorm,3,lnf"),
        ("layernorm,3,ln1", "blocks are 0 to 2"),
        ("layernorm,3,ln2", "blocks are 0 to 2"),
        ("layernorm,-1,ln1", "blocks are 0 to 2"),
        ("layernorm,0,ln3", "no layer norm 'ln3'"),
        ("layernorm,0", "a block number and ln1, ln2 or lnf"),
        ("layernorm", "a block number and ln1, ln2 or lnf"),
        ("layernorm,0,ln1,1", "a block number and ln1, ln2 or lnf"),
        ("attention,3", "blocks are 0 to 2"),
        ("mlp,-1", "blocks are 0 to 2"),
        ("residual,1.5", "blocks are 0 to 2"),
        ("attention,²", "blocks are 0 to 2"),  # a digit to str.isdigit, not to int()
        ("attention, 1", "blocks are 0 to 2"),
        ("attention", "one block number"),
        ("mlp,1,2", "one block number"),
        ("embedding,0", "whole model, with no block"),
        ("output,", "whole model, with no block"),
        ("Attention,0", "no view 'Attention'"),
        ("tokens", "no view 'tokens'"),
        ("", "no view ''"),
        (",", "no view ''"),
        ("0", "no view 0"),
    ],
)
def test_a_stage_the_model_does_not_have_is_named(raw, reason):
    with pytest.raises(StageError, match=reason) as caught:
        parse_stage(raw, L)
    assert caught.value.part == f"view={raw}"


def test_stage_texts_make_integers_of_ascii_digits_only():
    assert stage_from_text("layernorm,12,ln1") == ("layernorm", 12, "ln1")
    assert stage_from_text("attention,-1") == ("attention", -1)
    assert stage_from_text("attention,١") == ("attention", "١")


def test_what_code_builds_is_checked_too():
    assert check_stage(("attention", 0), L) == ("attention", 0)
    for bad in [(), ("attention", True), ("attention", "0"), ("layernorm", 3.0, "lnf")]:
        with pytest.raises(StageError):
            check_stage(bad, L)


@pytest.fixture(scope="module")
def tiny_trace(tiny_fp32):
    from pyexplainer.core.generation import forward
    from pyexplainer.model_dir import open_model_dir

    model = open_model_dir(tiny_fp32)
    return forward(model.run, model.manifest.config, [464, 3290, 318])


def test_every_overview_node_opens_a_stage_of_its_model(tiny_trace):
    n_layer = TINY["n_layer"]
    stages = {node.stage for node in overview(tiny_trace).nodes.values()}
    assert stages == set(every_stage(n_layer)) - {("heads",), ("lens",), ("whatif",)}


@pytest.mark.parametrize("head, ok", [(0, True), (H - 1, True), (H, False), (-1, False)])
def test_heads_within_the_model(head, ok):
    if ok:
        assert check_head(head, H) == head
    else:
        with pytest.raises(StageError, match="heads are 0 to 3") as caught:
            check_head(head, H)
        assert caught.value.part == f"head={head}"


@pytest.mark.parametrize(
    "query, part",
    [
        ("prompt=Hi&view=layernorm,x,ln1", "view=layernorm,x,ln1"),
        ("prompt=Hi&view=layernorm,0,lnf&head=2", "view=layernorm,0,lnf"),
        ("prompt=Hi&view=mlp,1&head=4", "head=4"),
    ],
)
def test_a_link_to_a_view_the_model_lacks_opens_the_default_view_and_names_it(query, part):
    state = from_query(query)
    checked, error = state_for_model(state, CONFIG)
    assert error.part == part
    assert checked == PageState(prompt="Hi")


def test_a_link_the_model_has_is_kept_whole():
    state = from_query("prompt=Hi&view=layernorm,3,lnf&head=3&token=1")
    assert state_for_model(state, CONFIG) == (state, None)
