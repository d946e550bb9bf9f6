"""The attribution stage's view (pyexplainer/views/attribution.py) on hand-made parts of a model
of 2 blocks of 2 heads, width 4: what it ranks, filters, names and adds up, against the tests'
own arithmetic of each part's share; and the stage's state, its events and its link."""

import dataclasses

import numpy as np
import pytest

from pyexplainer.config import ModelConfig
from pyexplainer.core.attribution import Parts
from pyexplainer.views import state as events
from pyexplainer.views import state_links
from pyexplainer.views.attribution import (
    AttributionChoice,
    LensLink,
    asked_tokens,
    attribution_view,
    lens_link,
    top_predictions,
)
from pyexplainer.views.logit_lens import LensCell, LogitLensView
from pyexplainer.views.permalink import PageState, generated_for_model, read_link, to_query
from pyexplainer.views.stages import Stage
from pyexplainer.views.state import State

NAMES = ("embed", "L0H0", "L0H1", "L0attn_bias", "L0mlp", "L1H0", "L1H1", "L1attn_bias", "L1mlp")
LAYERS = (None, 0, 0, 0, 0, 1, 1, 1, 1)


def hand_parts() -> Parts:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((len(NAMES), 4))
    final = vectors.sum(axis=0)
    std = float(np.sqrt(final.var() + 1e-5))
    gain, bias = np.array([1.0, 0.5, 2.0, 1.5]), np.array([0.1, -0.2, 0.3, 0.0])
    rows = {7: np.array([0.3, -1.0, 0.8, 0.2]), 9: np.array([-0.5, 0.4, 0.1, 1.0])}
    logits = np.zeros(10, np.float32)
    for t, row in rows.items():
        logits[t] = ((final - final.mean()) / std * gain + bias) @ row
    return Parts(NAMES, LAYERS, vectors, final, std, gain, bias, rows, logits)


def shares(parts: Parts, row: np.ndarray) -> dict[str, float]:
    """The tests' own share of each part, one at a time, and of the constant."""
    out = {}
    for name, v in zip(parts.names, parts.vectors, strict=True):
        mean = sum(v) / len(v)
        normed = [(x - mean) / parts.lnf_std * g for x, g in zip(v, parts.lnf_gain, strict=True)]
        out[name] = float(sum(a * b for a, b in zip(normed, row, strict=True)))
    out["lnf_bias"] = float(sum(a * b for a, b in zip(parts.lnf_bias, row, strict=True)))
    return out


def test_every_part_is_ranked_by_the_size_of_its_share():
    parts = hand_parts()
    want = shares(parts, parts.unembed[7])
    view = attribution_view(parts, 7, top=100)
    assert [b.name for b in view.bars] == sorted(want, key=lambda n: -abs(want[n]))
    for bar in view.bars:
        assert bar.value == pytest.approx(want[bar.name], abs=1e-12)
    assert view.bars[0].width == 1 and all(0 < b.width <= 1 for b in view.bars)
    assert view.total == pytest.approx(sum(want.values()))
    assert view.total == pytest.approx(float(parts.logits[7]), abs=1e-5)
    assert [b.name for b in view.named] == sorted(
        (n for n in want if want[n] > 0), key=lambda n: -want[n]
    )[:3]
    assert view.per_block == pytest.approx(
        [sum(want[n] for n in NAMES if n.startswith(f"L{b}")) for b in (0, 1)]
    )
    assert view.embed == pytest.approx(want["embed"])


def test_filters_and_top_n():
    parts = hand_parts()
    heads = attribution_view(parts, 7, filter_="heads", top=100)
    assert {b.name for b in heads.bars} == {"L0H0", "L0H1", "L1H0", "L1H1"}
    assert {(b.layer, b.head) for b in heads.bars} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    mlps = attribution_view(parts, 7, filter_="mlps")
    assert {b.name for b in mlps.bars} == {"L0mlp", "L1mlp"} and mlps.shown_of == 2
    top = attribution_view(parts, 7, top=3)
    assert len(top.bars) == 3 and top.shown_of == len(NAMES) + 1
    with pytest.raises(ValueError, match="filter"):
        attribution_view(parts, 7, filter_="attention")


def test_a_logit_difference_reads_the_parts_through_the_difference_of_rows():
    parts = hand_parts()
    a, b = shares(parts, parts.unembed[7]), shares(parts, parts.unembed[9])
    view = attribution_view(parts, 7, 9, top=100)
    for bar in view.bars:
        assert bar.value == pytest.approx(a[bar.name] - b[bar.name], abs=1e-12)
    assert view.model_logit == pytest.approx(float(parts.logits[7] - parts.logits[9]))
    assert abs(view.difference) < 1e-5


# ------------------------------------------------------------------ the stage's state and link


class Logits:
    """A stand-in trace: only its last logits are read."""

    def __init__(self, logits):
        self.last_logits = np.asarray(logits, np.float32)


def opened(**fields) -> State:
    trace = Logits([0.0, 3.0, 1.0, 5.0, 2.0, 4.0])  # ranked: 3, 5, 1, 4, 2, 0
    return State(prompt_ids=(1, 2), trace=trace, full=trace, stage=Stage("attribution"), **fields)


def test_the_top_predictions_leave_out_what_the_page_never_draws():
    logits = Logits([0.0, 3.0, 1.0, 5.0, 2.0, 4.0]).last_logits
    assert top_predictions(logits, (), 3) == (3, 5, 1)
    assert top_predictions(logits, (3,), 3) == (5, 1, 4)
    assert asked_tokens(AttributionChoice(), (3, 5, 1)) == (3, 5, 1)
    assert asked_tokens(AttributionChoice(target=0, other=1), (3, 5, 1)) == (0, 1, 3, 5)


def test_the_parts_are_wanted_until_they_hold_the_rows_of_the_chosen_tokens():
    state = opened()
    assert events.attribution_wanted(state, ())
    parts = dataclasses.replace(hand_parts(), unembed={3: np.zeros(4), 5: np.zeros(4)})
    state = events.attribution_computed(state, (1, 2), parts)
    assert state.current(state.attribution) is parts
    assert not events.attribution_wanted(state, ())  # the top prediction, 3, has its row
    assert events.attribution_wanted(state, (3,)) is False  # 5 is the top one then: has it too
    assert events.attribution_wanted(events.attribution_chosen(state, other=1), ())
    assert not events.attribution_wanted(events.attribution_chosen(state, target=5), ())
    assert not events.attribution_wanted(dataclasses.replace(state, stage=Stage("lens")), ())
    elsewhere = dataclasses.replace(state, prompt_ids=(1, 2, 7))  # another text: not current
    assert events.attribution_wanted(elsewhere, ())


def test_the_choices_of_the_stage():
    state = opened()
    chosen = events.attribution_chosen(state, target=5, other=3, filter="heads", top=4)
    assert chosen.attribution_choice == AttributionChoice(5, 3, "heads", 4)
    assert events.attribution_chosen(chosen, other=5).attribution_choice.other is None
    with pytest.raises(ValueError, match="filter"):
        events.attribution_chosen(state, filter="everything")
    with pytest.raises(ValueError, match="at least one"):
        events.attribution_chosen(state, top=0)
    after_run = events.text_run(
        chosen, text="x", prompt_ids=(4,), trace=chosen.trace, tokens=(), groups=(), seed=0
    )
    assert (
        after_run.attribution is None and after_run.attribution_choice == chosen.attribution_choice
    )
    assert events.model_opened(chosen, "other", ()).attribution_choice == AttributionChoice()


def test_a_link_holds_the_target_and_the_second_token():
    state = events.attribution_chosen(opened(), target=5, other=1)
    link = state_links.link_of(state)
    assert (link.target, link.versus) == (5, 1)
    query = to_query(link)
    assert "target=5" in query and "vs=1" in query
    assert read_link(query)[0] == link
    assert "target" not in to_query(state_links.link_of(opened()))  # the top prediction: left out
    restored = state_links.link_opened(opened(), link)
    assert restored.attribution_choice == AttributionChoice(5, 1)
    _, problems = read_link("prompt=a&target=x&vs=-1")
    assert [p.parameter for p in problems] == ["target", "vs"]
    config = ModelConfig(vocab_size=6, n_positions=8, n_embd=4, n_layer=1, n_head=1)
    fixed, problem = generated_for_model(PageState(prompt="a", target=9, versus=2), config)
    assert (fixed.target, fixed.versus, problem.parameter) == (None, 2, "target")


def lens_of(tops: list[int]) -> LogitLensView:
    """A lens of two positions whose last column's top token at depth d is tops[d] (d = 0: the
    embeddings); the first column's always 0."""
    rows = tuple(
        tuple(
            LensCell(d, p, (top if p == 1 else 0, 5), ("a", "b"), (0.6, 0.1), False) for p in (0, 1)
        )
        for d, top in enumerate(tops)
    )
    return LogitLensView((), rows, len(tops) - 1, 2)


def test_the_lens_link_says_from_which_block_the_target_stays_on_top():
    assert lens_link(None, 7) is None  # not computed yet
    # the embeddings' top (depth 0) is in no block; 7 on top after block 1, lost, then from 3
    assert lens_link(lens_of([7, 2, 7, 4, 7, 7]), 7) == LensLink(
        (False, True, False, True, True), 3
    )
    assert lens_link(lens_of([1, 7, 7, 7]), 7) == LensLink((True, True, True), 0)
    assert lens_link(lens_of([1, 7, 7, 2]), 7) == LensLink((True, True, False), None)
    assert lens_link(lens_of([1, 2, 2, 7]), 7).settled_block == 2  # only after the last block
