"""The page of one session: its state (views.state.State, what it shows, replaced whole at each
event by `show`), the model it runs, and the machinery around them: the renderer and what it
drew, the trace memo, the order of the actions asked for, the timings."""

from __future__ import annotations

import asyncio
import functools

import numpy as np

from pyexplainer.page import actions, queue, render
from pyexplainer.page.detail import StageDrawn
from pyexplainer.page.links import update_address
from pyexplainer.page.model_picker import ModelPicker
from pyexplainer.runtime.ort_browser import BrowserRunner
from pyexplainer.ui.attention_lines import HeadView
from pyexplainer.ui.matrix import Matrices
from pyexplainer.views.state import State, attribution_wanted, induction_wanted, lens_wanted
from pyexplainer.views.trace_memo import TraceMemo

INDUCTION_HALF = 50  # random tokens the induction pass repeats once (fewer in a short context)


class Page:
    """The loaded model, the state of one session on the page, and what draws it."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.state = State()
        self.drawing = False  # show() is redrawing
        self.renderer = render.Renderer()
        self.stage_drawn = StageDrawn()  # the open stage's panels (detail.py)
        self.memo = TraceMemo()  # what the views of one trace share
        self.matrices = Matrices()
        self.head_view = HeadView()  # attention as lines, in the attention stage
        self.rng = np.random.default_rng(0)
        self.timings: dict[str, float] = {}  # of the last action, shown on the status element
        self.timings_of_last_step = 0.0  # ms of the last model run
        self.tour_cards: tuple = ()
        self.tour_step = 0
        self.status_state = "loading"  # a key of status.STATUS_MESSAGES, or "error"
        self.source = None  # where the running model came from (ui.sources), once loaded
        self.picker = ModelPicker(self)
        self.caps = None  # what the browser offers (WebGPU, threads), once loaded
        self.runner: BrowserRunner | None = None  # the inference session, once loaded
        self.lens_running = False
        self.induction_running = False
        self.attribution_running = False
        self.show_flow_end = True  # the overview opens scrolled to its end (a new model)
        self.stop_generating = False  # Stop was pressed: "Generate N" ends before its next token
        self.busy = asyncio.Lock()  # one action at a time: the lens may start one in the back
        self.queued = 0  # actions asked for and not finished
        # Actions and picks are numbered in the order the student asked for them: what is on
        # screen when they stop is what the last ones ask for (tests/test_browser_rapid.py).
        self.asked = 0  # the number of the last action or pick asked for
        self.last_run_asked = 0  # a Run replaces whatever was asked before it
        self.position_asked = 0  # when the student last picked a token
        self.acting = 0  # the number of the action under way
        self._handlers = []  # proxies kept alive for the page's lifetime

    def show(self, state: State) -> None:
        """The page turns to `state`: the panels it changed are redrawn, the address bar holds
        its link, and a result its stage needs (the lens, the induction scores) is started.
        A redraw can fire an event itself (a focused field it replaces blurs and says it
        changed): that event's state is drawn once this redraw is done, never in the middle of
        it, where it would find half the panels replaced."""
        self.state = state
        if self.drawing:
            return
        self.drawing = True
        try:
            drawn = None
            while drawn is not self.state:
                drawn = self.state
                try:
                    render.render(self, drawn)
                finally:
                    update_address(self)
        finally:
            self.drawing = False
        self.start_wanted()

    def start_wanted(self) -> None:
        """Start computing the lens, the induction scores or the attribution's parts when their
        stage is open without them; each draws itself through show() when it arrives."""
        state = self.state
        if lens_wanted(state) and not self.lens_running:
            self.lens_running = True
            work = functools.partial(actions.compute_lens, self)
            asyncio.ensure_future(queue.guarded(self, work))
        if induction_wanted(state) and not self.induction_running:
            self.induction_running = True
            work = functools.partial(actions.compute_induction, self)
            asyncio.ensure_future(queue.guarded(self, work))
        wanted = state.full is not None and attribution_wanted(state, self.tokenizer.never_sampled)
        if wanted and not self.attribution_running:  # (a model's tokenizer once it has run)
            self.attribution_running = True
            work = functools.partial(actions.compute_attribution, self)
            asyncio.ensure_future(queue.guarded(self, work))

    @property
    def locale(self) -> str:
        return self.state.locale

    @property
    def model_name(self) -> str:
        return self.state.model

    @property
    def config(self):
        return self.manifest.config

    @property
    def induction_half(self) -> int:
        return min(INDUCTION_HALF, self.config.n_positions // 2)
