"""Permalinks: the page state survives a trip through the URL, links that chat apps and editors
mangle are repaired or their bad parameters named, and the rest of the link is kept."""

import math
from urllib.parse import parse_qs, quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pyexplainer.config import ModelConfig
from pyexplainer.views.permalink import (
    LINK_PARAMETERS,
    LinkError,
    LinkProblem,
    PageState,
    from_query,
    generated_for_model,
    query_locale,
    query_model,
    read_link,
    to_query,
)

CONFIG = ModelConfig(n_layer=4, n_head=4, n_embd=32, n_positions=64, vocab_size=100)


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
        locale="zh-CN",
    )
    query = to_query(state)
    assert from_query(query) == state and from_query("?" + query) == state
    fields = parse_qs(query)  # read with the standard library, not the code under test
    assert fields["prompt"] == ["Once upon a time, 你好 & <b>?</b>"]
    assert fields["view"] == ["layernorm,2,ln2"] and fields["gen"] == ["262,50256,11"]
    assert fields["embed"] == ["1"] and fields["lang"] == ["zh-CN"]


def test_defaults_are_left_out_and_come_back():
    query = to_query(PageState(prompt="Hi"))
    assert parse_qs(query) == {"prompt": ["Hi"]}
    assert from_query(query) == PageState(prompt="Hi")


def test_a_link_without_a_prompt_is_no_state_and_bad_numbers_are_named():
    assert from_query("") is None and from_query("?view=mlp,1") is None
    with pytest.raises(ValueError, match=r"This link gives t='hot', which the page cannot use"):
        from_query("prompt=x&t=hot")
    with pytest.raises(LinkError, match="gen") as caught:
        from_query("prompt=x&gen=1,a")
    assert caught.value.problem == LinkProblem("gen", "1,a")


def test_a_link_names_the_interface_language_as_a_browser_would_and_a_foreign_one_is_named():
    assert read_link("prompt=x&lang=zh-CN") == (PageState(prompt="x", locale="zh-CN"), ())
    for tag, locale in [("zh", "zh-CN"), ("ZH-tw", "zh-CN"), ("en-GB", "en"), ("en", "en")]:
        assert query_locale(f"lang={tag}") == locale and from_query(f"prompt=x&lang={tag}") == (
            PageState(prompt="x", locale=locale)
        )
    assert query_locale("model=demo") == "" and query_locale("lang=fr") == ""
    state, problems = read_link("prompt=x&lang=fr&t=0.5")  # the rest of the link is kept
    assert state == PageState(prompt="x", temperature=0.5) and problems == (
        LinkProblem("lang", "fr"),
    )
    assert "lang='fr'" in problems[0].message() and "zh-CN" in problems[0].message()


# ------------------------------------------------------------------ any query string

QUERY_CHARACTERS = st.sampled_from(list("&=%?.,;:!)+#;25aAbBcCdDeEfF0189 -\ufffd") + ["&amp;"])
PIECES = st.one_of(
    st.text(),  # anything at all
    st.lists(QUERY_CHARACTERS).map("".join),  # the characters links are made of
    st.lists(
        st.tuples(
            st.sampled_from([*LINK_PARAMETERS, "amp;t", "utm_source", "T", ""]),
            st.lists(QUERY_CHARACTERS | st.characters()).map("".join),
        )
    ).map(lambda pairs: "&".join(f"{name}={value}" for name, value in pairs)),
)


@given(PIECES)
@example("prompt=x&view=attention," + "9" * 5000)  # more digits than int() reads
@example("prompt=x&t=1e309&p=nan&k=-1&seed=1e3&head=٣&embed=yes")
@example("prompt=%25%25%25%3D")
def test_any_query_gives_a_state_or_a_value_error_naming_a_parameter(query):
    state, problems = read_link(query)  # never raises
    assert state is None or isinstance(state, PageState)
    assert all(p.parameter in LINK_PARAMETERS for p in problems)
    try:
        parsed = from_query(query)
    except LinkError as e:  # a ValueError
        assert f"{e.problem.parameter}=" in str(e) and e.problem == problems[0]
    else:
        assert parsed == state and not problems
    assert isinstance(query_model(query), str)
    if state is not None:  # what the page does with it: numbers an <input type=number> shows
        assert math.isfinite(state.temperature) and state.temperature >= 0
        assert 0 < state.top_p <= 1 and state.top_k >= 0 and state.seed >= 0
        assert all(token >= 0 for token in state.generated)
        to_query(state)  # the address bar can always hold it


NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
# No "%": a prompt whose only characters to escape are "%" and two hex digits ("50%AB") is
# written 50%25AB, which reads as escaped twice, the one ambiguity read_link resolves wrongly
PROMPTS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="%"), min_size=1)
STATES = st.builds(
    PageState,
    prompt=PROMPTS,
    model=NAMES | st.just(""),
    stage=st.sampled_from([("embedding",), ("attention", 1), ("layernorm", 0, "ln2"), ("lens",)]),
    head=st.integers(0, 3),
    position=st.integers(-1, 100),
    temperature=st.floats(0, 1e300),
    top_k=st.integers(0, 50257),
    top_p=st.floats(0, 1, exclude_min=True),
    seed=st.integers(0, 2**62),
    generated=st.lists(st.integers(0, 50256), max_size=5).map(tuple),
    embed=st.booleans(),
    locale=st.sampled_from(["", "en", "zh-CN"]),
)


@given(STATES)
def test_every_state_round_trips(state):
    assert from_query(to_query(state)) == state


def ends_in_prompt(query: str) -> bool:
    return query.rsplit("&", 1)[-1].startswith("prompt=")


MANGLINGS = {
    "&amp; for &": lambda q: q.replace("&", "&amp;"),
    "&amp;amp; for &": lambda q: q.replace("&", "&amp;amp;"),
    "&#38; for &": lambda q: q.replace("&", "&#38;"),
    "% escaped again": lambda q: q.replace("%", "%25"),
    "+ and % escaped again": lambda q: q.replace("%", "%25").replace("+", "%2B"),
    "the whole query escaped": lambda q: quote(q, safe=""),
    "escaped three times": lambda q: q.replace("%", "%25").replace("%", "%25"),
    "a closing bracket after it": lambda q: q + ")",
    "a question mark after it": lambda q: q + "?",
    "a comma and a full stop after it": lambda q: q + ("," if ends_in_prompt(q) else ".,"),
    "tracking parameters": lambda q: q + "&utm_source=chat&fbclid=IwAR0x",
    "pasted twice": lambda q: q + "&" + q,
    "an older prompt first": lambda q: q.replace("prompt=", "prompt=older&prompt=", 1),
    "spaces around names": lambda q: q.replace("&", "& "),
}


@pytest.mark.parametrize("mangle", list(MANGLINGS.values()), ids=list(MANGLINGS))
@given(state=STATES)
def test_a_mangled_link_gives_the_state_of_the_link_it_was(mangle, state):
    assert read_link(mangle(to_query(state))) == (state, ())


# ------------------------------------------------------------------ each mangling, by hand


@pytest.mark.parametrize(
    "query, expected",
    [
        ("prompt=Hi&amp;t=0.5&amp;k=3", PageState(prompt="Hi", temperature=0.5, top_k=3)),
        ("prompt=Hi&amp;amp;t=0.5", PageState(prompt="Hi", temperature=0.5)),
        ("prompt=Hi&#038;t=0.5&#x26;k=3", PageState(prompt="Hi", temperature=0.5, top_k=3)),
        ("prompt=Once%2520upon%252C+a", PageState(prompt="Once upon, a")),
        ("prompt=Hi&gen=1%252C2", PageState(prompt="Hi", generated=(1, 2))),
        ("prompt=Hi&view=mlp%2525252C1", PageState(prompt="Hi", stage=("mlp", 1))),
        ("prompt%3DHi%26t%3D0.5", PageState(prompt="Hi", temperature=0.5)),
        ("prompt=Hi&t=0.5).", PageState(prompt="Hi", temperature=0.5)),
        ("prompt=Hi&embed=1!", PageState(prompt="Hi", embed=True)),
        ("prompt=Hi&gen=1,2,", PageState(prompt="Hi", generated=(1, 2))),
        ("prompt=Hi.", PageState(prompt="Hi.")),  # a prompt may end in a full stop
        ("prompt=Hi.)", PageState(prompt="Hi.")),
        ("prompt=Hi%21?", PageState(prompt="Hi!")),  # the "!" to_query wrote stays
        ("prompt=Hi&t=0.2&t=0.7", PageState(prompt="Hi", temperature=0.7)),  # the last counts
        ("prompt=A&prompt=B", PageState(prompt="B")),
        ("prompt=Hi&t=0.5https://x.org/?prompt=Hi&t=0.5", PageState(prompt="Hi", temperature=0.5)),
        ("prompt=Hi&utm_source=x&fbclid=y&T=9&gclid", PageState(prompt="Hi")),
        ("prompt=Hi& t = 0.5 &k=%203", PageState(prompt="Hi", temperature=0.5, top_k=3)),
        ("prompt=Once+upon&t=0.5&k=", PageState(prompt="Once upon", temperature=0.5)),
        ("prompt=Once+up", PageState(prompt="Once up")),  # cut: runs on what is left
        ("prompt=%E4%BD%A0%E5%A5", PageState(prompt="你")),  # cut inside 好: that character goes
        ("prompt=ab%E4%B", PageState(prompt="ab")),  # cut inside an escape
        ("prompt=%EF%BF%BD", PageState(prompt="\ufffd")),  # a whole U+FFFD is a character
        ("prompt=Hi&t=1e-400", PageState(prompt="Hi", temperature=0.0)),  # underflow: greedy
        ("prompt=Hi&p=1&t=.5&seed=%2B7", PageState(prompt="Hi", temperature=0.5, seed=7)),
    ],
)
def test_each_mangling_is_repaired(query, expected):
    assert read_link(query) == (expected, ())


@pytest.mark.parametrize(
    "query, parameter, value",
    [
        ("prompt=Hi&t=nan", "t", "nan"),
        ("prompt=Hi&t=1e309", "t", "1e309"),
        ("prompt=Hi&t=inf", "t", "inf"),
        ("prompt=Hi&t=-0.5", "t", "-0.5"),
        ("prompt=Hi&t=1_0", "t", "1_0"),
        ("prompt=Hi&p=0", "p", "0"),
        ("prompt=Hi&p=1.5", "p", "1.5"),
        ("prompt=Hi&k=-1", "k", "-1"),
        ("prompt=Hi&k=3.5", "k", "3.5"),
        ("prompt=Hi&k=1e3", "k", "1e3"),
        ("prompt=Hi&seed=-1", "seed", "-1"),
        ("prompt=Hi&seed=" + "9" * 30, "seed", "9" * 30),
        ("prompt=Hi&head=%D9%A3", "head", "٣"),  # an Arabic-Indic 3, which int() would read
        ("prompt=Hi&token=x", "token", "x"),
        ("prompt=Hi&gen=1,,2", "gen", "1,,2"),
        ("prompt=Hi&gen=-5", "gen", "-5"),
        ("prompt=Hi&embed=yes", "embed", "yes"),
        ("prompt=Hi&view=mlp," + "9" * 5000, "view", "mlp," + "9" * 5000),
        ("prompt=&t=0.5", "prompt", ""),
    ],
)
def test_a_value_that_cannot_be_used_is_named_and_the_rest_is_kept(query, parameter, value):
    rest = "" if parameter == "view" else "&view=mlp,1"
    state, problems = read_link(query + rest)
    assert problems == (LinkProblem(parameter, value),)
    assert state.stage == (("embedding",) if parameter == "view" else ("mlp", 1))
    assert state.temperature == (0.5 if "t=0.5" in query else 1.0)
    with pytest.raises(ValueError, match=f"This link gives {parameter}="):
        from_query(query)


def test_the_message_names_the_value_in_both_languages_and_shortens_a_long_one():
    nan = LinkProblem("t", "nan")
    assert nan.message() == (
        "This link gives t='nan', which the page cannot use (t takes a number of 0 or more, 0 for "
        "always the most probable token): it uses the default instead."
    )
    assert nan.message("zh-CN").startswith("此链接给出的 t='nan' 无法使用")
    long = LinkProblem("gen", "1," * 100).message()
    assert "gen='" + "1," * 20 + "'…" in long and len(long) < 250


def test_an_empty_prompt_keeps_the_pages_own_text():
    state, problems = read_link("prompt=&view=mlp,1")
    assert state == PageState(prompt="", stage=("mlp", 1))
    assert problems == (LinkProblem("prompt", ""),)


def test_the_model_is_read_from_a_mangled_link_too():
    assert query_model("model=demo.") == "demo"
    assert query_model("prompt=Hi&amp;model=large&model=small") == "small"
    assert query_model("model%3Dlarge") == "large"


def test_generated_tokens_outside_the_vocabulary_are_dropped_and_named():
    state = PageState(prompt="Hi", generated=(5, 99))
    assert generated_for_model(state, CONFIG) == (state, None)
    state = PageState(prompt="Hi", generated=(5, 100), temperature=0.5)
    assert generated_for_model(state, CONFIG) == (
        PageState(prompt="Hi", temperature=0.5),
        LinkProblem("gen", "5,100"),
    )
