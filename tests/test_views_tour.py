"""The guided tour: every card's texts exist and format, its stage is one of the overview's, and
the numbers it quotes are the loop reference's."""

import math

import numpy as np
import pytest

from pyexplainer.messages import text
from pyexplainer.views.overview import overview
from pyexplainer.views.predictions import SamplingSettings
from pyexplainer.views.tour import tour
from tests.conftest import TINY, hf_gpt2_tokenizer, tiny_weights
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


def expected_values(case) -> dict[str, dict]:
    """Every value of every card, from the loop reference, the checkpoint's weights, the oracle
    tokenizer and the model's shape: the tour follows the last token through block 0, head 0."""
    ref, ids, t = case.reference, case.ids, len(case.ids)
    last, dh = t - 1, D // H
    w = tiny_weights()
    hf = hf_gpt2_tokenizer()

    def label(token_id):
        return hf.decode([int(token_id)])

    logits = ref["logits"][last]  # (V,)
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    top, second = np.argsort(-probs)[:2]
    sampled = np.asarray(reference_distribution(ref["logits"][last], 0.7, 12, 0.9))
    weights = ref["attention_probs"][0, 0, last]  # (S,)
    score = ref["attention_scores"][0, 0, last, 0]  # the query against the first token's key
    dims = {"n_embd": D, "n_head": H, "d_head": dh}
    last_token = {"last_label": label(ids[-1]), "last_id": ids[-1]}
    query = {"query_label": label(ids[-1]), "position": last}
    stream = norm(ref["residual"][0, last])
    return {
        "autoregression": {
            "n_tokens": t,
            "top_label": label(top),
            "top_probability": probs[top],
        },
        "tokens": {
            "n_tokens": t,
            "vocab_size": TINY["vocab_size"],
            "first_label": label(ids[0]),
            "first_id": ids[0],
            **last_token,
        },
        "token_embedding": {
            **last_token,
            **dims,
            "first_value": w["wte.weight"][ids[-1], 0],
            "norm": norm(w["wte.weight"][ids[-1]]),
        },
        "position_embedding": {
            **last_token,
            "position": last,
            "first_value": w["wpe.weight"][last, 0],
            "norm": norm(w["wpe.weight"][last]),
        },
        "embedding_sum": {**last_token, "norm": stream},
        "blocks": {"n_layer": L},
        "layer_norm": {
            **last_token,
            **dims,
            "mean": ref["ln1_mean"][0, last],
            "std": ref["ln1_std"][0, last],
        },
        "qkv": dims,
        "scores": {**query, "key_label": label(ids[0]), "score": score},
        "scale": {
            **dims,
            "scale": 1 / math.sqrt(dh),
            "score": score,
            "scaled": score / math.sqrt(dh),
        },
        "mask": {**query, "allowed": t, "cells": t * t, "masked": t * (t - 1) // 2},
        "softmax": {
            **query,
            "key_label": label(ids[int(np.argmax(weights))]),
            "weight": weights.max(),
        },
        "weighted_sum": {**query, **dims, "norm": norm(ref["head_outputs"][0, 0, last])},
        "merge_projection": {**query, **dims, "norm": norm(ref["attn_out"][0, last])},
        "residual_add": {
            "label": label(ids[-1]),
            "before": stream,
            "added": norm(ref["attn_out"][0, last]),
            "after": norm(ref["residual_mid"][0, last]),
        },
        "mlp": {
            "label": label(ids[-1]),
            **dims,
            "units": 4 * D,
            "norm": norm(ref["mlp_out"][0, last]),
        },
        "gelu": {
            "label": label(ids[-1]),
            "units": 4 * D,
            "off_below": -2.0,
            "off_share": np.mean(ref["mlp_pre"][0, last] < -2),
        },
        "deeper": {
            "label": label(ids[-1]),
            "first": stream,
            "last": norm(ref["residual"][L, last]),
            "last_layer": L - 1,
        },
        "final_norm": {
            "label": label(ids[-1]),
            "mean": ref["lnf_mean"][last],
            "std": ref["lnf_std"][last],
        },
        "logits": {
            "vocab_size": TINY["vocab_size"],
            "top_label": label(top),
            "top_logit": logits.max(),
        },
        "softmax_output": {
            "vocab_size": TINY["vocab_size"],
            "top_label": label(top),
            "top_probability": probs[top],
            "second_label": label(second),
            "second_probability": probs[second],
        },
        "sampling": {
            "temperature": 0.7,
            "top_k": 12,
            "top_p": 0.9,
            "kept": int(np.count_nonzero(sampled)),
            "top_label": label(np.argmax(sampled)),
            "top_probability": sampled.max(),
        },
        "generation": {"cached": t, "n_layer": L, "n_head": H},
        "attribution": {
            "top_label": label(top),
            "top_logit": logits.max(),
            "std": ref["lnf_std"][last],
            "n_parts": 1 + L * (H + 2),
        },
    }


def assert_quotes(cards: dict, expected: dict) -> None:
    """Each card quotes exactly the values expected, and nothing else."""
    assert set(cards) == set(expected)
    for card_id, card in cards.items():
        assert set(card.values) == set(expected[card_id]), card_id
        for name, value in card.values.items():
            want = expected[card_id][name]
            if isinstance(value, float):
                # float32 model against the float64 reference; means are near 0
                assert value == pytest.approx(float(want), rel=1e-4, abs=1e-6), (card_id, name)
            else:
                assert value == want and type(value) is type(want), (card_id, name)


def test_every_quoted_number_is_the_references(case, cards):
    """A card quoting the wrong tensor, or a new value nobody checks, fails."""
    assert_quotes(cards, expected_values(case))


def test_a_cached_step_quotes_the_same_numbers(case):
    """After CACHED tokens through the cache, the tour still follows the last token: the same
    numbers, but this step's mask covers only its new rows."""
    cards = tour(case.chunked, case.config, case.tokenizer, case.tokens, SETTINGS)
    expected = expected_values(case)
    t, new = len(case.ids), len(case.ids) - CACHED
    expected["mask"] |= {"cells": new * t, "masked": new * (new - 1) // 2}
    assert_quotes({c.id: c for c in cards}, expected)


def test_a_cached_step_s_cards_format_with_the_default_settings(case):
    for card in tour(case.chunked, case.config, case.tokenizer, case.tokens, SamplingSettings()):
        assert text(card.body_key, **card.values)
