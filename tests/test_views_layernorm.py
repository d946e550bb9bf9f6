"""The layer norms' learned scale and shift in the trace, and the layer-norm view, against the
checkpoint's weights and the tests' loop reference."""

import json

import numpy as np
import pytest

from export.checkpoint import load_checkpoint
from pyexplainer.core.generation import forward
from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.layernorm import layer_norm_view
from tests.conftest import TINY
from tests.gpt2_reference import _layer_norm
from tests.perturbed import assert_reports, perturbed
from tests.view_case import CACHED, view_case

L, D = TINY["n_layer"], TINY["n_embd"]


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


@pytest.mark.parametrize("export", ["tiny_fp32", "tiny_int8"])
def test_traced_gains_and_biases_are_the_checkpoints_weights(export, tiny_checkpoint, request):
    """Layer-norm parameters are never quantized: even the int8 export traces them exactly."""
    weights = load_checkpoint(str(tiny_checkpoint)).weights
    model = open_model_dir(request.getfixturevalue(export))
    trace = forward(model.run, model.manifest.config, [464, 3797, 3332])
    for which, name in [("ln1", "ln_1"), ("ln2", "ln_2")]:
        for part, weight in [("gain", "weight"), ("bias", "bias")]:
            traced = getattr(trace, f"{which}_{part}")
            assert traced.shape == (L, D)
            for layer in range(L):
                np.testing.assert_array_equal(traced[layer], weights[f"h.{layer}.{name}.{weight}"])
    np.testing.assert_array_equal(trace.lnf_gain, weights["ln_f.weight"])
    np.testing.assert_array_equal(trace.lnf_bias, weights["ln_f.bias"])


def test_manifest_lists_the_gains_and_biases(tiny_int8):
    outputs = json.loads((tiny_int8 / "manifest.json").read_text())["outputs"]
    for name in ("ln1_gain", "ln1_bias", "ln2_gain", "ln2_bias"):
        assert outputs[name]["shape"] == [L, D] and outputs[name]["dtype"] == "float32"
    assert outputs["lnf_gain"]["shape"] == [D] and outputs["lnf_bias"]["shape"] == [D]


def test_each_layer_norm_output_is_gain_times_normalised_input_plus_bias(case):
    t = case.trace
    for x, mean, std, gain, bias, out in [
        (t.residual[:-1], t.ln1_mean, t.ln1_std, t.ln1_gain, t.ln1_bias, t.ln1_out),
        (t.residual_mid, t.ln2_mean, t.ln2_std, t.ln2_gain, t.ln2_bias, t.ln2_out),
        (t.residual[-1], t.lnf_mean, t.lnf_std, t.lnf_gain, t.lnf_bias, t.lnf_out),
    ]:
        gain, bias = (a[..., None, :] for a in (gain, bias))  # (L, 1, D) or (1, D)
        expected = gain * (x - mean[..., None]) / std[..., None] + bias
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def reference_layer_norm(ref: dict, which: str, layer: int, position: int) -> tuple:
    """input, mean, std, gain, bias, output of one layer norm at one position, from the
    reference (float64)."""
    if which == "lnf":
        x = ref["residual"][L, position]
        stats = [ref[f"lnf_{part}"][position] for part in ("mean", "std")]
        params = [ref["lnf_gain"], ref["lnf_bias"]]
        return (x, *stats, *params, ref["lnf_out"][position])
    x = ref["residual" if which == "ln1" else "residual_mid"][layer, position]
    stats = [ref[f"{which}_{part}"][layer, position] for part in ("mean", "std")]
    params = [ref[f"{which}_{part}"][layer] for part in ("gain", "bias")]
    return (x, *stats, *params, ref[f"{which}_out"][layer, position])


@pytest.mark.parametrize(("which", "layer"), [("ln1", 0), ("ln1", 1), ("ln2", 1), ("lnf", L)])
def test_layer_norm_view_matches_the_reference(case, which, layer):
    position = 4
    view = layer_norm_view(case.trace, case.config, case.tokens, which, layer, position)
    x, mean, std, gain, bias, out = reference_layer_norm(case.reference, which, layer, position)
    assert (view.which, view.layer, view.position) == (which, layer, position)
    assert view.label == case.tokens[position].label
    np.testing.assert_allclose(view.input, x, rtol=1e-4, atol=2e-5)
    assert view.mean == pytest.approx(mean, rel=1e-4, abs=2e-5)
    assert view.std == pytest.approx(std, rel=1e-4)
    assert view.std == pytest.approx(np.sqrt(np.var(x) + 1e-5), rel=1e-4)
    assert view.epsilon == 1e-5
    np.testing.assert_allclose(view.normalised, (x - mean) / std, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(view.gain, gain, rtol=1e-6)
    np.testing.assert_allclose(view.bias, bias, rtol=1e-6)
    np.testing.assert_allclose(view.output, out, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(view.rebuilt, out, rtol=1e-4, atol=2e-5)


# (which, layer, the trace's output of that layer norm, its index at position 4, dimension 9)
OUTPUTS = [
    ("ln1", 0, "ln1_out", (0, 4, 9)),
    ("ln2", 1, "ln2_out", (1, 4, 9)),
    ("lnf", L, "lnf_out", (4, 9)),
]


@pytest.mark.parametrize(("which", "layer", "name", "index"), OUTPUTS)
def test_the_check_is_a_float64_layer_norm_of_the_traced_input_against_the_models(
    case, which, layer, name, index
):
    """The reference's loop layer norm (its own mean and variance, epsilon 1e-5) of the model's
    own input, against the model's float32 output: they differ by the model's rounding, not 0."""
    t, position = case.trace, 4
    view = layer_norm_view(t, case.config, case.tokens, which, layer, position)
    gain = t.lnf_gain if which == "lnf" else getattr(t, f"{which}_gain")[layer]
    bias = t.lnf_bias if which == "lnf" else getattr(t, f"{which}_bias")[layer]
    x = view.input.astype(np.float64)[None]  # (1, D): the traced input, checked above
    expected, _, _ = _layer_norm(x, gain.astype(np.float64), bias.astype(np.float64), 1e-5)
    model = getattr(t, name)[index[:-1]]  # (D,)
    np.testing.assert_array_equal(view.output, model)
    assert view.max_difference == pytest.approx(np.abs(expected[0] - model).max(), rel=1e-6)
    assert 0 < view.max_difference < 1e-5


@pytest.mark.parametrize(("which", "layer", "name", "index"), OUTPUTS)
def test_the_check_reports_a_moved_output(case, which, layer, name, index):
    honest = layer_norm_view(case.trace, case.config, case.tokens, which, layer, 4).max_difference
    moved = perturbed(case.trace, name, index)
    view = layer_norm_view(moved, case.config, case.tokens, which, layer, 4)
    assert_reports(view.max_difference, honest)


def test_layer_norm_view_of_a_cached_step_uses_absolute_positions(case):
    full = layer_norm_view(case.trace, case.config, case.tokens, "ln2", 1, CACHED + 2)
    step = layer_norm_view(case.chunked, case.config, case.tokens, "ln2", 1, CACHED + 2)
    np.testing.assert_allclose(step.output, full.output, atol=1e-5)
    assert step.label == full.label


@pytest.mark.parametrize(
    ("which", "layer", "position", "message"),
    [
        ("ln3", 0, 0, "which must be one of ln1, ln2, lnf"),
        ("lnf", 0, 0, "its layer is 2"),
        ("ln1", 2, 0, "layer must be in 0 .. 1"),
        ("ln1", -1, 0, "layer must be in 0 .. 1"),
        ("ln1", 0, 99, "position 99 was not computed"),
    ],
)
def test_bad_selections_are_named(case, which, layer, position, message):
    with pytest.raises(ValueError, match=message):
        layer_norm_view(case.trace, case.config, case.tokens, which, layer, position)


def test_a_position_from_the_cache_is_named(case):
    with pytest.raises(ValueError, match="earlier ones come from the key/value cache"):
        layer_norm_view(case.chunked, case.config, case.tokens, "ln1", 0, CACHED - 1)
