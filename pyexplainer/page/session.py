"""Everything the page knows, in one place: the model, the text and its tokens, the trace, the
open view, the student's settings, the results of the lens and the what-if, and the counters
that keep actions in the order asked."""

from __future__ import annotations

import asyncio

import numpy as np

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.trace import Trace
from pyexplainer.runtime.ort_browser import BrowserRunner
from pyexplainer.ui.attention_lines import HeadView
from pyexplainer.ui.matrix import Matrices
from pyexplainer.ui.models import ModelPicker
from pyexplainer.views.characters import unfinished_tail
from pyexplainer.views.interpretability import DEFAULT_THRESHOLD

INDUCTION_HALF = 50  # random tokens the induction pass repeats once (fewer in a short context)


class Page:
    """The loaded model and the state of one session on the page."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.text = ""
        self.prompt_ids: list[int] = []
        self.generated_ids: list[int] = []
        self.trace: Trace | None = None  # the last step (after a generation step: one token)
        self.full: Trace | None = None  # every position so far, the steps joined
        self.stage: tuple = ("embedding",)  # what the detail panel shows
        self.head = 0
        self.threshold = DEFAULT_THRESHOLD  # of the sparsity metrics, set by the student
        self.model_name = ""
        self.embed = False  # shown in an iframe: the open view only (?embed=1)
        self.role = "previous_token"  # the head role the ranked list sorts by
        self.role_minimum = 0.0  # the list shows heads scoring at least this
        self.induction: np.ndarray | None = None  # (L, H) scores, once the head roles need them
        self.induction_running = False
        self.position = 0  # absolute position of the token the detail views follow
        self.matrices = Matrices()
        self.head_view = HeadView()  # attention as lines, in the attention stage
        self.line_heads: tuple[int, ...] | None = None  # the heads it shows; None: every head
        self.rng = np.random.default_rng(0)
        self.timings: dict[str, float] = {}  # of the last action, shown on the status element
        self.timings_of_last_step = 0.0  # ms of the last model run
        self.token_list: list = []  # token_views of the text and what was generated
        self.token_groups: list = []  # the same tokens by the characters they spell
        self.tour_cards: tuple = ()
        self.tour_step = 0
        self.locale = "en"
        self.status_state = "loading"  # a key of ui.status.*, or "error"
        self.source = None  # where the running model came from (ui.sources), once loaded
        self.picker = ModelPicker(self)
        self.caps = None  # what the browser offers (WebGPU, threads), once loaded
        self.runner: BrowserRunner | None = None  # the inference session, once loaded
        self.recompute_values: dict | None = None  # of the last recompute check, shown
        self.ablation = Ablation()  # the parts the what-if switches off, as ticked
        self.lens: tuple | None = None  # (token ids, LogitLensView) of the last logit lens
        self.what_if: tuple | None = None  # (token ids, WhatIfView) of the last what-if run
        self.lens_partial: tuple | None = None  # (token ids, LogitLensView) of the spans so far
        self.lens_running = False
        self.context_note: tuple[str, dict] | None = None  # what say_context said, redrawn
        self.generate_note: tuple[str, dict] | None = None  # what generating.say said, redrawn
        self.show_flow_end = (
            True  # the overview opens scrolled to its end (a new model's first draw)
        )
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

    @property
    def all_ids(self) -> tuple[int, ...]:
        return tuple(self.prompt_ids + self.generated_ids)

    @property
    def pending(self) -> bytes:
        """The unfinished character the text ends in, which the next token may complete."""
        return unfinished_tail(self.tokenizer, self.all_ids)

    def current(self, result: tuple | None):
        """The view of a (token ids, view) result if it is for the text as it is now."""
        return result[1] if result is not None and result[0] == self.all_ids else None

    @property
    def config(self):
        return self.manifest.config

    @property
    def last_position(self) -> int:
        """Absolute position of the newest token, prompt and generated ones counted."""
        return len(self.prompt_ids) + len(self.generated_ids) - 1

    def tokens(self):
        """The tokens so far, with labels and spans (tokenized once per run or step)."""
        return self.token_list

    @property
    def induction_half(self) -> int:
        return min(INDUCTION_HALF, self.config.n_positions // 2)
