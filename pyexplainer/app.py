"""The page: events -> core -> views -> DOM. Runs in Pyodide on the page's main thread.

Python lives on the main thread because every view writes the DOM, and DOM calls from a worker
are each a synchronous round trip; the heavy part, inference, runs inside onnxruntime-web (its
WebAssembly threads, or the GPU), so the page stays responsive. Tokenizing, the numpy attention
decomposition and sampling take milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import traceback

import js  # Pyodide only
import numpy as np
from pyodide.ffi import create_once_callable, create_proxy

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.fit import last_tokens_that_fit
from pyexplainer.core.generation import KVCache, cache_after, checked_ids, lens_calls, model_feeds
from pyexplainer.core.lens import LogitLens
from pyexplainer.core.sampling import sample_next_token
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import LENS_OUTPUTS, Trace
from pyexplainer.manifest import (
    MODEL_FILE,
    TOKENIZER_FILES,
    check_file,
    manifest_from_bytes,
    quantized_fidelity,
)
from pyexplainer.messages import LOCALE_NAMES, choose_locale, described, format_number, text
from pyexplainer.runtime.ort_browser import BrowserRunner
from pyexplainer.ui import experiments, panels, snapshot
from pyexplainer.ui.dom import document, element, fill, make, options
from pyexplainer.ui.locale import (
    browser_languages,
    remember_locale,
    remembered_locale,
    translate_page,
)
from pyexplainer.ui.matrix import Matrices
from pyexplainer.ui.models import ModelPicker, release
from pyexplainer.ui.overview import draw_overview
from pyexplainer.views.attention import attention_grid, attention_row
from pyexplainer.views.debugging import debugging
from pyexplainer.views.embedding import embedding_view
from pyexplainer.views.head_roles import (
    INDUCTION_OUTPUTS,
    head_roles,
    induction_scores,
    repeated_random_tokens,
)
from pyexplainer.views.interpretability import DEFAULT_THRESHOLD, interpretability
from pyexplainer.views.layernorm import layer_norm_view
from pyexplainer.views.logit_lens import logit_lens_view
from pyexplainer.views.mlp import mlp_view
from pyexplainer.views.overview import overview
from pyexplainer.views.permalink import (
    PageState,
    generated_for_model,
    query_model,
    read_link,
    state_for_model,
    to_query,
)
from pyexplainer.views.predictions import SamplingSettings, output_view
from pyexplainer.views.residual import residual_view
from pyexplainer.views.stages import LAYER_NORMS, WHOLE_MODEL_STAGES, parse_stage
from pyexplainer.views.tokens import token_views
from pyexplainer.views.tour import tour
from pyexplainer.views.whatif import what_if_view

SHOWN_PREDICTIONS = 15
# off until the model is there (index.html), then always on: clicks while it runs queue up
MODEL_BUTTONS = ("run-button", "generate-button", "recompute-button")
FORM_FIELDS = ("INPUT", "SELECT", "TEXTAREA")
INDUCTION_HALF = 50  # random tokens the induction pass repeats once (fewer in a short context)


def set_status(message: str, state: str) -> None:
    """The status line shows `message`; data-state holds `state` ("loading", "running",
    "ready", "error", ...) for tests and tools, in every language."""
    status = element("status")
    status.textContent = message
    status.dataset.state = state
    status.classList.toggle("error", state == "error")


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
        self.rng = np.random.default_rng(0)
        self.timings: dict[str, float] = {}  # of the last action, shown on the status element
        self.timings_of_last_step = 0.0  # ms of the last model run
        self.token_list: list = []  # token_views of the text and what was generated
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
        self.lens_running = False
        self.context_note: tuple[str, dict] | None = None  # what say_context said, redrawn
        self.busy = asyncio.Lock()  # one action at a time: the lens may start one in the back
        self.queued = 0  # actions asked for and not finished
        # Actions and picks are numbered in the order the student asked for them: what is on
        # screen when they stop is what the last ones ask for (tests/test_browser_rapid.py).
        self.asked = 0  # the number of the last action or pick asked for
        self.last_run_asked = 0  # a Run replaces whatever was asked before it
        self.position_asked = 0  # when the student last picked a token
        self.acting = 0  # the number of the action under way
        self._handlers = []  # proxies kept alive for the page's lifetime

    # ------------------------------------------------------------------ loading

    async def open_model(self, source) -> None:
        """Open the model of `source` (ui.sources: the site's, or a folder from disk): its
        manifest, each file checked against it as it arrives, then the inference session. The
        page turns to it only once all of that worked: on a failure the running model runs on."""
        self.show_status("loading")
        self.caps = self.caps or await self.bridge.capabilities()
        loading = document.querySelector(".loading")
        loading.hidden = False
        try:
            manifest = manifest_from_bytes(await source.manifest_bytes())
            files = {name: await self.download(source, manifest, name) for name in TOKENIZER_FILES}
            model = await self.download(source, manifest, MODEL_FILE, into_js=True)
            tokenizer = Tokenizer.from_strings(
                files["vocab.json"].decode("utf-8"), files["merges.txt"].decode("utf-8")
            )
            self.show_status("starting_model")
            runner = await BrowserRunner.create(
                self.bridge, model, manifest.raw.get("parameters") or 0
            )
            del model  # onnxruntime-web copied it into its own memory: no second copy stays here
        finally:
            loading.hidden = self.runner is not None  # the first model's failure stays in view
        previous, self.runner = self.runner, runner
        self.manifest, self.tokenizer, self.source = manifest, tokenizer, source
        self.model_name = source.name or manifest.name
        self.trace = self.full = self.lens = self.what_if = self.induction = None
        self.ablation, self.recompute_values = Ablation(), None  # of the other model's parts
        if previous is not None:
            await release(previous)
        self.show_model_info()
        loading.hidden = True

    async def download(self, source, manifest, name: str, *, into_js: bool = False):
        """A file of the model, checked against the manifest: bytes, or with into_js a JS
        Uint8Array (for the model, which goes straight to onnxruntime-web)."""
        total = manifest.files[name]["bytes"]
        bar, label = element("load-progress"), element("load-label")
        bar.max = total

        def progress(received: int) -> None:
            bar.value = received
            label.textContent = text(
                "ui.download_progress",
                self.locale,
                name=name,
                received_mb=received / 1e6,
                total_mb=total / 1e6,
            )

        if into_js:
            return await source.read_js(name, manifest, progress)
        data = await source.read(name)
        progress(len(data))
        check_file(manifest, name, data)  # size and sha256, named in the message
        return data

    def show_status(self, state: str) -> None:
        """A ui.status.* message (loading, running, ready, ...) in the page's language."""
        self.status_state = state
        set_status(text(f"ui.status.{state}", self.locale), state)

    def show_error(self, message: str) -> None:
        self.status_state = "error"
        set_status(message, "error")

    def show_model_info(self) -> None:
        c, locale = self.manifest.config, self.locale
        facts = [
            text(
                "ui.model_info",
                locale,
                name=self.model_name,
                n_layer=c.n_layer,
                n_head=c.n_head,
                n_embd=c.n_embd,
                parameters_m=(self.manifest.raw.get("parameters") or 0) / 1e6,
                quantization=self.manifest.quantization,
                n_positions=c.n_positions,
            )
        ]
        fidelity = quantized_fidelity(self.manifest.raw)
        if fidelity:
            facts.append(
                text(
                    "ui.model_fidelity",
                    locale,
                    quantization=self.manifest.quantization,
                    **fidelity,
                )
            )
        training = self.manifest.raw.get("training")
        if training:
            facts.append(
                text(
                    "ui.model_perplexity",
                    locale,
                    perplexity=training["held_out"]["perplexity"],
                    baseline=training["unigram_baseline"]["perplexity"],
                )
            )
        backend = (
            "WebGPU"
            if self.runner.backend == "webgpu"
            else text("ui.backend_wasm", locale, threads=self.runner.threads)
        )
        if self.runner.note:  # why not WebGPU, in the page's language (the browser's own words)
            note = text(f"ui.{self.runner.note}", locale, error=self.runner.note_detail)
            backend = text("ui.backend_note", locale, backend=backend, note=note)
        if self.runner.backend == "wasm" and not self.caps.threads:
            backend += text("ui.facts_separator", locale) + text("ui.single_threaded", locale)
        facts.append(text("ui.running_on", locale, backend=backend))
        if self.source.from_disk:
            facts.append(text("ui.model_from_disk", locale, folder=self.source.folder or "."))
        if self.manifest.quantization != "fp32":  # runtime/weights.py chose
            facts.append(
                text(
                    "ui.weights_folded" if self.runner.folded else "ui.weights_kept",
                    locale,
                    quantization=self.manifest.quantization,
                )
            )
        element("model-info").textContent = text("ui.facts_separator", locale).join(facts)

    # ------------------------------------------------------------------ events

    def bind(self) -> None:
        for testid, event, handler in [
            ("run-button", "click", self.on_run),
            ("generate-button", "click", self.on_generate),
            ("recompute-button", "click", self.on_recompute),
            ("prediction-list", "click", self.on_pick),
            ("examples", "change", self.on_example),
            ("tour-button", "click", self.on_tour_start),
            ("tour", "click", self.on_tour_click),
            ("save-png", "click", self.on_save_png),
            ("save-svg", "click", self.on_save_svg),
            ("copy-link", "click", self.on_copy_link),
            ("keep-last-tokens", "click", self.on_keep_last_tokens),
            ("temperature", "input", self.on_settings),
            ("top-k", "input", self.on_settings),
            ("top-p", "input", self.on_settings),
            ("layer-select", "change", self.on_selection),
            ("head-select", "change", self.on_selection),
            ("position-select", "change", self.on_selection),
            ("layernorm-select", "change", self.on_selection),
            ("explainer", "click", self.on_click),
            ("explainer", "keydown", self.on_key),
            ("explainer", "change", self.on_change),
            ("explainer", "pointermove", self.matrices.hover),
            ("explainer", "pointerdown", self.matrices.hover),
        ]:
            proxy = create_proxy(handler)
            self._handlers.append(proxy)
            element(testid).addEventListener(event, proxy)
        keys = create_proxy(self.on_tour_key)
        self._handlers.append(keys)
        document.addEventListener("keydown", keys)

    def fill_examples(self) -> None:
        options(
            element("examples"),
            [("", text("ui.examples", self.locale))]
            + [(e, e) for e in text("ui.example_prompts", self.locale).split("\n")],
            "",
        )

    # ------------------------------------------------------------------ language

    def bind_locale_switch(self) -> None:
        """The language switch works from the start, while the model still loads."""
        options(element("locale-switch"), list(LOCALE_NAMES.items()), self.locale)
        proxy = create_proxy(self.on_locale)
        self._handlers.append(proxy)
        element("locale-switch").addEventListener("change", proxy)

    def on_locale(self, _event=None) -> None:
        locale = element("locale-switch").value
        remember_locale(locale)
        try:
            self.redraw("locale", lambda: self.set_locale(locale))
        except ValueError as e:  # a sampling setting that is not a number: say so, in `locale`
            self.show_error(str(e))

    def set_locale(self, locale: str) -> None:
        """Show the page in `locale`: its fixed strings, the status, and whatever is drawn."""
        info, copied = element("copy-link-info"), text("ui.link_copied", self.locale)
        self.locale = locale
        translate_page(document, locale)
        element("locale-switch").value = locale
        if self.status_state != "error":  # an error stays as it was said
            self.show_status(self.status_state)
        if info.textContent == copied:
            info.textContent = text("ui.link_copied", locale)
        self.fill_examples()
        if self.runner is not None:
            self.show_model_info()
            self.picker.render()
            self.render_context_note()
        if self.full is not None:
            self.render()
            if not element("tour").hidden:
                self.render_tour_card()

    def ask(self) -> int:
        """The next number in the order of what the student asked for."""
        self.asked += 1
        return self.asked

    async def guarded(self, work, *, run: bool = False, superseded: bool = False) -> None:
        """Run one user action once those asked for before it have finished (each reads what
        the last one left: the text, the trace, the cache); any failure becomes the status
        message. Clicks arriving faster than the model answers queue up, none is dropped: a
        `run` (of the prompt as it is then) makes every `superseded` action asked for before
        it moot, and those are skipped."""
        number = self.ask()
        if run:
            self.last_run_asked = number
        self.queued += 1
        element("status").dataset.queued = str(self.queued)  # for tests and tools
        self.show_status("running")
        async with self.busy:
            self.timings = {}
            started = js.performance.now()
            try:
                if superseded and number < self.last_run_asked:
                    return  # a later Run replaces what this would show
                self.acting = number
                await work()
                self.timings["total_ms"] = js.performance.now() - started
                if self.queued == 1:
                    self.show_status("ready")
            except Exception as e:  # shown to the user, not swallowed
                self.show_error(described(e))
                js.console.error(traceback.format_exc())
            finally:
                self.queued -= 1
                if self.runner is not None:
                    for testid in MODEL_BUTTONS:
                        element(testid).disabled = False
                status = element("status")  # a counter of finished actions, for tests and tools
                status.dataset.queued = str(self.queued)
                status.dataset.timings = json.dumps(self.timings)  # ms, for the benchmark
                finished = int(status.getAttribute("data-actions") or 0)  # None before the first
                status.setAttribute("data-actions", str(finished + 1))

    async def on_run(self, _event=None) -> None:
        await self.guarded(self.run_prompt, run=True, superseded=True)

    async def on_generate(self, _event=None) -> None:
        await self.guarded(self.generate_one, superseded=True)

    async def on_recompute(self, _event=None) -> None:
        if self.trace is not None:
            await self.guarded(self.recompute, superseded=True)

    async def on_pick(self, event) -> None:
        """A click on a prediction appends that token, as if sampling had drawn it."""
        row = event.target.closest("[data-token-id]")
        if getattr(row, "dataset", None) is not None and self.trace is not None:
            token = int(row.dataset.tokenId)
            await self.guarded(lambda: self.append_token(token), superseded=True)

    async def on_example(self, _event=None) -> None:
        example = element("examples").value
        if example:
            element("prompt-input").value = example
            await self.on_run()

    # ------------------------------------------------------------------ permalinks

    def page_state(self) -> PageState:
        s = self.settings()
        return PageState(
            prompt=self.text,
            model=self.model_name,
            stage=self.stage,
            head=self.head,
            position=self.position,
            temperature=s.temperature,
            top_k=s.top_k,
            top_p=s.top_p,
            seed=int(element("seed").value or 0),
            generated=tuple(self.generated_ids),
            embed=self.embed,
        )

    def update_address(self) -> None:
        """The address bar always holds a link to what is on screen."""
        try:
            query = to_query(self.page_state())
        except ValueError:  # a setting being typed is not a number yet: keep the last link
            return
        js.history.replaceState(None, "", "?" + query)

    async def restore(self, state: PageState) -> None:
        """Bring the page to `state` (its view and head checked by state_for_model): the prompt,
        settings, generated tokens, the open view. An empty prompt keeps the page's text."""
        if state.prompt:
            element("prompt-input").value = state.prompt
        for testid, value in [
            ("temperature", state.temperature),
            ("top-k", state.top_k),
            ("top-p", state.top_p),
            ("seed", state.seed),
        ]:
            element(testid).value = str(value)
        await self.run_prompt()
        for token in state.generated:
            await self.append_token(token)
        last = self.last_position
        self.head = state.head
        self.position = state.position if 0 <= state.position <= last else last
        self.open_stage(state.stage)
        self.render_tokens()

    async def on_copy_link(self, _event=None) -> None:
        self.update_address()
        link = str(js.location.href)
        info = element("copy-link-info")
        try:
            await js.navigator.clipboard.writeText(link)
            info.textContent = text("ui.link_copied", self.locale)
        except Exception:  # no clipboard permission (or no clipboard): show it to copy by hand
            info.textContent = link
        info.dataset.link = link

    # ------------------------------------------------------------------ the guided tour

    def on_tour_start(self, _event=None) -> None:
        """Open the tour where it was left (a new prompt's numbers fill the same cards)."""
        if self.full is None:
            return
        self.tour_cards = tour(
            self.full, self.config, self.tokenizer, self.tokens(), self.settings()
        )
        self.tour_step = min(self.tour_step, len(self.tour_cards) - 1)
        element("tour").hidden = False
        self.show_tour_card()
        element("tour").querySelector("[data-tour=next]").focus()

    def on_tour_click(self, event) -> None:
        button = event.target.closest("[data-tour]")
        if getattr(button, "dataset", None) is not None:
            self.move_tour(button.dataset.tour)

    def on_tour_key(self, event) -> None:
        if element("tour").hidden or event.target.tagName in FORM_FIELDS:
            return
        move = {"ArrowRight": "next", "ArrowLeft": "previous", "Escape": "close"}.get(event.key)
        if move:
            event.preventDefault()
            self.move_tour(move)

    def move_tour(self, move: str) -> None:
        if move == "close":
            element("tour").hidden = True
            return
        step = self.tour_step + (1 if move == "next" else -1)
        self.tour_step = max(0, min(len(self.tour_cards) - 1, step))
        self.show_tour_card()

    def show_tour_card(self) -> None:
        self.render_tour_card()
        self.open_stage(self.tour_cards[self.tour_step].stage)

    def render_tour_card(self) -> None:
        card, locale = self.tour_cards[self.tour_step], self.locale
        panel = element("tour")
        panel.dataset.card = card.id
        panel.querySelector(".tour-title").textContent = text(card.title_key, locale, **card.values)
        panel.querySelector(".tour-body").textContent = text(card.body_key, locale, **card.values)
        panel.querySelector(".tour-progress").textContent = text(
            "ui.tour.progress", locale, step=self.tour_step + 1, steps=len(self.tour_cards)
        )
        panel.querySelector("[data-tour=previous]").disabled = self.tour_step == 0
        panel.querySelector("[data-tour=next]").disabled = (
            self.tour_step == len(self.tour_cards) - 1
        )

    # ------------------------------------------------------------------ saving a picture

    async def on_save_svg(self, _event=None) -> None:
        save(snapshot.view_svg(element("explainer-view")), "pyexplainer-view.svg")

    async def on_save_png(self, _event=None) -> None:
        save(await snapshot.view_png(element("explainer-view")), "pyexplainer-view.png")

    def on_settings(self, _event=None) -> None:
        if self.trace is None:  # nothing to redraw yet; keep whatever the status says
            return
        try:
            self.redraw("settings", self.render_settings_effect)
        except ValueError as e:
            self.show_error(str(e))
        else:
            self.show_status("ready")

    def render_settings_effect(self) -> None:
        self.render_predictions()
        if self.stage[0] == "output":
            self.render_detail()

    def redraw(self, what: str, draw) -> None:
        """Run draw() for an interaction; how long it took goes on the status element, for the
        benchmark (data-redraw: what, milliseconds and the parts timed while drawing, such as
        head_roles_ms; data-redraws counts them)."""
        started = js.performance.now()
        action_timings, self.timings = self.timings, {}  # an action may be under way
        try:
            draw()
        finally:
            parts, self.timings = self.timings, action_timings
        status = element("status")
        status.setAttribute(
            "data-redraw", json.dumps({**parts, "what": what, "ms": js.performance.now() - started})
        )
        status.setAttribute("data-redraws", str(int(status.getAttribute("data-redraws") or 0) + 1))

    def on_click(self, event) -> None:
        """One listener for every clickable part of the explainer (overview nodes, tabs, heads)."""
        target = event.target.closest("[data-action]")
        if getattr(target, "dataset", None) is None or self.full is None:  # null: not on one
            return
        if target.tagName in FORM_FIELDS:  # its change event says what changed (on_change)
            return
        action = target.dataset.action
        self.redraw(action, lambda: self.act_on(action, target))

    def act_on(self, action: str, target) -> None:
        if action == "open-stage":
            if target.hasAttribute("data-kind"):  # a stage tab: keep the block that is picked
                self.open_stage(self.stage_of_kind(target.dataset.kind))
            else:
                self.open_stage(parse_stage(target.dataset.stage, self.config.n_layer))
        elif action == "reset":  # back to the start: the overview and the first stage
            self.head, self.position = 0, self.last_position
            self.open_stage(("embedding",))
            self.render_tokens()
            document.querySelector(".overview").scrollIntoView()
        elif action == "open-head":  # from the head-roles list: that head in its block
            self.head = int(target.dataset.head)
            self.open_stage(("attention", int(target.dataset.layer)))
        elif action == "select-head":
            self.head = int(target.dataset.head)
            self.render_detail()
        elif action == "select-position":
            self.position, self.position_asked = int(target.dataset.position), self.ask()
            self.render_tokens()
            self.render_detail()
        elif action == "lens-cell":  # its top k, for touch screens (hover shows the same)
            element("lens-detail").textContent = target.title
        elif action == "run-ablation":
            asyncio.ensure_future(self.guarded(self.run_ablation, superseded=True))
        elif action == "clear-ablation":
            self.ablation = Ablation(mode=self.ablation.mode)
            self.render_detail()
        elif action == "matrix-table":  # a heatmap's numbers as a table, or hidden again
            self.matrices.toggle_table(target)
        elif action == "matrix-page":
            self.matrices.turn_table_page(target)

    def on_change(self, event) -> None:
        """A setting inside a panel: the sparsity threshold or the head role to rank by."""
        action = event.target.getAttribute("data-action")
        if self.full is None:
            return
        if action == "threshold":
            self.set_threshold(event)
        elif action in ("ablate-head", "ablate-mlp", "ablate-mode"):
            self.set_ablation(event.target)
        elif action == "role":
            self.role = event.target.value
            self.redraw("role", self.render_detail)
        elif action == "role-minimum":
            self.set_role_minimum(event.target.value)

    def set_role_minimum(self, raw: str) -> None:
        try:
            self.role_minimum = float(raw)
        except ValueError:
            setting = text("head_roles.minimum", self.locale)
            self.show_error(text("ui.not_a_number", self.locale, setting=setting, value=raw))
            return
        self.redraw("role-minimum", self.render_detail)
        self.show_status("ready")

    def set_threshold(self, event) -> None:
        try:
            threshold = float(event.target.value)
        except ValueError:
            setting = text("ui.threshold", self.locale)
            self.show_error(
                text("ui.not_a_number", self.locale, setting=setting, value=event.target.value)
            )
            return
        if not 0 <= threshold <= 1:
            self.show_error(text("ui.threshold_range", self.locale))
            return
        self.threshold = threshold
        self.redraw("threshold", self.render_detail)
        self.show_status("ready")

    def on_key(self, event) -> None:
        """Enter or space does what a click does: on anything with a data-action (overview
        nodes, tabs, tokens, heads) and on a prediction (appends that token)."""
        if event.key not in ("Enter", " ") or event.target.tagName in FORM_FIELDS:
            return  # a form field's keys are its own: space ticks a box
        if event.target.hasAttribute("data-action"):
            event.preventDefault()
            self.on_click(event)
        elif event.target.classList.contains("prediction"):
            event.preventDefault()
            asyncio.ensure_future(self.on_pick(event))

    def on_selection(self, _event=None) -> None:
        if self.full is None:
            return
        stage = self.stage
        layer = int(element("layer-select").value)
        if stage[0] == "layernorm":
            which = element("layernorm-select").value
            stage = ("layernorm", self.config.n_layer if which == "lnf" else layer, which)
        elif len(stage) > 1:
            stage = (stage[0], layer)
        self.head = int(element("head-select").value)
        position = int(element("position-select").value)
        if position != self.position:
            self.position, self.position_asked = position, self.ask()
        self.redraw("selection", lambda: self.open_stage(stage))

    def stage_of_kind(self, kind: str) -> tuple:
        layer = self.stage[1] if len(self.stage) > 1 else 0
        layer = min(layer, self.config.n_layer - 1)
        if kind in WHOLE_MODEL_STAGES:
            return (kind,)
        return ("layernorm", layer, "ln1") if kind == "layernorm" else (kind, layer)

    def open_stage(self, stage: tuple) -> None:
        self.stage = stage
        self.render_overview()
        self.render_detail()

    # ------------------------------------------------------------------ actions

    async def run_model(
        self,
        new_ids: list[int],
        cache: KVCache,
        *,
        ablation: Ablation | None = None,
        lens_positions: int = 0,
        fetch: tuple[str, ...] = (),
    ) -> tuple[np.ndarray, dict]:
        """One pass: the checked ids (T,) and every output of the model, or only those in
        `fetch` (the rest stay inside onnxruntime-web: no copy in JS or in Python's heap)."""
        c = self.config
        ids = checked_ids(c, new_ids, cache)
        feeds = model_feeds(c, ids, cache, ablation=ablation, lens_positions=lens_positions)
        started = js.performance.now()
        outputs = await self.runner.run(feeds, fetch)
        self.timings["inference_ms"] = js.performance.now() - started
        return ids, outputs

    async def step(self, new_ids: list[int], cache: KVCache) -> Trace:
        ids, outputs = await self.run_model(new_ids, cache)
        self.timings_of_last_step = self.timings["inference_ms"]
        return Trace.from_outputs(ids, cache.length, outputs)

    @property
    def all_ids(self) -> tuple[int, ...]:
        return tuple(self.prompt_ids + self.generated_ids)

    def current(self, result: tuple | None):
        """The view of a (token ids, view) result if it is for the text as it is now."""
        return result[1] if result is not None and result[0] == self.all_ids else None

    async def compute_lens(self) -> None:
        """The logit lens of the last LENS_MAX_POSITIONS positions at every depth: those positions
        once more, span by span after the cache of the text before each (lens_spans keeps each
        call's output-layer arrays small): core.generation.lens_calls, as logit_lens runs them."""
        try:
            ids, tokens, c = self.all_ids, self.tokens(), self.config
            cache = cache_after(self.trace)  # (L, H, T, Dh): the step's keys cover the whole text
            parts, inference_ms, fetch = [], 0.0, tuple(LENS_OUTPUTS)  # not the step's trace
            for start, span, past in lens_calls(c, ids, cache):
                _, outputs = await self.run_model(span, past, lens_positions=len(span), fetch=fetch)
                inference_ms += self.timings["inference_ms"]
                parts.append(LogitLens.from_outputs(c.n_layer, len(span), outputs, start))
            self.timings["inference_ms"] = inference_ms  # of every call
            started = js.performance.now()
            lens = LogitLens.joined(parts)
            self.lens = (ids, logit_lens_view(lens, self.tokenizer, tokens))
            self.timings["lens_view_ms"] = js.performance.now() - started
        finally:
            self.lens_running = False
        if self.stage[0] == "lens":
            self.render_detail()

    async def run_ablation(self) -> None:
        ids, ablation, before = self.all_ids, self.ablation, self.trace.last_logits  # (V,)
        empty = KVCache.empty(self.config)
        _, outputs = await self.run_model(
            list(ids), empty, ablation=ablation, fetch=("last_logits",)
        )
        after = outputs["last_logits"]  # (V,)
        self.what_if = (ids, what_if_view(self.tokenizer, before, after, ablation))
        self.render_detail()

    def set_ablation(self, target) -> None:
        """A ticked or unticked switch, or the kind of ablation: the next what-if run uses it."""
        a, action = self.ablation, target.getAttribute("data-action")
        if action == "ablate-mode":
            self.ablation = Ablation(a.heads, a.mlps, target.value)
            return
        layer, on = int(target.dataset.layer), bool(target.checked)
        if action == "ablate-head":
            part = {(layer, int(target.dataset.head))}
            heads = a.heads | part if on else a.heads - part
            self.ablation = Ablation(frozenset(heads), a.mlps, a.mode)
        else:
            mlps = a.mlps | {layer} if on else a.mlps - {layer}
            self.ablation = Ablation(a.heads, frozenset(mlps), a.mode)

    async def run_prompt(self) -> None:
        text = element("prompt-input").value
        ids = self.tokenizer.encode(text)
        self.say_context(
            ("ui.too_long", {"n_tokens": len(ids)}) if len(ids) > self.config.n_positions else None
        )
        trace = await self.step(ids, KVCache.empty(self.manifest.config))
        self.text, self.prompt_ids, self.generated_ids, self.trace = text, ids, [], trace
        self.full = trace
        self.follow_last_token()
        self.recompute_values = None
        self.lens = self.what_if = None  # a run starts afresh, even on the same text
        self.rng = np.random.default_rng(int(element("seed").value or 0))
        self.render()

    def follow_last_token(self) -> None:
        """After a run or a step the views follow the last token, unless the student picked a
        token after asking for this action (the pick is the later wish)."""
        if self.position_asked < self.acting or self.position > self.last_position:
            self.position = self.last_position

    async def on_keep_last_tokens(self, _event=None) -> None:
        await self.guarded(self.keep_last_tokens, run=True, superseded=True)  # a Run, as on_run

    async def keep_last_tokens(self) -> None:
        """Run the end of the text that fits the context (core.fit), and say what was dropped."""
        fitted = last_tokens_that_fit(
            self.tokenizer, element("prompt-input").value, self.config.n_positions
        )
        element("prompt-input").value = fitted.text
        await self.run_prompt()
        self.say_context(
            ("ui.kept_last_tokens", {"kept": len(fitted.ids), "dropped": fitted.dropped})
        )

    def say_context(self, note: tuple[str, dict] | None) -> None:
        """The note under the prompt: the text is too long for the context (with the offer to
        keep its last tokens), or how much keeping them dropped; None: nothing to say."""
        self.context_note = note
        self.render_context_note()

    def render_context_note(self) -> None:
        key, values = self.context_note or ("", {})
        shown = text(key, self.locale, n_positions=self.config.n_positions, **values) if key else ""
        element("context-note").textContent = shown
        element("keep-last-tokens").hidden = key != "ui.too_long"

    async def generate_one(self) -> None:
        if self.trace is None:
            await self.run_prompt()
        s = self.settings()
        token = sample_next_token(
            self.trace.last_logits,
            temperature=s.temperature,
            top_k=s.top_k,
            top_p=s.top_p,
            rng=self.rng,
        )
        await self.append_token(token)

    async def append_token(self, token: int) -> None:
        """Run one step for `token` after everything so far, reusing the key/value cache."""
        self.trace = await self.step([token], cache_after(self.trace))
        self.full = self.full.extended(self.trace)
        self.generated_ids.append(token)
        self.follow_last_token()
        self.recompute_values = None
        self.render()

    async def recompute(self) -> None:
        """The whole sequence again without the cache: the same logits, at the full cost."""
        cached_ms = self.timings_of_last_step
        ids = self.prompt_ids + self.generated_ids
        full = await self.step(ids, KVCache.empty(self.config))
        difference = float(np.abs(full.last_logits - self.trace.last_logits).max())
        self.recompute_values = dict(
            tokens=len(ids),
            difference=f"{difference:.1e}",
            cached_ms=cached_ms,
            full_ms=self.timings["inference_ms"],
            new=len(self.trace.input_ids),
        )
        self.render_recompute()
        element("recompute-info").dataset.difference = repr(difference)

    def render_recompute(self) -> None:
        values = self.recompute_values
        element("recompute-info").textContent = (
            text("output.recompute", self.locale, **values) if values else ""
        )

    def settings(self) -> SamplingSettings:
        def number(testid: str, kind):
            raw = element(testid).value
            try:
                return kind(raw)
            except ValueError:
                setting = text(f"ui.{testid.replace('-', '_')}", self.locale)
                raise ValueError(
                    text("ui.not_a_number", self.locale, setting=setting, value=raw)
                ) from None

        return SamplingSettings(
            number("temperature", float), number("top-k", int), number("top-p", float)
        )

    # ------------------------------------------------------------------ rendering

    @property
    def config(self):
        return self.manifest.config

    @property
    def last_position(self) -> int:
        """Absolute position of the newest token, prompt and generated ones counted."""
        return len(self.prompt_ids) + len(self.generated_ids) - 1

    def render(self) -> None:
        self.token_list = token_views(
            self.tokenizer, self.text, self.prompt_ids, self.generated_ids
        )
        self.render_tokens()
        self.render_check()
        self.render_recompute()
        self.render_overview()
        self.render_detail()
        self.render_predictions()  # last: a sampling setting that is not a number stops it

    def render_tokens(self) -> None:
        target = element("token-list")
        target.replaceChildren()
        views = self.tokens()
        for v in views:
            chip = make(
                "li",
                v.label,
                class_="token",
                data_token_id=v.token_id,
                data_position=v.position,
                data_action="select-position",
                tabindex="0",
                title=self.token_title(v),
            )
            chip.classList.toggle("generated", v.generated)
            chip.classList.toggle("selected", v.position == self.position)
            target.appendChild(chip)
        element("cache-info").textContent = text(
            "ui.cache_info",
            self.locale,
            n_tokens=len(views),
            cached=self.trace.present_keys.shape[2],
            new=len(self.trace.input_ids),
        )

    def token_title(self, v) -> str:
        """Where a token chip came from: position, id, and its characters or "generated"."""
        where = (
            text("ui.token_span", self.locale, start=v.start, end=v.end)
            if v.start >= 0
            else text("ui.token_generated", self.locale)
        )
        return text("ui.list_separator", self.locale).join(
            [text("ui.token_title", self.locale, position=v.position, token_id=v.token_id), where]
        )

    def render_predictions(self) -> None:
        if self.trace is None:
            return
        view = output_view(self.trace, self.tokenizer, self.settings(), SHOWN_PREDICTIONS)
        rows = []
        for p in view.bars:
            if p.probability == 0:  # cut by top-k / top-p: it cannot be drawn
                continue
            bar = make("span", class_="bar")
            bar.style.width = f"{100 * p.probability:.2f}%"
            rows.append(
                make(
                    "li",
                    "",
                    make("span", p.label, class_="label"),
                    bar,
                    make(
                        "span",
                        format_number(p.probability, self.locale, 2, percent=True),
                        class_="prob",
                    ),
                    class_="prediction",
                    tabindex="0",
                    role="button",
                    data_token_id=p.token_id,
                    data_prob=repr(p.probability),
                    title=text(
                        "output.bar_title",
                        self.locale,
                        probability=p.model_probability,
                        logit=p.logit,
                    ),
                )
            )
        fill(element("prediction-list"), *rows)
        element("rest-of-vocabulary").textContent = text(
            "output.rest_mass",
            self.locale,
            probability=view.rest_probability,
            model_probability=view.rest_model_probability,
            kept=view.kept,
            vocab_size=view.vocab_size,
        )

    def render_overview(self) -> None:
        draw_overview(element("sankey"), overview(self.full), self.locale, self.stage)
        element("sankey-legend").textContent = text("overview.legend", self.locale)

    def tokens(self):
        """The tokens so far, with labels and spans (tokenized once per run or step)."""
        return self.token_list

    def render_selectors(self) -> None:
        """The layer / head / token / layer-norm pickers, showing the current choice."""
        c, stage = self.config, self.stage
        layer = stage[1] if len(stage) > 1 and stage[1] < c.n_layer else c.n_layer - 1
        options(element("layer-select"), [(str(i), str(i)) for i in range(c.n_layer)], str(layer))
        options(element("head-select"), [(str(h), str(h)) for h in range(c.n_head)], str(self.head))
        tokens = self.tokens()
        options(
            element("position-select"),
            [(str(t.position), f"{t.position}: {t.label}") for t in tokens],
            str(self.position),
        )
        which = stage[2] if stage[0] == "layernorm" else "ln1"
        options(element("layernorm-select"), [(w, w) for w in LAYER_NORMS], which)
        kind = stage[0]
        element("layer-select").disabled = kind in WHOLE_MODEL_STAGES or which == "lnf"
        element("head-select").disabled = kind != "attention"
        element("layernorm-select").disabled = kind != "layernorm"
        locale = self.locale
        element("breadcrumb").textContent = " › ".join(
            [text("overview.title", locale)]
            + ([f"{text('ui.layer', locale)} {stage[1]}"] if len(stage) > 1 else [])
            + [text(f"stage.{kind}", locale)]
        )

    def render_detail(self) -> None:
        started = js.performance.now()
        self.render_selectors()
        target = element("detail")
        self.matrices.forget(target)
        trace, tokens, kind = self.full, self.tokens(), self.stage[0]
        locale, m = self.locale, self.matrices
        if kind == "embedding":
            views = [panels.embedding_panel(embedding_view(trace, tokens), m, locale)]
        elif kind == "attention":
            layer = self.stage[1]
            views = [
                panels.attention_grid_panel(
                    attention_grid(trace, tokens, layer), self.head, m, locale
                ),
                panels.attention_step_panel(
                    attention_row(trace, tokens, layer, self.head, self.position), m, locale
                ),
                panels.interpretability_panel(
                    interpretability(trace, tokens, layer, threshold=self.threshold),
                    self.head,
                    locale,
                ),
                panels.debugging_panel(debugging(trace, layer, self.head), locale),
            ]
        elif kind == "mlp":
            views = [
                panels.mlp_panel(mlp_view(trace, tokens, self.stage[1], self.position), m, locale)
            ]
        elif kind == "layernorm":
            _, layer, which = self.stage
            view = layer_norm_view(trace, self.config, tokens, which, layer, self.position)
            views = [panels.layernorm_panel(view, m, locale)]
        elif kind == "heads":
            views = [self.head_roles_panel()]
        elif kind == "lens":
            views = [self.lens_panel()]
        elif kind == "whatif":
            result = self.current(self.what_if)
            views = [experiments.what_if_panel(self.config, self.ablation, result, locale)]
        elif kind == "residual":
            views = [panels.residual_panel(residual_view(trace, tokens), self.position, locale)]
        else:
            view = output_view(self.trace, self.tokenizer, self.settings(), SHOWN_PREDICTIONS)
            views = [panels.output_panel(view, m, locale)]
        fill(target, *views)
        for tab in element("stage-tabs").querySelectorAll("button"):
            tab.setAttribute("aria-pressed", str(tab.dataset.kind == kind).lower())
        self.timings["detail_ms"] = js.performance.now() - started
        self.update_address()

    def lens_panel(self):
        """The logit lens of the text as it is, or a note while the model computes it."""
        view = self.current(self.lens)
        if view is not None:
            return experiments.logit_lens_panel(view, self.locale)
        if not self.lens_running:
            self.lens_running = True
            asyncio.ensure_future(self.guarded(self.compute_lens))
        return experiments.logit_lens_pending(self.locale)

    def head_roles_panel(self):
        """Every head's role scores on the text; the induction scores once the model has run over
        a random sequence repeated once, which starts the first time they are needed (as the lens
        does), not at load."""
        if self.induction is None and not self.induction_running:
            self.induction_running = True
            asyncio.ensure_future(self.guarded(self.compute_induction))
        started = js.performance.now()
        view = head_roles(self.full, self.induction)
        self.timings["head_roles_ms"] = js.performance.now() - started
        half, locale = self.induction_half, self.locale
        return panels.head_roles_panel(view, self.role, self.role_minimum, half, locale)

    @property
    def induction_half(self) -> int:
        return min(INDUCTION_HALF, self.config.n_positions // 2)

    async def compute_induction(self) -> None:
        """The (L, H) induction scores from one pass over repeated_random_tokens: only what they
        read crosses from the model, and only the scores are kept."""
        try:
            c = self.config
            ids = repeated_random_tokens(self.induction_half, c.vocab_size, seed=0)
            _, out = await self.run_model(ids, KVCache.empty(c), fetch=INDUCTION_OUTPUTS)
            self.induction = induction_scores(ids, *(out[name] for name in INDUCTION_OUTPUTS))
        finally:
            self.induction_running = False
        if self.stage[0] == "heads":
            self.render_detail()

    def render_check(self) -> None:
        started = js.performance.now()
        worst = max(
            self.trace.attention_mismatch(layer) for layer in range(self.manifest.config.n_layer)
        )
        self.timings["decompose_ms"] = js.performance.now() - started
        element("attention-check").textContent = text(
            "ui.attention_check", self.locale, difference=worst
        )


async def start(bridge) -> None:
    page = Page(bridge)
    page.set_locale(choose_locale(remembered_locale(), browser_languages()))
    page.bind_locale_switch()
    search = str(js.location.search)
    state, problems = read_link(search)  # each part it cannot use at its default, named
    said = [problem.message(page.locale) for problem in problems]
    try:
        wanted = state.model if state else query_model(search)
        unknown = await page.picker.open_first(wanted, ask=not (state and state.embed))
    except Exception as e:
        page.show_error(text("ui.load_failed", page.locale, error=described(e)))
        js.console.error(traceback.format_exc())
        raise
    page.bind()
    if state and state.embed:
        page.embed = True
        document.body.classList.add("embed")
    if state:
        state, missing = state_for_model(state, page.config)
        if missing:  # a view this model does not have: the default view, and say which
            said.append(
                text(
                    "ui.link_view_missing",
                    page.locale,
                    part=missing.part,
                    n_layer=page.config.n_layer,
                    n_head=page.config.n_head,
                )
            )
        state, unknown_tokens = generated_for_model(state, page.config)
        if unknown_tokens:
            said.append(unknown_tokens.message(page.locale))
        await page.guarded(lambda: page.restore(state))
    else:
        await page.on_run()
    if unknown:  # a model this site does not have: the default runs, and the status says so
        names = [m["name"] for m in page.picker.index["models"]]
        asked = text(
            "ui.link_model_missing",
            page.locale,
            model=unknown,
            models=text("ui.list_separator", page.locale).join(names),
            running=page.model_name,
        )
        said.insert(0, asked)
    if said:
        page.show_error(" ".join(said))


def save(blob, filename: str) -> None:
    """Hand `blob` to the browser as a download named `filename`."""
    url = js.URL.createObjectURL(blob)
    link = make("a", href=url, download=filename)
    link.click()
    js.setTimeout(create_once_callable(lambda: js.URL.revokeObjectURL(url)), 1000)
