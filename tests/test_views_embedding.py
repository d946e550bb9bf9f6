"""The embedding view against the checkpoint's own wte and wpe rows and the loop reference."""

import numpy as np
import pytest

from pyexplainer.views.embedding import embedding_view
from tests.conftest import tiny_weights
from tests.perturbed import assert_reports, perturbed
from tests.view_case import CACHED, TEXT, view_case


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def test_rows_are_the_embedding_matrices_rows_and_their_sum(case):
    w = tiny_weights()
    view = embedding_view(case.trace, case.tokens)
    assert [r.token_id for r in view.rows] == case.ids
    assert [r.position for r in view.rows] == list(range(len(case.ids)))
    for row, token in zip(view.rows, case.tokens, strict=True):
        assert row.label == token.label
        assert TEXT[row.start : row.end] == token.label  # ASCII text: labels are the spans
        np.testing.assert_array_equal(row.token_embedding, w["wte.weight"][row.token_id])
        np.testing.assert_array_equal(row.position_embedding, w["wpe.weight"][row.position])
        np.testing.assert_array_equal(row.embedding, row.token_embedding + row.position_embedding)
    np.testing.assert_allclose(
        [r.embedding for r in view.rows], case.reference["residual"][0], rtol=1e-6, atol=1e-7
    )


def test_the_sum_check_is_the_models_float32_sum_against_the_exact_one(case):
    """The reference adds the checkpoint's rows in float64: exactly, so what differs from it is
    the model's rounding of its float32 add, and that is not 0 on 11 x 32 sums."""
    view = embedding_view(case.trace, case.tokens)
    exact = case.reference["residual"][0]  # (T, D) float64 wte + wpe
    assert view.sum_mismatch == pytest.approx(np.abs(exact - case.trace.residual[0]).max())
    assert 0 < view.sum_mismatch < 1e-6


@pytest.mark.parametrize(
    ("name", "index"),
    [("residual", (0, 3, 5)), ("token_embedding", (0, 0)), ("position_embedding", (10, 31))],
)
def test_the_sum_check_reports_a_moved_number(case, name, index):
    honest = embedding_view(case.trace, case.tokens).sum_mismatch
    moved = embedding_view(perturbed(case.trace, name, index), case.tokens)
    assert_reports(moved.sum_mismatch, honest)


def test_one_colour_range_holds_every_strip(case):
    view = embedding_view(case.trace, case.tokens)
    largest = max(
        np.abs(getattr(r, name)).max()
        for r in view.rows
        for name in ("token_embedding", "position_embedding", "embedding")
    )
    assert view.color_limit == pytest.approx(largest)


def test_a_cached_step_shows_its_new_tokens_at_their_absolute_positions(case):
    view = embedding_view(case.chunked, case.tokens)
    assert [r.position for r in view.rows] == list(range(CACHED, len(case.ids)))
    assert [r.token_id for r in view.rows] == case.ids[CACHED:]
    wpe = tiny_weights()["wpe.weight"]
    np.testing.assert_array_equal(view.rows[0].position_embedding, wpe[CACHED])
