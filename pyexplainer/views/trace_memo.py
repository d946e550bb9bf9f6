"""What the views need from one trace, worked out once and shared by every view that shows it.

A block's attention steps (Trace.attention: scores, mask, softmax) feed four views of the
attention stage: the heatmaps, the head view, the head statistics and the debugging histograms.
Worked out by each, they cost four times the numpy; here each view of a block, and the steps
they share, are computed the first time one is asked for and kept while the trace is the same
object. Another trace (a run, a generation step) drops all of it.

Only the block last asked for is kept: the steps of one block of GPT-2 small over its whole
context are (H, T, S) arrays of about 200 MB together, too much to keep for twelve blocks.
The views of the whole model (the overview, the head roles) are small and kept for the trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from pyexplainer.core.attention import AttentionSteps
from pyexplainer.core.trace import Trace
from pyexplainer.views.attention import AttentionGridView, attention_grid
from pyexplainer.views.attention_lines import AttentionLinesView, attention_lines
from pyexplainer.views.debugging import DebuggingView, debugging
from pyexplainer.views.head_roles import HeadRolesView, head_roles
from pyexplainer.views.interpretability import InterpretabilityView, interpretability
from pyexplainer.views.overview import OverviewView, overview
from pyexplainer.views.tokens import TokenView

Value = TypeVar("Value")


class TraceMemo:
    """The views of one trace (and of one block of it), each computed once. The tokens passed
    with a trace must be that trace's tokens: they change only with the trace."""

    def __init__(self):
        self.trace: Trace | None = None
        self.block: int | None = None
        self.of_trace: dict[tuple, object] = {}  # views of the whole model
        self.of_block: dict[tuple, object] = {}  # views of self.block
        self.computed = 0  # how many values were worked out (not found): for tests

    def _for(self, trace: Trace, block: int | None) -> dict[tuple, object]:
        """The dictionary of `trace` (and of `block`, if one), emptied when either changed."""
        if trace is not self.trace:
            self.trace, self.block = trace, None
            self.of_trace, self.of_block = {}, {}
        if block is None:
            return self.of_trace
        if block != self.block:
            self.block, self.of_block = block, {}
        return self.of_block

    def _remembered(
        self, trace: Trace, block: int | None, key: tuple, compute: Callable[[], Value]
    ) -> Value:
        values = self._for(trace, block)
        if key not in values:
            values[key] = compute()
            self.computed += 1
        return values[key]

    def attention(self, trace: Trace, layer: int) -> AttentionSteps:
        """trace.attention(layer), once."""
        return self._remembered(trace, layer, ("steps",), lambda: trace.attention(layer))

    def grid(self, trace: Trace, tokens: Sequence[TokenView], layer: int) -> AttentionGridView:
        steps = self.attention(trace, layer)
        return self._remembered(
            trace, layer, ("grid",), lambda: attention_grid(trace, tokens, layer, steps=steps)
        )

    def lines(self, trace: Trace, tokens: Sequence[TokenView], layer: int) -> AttentionLinesView:
        steps = self.attention(trace, layer)
        return self._remembered(
            trace, layer, ("lines",), lambda: attention_lines(trace, tokens, layer, steps=steps)
        )

    def interpretability(
        self, trace: Trace, tokens: Sequence[TokenView], layer: int, threshold: float
    ) -> InterpretabilityView:
        steps = self.attention(trace, layer)
        return self._remembered(
            trace,
            layer,
            ("interpretability", threshold),
            lambda: interpretability(trace, tokens, layer, threshold=threshold, steps=steps),
        )

    def debugging(self, trace: Trace, layer: int, head: int) -> DebuggingView:
        steps = self.attention(trace, layer)
        return self._remembered(
            trace, layer, ("debugging", head), lambda: debugging(trace, layer, head, steps=steps)
        )

    def head_roles(self, trace: Trace, induction: np.ndarray | None) -> HeadRolesView:
        """The head roles of every block (their steps are not kept: one block at a time);
        the induction scores are known by identity (they arrive once per model)."""
        return self._remembered(
            trace, None, ("head_roles", id(induction)), lambda: head_roles(trace, induction)
        )

    def overview(self, trace: Trace) -> OverviewView:
        return self._remembered(trace, None, ("overview",), lambda: overview(trace))
