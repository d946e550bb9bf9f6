"""The logit lens and the what-if ablation, computed by the exported model, against the tests'
own loop reference (tests/gpt2_reference.py) with the same parts switched off."""

import numpy as np
import pytest

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.generation import KVCache, forward, model_feeds
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
    c = model.manifest.config
    plain = model.run(model_feeds(c, np.array(PROMPT), KVCache.empty(c)))
    for empty in (Ablation(mode="zero"), Ablation(mode="mean")):
        again = model.run(model_feeds(c, np.array(PROMPT), KVCache.empty(c), empty))
        for name, value in plain.items():
            np.testing.assert_array_equal(again[name], value, err_msg=name)  # bit for bit
    close(plain["last_logits"], reference_logits())


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


def model_lens(model) -> tuple[LogitLens, np.ndarray]:
    c = model.manifest.config
    outputs = model.run(model_feeds(c, np.array(PROMPT), KVCache.empty(c), lens=True))
    return LogitLens.from_outputs(c.n_layer, outputs), outputs["last_logits"]


def test_logit_lens_matches_the_reference_at_every_layer_and_position(model):
    lens, _ = model_lens(model)
    probs, ids = reference_lens()
    assert lens.probs.shape == lens.ids.shape == (L + 1, len(PROMPT), LENS_TOP_K)
    np.testing.assert_allclose(lens.probs, probs, rtol=1e-3, atol=1e-6)
    assert (lens.ids[..., 0] == ids[..., 0]).all()  # ties below the top are possible in float32


def test_logit_lens_last_layer_is_the_models_own_prediction(model):
    lens, last_logits = model_lens(model)
    p = np.exp(last_logits - last_logits.max())
    p /= p.sum()
    order = np.argsort(-p)[:LENS_TOP_K]
    assert lens.ids[-1, -1].tolist() == order.tolist()
    np.testing.assert_allclose(lens.probs[-1, -1], p[order], rtol=1e-5)


def test_a_plain_pass_reads_only_the_last_row():
    assert lens_rows(2, 3, every_row=False).tolist() == [8]
    assert lens_rows(2, 3, every_row=True).tolist() == list(range(9))


def test_int8_lens_agrees_with_fp32_at_the_top(tiny_int8, model):
    int8_lens, _ = model_lens(open_model_dir(tiny_int8))
    fp32_lens, _ = model_lens(model)
    agree = (int8_lens.ids[..., 0] == fp32_lens.ids[..., 0]).mean()
    assert agree >= 0.9
