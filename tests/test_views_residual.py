"""The residual stream view against the norms of the tests' loop reference."""

import numpy as np
import pytest

from pyexplainer.views.residual import residual_view
from tests.conftest import TINY
from tests.perturbed import assert_reports, perturbed
from tests.view_case import CACHED, view_case

L = TINY["n_layer"]


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def norms(x):
    return np.sqrt((np.asarray(x) ** 2).sum(axis=-1))


def test_norms_of_the_stream_and_of_what_each_block_adds(case):
    ref = case.reference
    view = residual_view(case.trace, case.tokens)
    t = len(case.ids)
    assert view.entering.shape == (L, t)
    np.testing.assert_allclose(view.entering, norms(ref["residual"][:L]), rtol=1e-4)
    np.testing.assert_allclose(view.after_attention, norms(ref["residual_mid"]), rtol=1e-4)
    np.testing.assert_allclose(view.after_mlp, norms(ref["residual"][1:]), rtol=1e-4)
    np.testing.assert_allclose(view.attention_added, norms(ref["attn_out"]), rtol=1e-4)
    np.testing.assert_allclose(view.mlp_added, norms(ref["mlp_out"]), rtol=1e-4)
    np.testing.assert_array_equal(view.positions, np.arange(t))
    assert view.labels == tuple(v.label for v in case.tokens)


def exact_add_error(before, added, after) -> float:
    """max over elements of |before + added - after|, each sum in Python floats (float64)."""
    return max(
        abs(float(b) + float(a) - float(c))
        for b, a, c in zip(before.ravel(), added.ravel(), after.ravel(), strict=True)
    )


def test_the_add_check_is_the_models_float32_adds_against_exact_ones(case):
    t = case.trace
    view = residual_view(t, case.tokens)
    expected = max(
        exact_add_error(t.residual[:L], t.attn_out, t.residual_mid),
        exact_add_error(t.residual_mid, t.mlp_out, t.residual[1:]),
    )
    assert view.add_mismatch == pytest.approx(expected)
    assert 0 < view.add_mismatch < 1e-5


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("residual_mid", (1, 4, 7)),  # both adds of block 1 see it
        ("attn_out", (0, 10, 0)),
        ("mlp_out", (1, 0, 31)),
        ("residual", (0, 2, 2)),  # the stream entering block 0
        ("residual", (L, 6, 1)),  # the stream leaving the last block
    ],
)
def test_the_add_check_reports_a_moved_number(case, name, index):
    honest = residual_view(case.trace, case.tokens).add_mismatch
    moved = residual_view(perturbed(case.trace, name, index), case.tokens)
    assert_reports(moved.add_mismatch, honest)


def test_a_cached_step_covers_its_new_tokens(case):
    full = residual_view(case.trace, case.tokens)
    step = residual_view(case.chunked, case.tokens)
    np.testing.assert_array_equal(step.positions, np.arange(CACHED, len(case.ids)))
    assert step.labels == full.labels[CACHED:]
    np.testing.assert_allclose(step.after_mlp, full.after_mlp[:, CACHED:], rtol=1e-5)
