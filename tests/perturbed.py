"""For the tests of the page's checks: a trace with one traced number moved by a known amount, and
the assertion that a check's figure reports that amount.

A check compares a recomputation (float64, from traced inputs) with one of the model's float32
outputs. Moving one element of either side by DELTA must move the figure to DELTA, give or take
the honest figure (the rounding of the untouched elements) and the float32 rounding of the move.
"""

import dataclasses

import numpy as np
import pytest

from pyexplainer.core.trace import Trace

DELTA = 1e-3  # far above float32 rounding of the tiny model's numbers (~1e-7), far below them


def perturbed(trace: Trace, name: str, index: tuple[int, ...], delta: float = DELTA) -> Trace:
    """`trace` with trace.<name>[index] increased by delta (in a copy: the trace is unchanged)."""
    moved = np.array(getattr(trace, name), copy=True)
    moved[index] += delta
    return dataclasses.replace(trace, **{name: moved})


def assert_reports(figure: float, honest: float, delta: float = DELTA) -> None:
    """`figure`, of a check on a trace moved by delta, reports delta; `honest` is its figure on
    the unmoved trace."""
    assert figure == pytest.approx(delta, abs=honest + 1e-6)
