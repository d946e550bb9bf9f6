"""The guided tour: every card's texts exist and format, its stage is one of the overview's, and
the numbers it quotes are the loop reference's."""

import math

import numpy as np
import pytest

from pyexplainer.messages import text
from pyexplainer.views.overview import overview
from pyexplainer.views.predictions import SamplingSettings
from pyexplainer.views.tour import tour
from tests.conftest import TINY, tiny_weights
from tests.test_sampling import reference_distribution
from tests.view_case import CACHED, view_case

L, H, D = TINY["n_layer"], TINY["n_head"], TINY["n_embd"]
SETTINGS = SamplingSettings(temperature=0.7, top_k=12, top_p=0.9)


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


@pytest.fixture(scope="module")
def cards(case):
    return {c.id: c for c in tour(case.trace, case.config, case.tokenizer, case.tokens, SETTINGS)}


def norm(x):
    return math.sqrt(sum(float(v) ** 2 for v in x))


def test_every_card_has_texts_that_format_and_a_stage_of_the_overview(case, cards):
    assert 18 <= len(cards) <= 25
    stages = {node.stage for node in overview(case.trace).nodes.values()}
    for card in cards.values():
        assert (card.title_key, card.body_key) == (f"tour.{card.id}.title", f"tour.{card.id}.body")
        for key in (card.title_key, card.body_key):
            filled = text(key, **card.values)
            assert filled and "{" not in filled and "}" not in filled
        assert card.stage in stages
        assert all(isinstance(v, int | float | str) for v in card.values.values())


def test_cards_follow_the_illustrated_gpt2_order(cards):
    order = list(cards)
    for earlier, later in [
        ("autoregression", "tokens"),
        ("tokens", "token_embedding"),
        ("position_embedding", "layer_norm"),
        ("qkv", "scores"),
        ("scores", "scale"),
        ("scale", "mask"),
        ("mask", "softmax"),
        ("softmax", "weighted_sum"),
        ("weighted_sum", "merge_projection"),
        ("merge_projection", "residual_add"),
        ("residual_add", "mlp"),
        ("final_norm", "logits"),
        ("logits", "softmax_output"),
        ("softmax_output", "sampling"),
        ("sampling", "generation"),
    ]:
        assert order.index(earlier) < order.index(later)


def test_quoted_numbers_are_the_references(case, cards):
    ref, ids, t = case.reference, case.ids, len(case.ids)
    last = t - 1
    logits = ref["logits"][-1]
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    top, second = np.argsort(-probs)[:2]
    labels = case.tokenizer.token_labels([int(top), int(second)])
    v = {card_id: card.values for card_id, card in cards.items()}
    assert v["autoregression"]["n_tokens"] == t
    assert v["autoregression"]["top_label"] == labels[0]
    assert v["autoregression"]["top_probability"] == pytest.approx(probs[top], rel=1e-3)
    assert (v["tokens"]["first_id"], v["tokens"]["last_id"]) == (ids[0], ids[-1])
    assert v["tokens"]["vocab_size"] == 50257
    wte_row = tiny_weights()["wte.weight"][ids[-1]]
    assert v["token_embedding"]["first_value"] == pytest.approx(wte_row[0])
    assert v["token_embedding"]["norm"] == pytest.approx(norm(wte_row), rel=1e-6)
    assert v["position_embedding"]["position"] == last
    assert v["layer_norm"]["mean"] == pytest.approx(ref["ln1_mean"][0, last], rel=1e-4, abs=1e-6)
    assert v["layer_norm"]["std"] == pytest.approx(ref["ln1_std"][0, last], rel=1e-4)
    assert v["qkv"]["d_head"] == D // H and v["qkv"]["n_head"] == H
    score = ref["attention_scores"][0, 0, last, 0]
    assert v["scores"]["score"] == pytest.approx(score, rel=1e-4)
    assert v["scores"]["key_label"] == case.tokens[0].label
    assert v["scale"]["scale"] == pytest.approx(1 / math.sqrt(D // H))
    assert v["scale"]["scaled"] == pytest.approx(score / math.sqrt(D // H), rel=1e-4)
    assert (v["mask"]["allowed"], v["mask"]["cells"], v["mask"]["masked"]) == (
        t,
        t * t,
        t * (t - 1) // 2,
    )
    weights = ref["attention_probs"][0, 0, last]
    assert v["softmax"]["weight"] == pytest.approx(weights.max(), abs=1e-5)
    assert v["softmax"]["key_label"] == case.tokens[int(np.argmax(weights))].label
    assert v["weighted_sum"]["norm"] == pytest.approx(
        norm(ref["head_outputs"][0, 0, last]), rel=1e-4
    )
    assert v["residual_add"]["before"] == pytest.approx(norm(ref["residual"][0, last]), rel=1e-4)
    assert v["residual_add"]["added"] == pytest.approx(norm(ref["attn_out"][0, last]), rel=1e-4)
    assert v["residual_add"]["after"] == pytest.approx(norm(ref["residual_mid"][0, last]), rel=1e-4)
    assert v["mlp"]["units"] == 4 * D
    assert v["gelu"]["off_share"] == pytest.approx(np.mean(ref["mlp_pre"][0, last] < -2))
    assert v["deeper"]["last"] == pytest.approx(norm(ref["residual"][L, last]), rel=1e-4)
    assert v["final_norm"]["mean"] == pytest.approx(ref["lnf_mean"][last], rel=1e-4, abs=1e-6)
    assert v["final_norm"]["std"] == pytest.approx(ref["lnf_std"][last], rel=1e-4)
    assert v["logits"]["top_logit"] == pytest.approx(logits.max(), rel=1e-4)
    assert v["softmax_output"]["second_label"] == labels[1]
    assert v["softmax_output"]["second_probability"] == pytest.approx(probs[second], rel=1e-3)
    expected = reference_distribution(case.trace.last_logits, 0.7, 12, 0.9)
    assert v["sampling"]["kept"] == sum(p > 0 for p in expected)
    assert v["sampling"]["top_probability"] == pytest.approx(max(expected))
    assert v["generation"]["cached"] == t


def test_a_cached_step_has_a_tour_too(case):
    cards = tour(case.chunked, case.config, case.tokenizer, case.tokens, SamplingSettings())
    v = {c.id: c.values for c in cards}
    t = len(case.ids)
    assert v["generation"]["cached"] == t and v["autoregression"]["n_tokens"] == t
    new = t - CACHED
    assert v["mask"]["cells"] == new * t and v["mask"]["masked"] == new * (new - 1) // 2
    for card in cards:
        assert text(card.body_key, **card.values)
