"""Links as chat apps and LMS editors mangle them, and prompts too long for the context, in the
built site: the page always reaches ready or names what it cannot use, and runs with the rest.

The mangled links are seeded and opened one after another in one tab (a navigation each: the page
reads its link once, at start). Each must settle within 20 s with no uncaught page error; what the
page ran is checked against the CPython tokenizer, and each parameter it could not use must be
named in the status with the value the link gave it.
"""

import random
import time
from urllib.parse import quote

import pytest

from pyexplainer.views.permalink import (
    PageState,
    generated_for_model,
    query_model,
    read_link,
    state_for_model,
    to_query,
)
from tests.test_browser import (
    READY_OR_ERROR,
    Student,
    assert_same_predictions,
    expected_predictions,
)

pytestmark = pytest.mark.browser
# One navigation each, and one costs about 10 s of CPU (Pyodide, onnxruntime-web and the model
# start again): some 6 s on CI's two cores, so 200 would add 20 minutes; 30 take about 3. The
# property tests of tests/test_views_permalink.py cover the space of links; these, the page.
MANGLED_LINKS = 30
LINK_SEED = 14
SETTLE_MS = 20_000
PROMPTS = ["Once upon a time", "The cat sat on the mat.", "你好，世界", "a+b=c & 100%", "Hi!"]
VIEWS = [("embedding",), ("attention", 1), ("mlp", 3), ("layernorm", 4, "lnf"), ("output",)]
BAD_VALUES = {  # what mangled or hand-edited links hold, none of which the page can use
    "t": ["nan", "1e309", "-1", "inf", "hot", "0,7"],
    "k": ["-3", "2.5", "1e3", "lots"],
    "p": ["0", "1.5", "nan"],
    "seed": ["-1", "9" * 30, "x"],
    "head": ["٣", "two"],
    "gen": ["1,,2", "a", "99999999"],
    "embed": ["yes"],
    "view": ["mlp," + "9" * 5000],
    "prompt": [""],
}
MANGLINGS = [
    lambda q, r: q.replace("&", "&amp;"),
    lambda q, r: q.replace("&", "&amp;amp;"),
    lambda q, r: q.replace("%", "%25"),
    lambda q, r: quote(q, safe=""),
    lambda q, r: q + r.choice([")", ".", ",", "!", "?", ");", ":"]),
    lambda q, r: q + "&utm_source=chat&fbclid=IwAR" + str(r.randrange(10**6)),
    lambda q, r: q + "&" + q,  # pasted twice
    lambda q, r: q[: r.randrange(len("prompt=") + 1, len(q) + 1)],  # cut off
    lambda q, r: q.replace("prompt=", "prompt=older&prompt=", 1),  # repeated: the last counts
]


def random_state(rng: random.Random) -> PageState:
    stage = rng.choice(VIEWS)
    return PageState(
        prompt=rng.choice(PROMPTS),
        model=rng.choice(["", "demo"]),
        stage=stage,
        head=rng.randrange(4),
        position=rng.randrange(-1, 4),
        temperature=rng.choice([1.0, 0.0, 0.7, 2.5]),
        top_k=rng.choice([0, 5, 40]),
        top_p=rng.choice([1.0, 0.9]),
        seed=rng.randrange(100),
        generated=tuple(rng.randrange(50257) for _ in range(rng.choice([0, 0, 1, 2]))),
        embed=False,
    )


def mangled_links(n: int, seed: int) -> list[str]:
    """n query strings: valid links with one to three manglings, and some with a bad value."""
    rng, links = random.Random(seed), []
    for _ in range(n):
        query = to_query(random_state(rng))
        if rng.random() < 0.4:
            name = rng.choice(list(BAD_VALUES))
            query += f"&{name}={quote(rng.choice(BAD_VALUES[name]))}"
        for mangle in rng.sample(MANGLINGS, rng.randint(1, 3)):
            query = mangle(query, rng)
        links.append("?" + query)
    return links


def test_the_generated_links_are_mangled_and_some_cannot_be_used_whole():
    links = mangled_links(MANGLED_LINKS, LINK_SEED)
    assert len(set(links)) == len(links) == MANGLED_LINKS
    assert sum(bool(read_link(q)[1]) for q in links) >= MANGLED_LINKS // 5
    assert sum("&amp;" in q for q in links) >= MANGLED_LINKS // 10
    assert sum("%25" in q or "%3D" in q for q in links) >= MANGLED_LINKS // 10


def test_mangled_links_reach_ready_or_a_message_naming_what_they_cannot_use(
    chromium, server, cpython_model
):
    c, tokenizer = cpython_model.manifest.config, cpython_model.tokenizer
    s = Student(chromium, server)
    errors: list[str] = []
    s.page.on("pageerror", lambda e: errors.append(str(e)))
    default_prompt = s.page.input_value("[data-testid=prompt-input]")
    seconds = []
    for query in mangled_links(MANGLED_LINKS, LINK_SEED):
        started = time.monotonic()
        s.page.goto(server + query)
        try:
            s.page.wait_for_function(READY_OR_ERROR, timeout=SETTLE_MS)
        except Exception:
            pytest.fail(f"{query[:200]} did not settle in {SETTLE_MS} ms, after {seconds}")
        seconds.append(time.monotonic() - started)
        status = s.status()
        state, problems = read_link(query)
        model = state.model if state else query_model(query)
        named = [f"This link asks for the model “{model}”"] if model not in ("", "demo") else []
        if state is None:  # no prompt in what is left of the link: a plain visit
            assert all(m in status for m in named) and (named or status == "ready"), query
            continue
        state, missing = state_for_model(state, c)
        state, unknown = generated_for_model(state, c)
        named += [p.message() for p in problems] + ([unknown.message()] if unknown else [])
        named += [f"This link asks for {missing.part}"] if missing else []
        assert all(m in status for m in named) and (named or status == "ready"), (query, status)
        prompt = state.prompt or default_prompt  # an empty prompt keeps the page's text
        assert s.page.input_value("[data-testid=prompt-input]") == prompt, query
        assert s.tokens() == tokenizer.encode(prompt) + list(state.generated), query
    assert not errors, errors
    s.assert_no_python_error()
    print(f"{len(seconds)} links, {max(seconds):.1f} s at most, {sum(seconds):.0f} s in all")
    s.close()


LONG_TEXT = "Once upon a time, in a land far away, there lived a king who loved riddles. " * 20


def test_an_over_long_prompt_offers_to_keep_its_last_tokens(chromium, server, cpython_model):
    tokenizer, n_positions = cpython_model.tokenizer, cpython_model.manifest.config.n_positions
    student = Student(chromium, server)
    n_tokens = len(tokenizer.encode(LONG_TEXT))
    assert n_tokens > n_positions
    before = student.tokens()
    student.run(LONG_TEXT)
    page = student.page
    assert f"{n_tokens} tokens is more than this model's context" in student.status()
    assert page.text_content("[data-testid=context-note]") == (
        f"The text has {n_tokens} tokens, more than this model's context of {n_positions}."
    )
    assert page.is_visible("[data-testid=keep-last-tokens]")
    assert student.tokens() == before  # nothing ran yet

    student.act("keep-last-tokens")  # one click
    assert student.status() == "ready"
    kept_text = page.input_value("[data-testid=prompt-input]")
    kept = tokenizer.encode(kept_text)
    assert LONG_TEXT.endswith(kept_text) and len(kept) == n_positions  # all the context holds
    assert student.tokens() == kept == tokenizer.encode(LONG_TEXT)[-n_positions:]
    dropped = n_tokens - n_positions
    assert page.text_content("[data-testid=context-note]") == (
        f"Kept the last {n_positions} tokens that fit the context of {n_positions}: the first "
        f"{dropped} tokens of the text were dropped."
    )
    assert not page.is_visible("[data-testid=keep-last-tokens]")
    assert_same_predictions(student.predictions(), expected_predictions(cpython_model, kept_text))

    page.select_option("[data-testid=locale-switch]", "zh-CN")  # the note follows the language
    assert f"文字开头的 {dropped} 个词元已被丢弃" in page.text_content("[data-testid=context-note]")
    page.select_option("[data-testid=locale-switch]", "en")
    student.run("Once upon a time")  # a text that fits: nothing to say
    assert page.text_content("[data-testid=context-note]") == ""
    student.assert_no_python_error()
    student.close()
