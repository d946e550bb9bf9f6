"""The logit lens and the what-if ablation, computed by the exported model, against the tests'
own loop reference (tests/gpt2_reference.py) with the same parts switched off."""

import numpy as np
import pytest

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.generation import KVCache, cache_after, forward, model_feeds
from pyexplainer.core.lens import LogitLens, lens_rows
from pyexplainer.core.trace import LENS_TOP_K
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, tiny_weights
from tests.gpt2_reference import reference_forward

PROMPT = [464, 3797, 3332, 319, 262, 2603, 13, 383]
L, H = TINY["n_layer"], TINY["n_head"]


@pytest.fixture(scope="module")
def model(tiny_fp32):
    return open_model_dir(tiny_fp32)


def reference_logits(**ablation) -> np.ndarray:
    """(V,) float64 logits of the last position from the loop reference."""
    return reference_forward(PROMPT, tiny_weights(), L, H, **ablation)["logits"][-1]


def model_logits(model, ablation: Ablation) -> np.ndarray:
    return forward(model.run, model.manifest.config, PROMPT, ablation=ablation).last_logits


def close(got, expected):
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-4 * np.abs(expected).max())


def test_ablating_nothing_changes_nothing(model):
    """With nothing off the mean path adds exactly zero, and the model is the reference's."""
    c = model.manifest.config
    zero = model.run(model_feeds(c, np.array(PROMPT), KVCache.empty(c)))
    mean = model.run(
        model_feeds(c, np.array(PROMPT), KVCache.empty(c), ablation=Ablation(mode="mean"))
    )
    for name, value in zero.items():
        np.testing.assert_array_equal(mean[name], value, err_msg=name)  # bit for bit
    close(zero["last_logits"], reference_logits())


@pytest.mark.parametrize("mode", ["zero", "mean"])
@pytest.mark.parametrize(
    "heads,mlps",
    [({(0, 1)}, set()), ({(1, 0), (1, 3), (0, 2)}, set()), (set(), {0}), ({(1, 2)}, {1})],
)
def test_ablation_changes_what_the_reference_says(model, heads, mlps, mode):
    ablation = Ablation(heads=frozenset(heads), mlps=frozenset(mlps), mode=mode)
    expected = reference_logits(ablated_heads=heads, ablated_mlps=mlps, to_mean=mode == "mean")
    got = model_logits(model, ablation)
    close(got, expected)
    assert np.abs(expected - reference_logits()).max() > 1e-2  # the ablation really matters


def test_an_ablated_trace_records_what_replaced_the_parts(model):
    c = model.manifest.config
    ablation = Ablation(heads=frozenset({(1, 2)}), mlps=frozenset({0}), mode="zero")
    trace = forward(model.run, c, PROMPT, ablation=ablation)
    assert not trace.head_outputs[1, 2].any() and not trace.mlp_out[0].any()
    np.testing.assert_allclose(trace.residual[1], trace.residual_mid[0], rtol=0, atol=0)


def test_mean_ablation_needs_the_whole_text_in_one_pass(model):
    c = model.manifest.config
    first = forward(model.run, c, PROMPT[:-1])
    mean = Ablation(heads=frozenset({(0, 0)}), mode="mean")
    with pytest.raises(ValueError, match="without the cache"):
        model_feeds(c, np.array(PROMPT[-1:]), cache_after(first), ablation=mean)


def test_mean_and_zero_ablation_differ(model):
    zero = model_logits(model, Ablation(heads=frozenset({(0, 0)}), mode="zero"))
    mean = model_logits(model, Ablation(heads=frozenset({(0, 0)}), mode="mean"))
    assert np.abs(zero - mean).max() > 1e-2


def test_ablation_rejects_parts_the_model_lacks(model):
    c = model.manifest.config
    with pytest.raises(ValueError, match="no head 4 in layer 0"):
        Ablation(heads=frozenset({(0, 4)})).feeds(c)
    with pytest.raises(ValueError, match="no block 2"):
        Ablation(mlps=frozenset({2})).feeds(c)
    with pytest.raises(ValueError, match="mode"):
        Ablation(mode="random")


def reference_lens() -> tuple[np.ndarray, np.ndarray]:
    """(L+1, T, K) top probabilities and ids of ln_f + tied output layer on every residual row."""
    w = {k: v.astype(np.float64) for k, v in tiny_weights().items()}
    residual = reference_forward(PROMPT, tiny_weights(), L, H)["residual"]  # (L+1, T, D)
    mean = residual.mean(-1, keepdims=True)
    std = np.sqrt(residual.var(-1, keepdims=True) + 1e-5)
    normed = (residual - mean) / std * w["ln_f.weight"] + w["ln_f.bias"]
    logits = normed @ w["wte.weight"].T  # (L+1, T, V)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    ids = np.argsort(-probs, axis=-1)[..., :LENS_TOP_K]
    return np.take_along_axis(probs, ids, -1), ids


def model_lens(model, n_positions: int = len(PROMPT)) -> tuple[LogitLens, dict]:
    c = model.manifest.config
    feeds = model_feeds(c, np.array(PROMPT), KVCache.empty(c), lens_positions=n_positions)
    outputs = model.run(feeds)
    return LogitLens.from_outputs(c.n_layer, len(PROMPT), outputs), outputs


def test_logit_lens_matches_the_reference_at_every_layer_and_position(model):
    lens, _ = model_lens(model)
    probs, ids = reference_lens()
    assert lens.first_position == 0
    assert lens.probs.shape == lens.ids.shape == (L + 1, len(PROMPT), LENS_TOP_K)
    np.testing.assert_allclose(lens.probs, probs, rtol=1e-3, atol=1e-6)
    assert (lens.ids[..., 0] == ids[..., 0]).all()  # ties below the top are possible in float32


def test_logit_lens_last_layer_is_the_models_own_prediction(model):
    lens, outputs = model_lens(model)
    last_logits = outputs["last_logits"]
    p = np.exp(last_logits - last_logits.max())
    p /= p.sum()
    order = np.argsort(-p)[:LENS_TOP_K]
    assert lens.ids[-1, -1].tolist() == order.tolist()
    np.testing.assert_allclose(lens.probs[-1, -1], p[order], rtol=1e-5)
    # every pass ends with the model's own last row, whatever the lens asked
    assert outputs["lens_ids"][-1].tolist() == order.tolist()


def test_the_lens_can_read_only_the_last_positions(model):
    full, _ = model_lens(model)
    last3, outputs = model_lens(model, 3)
    assert last3.first_position == len(PROMPT) - 3
    assert outputs["lens_probs"].shape == ((L + 1) * 3 + 1, LENS_TOP_K)
    np.testing.assert_array_equal(last3.ids, full.ids[:, -3:])
    np.testing.assert_allclose(last3.probs, full.probs[:, -3:], rtol=1e-6)


def test_lens_rows_are_depth_by_depth():
    assert lens_rows(2, 3, 0).tolist() == []
    assert lens_rows(2, 3, 3).tolist() == list(range(9))
    assert lens_rows(2, 3, 1).tolist() == [2, 5, 8]  # the last position at depths 0, 1, 2


def test_lens_outputs_of_another_shape_are_refused():
    outputs = {"lens_probs": np.ones((5, 5), np.float32), "lens_ids": np.ones((5, 5), np.int64)}
    with pytest.raises(ValueError, match="4 lens rows are not 3 depths"):
        LogitLens.from_outputs(2, 8, outputs)


def test_int8_lens_agrees_with_fp32_at_the_top(tiny_int8, model):
    int8_lens, _ = model_lens(open_model_dir(tiny_int8))
    fp32_lens, _ = model_lens(model)
    agree = (int8_lens.ids[..., 0] == fp32_lens.ids[..., 0]).mean()
    assert agree >= 0.9
