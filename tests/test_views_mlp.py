"""GELU and the MLP view against an independent GELU and the tests' loop reference."""

import math

import numpy as np
import pytest

from pyexplainer.core.mlp import gelu
from pyexplainer.views.mlp import CURVE_POINTS, HISTOGRAM_BINS, mlp_view
from tests.conftest import TINY
from tests.perturbed import DELTA, assert_reports, perturbed
from tests.test_views_residual import exact_add_error
from tests.view_case import CACHED, view_case

D = TINY["n_embd"]


def gelu_by_hand(x: float) -> float:
    """GPT-2's gelu_new, written from the formula."""
    return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def test_gelu_is_gpt2s_tanh_form():
    x = np.linspace(-6, 6, 121)
    np.testing.assert_allclose(gelu(x), [gelu_by_hand(v) for v in x], rtol=1e-12, atol=1e-15)
    assert gelu(np.float32([1.0])).dtype == np.float32


def test_gelu_matches_transformers_gelu_new_when_installed():
    torch = pytest.importorskip("torch")
    activations = pytest.importorskip("transformers.activations")
    x = np.linspace(-8, 8, 401, dtype=np.float32)
    expected = activations.ACT2FN["gelu_new"](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(gelu(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("layer", "position"), [(0, 0), (1, 6)])
def test_mlp_view_matches_the_reference(case, layer, position):
    ref = case.reference
    view = mlp_view(case.trace, case.tokens, layer, position)
    assert (view.layer, view.position, view.label) == (layer, position, case.tokens[position].label)
    np.testing.assert_allclose(view.input, ref["ln2_out"][layer, position], rtol=1e-4, atol=2e-5)
    pre = ref["mlp_pre"][layer, position]
    assert view.pre.shape == (4 * D,)
    np.testing.assert_allclose(view.pre, pre, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(
        view.activated, ref["mlp_act"][layer, position], rtol=1e-4, atol=2e-5
    )
    np.testing.assert_allclose(view.model_activated, view.activated, atol=1e-5)
    np.testing.assert_allclose(view.output, ref["mlp_out"][layer, position], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(
        view.residual_before, ref["residual_mid"][layer, position], atol=2e-5
    )
    np.testing.assert_allclose(view.residual_after, ref["residual"][layer + 1, position], atol=2e-5)


@pytest.mark.parametrize(("layer", "position"), [(0, 0), (1, 6)])
def test_the_checks_compare_float64_recomputations_with_the_models_numbers(case, layer, position):
    """GELU by hand of the model's mlp_pre against its mlp_act; the exact residual add of the
    model's stream and MLP output against its next stream. Neither is 0: the model is float32."""
    t = case.trace
    view = mlp_view(t, case.tokens, layer, position)
    pre, act = t.mlp_pre[layer, position], t.mlp_act[layer, position]  # (4D,)
    gelu_error = max(abs(gelu_by_hand(float(x)) - float(y)) for x, y in zip(pre, act, strict=True))
    assert view.gelu_mismatch == pytest.approx(gelu_error, rel=1e-6)
    assert 0 < view.gelu_mismatch < 1e-5
    add_error = exact_add_error(
        t.residual_mid[layer, position], t.mlp_out[layer, position], t.residual[layer + 1, position]
    )
    assert view.add_mismatch == pytest.approx(add_error)
    assert 0 < view.add_mismatch < 1e-5


@pytest.mark.parametrize(
    ("name", "index", "figure"),
    [
        ("mlp_act", (1, 6, 100), "gelu_mismatch"),
        ("mlp_pre", (1, 6, 0), "gelu_mismatch"),  # the recomputed side moves
        ("residual", (2, 6, 5), "add_mismatch"),
        ("residual_mid", (1, 6, 31), "add_mismatch"),
        ("mlp_out", (1, 6, 0), "add_mismatch"),
    ],
)
def test_the_checks_report_a_moved_number(case, name, index, figure):
    honest = getattr(mlp_view(case.trace, case.tokens, 1, 6), figure)
    trace = perturbed(case.trace, name, index)
    delta = DELTA
    if name == "mlp_pre":  # GELU's slope is not 1: the recomputed GELU moves by less
        before, after = (float(t.mlp_pre[index]) for t in (case.trace, trace))
        delta = abs(gelu_by_hand(after) - gelu_by_hand(before))
    assert_reports(getattr(mlp_view(trace, case.tokens, 1, 6), figure), honest, delta)


def test_gelu_curve_spans_the_tokens_pre_activations_and_the_shares_count_them(case):
    view = mlp_view(case.trace, case.tokens, 1, 3)
    pre = case.reference["mlp_pre"][1, 3]
    assert view.curve_x.shape == view.curve_y.shape == (CURVE_POINTS,)
    assert view.curve_x[0] == pytest.approx(pre.min(), rel=1e-4)
    assert view.curve_x[-1] == pytest.approx(pre.max(), rel=1e-4)
    np.testing.assert_allclose(view.curve_y, [gelu_by_hand(x) for x in view.curve_x], rtol=1e-12)
    assert view.histogram_counts.shape == (HISTOGRAM_BINS,)
    assert view.histogram_edges.shape == (HISTOGRAM_BINS + 1,)
    assert view.histogram_counts.sum() == 4 * D
    inside = (pre >= view.histogram_edges[5]) & (pre < view.histogram_edges[6])
    assert view.histogram_counts[5] == inside.sum()
    assert view.off_below == -2.0
    assert view.gelu_at_off_below == pytest.approx(gelu_by_hand(-2.0))
    assert view.off_share == pytest.approx(np.mean(pre < -2.0))
    assert view.negative_share == pytest.approx(np.mean(pre < 0))


def test_a_cached_step_shows_the_same_mlp(case):
    full = mlp_view(case.trace, case.tokens, 1, CACHED + 1)
    step = mlp_view(case.chunked, case.tokens, 1, CACHED + 1)
    np.testing.assert_allclose(step.model_activated, full.model_activated, atol=1e-5)


def test_bad_selections_are_named(case):
    with pytest.raises(ValueError, match="layer must be in 0 .. 1"):
        mlp_view(case.trace, case.tokens, 2, 0)
    with pytest.raises(ValueError, match="position -1 was not computed"):
        mlp_view(case.trace, case.tokens, 0, -1)
