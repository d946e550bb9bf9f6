"""Permalinks: the page state survives a trip through the URL, and bad links are named."""

from urllib.parse import parse_qs

import pytest

from pyexplainer.views.permalink import PageState, from_query, to_query


def test_a_full_state_round_trips_through_the_query():
    state = PageState(
        prompt="Once upon a time, 你好 & <b>?</b>",
        model="demo",
        stage=("layernorm", 2, "ln2"),
        head=3,
        position=4,
        temperature=0.7,
        top_k=40,
        top_p=0.9,
        seed=7,
        generated=(262, 50256, 11),
        embed=True,
    )
    query = to_query(state)
    assert from_query(query) == state and from_query("?" + query) == state
    fields = parse_qs(query)  # read with the standard library, not the code under test
    assert fields["prompt"] == ["Once upon a time, 你好 & <b>?</b>"]
    assert fields["view"] == ["layernorm,2,ln2"] and fields["gen"] == ["262,50256,11"]
    assert fields["embed"] == ["1"]


def test_defaults_are_left_out_and_come_back():
    query = to_query(PageState(prompt="Hi"))
    assert parse_qs(query) == {"prompt": ["Hi"]}
    assert from_query(query) == PageState(prompt="Hi")


def test_a_link_without_a_prompt_is_no_state_and_bad_numbers_are_named():
    assert from_query("") is None and from_query("?view=mlp,1") is None
    with pytest.raises(ValueError, match="the link's t='hot' is not a valid number"):
        from_query("prompt=x&t=hot")
    with pytest.raises(ValueError, match="gen"):
        from_query("prompt=x&gen=1,a")
