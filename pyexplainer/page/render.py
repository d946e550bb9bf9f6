"""The renderer: the one writer of what the page shows. Each panel is a function of the page's
state (views.state.State) with a declared set of inputs, the state fields it is drawn from; the
renderer keeps, for each panel, the state it last drew it from, and redraws only the panels
whose inputs changed since. Outside the open stage: the token chips, the cache line, the
attention check, the notes, the overview, the pickers and the prediction bars; the open stage's
own panels are detail.py's (its registry, STAGE_PANELS).

A panel that fails (a sampling setting the model's arithmetic refuses) is left as it was, drawn
again at the next change, and its error raised once every other panel is drawn."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import js  # Pyodide only

from pyexplainer.core.trace import spread_rows
from pyexplainer.messages import format_number, text
from pyexplainer.page import detail
from pyexplainer.page.controls import show_seed, show_settings
from pyexplainer.ui.dom import document, element, fill, make
from pyexplainer.ui.overview import draw_overview
from pyexplainer.ui.tokens import reading_label, reading_note, token_chips, token_detail
from pyexplainer.views.characters import unfinished_tail
from pyexplainer.views.predictions import SHOWN_PREDICTIONS, output_view
from pyexplainer.views.state import ALL_FIELDS, State, changed

TRACE_FIELDS = frozenset({"trace", "full"})  # a panel with one of these waits for a trace


@dataclasses.dataclass(frozen=True)
class Panel:
    """A part of the page drawn by draw(page, state) from the state fields `inputs`."""

    name: str
    inputs: frozenset[str]
    draw: Callable


class Renderer:
    """What each panel was last drawn from."""

    def __init__(self):
        self.drawn: dict[str, State] = {}

    def stale(self, panel, state: State, differences: dict[int, frozenset[str]]) -> bool:
        """Whether `panel`'s inputs changed since it was drawn (`differences`: changed() of
        each state drawn from, worked out once per redraw)."""
        last = self.drawn.get(panel.name)
        if last is None:
            return True
        if id(last) not in differences:
            differences[id(last)] = changed(last, state)
        return bool(differences[id(last)] & panel.inputs)

    def draw(self, page, state: State, panels) -> None:
        """Redraw each of `panels` whose inputs changed; raise the first error once all are
        drawn."""
        differences: dict[int, frozenset[str]] = {}
        failed = None
        for panel in panels:
            if panel.inputs & TRACE_FIELDS and state.full is None:
                continue
            if not self.stale(panel, state, differences):
                continue
            started = js.performance.now()
            try:
                panel.draw(page, state)
            except ValueError as e:
                failed = failed or e
                continue
            finally:  # each panel's share of a redraw, for the benchmark (data-timings)
                key = f"draw_{panel.name}_ms"
                page.timings[key] = page.timings.get(key, 0) + js.performance.now() - started
            self.drawn[panel.name] = state
        if failed is not None:
            raise failed

    def forget(self) -> None:
        """Draw everything again at the next redraw (another model: other shapes)."""
        self.drawn.clear()


def draw_tokens(page, state: State) -> None:
    groups, views, position = state.token_groups, state.tokens, state.position
    fill(element("token-list"), *token_chips(groups, views, position, state.locale))
    element("token-detail").textContent = token_detail(groups, views, position, state.locale)
    element("cache-info").textContent = text(
        "ui.cache_info",
        state.locale,
        n_tokens=len(views),
        cached=state.trace.present_keys.shape[2],
        new=len(state.trace.input_ids),
    )


def draw_predictions(page, state: State) -> None:
    pending = unfinished_tail(page.tokenizer, state.all_ids)
    view = output_view(
        state.trace, page.tokenizer, state.settings, SHOWN_PREDICTIONS, pending=pending
    )
    locale, rows = state.locale, []
    for p in view.bars:
        if p.probability == 0:  # cut by top-k / top-p: it cannot be drawn
            continue
        bar = make("span", class_="bar")
        bar.style.width = f"{100 * p.probability:.2f}%"
        rows.append(
            make(
                "li",
                "",
                reading_label(p.reading, locale),
                bar,
                make("span", format_number(p.probability, locale, 2, percent=True), class_="prob"),
                *filter(None, [reading_note(p.reading, locale)]),
                class_="prediction",
                tabindex="0",
                role="button",
                data_token_id=p.token_id,
                data_prob=repr(p.probability),
                title=text(
                    "output.bar_title", locale, probability=p.model_probability, logit=p.logit
                ),
            )
        )
    fill(element("prediction-list"), *rows)
    element("rest-of-vocabulary").textContent = text(
        "output.rest_mass",
        locale,
        probability=view.rest_probability,
        model_probability=view.rest_model_probability,
        kept=view.kept,
        vocab_size=view.vocab_size,
    )


def draw_generate_note(page, state: State) -> None:
    key, values = state.generate_note or ("", {})
    element("generate-info").textContent = text(key, state.locale, **values) if key else ""


def draw_overview_panel(page, state: State) -> None:
    view = page.memo.overview(state.full)
    draw_overview(element("sankey"), view, state.locale, state.stage.id)
    if page.show_flow_end:  # a model too wide for the frame: its end, next to the bars, first
        frame = document.querySelector(".sankey-frame")
        frame.scrollLeft = frame.scrollWidth
        page.show_flow_end = False
    element("sankey-legend").textContent = text("overview.legend", state.locale)


def draw_check(page, state: State) -> None:
    started = js.performance.now()
    trace = state.trace
    rows = spread_rows(len(trace.input_ids))
    worst = max(trace.attention_mismatch(layer, rows) for layer in range(page.config.n_layer))
    page.timings["decompose_ms"] = js.performance.now() - started
    element("attention-check").textContent = text(
        "ui.attention_check",
        state.locale,
        positions=len(rows),
        tokens=len(trace.input_ids),
        difference=worst,
    )


def draw_recompute(page, state: State) -> None:
    values = state.recompute
    info = element("recompute-info")
    info.textContent = text("output.recompute", state.locale, **values) if values else ""
    if values:
        info.dataset.difference = values["difference_repr"]


def draw_context_note(page, state: State) -> None:
    key, values = state.context_note or ("", {})
    shown = text(key, state.locale, n_positions=page.config.n_positions, **values) if key else ""
    element("context-note").textContent = shown
    element("keep-last-tokens").hidden = key != "ui.too_long"


def draw_settings(page, state: State) -> None:
    show_settings(state.settings)


def draw_seed(page, state: State) -> None:
    """Only when the seed changed (a run, a link): the box is the student's until the run."""
    show_seed(state.seed)


PANELS = (  # in the order they are drawn: the bars last, as a setting may stop them
    Panel("settings", frozenset({"settings"}), draw_settings),
    Panel("seed", frozenset({"seed"}), draw_seed),
    Panel("context-note", frozenset({"context_note", "locale"}), draw_context_note),
    Panel(
        "tokens",
        frozenset({"trace", "tokens", "token_groups", "position", "locale"}),
        draw_tokens,
    ),
    Panel("check", frozenset({"trace", "locale"}), draw_check),
    Panel("recompute", frozenset({"recompute", "locale"}), draw_recompute),
    Panel("generate-note", frozenset({"generate_note", "locale"}), draw_generate_note),
    Panel("overview", frozenset({"full", "stage", "locale"}), draw_overview_panel),
    Panel(
        "pickers",
        frozenset({"full", "tokens", "stage", "head", "position", "locale"}),
        detail.draw_pickers,
    ),
    Panel("detail", ALL_FIELDS, detail.draw_detail),  # its own panels say what they need
    Panel(
        "predictions",
        frozenset({"trace", "settings", "locale", "generated_ids"}),
        draw_predictions,
    ),
)


def render(page, state: State) -> None:
    """Redraw what `state` changed of what the page shows."""
    page.renderer.draw(page, state, PANELS)
